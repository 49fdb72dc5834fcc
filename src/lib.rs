//! cwmpd: a TR-069 (CWMP) agent for Linux routers.
//!
//! Data flows one way: bytes → typed message → RPC → model → backend → operating system, and
//! back. Each folder owns one step:
//!
//! | module | owns |
//! |---|---|
//! | [`fault`] | every CWMP fault code and every error → fault mapping |
//! | [`model`] | TR-181 schema, paths, typed values, instances, attributes, all-or-nothing Set |
//! | [`backend`] | the `Handler` trait and the constant, stored, file, command, UCI, netlink handlers |
//! | [`codec`] | base64 and hex |

pub mod backend;
pub mod codec;
pub mod fault;
pub mod model;
