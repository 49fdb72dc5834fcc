//! Protocol-engine figures for BENCHMARKS.md: start → first Inform on the wire, Connection
//! Request → Inform latency, full-tree GetParameterValues round trip, idle CPU, and RSS idle
//! and during a full-tree GetParameterValues. Runs the release `cwmpd run` against the test
//! ACS on loopback.
//!
//! Run: `cargo bench --bench agent` (`CWMPD_IDLE_SECS` sets the idle measurement, default 60).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cwmpd_testacs::Acs;

mod common;
use common::{proc_status, write_config};

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15 (1-based) of the whole line: 11 and 12 after ')'.
    f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (
        v[v.len() / 2],
        v[0],
        v[(v.len() * 95 / 100).min(v.len() - 1)],
    )
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("cwmpd-bench-agent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let acs = Acs::start(0, None).unwrap();
    let board = std::path::Path::new(root).join("board/linux.toml");
    let cfg = write_config(&dir, &acs.url(), &board, "warn");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cwmpd"))
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(acs.wait_informs(1, Duration::from_secs(20)));
    let first = acs.informs()[0].at.duration_since(started);
    std::thread::sleep(Duration::from_millis(300));
    let rss_idle = proc_status(&pid.to_string(), "VmRSS:");
    let url = acs.cr_url().unwrap();

    // Connection Request → Inform, 30 times (each after the previous session ended).
    let mut lat = Vec::new();
    for i in 0..30 {
        std::thread::sleep(Duration::from_millis(1100)); // stay inside the rate limit
        let t = Instant::now();
        assert_eq!(Acs::connection_request(&url, "acs", "pw").unwrap(), 200);
        assert!(acs.wait_informs(i + 2, Duration::from_secs(10)));
        lat.push(acs.informs()[i + 1].at.duration_since(t).as_secs_f64() * 1000.0);
    }
    let (cr_med, cr_min, cr_p95) = median(lat);

    // Full-tree GetParameterValues: Inform → response, 10 sessions.
    let mut gpv = Vec::new();
    let mut values = 0;
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(1100));
        acs.push("<cwmp:GetParameterValues><ParameterNames><string>Device.</string></ParameterNames></cwmp:GetParameterValues>");
        let n = acs.informs().len();
        let r = acs.replies().len();
        Acs::connection_request(&url, "acs", "pw").unwrap();
        assert!(acs.wait(Duration::from_secs(20), |i, rep, _| i.len() > n
            && rep.len() > r));
        let inform = acs.informs()[n].at;
        let reply = acs.replies()[r].clone();
        values = reply.values().len();
        gpv.push(reply.at.duration_since(inform).as_secs_f64() * 1000.0);
    }
    let (gpv_med, gpv_min, gpv_max) = median(gpv);
    let rss_peak = proc_status(&pid.to_string(), "VmHWM:");

    // Idle CPU.
    let secs: u64 = std::env::var("CWMPD_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    std::thread::sleep(Duration::from_secs(2));
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let t1 = cpu_ticks(pid);
    let rss_after = proc_status(&pid.to_string(), "VmRSS:");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "start → first Inform on the wire:        {:.1} ms",
        first.as_secs_f64() * 1000.0
    );
    println!("Connection Request → Inform (30 runs):    median {cr_med:.2} ms, min {cr_min:.2} ms, p95 {cr_p95:.2} ms");
    println!("full-tree GPV ({values} values), Inform → response: median {gpv_med:.1} ms (min {gpv_min:.1}, max {gpv_max:.1})");
    println!(
        "idle CPU over {secs} s:                   {} clock ticks ({:.3} % of one core)",
        t1 - t0,
        (t1 - t0) as f64 / (secs as f64 * 100.0) * 100.0
    );
    println!("RSS idle after the first session:        {rss_idle} KiB");
    println!("peak RSS (VmHWM) after full-tree GPVs:   {rss_peak} KiB");
    println!("RSS idle at the end:                     {rss_after} KiB");
}
