//! Shared by the benches: reading a process's memory figures.
#![allow(dead_code)]

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:` …); `pid` "self" for this process.
pub fn proc_status(pid: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.split_whitespace().next()?.parse().ok())
            })
        })
        .unwrap_or(0)
}
