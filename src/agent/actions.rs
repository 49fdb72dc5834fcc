//! Device actions the ACS asked for, carried out after the session (TR-069 A.3.2.9: Reboot
//! happens once the session is closed; A.4.1.6 FactoryReset), and the reboot an apply that
//! should have taken the device down still owes. The commands themselves are the board's,
//! run by [`crate::device::Device`]. Only what happened is reported: a reboot command that
//! fails is logged and the agent keeps running (no M Reboot comes of it); a reboot that
//! "succeeds" without a boot is found out at the next start (the boot id did not change).

use super::Agent;

impl Agent {
    /// Carries out Reboot / FactoryReset after the session. Returns true when the agent
    /// should exit (the device is going down or was reset).
    pub(super) fn device_actions(&mut self) -> bool {
        if std::mem::take(&mut self.reboot_after_apply) {
            self.dirty = true;
            self.persist();
            return match self.dev.reboot() {
                Ok(()) => true,
                Err(e) => {
                    log::error!("agent: reboot after apply: {e}");
                    self.reboot_failed(&e.to_string());
                    false
                }
            };
        }
        if self.state.pending.factory_reset {
            log::warn!("agent: factory reset");
            return match self.dev.factory_reset() {
                Ok(()) => true,
                Err(e) => {
                    log::error!("agent: {e}; the device keeps its state");
                    self.state.pending.factory_reset = false;
                    self.dirty = true;
                    false
                }
            };
        }
        let Some(r) = &self.state.pending.reboot else {
            return false;
        };
        let key = r.command_key.clone();
        let attempts = r.attempts.saturating_add(1);
        // The boot it is issued in goes on disk first: a boot after it is the reboot.
        self.state.pending.reboot = Some(crate::rpc::Reboot {
            command_key: key.clone(),
            issued_in: self.state.boot_id.clone().or(Some(String::new())),
            attempts,
        });
        self.dirty = true;
        self.persist();
        match self.dev.reboot() {
            Ok(()) => true,
            Err(e) => {
                log::error!("agent: reboot for {key:?}: {e}; not rebooting");
                self.state.pending.reboot = None;
                self.dirty = true;
                false
            }
        }
    }
}
