//! DHCP options as OpenWrt's configuration writes them, split into TR-181's Tag and Value
//! (hexBinary): udhcpc's `OPT:VAL` (netifd's `sendopts`: a code in decimal or `0x` hex, or a
//! name, then the value in hex; `reqopts`: the code alone) and dnsmasq's `OPT,VAL[,VAL…]`
//! (`dhcp_option`: a code or `option:<name>`, then addresses, text, or `xx:xx` hex bytes).

use crate::backend::BackendError;

/// Option codes udhcpc knows by name (busybox `dhcp_option_strings`), the ones OpenWrt's
/// `sendopts` use in practice.
const UDHCPC_NAMES: [(&str, u8); 8] = [
    ("subnet", 1),
    ("router", 3),
    ("dns", 6),
    ("hostname", 12),
    ("domain", 15),
    ("lease", 51),
    ("vendor", 60),
    ("clientid", 61),
];

/// dnsmasq's `option:` names of the options OpenWrt configurations use.
const DNSMASQ_NAMES: [(&str, u8); 9] = [
    ("netmask", 1),
    ("router", 3),
    ("dns-server", 6),
    ("domain-name", 15),
    ("mtu", 26),
    ("ntp-server", 42),
    ("T1", 58),
    ("domain-search", 119),
    ("classless-static-route", 121),
];

fn bad(item: &str) -> BackendError {
    BackendError::InvalidValue(format!("{item:?} is not a DHCP option"))
}

fn hex(bytes: impl IntoIterator<Item = u8>) -> String {
    bytes.into_iter().map(|b| format!("{b:02x}")).collect()
}

fn code(opt: &str, names: &[(&str, u8)], item: &str) -> Result<u8, BackendError> {
    let n = match opt.strip_prefix("0x").or_else(|| opt.strip_prefix("0X")) {
        Some(h) => u8::from_str_radix(h, 16).ok(),
        None => opt.parse::<u8>().ok(),
    };
    n.or_else(|| {
        let name = opt.strip_prefix("option:").unwrap_or(opt);
        names.iter().find(|(k, _)| *k == name).map(|(_, c)| *c)
    })
    .ok_or_else(|| bad(item))
}

/// Colon-separated hex bytes (`01:ab`), dnsmasq's raw form; at least one colon (a bare `15`
/// is a number to dnsmasq).
fn colon_hex(v: &str) -> Option<String> {
    if !v.contains(':') {
        return None;
    }
    v.split(':')
        .map(|b| {
            (b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()))
                .then(|| b.to_ascii_lowercase())
        })
        .collect()
}

/// An item as (code, value in hex).
pub fn parts(item: &str, dnsmasq: bool) -> Result<(u8, String), BackendError> {
    if item.is_empty() {
        // A row just added: no option until the ACS writes its Tag.
        return Err(BackendError::InvalidValue(
            "an option without a code yet".into(),
        ));
    }
    if !dnsmasq {
        let (opt, val) = item.split_once(':').unwrap_or((item, ""));
        let c = code(opt, &UDHCPC_NAMES, item)?;
        if opt.parse::<u8>().is_ok() || opt.starts_with("0x") || opt.starts_with("0X") {
            let h = val.to_ascii_lowercase();
            if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(item));
            }
            return Ok((c, h));
        }
        // A named option's value is text.
        return Ok((c, hex(val.bytes())));
    }
    let (opt, val) = item.split_once(',').unwrap_or((item, ""));
    let c = code(opt, &DNSMASQ_NAMES, item)?;
    if val.is_empty() {
        return Ok((c, String::new()));
    }
    let values: Vec<&str> = val.split(',').collect();
    let ips: Option<Vec<std::net::Ipv4Addr>> = values.iter().map(|v| v.parse().ok()).collect();
    if let Some(ips) = ips {
        return Ok((c, hex(ips.iter().flat_map(|a| a.octets()))));
    }
    if let [one] = values.as_slice() {
        if let Some(h) = colon_hex(one) {
            return Ok((c, h));
        }
        if !one.bytes().all(|b| b.is_ascii_digit()) {
            return Ok((c, hex(one.trim_matches('"').bytes())));
        }
    }
    // Numbers (and lists of names): their width is dnsmasq's knowledge of each option.
    Err(BackendError::NotFound(format!(
        "{item:?}: the bytes dnsmasq sends depend on the option"
    )))
}

/// The item with another code, its value as written.
pub fn with_tag(item: &str, code: u8, dnsmasq: bool) -> String {
    if dnsmasq {
        match item.split_once(',') {
            Some((_, rest)) => format!("{code},{rest}"),
            None => code.to_string(),
        }
    } else {
        match parts(item, false) {
            Ok((_, h)) if !h.is_empty() => format!("0x{code:02x}:{h}"),
            _ => code.to_string(),
        }
    }
}

/// The item with a value given in hex (dnsmasq: sent as raw bytes, `xx:xx`).
pub fn with_data(item: &str, value: &str, dnsmasq: bool) -> Result<String, BackendError> {
    let h = value.to_ascii_lowercase();
    if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BackendError::InvalidValue(format!("{value:?} is not hex")));
    }
    let c = parts(item, dnsmasq)
        .map(|(c, _)| c)
        .or_else(|e| match e {
            // The value is replaced: its old form does not matter.
            BackendError::NotFound(_) => {
                let opt = item.split(',').next().unwrap_or("");
                code(opt, &DNSMASQ_NAMES, item)
            }
            e => Err(e),
        })
        .map_err(|_| BackendError::InvalidValue("set the option's Tag before its Value".into()))?;
    Ok(match (dnsmasq, h.is_empty()) {
        (_, true) => c.to_string(),
        (false, false) => format!("0x{c:02x}:{h}"),
        (true, false) => {
            let pairs: Vec<&str> = (0..h.len())
                .step_by(2)
                .filter_map(|i| h.get(i..i + 2))
                .collect();
            format!("{c},{}", pairs.join(":"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udhcpc_options_by_code_or_name() {
        assert_eq!(parts("0x4d:696E", false).unwrap(), (77, "696e".into()));
        assert_eq!(parts("121", false).unwrap(), (121, String::new()));
        assert_eq!(parts("hostname:stb", false).unwrap(), (12, "737462".into()));
        assert!(parts("0x4d:6", false).is_err());
        assert!(parts("nosuch:1", false).is_err());
        assert!(matches!(
            parts("", false),
            Err(BackendError::InvalidValue(_))
        ));
        assert_eq!(with_tag("0x4d:0102", 60, false), "0x3c:0102");
        assert_eq!(with_tag("121", 33, false), "33");
        assert_eq!(with_data("0x4d:0102", "ABCD", false).unwrap(), "0x4d:abcd");
        assert!(with_data("", "01", false).is_err(), "no tag yet");
    }

    #[test]
    fn dnsmasq_options_by_kind_of_value() {
        assert_eq!(
            parts("6,192.168.1.1,9.9.9.9", true).unwrap(),
            (6, "c0a8010109090909".into())
        );
        assert_eq!(
            parts("15,home.arpa", true).unwrap(),
            (15, "686f6d652e61727061".into())
        );
        assert_eq!(
            parts("option:mtu,01:f4", true).unwrap(),
            (26, "01f4".into())
        );
        assert_eq!(parts("3", true).unwrap(), (3, String::new()));
        assert!(matches!(
            parts("26,1500", true),
            Err(BackendError::NotFound(_))
        ));
        assert_eq!(with_tag("42,192.168.1.1", 4, true), "4,192.168.1.1");
        assert_eq!(with_data("26,1500", "05dc", true).unwrap(), "26,05:dc");
        assert_eq!(with_data("42,192.168.1.1", "", true).unwrap(), "42");
        assert!(with_data("42,1", "0", true).is_err());
    }
}
