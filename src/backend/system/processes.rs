//! The process table (`DeviceInfo.ProcessStatus.Process.{i}.`) from `/proc/<pid>/stat` and
//! `status`, capped at [`MAX_PROCESSES`].

use std::path::Path;

use super::System;
use crate::backend::{BackendError, Instance};

/// Most processes listed.
pub const MAX_PROCESSES: usize = 4096;

impl System {
    pub(super) fn processes(&self) -> Result<Vec<Instance>, BackendError> {
        let rd = std::fs::read_dir(&self.proc_root)
            .map_err(|e| BackendError::NotFound(format!("proc: {e}")))?;
        let mut out = Vec::new();
        for e in rd.flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            // A process may exit while we read it: skip it quietly.
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let Some(inst) = self.process(&pid, &stat, &e.path()) else {
                continue;
            };
            if out.len() >= MAX_PROCESSES {
                return Err(BackendError::Limit(format!(
                    "more than {MAX_PROCESSES} processes"
                )));
            }
            out.push(inst);
        }
        out.sort_by_key(|i: &Instance| i.key.parse::<u64>().unwrap_or(0));
        Ok(out)
    }

    fn process(&self, pid: &str, stat: &str, dir: &Path) -> Option<Instance> {
        // pid (comm) state ppid … — comm may contain spaces and parentheses.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?;
        let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        let state = match rest.first()?.chars().next()? {
            'R' => "Running",
            'S' => "Sleeping",
            'T' | 't' => "Stopped",
            'I' => "Idle",
            'D' => "Uninterruptible",
            'Z' | 'X' | 'x' => "Zombie",
            _ => "Sleeping",
        };
        // Fields after comm: state is index 0, utime 11, stime 12, priority 15.
        let num = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let cputime_ms = (num(11).max(0) + num(12).max(0)) as u64 * 1000 / self.clk_tck;
        let priority = num(15).clamp(0, 99);
        let size = std::fs::read_to_string(dir.join("status"))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("VmRSS:")
                        .and_then(|r| r.split_whitespace().next().map(str::to_string))
                })
            })
            .unwrap_or_else(|| "0".into());
        Some(
            Instance::new(pid)
                .var("pid", pid)
                .var("command", comm.chars().take(256).collect::<String>())
                .var("size", size)
                .var("priority", priority.to_string())
                .var("cputime", cputime_ms.to_string())
                .var("state", state),
        )
    }
}
