//! What the integration tests share, and the one place that starts agents.
//!
//! - [`agent`]: the real `cwmpd run` with a written config and board, against the scripted
//!   test ACS (`tools/testacs`), on 127.0.0.1 or in a network namespace; its log, signals,
//!   restarts and the events it logs.
//! - [`netns`]: network namespaces a test makes (root only).
//! - [`proc`]: what /proc says of a process (threads, memory, descriptors, credentials).
//! - [`soap`]: ACS request bodies for the scripted ACS.
//! - [`wait`]: the one way a test waits for something: a condition with a deadline.
//! - here: temporary directories, the repository root, the binary, and a port that is
//!   reserved and closed.
//!
//! No test picks a port by binding and releasing it: the agent binds port 0 and says which
//! port it got, servers keep the socket they bound, and [`ClosedPort`] keeps its socket too.
//! Directory and namespace names carry a tag that must be unique in this binary (all tests
//! share one process id).

#[cfg(all(feature = "netlink", feature = "diagnostics"))]
pub mod agent;
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
pub mod netns;
pub mod proc;
pub mod soap;
pub mod wait;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use cwmpd_testacs::Acs;

/// The repository (where `board/`, `datamodel/` and `packaging/` are).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The cwmpd binary cargo built for these tests, run from the repository root.
pub fn cwmpd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cwmpd"));
    c.current_dir(root());
    c
}

/// The test ACS on 127.0.0.1 (an ephemeral port it keeps), requiring Digest `cpe`/`pw` as
/// the configs [`agent::Agent`] writes use.
pub fn acs() -> Acs {
    Acs::start(0, Some(("cpe", "pw"))).unwrap()
}

/// `$TMPDIR/cwmpd-<tag>-<pid>`: where [`TempDir::new`] puts `tag`.
pub fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cwmpd-{tag}-{}", std::process::id()))
}

/// A fresh directory, removed with everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Makes [`temp_path`]`(tag)` empty.
    pub fn new(tag: &str) -> TempDir {
        let d = temp_path(tag);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port on 127.0.0.1 that refuses connections for as long as this lives: a socket
/// bound there that never listens (and without SO_REUSEADDR, so nobody else can bind it).
pub struct ClosedPort {
    _socket: OwnedFd,
    pub port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        use nix::sys::socket::{
            bind, getsockname, socket, AddressFamily, SockFlag, SockType, SockaddrIn,
        };
        let s = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(
            std::os::fd::AsRawFd::as_raw_fd(&s),
            &SockaddrIn::new(127, 0, 0, 1, 0),
        )
        .unwrap();
        let port = getsockname::<SockaddrIn>(std::os::fd::AsRawFd::as_raw_fd(&s))
            .unwrap()
            .port();
        ClosedPort { _socket: s, port }
    }
}

/// Copies a fixture tree (files and directories; modes kept, so stand-in scripts such as
/// the fixtures' `ubus` stay executable).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
