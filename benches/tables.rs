//! Cost against table size (issue 14, "Cost that grows linearly"): the whole-tree
//! `cwmpd get Device.` of `board/linux.toml` in a network namespace with N links (veth pairs,
//! each end with an IPv4 address), at about 5,000 and about 46,000 parameters, and a
//! GetParameterValues of OpenWrt's firewall with 1,000 rules. Reports CPU time (user +
//! system of the `cwmpd get` process), CPU per 1,000 parameters and peak RSS.
//!
//! Run as root: `cargo bench --bench tables` (release profile). Not a timed test: the figures
//! go to BENCHMARKS.md. Without root (no namespaces) it says so and does nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::resource::{getrusage, UsageWho};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// CPU of the children waited for so far, and their peak RSS (KiB).
fn children() -> (Duration, i64) {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let d = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    (d(u.user_time()) + d(u.system_time()), u.max_rss())
}

/// Runs `cwmpd get PATH` (in `netns` when given); returns (parameters printed, CPU, peak RSS
/// of the children so far in KiB).
fn get(config: &Path, path: &str, netns: Option<&str>) -> (usize, Duration, i64) {
    let (before, _) = children();
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_cwmpd")]);
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_cwmpd")),
    };
    let out = cmd
        .args(["get", "--config"])
        .arg(config)
        .arg(path)
        .env("CWMPD_LOG", "error")
        .output()
        .expect("cwmpd get");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (after, rss) = children();
    let n = out.stdout.iter().filter(|b| **b == b'\n').count();
    (n, after.saturating_sub(before), rss)
}

fn config(dir: &Path, board: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("board.toml"), board).unwrap();
    let cfg = dir.join("cwmpd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{ROOT}/datamodel\"\nboard = \"{}\"\nstate_dir = \"{}\"\n",
            dir.join("board.toml").display(),
            dir.join("state").display()
        ),
    )
    .unwrap();
    cfg
}

fn ip_batch(ns: &str, lines: &[String]) {
    let file = std::env::temp_dir().join(format!("cwmpd-bench-ip-{}", std::process::id()));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let ok = Command::new("ip")
        .args(["-n", ns, "-batch"])
        .arg(&file)
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(&file);
    assert!(ok, "ip -batch failed");
}

/// A namespace with `pairs` veth pairs, every end up with an address.
fn namespace(name: &str, pairs: usize) {
    let _ = Command::new("ip")
        .args(["netns", "del", name])
        .stderr(std::process::Stdio::null())
        .status();
    assert!(Command::new("ip")
        .args(["netns", "add", name])
        .status()
        .is_ok_and(|s| s.success()));
    let mut cmds = vec!["link set lo up".to_string()];
    for i in 0..pairs {
        let (a, b) = (format!("va{i}"), format!("vb{i}"));
        cmds.push(format!("link add {a} type veth peer name {b}"));
        cmds.push(format!("link set {a} up"));
        cmds.push(format!("link set {b} up"));
        cmds.push(format!("addr add 10.{}.{}.1/30 dev {a}", i / 250, i % 250));
        cmds.push(format!("addr add 10.{}.{}.2/30 dev {b}", i / 250, i % 250));
    }
    ip_batch(name, &cmds);
}

/// GetParameterValues of `Device.` in a loaded model, as in a session (no process start, no
/// schema load): the median of five, per 1,000 parameters.
fn in_session(cfg: &Path, ns: &str) {
    let cfg = cfg.to_path_buf();
    let path = format!("/run/netns/{ns}");
    let (n, t) = std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).expect("namespace");
        nix::sched::setns(
            std::os::fd::AsFd::as_fd(&fd),
            nix::sched::CloneFlags::CLONE_NEWNET,
        )
        .expect("setns");
        let cfg = cwmpd::config::Config::load(Some(&cfg)).expect("config");
        let mut dev = cwmpd::device::Device::open(&cfg).expect("open");
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            n = dev.model.get_values(&["Device."]).expect("get").len();
            times.push(t.elapsed());
        }
        times.sort();
        (n, times[2])
    })
    .join()
    .expect("in-session thread");
    println!(
        "  in session: {n} parameters in {:.1} ms, {:.2} ms per 1,000",
        t.as_secs_f64() * 1000.0,
        t.as_secs_f64() * 1000.0 / (n as f64 / 1000.0)
    );
}

fn report(what: &str, n: usize, cpu: Duration) -> f64 {
    let per = cpu.as_secs_f64() * 1000.0 / (n as f64 / 1000.0);
    println!(
        "{what}: {n} parameters, {:.0} ms CPU, {per:.2} ms per 1,000 parameters",
        cpu.as_secs_f64() * 1000.0
    );
    per
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root for network namespaces");
        return;
    }
    let dir = std::env::temp_dir().join(format!("cwmpd-bench-tables-{}", std::process::id()));
    let board = format!("[board]\nname = \"bench\"\ninclude = [\"{ROOT}/board/linux.toml\"]\n");
    let cfg = config(&dir.join("linux"), &board);
    let ns = format!("cwmpd-bench-{}", std::process::id());

    // ~5,000 and ~46,000 parameters (about 87 per link with its address).
    let mut per = Vec::new();
    let mut peak = 0;
    for pairs in [29, 287] {
        namespace(&ns, pairs);
        // One run to warm the page cache, then the measured median of three.
        get(&cfg, "Device.", Some(&ns));
        let mut runs: Vec<(usize, Duration, i64)> =
            (0..3).map(|_| get(&cfg, "Device.", Some(&ns))).collect();
        runs.sort_by_key(|r| r.1);
        let (n, cpu, rss) = runs[1];
        peak = rss;
        per.push(report(&format!("{} links", pairs * 2), n, cpu));
        in_session(&cfg, &ns);
    }
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    println!(
        "ratio at the large size: {:.2}x the small one's CPU per 1,000 parameters",
        per[1] / per[0]
    );
    println!("peak RSS of cwmpd get (largest run): {peak} KiB");

    // OpenWrt's firewall with 1,000 rules in one zone.
    let owrt = dir.join("openwrt");
    let etc = owrt.join("config");
    std::fs::create_dir_all(&etc).unwrap();
    let src = Path::new(ROOT).join("tests/fixtures/openwrt/etc/config");
    for f in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(f.path(), etc.join(f.file_name())).unwrap();
    }
    let mut fw = std::fs::read_to_string(etc.join("firewall")).unwrap();
    for i in 0..1000 {
        fw.push_str(&format!(
            "\nconfig rule\n\toption name 'Bench-{i}'\n\toption src 'wan'\n\toption proto 'tcp'\n\toption dest_port '{}'\n\toption target 'ACCEPT'\n",
            10000 + i
        ));
    }
    std::fs::write(etc.join("firewall"), fw).unwrap();
    let board = format!(
        "[board]\nname = \"bench\"\ninclude = [\"{ROOT}/board/openwrt.toml\"]\n[handlers.uci]\ndir = \"{}\"\n",
        etc.display()
    );
    let cfg = config(&owrt, &board);
    get(&cfg, "Device.Firewall.", None);
    let mut runs: Vec<(usize, Duration, i64)> = (0..3)
        .map(|_| get(&cfg, "Device.Firewall.", None))
        .collect();
    runs.sort_by_key(|r| r.1);
    let (n, cpu, _) = runs[1];
    report("Device.Firewall. with 1,000 rules", n, cpu);
    let _ = std::fs::remove_dir_all(&dir);
}
