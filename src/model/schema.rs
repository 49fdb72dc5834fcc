//! The TR-181 schema in memory: objects, parameters and their syntax, as generated from the
//! Broadband Forum XML into `datamodel/*.toml` by `scripts/gen-datamodel`.
//!
//! Facts only (names, types, access, ranges, enumerations, defaults, notification policy);
//! no description text. Loading is in `model::load`; this file owns the plain types.

use std::collections::BTreeMap;

use crate::codec::toml::{FieldResult, Fields, Value};

/// Who may write (TR-106 A.2.7.1 `access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Never writable by the ACS.
    ReadOnly,
    /// Writable (for objects: the ACS may AddObject/DeleteObject).
    ReadWrite,
    /// Writable once at creation, then read-only (TR-181 2.x `writeOnceReadOnly`).
    WriteOnceReadOnly,
}

/// Life-cycle status of an object or parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    /// In use.
    #[default]
    Current,
    /// Still supported, to be removed.
    Deprecated,
    /// Obsoleted: may be absent.
    Obsoleted,
    /// Deleted: must be absent.
    Deleted,
}

/// The active-notification policy of a parameter (TR-106 A.2.7.1 `activeNotify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NotifyPolicy {
    /// Active notification may be requested and must be honoured.
    #[default]
    Normal,
    /// The CPE may refuse active notification (fault 9009).
    CanDeny,
    /// Active notification is always on; the ACS cannot change it (9009 on an attempt).
    ForceEnabled,
    /// Active on by default; the ACS may turn it off.
    ForceDefaultEnabled,
}

/// `as_str` and `parse` for the names an enum has in the data-model files.
macro_rules! file_names {
    ($t:ident { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            /// The name used in the data-model files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $s),*
                }
            }

            /// The value a data-model file names.
            pub fn parse(s: &str) -> Option<$t> {
                match s {
                    $($s => Some($t::$v),)*
                    _ => None,
                }
            }
        }
    };
}

file_names!(Access {
    ReadOnly = "readOnly",
    ReadWrite = "readWrite",
    WriteOnceReadOnly = "writeOnceReadOnly",
});
file_names!(Status {
    Current = "current",
    Deprecated = "deprecated",
    Obsoleted = "obsoleted",
    Deleted = "deleted",
});
file_names!(NotifyPolicy {
    Normal = "normal",
    CanDeny = "canDeny",
    ForceEnabled = "forceEnabled",
    ForceDefaultEnabled = "forceDefaultEnabled",
});
file_names!(BaseType {
    String = "string",
    Boolean = "boolean",
    Int = "int",
    UnsignedInt = "unsignedInt",
    Long = "long",
    UnsignedLong = "unsignedLong",
    DateTime = "dateTime",
    Base64 = "base64",
    HexBinary = "hexBinary",
    Decimal = "decimal",
});

/// The primitive type of a parameter (TR-106 §3.2, XSD types on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseType {
    /// xsd:string
    String,
    /// xsd:boolean
    Boolean,
    /// xsd:int (32-bit signed)
    Int,
    /// xsd:unsignedInt (32-bit)
    UnsignedInt,
    /// xsd:long (64-bit signed)
    Long,
    /// xsd:unsignedLong (64-bit)
    UnsignedLong,
    /// xsd:dateTime
    DateTime,
    /// xsd:base64Binary
    Base64,
    /// xsd:hexBinary
    HexBinary,
    /// xsd:decimal
    Decimal,
}

impl BaseType {
    /// The XSD type's local name, as `xsi:type="xsd:…"` carries it (TR-069 A.3.2.1).
    pub fn xsd_local(self) -> &'static str {
        match self {
            BaseType::String => "string",
            BaseType::Boolean => "boolean",
            BaseType::Int => "int",
            BaseType::UnsignedInt => "unsignedInt",
            BaseType::Long => "long",
            BaseType::UnsignedLong => "unsignedLong",
            BaseType::DateTime => "dateTime",
            BaseType::Base64 => "base64",
            BaseType::HexBinary => "hexBinary",
            BaseType::Decimal => "decimal",
        }
    }

    /// The type for an `xsi:type` local name (any prefix already removed), if known.
    pub fn from_xsd_local(name: &str) -> Option<BaseType> {
        Some(match name {
            "string" => BaseType::String,
            "boolean" => BaseType::Boolean,
            "int" => BaseType::Int,
            "unsignedInt" => BaseType::UnsignedInt,
            "long" => BaseType::Long,
            "unsignedLong" => BaseType::UnsignedLong,
            "dateTime" => BaseType::DateTime,
            "base64" | "base64Binary" => BaseType::Base64,
            "hexBinary" => BaseType::HexBinary,
            "decimal" => BaseType::Decimal,
            _ => return None,
        })
    }
}

/// An inclusive numeric range with an optional step (TR-106 A.2.3.4). Bounds are `i128` so
/// that every value of every integer type fits; decimal ranges are stored as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Range {
    /// Smallest allowed value.
    pub min: Option<i128>,
    /// Largest allowed value.
    pub max: Option<i128>,
    /// Allowed values are `min + k * step`.
    pub step: Option<i128>,
}

/// A comma-separated list type (TR-106 3.2.3): the item syntax is the rest of [`Syntax`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListSpec {
    /// Fewest items.
    pub min_items: Option<u32>,
    /// Most items.
    pub max_items: Option<u32>,
    /// Longest whole list string.
    pub max_length: Option<u32>,
}

/// The full syntax of a parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syntax {
    /// Primitive type of the value (of each item for lists).
    pub base: BaseType,
    /// The named TR-181 data type this came from (`IPAddress`, `MACAddress`, `Alias` …).
    pub data_type: Option<String>,
    /// Present when the value is a comma-separated list of items.
    pub list: Option<ListSpec>,
    /// Shortest string / binary length (bytes for base64/hexBinary after decoding).
    pub min_length: Option<u32>,
    /// Longest string / binary length.
    pub max_length: Option<u32>,
    /// Allowed ranges (a value must lie in at least one).
    pub ranges: Vec<Range>,
    /// Allowed values (strings only).
    pub enumeration: Vec<String>,
    /// XSD-style regular expressions; a value must match one of them entirely.
    pub patterns: Vec<String>,
    /// The value is a path reference (or list of them) to another object or parameter.
    pub reference: bool,
    /// A password or key: always read back as an empty string (TR-106 A.2.7.1 `hidden`/`secured`).
    pub hidden: bool,
    /// Units, for display only.
    pub units: Option<String>,
}

impl Syntax {
    /// A syntax of this base type with no facets.
    pub fn new(base: BaseType) -> Syntax {
        Syntax {
            base,
            data_type: None,
            list: None,
            min_length: None,
            max_length: None,
            ranges: Vec::new(),
            enumeration: Vec::new(),
            patterns: Vec::new(),
            reference: false,
            hidden: false,
            units: None,
        }
    }
}

/// One parameter of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The parameter's own name (no object path).
    pub name: String,
    /// Value syntax.
    pub syntax: Syntax,
    /// Access.
    pub access: Access,
    /// Default value from the data model, if any.
    pub default: Option<String>,
    /// Always sent in every Inform (TR-069 A.3.3.1).
    pub forced_inform: bool,
    /// Active-notification policy.
    pub notify: NotifyPolicy,
    /// Life-cycle status.
    pub status: Status,
}

/// One object (single- or multi-instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Schema path, ending in a dot, `{i}` for instances: `Device.IP.Interface.{i}.`
    pub path: String,
    /// readWrite on a table: the ACS may add and delete instances.
    pub access: Access,
    /// Minimum number of instances.
    pub min_entries: u32,
    /// Maximum number of instances; `None` means unbounded.
    pub max_entries: Option<u32>,
    /// Name of the `…NumberOfEntries` parameter in the parent object that counts instances.
    pub num_entries: Option<String>,
    /// Sets of parameter names whose values are unique across instances.
    pub unique_keys: Vec<Vec<String>>,
    /// Name of the parameter that enables an instance, if any.
    pub enable_parameter: Option<String>,
    /// Life-cycle status.
    pub status: Status,
    /// The object's parameters, in data-model order (the loader reads each parameter line on
    /// its own, `model::load`).
    pub params: Vec<Parameter>,
}

impl Object {
    /// True for a multi-instance object (a table): its path ends in `{i}.`.
    pub fn is_table(&self) -> bool {
        self.path.ends_with(".{i}.")
    }

    /// The parameter with this name, if the object has it.
    pub fn param(&self, name: &str) -> Option<&Parameter> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A loaded schema: objects by schema path.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Objects keyed by schema path (`Device.IP.Interface.{i}.`).
    pub objects: BTreeMap<String, Box<Object>>,
}

impl Schema {
    /// The object at a schema path.
    pub fn object(&self, schema_path: &str) -> Option<&Object> {
        self.objects.get(schema_path).map(|o| &**o)
    }

    /// The parameter at a full schema path (`Device.IP.Interface.{i}.Enable`).
    pub fn parameter(&self, schema_path: &str) -> Option<(&Object, &Parameter)> {
        let dot = schema_path.rfind('.')?;
        let obj = self.objects.get(&schema_path[..=dot])?;
        let p = obj.param(&schema_path[dot + 1..])?;
        Some((obj, p))
    }

    /// Number of objects and parameters.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.objects.len(),
            self.objects.values().map(|o| o.params.len()).sum(),
        )
    }
}

// Reading the generated files (`model::load` splits them into one object header and one
// parameter line at a time). Unknown keys are errors: the files come from our generator.

fn access(f: &mut Fields) -> FieldResult<Access> {
    f.opt_parse(
        "access",
        Access::parse,
        "readOnly, readWrite or writeOnceReadOnly",
    )?
    .ok_or_else(|| f.error("access", "missing"))
}

fn status(f: &mut Fields) -> FieldResult<Status> {
    let status = f.opt_parse("status", Status::parse, "a TR-106 status")?;
    Ok(status.unwrap_or_default())
}

impl Syntax {
    /// Reads a `syntax = { … }` table.
    pub fn read(f: &mut Fields) -> FieldResult<Syntax> {
        let base = f
            .opt_parse("type", BaseType::parse, "a TR-106 base type")?
            .ok_or_else(|| f.error("type", "missing"))?;
        let list = if f.has("list") {
            let mut l = f.sub("list")?;
            let spec = ListSpec {
                min_items: l.opt_int("min_items")?,
                max_items: l.opt_int("max_items")?,
                max_length: l.opt_int("max_length")?,
            };
            l.finish()?;
            Some(spec)
        } else {
            None
        };
        let tables = f.tables("ranges")?;
        let mut ranges = Vec::with_capacity(tables.len());
        for mut r in tables {
            ranges.push(Range {
                min: r.opt_int("min")?,
                max: r.opt_int("max")?,
                step: r.opt_int("step")?,
            });
            r.finish()?;
        }
        Ok(Syntax {
            base,
            data_type: f.opt_str("data_type")?,
            list,
            min_length: f.opt_int("min_length")?,
            max_length: f.opt_int("max_length")?,
            ranges,
            enumeration: f.strings("enumeration")?,
            patterns: f.strings("patterns")?,
            reference: f.flag("reference")?,
            hidden: f.flag("hidden")?,
            units: f.opt_str("units")?,
        })
    }
}

impl Parameter {
    /// Reads one parameter's inline table.
    pub fn read(f: &mut Fields) -> FieldResult<Parameter> {
        if !f.has("syntax") {
            return Err(f.error("syntax", "missing"));
        }
        let mut sf = f.sub("syntax")?;
        let syntax = Syntax::read(&mut sf)?;
        sf.finish()?;
        Ok(Parameter {
            name: f.str("name")?,
            syntax,
            access: access(f)?,
            default: f.opt_str("default")?,
            forced_inform: f.flag("forced_inform")?,
            notify: f
                .opt_parse("notify", NotifyPolicy::parse, "a TR-106 notify policy")?
                .unwrap_or_default(),
            status: status(f)?,
        })
    }
}

impl Object {
    /// Reads an `[[object]]` header (its parameters are read line by line by the loader).
    pub fn read(f: &mut Fields) -> FieldResult<Object> {
        let mut unique_keys = Vec::new();
        match f.take("unique_keys") {
            None => {}
            Some(Value::Array(sets)) => {
                for set in sets {
                    let names = match set {
                        Value::Array(names) => names
                            .into_iter()
                            .map(|n| match n {
                                Value::String(s) => Some(s),
                                _ => None,
                            })
                            .collect::<Option<Vec<String>>>(),
                        _ => None,
                    };
                    match names {
                        Some(n) => unique_keys.push(n),
                        None => return Err(f.error("unique_keys", "expected arrays of names")),
                    }
                }
            }
            Some(_) => return Err(f.error("unique_keys", "expected arrays of names")),
        }
        Ok(Object {
            path: f.str("path")?,
            access: access(f)?,
            min_entries: f.int("min_entries")?,
            max_entries: f.opt_int("max_entries")?,
            num_entries: f.opt_str("num_entries")?,
            unique_keys,
            enable_parameter: f.opt_str("enable_parameter")?,
            status: status(f)?,
            params: Vec::new(),
        })
    }
}
