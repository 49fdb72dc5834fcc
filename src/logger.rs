//! The process logger: one line per record on stderr, `LEVEL target: message`.
//!
//! Level policy (STYLE.md): error — the agent cannot do its job; warn — bad peer or input;
//! info — session start/end, events, RPC names, faults; debug — state transitions; trace —
//! SOAP bodies with passwords redacted. Installed once by `main`; libraries only use `log`.

use std::io::Write;

struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let target = r.target().strip_prefix("cwmpd::").unwrap_or(r.target());
            let _ = writeln!(
                std::io::stderr().lock(),
                "{:<5} {target}: {}",
                r.level(),
                r.args()
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: Stderr = Stderr;

/// Installs the logger at a level (`CWMPD_LOG` in the environment overrides it).
pub fn init(level: &str) {
    let level = std::env::var("CWMPD_LOG")
        .ok()
        .unwrap_or_else(|| level.to_string());
    let filter = level
        .parse::<log::LevelFilter>()
        .unwrap_or(log::LevelFilter::Info);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(filter);
    }
}
