//! The gateway websocket: connection tasks and sessions.

pub(crate) mod conn;
pub(crate) mod session;
