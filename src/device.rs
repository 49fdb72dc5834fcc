//! Opening a device: config → board → the data-model files it needs → handlers → checks →
//! saved state → a live [`Model`]. Used by `cwmpd check`, `cwmpd get` and the agent.

use std::fmt;
use std::path::PathBuf;

use crate::backend::Registry;
use crate::board::{self, Board};
use crate::config::Config;
use crate::model::ops::Model;
use crate::model::state::ModelState;

/// Name of the model's state file inside `state_dir`.
pub const MODEL_STATE_FILE: &str = "model.toml";
/// Version of the model state file format.
pub const MODEL_STATE_VERSION: u32 = 1;

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

/// An opened device.
pub struct Device {
    /// The live model.
    pub model: Model,
    /// The board it was built from.
    pub board: Board,
    /// Objects in the loaded data-model files.
    pub schema_objects: usize,
    /// Parameters in the loaded data-model files.
    pub schema_params: usize,
    state_file: PathBuf,
}

/// All handlers a board may use: the built-ins, configured from the board's `[handlers]`.
pub fn registry(board: &Board, state_dir: &std::path::Path) -> Result<Registry, SetupError> {
    crate::backend::builtin::registry(&board.handlers, state_dir).map_err(SetupError::Handlers)
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
        let mut reg = registry(&board, &cfg.paths.state_dir)?;
        for (name, h) in extra {
            reg.register(&name, h);
        }
        let errors = board::validate(&board, &schema, &reg);
        if !errors.is_empty() {
            return Err(SetupError::Bindings(errors));
        }
        let state_file = cfg.paths.state_dir.join(MODEL_STATE_FILE);
        let state =
            match crate::store::read_versioned::<ModelState>(&state_file, MODEL_STATE_VERSION) {
                Ok(Some(s)) => s,
                Ok(None) => ModelState::default(),
                Err(e) => {
                    log::warn!(
                        "{}: {e}; starting with fresh instance numbers and attributes",
                        state_file.display()
                    );
                    ModelState::default()
                }
            };
        let (schema_objects, schema_params) = schema.counts();
        let mut model = Model::new(&schema, &board, reg, state)
            .map_err(|e| SetupError::Model(e.to_string()))?;
        for (k, v) in config_globals(cfg) {
            model.set_global(k, &v);
        }
        model.begin();
        Ok(Device {
            model,
            board,
            schema_objects,
            schema_params,
            state_file,
        })
    }

    /// Opens the device with the built-in handlers only.
    pub fn open(cfg: &Config) -> Result<Device, SetupError> {
        Device::open_with(cfg, Vec::new())
    }

    /// Writes the model state if it changed; failures are logged (the agent keeps running).
    pub fn persist(&mut self) {
        if self.model.take_dirty() {
            if let Err(e) = crate::store::write_versioned(
                &self.state_file,
                MODEL_STATE_VERSION,
                self.model.state(),
            ) {
                log::error!("{}: cannot save state: {e}", self.state_file.display());
            }
        }
    }
}
