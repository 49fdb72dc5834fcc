//! The client's settings: the URL, credentials, TLS and the bounds of a round trip and of a
//! session (plain data, filled from the configuration by the agent and the transfers).

use std::time::Duration;

use crate::http::tls;

/// Default [`Settings::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`Settings::session_timeout`].
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(300);

/// Client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The URL (the ACS's, or a file's).
    pub url: String,
    /// HTTP username.
    pub username: String,
    /// HTTP password.
    pub password: String,
    /// TLS settings.
    pub tls: tls::TlsSettings,
    /// Longest round trip: resolving, connecting, the request and the whole response. In a
    /// streamed transfer, the longest wait for any progress.
    pub timeout: Duration,
    /// Longest session, all its round trips together.
    pub session_timeout: Duration,
    /// Answer a Basic challenge over plain http (the password would travel in clear).
    pub allow_basic_over_http: bool,
}

impl Settings {
    /// Settings for this URL with no credentials and the default bounds.
    pub fn new(url: &str) -> Settings {
        Settings {
            url: url.to_string(),
            username: String::new(),
            password: String::new(),
            tls: tls::TlsSettings::default(),
            timeout: DEFAULT_TIMEOUT,
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            allow_basic_over_http: false,
        }
    }
}
