//! A vendor's cwmpd: the stock command line plus one handler of its own, without touching
//! cwmpd's code. `thermal` reads a Linux thermal zone (millidegrees) and reports whole degrees
//! Celsius; bind it in the board:
//!
//! ```toml
//! [[object]]
//! path = "Device.DeviceInfo.TemperatureStatus.TemperatureSensor.{i}."
//! instances = { handler = "constant", instances = ["cpu"] }
//! [object.params]
//! Name = "cpu"
//! Value = { handler = "thermal", zone = 0 }
//! ```
//!
//! `cargo run --example vendor_handler -- get --config cwmpd.toml Device.DeviceInfo.` (and
//! `check`, `run`, as `cwmpd`). `CWMPD_THERMAL_DIR` replaces `/sys/class/thermal`, to try it
//! on a machine without thermal zones (`tests/it/vendor.rs` does).

use cwmpd::backend::{Args, ArgsError, BackendError, BindingKind, Handler};
use cwmpd::codec::toml;

/// Reads `<root>/thermal_zone<zone>/temp`.
struct Thermal {
    root: String,
}

impl Handler for Thermal {
    /// Called once per binding when the board loads: refuse what cannot work, with a reason.
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        if kind != BindingKind::Read {
            return Err("thermal values are read-only".into());
        }
        if let Some(k) = args.keys().find(|k| k.as_str() != "zone") {
            return Err(ArgsError::unknown(k));
        }
        match args.get("zone").and_then(toml::Value::as_integer) {
            Some(z) if (0..1000).contains(&z) => Ok(()),
            _ => Err("`zone` (an integer from 0) is required".into()),
        }
    }

    /// Called for each read of a bound parameter.
    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        let zone = args.opt_int("zone")?.unwrap_or(0);
        let path = format!("{}/thermal_zone{zone}/temp", self.root);
        let raw =
            std::fs::read_to_string(&path).map_err(|e| BackendError::Io(format!("{path}: {e}")))?;
        let milli: i64 = raw
            .trim()
            .parse()
            .map_err(|_| BackendError::InvalidValue(format!("{path}: {:?}", raw.trim())))?;
        Ok((milli / 1000).to_string())
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = std::env::var("CWMPD_THERMAL_DIR").unwrap_or_else(|_| "/sys/class/thermal".into());
    cwmpd::cli::main_with(&args, &|| {
        let thermal: Box<dyn Handler> = Box::new(Thermal { root: root.clone() });
        vec![("thermal".to_string(), thermal)]
    })
}
