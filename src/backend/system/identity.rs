//! The MAC address the device is known by (its serial number and OUI when `/etc/machine-id`
//! does not name it): of the interface the board names, or of the first physical one whose
//! address is universally administered.

use super::System;
use crate::backend::BackendError;

impl System {
    /// The MAC address the device is known by: of `interface` when the board names one,
    /// else of the first physical interface (one with a device behind it, so not a bridge,
    /// veth or `docker0` that may come and go) whose address is universally administered (an
    /// IEEE OUI: a locally administered `02:…` is not one), by name.
    pub(super) fn identity_mac(&self, interface: Option<&str>) -> Result<String, BackendError> {
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
}
