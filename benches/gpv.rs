//! GetParameterValues memory for BENCHMARKS.md (issue 13 §3): the release `cwmpd run` against
//! the test ACS on loopback, with a board of two 4,096-row tables bound to constants (53,248
//! values), asked for both tables in one session after a first session listed them. For each
//! case: the answer's bytes, the agent's peak RSS before and after, and the time from the
//! Connection Request to the answer; at log level warn and trace (the trace log shows the
//! body), and with values long enough for the answer to pass `soap::MAX_VALUES_BYTES`.
//!
//! Run: `cargo bench --bench gpv`. `CWMPD_BIN=path` measures another build of cwmpd instead
//! (an older one, for the figures before).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cwmpd_testacs::Acs;

mod common;
use common::{proc_status, write_config};

const KERNEL: &str = "Device.DeviceInfo.KernelFaults.KernelFault.";
const PROCESS: &str = "Device.DeviceInfo.ProcessFaults.ProcessFault.";
const ROWS: usize = 4096;

fn board(root: &str, filler: &str) -> String {
    let rows: Vec<String> = (0..ROWS).map(|i| format!("\"r{i}\"")).collect();
    let rows = rows.join(",");
    format!(
        "[board]\nname = \"bench\"\ninclude = [\"{root}/board/linux.toml\"]\n\
         \n[[object]]\npath = \"{KERNEL}{{i}}.\"\ninstances = {{ handler = \"constant\", instances = [{rows}] }}\n[object.params]\n\
         FaultLocation = \"{filler}{{name}}\"\nLastInstruction = \"{filler}\"\nTimeStamp = \"2026-12-04T01:00:00Z\"\n\
         FirmwareVersion = \"{filler}\"\nProcessName = \"{filler}\"\nReason = \"{filler}\"\n\
         \n[[object]]\npath = \"{PROCESS}{{i}}.\"\ninstances = {{ handler = \"constant\", instances = [{rows}] }}\n[object.params]\n\
         ProcessID = \"{{name}}\"\nProcessName = \"{filler}\"\nFaultLocation = \"{filler}\"\nTimeStamp = \"2026-12-04T01:00:00Z\"\n\
         FirmwareVersion = \"{filler}\"\nArguments = \"{filler}\"\nReason = \"{filler}\"\n"
    )
}

fn gpv(names: &[&str]) -> String {
    let items: String = names
        .iter()
        .map(|n| format!("<string>{n}</string>"))
        .collect();
    format!("<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[{}]\">{items}</ParameterNames></cwmp:GetParameterValues>", names.len())
}

struct Agent {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn case(tag: &str, level: &str, filler: &str) {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("cwmpd-bench-gpv-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("board.toml"), board(root, filler)).unwrap();
    let acs = Acs::start(0, None).unwrap();
    // The first session lists both tables once (their instance numbers are given then).
    acs.push(&gpv(&[
        &format!("{KERNEL}1.ProcessName"),
        &format!("{PROCESS}1.ProcessName"),
    ]));
    let cfg = write_config(&dir, &acs.url(), &dir.join("board.toml"), level);
    let bin = std::env::var("CWMPD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_cwmpd").into());
    let child = Command::new(&bin)
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = Agent { child, dir };
    let pid = agent.child.id().to_string();
    assert!(acs.wait_ended(1, Duration::from_secs(60)));
    // Let the agent settle into its idle wait.
    std::thread::sleep(Duration::from_millis(500));
    let rss = proc_status(&pid, "VmRSS:");
    let peak = proc_status(&pid, "VmHWM:");
    acs.push(&gpv(&[KERNEL, PROCESS]));
    let replies = acs.replies().len();
    let url = acs.cr_url().unwrap();
    let t = Instant::now();
    assert_eq!(Acs::connection_request(&url, "acs", "pw").unwrap(), 200);
    assert!(acs.wait(Duration::from_secs(120), |_, r, _| r.len() > replies));
    let took = t.elapsed();
    let reply = &acs.replies()[replies];
    let after = proc_status(&pid, "VmHWM:");
    let values = reply.values().len();
    let bytes = reply.raw.len();
    let grew = after.saturating_sub(peak);
    println!(
        "{tag:<24} {:<28} {values:>6} values, {:>6} KiB of XML: RSS idle {rss} KiB, peak {peak} → {after} KiB (+{grew} KiB, {:.2}× the XML, {} bytes a value), {:.0} ms",
        match reply.fault_code() {
            Some(c) => format!("Fault {c}"),
            None => reply.name.clone(),
        },
        bytes / 1024,
        grew as f64 * 1024.0 / bytes as f64,
        (grew * 1024).checked_div(values as u64).unwrap_or(0),
        took.as_secs_f64() * 1000.0
    );
    drop(agent);
}

fn main() {
    case("log warn", "warn", "a value of some length");
    case("log trace", "trace", "a value of some length");
    case("over the cap, log warn", "warn", &"x".repeat(400));
}
