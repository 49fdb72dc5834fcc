//! The ManagementServer settings the loop follows (TR-181 `Device.ManagementServer.`): the
//! ACS URL and credentials, periodic inform, the retry back-off, the Connection Request
//! credentials. They are read through the model (where the board binds them: stored values,
//! UCI …) after every session, falling back to the configuration, so what the ACS sets takes
//! effect; the ACS client is built again only when its settings change.

use std::time::Duration;

use super::Agent;
use crate::event::{code, Event};
use crate::http;
use crate::session::backoff::RetryPolicy;

/// The parameters read, in this order.
const PATHS: [&str; 8] = [
    "Device.ManagementServer.URL",
    "Device.ManagementServer.PeriodicInformEnable",
    "Device.ManagementServer.PeriodicInformInterval",
    "Device.ManagementServer.PeriodicInformTime",
    "Device.ManagementServer.CWMPRetryMinimumWaitInterval",
    "Device.ManagementServer.CWMPRetryIntervalMultiplier",
    "Device.ManagementServer.Username",
    "Device.ManagementServer.ConnectionRequestUsername",
];

/// ManagementServer settings as the loop needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settings {
    pub url: String,
    pub username: String,
    pub periodic_enable: bool,
    pub periodic_interval: u32,
    pub periodic_time: Option<i64>,
    pub retry: RetryPolicy,
    pub cr_username: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            url: String::new(),
            username: String::new(),
            periodic_enable: false,
            periodic_interval: 3600,
            periodic_time: None,
            retry: RetryPolicy::default(),
            cr_username: String::new(),
        }
    }
}

/// The settings and the ACS client built from them.
#[derive(Default)]
pub(super) struct Management {
    pub settings: Settings,
    /// Built once (TLS setup reads the CA bundle) and again only when its settings change.
    pub client: Option<http::Client>,
}

impl Agent {
    /// Re-reads the ManagementServer values the loop depends on (one model operation);
    /// re-arms the periodic timer when its settings changed.
    pub(super) fn read_management(&mut self) {
        let mut v = self
            .dev
            .model
            .lookup(&PATHS)
            .into_iter()
            .map(Option::unwrap_or_default);
        let mut next = || v.next().unwrap_or_default();
        let (url, enable, interval, time) = (next(), next(), next(), next());
        let (minimum_wait, multiplier, username, cr_username) = (next(), next(), next(), next());
        let acs = &self.cfg.acs;
        let or = |v: String, fallback: &str| {
            if v.is_empty() {
                fallback.to_string()
            } else {
                v
            }
        };
        let s = Settings {
            url: or(url, &acs.url),
            username: or(username, &acs.username),
            periodic_enable: enable.is_empty() && acs.periodic_inform_enable || enable == "true",
            periodic_interval: interval
                .parse()
                .unwrap_or(acs.periodic_inform_interval)
                .max(1),
            periodic_time: crate::codec::datetime::parse(&time)
                .map(|d| d.unix)
                .filter(|t| *t > 0),
            retry: RetryPolicy {
                minimum_wait: minimum_wait.parse().unwrap_or(5),
                multiplier: multiplier.parse().unwrap_or(2000),
            },
            cr_username: or(cr_username, &self.cfg.connection_request.username),
        };
        let old = &self.management.settings;
        let periodic_changed = (s.periodic_enable, s.periodic_interval, s.periodic_time)
            != (
                old.periodic_enable,
                old.periodic_interval,
                old.periodic_time,
            );
        self.management.settings = s;
        if periodic_changed || self.timers.next_periodic.is_none() {
            self.arm_periodic();
        }
    }

    /// After a session: the settings the ACS may have changed take effect; a new ACS URL
    /// means a new BOOTSTRAP (TR-069 §3.2.1).
    pub(super) fn follow_management(&mut self) {
        let before = self.management.settings.url.clone();
        self.read_management();
        self.sync_cr_credentials();
        if self.management.settings.url != before {
            log::info!("agent: ACS URL changed to {}", self.management.settings.url);
            self.push(Event::new(code::BOOTSTRAP));
        }
    }

    /// A password the ACS may have set (read through its binding: every RPC reads it back
    /// empty), else the configuration's.
    fn secret(&mut self, path: &str, fallback: &str) -> String {
        match self.dev.model.secret(path) {
            Some(p) if !p.is_empty() => p,
            _ => fallback.to_string(),
        }
    }

    /// The client settings for a session now.
    pub(super) fn client_settings(&mut self) -> http::Settings {
        let fallback = self.cfg.acs.password.clone();
        let password = self.secret("Device.ManagementServer.Password", &fallback);
        http::Settings {
            url: self.management.settings.url.clone(),
            username: self.management.settings.username.clone(),
            password,
            tls: http::tls::TlsSettings {
                ca_file: self.cfg.acs.ca_file.clone(),
                client_cert: self.cfg.acs.client_cert.clone(),
                client_key: self.cfg.acs.client_key.clone(),
                insecure: self.cfg.acs.insecure,
            },
            timeout: Duration::from_secs(u64::from(self.cfg.acs.timeout)),
            // A session that outlives it fails: the post in progress returns the timeout.
            session_timeout: Duration::from_secs(u64::from(self.cfg.acs.session_timeout)),
            allow_basic_over_http: self.cfg.acs.allow_basic_over_http,
        }
    }

    /// Keeps the Connection Request listener on the credentials in the data model (ACSs such
    /// as GenieACS set ConnectionRequestUsername/Password and then use them).
    pub(super) fn sync_cr_credentials(&mut self) {
        let user = self.management.settings.cr_username.clone();
        let fallback = self.cfg.connection_request.password.clone();
        let pass = self.secret(
            "Device.ManagementServer.ConnectionRequestPassword",
            &fallback,
        );
        self.listener.set_credentials(&user, &pass);
    }

    /// TR-181 ManagementServer.PeriodicInformTime: informs happen at Time + k·Interval; an
    /// unknown Time means Interval from now.
    pub(super) fn arm_periodic(&mut self) {
        let s = &self.management.settings;
        if !s.periodic_enable {
            self.timers.next_periodic = None;
            return;
        }
        let interval = i64::from(s.periodic_interval);
        let secs = match s.periodic_time {
            Some(t0) => {
                let into = (self.clock.unix() - t0).rem_euclid(interval);
                if into == 0 {
                    interval
                } else {
                    interval - into
                }
            }
            None => interval,
        };
        let secs = u64::try_from(secs).unwrap_or(0);
        self.timers.next_periodic = Some(self.clock.now() + Duration::from_secs(secs));
        log::debug!("agent: next periodic inform in {secs} s");
    }
}
