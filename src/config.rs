//! The agent's configuration file (`cwmpd.toml`): ACS, Connection Request, paths, logging.
//!
//! Every key is documented in README.md. Unknown keys are errors (a typo must not silently
//! fall back to a default). Relative paths are resolved against the directory of the config
//! file; for the embedded default configuration, against the current directory.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::codec::toml::{self, FieldResult, Fields};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs {
    /// ACS URL (http or https).
    pub url: String,
    /// Username for HTTP authentication to the ACS.
    pub username: String,
    /// Password for HTTP authentication to the ACS.
    pub password: String,
    /// Initial Device.ManagementServer.PeriodicInformEnable.
    pub periodic_inform_enable: bool,
    /// Initial Device.ManagementServer.PeriodicInformInterval, seconds (≥ 1).
    pub periodic_inform_interval: u32,
    /// PEM file of CA certificates trusted for the ACS (default: the system store).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate presented to the ACS.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification (logged as a warning on every session).
    pub insecure: bool,
    /// Seconds one HTTP round trip may take as a whole: connecting, the request and the
    /// whole response (in a file transfer: the longest wait for progress).
    pub timeout: u32,
    /// Seconds one CWMP session may take, all its round trips together; a session that
    /// passes it fails (and the retry back-off applies).
    pub session_timeout: u32,
    /// Answer a Basic challenge (the ACS's or a file server's) over plain http, which sends
    /// the password in clear. Digest over http and anything over https need no switch.
    pub allow_basic_over_http: bool,
}

/// `[connection_request]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// Listen address, `ip:port`.
    pub listen: String,
    /// URL path that accepts Connection Requests.
    pub path: String,
    /// Username the ACS must use (Digest).
    pub username: String,
    /// Password the ACS must use (Digest).
    pub password: String,
    /// ConnectionRequestURL to report instead of the one derived from `listen`.
    pub url: String,
}

/// `[paths]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Directory of generated data-model TOML files.
    pub datamodel: PathBuf,
    /// Board file.
    pub board: PathBuf,
    /// Directory for durable state (must survive reboots).
    pub state_dir: PathBuf,
}

/// Where `cwmpd run` writes its log records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogTarget {
    /// One line per record on standard error (procd or a terminal collects it).
    #[default]
    Stderr,
    /// RFC 3164 datagrams to the local syslog socket (`syslog_socket`), facility daemon.
    Syslog,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// error, warn, info, debug or trace.
    pub level: String,
    /// stderr or syslog (`check` and `get` always log to stderr: a person is reading).
    pub target: LogTarget,
    /// The syslog daemon's datagram socket, used when `target` is syslog.
    pub syslog_socket: PathBuf,
}

/// `[notify]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// Seconds between value-change checks of notified parameters (0 turns checking off).
    pub interval: u32,
    /// Check at once when the kernel reports a link or address change (rtnetlink events).
    pub netlink: bool,
}

/// `[agent]`: who the agent runs as once it has opened what needs root (see
/// [`crate::privilege`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Agent {
    /// The user to become; None stays as started (root on a router).
    pub user: Option<String>,
    /// The capabilities kept after becoming `user` (names as in
    /// [`crate::privilege::CAPABILITIES`], default [`crate::privilege::DEFAULT_CAPABILITIES`]).
    pub capabilities: Vec<String>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[acs]`
    pub acs: Acs,
    /// `[connection_request]`
    pub connection_request: ConnectionRequest,
    /// `[paths]`
    pub paths: Paths,
    /// `[log]`
    pub log: Log,
    /// `[notify]`
    pub notify: Notify,
    /// `[agent]`
    pub agent: Agent,
}

fn default_interval() -> u32 {
    3600
}
fn default_timeout() -> u32 {
    30
}
fn default_session_timeout() -> u32 {
    300
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
fn default_notify_interval() -> u32 {
    30
}

impl LogTarget {
    /// The target named in the file.
    fn parse(s: &str) -> Option<LogTarget> {
        match s {
            "stderr" => Some(LogTarget::Stderr),
            "syslog" => Some(LogTarget::Syslog),
            _ => None,
        }
    }
}

impl Config {
    /// Reads a parsed file field by field: defaults for what is absent, unknown keys refused.
    fn read(mut f: Fields) -> FieldResult<Config> {
        if !f.has("acs") {
            return Err(f.error("acs", "missing"));
        }
        let mut a = f.sub("acs")?;
        let timeout = a.opt_int("timeout")?.unwrap_or_else(default_timeout);
        let acs = Acs {
            url: a.str("url")?,
            username: a.opt_str("username")?.unwrap_or_default(),
            password: a.opt_str("password")?.unwrap_or_default(),
            periodic_inform_enable: a.opt_bool("periodic_inform_enable")?.unwrap_or(true),
            periodic_inform_interval: a
                .opt_int("periodic_inform_interval")?
                .unwrap_or_else(default_interval),
            ca_file: a.opt_str("ca_file")?.map(PathBuf::from),
            client_cert: a.opt_str("client_cert")?.map(PathBuf::from),
            client_key: a.opt_str("client_key")?.map(PathBuf::from),
            insecure: a.flag("insecure")?,
            timeout,
            // Never shorter than one round trip when not given.
            session_timeout: a
                .opt_int("session_timeout")?
                .unwrap_or_else(|| default_session_timeout().max(timeout)),
            allow_basic_over_http: a.flag("allow_basic_over_http")?,
        };
        a.finish()?;
        let mut c = f.sub("connection_request")?;
        let connection_request = ConnectionRequest {
            listen: c.opt_str("listen")?.unwrap_or_else(default_listen),
            path: c.opt_str("path")?.unwrap_or_else(default_cr_path),
            username: c.opt_str("username")?.unwrap_or_default(),
            password: c.opt_str("password")?.unwrap_or_default(),
            url: c.opt_str("url")?.unwrap_or_default(),
        };
        c.finish()?;
        let mut p = f.sub("paths")?;
        let path = |p: &mut Fields, k: &str, default: fn() -> PathBuf| {
            p.opt_str(k)
                .map(|s| s.map(PathBuf::from).unwrap_or_else(default))
        };
        let paths = Paths {
            datamodel: path(&mut p, "datamodel", default_datamodel)?,
            board: path(&mut p, "board", default_board)?,
            state_dir: path(&mut p, "state_dir", default_state_dir)?,
        };
        p.finish()?;
        let mut l = f.sub("log")?;
        let log = Log {
            level: l.opt_str("level")?.unwrap_or_else(default_level),
            target: l
                .opt_parse("target", LogTarget::parse, "`stderr` or `syslog`")?
                .unwrap_or_default(),
            syslog_socket: path(&mut l, "syslog_socket", default_syslog_socket)?,
        };
        l.finish()?;
        let mut n = f.sub("notify")?;
        let notify = Notify {
            interval: n
                .opt_int("interval")?
                .unwrap_or_else(default_notify_interval),
            netlink: n.opt_bool("netlink")?.unwrap_or(true),
        };
        n.finish()?;
        let mut g = f.sub("agent")?;
        let user = g.opt_str("user")?;
        if user.as_deref() == Some("") {
            return Err(g.error("user", "must name a user"));
        }
        let capabilities = match g.opt_strings("capabilities")? {
            Some(list) => list,
            None => crate::privilege::DEFAULT_CAPABILITIES
                .iter()
                .map(|c| c.to_string())
                .collect(),
        };
        if let Some(bad) = capabilities
            .iter()
            .find(|c| crate::privilege::capability(c).is_none())
        {
            let known: Vec<&str> = crate::privilege::CAPABILITIES
                .iter()
                .map(|(n, _, _)| *n)
                .collect();
            return Err(g.error(
                "capabilities",
                format!("unknown capability {bad:?} (known: {})", known.join(", ")),
            ));
        }
        let agent = Agent { user, capabilities };
        g.finish()?;
        f.finish()?;
        Ok(Config {
            acs,
            connection_request,
            paths,
            log,
            notify,
            agent,
        })
    }

    /// Parses configuration text; `name` is used in errors, `base` resolves relative paths.
    pub fn parse(text: &str, name: &str, base: &Path) -> Result<Config, ConfigError> {
        let err = |line: usize, message: String| ConfigError {
            file: name.to_string(),
            line,
            message,
        };
        let (table, lines) = toml::parse_with_lines(text).map_err(|e| err(e.line, e.message))?;
        let mut cfg =
            Config::read(Fields::with_lines(table, &lines)).map_err(|e| err(e.line, e.message))?;
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
        if cfg.acs.session_timeout < cfg.acs.timeout {
            return Err(err(
                0,
                "acs.session_timeout must be at least acs.timeout".into(),
            ));
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
        assert_eq!((c.acs.timeout, c.acs.session_timeout), (30, 300));
        assert!(!c.acs.allow_basic_over_http);
        let long = Config::parse(
            "[acs]\nurl = \"http://x\"\ntimeout = 600\n",
            "t",
            Path::new("."),
        );
        assert_eq!(
            long.unwrap().acs.session_timeout,
            600,
            "never shorter than a round trip"
        );
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
                "[acs]\nurl = \"http://x\"\ntimeout = 10\nsession_timeout = 5\n",
                "at least acs.timeout",
            ),
            (
                "[acs]\nurl = \"http://x\"\n[connection_request]\nlisten = \"nope\"\n",
                "ip:port",
            ),
            (
                "[acs]\nurl = \"http://x\"\nuser = \"typo\"\n",
                "`acs.user`: unknown key",
            ),
            (
                "[acs]\nurl = \"http://x\"\n[log]\nlevel = \"loud\"\n",
                "log.level",
            ),
            ("[acs]\nurl = 5\n", "string"),
            (
                "[acs]\nurl = \"http://x\"\n[log]\ntarget = \"file\"\n",
                "`log.target`: `file` is not `stderr` or `syslog`",
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

    #[test]
    fn every_field_error_names_its_key_and_line() {
        for (text, line, want) in [
            (
                "[acs]\nurl = \"http://x\"\n[notify]\ninterval = 5\ncolour = 1\n",
                5,
                "`notify.colour`: unknown key",
            ),
            (
                "[acs]\nurl = \"http://x\"\ntimeout = 4294967296\n",
                3,
                "`acs.timeout`: 4294967296 is out of range",
            ),
            ("[acs]\nusername = \"u\"\n", 1, "`acs.url`: missing"),
            ("[paths]\nboard = \"b\"\n", 0, "`acs`: missing"),
            (
                "[acs]\nurl = \"http://x\"\n[extra]\n",
                3,
                "`extra`: unknown key",
            ),
            (
                "[acs]\nurl = \"http://x\"\ninsecure = \"yes\"\n",
                3,
                "`acs.insecure`: expected true or false, found string",
            ),
            (
                "[acs]\nurl = \"http://x\"\n[paths]\nstate_dir = [\"a\"]\n",
                4,
                "`paths.state_dir`: expected a string, found array",
            ),
            ("[acs]\nurl = \"http://x\"\n[log\n", 3, "expected"),
        ] {
            let e = Config::parse(text, "t", Path::new(".")).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn every_key_is_read() {
        let c = Config::parse(
            "[acs]\nurl = \"https://a/\"\nusername = \"u\"\npassword = \"p\"\nperiodic_inform_enable = false\n\
             periodic_inform_interval = 60\nca_file = \"ca.pem\"\nclient_cert = \"/c.pem\"\nclient_key = \"k.pem\"\n\
             insecure = true\ntimeout = 5\nsession_timeout = 60\nallow_basic_over_http = true\n\
             [connection_request]\nlisten = \"127.0.0.1:7548\"\npath = \"/cr\"\nusername = \"cu\"\npassword = \"cp\"\nurl = \"http://me/\"\n\
             [paths]\ndatamodel = \"dm\"\nstate_dir = \"/s\"\n[log]\nlevel = \"debug\"\n[notify]\ninterval = 0\nnetlink = false\n",
            "t",
            Path::new("/b"),
        )
        .unwrap();
        let a = &c.acs;
        assert_eq!((a.username.as_str(), a.password.as_str()), ("u", "p"));
        assert!(!a.periodic_inform_enable && a.insecure);
        assert_eq!((a.periodic_inform_interval, a.timeout), (60, 5));
        assert_eq!(a.session_timeout, 60);
        assert!(a.allow_basic_over_http);
        assert_eq!(a.ca_file.as_deref(), Some(Path::new("/b/ca.pem")));
        assert_eq!(a.client_cert.as_deref(), Some(Path::new("/c.pem")));
        assert_eq!(a.client_key.as_deref(), Some(Path::new("/b/k.pem")));
        let cr = &c.connection_request;
        assert_eq!(
            [&cr.listen, &cr.path, &cr.username, &cr.password, &cr.url],
            ["127.0.0.1:7548", "/cr", "cu", "cp", "http://me/"]
        );
        assert_eq!(c.paths.datamodel, Path::new("/b/dm"));
        assert_eq!(c.paths.state_dir, Path::new("/s"));
        assert_eq!(c.paths.board, Path::new("/etc/cwmpd/board.toml"));
        assert_eq!(c.log.level, "debug");
        assert_eq!((c.notify.interval, c.notify.netlink), (0, false));
    }
}
