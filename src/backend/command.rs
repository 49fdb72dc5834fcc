//! `command`: values from a program's output and writes through a program — argv only,
//! never a shell — with a timeout and an output cap; and tables whose instances are the
//! lines a program prints (vars `line`, `f0`, `f1` … for its whitespace fields).

use std::io::Read;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use crate::backend::text;
use crate::backend::{Args, BackendError, BindingKind, Handler, Instance};
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
        String::from_utf8_lossy(&self.stderr[..self.stderr.len().min(200)])
            .trim()
            .to_string()
    }
}

/// Runs argv with `input` on its standard input (else none), a timeout and at most
/// `max_output` bytes of standard output (more is an error). A non-zero exit is not an error
/// here: the caller reads [`Finished::status`].
pub fn exec(
    argv: &[&str],
    input: Option<&[u8]>,
    timeout: Duration,
    max_output: usize,
) -> Result<Finished, BackendError> {
    let (prog, rest) = argv
        .split_first()
        .ok_or_else(|| BackendError::BadArgs("empty argv".into()))?;
    let mut child = Process::new(prog)
        .args(rest)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BackendError::Command(format!("{prog}: {e}")))?;
    if let (Some(data), Some(mut pipe)) = (input, child.stdin.take()) {
        // Small inputs (a password line) fit the pipe; the pipe closes when dropped here.
        use std::io::Write;
        if let Err(e) = pipe.write_all(data) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(BackendError::Command(format!(
                "{prog}: writing its input: {e}"
            )));
        }
    }
    // Readers on their own threads so a chatty child cannot block on a full pipe.
    let reader = |pipe: Option<Box<dyn Read + Send>>, cap: usize| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(cap as u64 + 1).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        max_output,
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        MAX_OUTPUT,
    );
    let status = match wait_bounded(&mut child, timeout, Duration::from_millis(2), || false) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(BackendError::Command(format!(
                "{prog}: timed out after {} ms",
                timeout.as_millis()
            )))
        }
        Err(e) => return Err(BackendError::Command(format!("{prog}: {e}"))),
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if stdout.len() > max_output {
        return Err(BackendError::Limit(format!(
            "{prog}: more than {max_output} bytes of output"
        )));
    }
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// Runs argv with a timeout; returns stdout. Non-zero exit, timeout, or more output than
/// [`MAX_OUTPUT`] are errors.
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

fn check_argv(args: &toml::Table, key: &str) -> Result<(), String> {
    match args.get(key) {
        Some(toml::Value::Array(a)) if !a.is_empty() && a.iter().all(|v| v.is_str()) => Ok(()),
        _ => Err(format!("`{key}` (a non-empty list of strings) is required")),
    }
}

impl Handler for Command {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), String> {
        for k in args.keys() {
            if !["get", "set", "instances", "timeout_ms"].contains(&k.as_str())
                && !text::RULE_KEYS.contains(&k.as_str())
            {
                return Err(format!("unknown argument `{k}`"));
            }
        }
        if args.get("timeout_ms").is_some_and(|v| {
            !v.as_integer()
                .is_some_and(|i| i > 0 && i as u64 <= MAX_TIMEOUT_MS)
        }) {
            return Err(format!("`timeout_ms` must be 1..={MAX_TIMEOUT_MS}"));
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
