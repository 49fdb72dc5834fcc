//! `constant`: fixed values, and fixed instance lists for tables (`instances = ["main"]`).
//!
//! A constant with a `reason` may be written (`write = true`) where TR-181 makes a parameter
//! writable but the device has one true setting of it (miniupnpd is no media server, fw4 is
//! configured only by its rules): a Set of that value is accepted and changes nothing, since
//! it is what the device does already; any other value is refused (9007) with the reason.

use crate::backend::{Args, ArgsError, BackendError, BindingKind, Handler, Instance};
use crate::codec::toml;

/// The constant handler.
pub struct Constant;

impl Handler for Constant {
    fn check(&self, kind: BindingKind, args: &toml::Table) -> Result<(), ArgsError> {
        let allowed: &[&str] = if kind == BindingKind::Table {
            &["instances"]
        } else {
            &["value", "reason"]
        };
        ArgsError::only(args, allowed)?;
        match kind {
            BindingKind::ReadWrite if !args.get("reason").is_some_and(|v| v.is_str()) => {
                Err("a constant is written only with a `reason` (a string) why other values are refused".into())
            }
            BindingKind::Read | BindingKind::ReadWrite if !args.get("value").is_some_and(|v| v.is_str()) => {
                Err("`value` (a string) is required".into())
            }
            BindingKind::Table
                if !args
                    .get("instances")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.iter().all(|x| x.is_str())) =>
            {
                Err("`instances` (a list of strings) is required".into())
            }
            _ => Ok(()),
        }
    }

    fn get(&mut self, args: &Args) -> Result<String, BackendError> {
        Ok(args.str("value")?.to_string())
    }

    fn set(&mut self, args: &Args, value: &str) -> Result<(), BackendError> {
        let reason = args
            .opt_str("reason")?
            .ok_or(BackendError::Unsupported("set of a constant"))?;
        if value == args.str("value")? {
            Ok(())
        } else {
            Err(BackendError::InvalidValue(reason.to_string()))
        }
    }

    fn instances(&mut self, args: &Args) -> Result<Vec<Instance>, BackendError> {
        Ok(args
            .str_list("instances")?
            .into_iter()
            .map(|k| Instance::new(k).var("name", k))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::toml;

    #[test]
    fn values_and_instance_lists() {
        let mut c = Constant;
        let a = Args {
            table: toml::from_str("value = \"x\"").unwrap(),
            path: String::new(),
        };
        assert_eq!(c.get(&a).unwrap(), "x");
        assert_eq!(
            c.set(&a, "x"),
            Err(BackendError::Unsupported("set of a constant"))
        );
        let t = Args {
            table: toml::from_str("instances = [\"a\", \"b\"]").unwrap(),
            path: String::new(),
        };
        let keys: Vec<String> = c
            .instances(&t)
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(keys, ["a", "b"]);
        assert!(c
            .check(
                BindingKind::ReadWrite,
                &toml::from_str("value = \"x\"").unwrap()
            )
            .is_err());
        assert!(c
            .check(
                BindingKind::ReadWrite,
                &toml::from_str("value = \"x\"\nreason = \"only x\"").unwrap()
            )
            .is_ok());
        assert!(c
            .check(BindingKind::Read, &toml::from_str("valu = \"x\"").unwrap())
            .is_err());
        assert!(c
            .check(
                BindingKind::Table,
                &toml::from_str("instances = [1]").unwrap()
            )
            .is_err());
    }

    #[test]
    fn a_constant_with_a_reason_accepts_its_value_and_refuses_others_with_it() {
        let mut c = Constant;
        let a = Args {
            table: toml::from_str("value = \"false\"\nreason = \"no media server\"").unwrap(),
            path: String::new(),
        };
        assert_eq!(c.set(&a, "false"), Ok(()));
        assert_eq!(
            c.set(&a, "true"),
            Err(BackendError::InvalidValue("no media server".into()))
        );
        assert_eq!(c.get(&a).unwrap(), "false");
    }
}
