//! `cwmpd run` with `[log] target = "syslog"`: the real binary's records arrive as RFC 3164
//! datagrams on a socket the test binds (byte for byte, with the child's pid), nothing goes to
//! stderr; and with the socket missing, one warning on stderr and the records after it.
//! The ACS is a closed loopback port and the listener is on an ephemeral loopback port.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::agent::Agent;
use crate::support::root;

/// `run` against a closed loopback port, logging at info to `socket` via syslog (and not
/// told otherwise by CWMPD_LOG).
fn agent(tag: &str, socket: impl FnOnce(&Path) -> std::path::PathBuf) -> Agent {
    Agent::start_with(
        tag,
        |d| {
            format!(
                "[acs]\nurl = \"http://127.0.0.1:1/\"\n\
                 [connection_request]\nlisten = \"127.0.0.1:0\"\n\
                 [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{root}/board/linux.toml\"\n\
                 state_dir = \"{}/state\"\n\
                 [log]\nlevel = \"info\"\ntarget = \"syslog\"\nsyslog_socket = \"{}\"\n",
                d.display(),
                socket(d).display(),
                root = root().display(),
            )
        },
        None,
    )
}

/// Stops the agent with SIGTERM, which must end it cleanly; what it wrote to stderr.
fn stop(mut a: Agent) -> String {
    let status = a.signal(Signal::SIGTERM).unwrap();
    let err = a.log();
    assert!(status.success(), "{status}: {err}");
    err
}

#[test]
fn run_sends_rfc3164_datagrams_to_the_syslog_socket() {
    let mut bound = None;
    let agent = agent("syslog", |d| {
        let path = d.join("log");
        bound = Some(UnixDatagram::bind(&path).unwrap());
        path
    });
    let socket = bound.unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let pid = agent.pid();

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
    let mut missing = None;
    let a = agent("fallback", |d| {
        missing.insert(d.join("no-such-log")).clone()
    });
    let missing = missing.unwrap();
    // Until the listener is up (the failed session comes after).
    a.wait_log("connection requests on", 1);
    let err = stop(a);

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
