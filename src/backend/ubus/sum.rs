//! `sum = true` on a `ubus` value: the numbers at every match of its `path` (`*` tries each
//! member or element and keeps all), through every string its `via` path matches, added up
//! — a radio's traffic is the sum of the counters of the interfaces netifd made for it
//! (`network.wireless status` lists them; `network.device status` counts each).
//!
//! `percent_of` turns numbers into whole percentages of the largest number at another path
//! of the same answer (a radio's transmit powers in mW against its strongest one).

use serde_json::Value;

use super::{follow, steps, Step, Ubus};
use crate::backend::{Args, BackendError};
use crate::codec::toml;

/// Every value `path` reaches from `v` (all members or elements at a `*`), in order.
pub fn follow_all<'v>(v: &'v Value, path: &[Step<'_>], out: &mut Vec<&'v Value>) {
    match path.split_first() {
        None => out.push(v),
        Some((Step::Any, rest)) => match v {
            Value::Object(m) => m.values().for_each(|x| follow_all(x, rest, out)),
            Value::Array(a) => a.iter().for_each(|x| follow_all(x, rest, out)),
            _ => {}
        },
        Some((step, rest)) => {
            if let Some(x) = follow(v, std::slice::from_ref(step)) {
                follow_all(x, rest, out)
            }
        }
    }
}

/// `list` (numbers, comma-separated) as whole percentages of the largest number at `of` in
/// `answer`, rounded, repeats left out.
pub fn percent(list: &str, answer: &Value, of: &str) -> Result<String, BackendError> {
    let st = steps(of).ok_or_else(|| BackendError::BadArgs(format!("percent_of {of:?}")))?;
    let mut found = Vec::new();
    follow_all(answer, &st, &mut found);
    let max = found
        .iter()
        .filter_map(|v| v.as_f64())
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return Err(BackendError::NotFound(format!(
            "ubus {of}: no largest number"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let n: f64 = item
            .parse()
            .map_err(|_| BackendError::InvalidValue(format!("{item:?} is not a number")))?;
        let p = format!("{}", (n * 100.0 / max).round().clamp(0.0, 100.0) as u8);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out.join(","))
}

fn path_of(args: &Args, key: &str) -> Result<String, BackendError> {
    Ok(args.opt_str(key)?.unwrap_or("").to_string())
}

impl Ubus {
    /// The sum, or `None` when nothing matched (no interface up, no such member).
    pub(super) fn sum(&mut self, args: &Args) -> Result<Option<String>, BackendError> {
        let mut calls: Vec<Args> = Vec::new();
        match args.table.get("via") {
            Some(toml::Value::Table(via)) => {
                let s = |k: &str| {
                    via.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string()
                };
                let vpath = s("path");
                let st = steps(&vpath)
                    .ok_or_else(|| BackendError::BadArgs(format!("via path {vpath:?}")))?;
                let answer = self.call((s("object"), s("method"), s("message")))?;
                let mut found = Vec::new();
                if let Some(v) = answer.as_deref() {
                    follow_all(v, &st, &mut found);
                }
                for name in found.into_iter().filter_map(super::scalar) {
                    let mut a = args.clone();
                    a.table.remove("via");
                    for k in ["object", "message", "path"] {
                        if let Some(toml::Value::String(v)) = a.table.get_mut(k) {
                            *v = v.replace("{via}", &name);
                        }
                    }
                    calls.push(a);
                }
            }
            _ => calls.push(args.clone()),
        }
        let mut total: Option<i128> = None;
        for a in &calls {
            let path = path_of(a, "path")?;
            let st = steps(&path).ok_or_else(|| BackendError::BadArgs(format!("path {path:?}")))?;
            let answer = self.answer(a)?;
            let mut found = Vec::new();
            if let Some(v) = answer.as_deref() {
                follow_all(v, &st, &mut found);
            }
            for v in found {
                let n = v
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| v.as_u64().map(i128::from));
                let n = n.ok_or_else(|| {
                    let what = super::path::kind(v);
                    BackendError::InvalidValue(format!("ubus {path}: {what}, not an integer"))
                })?;
                total = Some(total.unwrap_or(0).saturating_add(n));
            }
        }
        Ok(total.map(|t| t.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{args, handler};
    use super::*;
    use crate::backend::Handler;

    #[test]
    fn every_match_of_a_star_is_kept() {
        let v: Value =
            serde_json::from_str(r#"{"r0":{"i":[{"n":1},{"n":2}]},"r1":{"i":[{"n":4}]}}"#).unwrap();
        let mut out = Vec::new();
        follow_all(&v, &steps("*/i/*/n").unwrap(), &mut out);
        assert_eq!(out, [&Value::from(1), &Value::from(2), &Value::from(4)]);
        out.clear();
        follow_all(&v, &steps("r9/i").unwrap(), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn transmit_powers_become_percentages_of_the_strongest() {
        let mut h = handler();
        let get = |h: &mut Ubus, path: &str, pluck: &str| {
            h.get(&args(&format!(
                "object = \"iwinfo\"\nmethod = \"txpowerlist\"\nmessage = '{{\"device\":\"phy1-ap0\"}}'\n\
                 path = \"{path}\"\n{pluck}percent_of = \"results/*/mw\""
            )))
        };
        assert_eq!(
            get(&mut h, "results", "pluck = \"mw\"\n").unwrap(),
            "1,2,3,4,5,7,8,10,13,16,20,25,32,40,50,63,79,100"
        );
        assert_eq!(get(&mut h, "results/[active=true]/mw", "").unwrap(), "100");
        let v: Value = serde_json::from_str(r#"{"l":[{"mw":0}]}"#).unwrap();
        assert!(percent("1", &v, "l/*/mw").is_err(), "no largest");
        assert!(percent("x", &serde_json::json!({"m": 4}), "m").is_err());
        assert_eq!(
            percent("1,2,4", &serde_json::json!({"m": 4}), "m").unwrap(),
            "25,50,100"
        );
    }

    #[test]
    fn counters_of_every_interface_a_via_names_are_added_up() {
        let mut h = handler();
        let sum = |h: &mut Ubus, radios: &str, field: &str| {
            h.get(&args(&format!(
                "object = \"network.device\"\nmethod = \"status\"\nmessage = '{{\"name\":\"{{via}}\"}}'\n\
                 path = \"statistics/{field}\"\nsum = true\ndefault = \"0\"\n\
                 via = {{ object = \"network.wireless\", method = \"status\", path = \"{radios}/interfaces/*/ifname\" }}"
            )))
        };
        let one = sum(&mut h, "radio0", "tx_packets").unwrap();
        let other = sum(&mut h, "radio1", "tx_packets").unwrap();
        let both = sum(&mut h, "*", "tx_packets").unwrap();
        let n = |s: &str| s.parse::<u64>().unwrap();
        assert!(n(&one) > 0 && n(&other) > 0);
        assert_eq!(n(&both), n(&one) + n(&other));
        // No interface: the default; a member that is no number: invalid.
        assert_eq!(sum(&mut h, "radio9", "tx_packets").unwrap(), "0");
        assert!(matches!(
            sum(&mut h, "radio0", "").map_err(|e| matches!(e, BackendError::InvalidValue(_))),
            Err(true)
        ));
    }
}
