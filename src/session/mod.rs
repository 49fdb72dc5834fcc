//! One CWMP session as a state machine fed with HTTP responses (no sockets), Inform
//! building, and the retry back-off.

pub mod backoff;
pub mod engine;
pub mod inform;
