//! Memory and speed of a Download for BENCHMARKS.md: the release `cwmpd run` fetches 5 MB and
//! then 50 MB from a file server on loopback while its RSS is sampled every 10 ms. A streamed
//! download keeps RSS flat: the peak must not grow with the file.
//!
//! Run: `cargo bench --bench download`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cwmpd_testacs::files::{FileServer, Serve};
use cwmpd_testacs::Acs;

mod common;
use common::proc_status;

fn download(key: &str, url: &str, size: u64) -> String {
    format!(
        "<cwmp:Download><CommandKey>{key}</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>{url}</URL>\
         <Username></Username><Password></Password><FileSize>{size}</FileSize><TargetFileName></TargetFileName>\
         <DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>"
    )
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("cwmpd-bench-dl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let acs = Acs::start(0, None).unwrap();
    let files = FileServer::start(None).unwrap();
    let sizes = [5_000_000u64, 50_000_000];
    for s in sizes {
        files.serve(&format!("/{s}.bin"), Serve::Pattern(s));
    }
    let d = dir.display();
    std::fs::write(
        dir.join("board.toml"),
        format!(
            "[board]\nname = \"bench\"\ninclude = [\"{root}/board/linux.toml\"]\n[transfer]\ndir = \"{d}/xfer\"\n\
             [transfer.download.\"1 Firmware Upgrade Image\"]\napply = [\"sh\", \"-c\", \"test $(stat -c %s \\\"$1\\\") -eq $2\", \"sh\", \"{{file}}\", \"{{size}}\"]\n"
        ),
    )
    .unwrap();
    let cfg = dir.join("cwmpd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[acs]\nurl = \"{}\"\nperiodic_inform_interval = 86400\n[connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"pw\"\n\
             [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n[log]\nlevel = \"warn\"\n",
            acs.url()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cwmpd"))
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(acs.wait_informs(1, Duration::from_secs(20)), "no Inform");
    std::thread::sleep(Duration::from_millis(500));
    let idle = proc_status(&pid.to_string(), "VmRSS:");
    println!("download bench (release cwmpd, loopback file server, RSS sampled every 10 ms)");
    println!("  idle RSS before any download: {idle} KiB");
    // The port the agent chose (the config says :0), from its Inform.
    let cr = acs.cr_url().expect("ConnectionRequestURL in the Inform");
    for (i, s) in sizes.iter().enumerate() {
        acs.push(&download(
            &format!("dl{i}"),
            &files.url(&format!("/{s}.bin")),
            *s,
        ));
        assert_eq!(Acs::connection_request(&cr, "acs", "pw").unwrap(), 200);
        let start = Instant::now();
        let mut peak = 0;
        let done = |acs: &Acs| {
            acs.replies()
                .iter()
                .filter(|r| r.name == "TransferComplete")
                .count()
                > i
        };
        while !done(&acs) {
            peak = peak.max(proc_status(&pid.to_string(), "VmRSS:"));
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "download too slow"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let secs = start.elapsed().as_secs_f64();
        let tc = acs
            .replies()
            .into_iter()
            .filter(|r| r.name == "TransferComplete")
            .nth(i)
            .unwrap();
        let code = tc
            .body
            .child("FaultStruct")
            .and_then(|f| f.child("FaultCode"))
            .map(|c| c.text.clone())
            .unwrap_or_default();
        assert_eq!(code.trim(), "0", "transfer failed: {}", tc.raw);
        println!(
            "  {:>3} MB: CR → TransferComplete {:.2} s ({:.0} MB/s incl. apply), peak RSS {peak} KiB (+{} KiB over idle)",
            s / 1_000_000,
            secs,
            *s as f64 / 1e6 / secs,
            peak.saturating_sub(idle)
        );
    }
    println!(
        "  VmHWM (whole run): {} KiB",
        proc_status(&pid.to_string(), "VmHWM:")
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
