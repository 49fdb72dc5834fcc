//! Values from local processes and files cannot hang the real agent (issue 13 §4): a file
//! binding that points at a FIFO nobody writes, and a command that leaves a background
//! child holding its output open, are answered within the command's timeout, and the agent
//! still takes Connection Requests.

use std::time::{Duration, Instant};

use cwmpd_testacs::Acs;

use crate::support::agent::Agent;
use crate::support::soap::gpv;
use crate::support::wait::T;
use crate::support::{acs, TempDir};

#[test]
fn a_fifo_or_a_lingering_command_does_not_hang_the_agent() {
    let files = TempDir::new("localsrc");
    let fifo = files.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let d = files.path().display();
    let extra = format!(
        "\n[[object]]\npath = \"Device.DeviceInfo.\"\n[object.params]\n\
         ModelNumber = {{ handler = \"file\", file = \"{d}/fifo\" }}\n\
         Description = {{ handler = \"command\", get = [\"sh\", \"-c\", \"echo D; sleep 20 & echo $! > {d}/bg.pid\"], timeout_ms = 2000 }}\n"
    );
    let acs = acs();
    acs.push(&gpv(&["Device.DeviceInfo.ModelNumber"]));
    acs.push(&gpv(&["Device.DeviceInfo.Description"]));
    let a = Agent::start("localsrc", &acs, "", &extra);
    assert!(
        acs.wait(T, |_, r, left| left == 0 && r.len() >= 2),
        "{}",
        a.log()
    );
    let (informed, r) = (acs.informs()[0].at, acs.replies());
    // The FIFO is refused at once (the model reports an unreadable value as it does any
    // other: an empty value or a fault).
    assert!(
        r[0].name == "Fault" || r[0].values()[0].1.is_empty(),
        "{}",
        r[0].raw
    );
    assert!(a.log().contains("not a regular file"), "{}", a.log());
    assert_eq!(
        r[1].values(),
        [("Device.DeviceInfo.Description".to_string(), "D".to_string())]
    );
    let took = r[1].at.duration_since(informed);
    assert!(took < Duration::from_secs(2), "the session took {took:?}");
    // The background child was left to run; the test ends it.
    let pid: i32 = std::fs::read_to_string(files.join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    a.idle_after(&["session: end"]);
    let t = Instant::now();
    assert_eq!(
        Acs::connection_request(&acs.cr_url().unwrap(), "acs", "crpw").unwrap(),
        200
    );
    assert!(t.elapsed() < Duration::from_secs(2));
}
