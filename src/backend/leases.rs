//! `leases`: the DHCP server's lease files — dnsmasq's (`/tmp/dhcp.leases` on OpenWrt,
//! `/var/lib/misc/dnsmasq.leases` on Debian) for DHCPv4, odhcpd's state file
//! (`/tmp/hosts/odhcpd`) for DHCPv6 — as tables of clients and as per-host facts (host name,
//! how the address was obtained, lease time left).
//!
//! The files are read once per operation (from `begin`). Which files: the board's
//! `[handlers.leases]` settings `dnsmasq` and `odhcpd`; a missing file means no leases.
//!
//! dnsmasq writes one lease a line: `<expiry> <mac> <ip> <hostname|*> <client-id|*>`
//! (expiry in Unix seconds, 0 for an infinite lease; DHCPv6 leases follow a `duid` line and
//! are ignored here). odhcpd writes `# <ifname> <duid> <iaid> <hostname|-> <valid-until>
//! <assigned> <length> <address/len>…` per lease, valid-until in Unix seconds, -1 infinite.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// Most bytes read from one lease file.
pub const MAX_FILE: u64 = 1 << 20;
/// Most leases taken from one file.
pub const MAX_LEASES: usize = 4096;

/// One DHCPv4 lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease4 {
    /// Expiry, Unix seconds; `None` for an infinite lease.
    pub expiry: Option<i64>,
    /// Client hardware address, lower case.
    pub mac: String,
    /// Leased address.
    pub ip: Ipv4Addr,
    /// Host name the client sent (option 12), if any.
    pub hostname: Option<String>,
    /// Client identifier (option 61) as hex bytes, if any.
    pub client_id: Option<String>,
}

/// One DHCPv6 lease (IA_NA or IA_PD binding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease6 {
    /// Interface the client is on.
    pub ifname: String,
    /// Client DUID, hex.
    pub duid: String,
    /// IAID, hex.
    pub iaid: String,
    /// Host name, if the client sent one.
    pub hostname: Option<String>,
    /// Valid until, Unix seconds; `None` for infinite.
    pub valid_until: Option<i64>,
    /// Addresses or prefixes, `addr/len`.
    pub addresses: Vec<String>,
}

/// Parses dnsmasq's lease file; malformed lines are skipped.
pub fn parse_dnsmasq(text: &str) -> Vec<Lease4> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // DHCPv6 leases (after the `duid` line) have an IAID where the MAC would be.
        let (Some(exp), Some(mac), Some(ip)) = (f.first(), f.get(1), f.get(2)) else {
            continue;
        };
        let (Ok(exp), Ok(ip)) = (exp.parse::<i64>(), ip.parse::<Ipv4Addr>()) else {
            continue;
        };
        if !is_mac(mac) {
            continue;
        }
        let opt = |s: Option<&&str>| s.filter(|s| **s != "*").map(|s| s.to_string());
        out.push(Lease4 {
            expiry: (exp != 0).then_some(exp),
            mac: mac.to_ascii_lowercase(),
            ip,
            hostname: opt(f.get(3)),
            client_id: opt(f.get(4)).map(|c| c.replace(':', "").to_ascii_lowercase()),
        });
        if out.len() >= MAX_LEASES {
            break;
        }
    }
    out
}

/// Parses odhcpd's state file; host lines (without `#`) and malformed lines are skipped.
pub fn parse_odhcpd(text: &str) -> Vec<Lease6> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# ") else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let (Some(ifname), Some(duid), Some(iaid), Some(host), Some(valid)) =
            (f.first(), f.get(1), f.get(2), f.get(3), f.get(4))
        else {
            continue;
        };
        // DHCPv4 bindings of odhcpd (`ipv4` in the IAID place) are dnsmasq's business here.
        if *iaid == "ipv4" {
            continue;
        }
        let Ok(valid) = valid.parse::<i64>() else {
            continue;
        };
        out.push(Lease6 {
            ifname: ifname.to_string(),
            duid: duid.to_ascii_lowercase(),
            iaid: iaid.to_ascii_lowercase(),
            hostname: (*host != "-").then(|| host.to_string()),
            valid_until: (valid >= 0).then_some(valid),
            addresses: f
                .iter()
                .skip(7)
                .filter(|a| a.contains('/'))
                .map(|a| a.to_string())
                .collect(),
        });
        if out.len() >= MAX_LEASES {
            break;
        }
    }
    out
}

fn is_mac(s: &str) -> bool {
    s.len() == 17
        && s.split(':')
            .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// A TR-106 dateTime for a Unix time; the "infinite" dateTime for `None`.
fn date_time(t: Option<i64>) -> String {
    match t {
        None => "9999-12-31T23:59:59Z".to_string(),
        Some(t) => crate::codec::datetime::format_utc(t),
    }
}

/// Seconds left (never below 0), -1 for infinite.
fn remaining(t: Option<i64>, now: i64) -> String {
    match t {
        None => "-1".to_string(),
        Some(t) => (t - now).max(0).to_string(),
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn read(path: &std::path::Path) -> Result<String, BackendError> {
    match crate::backend::file::read_text(path, MAX_FILE) {
        // No file yet: the server has handed out nothing.
        Err(BackendError::NotFound(_)) => Ok(String::new()),
        other => other,
    }
}

/// The leases handler.
pub struct Leases {
    dnsmasq: PathBuf,
    odhcpd: PathBuf,
    v4: Option<Vec<Lease4>>,
    v6: Option<Vec<Lease6>>,
}

const TABLE_KINDS: [&str; 4] = ["dhcpv4", "dhcpv4_addresses", "dhcpv4_options", "dhcpv6"];
const WHATS: [&str; 5] = ["hostname", "source", "remaining", "expires", "client_id"];

impl Leases {
    /// A handler for the board's `[handlers.leases]` (`dnsmasq`, `odhcpd` file paths).
    pub fn new(settings: Option<&toml::Value>) -> Result<Leases, ArgsError> {
        let mut h = Leases {
            dnsmasq: PathBuf::from("/tmp/dhcp.leases"),
            odhcpd: PathBuf::from("/tmp/hosts/odhcpd"),
            v4: None,
            v6: None,
        };
        if let Some(t) = settings {
            let t = t.as_table().ok_or(ArgsError::Settings(
                "handlers.leases must be a table".into(),
            ))?;
            for (k, v) in t {
                match (k.as_str(), v.as_str()) {
                    ("dnsmasq", Some(p)) => h.dnsmasq = PathBuf::from(p),
                    ("odhcpd", Some(p)) => h.odhcpd = PathBuf::from(p),
                    _ => {
                        return Err(ArgsError::Settings(format!(
                            "handlers.leases.{k}: unknown or not a string"
                        )))
                    }
                }
            }
        }
        Ok(h)
    }

    fn v4(&mut self) -> Result<&[Lease4], BackendError> {
        if self.v4.is_none() {
            self.v4 = Some(parse_dnsmasq(&read(&self.dnsmasq)?));
        }
        Ok(self.v4.as_deref().unwrap_or_default())
    }

    fn v6(&mut self) -> Result<&[Lease6], BackendError> {
        if self.v6.is_none() {
            self.v6 = Some(parse_odhcpd(&read(&self.odhcpd)?));
        }
        Ok(self.v6.as_deref().unwrap_or_default())
    }

    /// The DHCPv4 lease a value binding is about (`mac` or `ip`).
    fn lease4(&mut self, args: &Args) -> Result<Option<Lease4>, BackendError> {
        let mac = args.opt_str("mac")?.map(str::to_ascii_lowercase);
        let ip = args.opt_str("ip")?.map(String::from);
        Ok(self
            .v4()?
            .iter()
            .find(|l| {
                mac.as_deref().is_none_or(|m| m == l.mac)
                    && ip.as_deref().is_none_or(|i| i == l.ip.to_string())
            })
            .cloned())
    }
}

/// `network`/`netmask` arguments as a filter; `None` when absent.
fn subnet(args: &Args) -> Result<Option<(u32, u32)>, BackendError> {
    let (Some(net), Some(mask)) = (args.opt_str("network")?, args.opt_str("netmask")?) else {
        return Ok(None);
    };
    let parse = |s: &str| {
        s.parse::<Ipv4Addr>()
            .map(u32::from)
            .map_err(|_| BackendError::InvalidValue(format!("{s:?} is not an IPv4 address")))
    };
    let mask = match mask.parse::<u32>() {
        Ok(bits) if bits <= 32 => u32::MAX.checked_shl(32 - bits).unwrap_or(0),
        _ => parse(mask)?,
    };
    Ok(Some((parse(net)? & mask, mask)))
}

impl Handler for Leases {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        for (k, v) in args {
            if !v.is_str() {
                return Err(format!("`{k}` must be a string").into());
            }
        }
        match kind {
            BindingKind::Table => {
                for k in args.keys() {
                    if !["kind", "network", "netmask", "mac", "ifname"].contains(&k.as_str()) {
                        return Err(ArgsError::unknown(k));
                    }
                }
                match args.get("kind").and_then(|v| v.as_str()) {
                    Some(k) if TABLE_KINDS.contains(&k) => Ok(()),
                    _ => Err(format!("`kind` must be one of {}", TABLE_KINDS.join(", ")).into()),
                }
            }
            BindingKind::ReadWrite => Err("lease facts are read-only".into()),
            BindingKind::Read => {
                for k in args.keys() {
                    if !["what", "mac", "ip", "default"].contains(&k.as_str()) {
                        return Err(ArgsError::unknown(k));
                    }
                }
                match args.get("what").and_then(|v| v.as_str()) {
                    Some(w) if WHATS.contains(&w) => Ok(()),
                    _ => Err(format!("`what` must be one of {}", WHATS.join(", ")).into()),
                }
            }
        }
    }

    fn begin(&mut self) {
        self.v4 = None;
        self.v6 = None;
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let lease = self.lease4(args)?;
        let what = args.str("what")?;
        let v = match (what, &lease) {
            // TR-181 Hosts.Host.AddressSource: DHCP when the server leased the address.
            ("source", Some(_)) => Some("DHCP".to_string()),
            ("source", None) => Some("Static".to_string()),
            ("hostname", Some(l)) => l.hostname.clone(),
            ("client_id", Some(l)) => l.client_id.clone(),
            ("remaining", Some(l)) => Some(remaining(l.expiry, now())),
            ("expires", Some(l)) => Some(date_time(l.expiry)),
            _ => None,
        };
        match (v, args.opt_str("default")?) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => Ok(d.to_string()),
            (None, None) => Err(BackendError::NotFound(format!("no lease: {what}"))),
        }
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        let now = now();
        match args.str("kind")? {
            "dhcpv4" => {
                let net = match subnet(args) {
                    Ok(n) => n,
                    // The pool's interface has no IPv4 network (PPPoE WAN): no clients.
                    Err(BackendError::InvalidValue(_)) => return Ok(Vec::new()),
                    Err(e) => return Err(e),
                };
                let mut out: Vec<Instance> = Vec::new();
                for l in self.v4()? {
                    if net.is_some_and(|(n, m)| u32::from(l.ip) & m != n) {
                        continue;
                    }
                    // One client a hardware address (TR-181 Client.Chaddr is its key).
                    if out.iter().any(|i| i.key == l.mac) {
                        continue;
                    }
                    out.push(
                        Instance::new(l.mac.clone())
                            .var("mac", l.mac.clone())
                            .var("ip", l.ip.to_string())
                            .var("hostname", l.hostname.clone().unwrap_or_default())
                            .var("remaining", remaining(l.expiry, now))
                            .var("expires", date_time(l.expiry))
                            // TR-181 leaves presence detection to the CPE: a lease that has
                            // not run out.
                            .var("active", l.expiry.is_none_or(|t| t > now).to_string()),
                    );
                }
                Ok(out)
            }
            "dhcpv4_addresses" => Ok(self
                .lease4(args)?
                .map(|l| {
                    vec![Instance::new(l.ip.to_string())
                        .var("ip", l.ip.to_string())
                        .var("expires", date_time(l.expiry))]
                })
                .unwrap_or_default()),
            "dhcpv4_options" => {
                // The options dnsmasq keeps from the client's request: 12 (host name) and
                // 61 (client identifier), as the hex bytes the client sent.
                let Some(l) = self.lease4(args)? else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                if let Some(h) = &l.hostname {
                    out.push(Instance::new("12").var("tag", "12").var("value", hex(h)));
                }
                if let Some(c) = &l.client_id {
                    out.push(Instance::new("61").var("tag", "61").var("value", c.clone()));
                }
                Ok(out)
            }
            "dhcpv6" => {
                let ifname = args.opt_str("ifname")?.map(String::from);
                Ok(self
                    .v6()?
                    .iter()
                    .filter(|l| ifname.as_deref().is_none_or(|i| i == l.ifname))
                    .map(|l| {
                        Instance::new(format!("{}/{}", l.duid, l.iaid))
                            .var("duid", l.duid.clone())
                            .var("iaid", l.iaid.clone())
                            .var("ifname", l.ifname.clone())
                            .var("hostname", l.hostname.clone().unwrap_or_default())
                            .var("addresses", l.addresses.join(","))
                            .var("remaining", remaining(l.valid_until, now))
                            .var("expires", date_time(l.valid_until))
                    })
                    .collect())
            }
            other => Err(BackendError::BadArgs(format!("kind {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openwrt/tmp")
    }

    fn handler() -> Leases {
        let mut t = toml::Table::new();
        for (k, f) in [("dnsmasq", "dhcp.leases"), ("odhcpd", "hosts/odhcpd")] {
            t.insert(
                k.into(),
                toml::Value::String(fixtures().join(f).display().to_string()),
            );
        }
        Leases::new(Some(&toml::Value::Table(t))).unwrap()
    }

    fn args(text: &str) -> Args {
        Args {
            table: toml::from_str(text).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn dnsmasq_leases_parse_with_infinite_and_anonymous_clients() {
        let l = parse_dnsmasq(
            "0 00:11:32:AA:BB:CC 192.168.1.10 nas 01:00:11:32:aa:bb:cc\n\
             1700000000 a4:83:e7:40:50:60 192.168.1.142 * *\n\
             duid 00:01:00:01:2c:5f:1e:0a:3c:22:fb:10:20:30\n\
             1700000000 1f2e3d4c fd00::8a1 laptop 00:01:00:01\n\
             garbage\n",
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].expiry, None);
        assert_eq!(l[0].mac, "00:11:32:aa:bb:cc");
        assert_eq!(l[0].client_id.as_deref(), Some("01001132aabbcc"));
        assert_eq!(
            (l[1].hostname.as_deref(), l[1].client_id.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn odhcpd_state_parses_leases_and_skips_host_lines() {
        let l = parse_odhcpd(
            "# br-lan 0001abcd 1f2e3d4c laptop 1700000000 8a1 128 fd00::8a1/128 2001:db8::8a1/128\n\
             fd00::8a1\tlaptop.lan\tlaptop\n\
             # br-lan 00030001a483 0 - -1 3c7 128 fd00::3c7/128\n\
             # br-lan 01020304 ipv4 phone 1700000000 2 32 192.168.1.2/32\n",
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].addresses, ["fd00::8a1/128", "2001:db8::8a1/128"]);
        assert_eq!((l[1].hostname.clone(), l[1].valid_until), (None, None));
    }

    #[test]
    fn pool_clients_are_the_leases_in_the_pool_network() {
        let mut h = handler();
        let lan = h
            .instances(&args(
                "kind = \"dhcpv4\"\nnetwork = \"192.168.1.1\"\nnetmask = \"255.255.255.0\"",
            ))
            .unwrap();
        let macs: Vec<&str> = lan.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            macs,
            [
                "3c:22:fb:10:20:30",
                "a4:83:e7:40:50:60",
                "00:11:32:aa:bb:cc"
            ]
        );
        assert_eq!(lan[2].vars["remaining"], "-1");
        assert_eq!(lan[2].vars["expires"], "9999-12-31T23:59:59Z");
        assert_eq!(lan[0].vars["expires"], "2100-01-01T00:00:00Z");
        assert_eq!(lan[0].vars["active"], "true");
        let addrs = h
            .instances(&args(
                "kind = \"dhcpv4_addresses\"\nmac = \"00:11:32:aa:bb:cc\"",
            ))
            .unwrap();
        assert_eq!(addrs[0].vars["ip"], "192.168.1.10");
        let none = h
            .instances(&args(
                "kind = \"dhcpv4\"\nnetwork = \"{net_ipaddr}\"\nnetmask = \"{net_netmask}\"",
            ))
            .unwrap();
        assert!(none.is_empty(), "a pool without a network has no clients");
        let guest = h
            .instances(&args(
                "kind = \"dhcpv4\"\nnetwork = \"192.168.3.1\"\nnetmask = \"24\"",
            ))
            .unwrap();
        assert_eq!(guest.len(), 1);
        let opts = h
            .instances(&args(
                "kind = \"dhcpv4_options\"\nmac = \"3c:22:fb:10:20:30\"",
            ))
            .unwrap();
        assert_eq!(opts[0].vars["value"], hex("laptop"));
        assert_eq!(opts[1].vars["value"], "013c22fb102030");
    }

    #[test]
    fn host_facts_come_from_the_lease_of_the_address() {
        let mut h = handler();
        let get = |h: &mut Leases, t: &str| h.get(&args(t));
        assert_eq!(
            get(&mut h, "what = \"hostname\"\nmac = \"3C:22:FB:10:20:30\"").unwrap(),
            "laptop"
        );
        assert_eq!(
            get(&mut h, "what = \"source\"\nip = \"192.168.1.142\"").unwrap(),
            "DHCP"
        );
        assert_eq!(
            get(&mut h, "what = \"source\"\nip = \"192.168.1.7\"").unwrap(),
            "Static"
        );
        assert!(get(&mut h, "what = \"hostname\"\nip = \"192.168.1.142\"").is_err());
        assert_eq!(
            get(
                &mut h,
                "what = \"hostname\"\nip = \"192.168.1.142\"\ndefault = \"\""
            )
            .unwrap(),
            ""
        );
        let v6 = h
            .instances(&args("kind = \"dhcpv6\"\nifname = \"br-lan\""))
            .unwrap();
        assert_eq!(v6.len(), 2);
        assert_eq!(v6[0].vars["hostname"], "laptop");
    }

    #[test]
    fn a_lease_file_over_the_limit_is_refused() {
        let dir = std::env::temp_dir().join(format!("cwmpd-leases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("big");
        std::fs::write(&f, vec![b'\n'; MAX_FILE as usize + 1]).unwrap();
        assert!(matches!(read(&f), Err(BackendError::Limit(_))));
        assert_eq!(read(&dir.join("absent")).unwrap(), "");
        let many: String = (0..MAX_LEASES + 5)
            .map(|n| {
                format!(
                    "0 00:00:00:00:{:02x}:{:02x} 10.0.{}.{} * *\n",
                    n / 256,
                    n % 256,
                    n / 256,
                    n % 256
                )
            })
            .collect();
        assert_eq!(parse_dnsmasq(&many).len(), MAX_LEASES);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
