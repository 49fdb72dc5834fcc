//! The agent's side of IP diagnostics: after a session that set DiagnosticsState to
//! Requested, each requested test runs in a worker thread (`diag::run`); its outcome goes back
//! to the `diagnostics` handler and queues `8 DIAGNOSTICS COMPLETE`.

use std::collections::BTreeMap;

use super::transfers::Report;
use super::Agent;
use crate::event::{code, Event};

impl Agent {
    /// Linux names of the IP interfaces, by path without the trailing dot.
    fn interface_names(&mut self) -> BTreeMap<String, String> {
        self.dev
            .model
            .get_values(&["Device.IP.Interface."])
            .unwrap_or_default()
            .into_iter()
            .filter_map(|pv| {
                pv.name
                    .strip_suffix(".Name")
                    .filter(|p| p.matches('.').count() == 3)
                    .map(|p| (p.to_string(), pv.value.clone()))
            })
            .collect()
    }

    /// Starts the tests the ACS requested in the session that just ended.
    pub(super) fn start_diagnostics(&mut self) {
        if !self.dev.shared.diagnostics.has_pending() {
            return;
        }
        let names = self.interface_names();
        let requested = self
            .dev
            .shared
            .diagnostics
            .requested(|path| names.get(path).cloned());
        for (test, generation, request) in requested {
            match request {
                Err(e) => {
                    log::warn!("diagnostics: {test}: {e}");
                    self.diagnostic_done(&test, generation, Err(e));
                }
                Ok(req) => {
                    log::info!("diagnostics: {test} started");
                    let (t1, t2) = (test.clone(), test.clone());
                    self.spawn_thread(
                        "diagnostics",
                        move || Report::Diagnostic {
                            test: t1,
                            generation,
                            outcome: Ok(crate::diag::run(&req)),
                        },
                        move |why| Report::Diagnostic {
                            test: t2.clone(),
                            generation,
                            outcome: Err(crate::diag::DiagError::Internal(why)),
                        },
                    );
                }
            }
        }
    }

    /// A test ended: results into the handler, 8 DIAGNOSTICS COMPLETE queued (TR-069 3.7.1.5:
    /// whatever the result). A stale run (the ACS changed the test meanwhile) is dropped.
    pub(super) fn diagnostic_done(
        &mut self,
        test: &str,
        generation: u64,
        outcome: Result<crate::diag::Outcome, crate::diag::DiagError>,
    ) {
        let d = &self.dev.shared.diagnostics;
        match (d.finish(test, generation, outcome), d.state(test)) {
            (true, state) => {
                log::info!("diagnostics: {test} ended: {state}");
                self.push(Event::new(code::DIAGNOSTICS_COMPLETE));
            }
            (false, _) => log::info!("diagnostics: {test}: result dropped (test changed)"),
        }
    }
}
