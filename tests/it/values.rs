//! Reported means true, within its type (issue 12 §3): every value of the whole tree of each
//! board, as `cwmpd get Device.` prints it, satisfies its TR-181 syntax (range, enumeration,
//! length, pattern, list facets), checked with the same rules a SetParameterValues is held to.
//! board/linux.toml reads the host it runs on; board/openwrt.toml the OpenWrt fixtures.

use std::path::Path;
use std::process::Command;

use cwmpd::model::path::schema_form;
use cwmpd::model::{load, value};

use crate::support::{root, TempDir};

/// Runs `cwmpd get Device.` with `board` and returns every (path, value, problem) that does
/// not fit its syntax, and how many values were checked.
fn out_of_type(dir: &Path, board: &Path) -> (Vec<String>, usize) {
    let cfg = dir.join("cwmpd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[acs]\nurl = \"http://127.0.0.1:1/acs\"\n[paths]\ndatamodel = \"{}/datamodel\"\nboard = \"{}\"\nstate_dir = \"{}/state\"\n",
            root().display(),
            board.display(),
            dir.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cwmpd"))
        .args(["get", "--config"])
        .arg(&cfg)
        .arg("Device.")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cwmpd get: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let schema = load::load(&root().join("datamodel"), None).unwrap();
    // What the agent itself caught (reported as an in-type fallback, logged) is a board
    // defect too.
    let mut bad: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("outside its type"))
        .map(str::to_string)
        .collect();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let Some((name, v)) = line.split_once(" = ") else {
            continue;
        };
        let Some((_, p)) = schema.parameter(&schema_form(name)) else {
            bad.push(format!("{name}: not in the data model"));
            continue;
        };
        n += 1;
        if p.syntax.hidden {
            continue;
        }
        if let Err(e) = value::check(&p.syntax, None, v) {
            bad.push(format!("{name} = {v:?}: {e}"));
        }
    }
    (bad, n)
}

#[test]
fn every_value_of_the_linux_board_is_within_its_type() {
    let dir = TempDir::new("values-linux");
    let (bad, n) = out_of_type(dir.path(), &root().join("board/linux.toml"));
    eprintln!("board/linux.toml: {n} values checked");
    assert!(n > 200, "only {n} values");
    assert!(
        bad.is_empty(),
        "{} values outside their type:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn every_value_of_the_openwrt_board_is_within_its_type() {
    let dir = TempDir::new("values-openwrt");
    let board = crate::profiles::openwrt_board(dir.path(), "http://127.0.0.1:1/acs");
    std::fs::write(dir.join("board.toml"), board).unwrap();
    let (bad, n) = out_of_type(dir.path(), &dir.join("board.toml"));
    eprintln!("board/openwrt.toml on the fixtures: {n} values checked");
    assert!(n > 400, "only {n} values");
    assert!(
        bad.is_empty(),
        "{} values outside their type:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
