//! A vendor's handler without touching cwmpd: `examples/vendor_handler.rs` (the stock command
//! line plus a `thermal` handler) checks and reads a board that binds it, where the stock
//! `cwmpd` refuses that board; and the agent, given a handler through
//! `Agent::with_handlers`, answers the ACS with its values.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use cwmpd::backend::{Args, BackendError, BindingKind, Handler};
use cwmpd::codec::toml;

const SENSOR: &str = "Device.DeviceInfo.TemperatureStatus.TemperatureSensor.";

fn board(binding: &str) -> String {
    format!(
        "[board]\nname = \"vendor\"\n\n[[object]]\npath = \"{SENSOR}{{i}}.\"\n\
         instances = {{ handler = \"constant\", instances = [\"cpu\"] }}\n[object.params]\n\
         Name = \"cpu\"\nValue = {binding}\n"
    )
}

/// A directory with a config, a board binding `Value` as given, and a thermal zone at 42.5 °C.
fn setup(tag: &str, binding: &str, acs_url: &str, cr_port: u16) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cwmpd-vendor-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("thermal/thermal_zone0")).unwrap();
    std::fs::write(d.join("thermal/thermal_zone0/temp"), "42500\n").unwrap();
    std::fs::write(d.join("board.toml"), board(binding)).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(
        d.join("cwmpd.toml"),
        format!(
            "[acs]\nurl = \"{acs_url}\"\nusername = \"cpe\"\npassword = \"pw\"\ntimeout = 5\n\
             [connection_request]\nlisten = \"127.0.0.1:{cr_port}\"\npath = \"/cr\"\n\
             username = \"acs\"\npassword = \"crpw\"\n\
             [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{}\"\nstate_dir = \"{}\"\n",
            d.join("board.toml").display(),
            d.join("state").display()
        ),
    )
    .unwrap();
    d
}

/// The example binary, built by `cargo test` with the other examples.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("examples/vendor_handler");
    assert!(
        bin.exists(),
        "{} missing: run `cargo test` (it builds the examples)",
        bin.display()
    );
    bin
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin)
        .args(args)
        .arg("--config")
        .arg(dir.join("cwmpd.toml"))
        .env("CWMPD_THERMAL_DIR", dir.join("thermal"))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_vendor_binary_checks_and_reads_its_own_handler() {
    let d = setup(
        "cli",
        "{ handler = \"thermal\", zone = 0 }",
        "http://127.0.0.1:1/",
        0,
    );
    let bin = example();
    let (ok, out, err) = run(&bin, &d, &["check"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = run(&bin, &d, &["get", SENSOR]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{SENSOR}1.Value = 42\n")), "{out}");
    assert!(out.contains(&format!("{SENSOR}1.Name = cpu\n")), "{out}");
    // The stock binary has no such handler: the board is refused, naming it.
    let (ok, _, err) = run(Path::new(env!("CARGO_BIN_EXE_cwmpd")), &d, &["check"]);
    assert!(!ok);
    assert!(err.contains("thermal"), "{err}");
    // The handler's own check names the file and line of a bad binding.
    let d = setup(
        "bad",
        "{ handler = \"thermal\", zone = \"cpu\" }",
        "http://127.0.0.1:1/",
        0,
    );
    let (ok, _, err) = run(&bin, &d, &["check"]);
    assert!(!ok);
    assert!(
        err.contains("board.toml:9") && err.contains("`zone`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A handler made in the test: a fixed reading that takes a while, and says when it starts.
struct Fixed(std::sync::mpsc::Sender<()>);

impl Handler for Fixed {
    fn check(&self, _: BindingKind, _: &toml::Table) -> Result<(), String> {
        Ok(())
    }
    fn get(&mut self, _: &Args) -> Result<String, BackendError> {
        let _ = self.0.send(());
        std::thread::sleep(Duration::from_millis(300));
        Ok("37".into())
    }
}

#[test]
fn the_agent_answers_the_acs_with_a_vendor_handler() {
    let acs = acs();
    acs.push(&gpv(&[&format!("{SENSOR}1.Value")]));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = setup("agent", "{ handler = \"fixed\" }", &acs.url(), port);
    let cfg = cwmpd::config::Config::load(Some(&d.join("cwmpd.toml"))).unwrap();
    // The agent is single-threaded (not Send): it is made and run in its own thread.
    let (tx, rx) = std::sync::mpsc::channel();
    let (read_tx, read_rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let fixed: Box<dyn Handler> = Box::new(Fixed(read_tx));
        let mut agent =
            cwmpd::agent::Agent::with_handlers(cfg, vec![("fixed".into(), fixed)]).unwrap();
        tx.send(agent.shutdown_handle()).unwrap();
        agent.run();
    });
    let (stop, waker) = rx.recv_timeout(T).expect("the agent started");
    // Stop it in the middle of the session (while the handler reads): the session's own
    // waits must not swallow the wake-up.
    read_rx
        .recv_timeout(T)
        .expect("the ACS's GetParameterValues reads the handler");
    stop.store(true, Ordering::SeqCst);
    waker.wake();
    assert!(acs.wait(T, |_, r, _| !r.is_empty()));
    let values = acs.replies()[0].values();
    assert_eq!(values, [(format!("{SENSOR}1.Value"), "37".to_string())]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !t.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(t.is_finished(), "the agent stopped when asked");
    let _ = std::fs::remove_dir_all(&d);
}
