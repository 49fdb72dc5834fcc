//! `ethtool`: a network driver's own counters (`ethtool -S`), read with the SIOCETHTOOL
//! ioctl (ETHTOOL_GSSET_INFO for the count, ETHTOOL_GSTRINGS for the names, ETHTOOL_GSTATS
//! for the values), once per interface per operation.
//!
//! Linux's generic counters (sysfs `statistics/`, rtnetlink) have no unicast or broadcast
//! counts and no multicast sent; a driver that counts them names them in its own words
//! (mt7530 `TxUnicast`, qca8k `TXUnicast` …). A binding names the counter, or a list of
//! names of which the first the driver has is read; when the driver has none of them the
//! value is not found, so a binding with `optional = true` leaves the parameter out of that
//! row instead of inventing it. Nothing is derived from other counters.
//!
//! `[handlers.ethtool] dir` reads `<dir>/<ifname>` files in `ethtool -S`'s output format
//! instead of the kernel (counters a vendor program exports; the test fixtures).

use std::collections::HashMap;
use std::path::PathBuf;

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler};
use crate::codec::toml;

/// Most counters read from one interface: no driver has near this many (mt7530 has 40).
pub const MAX_STATS: usize = 4096;

/// Largest `ethtool -S` file read from `dir`.
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// One interface's counters, by the driver's names, in its order.
pub type Stats = Vec<(String, u64)>;

/// The handler, with this operation's counters of each interface read.
#[derive(Default)]
pub struct Ethtool {
    dir: Option<PathBuf>,
    cache: HashMap<String, Box<Result<Stats, BackendError>>>,
}

impl Ethtool {
    /// Reads `[handlers.ethtool]`: `dir` (optional).
    pub fn new(settings: Option<&toml::Value>) -> Result<Ethtool, ArgsError> {
        let mut h = Ethtool::default();
        if let Some(t) = settings {
            let t = t.as_table().ok_or(ArgsError::Settings(
                "handlers.ethtool must be a table".into(),
            ))?;
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    ("dir", Some(s)) => h.dir = Some(PathBuf::from(s)),
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.ethtool.{k}: unknown or not a string"
                        )))
                    }
                }
            }
        }
        Ok(h)
    }

    fn stats(&mut self, ifname: &str) -> Result<&Stats, BackendError> {
        if !self.cache.contains_key(ifname) {
            let r = match &self.dir {
                Some(d) => read_file(&d.join(ifname)),
                None => sys::read(ifname),
            };
            self.cache.insert(ifname.to_string(), Box::new(r));
        }
        match self.cache.get(ifname).map(|r| &**r) {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(e.clone()),
            None => Err(BackendError::NotFound(format!("ethtool {ifname}"))),
        }
    }
}

/// Parses `ethtool -S` output: a heading, then `name: value` lines (names may hold spaces
/// and colons; the value follows the last colon). Other lines are skipped.
pub fn parse(text: &str) -> Result<Stats, BackendError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, value)) = line.rsplit_once(':') else {
            continue;
        };
        let Ok(v) = value.trim().parse::<u64>() else {
            continue;
        };
        if out.len() == MAX_STATS {
            return Err(BackendError::Limit(format!(
                "more than {MAX_STATS} counters"
            )));
        }
        out.push((name.trim().to_string(), v));
    }
    Ok(out)
}

fn read_file(path: &std::path::Path) -> Result<Stats, BackendError> {
    parse(&crate::backend::file::read_text(path, MAX_FILE_BYTES)?)
}

/// The counter of `names` the driver has first, or not found.
pub fn pick(stats: &Stats, names: &[&str]) -> Option<u64> {
    names
        .iter()
        .find_map(|n| stats.iter().find(|(s, _)| s == n).map(|(_, v)| *v))
}

fn names(args: &Args) -> Result<Vec<&str>, BackendError> {
    match args.table.get("stat") {
        Some(toml::Value::String(s)) => Ok(vec![s.as_str()]),
        _ => args.str_list("stat"),
    }
}

impl Handler for Ethtool {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if kind != BindingKind::Read {
            return Err("driver counters are read-only (a value binding without write)".into());
        }
        if let Some(x) = args
            .keys()
            .find(|k| !["ifname", "stat"].contains(&k.as_str()))
        {
            return Err(ArgsError::unknown(x));
        }
        if !args.get("ifname").is_some_and(|v| v.is_str()) {
            return Err("`ifname` (a string) is required".into());
        }
        let ok = match args.get("stat") {
            Some(toml::Value::String(s)) => !s.is_empty(),
            Some(toml::Value::Array(a)) => !a.is_empty() && a.iter().all(|v| v.is_str()),
            _ => false,
        };
        if !ok {
            return Err("`stat`: the driver's counter name, or a list of names".into());
        }
        Ok(())
    }

    fn begin(&mut self) {
        self.cache.clear();
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let ifname = args.str("ifname")?.to_string();
        let want: Vec<String> = names(args)?.into_iter().map(String::from).collect();
        let refs: Vec<&str> = want.iter().map(String::as_str).collect();
        let stats = self.stats(&ifname)?;
        pick(stats, &refs).map(|v| v.to_string()).ok_or_else(|| {
            BackendError::NotFound(format!("{ifname}: no counter {}", want.join("|")))
        })
    }
}

/// The SIOCETHTOOL calls.
mod sys {
    use super::{BackendError, Stats, MAX_STATS};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const ETHTOOL_GSTRINGS: u32 = 0x1b;
    const ETHTOOL_GSTATS: u32 = 0x1d;
    const ETHTOOL_GSSET_INFO: u32 = 0x37;
    const ETH_SS_STATS: u32 = 1;
    const ETH_GSTRING_LEN: usize = 32;

    /// `struct ifreq` with `ifr_data`, padded past the kernel's size (40 bytes at most).
    #[repr(C)]
    struct IfReq {
        name: [u8; 16],
        data: *mut libc::c_void,
        _pad: [u8; 24],
    }

    /// `struct ethtool_sset_info` asking for one set.
    #[repr(C)]
    struct SsetInfo {
        cmd: u32,
        reserved: u32,
        mask: u64,
        data: [u32; 2],
    }

    fn call(fd: &OwnedFd, ifname: &str, buf: *mut libc::c_void) -> Result<(), BackendError> {
        let mut req = IfReq {
            name: [0; 16],
            data: buf,
            _pad: [0; 24],
        };
        let b = ifname.as_bytes();
        if b.is_empty() || b.len() > 15 {
            return Err(BackendError::NotFound(format!("interface {ifname:?}")));
        }
        req.name[..b.len()].copy_from_slice(b);
        // SAFETY: `req` is a valid ifreq whose data points at a buffer the caller sized for
        // the command it holds; the kernel writes no further than the counts in it.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL as _, &mut req) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                // No such interface, a driver without counters, or no SIOCETHTOOL at all
                // (qemu-user answers ENOSYS): the counter is not there.
                Some(libc::ENODEV | libc::EOPNOTSUPP | libc::ENOSYS | libc::ENOTTY) => {
                    BackendError::NotFound(format!("ethtool {ifname}: {e}"))
                }
                _ => BackendError::Io(format!("ethtool {ifname}: {e}")),
            });
        }
        Ok(())
    }

    /// The driver's counters of `ifname` (none: an empty list).
    pub fn read(ifname: &str) -> Result<Stats, BackendError> {
        // SAFETY: a plain socket call; the descriptor is owned at once.
        let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(BackendError::Io(format!(
                "socket: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let mask = 1u64 << ETH_SS_STATS;
        let mut info = SsetInfo {
            cmd: ETHTOOL_GSSET_INFO,
            reserved: 0,
            mask,
            data: [0; 2],
        };
        call(&fd, ifname, (&mut info as *mut SsetInfo).cast())?;
        if info.mask & mask == 0 {
            return Ok(Vec::new());
        }
        let n = info.data[0] as usize;
        if n == 0 {
            return Ok(Vec::new());
        }
        if n > MAX_STATS {
            return Err(BackendError::Limit(format!(
                "ethtool {ifname}: {n} counters, at most {MAX_STATS}"
            )));
        }

        // ethtool_gstrings: cmd, string_set, len, then len names of 32 bytes.
        let mut strings = vec![0u32; 3 + n * ETH_GSTRING_LEN / 4];
        strings[0] = ETHTOOL_GSTRINGS;
        strings[1] = ETH_SS_STATS;
        strings[2] = n as u32;
        call(&fd, ifname, strings.as_mut_ptr().cast())?;
        // ethtool_stats: cmd, n_stats, then n u64 values (8-byte aligned after the header).
        let mut values = vec![0u64; 1 + n];
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&ETHTOOL_GSTATS.to_ne_bytes());
        head[4..].copy_from_slice(&(n as u32).to_ne_bytes());
        values[0] = u64::from_ne_bytes(head);
        call(&fd, ifname, values.as_mut_ptr().cast())?;
        // The driver may report fewer than it announced (a port going away): trust the
        // smaller count.
        let len = (strings[2] as usize).min(n);
        let bytes: Vec<u8> = strings[3..].iter().flat_map(|w| w.to_ne_bytes()).collect();
        let mut out = Vec::with_capacity(len);
        for (i, chunk) in bytes.chunks(ETH_GSTRING_LEN).take(len).enumerate() {
            let end = chunk.iter().position(|&c| c == 0).unwrap_or(chunk.len());
            let name = String::from_utf8_lossy(&chunk[..end]).into_owned();
            let v = values.get(1 + i).copied().unwrap_or(0);
            out.push((name, v));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Args {
        Args {
            table: toml::parse(text).unwrap(),
            path: String::new(),
        }
    }

    const MT7530: &str = "NIC statistics:\n     tx_packets: 1520\n     tx_bytes: 190112\n     \
                          TxUnicast: 1204\n     TxMulticast: 290\n     TxBroadcast: 26\n     \
                          RxUnicast: 1800\n     RxBroadcast: 41\n";

    #[test]
    fn parses_ethtool_s_output_and_skips_other_lines() {
        let s = parse(MT7530).unwrap();
        assert_eq!(s.len(), 7);
        assert_eq!(s[2], ("TxUnicast".to_string(), 1204));
        let odd = parse("x\n  a: b: 7\n  bad: -1\n  big: 18446744073709551615\n").unwrap();
        assert_eq!(
            odd,
            [("a: b".to_string(), 7), ("big".to_string(), u64::MAX)]
        );
    }

    #[test]
    fn refuses_more_counters_than_the_limit() {
        let text: String = (0..=MAX_STATS).map(|i| format!("c{i}: 1\n")).collect();
        assert!(matches!(parse(&text), Err(BackendError::Limit(_))));
    }

    #[test]
    fn the_first_name_the_driver_has_is_read_and_none_is_not_found() {
        let dir = std::env::temp_dir().join(format!("cwmpd-ethtool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("lan1"), MT7530).unwrap();
        let mut settings = toml::Table::new();
        settings.insert("dir".into(), toml::Value::String(dir.display().to_string()));
        let mut h = Ethtool::new(Some(&toml::Value::Table(settings))).unwrap();
        h.begin();
        let a = args("ifname = \"lan1\"\nstat = [\"TXUnicast\", \"TxUnicast\"]\n");
        assert_eq!(h.get(&a).unwrap(), "1204");
        let a = args("ifname = \"lan1\"\nstat = \"RxMulticast\"\n");
        assert!(matches!(h.get(&a), Err(BackendError::NotFound(_))));
        let a = args("ifname = \"lan9\"\nstat = \"TxUnicast\"\n");
        assert!(matches!(h.get(&a), Err(BackendError::NotFound(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn checks_its_arguments() {
        let h = Ethtool::default();
        let t = |s: &str| toml::parse(s).unwrap();
        assert!(h
            .check(BindingKind::Read, &t("ifname = \"a\"\nstat = \"x\"\n"))
            .is_ok());
        assert!(h
            .check(BindingKind::Read, &t("ifname = \"a\"\nstat = []\n"))
            .is_err());
        assert!(h
            .check(BindingKind::ReadWrite, &t("ifname = \"a\"\nstat = \"x\"\n"))
            .is_err());
        assert!(h
            .check(
                BindingKind::Read,
                &t("ifname = \"a\"\nstat = \"x\"\nfoo = 1\n")
            )
            .is_err());
        assert!(Ethtool::new(Some(&toml::Value::String("x".into()))).is_err());
    }

    #[test]
    fn an_interface_that_does_not_exist_is_not_found() {
        assert!(matches!(
            sys::read("nosuchif0"),
            Err(BackendError::NotFound(_))
        ));
        assert!(matches!(sys::read(""), Err(BackendError::NotFound(_))));
    }
}
