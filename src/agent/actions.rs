//! Device actions the ACS asked for, carried out after the session (TR-069 A.3.2.9: Reboot
//! happens once the session is closed; A.4.1.6 FactoryReset), and the reboot an apply that
//! should have taken the device down still owes. The commands themselves are the board's,
//! run by [`crate::device::Device`].

use super::Agent;

impl Agent {
    /// Carries out Reboot / FactoryReset after the session. Returns true when the agent
    /// should exit (the device is going down or was reset).
    pub(super) fn device_actions(&mut self) -> bool {
        if std::mem::take(&mut self.reboot_after_apply) {
            self.dirty = true;
            self.persist();
            if let Err(e) = self.dev.reboot() {
                log::error!("agent: reboot after apply: {e}");
            }
            return true;
        }
        if self.actions.factory_reset {
            self.actions.factory_reset = false;
            log::warn!("agent: factory reset");
            if let Err(e) = self.dev.factory_reset() {
                log::error!("agent: {e}");
            }
            return true;
        }
        if let Some(key) = self.actions.reboot.take() {
            // Remember the CommandKey first: after the reboot the Inform carries M Reboot.
            self.state.reboot_key = Some(key);
            self.dirty = true;
            self.persist();
            if let Err(e) = self.dev.reboot() {
                log::error!("agent: {e}");
            }
            return true;
        }
        false
    }
}
