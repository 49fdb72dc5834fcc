//! The agent's configuration file (`cwmpd.toml`): ACS, Connection Request, paths, logging.
//!
//! Every key is documented in README.md. Unknown keys are errors (a typo must not silently
//! fall back to a default). Relative paths are resolved against the directory of the config
//! file; for the embedded default configuration, against the current directory.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The configuration compiled into the binary: a demo against a test ACS on loopback.
pub const EMBEDDED_DEFAULT: &str = include_str!("../config/default.toml");

/// Largest config file accepted.
pub const MAX_CONFIG_BYTES: u64 = 256 * 1024;

/// A configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or `<embedded>`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "config: {}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "config: {}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// `[acs]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acs {
    /// ACS URL (http or https).
    pub url: String,
    /// Username for HTTP authentication to the ACS.
    #[serde(default)]
    pub username: String,
    /// Password for HTTP authentication to the ACS.
    #[serde(default)]
    pub password: String,
    /// Initial Device.ManagementServer.PeriodicInformEnable.
    #[serde(default = "yes")]
    pub periodic_inform_enable: bool,
    /// Initial Device.ManagementServer.PeriodicInformInterval, seconds (≥ 1).
    #[serde(default = "default_interval")]
    pub periodic_inform_interval: u32,
    /// PEM file of CA certificates trusted for the ACS (default: the system store).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate presented to the ACS.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification (logged as a warning on every session).
    #[serde(default)]
    pub insecure: bool,
    /// Seconds to wait for each HTTP round trip.
    #[serde(default = "default_timeout")]
    pub timeout: u32,
}

/// `[connection_request]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRequest {
    /// Listen address, `ip:port`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// URL path that accepts Connection Requests.
    #[serde(default = "default_cr_path")]
    pub path: String,
    /// Username the ACS must use (Digest).
    #[serde(default)]
    pub username: String,
    /// Password the ACS must use (Digest).
    #[serde(default)]
    pub password: String,
    /// ConnectionRequestURL to report instead of the one derived from `listen`.
    #[serde(default)]
    pub url: String,
}

/// `[paths]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// Directory of generated data-model TOML files.
    #[serde(default = "default_datamodel")]
    pub datamodel: PathBuf,
    /// Board file.
    #[serde(default = "default_board")]
    pub board: PathBuf,
    /// Directory for durable state (must survive reboots).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
}

/// Where `cwmpd run` writes its log records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogTarget {
    /// One line per record on standard error (procd or a terminal collects it).
    #[default]
    Stderr,
    /// RFC 3164 datagrams to the local syslog socket (`syslog_socket`), facility daemon.
    Syslog,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// error, warn, info, debug or trace.
    #[serde(default = "default_level")]
    pub level: String,
    /// stderr or syslog (`check` and `get` always log to stderr: a person is reading).
    #[serde(default)]
    pub target: LogTarget,
    /// The syslog daemon's datagram socket, used when `target` is syslog.
    #[serde(default = "default_syslog_socket")]
    pub syslog_socket: PathBuf,
}

/// `[notify]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Seconds between value-change checks of notified parameters (0 turns checking off).
    #[serde(default = "default_notify_interval")]
    pub interval: u32,
    /// Check at once when the kernel reports a link or address change (rtnetlink events).
    #[serde(default = "default_true")]
    pub netlink: bool,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[acs]`
    pub acs: Acs,
    /// `[connection_request]`
    #[serde(default = "default_cr")]
    pub connection_request: ConnectionRequest,
    /// `[paths]`
    #[serde(default = "default_paths")]
    pub paths: Paths,
    /// `[log]`
    #[serde(default = "default_log")]
    pub log: Log,
    /// `[notify]`
    #[serde(default = "default_notify")]
    pub notify: Notify,
}

fn yes() -> bool {
    true
}
fn default_interval() -> u32 {
    3600
}
fn default_timeout() -> u32 {
    30
}
fn default_listen() -> String {
    "0.0.0.0:7547".into()
}
fn default_cr_path() -> String {
    "/".into()
}
fn default_datamodel() -> PathBuf {
    "/usr/share/cwmpd/datamodel".into()
}
fn default_board() -> PathBuf {
    "/etc/cwmpd/board.toml".into()
}
fn default_state_dir() -> PathBuf {
    "/etc/cwmpd/state".into()
}
fn default_level() -> String {
    "info".into()
}
fn default_syslog_socket() -> PathBuf {
    "/dev/log".into()
}
fn default_cr() -> ConnectionRequest {
    ConnectionRequest {
        listen: default_listen(),
        path: default_cr_path(),
        username: String::new(),
        password: String::new(),
        url: String::new(),
    }
}
fn default_paths() -> Paths {
    Paths {
        datamodel: default_datamodel(),
        board: default_board(),
        state_dir: default_state_dir(),
    }
}
fn default_true() -> bool {
    true
}
fn default_notify_interval() -> u32 {
    30
}
fn default_notify() -> Notify {
    Notify {
        interval: default_notify_interval(),
        netlink: true,
    }
}
fn default_log() -> Log {
    Log {
        level: default_level(),
        target: LogTarget::default(),
        syslog_socket: default_syslog_socket(),
    }
}

impl Config {
    /// Parses configuration text; `name` is used in errors, `base` resolves relative paths.
    pub fn parse(text: &str, name: &str, base: &Path) -> Result<Config, ConfigError> {
        let err = |line: usize, message: String| ConfigError {
            file: name.to_string(),
            line,
            message,
        };
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let line = crate::codec::lines::toml_error_line(text, &e);
            err(line, e.message().to_string())
        })?;
        if !(cfg.acs.url.starts_with("http://") || cfg.acs.url.starts_with("https://")) {
            return Err(err(
                0,
                format!(
                    "acs.url must be an http:// or https:// URL, not {:?}",
                    cfg.acs.url
                ),
            ));
        }
        if cfg.acs.periodic_inform_interval == 0 {
            return Err(err(
                0,
                "acs.periodic_inform_interval must be at least 1".into(),
            ));
        }
        if cfg.acs.timeout == 0 {
            return Err(err(0, "acs.timeout must be at least 1".into()));
        }
        if cfg
            .connection_request
            .listen
            .parse::<std::net::SocketAddr>()
            .is_err()
        {
            return Err(err(
                0,
                format!(
                    "connection_request.listen must be ip:port, not {:?}",
                    cfg.connection_request.listen
                ),
            ));
        }
        if !cfg.connection_request.path.starts_with('/') {
            return Err(err(0, "connection_request.path must start with /".into()));
        }
        if !["error", "warn", "info", "debug", "trace"].contains(&cfg.log.level.as_str()) {
            return Err(err(
                0,
                format!(
                    "log.level must be error, warn, info, debug or trace, not {:?}",
                    cfg.log.level
                ),
            ));
        }
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut cfg.paths.datamodel);
        fix(&mut cfg.paths.board);
        fix(&mut cfg.paths.state_dir);
        fix(&mut cfg.log.syslog_socket);
        for p in [
            &mut cfg.acs.ca_file,
            &mut cfg.acs.client_cert,
            &mut cfg.acs.client_key,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        Ok(cfg)
    }

    /// Loads a config file, or the embedded default when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            None => Config::parse(EMBEDDED_DEFAULT, "<embedded>", Path::new(".")),
            Some(p) => {
                let name = p.display().to_string();
                let io = |e: std::io::Error| ConfigError {
                    file: name.clone(),
                    line: 0,
                    message: format!("cannot read: {e}"),
                };
                let meta = std::fs::metadata(p).map_err(io)?;
                if meta.len() > MAX_CONFIG_BYTES {
                    return Err(ConfigError {
                        file: name,
                        line: 0,
                        message: format!("larger than {MAX_CONFIG_BYTES} bytes"),
                    });
                }
                let text = std::fs::read_to_string(p).map_err(io)?;
                Config::parse(&text, &name, p.parent().unwrap_or(Path::new(".")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let c = Config::load(None).unwrap();
        assert!(c.acs.url.starts_with("http://127.0.0.1"));
        assert_eq!(c.paths.board, Path::new("./board/linux.toml"));
    }

    #[test]
    fn minimal_config_gets_defaults_and_resolves_paths() {
        let c = Config::parse(
            "[acs]\nurl = \"https://acs.example/\"\n[paths]\nboard = \"b.toml\"\n",
            "t",
            Path::new("/etc/x"),
        )
        .unwrap();
        assert_eq!(c.acs.periodic_inform_interval, 3600);
        assert!(c.acs.periodic_inform_enable);
        assert_eq!(c.connection_request.listen, "0.0.0.0:7547");
        assert_eq!(c.paths.board, Path::new("/etc/x/b.toml"));
        assert_eq!(c.paths.state_dir, Path::new("/etc/cwmpd/state"));
        assert_eq!(c.log.target, LogTarget::Stderr);
        assert_eq!(c.log.syslog_socket, Path::new("/dev/log"));
    }

    #[test]
    fn log_target_and_socket_are_read_and_resolved() {
        let c = Config::parse(
            "[acs]\nurl = \"http://x\"\n[log]\ntarget = \"syslog\"\nsyslog_socket = \"run/log\"\n",
            "t",
            Path::new("/etc/x"),
        )
        .unwrap();
        assert_eq!(c.log.target, LogTarget::Syslog);
        assert_eq!(c.log.syslog_socket, Path::new("/etc/x/run/log"));
        let c = Config::parse(
            "[acs]\nurl = \"http://x\"\n[log]\ntarget = \"stderr\"\n",
            "t",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(c.log.target, LogTarget::Stderr);
    }

    #[test]
    fn rejects_bad_values_with_a_clear_message() {
        let cases = [
            ("[acs]\nurl = \"ftp://x\"\n", "http"),
            (
                "[acs]\nurl = \"http://x\"\nperiodic_inform_interval = 0\n",
                "at least 1",
            ),
            (
                "[acs]\nurl = \"http://x\"\n[connection_request]\nlisten = \"nope\"\n",
                "ip:port",
            ),
            (
                "[acs]\nurl = \"http://x\"\nuser = \"typo\"\n",
                "unknown field",
            ),
            (
                "[acs]\nurl = \"http://x\"\n[log]\nlevel = \"loud\"\n",
                "log.level",
            ),
            ("[acs]\nurl = 5\n", "string"),
            (
                "[acs]\nurl = \"http://x\"\n[log]\ntarget = \"file\"\n",
                "unknown variant `file`, expected `stderr` or `syslog`",
            ),
        ];
        for (text, want) in cases {
            let e = Config::parse(text, "t", Path::new(".")).unwrap_err();
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
        let e = Config::parse(
            "[acs]\nurl = \"http://x\"\nuser = \"typo\"\n",
            "t",
            Path::new("."),
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
    }
}
