//! `system`: Linux facts that need a little computation — uptime, memory, CPU usage, clock,
//! its synchronisation (`clock_sync`) and time zone, the kernel log's size
//! (`kernel_log_size`; these two from [`crate::backend::kernel`]), identity (serial number,
//! OUI), kernel and OS names, host name — and the process table. `/proc`,
//! `/sys` and `/etc` are constructor arguments so tests can point them at a fake tree.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::backend::{Args, BackendError, BindingKind, Handler, Instance};
use crate::codec::datetime;
use crate::codec::toml;

/// Most processes listed.
pub const MAX_PROCESSES: usize = 4096;

const WHATS: [&str; 16] = [
    "uptime",
    "clock_sync",
    "kernel_log_size",
    "now",
    "localtime_zone",
    "memory_total",
    "memory_free",
    "cpu_usage",
    "process_count",
    "serial",
    "oui",
    "kernel",
    "os",
    "hostname",
    "machine",
    "processes",
];

/// The system handler.
pub struct System {
    proc_root: PathBuf,
    sys_root: PathBuf,
    etc_root: PathBuf,
    /// Samples of (when, busy jiffies, total jiffies), oldest first, for CPUUsage's window.
    cpu_samples: std::collections::VecDeque<(Instant, u64, u64)>,
    clk_tck: u64,
}

/// CPUUsage is the share of the CPU busy over about this long before the read (TR-181: "the
/// CPU usage … over the last period"; back-to-back reads agree instead of reading 0).
pub const CPU_WINDOW: Duration = Duration::from_secs(10);
/// Samples older than this are not kept.
const CPU_KEEP: Duration = Duration::from_secs(60);

impl System {
    /// A handler reading the given roots (`/proc`, `/sys`, `/etc` on a real system).
    pub fn new(proc_root: &Path, sys_root: &Path, etc_root: &Path) -> System {
        let clk_tck = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|v| *v > 0)
            .unwrap_or(100) as u64;
        System {
            proc_root: proc_root.into(),
            sys_root: sys_root.into(),
            etc_root: etc_root.into(),
            cpu_samples: std::collections::VecDeque::new(),
            clk_tck,
        }
    }

    fn read(&self, root: &Path, rel: &str) -> Result<String, BackendError> {
        let p = root.join(rel);
        std::fs::read_to_string(&p)
            .map_err(|e| BackendError::NotFound(format!("{}: {e}", p.display())))
    }

    fn meminfo(&self, key: &str) -> Result<String, BackendError> {
        let text = self.read(&self.proc_root, "meminfo")?;
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|r| r.split_whitespace().next().map(str::to_string))
            })
            .ok_or_else(|| BackendError::NotFound(format!("meminfo {key}")))
    }

    fn cpu_usage(&mut self) -> Result<String, BackendError> {
        let stat = self.read(&self.proc_root, "stat")?;
        let line = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .ok_or_else(|| BackendError::NotFound("cpu line".into()))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let total: u64 = v.iter().sum();
        // idle + iowait are not busy.
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        let busy = total.saturating_sub(idle);
        Ok(self
            .cpu_over_window(Instant::now(), busy, total)
            .to_string())
    }

    /// The busy share (%) from the newest sample at least [`CPU_WINDOW`] old (the oldest one
    /// kept when none is that old yet; since boot when there is none, or no time passed) to
    /// this one, which is kept for later reads.
    fn cpu_over_window(&mut self, now: Instant, busy: u64, total: u64) -> u64 {
        self.cpu_samples
            .retain(|(t, _, _)| now.saturating_duration_since(*t) <= CPU_KEEP);
        let base = self
            .cpu_samples
            .iter()
            .rev()
            .find(|(t, _, _)| now.saturating_duration_since(*t) >= CPU_WINDOW)
            .or(self.cpu_samples.front())
            .map(|&(_, b, t)| (b, t))
            .filter(|&(_, t)| t < total)
            .unwrap_or((0, 0));
        if self
            .cpu_samples
            .back()
            .is_none_or(|(t, _, _)| now.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            self.cpu_samples.push_back((now, busy, total));
        }
        (busy.saturating_sub(base.0) * 100)
            .checked_div(total.saturating_sub(base.1))
            .unwrap_or(0)
            .min(100)
    }

    /// The MAC address the device is known by: of `interface` when the board names one,
    /// else of the first physical interface (one with a device behind it, so not a bridge,
    /// veth or `docker0` that may come and go) whose address is universally administered (an
    /// IEEE OUI: a locally administered `02:…` is not one), by name.
    fn identity_mac(&self, interface: Option<&str>) -> Result<String, BackendError> {
        let net = self.sys_root.join("class/net");
        let mac = |n: &str| {
            std::fs::read_to_string(net.join(n).join("address"))
                .ok()
                .map(|m| m.trim().to_ascii_uppercase())
        };
        let universal = |m: &str| {
            m.len() == 17
                && m != "00:00:00:00:00:00"
                && u8::from_str_radix(m.get(..2).unwrap_or("02"), 16).is_ok_and(|b| b & 3 == 0)
        };
        if let Some(n) = interface {
            return mac(n).filter(|m| universal(m)).ok_or_else(|| {
                BackendError::NotFound(format!("{n} has no universally administered MAC"))
            });
        }
        let mut names: Vec<String> = std::fs::read_dir(&net)
            .map_err(|e| BackendError::NotFound(format!("{}: {e}", net.display())))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| net.join(n).join("device").exists())
            .collect();
        names.sort();
        names
            .iter()
            .filter_map(|n| mac(n))
            .find(|m| universal(m))
            .ok_or_else(|| {
                BackendError::NotFound(
                    "no physical interface with a universally administered MAC (an IEEE OUI): \
                     name one, or bind the value to the device's own"
                        .into(),
                )
            })
    }

    fn localtime_zone(&self) -> Result<String, BackendError> {
        // OpenWrt keeps the POSIX TZ string in /etc/TZ; glibc systems end /etc/localtime
        // (TZif v2+) with it as a footer line.
        if let Ok(tz) = self.read(&self.etc_root, "TZ") {
            return Ok(tz.trim().to_string());
        }
        let bytes = std::fs::read(self.etc_root.join("localtime"))
            .map_err(|e| BackendError::NotFound(format!("localtime: {e}")))?;
        let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let footer = body.rsplit(|&b| b == b'\n').next().unwrap_or(b"");
        match std::str::from_utf8(footer) {
            Ok(s) if !s.is_empty() && s.len() < 64 && s.chars().all(|c| c.is_ascii_graphic()) => {
                Ok(s.to_string())
            }
            _ => Err(BackendError::NotFound(
                "no POSIX TZ footer in /etc/localtime".into(),
            )),
        }
    }

    fn processes(&self) -> Result<Vec<Instance>, BackendError> {
        let rd = std::fs::read_dir(&self.proc_root)
            .map_err(|e| BackendError::NotFound(format!("proc: {e}")))?;
        let mut out = Vec::new();
        for e in rd.flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            // A process may exit while we read it: skip it quietly.
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let Some(inst) = self.process(&pid, &stat, &e.path()) else {
                continue;
            };
            if out.len() >= MAX_PROCESSES {
                return Err(BackendError::Limit(format!(
                    "more than {MAX_PROCESSES} processes"
                )));
            }
            out.push(inst);
        }
        out.sort_by_key(|i: &Instance| i.key.parse::<u64>().unwrap_or(0));
        Ok(out)
    }

    fn process(&self, pid: &str, stat: &str, dir: &Path) -> Option<Instance> {
        // pid (comm) state ppid … — comm may contain spaces and parentheses.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?;
        let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        let state = match rest.first()?.chars().next()? {
            'R' => "Running",
            'S' => "Sleeping",
            'T' | 't' => "Stopped",
            'I' => "Idle",
            'D' => "Uninterruptible",
            'Z' | 'X' | 'x' => "Zombie",
            _ => "Sleeping",
        };
        // Fields after comm: state is index 0, utime 11, stime 12, priority 15.
        let num = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let cputime_ms = (num(11).max(0) + num(12).max(0)) as u64 * 1000 / self.clk_tck;
        let priority = num(15).clamp(0, 99);
        let size = std::fs::read_to_string(dir.join("status"))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("VmRSS:")
                        .and_then(|r| r.split_whitespace().next().map(str::to_string))
                })
            })
            .unwrap_or_else(|| "0".into());
        Some(
            Instance::new(pid)
                .var("pid", pid)
                .var("command", comm.chars().take(256).collect::<String>())
                .var("size", size)
                .var("priority", priority.to_string())
                .var("cputime", cputime_ms.to_string())
                .var("state", state),
        )
    }
}

fn os_release(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix("PRETTY_NAME=")
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Handler for System {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), String> {
        if let Some(k) = args
            .keys()
            .find(|k| !matches!(k.as_str(), "what" | "interface" | "default"))
        {
            return Err(format!("unknown argument `{k}`"));
        }
        let what = args
            .get("what")
            .and_then(|v| v.as_str())
            .ok_or("`what` (a string) is required")?;
        if !WHATS.contains(&what) {
            return Err(format!(
                "unknown `what` {what:?}; one of {}",
                WHATS.join(", ")
            ));
        }
        if let Some(d) = args.get("default") {
            let d = d.as_str().ok_or("`default` must be a string")?;
            match what {
                "oui"
                    if d.len() != 6
                        || !d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')) =>
                {
                    return Err(format!(
                        "`default` {d:?} is not an OUI (six upper-case hexadecimal digits)"
                    ))
                }
                "oui" | "serial" => {}
                _ => return Err(format!("`default` is for oui and serial, not {what}")),
            }
        }
        match (kind, what) {
            (BindingKind::Table, "processes") => Ok(()),
            (BindingKind::Table, _) => Err(format!("{what} is not a table")),
            (_, "processes") => Err("processes is a table".into()),
            (BindingKind::ReadWrite, "hostname") | (BindingKind::Read, _) => Ok(()),
            (BindingKind::ReadWrite, _) => Err(format!("{what} cannot be written")),
        }
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let what = args.str("what")?;
        match what {
            "uptime" => {
                let t = self.read(&self.proc_root, "uptime")?;
                let secs = t.split(['.', ' ']).next().unwrap_or("");
                secs.parse::<u64>()
                    .map(|s| s.to_string())
                    .map_err(|_| BackendError::InvalidValue(t.clone()))
            }
            "now" => Ok(datetime::format_utc(now())),
            "kernel_log_size" => crate::backend::kernel::log_buffer_size().map(|n| n.to_string()),
            "clock_sync" => crate::backend::kernel::status().map(str::to_string),
            "localtime_zone" => self.localtime_zone(),
            "memory_total" => self.meminfo("MemTotal"),
            "memory_free" => self
                .meminfo("MemAvailable")
                .or_else(|_| self.meminfo("MemFree")),
            "cpu_usage" => self.cpu_usage(),
            "process_count" => Ok(self.processes()?.len().to_string()),
            "serial" => match self.read(&self.etc_root, "machine-id") {
                Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
                _ => match self.identity_mac(args.opt_str("interface")?) {
                    Ok(mac) => Ok(mac.replace(':', "")),
                    Err(e) => args.opt_str("default")?.map(str::to_string).ok_or(e),
                },
            },
            "oui" => match self.identity_mac(args.opt_str("interface")?) {
                Ok(mac) => Ok(mac.replace(':', "").chars().take(6).collect()),
                Err(e) => args.opt_str("default")?.map(str::to_string).ok_or(e),
            },
            "kernel" => Ok(self
                .read(&self.proc_root, "sys/kernel/osrelease")?
                .trim()
                .to_string()),
            "os" => os_release(&self.read(&self.etc_root, "os-release")?)
                .ok_or_else(|| BackendError::NotFound("PRETTY_NAME".into())),
            "hostname" => Ok(self
                .read(&self.proc_root, "sys/kernel/hostname")?
                .trim()
                .to_string()),
            "machine" => Ok(nix::sys::utsname::uname()
                .map(|u| u.machine().to_string_lossy().into_owned())
                .map_err(|e| BackendError::Io(e.to_string()))?),
            other => Err(BackendError::BadArgs(format!("unknown what {other:?}"))),
        }
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        match args.str("what")? {
            "hostname" => nix::unistd::sethostname(value)
                .map_err(|e| BackendError::Io(format!("sethostname: {e}"))),
            other => Err(BackendError::BadArgs(format!("{other} cannot be written"))),
        }
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        match args.str("what")? {
            "processes" => self.processes(),
            other => Err(BackendError::BadArgs(format!("{other} is not a table"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    fn a(what: &str) -> Args {
        Args {
            table: toml::from_str(&format!("what = \"{what}\"")).unwrap(),
            path: String::new(),
        }
    }

    /// A fake /proc, /sys and /etc; each test its own (tests run in parallel threads).
    fn fake(tag: &str) -> (PathBuf, System) {
        let d = std::env::temp_dir().join(format!("cwmpd-system-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let w = |p: &str, s: &str| {
            let f = d.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, s).unwrap();
        };
        w("proc/uptime", "1565.26 3064.16\n");
        w(
            "proc/meminfo",
            "MemTotal:       16318412 kB\nMemFree:         100 kB\nMemAvailable:    2000 kB\n",
        );
        w(
            "proc/stat",
            "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n",
        );
        w("proc/sys/kernel/osrelease", "6.1.0-test\n");
        w("proc/sys/kernel/hostname", "router\n");
        w(
            "proc/42/stat",
            "42 (my (odd) proc) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 50\n",
        );
        w("proc/42/status", "Name:\tx\nVmRSS:\t  1234 kB\n");
        w(
            "proc/7/stat",
            "7 (zed) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 39 19 1 0 1 0 0\n",
        );
        w("sys/class/net/lo/address", "00:00:00:00:00:00\n");
        w("sys/class/net/eth0/address", "02:fc:00:00:00:01\n");
        w("etc/os-release", "NAME=\"X\"\nPRETTY_NAME=\"Test OS 1\"\n");
        w(
            "etc/localtime",
            "TZif2....binary....\nCET-1CEST,M3.5.0,M10.5.0/3\n",
        );
        let s = System::new(&d.join("proc"), &d.join("sys"), &d.join("etc"));
        (d, s)
    }

    #[test]
    fn every_value_from_a_fake_tree() {
        let (d, mut s) = fake("values");
        assert_eq!(s.get(&a("uptime")).unwrap(), "1565");
        assert_eq!(s.get(&a("memory_total")).unwrap(), "16318412");
        assert_eq!(s.get(&a("memory_free")).unwrap(), "2000");
        assert_eq!(
            s.get(&a("cpu_usage")).unwrap(),
            "20",
            "busy 200 of 1000 since boot"
        );
        std::fs::write(d.join("proc/stat"), "cpu  200 0 200 700 100 0 0 0 0 0\n").unwrap();
        assert_eq!(
            s.get(&a("cpu_usage")).unwrap(),
            "100",
            "all new jiffies busy since the first read"
        );
        assert_eq!(
            s.get(&a("cpu_usage")).unwrap(),
            "100",
            "a read right after reads the same window, not 0"
        );
        assert_eq!(s.get(&a("kernel")).unwrap(), "6.1.0-test");
        assert_eq!(s.get(&a("hostname")).unwrap(), "router");
        assert_eq!(s.get(&a("os")).unwrap(), "Test OS 1");
        // eth0's 02:… is locally administered, and it has no device: no OUI.
        assert!(matches!(s.get(&a("oui")), Err(BackendError::NotFound(_))));
        let with_default = Args {
            table: toml::from_str("what = \"oui\"\ndefault = \"FFFFFF\"").unwrap(),
            path: String::new(),
        };
        assert_eq!(
            s.get(&with_default).unwrap(),
            "FFFFFF",
            "no OUI: the board's default"
        );
        assert!(
            s.check(
                BindingKind::Read,
                &toml::from_str("what = \"oui\"\ndefault = \"ffffff\"").unwrap()
            )
            .is_err(),
            "a default that is not an OUI is refused"
        );
        std::fs::write(d.join("sys/class/net/eth0/address"), "00:11:22:33:44:55\n").unwrap();
        assert!(
            matches!(s.get(&a("oui")), Err(BackendError::NotFound(_))),
            "a virtual interface's MAC may come and go"
        );
        std::fs::create_dir_all(d.join("sys/class/net/eth0/device")).unwrap();
        assert_eq!(s.get(&a("oui")).unwrap(), "001122");
        assert_eq!(
            s.get(&with_default).unwrap(),
            "001122",
            "the device's own OUI first"
        );
        assert_eq!(
            s.get(&a("serial")).unwrap(),
            "001122334455",
            "no machine-id: MAC"
        );
        std::fs::write(d.join("etc/machine-id"), "abc123\n").unwrap();
        assert_eq!(s.get(&a("serial")).unwrap(), "abc123");
        assert_eq!(
            s.get(&a("localtime_zone")).unwrap(),
            "CET-1CEST,M3.5.0,M10.5.0/3"
        );
        std::fs::write(d.join("etc/TZ"), "UTC0\n").unwrap();
        assert_eq!(s.get(&a("localtime_zone")).unwrap(), "UTC0");
        assert!(datetime::parse(&s.get(&a("now")).unwrap()).is_some());
        assert_eq!(s.get(&a("process_count")).unwrap(), "2");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn processes_parse_odd_names_and_states() {
        let (d, mut s) = fake("processes");
        s.clk_tck = 100;
        let t = Args {
            table: toml::from_str("what = \"processes\"").unwrap(),
            path: String::new(),
        };
        let p = s.instances(&t).unwrap();
        assert_eq!(
            p.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
            ["7", "42"]
        );
        let v = &p[1].vars;
        assert_eq!(v["command"], "my (odd) proc");
        assert_eq!(v["state"], "Sleeping");
        assert_eq!(v["cputime"], "3000");
        assert_eq!(v["priority"], "20");
        assert_eq!(v["size"], "1234");
        assert_eq!(p[0].vars["state"], "Zombie");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn process_table_is_capped() {
        let (d, mut s) = fake("many");
        let stat = "1 (p) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n";
        for pid in 1000..1000 + MAX_PROCESSES - 2 {
            let p = d.join("proc").join(pid.to_string());
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("stat"), stat).unwrap();
        }
        let t = Args {
            table: toml::from_str("what = \"processes\"").unwrap(),
            path: String::new(),
        };
        assert_eq!(
            s.instances(&t).unwrap().len(),
            MAX_PROCESSES,
            "7, 42 and the rest"
        );
        let p = d.join("proc").join("99999");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("stat"), stat).unwrap();
        assert!(matches!(s.instances(&t), Err(BackendError::Limit(_))));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn real_system_values() {
        let mut s = System::new(Path::new("/proc"), Path::new("/sys"), Path::new("/etc"));
        assert!(s.get(&a("uptime")).unwrap().parse::<u64>().is_ok());
        let t = Args {
            table: toml::from_str("what = \"processes\"").unwrap(),
            path: String::new(),
        };
        let me = std::process::id().to_string();
        assert!(s.instances(&t).unwrap().iter().any(|i| i.key == me));
    }

    #[test]
    fn arguments_are_checked() {
        let s = System::new(Path::new("/proc"), Path::new("/sys"), Path::new("/etc"));
        let t = |x: &str| toml::from_str(x).unwrap();
        assert!(s.check(BindingKind::Read, &t("what = \"uptime\"")).is_ok());
        assert!(s.check(BindingKind::Read, &t("what = \"nope\"")).is_err());
        assert!(s
            .check(BindingKind::ReadWrite, &t("what = \"uptime\""))
            .is_err());
        assert!(s
            .check(BindingKind::ReadWrite, &t("what = \"hostname\""))
            .is_ok());
        assert!(s
            .check(BindingKind::Table, &t("what = \"processes\""))
            .is_ok());
        assert!(s
            .check(BindingKind::Table, &t("what = \"uptime\""))
            .is_err());
        assert!(s
            .check(BindingKind::Read, &t("what = \"processes\""))
            .is_err());
        assert!(s
            .check(BindingKind::Read, &t("what = \"uptime\"\nx = 1"))
            .is_err());
    }
}

#[cfg(test)]
mod window {
    use super::*;

    #[test]
    fn cpu_usage_is_measured_over_a_fixed_recent_window() {
        let mut s = System::new(Path::new("/p"), Path::new("/s"), Path::new("/e"));
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        // Busy jiffies of 1000 per 10 s: 50 % in the first 20 s, then idle.
        assert_eq!(s.cpu_over_window(at(0), 500, 1000), 50, "since boot");
        assert_eq!(s.cpu_over_window(at(10), 1000, 2000), 50);
        assert_eq!(s.cpu_over_window(at(20), 1500, 3000), 50);
        assert_eq!(
            s.cpu_over_window(at(30), 1500, 4000),
            0,
            "the last 10 s were idle"
        );
        assert_eq!(
            s.cpu_over_window(at(30), 1500, 4000),
            0,
            "back to back: the same window"
        );
        // A read after a long pause measures from the newest sample at least 10 s old.
        assert_eq!(
            s.cpu_over_window(at(45), 2000, 5000),
            50,
            "from the sample at 30 s"
        );
        // Samples older than a minute are dropped: after a long silence, since boot.
        assert_eq!(s.cpu_over_window(at(200), 2000, 6000), 33);
        assert!(s.cpu_samples.len() <= 2);
    }
}
