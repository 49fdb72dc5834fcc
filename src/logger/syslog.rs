//! Log records as RFC 3164 datagrams to the local syslog socket (`/dev/log`, served by logd
//! on OpenWrt): `<PRI>cwmpd[pid]: target: message`, facility daemon. The daemon adds the
//! time stamp and host name (RFC 3164 §4.3.2: a relay completes a message that has none).
//!
//! It owns the formatting (pure, tested byte for byte) and one connected, unbound
//! `UnixDatagram`. A record the socket refuses (logd restarted) is sent again on a fresh
//! connection once, then written to stderr: a record is never dropped silently.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Largest datagram sent, header included. RFC 3164 §4.1 limits a message to 1024 bytes and
/// OpenWrt's logd reads no more; longer records are split into several datagrams.
pub const MAX_DATAGRAM: usize = 1024;

/// RFC 3164 §4.1.1: facility 3, system daemons.
const FACILITY_DAEMON: u8 = 3;

/// The program name in the TAG field.
const TAG: &str = "cwmpd";

/// How long a send may block when the daemon is slow to read: the agent's loop must not stall
/// on logging, so the record goes to stderr instead.
const SEND_TIMEOUT: Duration = Duration::from_millis(200);

/// RFC 3164 §4.1.1 severity of a `log` level (trace has no lower severity than debug).
pub fn severity(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// The datagrams for one record: `<PRI>cwmpd[pid]: ` then the text, one datagram per line of
/// text (empty lines of a multi-line text are left out) and each line cut on a character
/// boundary so no datagram exceeds `max` bytes.
pub fn datagrams(level: log::Level, pid: u32, text: &str, max: usize) -> Vec<Vec<u8>> {
    let pri = FACILITY_DAEMON * 8 + severity(level);
    let header = format!("<{pri}>{TAG}[{pid}]: ");
    // At least one byte of text per datagram, so a tiny `max` cannot loop forever.
    let room = max.saturating_sub(header.len()).max(4);
    let mut out = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() && !text.is_empty() {
            continue;
        }
        let mut rest = line;
        loop {
            let mut cut = rest.len().min(room);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (head, tail) = rest.split_at(cut);
            let mut d = Vec::with_capacity(header.len() + head.len());
            d.extend_from_slice(header.as_bytes());
            d.extend_from_slice(head.as_bytes());
            out.push(d);
            if tail.is_empty() {
                break;
            }
            rest = tail;
        }
    }
    out
}

/// The syslog logger.
pub struct Syslog {
    path: PathBuf,
    level: log::LevelFilter,
    pid: u32,
    socket: Mutex<UnixDatagram>,
}

fn open(path: &Path) -> std::io::Result<UnixDatagram> {
    let s = UnixDatagram::unbound()?;
    s.connect(path)?;
    s.set_write_timeout(Some(SEND_TIMEOUT))?;
    Ok(s)
}

impl Syslog {
    /// Connects to the syslog socket at `path`; fails when nobody listens there.
    pub fn connect(path: &Path, level: log::LevelFilter) -> std::io::Result<Syslog> {
        Ok(Syslog {
            path: path.to_path_buf(),
            level,
            pid: std::process::id(),
            socket: Mutex::new(open(path)?),
        })
    }

    /// Sends every datagram, reconnecting once when the socket refuses one.
    fn send_all(&self, datagrams: &[Vec<u8>]) -> std::io::Result<()> {
        let mut socket = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        for d in datagrams {
            if socket.send(d).is_err() {
                *socket = open(&self.path)?;
                socket.send(d)?;
            }
        }
        Ok(())
    }
}

impl log::Log for Syslog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.level
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let text = format!("{}: {}", super::short_target(r), r.args());
        let grams = datagrams(r.level(), self.pid, &text, MAX_DATAGRAM);
        if self.send_all(&grams).is_err() {
            super::write_stderr(r);
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Log;

    /// The test's own directory, removed on drop.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A socket the test binds in its own directory.
    struct Listener {
        dir: TempDir,
        socket: UnixDatagram,
    }

    fn listener(tag: &str) -> Listener {
        let dir = std::env::temp_dir().join(format!("cwmpd-syslog-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = UnixDatagram::bind(dir.join("log")).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Listener {
            dir: TempDir(dir),
            socket,
        }
    }

    impl Listener {
        fn path(&self) -> PathBuf {
            self.dir.0.join("log")
        }
        fn recv(&self) -> Vec<u8> {
            let mut buf = vec![0u8; 4096];
            let n = self.socket.recv(&mut buf).unwrap();
            buf.truncate(n);
            buf
        }
    }

    fn record(logger: &Syslog, level: log::Level, target: &str, msg: &str) {
        logger.log(
            &log::Record::builder()
                .level(level)
                .target(target)
                .args(format_args!("{msg}"))
                .build(),
        );
    }

    #[test]
    fn maps_every_level_to_its_rfc3164_severity() {
        assert_eq!(severity(log::Level::Error), 3);
        assert_eq!(severity(log::Level::Warn), 4);
        assert_eq!(severity(log::Level::Info), 6);
        assert_eq!(severity(log::Level::Debug), 7);
        assert_eq!(severity(log::Level::Trace), 7);
    }

    #[test]
    fn formats_pri_tag_pid_and_text() {
        let d = datagrams(log::Level::Error, 42, "agent: no ACS", MAX_DATAGRAM);
        assert_eq!(d, vec![b"<27>cwmpd[42]: agent: no ACS".to_vec()]);
        let d = datagrams(log::Level::Info, 7, "", MAX_DATAGRAM);
        assert_eq!(d, vec![b"<30>cwmpd[7]: ".to_vec()]);
    }

    #[test]
    fn splits_lines_and_long_text_on_character_boundaries() {
        let d = datagrams(log::Level::Debug, 1, "a\n\nb\n", MAX_DATAGRAM);
        assert_eq!(
            d,
            vec![b"<31>cwmpd[1]: a".to_vec(), b"<31>cwmpd[1]: b".to_vec()]
        );
        // Header "<31>cwmpd[1]: " is 14 bytes: 6 bytes of room, and "é" is 2 bytes.
        let d = datagrams(log::Level::Debug, 1, "abcdeéf", 20);
        let texts: Vec<&[u8]> = d.iter().map(|g| &g[14..]).collect();
        assert_eq!(texts, vec![b"abcde".as_slice(), "éf".as_bytes()]);
        assert!(d.iter().all(|g| g.len() <= 20));
        let long = "x".repeat(3000);
        let d = datagrams(log::Level::Info, 123, &long, MAX_DATAGRAM);
        assert_eq!(d.len(), 3);
        assert!(d.iter().all(|g| g.len() <= MAX_DATAGRAM));
        let joined: usize = d.iter().map(|g| g.len() - "<30>cwmpd[123]: ".len()).sum();
        assert_eq!(joined, 3000);
    }

    #[test]
    fn sends_the_exact_bytes_to_the_socket() {
        let l = listener("bytes");
        let s = Syslog::connect(&l.path(), log::LevelFilter::Info).unwrap();
        let pid = std::process::id();
        record(&s, log::Level::Warn, "cwmpd::acs", "bad certificate");
        assert_eq!(
            l.recv(),
            format!("<28>cwmpd[{pid}]: acs: bad certificate").into_bytes()
        );
        // Below the level: nothing is sent, so the next datagram is the error.
        record(&s, log::Level::Debug, "cwmpd::agent", "quiet");
        record(&s, log::Level::Error, "other", "loud");
        assert_eq!(
            l.recv(),
            format!("<27>cwmpd[{pid}]: other: loud").into_bytes()
        );
    }

    #[test]
    fn reconnects_when_the_daemon_restarts() {
        let l = listener("restart");
        let path = l.path();
        let s = Syslog::connect(&path, log::LevelFilter::Info).unwrap();
        // The daemon goes away (its socket closed, the name removed) and a new one binds the
        // same path: the old connection is refused, so the logger must connect again.
        let Listener { dir: _dir, socket } = l;
        drop(socket);
        std::fs::remove_file(&path).unwrap();
        let fresh = UnixDatagram::bind(&path).unwrap();
        fresh
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        record(&s, log::Level::Info, "cwmpd::agent", "after restart");
        let mut buf = [0u8; 256];
        let n = fresh.recv(&mut buf).unwrap();
        assert!(buf[..n].ends_with(b"]: agent: after restart"));
    }

    #[test]
    fn connect_fails_without_a_listener() {
        let l = listener("none");
        let missing = l.dir.0.join("absent");
        assert!(Syslog::connect(&missing, log::LevelFilter::Info).is_err());
    }
}
