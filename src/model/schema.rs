//! The TR-181 schema in memory: objects, parameters and their syntax, as generated from the
//! Broadband Forum XML into `datamodel/*.toml` by `scripts/gen-datamodel`.
//!
//! Facts only (names, types, access, ranges, enumerations, defaults, notification policy);
//! no description text. Loading is in `model::load`; this file owns the plain types.

use std::collections::BTreeMap;

/// Who may write (TR-106 A.2.7.1 `access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    /// Never writable by the ACS.
    ReadOnly,
    /// Writable (for objects: the ACS may AddObject/DeleteObject).
    ReadWrite,
    /// Writable once at creation, then read-only (TR-181 2.x `writeOnceReadOnly`).
    WriteOnceReadOnly,
}

/// Life-cycle status of an object or parameter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "camelCase")]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "camelCase")]
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

/// The primitive type of a parameter (TR-106 §3.2, XSD types on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
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
    /// The XSD type name used in `xsi:type` (TR-069 A.3.2.1).
    pub fn xsd_name(self) -> &'static str {
        match self {
            BaseType::String => "xsd:string",
            BaseType::Boolean => "xsd:boolean",
            BaseType::Int => "xsd:int",
            BaseType::UnsignedInt => "xsd:unsignedInt",
            BaseType::Long => "xsd:long",
            BaseType::UnsignedLong => "xsd:unsignedLong",
            BaseType::DateTime => "xsd:dateTime",
            BaseType::Base64 => "xsd:base64",
            BaseType::HexBinary => "xsd:hexBinary",
            BaseType::Decimal => "xsd:decimal",
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
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
pub struct Range {
    /// Smallest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i128>,
    /// Largest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i128>,
    /// Allowed values are `min + k * step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<i128>,
}

/// A comma-separated list type (TR-106 3.2.3): the item syntax is the rest of [`Syntax`].
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
pub struct ListSpec {
    /// Fewest items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u32>,
    /// Most items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
    /// Longest whole list string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// The full syntax of a parameter value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Syntax {
    /// Primitive type of the value (of each item for lists).
    #[serde(rename = "type")]
    pub base: BaseType,
    /// The named TR-181 data type this came from (`IPAddress`, `MACAddress`, `Alias` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// Present when the value is a comma-separated list of items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListSpec>,
    /// Shortest string / binary length (bytes for base64/hexBinary after decoding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Longest string / binary length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Allowed ranges (a value must lie in at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Allowed values (strings only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enumeration: Vec<String>,
    /// XSD-style regular expressions; a value must match one of them entirely.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// The value is a path reference (or list of them) to another object or parameter.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reference: bool,
    /// A password or key: always read back as an empty string (TR-106 A.2.7.1 `hidden`/`secured`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Units, for display only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Parameter {
    /// The parameter's own name (no object path).
    pub name: String,
    /// Value syntax.
    pub syntax: Syntax,
    /// Access.
    pub access: Access,
    /// Default value from the data model, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Always sent in every Inform (TR-069 A.3.3.1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forced_inform: bool,
    /// Active-notification policy.
    #[serde(default)]
    pub notify: NotifyPolicy,
    /// Life-cycle status.
    #[serde(default)]
    pub status: Status,
}

/// One object (single- or multi-instance).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Object {
    /// Schema path, ending in a dot, `{i}` for instances: `Device.IP.Interface.{i}.`
    pub path: String,
    /// readWrite on a table: the ACS may add and delete instances.
    pub access: Access,
    /// Minimum number of instances.
    pub min_entries: u32,
    /// Maximum number of instances; `None` means unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u32>,
    /// Name of the `…NumberOfEntries` parameter in the parent object that counts instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_entries: Option<String>,
    /// Sets of parameter names whose values are unique across instances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique_keys: Vec<Vec<String>>,
    /// Name of the parameter that enables an instance, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_parameter: Option<String>,
    /// Life-cycle status.
    #[serde(default)]
    pub status: Status,
    /// The object's parameters, in data-model order. Not read with the object's header: the
    /// loader reads each parameter line on its own (`model::load`), so the header's reader
    /// needs no second copy of the parameter reader (−2.7 KB on MIPS).
    #[serde(
        default,
        rename = "param",
        skip_serializing_if = "Vec::is_empty",
        skip_deserializing
    )]
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
    pub objects: BTreeMap<String, Object>,
}

impl Schema {
    /// The object at a schema path.
    pub fn object(&self, schema_path: &str) -> Option<&Object> {
        self.objects.get(schema_path)
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
