//! Command-line front end: `cwmpd check`, `cwmpd get`, `cwmpd run`. Parses arguments,
//! sets up logging (`run` where `[log] target` says, `check` and `get` on stderr), and prints
//! results; all real work is in the library. A vendor's own binary calls [`main_with`] with
//! its handlers (`examples/vendor_handler.rs`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::backend::Handler;
use crate::config::Config;
use crate::device::Device;

/// Makes a vendor's handlers: `(name, handler)` pairs registered after the built-ins. Called
/// once for each device the command opens.
pub type Handlers<'a> = &'a dyn Fn() -> Vec<(String, Box<dyn Handler>)>;

const USAGE: &str = "usage:
  cwmpd check [--config FILE]          validate config, data model and board; print counts
  cwmpd get [--config FILE] PATH...    print live values (`Path = value`), no ACS needed
  cwmpd run [--config FILE]            run the agent (TR-069 sessions with the ACS); logs
                                       where [log] target says (stderr or syslog)
  cwmpd --version | --help

Without --config the embedded default is used (a demo on loopback, paths relative to the
current directory).";

/// Parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Check {
        config: Option<PathBuf>,
    },
    Get {
        config: Option<PathBuf>,
        paths: Vec<String>,
    },
    Run {
        config: Option<PathBuf>,
    },
    Help,
    Version,
}

/// A command line that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum UsageError {
    /// Nothing after `cwmpd`.
    NoCommand,
    /// An option that needs a value came last.
    MissingValue(&'static str),
    /// An option no command takes.
    UnknownOption(String),
    /// A verb that is not a command.
    UnknownCommand(String),
    /// `check`/`run` with paths, `get` without.
    Paths(&'static str),
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UsageError::NoCommand => write!(f, "no command given"),
            UsageError::MissingValue(o) => write!(f, "{o} needs a file"),
            UsageError::UnknownOption(o) => write!(f, "unknown option {o}"),
            UsageError::UnknownCommand(c) => write!(f, "unknown command {c:?}"),
            UsageError::Paths(m) => f.write_str(m),
        }
    }
}

/// Why `check` or `get` could not open the device.
#[derive(Debug)]
enum LoadError {
    Config(crate::config::ConfigError),
    Device(crate::device::SetupError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Config(e) => write!(f, "{e}"),
            LoadError::Device(e) => write!(f, "{e}"),
        }
    }
}

fn parse(args: &[String]) -> Result<Command, UsageError> {
    let mut it = args.iter();
    let verb = match it.next() {
        None => return Err(UsageError::NoCommand),
        Some(v) => v.as_str(),
    };
    let mut config = None;
    let mut rest = Vec::new();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" | "-c" => {
                config = Some(PathBuf::from(
                    it.next().ok_or(UsageError::MissingValue("--config"))?,
                ))
            }
            s if s.starts_with("--config=") => {
                config = Some(PathBuf::from(&s["--config=".len()..]))
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(UsageError::UnknownOption(s.to_string()))
            }
            s => rest.push(s.to_string()),
        }
    }
    match verb {
        "check" if rest.is_empty() => Ok(Command::Check { config }),
        "check" => Err(UsageError::Paths("check takes no paths")),
        "run" if rest.is_empty() => Ok(Command::Run { config }),
        "run" => Err(UsageError::Paths("run takes no paths")),
        "get" if !rest.is_empty() => Ok(Command::Get {
            config,
            paths: rest,
        }),
        "get" => Err(UsageError::Paths(
            "get needs at least one path, e.g. Device.",
        )),
        "-h" | "--help" | "help" => Ok(Command::Help),
        "-V" | "--version" | "version" => Ok(Command::Version),
        other => Err(UsageError::UnknownCommand(other.to_string())),
    }
}

fn load(config: &Option<PathBuf>, handlers: Handlers) -> Result<(Config, Device), LoadError> {
    let cfg = Config::load(config.as_deref()).map_err(LoadError::Config)?;
    crate::logger::init_stderr(&cfg.log.level);
    let dev = Device::open_with(&cfg, handlers()).map_err(LoadError::Device)?;
    Ok((cfg, dev))
}

/// Runs the command line; returns the process exit code.
pub fn main(args: &[String]) -> ExitCode {
    main_with(args, &Vec::new)
}

/// Runs the command line with a vendor's handlers as well as the built-in ones.
pub fn main_with(args: &[String], handlers: Handlers) -> ExitCode {
    let cmd = match parse(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cwmpd: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match cmd {
        Command::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("cwmpd {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Run { config } => {
            let cfg = match Config::load(config.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("cwmpd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            crate::logger::init(&cfg.log);
            let signals = match crate::agent::block_signals() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("cwmpd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let (user, state_dir) = (cfg.agent.clone(), cfg.paths.state_dir.clone());
            let mut agent = match crate::agent::Agent::with_handlers(cfg, handlers()) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("cwmpd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // What needs root is open (the listener, netlink, the state): become the
            // configured user before any thread starts.
            if let Some(name) = &user.user {
                let caps: Vec<u32> = user
                    .capabilities
                    .iter()
                    .filter_map(|c| crate::privilege::capability(c))
                    .collect();
                if let Err(e) = crate::privilege::switch(name, &caps, &state_dir) {
                    log::error!("agent: {e}");
                    eprintln!("cwmpd: {e}");
                    return ExitCode::FAILURE;
                }
                let kept = if user.capabilities.is_empty() {
                    "none".to_string()
                } else {
                    user.capabilities.join(", ")
                };
                log::info!("agent: running as {name} with capabilities {kept}");
            }
            let (flag, waker) = agent.shutdown_handle();
            crate::agent::watch_signals(signals, flag, waker);
            if let Some(a) = agent.cr_addr() {
                log::info!("agent: connection requests on http://{a}");
            }
            agent.run();
            ExitCode::SUCCESS
        }
        Command::Check { config } => match load(&config, handlers) {
            Err(e) => {
                eprintln!("cwmpd: {e}");
                ExitCode::FAILURE
            }
            Ok((cfg, mut dev)) => {
                let (objects, params) = dev.model.supported_counts();
                let live = match dev.model.get_values(&["Device."]) {
                    Ok(v) => v.len(),
                    Err(e) => {
                        eprintln!("cwmpd: reading the live tree: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                let failed = dev.model.read_errors.len();
                println!(
                    "config: {}",
                    config
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or("<embedded>".into())
                );
                println!(
                    "data model: {} objects, {} parameters loaded ({})",
                    dev.schema_objects,
                    dev.schema_params,
                    cfg.paths.datamodel.display()
                );
                println!(
                    "board: {} ({} objects, {} parameters supported)",
                    dev.board.name, objects, params
                );
                println!("live: {live} parameters mapped, {failed} unreadable now");
                // check and get never write state: the agent may be running and owns it.
                ExitCode::SUCCESS
            }
        },
        Command::Get { config, paths } => match load(&config, handlers) {
            Err(e) => {
                eprintln!("cwmpd: {e}");
                ExitCode::FAILURE
            }
            Ok((_, mut dev)) => {
                let refs: Vec<&str> = paths.iter().map(|s| s.as_str()).collect();
                // Printed as they are read: memory does not grow with the tree.
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let mut failed = None;
                let result = dev.model.stream_values(&refs, &mut |v| match writeln!(
                    out,
                    "{} = {}",
                    v.name, v.value
                ) {
                    Ok(()) => std::ops::ControlFlow::Continue(()),
                    Err(e) => {
                        failed = Some(e);
                        std::ops::ControlFlow::Break(())
                    }
                });
                let flushed = out.flush();
                let code = match (result, failed.map_or(flushed, Err)) {
                    (Ok(_), Ok(())) => ExitCode::SUCCESS,
                    (Ok(_), Err(e)) => {
                        eprintln!("cwmpd: writing the values: {e}");
                        ExitCode::FAILURE
                    }
                    (Err(e), _) => {
                        eprintln!("cwmpd: {} ({e})", crate::soap::fault::Fault::from(&e).code);
                        ExitCode::FAILURE
                    }
                };
                code
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_commands_and_options() {
        assert_eq!(parse(&s(&["check"])), Ok(Command::Check { config: None }));
        assert_eq!(
            parse(&s(&["check", "--config", "a.toml"])),
            Ok(Command::Check {
                config: Some("a.toml".into())
            })
        );
        assert_eq!(
            parse(&s(&["get", "--config=a.toml", "Device.", "Device.IP."])),
            Ok(Command::Get {
                config: Some("a.toml".into()),
                paths: s(&["Device.", "Device.IP."])
            })
        );
        assert!(matches!(parse(&s(&["get"])), Err(UsageError::Paths(_))));
        assert_eq!(
            parse(&s(&["check", "--nope"])),
            Err(UsageError::UnknownOption("--nope".into()))
        );
        assert_eq!(
            parse(&s(&["check", "--config"])),
            Err(UsageError::MissingValue("--config"))
        );
        assert_eq!(
            parse(&s(&["frobnicate"])),
            Err(UsageError::UnknownCommand("frobnicate".into()))
        );
        assert_eq!(parse(&[]), Err(UsageError::NoCommand));
    }
}
