//! What /proc says of a running process: its thread count, memory (resident, peak),
//! and open descriptors.

/// A field of `/proc/<pid>/status` (the text after the colon, trimmed); None once the process
/// is gone.
pub fn status(pid: u32, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// A numeric field of `/proc/<pid>/status` (its first number: `VmHWM: 5900 kB` gives 5900).
pub fn number(pid: u32, field: &str) -> u64 {
    status(pid, field)
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} for process {pid}"))
}

/// The process's threads.
pub fn threads(pid: u32) -> u64 {
    number(pid, "Threads")
}

/// Its peak resident memory, in KiB (VmHWM).
pub fn peak_kib(pid: u32) -> u64 {
    number(pid, "VmHWM")
}

/// Its open file descriptors.
pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}
