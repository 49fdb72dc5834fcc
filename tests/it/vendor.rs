//! A vendor's handler without touching cwmpd: `examples/vendor_handler.rs` (the stock command
//! line plus a `thermal` handler) checks and reads a board that binds it, where the stock
//! `cwmpd` refuses that board; and the agent, given a handler through
//! `Agent::with_handlers`, answers the ACS with its values.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use cwmpd::backend::{Args, ArgsError, BackendError, BindingKind, Handler};
use cwmpd::codec::toml;

use crate::support::soap::gpv;
use crate::support::wait::T;
use crate::support::{acs, root, TempDir};

const SENSOR: &str = "Device.DeviceInfo.TemperatureStatus.TemperatureSensor.";

fn board(binding: &str) -> String {
    format!(
        "[board]\nname = \"vendor\"\n\n[[object]]\npath = \"{SENSOR}{{i}}.\"\n\
         instances = {{ handler = \"constant\", instances = [\"cpu\"] }}\n[object.params]\n\
         Name = \"cpu\"\nValue = {binding}\n"
    )
}

/// A directory with a config, a board binding `Value` as given, and a thermal zone at 42.5 °C.
fn setup(tag: &str, binding: &str, acs_url: &str) -> TempDir {
    let d = TempDir::new(&format!("vendor-{tag}"));
    std::fs::create_dir_all(d.join("thermal/thermal_zone0")).unwrap();
    std::fs::write(d.join("thermal/thermal_zone0/temp"), "42500\n").unwrap();
    std::fs::write(d.join("board.toml"), board(binding)).unwrap();
    let root = root().display();
    std::fs::write(
        d.join("cwmpd.toml"),
        format!(
            "[acs]\nurl = \"{acs_url}\"\nusername = \"cpe\"\npassword = \"pw\"\ntimeout = 5\n\
             [connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\n\
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
    );
    let bin = example();
    let (ok, out, err) = run(&bin, d.path(), &["check"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = run(&bin, d.path(), &["get", SENSOR]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{SENSOR}1.Value = 42\n")), "{out}");
    assert!(out.contains(&format!("{SENSOR}1.Name = cpu\n")), "{out}");
    // The stock binary has no such handler: the board is refused, naming it.
    let (ok, _, err) = run(Path::new(env!("CARGO_BIN_EXE_cwmpd")), d.path(), &["check"]);
    assert!(!ok);
    assert!(err.contains("thermal"), "{err}");
    // The handler's own check names the file and line of a bad binding.
    let d = setup(
        "bad",
        "{ handler = \"thermal\", zone = \"cpu\" }",
        "http://127.0.0.1:1/",
    );
    let (ok, _, err) = run(&bin, d.path(), &["check"]);
    assert!(!ok);
    assert!(
        err.contains("board.toml:9") && err.contains("`zone`"),
        "{err}"
    );
}

/// A handler made in the test: a fixed reading that says when it starts and, the first time,
/// is held until the test lets it go.
struct Fixed {
    reading: mpsc::Sender<()>,
    go: Option<mpsc::Receiver<()>>,
}

impl Handler for Fixed {
    fn check(&self, _: BindingKind, _: &toml::Table) -> Result<(), ArgsError> {
        Ok(())
    }
    fn get(&mut self, _: &Args) -> Result<String, BackendError> {
        let _ = self.reading.send(());
        if let Some(go) = self.go.take() {
            let _ = go.recv_timeout(T);
        }
        Ok("37".into())
    }
}

#[test]
fn the_agent_answers_the_acs_with_a_vendor_handler() {
    let acs = acs();
    acs.push(&gpv(&[&format!("{SENSOR}1.Value")]));
    let d = setup("agent", "{ handler = \"fixed\" }", &acs.url());
    let cfg = cwmpd::config::Config::load(Some(&d.join("cwmpd.toml"))).unwrap();
    // The agent is single-threaded (not Send): it is made and run in its own thread.
    let (tx, rx) = mpsc::channel();
    let (read_tx, read_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let fixed: Box<dyn Handler> = Box::new(Fixed {
            reading: read_tx,
            go: Some(go_rx),
        });
        let mut agent =
            cwmpd::agent::Agent::with_handlers(cfg, vec![("fixed".into(), fixed)]).unwrap();
        tx.send(agent.shutdown_handle()).unwrap();
        agent.run();
        let _ = done_tx.send(());
    });
    let (stop, waker) = rx.recv_timeout(T).expect("the agent started");
    // Stop it in the middle of the session (while the handler reads): the session's own
    // waits must not swallow the wake-up.
    read_rx
        .recv_timeout(T)
        .expect("the ACS's GetParameterValues reads the handler");
    stop.store(true, Ordering::SeqCst);
    waker.wake();
    go_tx.send(()).unwrap();
    assert!(acs.wait(T, |_, r, _| !r.is_empty()));
    let values = acs.replies()[0].values();
    assert_eq!(values, [(format!("{SENSOR}1.Value"), "37".to_string())]);
    assert!(
        done_rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "the agent stopped when asked"
    );
    t.join().unwrap();
}
