//! The [`Handler`] calls of the system handler: the `what` argument checked at board load
//! and dispatched to the reads, the host name written, the process table listed.

use super::{kernel, now, os_release, System};
use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::datetime;
use crate::codec::toml;

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

impl Handler for System {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if let Some(k) = args
            .keys()
            .find(|k| !matches!(k.as_str(), "what" | "interface" | "default"))
        {
            return Err(ArgsError::unknown(k));
        }
        let what = args
            .get("what")
            .and_then(|v| v.as_str())
            .ok_or("`what` (a string) is required")?;
        if !WHATS.contains(&what) {
            return Err(format!("unknown `what` {what:?}; one of {}", WHATS.join(", ")).into());
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
                    )
                    .into())
                }
                "oui" | "serial" => {}
                _ => return Err(format!("`default` is for oui and serial, not {what}").into()),
            }
        }
        match (kind, what) {
            (BindingKind::Table, "processes") => Ok(()),
            (BindingKind::Table, _) => Err(format!("{what} is not a table").into()),
            (_, "processes") => Err("processes is a table".into()),
            (BindingKind::ReadWrite, "hostname") | (BindingKind::Read, _) => Ok(()),
            (BindingKind::ReadWrite, _) => Err(format!("{what} cannot be written").into()),
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
            "kernel_log_size" => kernel::log_buffer_size().map(|n| n.to_string()),
            "clock_sync" => kernel::status().map(str::to_string),
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
                .map_err(|e| BackendError::Io(std::io::Error::from(e).to_string()))?),
            other => Err(BackendError::BadArgs(format!("unknown what {other:?}"))),
        }
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        match args.str("what")? {
            "hostname" => nix::unistd::sethostname(value)
                .map_err(|e| BackendError::Io(format!("sethostname: {}", std::io::Error::from(e)))),
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
