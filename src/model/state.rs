//! What the model must remember across restarts: instance numbers, parameter attributes and
//! the ParameterKey. Plain data, written to and read from the state file's `[model]` table.
//!
//! TR-069 A.3.2.6: instance numbers are assigned by the CPE, never reused while the object
//! exists, and stay the same across reboots. Each table keeps a counter that only grows and a
//! map from the backend's stable key to the number it was given.
//!
//! Flash: reading a table that meets new rows (processes, hosts, leases come and go) must not
//! write the state each time. The counter is saved as a ceiling reserved [`RESERVE`] numbers
//! ahead, so only crossing it asks for a write ([`Numbered::Reserve`]); a new or vanished key
//! below the ceiling ([`Numbered::Keys`]) rides the next write that happens anyway (an
//! acknowledged RPC, an event, the shutdown). After a power cut in between, numbers go on
//! from the ceiling: a row met since the last write may get a new number, none is reused.

use std::collections::BTreeMap;

use crate::codec::toml::{FieldResult, Fields, Table, Value};

/// Most instances remembered per table; beyond it new instances are refused (9004).
pub const MAX_INSTANCES_PER_TABLE: usize = 4096;

/// Numbers reserved ahead of the counter in the state file.
pub const RESERVE: u32 = 64;

/// What numbering a table changed in the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Numbered {
    /// Nothing.
    Same,
    /// Keys came or went below the saved ceiling: save with the next write.
    Keys,
    /// The counter reached the saved ceiling: save now.
    Reserve,
}

/// Numbering of one table instance (`Device.IP.Interface.3.IPv4Address.`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableNumbers {
    /// The next number to hand out (numbers are never reused).
    pub next: u32,
    /// Backend key → instance number.
    pub keys: BTreeMap<String, u32>,
    /// The ceiling the state file holds (numbers below it may have been handed out).
    pub reserved: u32,
}

/// The attributes of one parameter (TR-069 A.3.2.4), stored only when not the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// 0 off, 1 passive, 2 active.
    pub notification: u8,
    /// Entities besides the ACS that may write (only "Subscriber" is defined).
    pub access_list: Vec<String>,
}

/// The model's durable state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelState {
    /// Table instance path → numbering.
    pub instances: BTreeMap<String, Box<TableNumbers>>,
    /// Parameter instance path → attributes set by the ACS.
    pub attributes: BTreeMap<String, Box<Attributes>>,
    /// ParameterKey of the last successful Set/Add/Delete (TR-069 A.3.2.1).
    pub parameter_key: String,
    /// Values fixed for the life of the device, whatever their binding reads later: the
    /// DeviceId (OUI, ProductClass, SerialNumber, Manufacturer), fixed at the first start.
    pub fixed: BTreeMap<String, String>,
}

impl ModelState {
    /// The `[model]` table of the state file.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new();
        let instances = self
            .instances
            .iter()
            .map(|(k, n)| {
                let keys = n.keys.iter().map(|(k, v)| (k.clone(), (*v).into()));
                let mut nt = Table::new();
                nt.insert("next".into(), n.next.max(n.reserved).into());
                nt.insert("keys".into(), Value::Table(keys.collect()));
                (k.clone(), Value::Table(nt))
            })
            .collect();
        t.insert("instances".into(), Value::Table(instances));
        let attributes = self
            .attributes
            .iter()
            .map(|(k, a)| {
                let mut at = Table::new();
                at.insert("notification".into(), a.notification.into());
                at.insert("access_list".into(), a.access_list.clone().into());
                (k.clone(), Value::Table(at))
            })
            .collect();
        t.insert("attributes".into(), Value::Table(attributes));
        t.insert("parameter_key".into(), self.parameter_key.clone().into());
        if !self.fixed.is_empty() {
            let fixed = self
                .fixed
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()));
            t.insert("fixed".into(), Value::Table(fixed.collect()));
        }
        t
    }

    /// Reads the `[model]` table back (keys it does not know are ignored).
    pub fn from_fields(f: &mut Fields) -> FieldResult<ModelState> {
        let mut s = ModelState {
            parameter_key: f.opt_str("parameter_key")?.unwrap_or_default(),
            ..ModelState::default()
        };
        s.instances = f.map("instances", |f, path| {
            let mut n = f.sub(path)?;
            let next = n.opt_int("next")?.unwrap_or(1);
            Ok(Box::new(TableNumbers {
                keys: n.map("keys", |f, k| f.int(k))?,
                next,
                reserved: next,
            }))
        })?;
        s.fixed = f.map("fixed", |f, k| f.str(k))?;
        s.attributes = f.map("attributes", |f, path| {
            let mut a = f.sub(path)?;
            Ok(Box::new(Attributes {
                notification: a.opt_int("notification")?.unwrap_or(0),
                access_list: a.strings("access_list")?,
            }))
        })?;
        Ok(s)
    }

    /// Numbers a table's current keys: known keys keep their numbers, new keys get fresh
    /// ones, vanished keys are forgotten (their numbers stay used). Returns (number, index
    /// into `keys`) sorted by number, and what changed in the state.
    pub fn number(&mut self, table: &str, keys: &[&str]) -> (Vec<(u32, usize)>, Numbered) {
        let t = self.instances.entry(table.to_string()).or_insert_with(|| {
            Box::new(TableNumbers {
                next: 1,
                keys: BTreeMap::new(),
                reserved: 0,
            })
        });
        let mut changed = Numbered::Same;
        if t.next == 0 {
            t.next = 1;
        }
        let before = t.keys.len();
        // A set, not a search of `keys` per remembered key (quadratic: 1,000-row tables).
        let current: std::collections::HashSet<&str> = keys.iter().copied().collect();
        t.keys.retain(|k, _| current.contains(k.as_str()));
        if t.keys.len() != before {
            changed = Numbered::Keys;
        }
        let mut out = Vec::with_capacity(keys.len());
        for (idx, key) in keys.iter().enumerate() {
            let n = match t.keys.get(*key) {
                Some(n) => *n,
                None => {
                    if t.keys.len() >= MAX_INSTANCES_PER_TABLE || t.next == u32::MAX {
                        continue;
                    }
                    let n = t.next;
                    t.next += 1;
                    t.keys.insert((*key).to_string(), n);
                    changed = changed.max(Numbered::Keys);
                    if t.next > t.reserved {
                        t.reserved = t.next.saturating_add(RESERVE);
                        changed = Numbered::Reserve;
                    }
                    n
                }
            };
            out.push((n, idx));
        }
        out.sort_unstable();
        out.dedup_by_key(|e| e.0);
        (out, changed)
    }

    /// Forgets one key (after DeleteObject); its number is not reused.
    pub fn forget(&mut self, table: &str, key: &str) -> bool {
        self.instances
            .get_mut(table)
            .is_some_and(|t| t.keys.remove(key).is_some())
    }

    /// Gives a key's number to a new key (a row whose key is its value was written), so the
    /// row keeps its instance number. Nothing happens when the new key is numbered already.
    pub fn rename(&mut self, table: &str, old: &str, new: &str) -> bool {
        let Some(t) = self.instances.get_mut(table) else {
            return false;
        };
        if t.keys.contains_key(new) {
            return false;
        }
        match t.keys.remove(old) {
            Some(n) => {
                t.keys.insert(new.to_string(), n);
                true
            }
            None => false,
        }
    }

    /// Drops numbering and attributes under a path (a deleted instance and its sub-tables).
    pub fn forget_below(&mut self, prefix: &str) {
        self.instances.retain(|k, _| !k.starts_with(prefix));
        self.attributes.retain(|k, _| !k.starts_with(prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_never_reused() {
        let mut s = ModelState::default();
        let (n, changed) = s.number("Device.IP.Interface.", &["eth0", "lo"]);
        assert_eq!(
            changed,
            Numbered::Reserve,
            "the first numbers reserve a block"
        );
        assert_eq!(n, vec![(1, 0), (2, 1)]);
        // Same keys in another order keep their numbers.
        let (n, changed) = s.number("Device.IP.Interface.", &["lo", "eth0"]);
        assert_eq!(changed, Numbered::Same);
        assert_eq!(n, vec![(1, 1), (2, 0)]);
        // eth0 vanishes, wlan0 appears: wlan0 gets 3, not 1.
        let (n, _) = s.number("Device.IP.Interface.", &["lo", "wlan0"]);
        assert_eq!(n, vec![(2, 0), (3, 1)]);
        // eth0 comes back: a fresh number.
        let (n, _) = s.number("Device.IP.Interface.", &["eth0"]);
        assert_eq!(n, vec![(4, 0)]);
    }

    #[test]
    fn a_renamed_key_keeps_its_number() {
        let mut s = ModelState::default();
        s.number("Device.DNS.Client.Server.", &["192.0.2.1", "192.0.2.2"]);
        assert!(s.rename("Device.DNS.Client.Server.", "192.0.2.1", "192.0.2.9"));
        assert!(!s.rename("Device.DNS.Client.Server.", "192.0.2.9", "192.0.2.2"));
        let (n, changed) = s.number("Device.DNS.Client.Server.", &["192.0.2.9", "192.0.2.2"]);
        assert_eq!(n, vec![(1, 0), (2, 1)]);
        assert_eq!(changed, Numbered::Same);
    }

    #[test]
    fn survives_a_round_trip_through_toml() {
        let mut s = ModelState::default();
        s.number("Device.Hosts.Host.", &["br-lan/192.168.1.2"]);
        s.attributes.insert(
            "Device.DeviceInfo.UpTime".into(),
            Box::new(Attributes {
                notification: 1,
                access_list: vec![],
            }),
        );
        s.parameter_key = "k1".into();
        let text = crate::codec::toml::to_string(&s.to_table());
        let table = crate::codec::toml::parse(&text).unwrap();
        let back = ModelState::from_fields(&mut Fields::new(table)).unwrap();
        let t = &s.instances["Device.Hosts.Host."];
        assert_eq!((t.next, t.reserved), (2, 1 + RESERVE + 1));
        let b = &back.instances["Device.Hosts.Host."];
        assert_eq!(
            (b.next, b.reserved),
            (t.reserved, t.reserved),
            "back from the ceiling"
        );
        assert_eq!(back.instances.len(), s.instances.len());
        assert_eq!(b.keys, t.keys);
        assert_eq!(back.attributes, s.attributes);
        assert_eq!(back.parameter_key, s.parameter_key);
        let bad =
            crate::codec::toml::parse("[instances.\"Device.X.\"]\nkeys = { a = -1 }").unwrap();
        let e = ModelState::from_fields(&mut Fields::new(bad)).unwrap_err();
        assert!(e.message.contains("instances.Device.X..keys.a"), "{e}");
    }

    #[test]
    fn rows_that_come_and_go_ask_for_a_write_once_a_block() {
        let mut s = ModelState::default();
        let mut reserve = 0;
        let mut keys_only = 0;
        for pid in 0..(4 * RESERVE) {
            let key = format!("{pid}");
            match s
                .number("Device.DeviceInfo.ProcessStatus.Process.", &[&key])
                .1
            {
                Numbered::Reserve => reserve += 1,
                Numbered::Keys => keys_only += 1,
                Numbered::Same => {}
            }
        }
        assert_eq!(reserve, 4, "one write per {RESERVE} new rows");
        assert_eq!(keys_only, 4 * RESERVE - 4);
        // A power cut after the last write: numbers go on from the saved ceiling.
        let text = crate::codec::toml::to_string(&s.to_table());
        let mut back =
            ModelState::from_fields(&mut Fields::new(crate::codec::toml::parse(&text).unwrap()))
                .unwrap();
        let used = s.instances["Device.DeviceInfo.ProcessStatus.Process."].next;
        let (n, _) = back.number("Device.DeviceInfo.ProcessStatus.Process.", &["new"]);
        assert!(n[0].0 >= used, "{} reuses a number below {used}", n[0].0);
    }

    #[test]
    fn refuses_more_than_the_table_limit() {
        let mut s = ModelState::default();
        let keys: Vec<String> = (0..MAX_INSTANCES_PER_TABLE + 10)
            .map(|i| format!("k{i}"))
            .collect();
        let refs: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        let (n, _) = s.number("Device.X.", &refs);
        assert_eq!(n.len(), MAX_INSTANCES_PER_TABLE);
    }
}
