//! `cwmpd run` with `[log] target = "syslog"`: the real binary's records arrive as RFC 3164
//! datagrams on a socket the test binds (byte for byte, with the child's pid), nothing goes to
//! stderr; and with the socket missing, one warning on stderr and the records after it.
//! The ACS is a closed loopback port and the listener is on an ephemeral loopback port.

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("cwmpd-log-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// A config for `run` against a closed loopback port, logging to `socket` via syslog.
fn config(d: &Path, socket: &Path) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let p = d.join("cwmpd.toml");
    std::fs::write(
        &p,
        format!(
            "[acs]\nurl = \"http://127.0.0.1:1/\"\n\
             [connection_request]\nlisten = \"127.0.0.1:0\"\n\
             [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{root}/board/linux.toml\"\n\
             state_dir = \"{}/state\"\n\
             [log]\nlevel = \"info\"\ntarget = \"syslog\"\nsyslog_socket = \"{}\"\n",
            d.display(),
            socket.display()
        ),
    )
    .unwrap();
    p
}

/// The agent, stopped with SIGTERM (and reaped) when dropped.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        // Only a child not yet reaped: its pid is still ours to signal.
        if let Ok(None) = self.0.try_wait() {
            let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGTERM);
            let _ = self.0.wait();
        }
    }
}

fn run(cfg: &Path) -> Agent {
    Agent(
        Command::new(env!("CARGO_BIN_EXE_cwmpd"))
            .args(["run", "--config"])
            .arg(cfg)
            .env_remove("CWMPD_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// Stops the agent and returns everything it wrote to stderr.
fn stop(mut a: Agent) -> String {
    kill(Pid::from_raw(a.0.id() as i32), Signal::SIGTERM).unwrap();
    let mut err = String::new();
    if let Some(mut s) = a.0.stderr.take() {
        s.read_to_string(&mut err).unwrap();
    }
    let status = a.0.wait().unwrap();
    assert!(status.success(), "{status}: {err}");
    err
}

#[test]
fn run_sends_rfc3164_datagrams_to_the_syslog_socket() {
    let d = dir("syslog");
    let socket_path = d.0.join("log");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let agent = run(&config(&d.0, &socket_path));
    let pid = agent.0.id();

    // Read until the listener's address (logged once the agent is up) and a warning (the
    // listener has no credentials; the ACS port is closed) have arrived.
    let mut got: Vec<Vec<u8>> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 2048];
    let seen = |got: &[Vec<u8>], needle: &[u8]| {
        got.iter()
            .any(|g| g.windows(needle.len()).any(|w| w == needle))
    };
    while Instant::now() < deadline
        && !(seen(&got, b"connection requests on") && seen(&got, b"<28>cwmpd["))
    {
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
    }
    let err = stop(agent);
    let text: Vec<String> = got
        .iter()
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .collect();

    let header_info = format!("<30>cwmpd[{pid}]: ");
    let header_warn = format!("<28>cwmpd[{pid}]: ");
    assert!(
        text.iter().any(|t| t.starts_with(&header_warn)),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with(&format!(
            "{header_info}cli: agent: connection requests on http://127.0.0.1:"
        ))),
        "{text:#?}"
    );
    // Every datagram has the header and fits RFC 3164's 1024 bytes.
    for g in &got {
        assert!(g.len() <= 1024);
        let t = String::from_utf8_lossy(g);
        assert!(
            t.starts_with('<') && t.contains(&format!(">cwmpd[{pid}]: ")),
            "{t}"
        );
    }
    // Nothing was logged to stderr: it all went to the socket.
    assert!(err.is_empty(), "stderr: {err}");
}

#[test]
fn run_falls_back_to_stderr_with_one_warning_when_the_socket_is_missing() {
    let d = dir("fallback");
    let missing = d.0.join("no-such-log");
    let mut agent = run(&config(&d.0, &missing));
    // Collect stderr (on a thread, so the wait is bounded) until the failed session is logged.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut err = String::new();
    let mut stderr = agent.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 1024];
        while let Ok(n) = stderr.read(&mut chunk) {
            if n == 0 || tx.send(chunk[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    while Instant::now() < deadline && !err.contains("connection requests on") {
        if let Ok(c) = rx.recv_timeout(Duration::from_millis(200)) {
            err.push_str(&String::from_utf8_lossy(&c));
        }
    }
    kill(Pid::from_raw(agent.0.id() as i32), Signal::SIGTERM).unwrap();
    let status = agent.0.wait().unwrap();
    let _ = reader.join();
    while let Ok(c) = rx.try_recv() {
        err.push_str(&String::from_utf8_lossy(&c));
    }
    assert!(status.success(), "{status}: {err}");

    let lines: Vec<&str> = err.lines().collect();
    let warning = format!(
        "WARN  logger: syslog socket {} unusable (No such file or directory (os error 2)); logging to stderr",
        missing.display()
    );
    assert_eq!(lines.first().copied(), Some(warning.as_str()), "{err}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("syslog socket")).count(),
        1,
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INFO  cli: agent: connection requests on http://127.0.0.1:")),
        "{err}"
    );
}
