//! What OpenWrt's dnsmasq init script derives from a `dhcp` pool section: the address range
//! (`start` and `limit` are offsets from the interface's network: `pool = "min" | "max"`)
//! and the options it sends (`list dhcp_option '6,192.168.1.1'`: `tagged = "6"` reads and
//! writes the value of one option code, with the binding's `default` for what dnsmasq sends
//! when the pool names none, or `default_from = "<section>.<option>"` of the same package:
//! the domain dnsmasq sends is its own `domain`).

use super::Uci;
use crate::backend::{Args, ArgsError, BackendError, BindingKind};
use crate::codec::toml;

/// Arguments of the bindings of this module.
pub const VALUE_KEYS: [&str; 5] = ["pool", "network", "netmask", "tagged", "default_from"];

/// dnsmasq.init's defaults for a pool's `start` and `limit`.
const START: u32 = 100;
const LIMIT: u32 = 150;

/// Checks a binding of this module; `None` when it is not one.
pub fn check(kind: BindingKind, args: &toml::Table) -> Option<Result<(), ArgsError>> {
    let is_str = |k: &str| args.get(k).is_some_and(|v| v.is_str());
    if kind == BindingKind::Table {
        return None;
    }
    if args.contains_key("pool") {
        let ok = matches!(
            args.get("pool").and_then(|v| v.as_str()),
            Some("min" | "max")
        ) && is_str("network")
            && is_str("netmask")
            && is_str("section");
        return Some(if ok {
            Ok(())
        } else {
            Err("`pool` (\"min\" | \"max\") needs `section`, `network` and `netmask`".into())
        });
    }
    if args.contains_key("tagged") {
        let ok = args
            .get("tagged")
            .and_then(|v| v.as_str())
            .is_some_and(|t| t.parse::<u8>().is_ok())
            && args
                .get("default_from")
                .is_none_or(|v| v.as_str().is_some_and(|s| s.contains('.')));
        return Some(if ok {
            Ok(())
        } else {
            Err("`tagged` must be a DHCP option code (a string: \"6\")".into())
        });
    }
    ["network", "netmask", "default_from"]
        .iter()
        .find(|k| args.contains_key(**k))
        .map(|k| Err(format!("`{k}` needs `pool` or `tagged`").into()))
}

fn ipv4(s: &str) -> Result<u32, BackendError> {
    super::ipv4(s)
        .ok_or_else(|| BackendError::InvalidValue(format!("{s:?} is not an IPv4 address")))
}

/// A pool's network, its broadcast address, and its `start` and `limit`.
fn range(uci: &mut Uci, args: &Args) -> Result<(String, String, u32, u32, u32, u32), BackendError> {
    let (pkg, id) = uci.section_id(args)?;
    let net = args.str("network")?;
    // dnsmasq.init: the pool's own `netmask` overrides the interface's.
    let own = uci.doc(&pkg)?.option(&id, "netmask");
    let m = super::mask(own.as_deref().unwrap_or(args.str("netmask")?))
        .ok_or_else(|| BackendError::NotFound("the pool's interface has no netmask".into()))?;
    let base = super::ipv4(net)
        .ok_or_else(|| BackendError::NotFound("the pool's interface has no address".into()))?
        & m;
    let d = uci.doc(&pkg)?;
    let num = |o: &str, dflt: u32| -> Result<u32, BackendError> {
        match d.option(&id, o) {
            None => Ok(dflt),
            Some(v) => v.parse().map_err(|_| {
                BackendError::InvalidValue(format!("{pkg}.{id}.{o} = {v:?} is not a number"))
            }),
        }
    };
    let (start, limit) = (num("start", START)?, num("limit", LIMIT)?);
    Ok((pkg, id, base, base | !m, start, limit))
}

/// A value written as raw bytes (`c0:a8:01:01`, the Option table's form) in the form of the
/// parameter: addresses for routers and DNS servers (3, 6), text otherwise.
fn readable(tag: &str, v: String) -> String {
    let bytes: Option<Vec<u8>> = v
        .split(':')
        .map(|b| {
            (b.len() == 2)
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect();
    match bytes {
        Some(b) if v.contains(':') && matches!(tag, "3" | "6") && b.len() % 4 == 0 => b
            .chunks(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(|a| std::net::Ipv4Addr::from(a).to_string())
            .collect::<Vec<_>>()
            .join(","),
        Some(b) if v.contains(':') && !matches!(tag, "3" | "6") => {
            String::from_utf8(b).unwrap_or(v)
        }
        _ => v,
    }
}

impl Uci {
    /// The first or last address of a pool (dnsmasq.init: network + start, and that + limit
    /// - 1, never past the broadcast address).
    pub(super) fn get_pool(&mut self, args: &Args) -> Result<String, BackendError> {
        let (_, _, base, bcast, start, limit) = range(self, args)?;
        let min = base.saturating_add(start);
        if min >= bcast {
            // dnsmasq.init's ipcalc makes no range of it: dnsmasq serves no pool here.
            return Err(BackendError::InvalidValue(format!(
                "start {start} lies past the pool's network"
            )));
        }
        let max = min
            .saturating_add(limit.max(1) - 1)
            .min(bcast.saturating_sub(1));
        let v = if args.str("pool")? == "min" { min } else { max };
        Ok(std::net::Ipv4Addr::from(v).to_string())
    }

    /// Moves one end of the range; the other stays where it is.
    pub(super) fn set_pool(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let (pkg, id, base, bcast, start, limit) = range(self, args)?;
        let v = ipv4(value)?;
        if v <= base || v >= bcast {
            return Err(BackendError::InvalidValue(format!(
                "{value} is not a host address of the pool's network"
            )));
        }
        let min = base.saturating_add(start);
        let max = min.saturating_add(limit.max(1) - 1).min(bcast - 1);
        let (start, limit) = if args.str("pool")? == "min" {
            // A start past the end leaves a one-address pool until the end is written.
            (v - base, max.saturating_sub(v) + 1)
        } else {
            if v < min {
                return Err(BackendError::InvalidValue(format!(
                    "{value} is below the pool's first address"
                )));
            }
            (start, v - min + 1)
        };
        let d = self.doc_for_change(&pkg)?;
        d.set_option(&id, "start", &start.to_string());
        d.set_option(&id, "limit", &limit.to_string());
        Ok(())
    }

    /// The value of one code of the pool's `dhcp_option` list (`6,a,b` → `a,b`), or what
    /// dnsmasq sends without it (`default_from`, `default`).
    pub(super) fn get_tagged(&mut self, args: &Args) -> Result<String, BackendError> {
        let (pkg, id) = self.section_id(args)?;
        let (option, tag) = (args.str("option")?, args.str("tagged")?);
        let prefix = format!("{tag},");
        let d = self.doc(&pkg)?;
        let found = d
            .list(&id, option)
            .into_iter()
            .find_map(|i| i.strip_prefix(&prefix).map(String::from))
            .map(|v| readable(tag, v));
        let from = args.opt_str("default_from")?.and_then(|f| {
            let (s, o) = f.rsplit_once('.')?;
            d.resolve(s).and_then(|s| d.option(&s.id, o))
        });
        found
            .or(from)
            .or(super::known_default(args)?.map(String::from))
            .ok_or_else(|| BackendError::NotFound(format!("{pkg}.{id}.{option} {tag}")))
    }

    /// Replaces the code's item (or adds it); an empty value removes it, so dnsmasq sends its
    /// default again.
    pub(super) fn set_tagged(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let (pkg, id) = self.section_id(args)?;
        let (option, tag) = (args.str("option")?.to_string(), args.str("tagged")?);
        if value.contains(['\'', '\n', '\r', ' ']) {
            return Err(BackendError::InvalidValue(format!(
                "{value:?} in a DHCP option"
            )));
        }
        let prefix = format!("{tag},");
        let d = self.doc_for_change(&pkg)?;
        let mut list = d.list(&id, &option);
        let at = list.iter().position(|i| i.starts_with(&prefix));
        let item = format!("{prefix}{value}");
        match (at, value.is_empty()) {
            (Some(n), true) => {
                list.remove(n);
            }
            (Some(n), false) => {
                if let Some(slot) = list.get_mut(n) {
                    *slot = item;
                }
            }
            (None, true) => {}
            (None, false) => list.push(item),
        }
        if d.set_list(&id, &option, &list) {
            Ok(())
        } else {
            Err(BackendError::NotFound(format!("{pkg}.{id}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Handler;

    const DHCP: &str = "config dhcp 'lan'\n\toption interface 'lan'\n\toption start '100'\n\toption limit '150'\n\tlist dhcp_option '6,192.168.1.1,9.9.9.9'\n\nconfig dhcp 'guest'\n\toption interface 'guest'\n";

    struct Dir(std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn uci(tag: &str) -> (Dir, Uci) {
        let d = std::env::temp_dir().join(format!("cwmpd-uci-dhcp-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("dhcp"), DHCP).unwrap();
        let settings: toml::Table =
            toml::from_str(&format!("dir = {:?}", d.display().to_string())).unwrap();
        let u = Uci::new(Some(&toml::Value::Table(settings))).unwrap();
        (Dir(d), u)
    }

    fn a(t: &str) -> Args {
        Args {
            table: toml::from_str(t).unwrap(),
            path: String::new(),
        }
    }

    #[test]
    fn the_range_is_network_plus_start_and_limit() {
        let (_d, mut u) = uci("range");
        let base = "package = \"dhcp\"\noption = \"start\"\nnetwork = \"192.168.1.1\"\nnetmask = \"255.255.255.0\"";
        let min = a(&format!("{base}\nsection = \"lan\"\npool = \"min\""));
        let max = a(&format!("{base}\nsection = \"lan\"\npool = \"max\""));
        assert_eq!(u.get_pool(&min).unwrap(), "192.168.1.100");
        assert_eq!(u.get_pool(&max).unwrap(), "192.168.1.249");
        // dnsmasq.init's defaults, and the end stops before the broadcast address.
        let gmax = a(&format!("{base}\nsection = \"guest\"\npool = \"max\""));
        assert_eq!(u.get_pool(&gmax).unwrap(), "192.168.1.249");
        u.set_pool(&min, "192.168.1.50").unwrap();
        assert_eq!(u.get_pool(&max).unwrap(), "192.168.1.249");
        u.set_pool(&max, "192.168.1.99").unwrap();
        assert_eq!(u.get_pool(&min).unwrap(), "192.168.1.50");
        assert_eq!(u.get_pool(&max).unwrap(), "192.168.1.99");
        for bad in ["10.0.0.5", "192.168.1.255", "192.168.1.0", "x"] {
            assert!(u.set_pool(&min, bad).is_err(), "{bad}");
        }
        assert!(u.set_pool(&max, "192.168.1.20").is_err());
        u.prepare().unwrap();
        u.commit().unwrap();
        let text = std::fs::read_to_string(_d.0.join("dhcp")).unwrap();
        assert!(
            text.contains("option start '50'\n\toption limit '50'"),
            "{text}"
        );
        // A start past the network is no range (and never wraps).
        let huge = a(&format!("{base}\nsection = \"guest\"\npool = \"min\""));
        u.doc_for_change("dhcp")
            .unwrap()
            .set_option("guest", "start", "4294967295");
        assert!(matches!(
            u.get_pool(&huge),
            Err(BackendError::InvalidValue(_))
        ));
        assert!(u.set_pool(&gmax, "192.168.1.7").is_err());
        u.abort();
    }

    #[test]
    fn one_code_of_the_option_list_is_a_value() {
        let (_d, mut u) = uci("tagged");
        let dns =
            a("package = \"dhcp\"\nsection = \"lan\"\noption = \"dhcp_option\"\ntagged = \"6\"");
        let dom =
            a("package = \"dhcp\"\nsection = \"lan\"\noption = \"dhcp_option\"\ntagged = \"15\"");
        assert_eq!(u.get_tagged(&dns).unwrap(), "192.168.1.1,9.9.9.9");
        assert!(matches!(u.get_tagged(&dom), Err(BackendError::NotFound(_))));
        let dom_d = a("package = \"dhcp\"\nsection = \"lan\"\noption = \"dhcp_option\"\ntagged = \"15\"\ndefault_from = \"lan.interface\"");
        assert_eq!(u.get_tagged(&dom_d).unwrap(), "lan");
        u.set_tagged(&dom, "home.arpa").unwrap();
        u.set_tagged(&dns, "").unwrap();
        let dns_d = a("package = \"dhcp\"\nsection = \"lan\"\noption = \"dhcp_option\"\ntagged = \"6\"\ndefault = \"192.168.1.1\"");
        assert_eq!(u.get_tagged(&dns_d).unwrap(), "192.168.1.1");
        assert_eq!(u.get_tagged(&dom_d).unwrap(), "home.arpa");
        assert!(u.set_tagged(&dom, "a b").is_err());
        assert_eq!(
            readable("6", "c0:a8:01:01:09:09:09:09".into()),
            "192.168.1.1,9.9.9.9"
        );
        assert_eq!(readable("15", "6c:61:6e".into()), "lan");
        assert_eq!(readable("6", "192.168.1.1".into()), "192.168.1.1");
        u.prepare().unwrap();
        u.commit().unwrap();
        let text = std::fs::read_to_string(_d.0.join("dhcp")).unwrap();
        assert!(text.contains("list dhcp_option '15,home.arpa'"), "{text}");
        assert!(!text.contains("9.9.9.9"), "{text}");
    }
}
