//! mend: a Discord companion for couples rebuilding trust.
//!
//! `core` holds the rules, `store` the SQL, `engine` applies the one to the
//! other with time from a `clock`; `simulate` runs it all on a manual clock.

pub mod cli;
pub mod clock;
pub mod config;
pub mod core;
pub mod crypto;
pub mod discord;
pub mod engine;
pub mod http;
pub mod simulate;
pub mod store;
pub mod telemetry;
pub mod worker;
