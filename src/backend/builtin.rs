//! The built-in handlers, registered under the names board files use, configured from the
//! board's `[handlers.<name>]` settings. A handler left out of the build by its cargo feature
//! (`uci`, `ubus`, `netlink`, `diagnostics`) is registered as [`NotBuilt`], so a board that binds it fails to load
//! with a message naming the feature instead of "unknown handler".

use std::path::{Path, PathBuf};

#[cfg(feature = "diagnostics")]
use crate::backend::diagnostics;
#[cfg(feature = "ubus")]
use crate::backend::json;
#[cfg(feature = "netlink")]
use crate::backend::netlink;
#[cfg(feature = "ubus")]
use crate::backend::ubus;
#[cfg(feature = "uci")]
use crate::backend::uci;
use crate::backend::{
    command, constant, ethtool, file, leases, leds, lines, rmon, sensors, stored, system, users,
    ArgsError,
};
use crate::backend::{Args, BackendError, BindingKind};
use crate::backend::{Handler, Registry};
use crate::codec::toml;

/// Stands in for a handler whose cargo feature is off: every binding is refused at board load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotBuilt {
    /// The cargo feature that would build the real handler.
    pub feature: &'static str,
}

impl Handler for NotBuilt {
    fn check(&self, _: BindingKind, _: &toml::Table) -> Result<(), ArgsError> {
        Err(format!(
            "this cwmpd was built without the `{}` feature",
            self.feature
        )
        .into())
    }

    fn get(&mut self, _: &Args) -> Result<String, BackendError> {
        Err(BackendError::Unsupported("get (handler not built)"))
    }
}

fn setting(
    settings: &toml::Table,
    handler: &str,
    key: &str,
    default: &str,
) -> Result<PathBuf, ArgsError> {
    match settings
        .get(handler)
        .and_then(|t| t.as_table())
        .and_then(|t| t.get(key))
    {
        None => Ok(PathBuf::from(default)),
        Some(toml::Value::String(s)) => Ok(PathBuf::from(s)),
        Some(_) => Err(ArgsError::Settings(format!(
            "handlers.{handler}.{key} must be a string"
        ))),
    }
}

/// What built-in handlers share with the device and the agent, on the loop's one thread
/// (clones share): the stored values, which the device saves with its state, and the
/// diagnostics the ACS requests through the `diagnostics` handler, which the agent runs.
#[derive(Debug, Default, Clone)]
pub struct Shared {
    /// The `stored` handler's values.
    pub stored: stored::Values,
    /// The IP and HTTP diagnostics' tests.
    #[cfg(feature = "diagnostics")]
    pub diagnostics: diagnostics::Diagnostics,
}

/// Builds the registry of built-in handlers, connected to `shared`.
pub fn registry(
    settings: &toml::Table,
    state_dir: &Path,
    shared: &Shared,
) -> Result<Registry, ArgsError> {
    for (name, v) in settings {
        if v.as_table().is_none() {
            return Err(ArgsError::Settings(format!(
                "handlers.{name} must be a table"
            )));
        }
    }
    let mut reg = Registry::new();
    reg.register("constant", Box::new(constant::Constant));
    reg.register(
        "stored",
        Box::new(stored::Stored::new(shared.stored.clone())),
    );
    reg.register("file", Box::new(file::File::default()));
    reg.register(
        "ethtool",
        Box::new(ethtool::Ethtool::new(settings.get("ethtool"))?),
    );
    reg.register("command", Box::new(command::Command));
    reg.register("lines", Box::new(lines::Lines::default()));
    reg.register(
        "system",
        Box::new(system::System::new(
            &setting(settings, "system", "proc", "/proc")?,
            &setting(settings, "system", "sys", "/sys")?,
            &setting(settings, "system", "etc", "/etc")?,
        )),
    );
    #[cfg(feature = "netlink")]
    reg.register(
        "netlink",
        Box::new(netlink::Netlink::new(state_dir, shared.stored.clone())),
    );
    #[cfg(not(feature = "netlink"))]
    reg.register("netlink", Box::new(NotBuilt { feature: "netlink" }));
    #[cfg(feature = "diagnostics")]
    reg.register(
        "diagnostics",
        Box::new(diagnostics::Handler::new(shared.diagnostics.clone())),
    );
    #[cfg(not(feature = "diagnostics"))]
    reg.register(
        "diagnostics",
        Box::new(NotBuilt {
            feature: "diagnostics",
        }),
    );
    #[cfg(feature = "uci")]
    reg.register("uci", Box::new(uci::Uci::new(settings.get("uci"))?));
    #[cfg(not(feature = "uci"))]
    reg.register("uci", Box::new(NotBuilt { feature: "uci" }));
    #[cfg(feature = "ubus")]
    reg.register("ubus", Box::new(ubus::Ubus::new(settings.get("ubus"))?));
    #[cfg(not(feature = "ubus"))]
    reg.register("ubus", Box::new(NotBuilt { feature: "ubus" }));
    // JSON files are read with the same serde_json as ubus answers.
    #[cfg(feature = "ubus")]
    reg.register("json", Box::new(json::Json::new(settings.get("json"))?));
    #[cfg(not(feature = "ubus"))]
    reg.register("json", Box::new(NotBuilt { feature: "ubus" }));
    reg.register(
        "leases",
        Box::new(leases::Leases::new(settings.get("leases"))?),
    );
    reg.register("users", Box::new(users::Users::new(settings.get("users"))?));
    reg.register("leds", Box::new(leds::Leds::new(settings.get("leds"))?));
    reg.register(
        "rmon",
        Box::new(rmon::Rmon::new(
            settings.get("rmon"),
            state_dir,
            shared.stored.clone(),
        )?),
    );
    reg.register(
        "sensors",
        Box::new(sensors::Sensors::new(
            settings.get("sensors"),
            state_dir,
            shared.stored.clone(),
        )?),
    );
    Ok(reg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    #[test]
    fn every_handler_name_is_registered_whatever_the_features() {
        let reg = registry(
            &toml::Table::new(),
            Path::new("/nonexistent"),
            &Shared::default(),
        )
        .unwrap();
        let names: Vec<&str> = reg.names().collect();
        assert_eq!(
            names,
            [
                "command",
                "constant",
                "diagnostics",
                "ethtool",
                "file",
                "json",
                "leases",
                "leds",
                "lines",
                "netlink",
                "rmon",
                "sensors",
                "stored",
                "system",
                "ubus",
                "uci",
                "users"
            ]
        );
    }

    #[test]
    fn a_handler_left_out_of_the_build_refuses_bindings_naming_its_feature() {
        let h = NotBuilt { feature: "netlink" };
        let err = h.check(BindingKind::Read, &toml::Table::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this cwmpd was built without the `netlink` feature"
        );
        let reg = registry(
            &toml::Table::new(),
            Path::new("/nonexistent"),
            &Shared::default(),
        )
        .unwrap();
        for (name, feature) in [
            ("netlink", cfg!(feature = "netlink")),
            ("uci", cfg!(feature = "uci")),
            ("ubus", cfg!(feature = "ubus")),
            ("diagnostics", cfg!(feature = "diagnostics")),
        ] {
            let built = reg
                .get(name)
                .unwrap()
                .check(BindingKind::Read, &toml::Table::new());
            if feature {
                assert!(
                    !matches!(&built, Err(m) if m.to_string().contains("built without")),
                    "{name}: {built:?}"
                );
            } else {
                assert_eq!(
                    built.unwrap_err().to_string(),
                    format!("this cwmpd was built without the `{name}` feature")
                );
            }
        }
    }
}
