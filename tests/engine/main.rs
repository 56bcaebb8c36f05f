//! mend without Discord, in one test binary: the engine and its worker step on
//! real SQLite files, the defects it was rebuilt to fix, ids, the simulator,
//! schedules, the prompt library, fuzzing, the command line, and the
//! PostgreSQL schema kept the same as SQLite's.

#[path = "../support/mod.rs"]
mod support;

mod backup;
mod cli;
mod commitments;
mod defects;
mod engine;
mod forget;
mod fuzz;
mod hosting;
mod ids_never_reused;
mod leader;
mod migrate;
mod prompt_library;
mod race;
mod rekey;
mod schedule_props;
mod schema_drift;
mod simulation;
