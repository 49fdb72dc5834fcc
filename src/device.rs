//! Opening a device: config → board → the data-model files it needs → handlers → checks →
//! saved state → a live [`Model`]. Used by `cwmpd check`, `cwmpd get` and the agent.

use std::fmt;
use std::path::PathBuf;

use crate::backend::builtin::Shared;
use crate::backend::stored::{Values, STORED_FILE};
use crate::backend::Registry;
use crate::board::{self, Board};
use crate::codec::toml::{FieldError, Fields, Table, Value};
use crate::config::Config;
use crate::model::state::ModelState;
use crate::model::Model;
use crate::store::StoreError;

/// The one durable state file inside `state_dir`: the agent's state (events, retry count,
/// bootstrap marker, CommandKeys, what the ACS asked for), the model's (instance numbers,
/// attributes, ParameterKey) and the stored values, written together, atomically: before the
/// response to each RPC that changed them leaves, and at the end of a loop turn that changed
/// anything else.
pub const STATE_FILE: &str = "state.toml";
/// Version of the state file format.
pub const STATE_VERSION: u32 = 1;

/// The state file's layout: `[model]`, `[agent]` and `[stored]`.
#[derive(Debug, Default)]
struct StateDoc {
    model: ModelState,
    /// The agent's section, kept opaque here (the agent owns its type).
    agent: Option<Table>,
    /// The stored values (absent in files of earlier versions: they had `stored.toml`).
    stored: Option<Values>,
}

impl StateDoc {
    fn from_table(table: Table) -> Result<StateDoc, FieldError> {
        let mut f = Fields::new(table);
        let model = ModelState::from_fields(&mut f.sub("model")?)?;
        let agent = f.opt_table("agent")?;
        let stored = f.opt_table("stored")?.map(Values::from_table).transpose()?;
        Ok(StateDoc {
            model,
            agent,
            stored,
        })
    }
}

/// Writes the device's state: one atomic write of the whole file each time something in it
/// changed, never when nothing did.
pub struct Journal {
    state_file: PathBuf,
    stored: Values,
    /// The agent's section as last saved.
    agent: Option<Table>,
    /// `stored.toml` of an earlier version, removed once its values are in the state file.
    legacy: Option<PathBuf>,
    /// Atomic writes made (the flash budget's figures).
    pub writes: u64,
    /// Bytes they wrote.
    pub bytes: u64,
}

impl Journal {
    /// Saves the state when the model's state or the stored values changed, or `agent` (the
    /// agent's section) differs from what was saved. Returns whether it wrote; on failure
    /// nothing counts as saved.
    ///
    /// With `all`, also what may wait for the next write ([`Model::unsaved`]: new table rows
    /// below the reserved instance numbers), as at shutdown.
    pub fn save(
        &mut self,
        model: &mut Model,
        agent: Option<Table>,
        all: bool,
    ) -> Result<bool, StoreError> {
        let stored_dirty = self.stored.take_dirty();
        let agent_changed = agent.is_some() && agent != self.agent;
        let model_due = model.dirty() || (all && model.unsaved());
        if !model_due && !stored_dirty && !agent_changed {
            return Ok(false);
        }
        let mut doc = Table::new();
        doc.insert("model".into(), Value::Table(model.state().to_table()));
        if let Some(a) = agent.as_ref().or(self.agent.as_ref()) {
            doc.insert("agent".into(), Value::Table(a.clone()));
        }
        doc.insert("stored".into(), Value::Table(self.stored.to_table()));
        match crate::store::write_versioned(&self.state_file, STATE_VERSION, doc) {
            Ok(n) => {
                self.writes += 1;
                self.bytes += n;
                model.mark_saved();
                if agent_changed {
                    self.agent = agent;
                }
                if let Some(old) = self.legacy.take() {
                    let _ = std::fs::remove_file(old);
                }
                Ok(true)
            }
            Err(e) => {
                if stored_dirty {
                    self.stored.mark_dirty();
                }
                Err(e)
            }
        }
    }

    /// The agent's section as the state file holds it.
    pub fn agent_section(&self) -> Option<&Table> {
        self.agent.as_ref()
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
    Handlers(crate::backend::ArgsError),
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

/// Where Linux names the current boot.
pub const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";

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
    /// The writer of the device's state.
    pub journal: Journal,
    state_dir: PathBuf,
}

/// The table cwmpd serves itself on every board (the board may bind it otherwise):
/// `Device.ManagementServer.InformParameter.{i}.` (TR-181, the InformParameters profile),
/// rows the ACS adds whose ParameterName patterns ride the Informs of their EventList
/// (`session::inform`), kept with the stored values.
fn agent_objects(board: &mut Board) {
    use crate::model::binding::{Binding, ObjectBinding};
    const TABLE: &str = "Device.ManagementServer.InformParameter.{i}.";
    if board.objects.contains_key(TABLE) || !board.objects.contains_key("Device.ManagementServer.")
    {
        return;
    }
    let stored = |pairs: &[(&str, &str)]| {
        let args = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        Binding {
            write: true,
            ..Binding::of("stored", args)
        }
    };
    let params = [
        ("Enable", stored(&[("default", "false")])),
        ("Alias", stored(&[("default", "cpe-{i}")])),
        (
            "ParameterName",
            stored(&[("default", ""), ("check", "path-pattern")]),
        ),
        (
            "EventList",
            stored(&[("default", ""), ("check", "inform-events")]),
        ),
    ]
    .into_iter()
    .map(|(k, b)| (k.to_string(), Box::new(b)))
    .collect();
    board.objects.insert(
        TABLE.to_string(),
        Box::new(ObjectBinding {
            path: TABLE.to_string(),
            instances: Some(Binding {
                add: true,
                ..Binding::of("stored", Table::new())
            }),
            params,
            at: Default::default(),
        }),
    );
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
        let mut board = board::parse(&cfg.paths.board).map_err(SetupError::Board)?;
        agent_objects(&mut board);
        let roots = board::roots(&board);
        let root_refs: Vec<&str> = roots.iter().map(|s| s.as_str()).collect();
        let needed = board::needed_objects(&board);
        let schema = crate::model::load::load_some(&cfg.paths.datamodel, Some(&root_refs), &|p| {
            needed.contains(p)
        })
        .map_err(|e| SetupError::Schema(e.to_string()))?;
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
        let (stored, legacy) = match doc.stored {
            Some(v) => (v, None),
            None => match Values::from_legacy_file(&cfg.paths.state_dir) {
                Some(v) => (v, Some(cfg.paths.state_dir.join(STORED_FILE))),
                None => (Values::default(), None),
            },
        };
        let shared = Shared {
            stored: stored.clone(),
            ..Default::default()
        };
        let mut reg = registry(&board, &cfg.paths.state_dir, &shared)?;
        for (name, h) in extra {
            reg.register(&name, h);
        }
        let errors = board::validate(&board, &schema, &reg);
        if !errors.is_empty() {
            return Err(SetupError::Bindings(errors));
        }
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
            journal: Journal {
                state_file,
                stored,
                agent: doc.agent,
                legacy,
                writes: 0,
                bytes: 0,
            },
            state_dir: cfg.paths.state_dir.clone(),
        })
    }

    /// Opens the device with the built-in handlers only.
    pub fn open(cfg: &Config) -> Result<Device, SetupError> {
        Device::open_with(cfg, Vec::new())
    }

    /// The agent's saved state read by `read`, or its default when there is none or it cannot
    /// be read.
    pub fn agent_state<T: Default>(&self, read: fn(&mut Fields) -> Result<T, FieldError>) -> T {
        let Some(section) = self.journal.agent.clone() else {
            return T::default();
        };
        match read(&mut Fields::new(section)) {
            Ok(s) => s,
            Err(e) => {
                log::warn!(
                    "{}: agent state unreadable ({e}); starting fresh",
                    self.journal.state_file.display()
                );
                T::default()
            }
        }
    }

    /// Ends a loop turn: writes the state file if the model's state or the stored values
    /// changed, or the agent passes a changed section. A failure is logged (the agent keeps
    /// running; what an RPC acknowledged was saved before its response).
    pub fn persist_with(&mut self, agent: Option<Table>) {
        if let Err(e) = self.journal.save(&mut self.model, agent, false) {
            log::error!("{e}");
        }
    }

    /// Writes everything not saved yet (at shutdown), table rows met since the last write
    /// included.
    pub fn flush(&mut self, agent: Option<Table>) {
        if let Err(e) = self.journal.save(&mut self.model, agent, true) {
            log::error!("{e}");
        }
    }

    /// The id of the current boot (`[board] boot_id`, else the kernel's), `None` when it
    /// cannot be read (then every start counts as a boot).
    pub fn boot_id(&self) -> Option<String> {
        let path = self
            .board
            .boot_id
            .clone()
            .unwrap_or_else(|| PathBuf::from(BOOT_ID));
        match std::fs::read_to_string(&path) {
            Ok(id) if !id.trim().is_empty() => Some(id.trim().to_string()),
            Ok(_) => None,
            Err(e) => {
                log::warn!("device: boot id {}: {e}", path.display());
                None
            }
        }
    }

    /// Runs the board's reboot command (TR-069 A.3.2.9, after the session).
    pub fn reboot(&self) -> Result<(), ActionError> {
        run_action("reboot", &self.board.reboot)
    }

    /// Runs the board's factory-reset command (A.4.1.6), then forgets everything cwmpd keeps
    /// (its state and stored values: the next start bootstraps). A command that fails leaves
    /// it all as it was.
    pub fn factory_reset(&mut self) -> Result<(), ActionError> {
        run_action("factory reset", &self.board.factory_reset)?;
        self.forget_state();
        Ok(())
    }

    /// Removes the state files (a factory reset done).
    pub fn forget_state(&mut self) {
        for f in [STATE_FILE, STORED_FILE] {
            let _ = std::fs::remove_file(self.state_dir.join(f));
        }
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
