//! Shared by the benches: the agent's configuration for a bench run, reading a process's
//! memory figures.
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

/// Writes `dir/cwmpd.toml` for an agent against the test ACS at `acs_url` (Connection
/// Requests on a port the system picks, user `acs`, password `pw`; periodic informs a day
/// apart), with this board and log level; returns its path.
pub fn write_config(
    dir: &std::path::Path,
    acs_url: &str,
    board: &std::path::Path,
    level: &str,
) -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let cfg = dir.join("cwmpd.toml");
    std::fs::write(
        &cfg,
        format!(
            "[acs]\nurl = \"{acs_url}\"\nperiodic_inform_interval = 86400\n[connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\nusername = \"acs\"\npassword = \"pw\"\n\
             [paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{}\"\nstate_dir = \"{}/state\"\n[log]\nlevel = \"{level}\"\n",
            board.display(),
            dir.display()
        ),
    )
    .unwrap();
    cfg
}
