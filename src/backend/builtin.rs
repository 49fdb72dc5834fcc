//! The built-in handlers, registered under the names board files use, configured from the
//! board's `[handlers.<name>]` settings.

use std::path::{Path, PathBuf};

use crate::backend::{
    command, constant, diagnostics, file, netlink, stored, system, uci, Registry,
};

fn setting(
    settings: &toml::Table,
    handler: &str,
    key: &str,
    default: &str,
) -> Result<PathBuf, String> {
    match settings.get(handler).and_then(|t| t.get(key)) {
        None => Ok(PathBuf::from(default)),
        Some(toml::Value::String(s)) => Ok(PathBuf::from(s)),
        Some(_) => Err(format!("handlers.{handler}.{key} must be a string")),
    }
}

/// Builds the registry of built-in handlers.
pub fn registry(settings: &toml::Table, state_dir: &Path) -> Result<Registry, String> {
    for (name, v) in settings {
        if !v.is_table() {
            return Err(format!("handlers.{name} must be a table"));
        }
    }
    let mut reg = Registry::new();
    reg.register("constant", Box::new(constant::Constant));
    reg.register("stored", Box::new(stored::Stored::open(state_dir)));
    reg.register("file", Box::new(file::File::default()));
    reg.register("command", Box::new(command::Command));
    reg.register(
        "system",
        Box::new(system::System::new(
            &setting(settings, "system", "proc", "/proc")?,
            &setting(settings, "system", "sys", "/sys")?,
            &setting(settings, "system", "etc", "/etc")?,
        )),
    );
    reg.register("netlink", Box::new(netlink::Netlink::default()));
    reg.register("diagnostics", Box::new(diagnostics::Diagnostics::default()));
    reg.register("uci", Box::new(uci::Uci::new(settings.get("uci"))?));
    Ok(reg)
}
