//! The TR-181 model: schema, paths, typed values, instances, attributes and the parameter
//! semantics of every RPC (independent of SOAP). Touches no OS: values come from backends
//! through the `backend::Handler` trait.

pub mod datetime;
pub mod error;
pub mod load;
pub mod ops;
pub mod path;
pub mod pattern;
pub mod schema;
pub mod state;
#[cfg(test)]
mod tests;
pub mod tree;
pub mod value;
