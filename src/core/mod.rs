//! The rules of mend, in plain Rust: no Discord types and no SQL.

pub mod answer;
pub mod coverage;
pub mod entities;
pub mod model;
pub mod outbox;
pub mod prompts;
pub mod reflection;
pub mod schedule;
pub mod select;
pub mod waking;
