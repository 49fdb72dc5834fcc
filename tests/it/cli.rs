//! The real `cwmpd` binary: `check` and `get` on the Linux board, and clear failures for bad
//! configuration and board files.

use std::path::{Path, PathBuf};

use crate::support::{cwmpd as bin, root, TempDir};

fn dir(tag: &str) -> TempDir {
    TempDir::new(&format!("cli-{tag}"))
}

fn config(d: &Path, board: &Path) -> PathBuf {
    let root = root().display();
    let p = d.join("cwmpd.toml");
    std::fs::write(
        &p,
        format!("[acs]\nurl = \"http://127.0.0.1:1/\"\n[paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{}\"\nstate_dir = \"{}/state\"\n", board.display(), d.display()),
    )
    .unwrap();
    p
}

#[test]
fn check_reports_counts_for_the_linux_board() {
    let d = dir("check");
    let cfg = config(d.path(), &root().join("board/linux.toml"));
    let out = bin()
        .args(["check", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("board: linux"), "{text}");
    assert!(
        !d.join("state/state.toml").exists(),
        "check never writes state (a running agent owns it)"
    );
    let live: usize = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("live: ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap();
    assert!(live >= 300, "only {live} live parameters");
}

#[test]
fn get_prints_live_values_one_per_line() {
    let d = dir("get");
    let cfg = config(d.path(), &root().join("board/linux.toml"));
    let out = bin()
        .args(["get", "--config"])
        .arg(&cfg)
        .args(["Device.DeviceInfo.", "Device.IP.Interface.1.Name"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("Device.") && l.contains(" = ")),
        "{text}"
    );
    let up: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("Device.DeviceInfo.UpTime = "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(up > 0);
    assert_eq!(*lines.last().unwrap(), "Device.IP.Interface.1.Name = lo");
    let bad = bin()
        .args(["get", "--config"])
        .arg(&cfg)
        .arg("Device.Nope.")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("9005"));
}

#[test]
fn the_embedded_default_runs_from_the_repository() {
    let out = bin()
        .args(["get", "Device.DeviceInfo.Manufacturer"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Device.DeviceInfo.Manufacturer = cwmpd project\n"
    );
}

#[test]
fn bad_config_and_board_fail_clearly() {
    let d = dir("bad");
    std::fs::write(
        d.join("broken.toml"),
        "[acs]\nurl = \"http://x/\"\nbogus = 1\n",
    )
    .unwrap();
    let out = bin()
        .args(["check", "--config"])
        .arg(d.join("broken.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.toml:3") && err.contains("bogus"),
        "{err}"
    );

    let board = d.join("board.toml");
    std::fs::write(&board, "[board]\nname = \"x\"\n\n[[object]]\npath = \"Device.DeviceInfo.\"\n[object.params]\nUpTime = { handler = \"system\", what = \"uptime\", write = true }\n").unwrap();
    let cfg = config(d.path(), &board);
    let out = bin()
        .args(["check", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("board.toml:7") && err.contains("read-only"),
        "{err}"
    );

    let out = bin().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
