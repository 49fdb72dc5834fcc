//! Shared by the integration tests: the real `cwmpd run` with a written config and board,
//! and SOAP snippets for the scripted test ACS.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cwmpd_testacs::Acs;

pub const T: Duration = Duration::from_secs(15);

pub struct Agent {
    pub child: Option<Child>,
    pub dir: PathBuf,
    pub config: PathBuf,
    /// Network namespace the agent runs in (`ip netns exec`).
    pub netns: Option<String>,
}

impl Agent {
    /// Writes a config and a board (the Linux board plus `extra`) and starts cwmpd.
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
        let dir = agent_dir(tag);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let d = dir.display();
        std::fs::write(
            dir.join("board.toml"),
            format!(
                "[board]\nname = \"test\"\ninclude = [\"{root}/board/linux.toml\"]\nreboot = [\"touch\", \"{d}/rebooted\"]\n\
                 factory_reset = [\"touch\", \"{d}/reset\"]\n\n[[object]]\npath = \"Device.ManagementServer.\"\n[object.params]\n\
                 CWMPRetryMinimumWaitInterval = {{ handler = \"stored\", default = \"1\", write = true }}\n\
                 CWMPRetryIntervalMultiplier = {{ handler = \"stored\", default = \"1000\", write = true }}\n{extra_board}"
            ),
        )
        .unwrap();
        // A fixed port for the agent's whole life, restarts included: a new port would be a
        // real change of ConnectionRequestURL, notified as such.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("cwmpd.toml");
        std::fs::write(
            &config,
            format!(
                "[acs]\nurl = \"{}\"\nusername = \"cpe\"\npassword = \"pw\"\ntimeout = 5\n{extra_cfg}\n[connection_request]\nlisten = \"127.0.0.1:{port}\"\npath = \"/cr\"\n\
                 username = \"acs\"\npassword = \"crpw\"\n[paths]\ndatamodel = \"{root}/datamodel\"\nboard = \"{d}/board.toml\"\nstate_dir = \"{d}/state\"\n",
                acs.url()
            ),
        )
        .unwrap();
        let mut a = Agent {
            child: None,
            dir,
            config,
            netns: netns.map(str::to_string),
        };
        a.spawn();
        a
    }

    pub fn spawn(&mut self) {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_cwmpd")]);
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_cwmpd")),
        };
        let child = cmd
            .args(["run", "--config"])
            .arg(&self.config)
            .env("CWMPD_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("log.txt")).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    pub fn signal(&mut self, sig: nix::sys::signal::Signal) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig);
        let deadline = Instant::now() + T;
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn wait_exit(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let deadline = Instant::now() + T;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        None
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log.txt")).unwrap_or_default()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn acs() -> Acs {
    Acs::start(0, Some(("cpe", "pw"))).unwrap()
}

pub fn gpv(names: &[&str]) -> String {
    let items: String = names
        .iter()
        .map(|n| format!("<string>{n}</string>"))
        .collect();
    format!("<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[{}]\">{items}</ParameterNames></cwmp:GetParameterValues>", names.len())
}

pub fn spv(name: &str, ty: &str, value: &str, key: &str) -> String {
    format!(
        "<cwmp:SetParameterValues><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[1]\"><ParameterValueStruct><Name>{name}</Name>\
         <Value xsi:type=\"xsd:{ty}\">{value}</Value></ParameterValueStruct></ParameterList><ParameterKey>{key}</ParameterKey></cwmp:SetParameterValues>"
    )
}

/// The directory [`Agent::start`] uses for `tag`.
pub fn agent_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cwmpd-agent-{tag}-{}", std::process::id()))
}

/// A network namespace made by a test, deleted on drop.
pub struct Netns(pub String);

impl Netns {
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
