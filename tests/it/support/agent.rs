//! The real `cwmpd run` against the scripted test ACS: a written config and board, the child
//! process (on 127.0.0.1 or in a network namespace), its log, signals and restarts.
//!
//! The Connection Request listener binds `127.0.0.1:0`: the agent takes a free port, logs it
//! (`agent: connection requests on http://…`, see [`Agent::listening`]) and reports it in
//! its Informs' ConnectionRequestURL; a restart binds the same port again (the agent keeps
//! it in its state), so the URL the ACS knows stays valid.
//!
//! The agent logs at trace level (SOAP bodies included) to `log.txt` in its directory; tests wait for the events it
//! logs there ([`Agent::wait_log`], [`Agent::idle_after`]) rather than for time to pass.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use cwmpd_testacs::Acs;
use nix::sys::signal::Signal;

use super::wait::{poll, T};
use super::{root, temp_path, TempDir};

/// While this file is in the agent's directory, the test board's reboot command fails.
pub const NO_REBOOT: &str = "noreboot";
/// While this file is in the agent's directory, the test board's factory-reset command fails.
pub const NO_RESET: &str = "noreset";

/// What the agent logs (at debug) when its loop has nothing left to do and waits.
pub const IDLE: &str = "agent: idle";

/// A running (or stopped) agent; killed and its directory removed on drop.
pub struct Agent {
    child: Option<Child>,
    dir: TempDir,
    config: PathBuf,
    /// Network namespace the agent runs in (`ip netns exec`).
    netns: Option<String>,
    /// CWMPD_LOG for the child; None leaves the level to the config's `[log]`.
    log_env: Option<&'static str>,
    /// The boot id when the agent was first started.
    first_boot: Option<String>,
    /// RLIMIT_NOFILE for the child (set between fork and exec), when lowered.
    nofile: Option<u64>,
}

/// Writes a new boot id into `dir/boot_id` (the file the test boards name as `boot_id`).
pub fn new_boot(dir: &Path) {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap();
    std::fs::write(dir.join("boot_id"), id).unwrap();
}

/// The directory [`Agent::start`] uses for `tag` (for boards that name files in it).
pub fn agent_dir(tag: &str) -> PathBuf {
    temp_path(&format!("agent-{tag}"))
}

impl Agent {
    /// Writes a config and a board (the Linux board plus `extra_board`) and starts cwmpd
    /// against `acs`; `extra_cfg` goes into the config's `[acs]` table (its end: a new table
    /// may follow).
    pub fn start(tag: &str, acs: &Acs, extra_cfg: &str, extra_board: &str) -> Agent {
        Agent::start_in(tag, acs, extra_cfg, extra_board, None)
    }

    /// [`Agent::start`] inside a network namespace.
    pub fn start_in(
        tag: &str,
        acs: &Acs,
        extra_cfg: &str,
        extra_board: &str,
        netns: Option<&str>,
    ) -> Agent {
        Agent::start_limited(tag, acs, extra_cfg, extra_board, netns, None, "trace")
    }

    /// [`Agent::start`] logging at `level` instead of trace.
    pub fn start_logged(
        tag: &str,
        acs: &Acs,
        extra_cfg: &str,
        extra_board: &str,
        level: &'static str,
    ) -> Agent {
        Agent::start_limited(tag, acs, extra_cfg, extra_board, None, None, level)
    }

    /// [`Agent::start`] with the child's RLIMIT_NOFILE (soft and hard) lowered to `nofile`.
    pub fn start_nofile(tag: &str, acs: &Acs, nofile: u64) -> Agent {
        Agent::start_limited(tag, acs, "", "", None, Some(nofile), "trace")
    }

    fn start_limited(
        tag: &str,
        acs: &Acs,
        extra_cfg: &str,
        extra_board: &str,
        netns: Option<&str>,
        nofile: Option<u64>,
        level: &'static str,
    ) -> Agent {
        let dir = TempDir::new(&format!("agent-{tag}"));
        let root = root().display();
        let d = dir.path().display();
        std::fs::write(
            dir.join("board.toml"),
            format!(
                "[board]\nname = \"test\"\ninclude = [\"{root}/board/linux.toml\"]\nboot_id = \"boot_id\"\n\
                 reboot = [\"sh\", \"-c\", \"test ! -e {d}/{NO_REBOOT} && touch {d}/rebooted && cat /proc/sys/kernel/random/uuid > {d}/boot_id\"]\n\
                 factory_reset = [\"sh\", \"-c\", \"test ! -e {d}/{NO_RESET} && touch {d}/reset\"]\n\n[[object]]\npath = \"Device.ManagementServer.\"\n[object.params]\n\
                 CWMPRetryMinimumWaitInterval = {{ handler = \"stored\", default = \"1\", write = true }}\n\
                 CWMPRetryIntervalMultiplier = {{ handler = \"stored\", default = \"1000\", write = true }}\n{extra_board}"
            ),
        )
        .unwrap();
        let config = format!(
            "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\ntimeout = 5\n{extra_cfg}\n[connection_request]\nlisten = \"127.0.0.1:0\"\npath = \"/cr\"\n\
             username = \"acs\"\npassword = \"crpw\"\n[paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
            acs.url()
        );
        new_boot(&dir);
        Agent::launch(dir, &config, netns, Some(level), nofile)
    }

    /// Starts cwmpd with a config of the test's own: `config` gets the agent's directory and
    /// returns the text of its `cwmpd.toml`; `log_env` is CWMPD_LOG (None: the config's
    /// `[log]` decides).
    pub fn start_with(
        tag: &str,
        config: impl FnOnce(&Path) -> String,
        log_env: Option<&'static str>,
    ) -> Agent {
        let dir = TempDir::new(&format!("agent-{tag}"));
        let text = config(dir.path());
        Agent::launch(dir, &text, None, log_env, None)
    }

    /// Starts cwmpd with `config` written into `dir` (the agent's directory from now on).
    pub fn launch(
        dir: TempDir,
        config: &str,
        netns: Option<&str>,
        log_env: Option<&'static str>,
        nofile: Option<u64>,
    ) -> Agent {
        let path = dir.join("cwmpd.toml");
        std::fs::write(&path, config).unwrap();
        let first_boot = std::fs::read_to_string(dir.join("boot_id")).ok();
        let mut a = Agent {
            child: None,
            dir,
            config: path,
            netns: netns.map(str::to_string),
            log_env,
            first_boot,
            nofile,
        };
        a.spawn();
        a
    }

    /// Starts the process (again, after it stopped: same config and state). Its stderr goes
    /// to `log.txt`, which starts empty.
    pub fn spawn(&mut self) {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_cwmpd")]);
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_cwmpd")),
        };
        match self.log_env {
            Some(level) => cmd.env("CWMPD_LOG", level),
            None => cmd.env_remove("CWMPD_LOG"),
        };
        if let Some(n) = self.nofile {
            use nix::sys::resource::{setrlimit, Resource};
            use std::os::unix::process::CommandExt;
            // SAFETY: between fork and exec only setrlimit runs (async-signal-safe, no
            // allocation).
            unsafe {
                cmd.pre_exec(move || {
                    setrlimit(Resource::RLIMIT_NOFILE, n, n).map_err(std::io::Error::from)
                });
            }
        }
        let child = cmd
            .args(["run", "--config"])
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("log.txt")).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// The device "boots": the boot id the board names changes, so the next start of the
    /// agent is a boot (1 BOOT), not a restart of the daemon.
    pub fn new_boot(&self) {
        new_boot(&self.dir);
    }

    /// Puts back the boot id the agent started with (a reboot command that "succeeded"
    /// without the device booting).
    pub fn new_boot_undo(&self) {
        if let Some(old) = self.first_boot.as_ref() {
            std::fs::write(self.dir.join("boot_id"), old).unwrap();
        }
    }

    /// The running process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the agent runs").id()
    }

    /// Sends `sig` and reaps the process (killed if it has not exited within [`T`]).
    pub fn signal(&mut self, sig: Signal) -> Option<ExitStatus> {
        let child = self.child.as_ref()?;
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig);
        let status = self.wait_exit();
        if status.is_none() {
            if let Some(mut c) = self.child.take() {
                let _ = c.kill();
                return c.wait().ok();
            }
        }
        status
    }

    /// A power cut: the agent and every process it started (commands run in process groups
    /// of their own) are stopped at one instant, then killed, so no command it ran finishes
    /// after it; the agent is reaped.
    pub fn power_cut(&mut self) {
        use nix::sys::signal::kill;
        use nix::unistd::Pid;
        let Some(child) = self.child.as_ref() else {
            return;
        };
        let root = child.id() as i32;
        let _ = kill(Pid::from_raw(root), Signal::SIGSTOP);
        // A stopped process starts nothing; its children may still, until stopped too.
        let mut frozen = vec![root];
        loop {
            let kids: Vec<i32> = descendants(&frozen)
                .into_iter()
                .filter(|p| !frozen.contains(p))
                .collect();
            if kids.is_empty() {
                break;
            }
            for k in kids {
                let _ = kill(Pid::from_raw(k), Signal::SIGSTOP);
                frozen.push(k);
            }
        }
        for p in &frozen {
            let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Whether the process has exited by itself (reaped then); false while it runs.
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(Some(_))) | None => {
                self.child = None;
                true
            }
            _ => false,
        }
    }

    /// Waits up to [`T`] for the process to exit by itself and reaps it; None (still
    /// running) when it does not.
    pub fn wait_exit(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let status = poll(T, || child.try_wait().ok().flatten())?;
        self.child = None;
        Some(status)
    }

    /// Everything the running (or last) process logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log.txt")).unwrap_or_default()
    }

    /// A file in the agent's directory (`state/state.toml`, what the board's commands touch).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Waits until the log holds `needle` at least `n` times; the log then.
    pub fn wait_log(&self, needle: &str, n: usize) -> String {
        poll(T, || {
            let log = self.log();
            (log.matches(needle).count() >= n).then_some(log)
        })
        .unwrap_or_else(|| panic!("{n}× {needle:?} not logged within {T:?}:\n{}", self.log()))
    }

    /// Waits until the log holds `needles` in this order, each on a line after the previous
    /// one's, and after the last one's line the agent's loop went idle ([`IDLE`]): whatever
    /// that line led to is done. Returns what was logged in between (a test can check that
    /// it holds no `session: start`).
    pub fn idle_after(&self, needles: &[&str]) -> String {
        poll(T, || {
            let log = self.log();
            let mut next = 0;
            for n in needles {
                let at = next + log[next..].find(n)?;
                next = at + log[at..].find('\n')? + 1;
            }
            let idle = log[next..].find(IDLE)?;
            Some(log[next..next + idle].to_string())
        })
        .unwrap_or_else(|| panic!("not idle after {needles:?} within {T:?}:\n{}", self.log()))
    }

    /// The Connection Request listener's address, as the agent logs it once bound.
    pub fn listening(&self) -> SocketAddr {
        const AT: &str = "connection requests on http://";
        poll(T, || {
            let log = self.log();
            let at = log.find(AT)? + AT.len();
            log[at..].lines().next()?.trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no listener logged within {T:?}:\n{}", self.log()))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The processes whose parent is one of `parents` (from /proc).
fn descendants(parents: &[i32]) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|st| {
                    // pid (comm) state ppid …: comm may hold spaces and parentheses.
                    let rest = &st[st.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                .is_some_and(|ppid| parents.contains(&ppid))
        })
        .collect()
}
