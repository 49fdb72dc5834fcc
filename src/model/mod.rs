//! The TR-181 model: schema, paths, typed values, instances, attributes and the parameter
//! semantics of every RPC (independent of SOAP). Touches no OS: values come from backends
//! through the `backend::Handler` trait.

pub mod path;
pub mod schema;
