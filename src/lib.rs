//! cwmpd: a TR-069 (CWMP) agent for Linux routers.
//!
//! Data flows one way: bytes → typed message → RPC → model → backend → operating system, and
//! back. Each folder owns one step:
//!
//! | module | owns |
//! |---|---|
//! | [`fault`] | every CWMP fault code and every error → fault mapping |
//! | [`model`] | TR-181 schema, paths, typed values, instances, attributes, all-or-nothing Set |
//! | [`rpc`] | one ACS request + the model → one CPE response or fault |
//! | [`backend`] | the `Handler` trait and the constant, stored, file, command, UCI, netlink, diagnostics handlers |
//! | [`codec`] | base64, hex, TOML (values, the `toml` crate's parser with lines, writer, field reader) |
//! | [`auth`] | Basic and Digest (MD5, SHA-256) math for both sides |
//! | [`acs`] | HTTP(S) client: ACS sessions (cookies, 401, redirects) and streamed file transfers |
//! | [`agent`] | the single loop: timers → CR → session → persist → actions → wait |
//! | [`cr`] | Connection Request listener (tiny_http): Digest, rate limit, wake-up |
//! | [`board`] | board TOML → bindings, checked against the schema and handlers at load |
//! | [`config`] | the agent's configuration file and its embedded default |
//! | [`device`] | config → board → schema → handlers → state → a live model |
//! | [`diag`] | IPPing and TraceRoute with ICMP over nix sockets (run by the agent's worker) |
//! | [`cli`] | the `cwmpd` command line |
//! | [`logger`] | where log records go: stderr or syslog (RFC 3164 to `/dev/log`) |
//! | [`event`] | the Inform event queue and its retention rules |
//! | [`session`] | one CWMP session as a state machine; retry back-off |
//! | [`soap`] | CWMP SOAP bytes ↔ typed messages (one enum per direction) |
//! | [`store`] | the only writer of persistent state: atomic, versioned |
//! | [`transfer`] | Download/Upload/ScheduleDownload jobs, their results, the autonomous spool |

pub mod acs;
pub mod agent;
pub mod auth;
pub mod backend;
pub mod board;
pub mod cli;
pub mod codec;
pub mod config;
pub mod cr;
pub mod device;
#[cfg(feature = "diagnostics")]
pub mod diag;
pub mod event;
pub mod fault;
pub mod logger;
pub mod model;
pub mod rpc;
pub mod session;
pub mod soap;
pub mod store;
pub mod transfer;
