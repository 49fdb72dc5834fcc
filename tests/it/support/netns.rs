//! Network namespaces a test makes and deletes (root and a native kernel only: a test without
//! them is skipped, saying so).

/// A network namespace, deleted on drop.
pub struct Netns(pub String);

impl Netns {
    /// `cwmpd-<tag>-<pid>`, or None (skipped) without root or under qemu-user.
    pub fn create(tag: &str) -> Option<Netns> {
        if !nix::unistd::geteuid().is_root() || std::env::var_os("CWMPD_QEMU_USER").is_some() {
            eprintln!("skipped: needs root and a native kernel for a network namespace");
            return None;
        }
        let name = format!("cwmpd-{tag}-{}", std::process::id());
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &name])
            .output();
        let ok = std::process::Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip netns add {name} failed (is iproute2 installed?)");
        Some(Netns(name))
    }

    /// `ip -n <ns> <args>`, which must succeed.
    pub fn ip(&self, args: &str) {
        let mut full = vec!["-n", &self.0];
        full.extend(args.split_whitespace());
        let out = std::process::Command::new("ip")
            .args(&full)
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `f` on a thread inside the namespace (sockets it opens stay there).
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let fd = std::fs::File::open(&path).expect("open the namespace");
            nix::sched::setns(
                std::os::fd::AsFd::as_fd(&fd),
                nix::sched::CloneFlags::CLONE_NEWNET,
            )
            .expect("setns");
            f()
        })
        .join()
        .expect("namespace thread")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .output();
    }
}
