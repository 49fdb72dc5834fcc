//! System handler tests against a fake `/proc`, `/sys` and `/etc`, and the CPUUsage window
//! driven by given instants.

use super::*;
use crate::backend::{Args, BindingKind, Handler};
use crate::codec::{datetime, toml};

fn a(what: &str) -> Args {
    Args {
        table: toml::from_str(&format!("what = \"{what}\"")).unwrap(),
        path: String::new(),
    }
}

/// A fake /proc, /sys and /etc; each test its own (tests run in parallel threads).
fn fake(tag: &str) -> (PathBuf, System) {
    let d = std::env::temp_dir().join(format!("cwmpd-system-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let w = |p: &str, s: &str| {
        let f = d.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, s).unwrap();
    };
    w("proc/uptime", "1565.26 3064.16\n");
    w(
        "proc/meminfo",
        "MemTotal:       16318412 kB\nMemFree:         100 kB\nMemAvailable:    2000 kB\n",
    );
    w(
        "proc/stat",
        "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n",
    );
    w("proc/sys/kernel/osrelease", "6.1.0-test\n");
    w("proc/sys/kernel/hostname", "router\n");
    w(
        "proc/42/stat",
        "42 (my (odd) proc) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 50\n",
    );
    w("proc/42/status", "Name:\tx\nVmRSS:\t  1234 kB\n");
    w(
        "proc/7/stat",
        "7 (zed) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 39 19 1 0 1 0 0\n",
    );
    w("sys/class/net/lo/address", "00:00:00:00:00:00\n");
    w("sys/class/net/eth0/address", "02:fc:00:00:00:01\n");
    w("etc/os-release", "NAME=\"X\"\nPRETTY_NAME=\"Test OS 1\"\n");
    w(
        "etc/localtime",
        "TZif2....binary....\nCET-1CEST,M3.5.0,M10.5.0/3\n",
    );
    let s = System::new(&d.join("proc"), &d.join("sys"), &d.join("etc"));
    (d, s)
}

#[test]
fn every_value_from_a_fake_tree() {
    let (d, mut s) = fake("values");
    assert_eq!(s.get(&a("uptime")).unwrap(), "1565");
    assert_eq!(s.get(&a("memory_total")).unwrap(), "16318412");
    assert_eq!(s.get(&a("memory_free")).unwrap(), "2000");
    assert_eq!(
        s.get(&a("cpu_usage")).unwrap(),
        "20",
        "busy 200 of 1000 since boot"
    );
    std::fs::write(d.join("proc/stat"), "cpu  200 0 200 700 100 0 0 0 0 0\n").unwrap();
    assert_eq!(
        s.get(&a("cpu_usage")).unwrap(),
        "100",
        "all new jiffies busy since the first read"
    );
    assert_eq!(
        s.get(&a("cpu_usage")).unwrap(),
        "100",
        "a read right after reads the same window, not 0"
    );
    assert_eq!(s.get(&a("kernel")).unwrap(), "6.1.0-test");
    assert_eq!(s.get(&a("hostname")).unwrap(), "router");
    assert_eq!(s.get(&a("os")).unwrap(), "Test OS 1");
    // eth0's 02:… is locally administered, and it has no device: no OUI.
    assert!(matches!(s.get(&a("oui")), Err(BackendError::NotFound(_))));
    let with_default = Args {
        table: toml::from_str("what = \"oui\"\ndefault = \"FFFFFF\"").unwrap(),
        path: String::new(),
    };
    assert_eq!(
        s.get(&with_default).unwrap(),
        "FFFFFF",
        "no OUI: the board's default"
    );
    assert!(
        s.check(
            BindingKind::Read,
            &toml::from_str("what = \"oui\"\ndefault = \"ffffff\"").unwrap()
        )
        .is_err(),
        "a default that is not an OUI is refused"
    );
    std::fs::write(d.join("sys/class/net/eth0/address"), "00:11:22:33:44:55\n").unwrap();
    assert!(
        matches!(s.get(&a("oui")), Err(BackendError::NotFound(_))),
        "a virtual interface's MAC may come and go"
    );
    std::fs::create_dir_all(d.join("sys/class/net/eth0/device")).unwrap();
    assert_eq!(s.get(&a("oui")).unwrap(), "001122");
    assert_eq!(
        s.get(&with_default).unwrap(),
        "001122",
        "the device's own OUI first"
    );
    assert_eq!(
        s.get(&a("serial")).unwrap(),
        "001122334455",
        "no machine-id: MAC"
    );
    std::fs::write(d.join("etc/machine-id"), "abc123\n").unwrap();
    assert_eq!(s.get(&a("serial")).unwrap(), "abc123");
    assert_eq!(
        s.get(&a("localtime_zone")).unwrap(),
        "CET-1CEST,M3.5.0,M10.5.0/3"
    );
    std::fs::write(d.join("etc/TZ"), "UTC0\n").unwrap();
    assert_eq!(s.get(&a("localtime_zone")).unwrap(), "UTC0");
    assert!(datetime::parse(&s.get(&a("now")).unwrap()).is_some());
    assert_eq!(s.get(&a("process_count")).unwrap(), "2");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn processes_parse_odd_names_and_states() {
    let (d, mut s) = fake("processes");
    s.clk_tck = 100;
    let t = Args {
        table: toml::from_str("what = \"processes\"").unwrap(),
        path: String::new(),
    };
    let p = s.instances(&t).unwrap();
    assert_eq!(
        p.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        ["7", "42"]
    );
    let v = &p[1].vars;
    assert_eq!(v["command"], "my (odd) proc");
    assert_eq!(v["state"], "Sleeping");
    assert_eq!(v["cputime"], "3000");
    assert_eq!(v["priority"], "20");
    assert_eq!(v["size"], "1234");
    assert_eq!(p[0].vars["state"], "Zombie");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn process_table_is_capped() {
    let (d, mut s) = fake("many");
    let stat = "1 (p) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n";
    for pid in 1000..1000 + MAX_PROCESSES - 2 {
        let p = d.join("proc").join(pid.to_string());
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("stat"), stat).unwrap();
    }
    let t = Args {
        table: toml::from_str("what = \"processes\"").unwrap(),
        path: String::new(),
    };
    assert_eq!(
        s.instances(&t).unwrap().len(),
        MAX_PROCESSES,
        "7, 42 and the rest"
    );
    let p = d.join("proc").join("99999");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("stat"), stat).unwrap();
    assert!(matches!(s.instances(&t), Err(BackendError::Limit(_))));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn real_system_values() {
    let mut s = System::new(Path::new("/proc"), Path::new("/sys"), Path::new("/etc"));
    assert!(s.get(&a("uptime")).unwrap().parse::<u64>().is_ok());
    let t = Args {
        table: toml::from_str("what = \"processes\"").unwrap(),
        path: String::new(),
    };
    let me = std::process::id().to_string();
    assert!(s.instances(&t).unwrap().iter().any(|i| i.key == me));
}

#[test]
fn arguments_are_checked() {
    let s = System::new(Path::new("/proc"), Path::new("/sys"), Path::new("/etc"));
    let t = |x: &str| toml::from_str(x).unwrap();
    assert!(s.check(BindingKind::Read, &t("what = \"uptime\"")).is_ok());
    assert!(s.check(BindingKind::Read, &t("what = \"nope\"")).is_err());
    assert!(s
        .check(BindingKind::ReadWrite, &t("what = \"uptime\""))
        .is_err());
    assert!(s
        .check(BindingKind::ReadWrite, &t("what = \"hostname\""))
        .is_ok());
    assert!(s
        .check(BindingKind::Table, &t("what = \"processes\""))
        .is_ok());
    assert!(s
        .check(BindingKind::Table, &t("what = \"uptime\""))
        .is_err());
    assert!(s
        .check(BindingKind::Read, &t("what = \"processes\""))
        .is_err());
    assert!(s
        .check(BindingKind::Read, &t("what = \"uptime\"\nx = 1"))
        .is_err());
}

mod window {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cpu_usage_is_measured_over_a_fixed_recent_window() {
        let mut s = System::new(Path::new("/p"), Path::new("/s"), Path::new("/e"));
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        // Busy jiffies of 1000 per 10 s: 50 % in the first 20 s, then idle.
        assert_eq!(s.cpu_over_window(at(0), 500, 1000), 50, "since boot");
        assert_eq!(s.cpu_over_window(at(10), 1000, 2000), 50);
        assert_eq!(s.cpu_over_window(at(20), 1500, 3000), 50);
        assert_eq!(
            s.cpu_over_window(at(30), 1500, 4000),
            0,
            "the last 10 s were idle"
        );
        assert_eq!(
            s.cpu_over_window(at(30), 1500, 4000),
            0,
            "back to back: the same window"
        );
        // A read after a long pause measures from the newest sample at least 10 s old.
        assert_eq!(
            s.cpu_over_window(at(45), 2000, 5000),
            50,
            "from the sample at 30 s"
        );
        // Samples older than a minute are dropped: after a long silence, since boot.
        assert_eq!(s.cpu_over_window(at(200), 2000, 6000), 33);
        assert!(s.cpu_samples.len() <= 2);
    }
}
