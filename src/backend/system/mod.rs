//! `system`: Linux facts that need a little computation — uptime, memory, CPU usage, clock,
//! its synchronisation (`clock_sync`) and time zone, the kernel log's size
//! (`kernel_log_size`; these two from [`kernel`]), identity (serial number,
//! OUI), kernel and OS names, host name — and the process table. `/proc`,
//! `/sys` and `/etc` are constructor arguments so tests can point them at a fake tree.
//!
//! Split by concern: `cpu` measures CPUUsage over a window, `identity` finds the MAC
//! address the serial number and OUI come from, `processes` lists the process table,
//! [`kernel`] asks the kernel through system calls, `handler` answers the
//! [`Handler`](crate::backend::Handler) calls; the plain file reads stay here.

mod cpu;
mod handler;
mod identity;
pub mod kernel;
mod processes;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backend::BackendError;

pub use cpu::CPU_WINDOW;
pub use processes::MAX_PROCESSES;

/// The system handler.
pub struct System {
    proc_root: PathBuf,
    sys_root: PathBuf,
    etc_root: PathBuf,
    /// Samples of (when, busy jiffies, total jiffies), oldest first, for CPUUsage's window.
    cpu_samples: std::collections::VecDeque<(Instant, u64, u64)>,
    clk_tck: u64,
}

impl System {
    /// A handler reading the given roots (`/proc`, `/sys`, `/etc` on a real system).
    pub fn new(proc_root: &Path, sys_root: &Path, etc_root: &Path) -> System {
        let clk_tck = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|v| *v > 0)
            .unwrap_or(100) as u64;
        System {
            proc_root: proc_root.into(),
            sys_root: sys_root.into(),
            etc_root: etc_root.into(),
            cpu_samples: std::collections::VecDeque::new(),
            clk_tck,
        }
    }

    pub(super) fn read(&self, root: &Path, rel: &str) -> Result<String, BackendError> {
        let p = root.join(rel);
        std::fs::read_to_string(&p)
            .map_err(|e| BackendError::NotFound(format!("{}: {e}", p.display())))
    }

    pub(super) fn meminfo(&self, key: &str) -> Result<String, BackendError> {
        let text = self.read(&self.proc_root, "meminfo")?;
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|r| r.split_whitespace().next().map(str::to_string))
            })
            .ok_or_else(|| BackendError::NotFound(format!("meminfo {key}")))
    }

    pub(super) fn localtime_zone(&self) -> Result<String, BackendError> {
        // OpenWrt keeps the POSIX TZ string in /etc/TZ; glibc systems end /etc/localtime
        // (TZif v2+) with it as a footer line.
        if let Ok(tz) = self.read(&self.etc_root, "TZ") {
            return Ok(tz.trim().to_string());
        }
        let bytes = std::fs::read(self.etc_root.join("localtime"))
            .map_err(|e| BackendError::NotFound(format!("localtime: {e}")))?;
        let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let footer = body.rsplit(|&b| b == b'\n').next().unwrap_or(b"");
        match std::str::from_utf8(footer) {
            Ok(s) if !s.is_empty() && s.len() < 64 && s.chars().all(|c| c.is_ascii_graphic()) => {
                Ok(s.to_string())
            }
            _ => Err(BackendError::NotFound(
                "no POSIX TZ footer in /etc/localtime".into(),
            )),
        }
    }
}

pub(super) fn os_release(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix("PRETTY_NAME=")
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
