//! The process logger: where log records go (stderr or the local syslog socket) and at which
//! level. It owns no record content; libraries only use the `log` macros.
//!
//! Level policy (STYLE.md): error — the agent cannot do its job; warn — bad peer or input;
//! info — session start/end, events, RPC names, faults; debug — state transitions; trace —
//! SOAP bodies with passwords redacted.
//!
//! Installed once by the command line: `cwmpd run` follows `[log] target`; `check` and `get`
//! always write to stderr, because a person at a terminal is reading them. The logger is
//! handed to the `log` crate (`set_boxed_logger`), which keeps it: there is no other global.

mod syslog;

use std::io::Write;

use crate::config::{self, LogTarget};

pub use syslog::{Syslog, MAX_DATAGRAM};

/// The level to log at: `CWMPD_LOG` in the environment overrides the configured one, and an
/// unparsable value means info (the config parser has already refused bad configured levels).
pub fn level_filter(configured: &str) -> log::LevelFilter {
    let level = std::env::var("CWMPD_LOG").unwrap_or_else(|_| configured.to_string());
    level.parse().unwrap_or(log::LevelFilter::Info)
}

/// One line per record on stderr: `LEVEL target: message`.
pub struct Stderr {
    level: log::LevelFilter,
}

impl Stderr {
    /// A stderr logger passing records at `level` and above.
    pub fn new(level: log::LevelFilter) -> Stderr {
        Stderr { level }
    }
}

/// The record's target without the crate prefix (`agent`, not `cwmpd::agent`).
fn short_target<'a>(r: &'a log::Record) -> &'a str {
    r.target().strip_prefix("cwmpd::").unwrap_or(r.target())
}

/// Writes one record to stderr (also the syslog logger's last resort).
fn write_stderr(r: &log::Record) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "{:<5} {}: {}",
        r.level(),
        short_target(r),
        r.args()
    );
}

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.level
    }

    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            write_stderr(r);
        }
    }

    fn flush(&self) {}
}

/// The logger `[log]` asks for, and the warning to log first when it could not be had (the
/// syslog socket is missing or refuses us: records then go to stderr).
pub fn choose(cfg: &config::Log) -> (Box<dyn log::Log>, Option<String>) {
    let level = level_filter(&cfg.level);
    match cfg.target {
        LogTarget::Stderr => (Box::new(Stderr::new(level)), None),
        LogTarget::Syslog => match Syslog::connect(&cfg.syslog_socket, level) {
            Ok(s) => (Box::new(s), None),
            Err(e) => (
                Box::new(Stderr::new(level)),
                Some(format!(
                    "syslog socket {} unusable ({e}); logging to stderr",
                    cfg.syslog_socket.display()
                )),
            ),
        },
    }
}

/// Installs a logger once per process; later calls change nothing.
fn install(logger: Box<dyn log::Log>, level: log::LevelFilter) -> bool {
    if log::set_boxed_logger(logger).is_ok() {
        log::set_max_level(level);
        true
    } else {
        false
    }
}

/// Installs the logger `[log]` describes (for `cwmpd run`).
pub fn init(cfg: &config::Log) {
    let (logger, warning) = choose(cfg);
    if install(logger, level_filter(&cfg.level)) {
        if let Some(w) = warning {
            log::warn!("{w}");
        }
    }
}

/// Installs the stderr logger at a configured level (for `check` and `get`).
pub fn init_stderr(level: &str) {
    let level = level_filter(level);
    install(Box::new(Stderr::new(level)), level);
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Log;
    use std::path::PathBuf;

    fn cfg(target: LogTarget, socket: PathBuf) -> config::Log {
        config::Log {
            level: "debug".into(),
            target,
            syslog_socket: socket,
        }
    }

    #[test]
    fn stderr_target_never_warns() {
        let (l, w) = choose(&cfg(LogTarget::Stderr, "/nonexistent/log".into()));
        assert!(w.is_none());
        assert!(l.enabled(&log::Metadata::builder().level(log::Level::Info).build()));
    }

    #[test]
    fn missing_syslog_socket_falls_back_to_stderr_with_one_warning() {
        let path = std::env::temp_dir().join(format!("cwmpd-nolog-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let (l, w) = choose(&cfg(LogTarget::Syslog, path.clone()));
        let w = w.expect("a warning");
        assert!(w.contains(&path.display().to_string()), "{w}");
        assert!(w.contains("logging to stderr"), "{w}");
        // The fallback still filters at the configured level.
        assert!(l.enabled(&log::Metadata::builder().level(log::Level::Debug).build()));
        assert!(!l.enabled(&log::Metadata::builder().level(log::Level::Trace).build()));
    }

    #[test]
    fn stderr_logger_filters_by_its_own_level() {
        let l = Stderr::new(log::LevelFilter::Warn);
        assert!(l.enabled(&log::Metadata::builder().level(log::Level::Error).build()));
        assert!(l.enabled(&log::Metadata::builder().level(log::Level::Warn).build()));
        assert!(!l.enabled(&log::Metadata::builder().level(log::Level::Info).build()));
    }
}
