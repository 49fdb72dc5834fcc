//! `command`: values from a program's output and writes through a program — argv only,
//! never a shell — with a timeout and an output cap; and tables whose instances are the
//! lines a program prints (vars `line`, `f0`, `f1` … for its whitespace fields).
//!
//! [`run`] (also used by the UCI handler's apply and the device's reboot and factory reset)
//! starts each command in a process group of its own and reads its output in the calling
//! thread with poll(2), up to the deadline and no longer: a background child that keeps
//! stdout open cannot hold the answer past the command's exit, and at the deadline the
//! whole group is killed, so a timed-out command leaves no orphans (issue 13 §4).

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::backend::text;
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// Default time a command may run.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;
/// Longest time a board may allow.
pub const MAX_TIMEOUT_MS: u64 = 60_000;
/// Most bytes of output read.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// Most instances from one command.
pub const MAX_LINES: usize = 4096;

/// The command handler.
#[derive(Default)]
pub struct Command;

/// Waits for a child until `timeout`, or until `stop` says so (checked every poll, e.g. an
/// output file grown too large); then kills it. `Ok(None)` means it was stopped.
pub fn wait_bounded(
    child: &mut std::process::Child,
    timeout: Duration,
    poll: Duration,
    mut stop: impl FnMut() -> bool,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        if start.elapsed() >= timeout || stop() {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(poll);
    }
}

/// How often a command's exit is looked for while a child it left holds its output open.
const EXIT_CHECK: Duration = Duration::from_millis(10);

/// What reading a command gave.
enum Collected {
    /// It exited (its output as far as it wrote it, stderr capped).
    Exited(std::process::ExitStatus, Vec<u8>, Vec<u8>),
    /// The deadline came first.
    TimedOut,
    /// More than [`MAX_OUTPUT`] on stdout.
    TooMuch,
}

/// An output pipe being read: open until EOF.
struct Pipe<R> {
    pipe: Option<R>,
    buf: Vec<u8>,
    /// Bytes kept at most (the rest is read and dropped, so the child never blocks on it).
    keep: usize,
}

impl<R: Read + AsFd> Pipe<R> {
    fn new(pipe: Option<R>, keep: usize) -> std::io::Result<Pipe<R>> {
        if let Some(p) = &pipe {
            let fd = p.as_fd();
            let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)?;
            let flags = nix::fcntl::OFlag::from_bits_retain(flags) | nix::fcntl::OFlag::O_NONBLOCK;
            nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(flags))?;
        }
        Ok(Pipe {
            pipe,
            buf: Vec::new(),
            keep,
        })
    }

    /// Reads what the pipe holds now, at most [`MAX_OUTPUT`] bytes in one call (it closes
    /// at EOF or on an error).
    fn drain(&mut self) {
        let Some(p) = self.pipe.as_mut() else {
            return;
        };
        let mut chunk = [0u8; 4096];
        let mut budget = MAX_OUTPUT;
        while budget > 0 {
            match p.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    let room = self.keep.saturating_sub(self.buf.len());
                    self.buf
                        .extend_from_slice(chunk.get(..n.min(room)).unwrap_or_default());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if budget > 0 {
            self.pipe = None;
        }
    }
}

/// Reads the child's stdout and stderr until it exits or `deadline` passes.
fn collect(
    child: &mut std::process::Child,
    deadline: Instant,
    max_output: usize,
) -> std::io::Result<Collected> {
    let mut out = Pipe::new(child.stdout.take(), max_output + 1)?;
    let mut err = Pipe::new(child.stderr.take(), MAX_OUTPUT)?;
    loop {
        out.drain();
        err.drain();
        if out.buf.len() > max_output {
            return Ok(Collected::TooMuch);
        }
        if let Some(status) = child.try_wait()? {
            // What it wrote before it exited is in the pipes now; a child it left in the
            // background may hold them open, and is not waited for.
            out.drain();
            err.drain();
            if out.buf.len() > max_output {
                return Ok(Collected::TooMuch);
            }
            return Ok(Collected::Exited(status, out.buf, err.buf));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Collected::TimedOut);
        }
        // Wake for output, or to look for the exit again.
        let wait = deadline.saturating_duration_since(now).min(EXIT_CHECK);
        let mut fds: Vec<PollFd> = [
            out.pipe.as_ref().map(|p| p.as_fd()),
            err.pipe.as_ref().map(|p| p.as_fd()),
        ]
        .into_iter()
        .flatten()
        .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
        .collect();
        let ms = PollTimeout::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(PollTimeout::MAX);
        match nix::poll::poll(&mut fds, ms) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Kills the command's process group and reaps the command.
fn kill_group(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// What a finished program left: its exit status and (capped) output.
#[derive(Debug)]
pub struct Finished {
    /// Exit status.
    pub status: std::process::ExitStatus,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

impl Finished {
    /// The start of standard error, for messages.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(
            self.stderr
                .get(..self.stderr.len().min(200))
                .unwrap_or_default(),
        )
        .trim()
        .to_string()
    }
}

/// Runs argv with `input` on its standard input (else none), a timeout and at most
/// `max_output` bytes of standard output (more is an error), in a process group of its own
/// (killed whole on timeout or too much output). A non-zero exit is not an error here: the
/// caller reads [`Finished::status`].
pub fn exec(
    argv: &[&str],
    input: Option<&[u8]>,
    timeout: Duration,
    max_output: usize,
) -> Result<Finished, BackendError> {
    let (prog, rest) = argv
        .split_first()
        .ok_or_else(|| BackendError::BadArgs("empty argv".into()))?;
    let deadline = Instant::now() + timeout;
    let mut child = Process::new(prog)
        .args(rest)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| BackendError::Command(format!("{prog}: {e}")))?;
    if let (Some(data), Some(mut pipe)) = (input, child.stdin.take()) {
        // Small inputs (a password line) fit the pipe; the pipe closes when dropped here.
        use std::io::Write;
        if let Err(e) = pipe.write_all(data) {
            kill_group(&mut child);
            return Err(BackendError::Command(format!(
                "{prog}: writing its input: {e}"
            )));
        }
    }
    match collect(&mut child, deadline, max_output) {
        Ok(Collected::Exited(status, stdout, stderr)) => Ok(Finished {
            status,
            stdout,
            stderr,
        }),
        Ok(Collected::TimedOut) => {
            kill_group(&mut child);
            Err(BackendError::Command(format!(
                "{prog}: timed out after {} ms",
                timeout.as_millis()
            )))
        }
        Ok(Collected::TooMuch) => {
            kill_group(&mut child);
            Err(BackendError::Limit(format!(
                "{prog}: more than {max_output} bytes of output"
            )))
        }
        Err(e) => {
            kill_group(&mut child);
            Err(BackendError::Command(format!("{prog}: {e}")))
        }
    }
}

/// Runs argv with a timeout; returns stdout. Non-zero exit, timeout, or more output than
/// [`MAX_OUTPUT`] are errors; on timeout or too much output the command's whole process
/// group is killed.
pub fn run(argv: &[&str], timeout: Duration) -> Result<String, BackendError> {
    let done = exec(argv, None, timeout, MAX_OUTPUT)?;
    let prog = argv.first().copied().unwrap_or_default();
    if !done.status.success() {
        return Err(BackendError::Command(format!(
            "{prog}: {}: {}",
            done.status,
            done.stderr_text()
        )));
    }
    String::from_utf8(done.stdout)
        .map_err(|_| BackendError::InvalidValue(format!("{prog}: output is not UTF-8")))
}

fn timeout(args: &Args) -> Result<Duration, BackendError> {
    let ms = args
        .opt_int("timeout_ms")?
        .map(|v| v.max(1) as u64)
        .unwrap_or(DEFAULT_TIMEOUT_MS);
    Ok(Duration::from_millis(ms.min(MAX_TIMEOUT_MS)))
}

fn check_argv(args: &toml::Table, key: &str) -> Result<(), ArgsError> {
    match args.get(key) {
        Some(toml::Value::Array(a)) if !a.is_empty() && a.iter().all(|v| v.is_str()) => Ok(()),
        _ => Err(format!("`{key}` (a non-empty list of strings) is required").into()),
    }
}

impl Handler for Command {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        for k in args.keys() {
            if !["get", "set", "instances", "timeout_ms"].contains(&k.as_str())
                && !text::RULE_KEYS.contains(&k.as_str())
            {
                return Err(ArgsError::unknown(k));
            }
        }
        if args.get("timeout_ms").is_some_and(|v| {
            !v.as_integer()
                .is_some_and(|i| i > 0 && i as u64 <= MAX_TIMEOUT_MS)
        }) {
            return Err(format!("`timeout_ms` must be 1..={MAX_TIMEOUT_MS}").into());
        }
        match kind {
            BindingKind::Table => check_argv(args, "instances")?,
            BindingKind::Read => check_argv(args, "get")?,
            BindingKind::ReadWrite => {
                check_argv(args, "get")?;
                check_argv(args, "set")?;
            }
        }
        text::check_rules(args)
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let argv = args.str_list("get")?;
        let out = run(&argv, timeout(args)?)?;
        text::extract(&out, args)
    }

    fn set(&mut self, args: &Args, _value: &str) -> Result<(), BackendError> {
        // The engine has already substituted "{value}" into the argv.
        let argv = args.str_list("set")?;
        run(&argv, timeout(args)?).map(|_| ())
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let argv = args.str_list("instances")?;
        let out = run(&argv, timeout(args)?)?;
        let mut seen = std::collections::BTreeSet::new();
        let mut list = Vec::new();
        for line in out.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !seen.insert(line.to_string()) {
                continue;
            }
            if list.len() >= MAX_LINES {
                return Err(BackendError::Limit(format!(
                    "more than {MAX_LINES} instances"
                )));
            }
            let mut inst = Instance::new(line).var("line", line);
            for (i, f) in line.split_whitespace().enumerate() {
                inst = inst.var(&format!("f{i}"), f);
            }
            list.push(inst);
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn a(t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn get_set_and_instances() {
        let mut c = Command;
        assert_eq!(
            c.get(&a("get = [\"echo\", \"a b c\"]\nfield = 1")).unwrap(),
            "b"
        );
        let d = std::env::temp_dir().join(format!("cwmpd-cmd-{}", std::process::id()));
        let ds = d.display().to_string();
        c.set(&a(&format!("set = [\"mkdir\", \"-p\", \"{ds}\"]")), "x")
            .unwrap();
        assert!(d.is_dir());
        std::fs::remove_dir(&d).unwrap();
        let inst = c
            .instances(&a(
                "instances = [\"printf\", \"8.8.8.8 x\\n1.1.1.1 y\\n8.8.8.8 x\\n\"]",
            ))
            .unwrap();
        assert_eq!(inst.len(), 2, "duplicate lines are one instance");
        assert_eq!(inst[1].vars["f0"], "1.1.1.1");
        assert_eq!(inst[1].vars["f1"], "y");
    }

    #[test]
    fn instance_lines_are_capped() {
        let mut c = Command;
        let ok = a(&format!("instances = [\"seq\", \"{MAX_LINES}\"]"));
        assert_eq!(c.instances(&ok).unwrap().len(), MAX_LINES);
        let over = a(&format!("instances = [\"seq\", \"{}\"]", MAX_LINES + 1));
        assert!(matches!(c.instances(&over), Err(BackendError::Limit(_))));
    }

    #[test]
    fn timeouts_failures_and_caps() {
        let mut c = Command;
        let t = Instant::now();
        let e = c
            .get(&a("get = [\"sleep\", \"5\"]\ntimeout_ms = 100"))
            .unwrap_err();
        assert!(
            matches!(e, BackendError::Command(ref m) if m.contains("timed out")),
            "{e}"
        );
        assert!(t.elapsed() < Duration::from_secs(2));
        let e = c
            .get(&a("get = [\"sh\", \"-c\", \"echo oops >&2; exit 3\"]"))
            .unwrap_err();
        assert!(
            matches!(e, BackendError::Command(ref m) if m.contains("oops")),
            "{e}"
        );
        let e = c
            .get(&a("get = [\"head\", \"-c\", \"100000\", \"/dev/zero\"]"))
            .unwrap_err();
        assert!(matches!(e, BackendError::Limit(_)), "{e}");
        assert!(matches!(
            c.get(&a("get = [\"/nonexistent/prog\"]")),
            Err(BackendError::Command(_))
        ));
    }

    /// Whether process `pid` is gone (or a zombie no one has reaped yet).
    fn gone(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/status")) {
            Err(_) => true,
            Ok(s) => s
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z')),
        }
    }

    /// Waits up to 5 s for `pid` to be gone.
    fn gone_soon(pid: &str) -> bool {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if gone(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("cwmpd-cmd-{name}-{}", std::process::id()))
    }

    #[test]
    fn a_background_child_holding_stdout_does_not_hold_the_answer() {
        let pidfile = temp("bg");
        let p = pidfile.display();
        let t = Instant::now();
        // The command prints its value and exits; the child it leaves keeps stdout open.
        let got = run(
            &["sh", "-c", &format!("echo 5; sleep 20 & echo $! > {p}")],
            Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(got.trim(), "5");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        // Left running (a command may start a daemon); the test cleans it up.
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        let _ = nix::sys::signal::kill(Pid::from_raw(pid.parse().unwrap()), Signal::SIGKILL);
        std::fs::remove_file(&pidfile).unwrap();
    }

    #[test]
    fn a_timed_out_command_leaves_no_orphans() {
        let pidfile = temp("orphan");
        let p = pidfile.display();
        let t = Instant::now();
        let e = run(
            &["sh", "-c", &format!("sleep 20 & echo $! > {p}; sleep 20")],
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(e.to_string().contains("timed out"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        assert!(
            gone_soon(&pid),
            "the background child {pid} outlived its command"
        );
        std::fs::remove_file(&pidfile).unwrap();
    }

    #[test]
    fn endless_output_is_cut_off_at_the_cap_and_the_group_killed() {
        let t = Instant::now();
        let e = run(&["sh", "-c", "yes"], Duration::from_secs(10)).unwrap_err();
        assert!(matches!(e, BackendError::Limit(_)), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        // Endless stderr neither blocks the command nor is kept whole.
        let e = run(
            &["sh", "-c", "head -c 1000000 /dev/zero >&2; exit 1"],
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(
            matches!(e, BackendError::Command(ref m) if m.contains("exit status: 1")),
            "{e}"
        );
    }

    #[test]
    fn arguments_are_checked() {
        let c = Command;
        assert!(c
            .check(BindingKind::Read, &toml::from_str("get = []").unwrap())
            .is_err());
        assert!(c
            .check(
                BindingKind::ReadWrite,
                &toml::from_str("get = [\"x\"]").unwrap()
            )
            .is_err());
        assert!(c
            .check(
                BindingKind::Read,
                &toml::from_str("get = [\"x\"]\ntimeout_ms = 0").unwrap()
            )
            .is_err());
        assert!(c
            .check(
                BindingKind::Read,
                &toml::from_str("get = [\"x\"]\ntimeout_ms = 18446744073709551615").unwrap()
            )
            .is_err());
        assert!(c
            .check(
                BindingKind::Read,
                &toml::from_str("get = [\"x\"]\nshell = true").unwrap()
            )
            .is_err());
        assert!(c
            .check(
                BindingKind::Table,
                &toml::from_str("instances = [\"x\"]").unwrap()
            )
            .is_ok());
    }
}
