//! cwmpd: a TR-069 (CWMP) agent for Linux routers.
//!
//! Data flows one way: bytes → typed message → RPC → model → backend → operating system, and
//! back. Each folder owns one step:
//!
//! | module | owns |
//! |---|---|
//! | [`soap`] | CWMP SOAP bytes ↔ typed messages (an enum per direction), read with its own XML 1.0 tokenizer ([`soap::xml`]), the wire fault vocabulary ([`soap::fault`]), secrets masked for the log ([`soap::redact`]), GetParameterValues answers encoded value by value and bounded ([`soap::ValueList`]); imports nothing of cwmpd |
//! | [`session`] | one CWMP session as a state machine fed with HTTP answers; Inform building; retry back-off |
//! | [`rpc`] | one ACS request + the model → one CPE response; [`rpc::fault`]: every error → fault, the one place |
//! | [`model`] | TR-181 schema, paths, typed values, bindings, instances, attributes, the all-or-nothing Set |
//! | [`board`] | board TOML → the model's bindings, checked against the schema and handlers at load |
//! | [`backend`] | the `Handler` trait and the constant, stored, file, command, system, UCI, netlink, diagnostics handlers |
//! | [`store`] | the only writer of persistent state: atomic, versioned |
//! | [`event`] | the Inform event queue and its retention rules |
//! | [`transfer`] | Download/Upload/ScheduleDownload jobs and their results, the autonomous spool (no SOAP) |
//! | [`http`] | HTTP(S) client for ACS sessions and streamed file transfers (cookies, 401 Digest/Basic, redirects, origins, deadlines), the one sans-IO response parser, name lookups with a deadline, Digest for both sides |
//! | [`cr`] | Connection Request listener: one nonblocking socket polled by the agent's loop, bounded connections, Digest, rate limits, wake-up |
//! | [`diag`] | IPPing and TraceRoute over ICMP sockets, Download/UploadDiagnostics over HTTP (run by the agent's workers) |
//! | [`agent`] | the single loop, split by concern: session, management settings, value changes, timers, device actions, signals |
//! | [`clock`] | time passed in: the system clock, a manual clock for tests |
//! | [`config`] | the agent's configuration file and its embedded default |
//! | [`device`] | config → board → schema → handlers → state → a live model; Reboot and FactoryReset |
//! | [`codec`] | base64, hex, XSD dateTime, TOML (read with the `toml` crate's parser, no serde; written by cwmpd's own writer) |
//! | [`cli`] | the `cwmpd` command line |
//! | [`logger`] | where log records go: stderr or syslog (RFC 3164 to `/dev/log`) |
//! | [`privilege`] | becoming a user of its own with a few capabilities instead of root |
//! | `musl` (of the `cwmpd` binary, `src/main.rs`) | static musl builds only: the libc function cwmpd defines itself (`pthread_setname_np`, so that musl's printf stays out) |
//!
//! The modules stand in layers; each imports only from layers below it (test code aside).
//! Bottom up: `codec`, `clock`, `soap`, `privilege`, `musl` · `store`, `config`, `event`, `http` · `logger`, `diag`,
//! `cr` · `backend` · `model` · `board` · `transfer` · `rpc` · `session` · `device` ·
//! `agent` · `cli`. `tests/it/layers.rs` holds the code to it (and finds no import cycle).

pub mod agent;
pub mod backend;
pub mod board;
pub mod cli;
pub mod clock;
pub mod codec;
pub mod config;
pub mod cr;
pub mod device;
#[cfg(feature = "diagnostics")]
pub mod diag;
pub mod event;
pub mod http;
pub mod logger;
pub mod model;
pub mod privilege;
pub mod rpc;
pub mod session;
pub mod soap;
pub mod store;
pub mod transfer;
