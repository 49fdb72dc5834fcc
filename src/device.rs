//! Opening a device: config → board → the data-model files it needs → handlers → checks →
//! saved state → a live [`Model`]. Used by `cwmpd check`, `cwmpd get` and the agent.

use std::fmt;
use std::path::PathBuf;

use crate::backend::builtin::Shared;
use crate::backend::Registry;
use crate::board::{self, Board};
use crate::codec::toml::{FieldError, Fields, Table, Value};
use crate::config::Config;
use crate::model::state::ModelState;
use crate::model::Model;

/// The one durable state file inside `state_dir`: the agent's state (events, retry count,
/// bootstrap marker, CommandKeys) and the model's (instance numbers, attributes, ParameterKey),
/// written together, atomically, at most once per loop turn.
pub const STATE_FILE: &str = "state.toml";
/// Version of the state file format.
pub const STATE_VERSION: u32 = 1;

/// The state file's layout: `[model]` and `[agent]`.
#[derive(Debug, Clone, Default)]
struct StateDoc {
    model: ModelState,
    /// The agent's section, kept opaque here (the agent owns its type).
    agent: Option<Table>,
}

impl StateDoc {
    fn from_table(table: Table) -> Result<StateDoc, FieldError> {
        let mut f = Fields::new(table);
        let model = ModelState::from_fields(&mut f.sub("model")?)?;
        let agent = f.opt_table("agent")?;
        Ok(StateDoc { model, agent })
    }
}

/// Why a device could not be opened.
#[derive(Debug)]
pub enum SetupError {
    /// The board file is unreadable or malformed.
    Board(board::BoardError),
    /// The board does not fit the schema or the handlers (every problem listed).
    Bindings(Vec<board::BoardError>),
    /// The data model could not be loaded.
    Schema(String),
    /// A handler could not be set up from the board's `[handlers]` settings.
    Handlers(String),
    /// The model could not be built.
    Model(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Board(e) => write!(f, "{e}"),
            SetupError::Bindings(list) => {
                write!(
                    f,
                    "board does not fit ({} problem{}):",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                )?;
                for e in list {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
            SetupError::Schema(m) => write!(f, "data model: {m}"),
            SetupError::Handlers(m) => write!(f, "handlers: {m}"),
            SetupError::Model(m) => write!(f, "model: {m}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// How long the board's reboot or factory-reset command may run.
pub const ACTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Why a device action (Reboot, FactoryReset) could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionError {
    /// The board names no command for it (`[board] reboot` / `factory_reset`).
    NoCommand(&'static str),
    /// The command failed, timed out or could not start.
    Command {
        /// `reboot` or `factory reset`.
        action: &'static str,
        /// What went wrong.
        error: crate::backend::BackendError,
    },
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionError::NoCommand(a) => {
                write!(f, "device: {a} requested but the board names no command")
            }
            ActionError::Command { action, error } => write!(f, "device: {action} failed: {error}"),
        }
    }
}

impl std::error::Error for ActionError {}

/// An opened device.
pub struct Device {
    /// The live model.
    pub model: Model,
    /// The board it was built from.
    pub board: Board,
    /// What built-in handlers share with the agent (the diagnostics' tests).
    pub shared: Shared,
    /// Objects in the loaded data-model files.
    pub schema_objects: usize,
    /// Parameters in the loaded data-model files.
    pub schema_params: usize,
    state_file: PathBuf,
    state_dir: PathBuf,
    agent_section: Option<Table>,
}

/// All handlers a board may use: the built-ins, configured from the board's `[handlers]`
/// and connected to `shared`.
pub fn registry(
    board: &Board,
    state_dir: &std::path::Path,
    shared: &Shared,
) -> Result<Registry, SetupError> {
    crate::backend::builtin::registry(&board.handlers, state_dir, shared)
        .map_err(SetupError::Handlers)
}

/// Configuration values boards may use as `{name}` (initial ManagementServer values).
pub fn config_globals(cfg: &Config) -> Vec<(&'static str, String)> {
    let cr = &cfg.connection_request;
    let cr_url = if cr.url.is_empty() {
        crate::cr::derive_url(&cr.listen, &cr.path, &cfg.acs.url)
    } else {
        cr.url.clone()
    };
    vec![
        ("acs_url", cfg.acs.url.clone()),
        ("acs_username", cfg.acs.username.clone()),
        ("acs_password", cfg.acs.password.clone()),
        (
            "periodic_inform_enable",
            cfg.acs.periodic_inform_enable.to_string(),
        ),
        (
            "periodic_inform_interval",
            cfg.acs.periodic_inform_interval.to_string(),
        ),
        ("connection_request_username", cr.username.clone()),
        ("connection_request_password", cr.password.clone()),
        ("connection_request_url", cr_url),
    ]
}

impl Device {
    /// Opens the device described by a config; `extra` handlers (a vendor's) are registered
    /// after the built-ins and may replace them.
    pub fn open_with(
        cfg: &Config,
        extra: Vec<(String, Box<dyn crate::backend::Handler>)>,
    ) -> Result<Device, SetupError> {
        let board = board::parse(&cfg.paths.board).map_err(SetupError::Board)?;
        let roots = board::roots(&board);
        let root_refs: Vec<&str> = roots.iter().map(|s| s.as_str()).collect();
        let needed = board::needed_objects(&board);
        let schema = crate::model::load::load_some(&cfg.paths.datamodel, Some(&root_refs), &|p| {
            needed.contains(p)
        })
        .map_err(|e| SetupError::Schema(e.to_string()))?;
        let shared = Shared::default();
        let mut reg = registry(&board, &cfg.paths.state_dir, &shared)?;
        for (name, h) in extra {
            reg.register(&name, h);
        }
        let errors = board::validate(&board, &schema, &reg);
        if !errors.is_empty() {
            return Err(SetupError::Bindings(errors));
        }
        let state_file = cfg.paths.state_dir.join(STATE_FILE);
        let doc = match crate::store::read_with(&state_file, STATE_VERSION, StateDoc::from_table) {
            Ok(d) => d.unwrap_or_default(),
            Err(e) => {
                log::warn!(
                    "{e}; starting from a fresh state (instance numbers, attributes, events)"
                );
                StateDoc::default()
            }
        };
        let state = doc.model;
        let (schema_objects, schema_params) = schema.counts();
        let mut model = Model::new(&schema, &board.objects, reg, state)
            .map_err(|e| SetupError::Model(e.to_string()))?;
        for (k, v) in config_globals(cfg) {
            model.set_global(k, &v);
        }
        Ok(Device {
            model,
            board,
            shared,
            schema_objects,
            schema_params,
            state_file,
            state_dir: cfg.paths.state_dir.clone(),
            agent_section: doc.agent,
        })
    }

    /// Opens the device with the built-in handlers only.
    pub fn open(cfg: &Config) -> Result<Device, SetupError> {
        Device::open_with(cfg, Vec::new())
    }

    /// The agent's saved state read by `read`, or its default when there is none or it cannot
    /// be read.
    pub fn agent_state<T: Default>(&self, read: fn(&mut Fields) -> Result<T, FieldError>) -> T {
        let Some(section) = self.agent_section.clone() else {
            return T::default();
        };
        match read(&mut Fields::new(section)) {
            Ok(s) => s,
            Err(e) => {
                log::warn!(
                    "{}: agent state unreadable ({e}); starting fresh",
                    self.state_file.display()
                );
                T::default()
            }
        }
    }

    /// Ends a loop turn: lets handlers write what they keep, then writes the state file if the
    /// model's state changed or the agent passes a changed section. Failures are logged (the
    /// agent keeps running).
    pub fn persist_with(&mut self, agent: Option<Table>) {
        for e in self.model.flush() {
            log::error!("cannot save: {e}");
        }
        let model_changed = self.model.take_dirty();
        if agent.is_none() && !model_changed {
            return;
        }
        if agent.is_some() {
            self.agent_section = agent;
        }
        let mut doc = Table::new();
        doc.insert("model".into(), Value::Table(self.model.state().to_table()));
        if let Some(agent) = &self.agent_section {
            doc.insert("agent".into(), Value::Table(agent.clone()));
        }
        if let Err(e) = crate::store::write_versioned(&self.state_file, STATE_VERSION, doc) {
            log::error!("{e}");
        }
    }

    /// Runs the board's reboot command (TR-069 A.3.2.9, after the session).
    pub fn reboot(&self) -> Result<(), ActionError> {
        run_action("reboot", &self.board.reboot)
    }

    /// Forgets everything cwmpd keeps (its state and stored values), then runs the board's
    /// factory-reset command (A.4.1.6).
    pub fn factory_reset(&mut self) -> Result<(), ActionError> {
        for f in [STATE_FILE, crate::backend::stored::STORED_FILE] {
            let _ = std::fs::remove_file(self.state_dir.join(f));
        }
        run_action("factory reset", &self.board.factory_reset)
    }
}

fn run_action(action: &'static str, argv: &Option<Vec<String>>) -> Result<(), ActionError> {
    match argv {
        Some(argv) if !argv.is_empty() => {
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            log::info!("device: {action}: {}", argv.join(" "));
            crate::backend::command::run(&refs, ACTION_TIMEOUT)
                .map(|_| ())
                .map_err(|error| ActionError::Command { action, error })
        }
        _ => Err(ActionError::NoCommand(action)),
    }
}
