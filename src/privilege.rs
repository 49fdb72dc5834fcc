//! Running as a user of its own with a few capabilities instead of root (issue 13 §5).
//!
//! cwmpd starts as root, opens what needs root once (the Connection Request port, netlink
//! sockets, the state), then [`switch`] makes it another user that keeps only the
//! capabilities named: the bounding set loses every other one, and the kept ones are
//! effective, permitted, inheritable and ambient, so that the commands cwmpd runs (UCI apply,
//! reboot, a board's commands) have them too and nothing more. What each capability is for
//! is in [`CAPABILITIES`]; README.md ("Privileges") says what needs which.
//!
//! Capability sets are per thread on Linux, so the switch must happen while the process has
//! one thread; [`switch`] checks. The capset(2) and prctl(2) calls nix does not wrap are
//! unsafe code here.

use std::fmt;
use std::path::Path;

use nix::unistd::{Gid, Uid, User};

/// The capabilities cwmpd may keep, by the name the configuration uses, with their number
/// (linux/capability.h) and what cwmpd needs them for.
pub const CAPABILITIES: &[(&str, u32, &str)] = &[
    ("chown", 0, "commands that change file ownership"),
    (
        "dac_override",
        1,
        "writing root-owned files: UCI (/etc/config), sysfs attributes",
    ),
    ("fowner", 3, "commands that change file modes"),
    (
        "kill",
        5,
        "commands that signal daemons (UCI apply scripts)",
    ),
    (
        "net_bind_service",
        10,
        "commands that bind ports below 1024",
    ),
    (
        "net_admin",
        12,
        "netlink writes: addresses, routes, links up and down",
    ),
    ("net_raw", 13, "raw ICMP sockets for IPPing and TraceRoute"),
    ("sys_boot", 22, "Reboot (the reboot command)"),
    ("sys_time", 25, "commands that set the clock"),
];

/// What `[agent] capabilities` keeps when it is not given.
pub const DEFAULT_CAPABILITIES: &[&str] = &["dac_override", "net_admin", "net_raw", "sys_boot"];

/// The number of a capability named in the configuration.
pub fn capability(name: &str) -> Option<u32> {
    CAPABILITIES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, _)| *c)
}

/// Why the switch failed; the agent does not run as root by accident after one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivilegeError {
    /// The user is not in the password database.
    UnknownUser(String),
    /// The process is not root: it cannot become another user.
    NotRoot,
    /// Threads run already; their credentials would not change with the main thread's.
    Threads(u64),
    /// A system call failed.
    Call {
        /// Which.
        call: &'static str,
        /// The error.
        errno: nix::errno::Errno,
    },
}

impl fmt::Display for PrivilegeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivilegeError::UnknownUser(u) => write!(f, "privileges: no user {u:?}"),
            PrivilegeError::NotRoot => {
                write!(f, "privileges: not running as root, cannot switch user")
            }
            PrivilegeError::Threads(n) => write!(
                f,
                "privileges: {n} threads run already (capabilities are per thread)"
            ),
            PrivilegeError::Call { call, errno } => {
                let e = std::io::Error::from(*errno);
                write!(f, "privileges: {call}: {e}")
            }
        }
    }
}

impl std::error::Error for PrivilegeError {}

fn call(call: &'static str) -> impl Fn(nix::errno::Errno) -> PrivilegeError {
    move |errno| PrivilegeError::Call { call, errno }
}

/// The process's thread count (from /proc/self/status).
fn threads() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The highest capability number the kernel knows.
fn last_capability() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Makes `dir` and what is directly in it belong to `uid`/`gid` (the agent's state, which
/// it must go on writing), creating `dir` when it is missing.
fn hand_over(dir: &Path, uid: Uid, gid: Gid) -> Result<(), PrivilegeError> {
    let io = |e: std::io::Error| PrivilegeError::Call {
        call: "state directory",
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut paths = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).map_err(io)?.flatten() {
        let p = e.path();
        if p.is_dir() {
            // One level down: the transfer directory and its files.
            paths.extend(
                std::fs::read_dir(&p)
                    .map_err(io)?
                    .flatten()
                    .map(|f| f.path()),
            );
        }
        paths.push(p);
    }
    for p in paths {
        nix::unistd::chown(&p, Some(uid), Some(gid)).map_err(call("chown"))?;
    }
    Ok(())
}

/// capset(2) v3: these capabilities effective, permitted and inheritable, no others.
fn capset(caps: &[u32]) -> Result<(), PrivilegeError> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    // _LINUX_CAPABILITY_VERSION_3: 64 bits in two words.
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    for c in caps {
        let (word, bit) = ((*c / 32) as usize, 1u32 << (c % 32));
        if let Some(d) = data.get_mut(word) {
            d.effective |= bit;
            d.permitted |= bit;
            d.inheritable |= bit;
        }
    }
    // SAFETY: both pointers are to live, correctly laid out structures (linux/capability.h)
    // for the duration of the call; the kernel reads two Data words for version 3.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut Header,
            data.as_mut_ptr(),
        )
    };
    nix::errno::Errno::result(r)
        .map(drop)
        .map_err(call("capset"))
}

/// prctl(2) with integer arguments.
fn prctl(what: &'static str, option: i32, arg: u64) -> Result<(), PrivilegeError> {
    let arg = libc::c_ulong::try_from(arg).unwrap_or(0);
    // SAFETY: these prctl options (PR_CAPBSET_DROP, PR_CAP_AMBIENT) take integer arguments
    // only; no memory is passed.
    let r = unsafe {
        match option {
            libc::PR_CAP_AMBIENT => libc::prctl(
                option,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                arg,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            ),
            _ => libc::prctl(
                option,
                arg,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            ),
        }
    };
    nix::errno::Errno::result(r).map(drop).map_err(call(what))
}

/// Becomes `user` (its uid, its primary group, no other groups) keeping only `caps`, after
/// handing `state_dir` to it. Call once, before any thread starts.
pub fn switch(user: &str, caps: &[u32], state_dir: &Path) -> Result<(), PrivilegeError> {
    let u = User::from_name(user)
        .map_err(call("getpwnam"))?
        .ok_or_else(|| PrivilegeError::UnknownUser(user.to_string()))?;
    if !Uid::effective().is_root() {
        return Err(PrivilegeError::NotRoot);
    }
    let n = threads();
    if n > 1 {
        return Err(PrivilegeError::Threads(n));
    }
    hand_over(state_dir, u.uid, u.gid)?;
    // While still root (CAP_SETPCAP): nothing outside `caps` can ever be gained again, not
    // even by a set-uid program a command runs.
    for c in 0..=last_capability() {
        if !caps.contains(&c) {
            prctl("PR_CAPBSET_DROP", libc::PR_CAPBSET_DROP, u64::from(c))?;
        }
    }
    // Keep the permitted set across setuid (it would be cleared), then trim it.
    nix::sys::prctl::set_keepcaps(true).map_err(call("PR_SET_KEEPCAPS"))?;
    nix::unistd::setgroups(&[u.gid]).map_err(call("setgroups"))?;
    nix::unistd::setgid(u.gid).map_err(call("setgid"))?;
    nix::unistd::setuid(u.uid).map_err(call("setuid"))?;
    capset(caps)?;
    for c in caps {
        prctl("PR_CAP_AMBIENT", libc::PR_CAP_AMBIENT, u64::from(*c))?;
    }
    nix::sys::prctl::set_keepcaps(false).map_err(call("PR_SET_KEEPCAPS"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_named_once_and_the_defaults_exist() {
        for (i, (name, number, _)) in CAPABILITIES.iter().enumerate() {
            assert_eq!(capability(name), Some(*number));
            assert!(CAPABILITIES[..i]
                .iter()
                .all(|(n, c, _)| n != name && c != number));
        }
        assert!(DEFAULT_CAPABILITIES.iter().all(|c| capability(c).is_some()));
        assert_eq!(capability("sys_admin"), None, "never kept");
    }

    #[test]
    fn an_unknown_user_is_an_error() {
        assert_eq!(
            switch("no-such-user-cwmpd", &[], Path::new("/nonexistent")),
            Err(PrivilegeError::UnknownUser("no-such-user-cwmpd".into()))
        );
    }

    #[test]
    fn a_process_with_threads_cannot_switch() {
        // The test harness runs threads: refused before anything changes.
        if Uid::effective().is_root() && threads() > 1 {
            assert!(matches!(
                switch("nobody", &[], Path::new("/nonexistent")),
                Err(PrivilegeError::Threads(_))
            ));
            assert!(Uid::current().is_root(), "still root");
        }
    }
}
