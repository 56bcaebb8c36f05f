//! The command line: parse, call the library, print. Input mistakes are one line
//! on stderr with what to do, and exit code 2.
//!
//! Here: the command tree, dispatch and what the commands share. `mend run` is in
//! `bot`, `mend sandbox` in `sandbox`, the commands that inspect in `inspect`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::StoreConfig;
use crate::core::prompts::Library;
use crate::crypto::{Cipher, Key};
use crate::engine::{Engine, Settings};
use crate::simulate::{self, SimOptions};

mod bot;
mod doctor;
mod inspect;
mod migrate;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use bot::{BotArgs, Ops, RunArgs, serve, serve_with};
pub use inspect::{PromptsCommand, ScheduleCommand};
#[cfg(feature = "sandbox")]
pub use sandbox::SandboxArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mend",
    version,
    about = "A companion for couples rebuilding trust: one prompt a day, answered privately, revealed together."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub store: StoreConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to Discord and run mend.
    Run(RunArgs),
    /// Check everything `mend run` needs (the token, intents, permissions in
    /// each server, commands, the database, the key, the settings) and print
    /// a checklist with the fix for each problem. Exits 1 if there is one.
    Doctor(RunArgs),
    /// Check, list or measure the prompt library.
    #[command(subcommand)]
    Prompts(PromptsCommand),
    /// Try schedule specs.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Try mend with no Discord account: a local Discord with a server and two
    /// users, and mend connected to it.
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Write a new encryption key for answers at rest to FILE (owner-only; never
    /// overwrites). Then set MEND_KEY_FILE=FILE.
    Keygen { file: PathBuf },
    /// Open the database (creating and migrating it if needed) and say what it holds.
    Status,
    /// Write a consistent copy of the database to FILE while mend runs
    /// (owner-only, never over an existing file; answers stay sealed), and
    /// check that the key opens it.
    Backup { file: PathBuf },
    /// Put a backup back as the database, after checking the key opens it.
    /// Stop mend first. The database it replaces is kept beside it, renamed.
    Restore { file: PathBuf },
    /// Reseal every answer and note under the key in NEWKEY (from `mend keygen`),
    /// in one transaction; after it the old key no longer opens the database.
    /// Stop mend first.
    Rekey {
        #[arg(value_name = "NEWKEY")]
        new_key: PathBuf,
    },
    /// Move the SQLite database (DATABASE_URL) into an empty PostgreSQL
    /// database, in one transaction: every table, ids kept, answers still
    /// sealed; the SQLite file is left as it was. Stop mend first; then set
    /// DATABASE_URL=postgres://… and start it again with the same key.
    MigrateTo {
        /// The empty PostgreSQL database, e.g. postgres://mend@localhost/mend.
        #[arg(value_name = "POSTGRES_URL")]
        url: String,
    },
    /// Run the whole engine on a simulated clock with scripted couples, print the
    /// first couple's transcript and a summary, and check the invariants.
    Simulate {
        #[arg(long, default_value_t = 3)]
        couples: usize,
        #[arg(long, default_value_t = 28)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Database file for the run (default: a temporary file, removed after).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Print only the summary, not the first couple's transcript.
        #[arg(long)]
        quiet: bool,
    },
}

/// A mistake in what was typed: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<InputError>() {
            Some(input) => {
                eprintln!("mend: {input}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("mend: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Prompts(PromptsCommand::Check { dirs }) => Ok(inspect::check_prompts(dirs)),
        Command::Prompts(PromptsCommand::List { pillar, dir }) => inspect::list_prompts(&cli.store, pillar, dir),
        Command::Prompts(PromptsCommand::Stats { dir }) => inspect::prompt_stats(&cli.store, dir),
        Command::Schedule(ScheduleCommand::Preview { spec, tz, from, count }) => {
            inspect::preview(&spec.join(" "), &tz, from.as_deref(), count)
        }
        Command::Run(args) => bot::run_bot(&cli.store, args).await,
        Command::Doctor(args) => doctor::doctor(&cli.store, args).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::sandbox(&cli.store, args).await,
        Command::Keygen { file } => {
            Key::write_new(&file).map_err(|e| InputError(e.to_string()))?;
            println!(
                "wrote a new key to {} (readable by you only). Keep a copy somewhere safe: without it, answers cannot be read.",
                file.display()
            );
            println!("then: export MEND_KEY_FILE={}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => inspect::status(&cli.store).await,
        Command::Backup { file } => inspect::backup(&cli.store, &file).await,
        Command::Restore { file } => inspect::restore(&cli.store, &file).await,
        Command::Rekey { new_key } => inspect::rekey(&cli.store, &new_key).await,
        Command::MigrateTo { url } => migrate::migrate_to(&cli.store, &url).await,
        Command::Simulate { couples, days, seed, db, quiet } => {
            let library = load_library(&cli.store)?;
            let options = SimOptions { couples, days, seed, db, transcript: !quiet };
            let outcome = simulate::run(Arc::new(library), &options, &mut std::io::stdout()).await?;
            Ok(if outcome.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// The built-in prompts plus the host's extra directories.
pub fn load_library(store: &StoreConfig) -> anyhow::Result<Library> {
    Library::builtin_with(&store.extra_prompts).map_err(|problems| {
        let first = problems.first().map(ToString::to_string).unwrap_or_default();
        InputError(format!(
            "the prompt library has {} problem(s), first: {first} — run `mend prompts check DIR` for all",
            problems.len()
        ))
        .into()
    })
}

/// Opens the configured database with `key` and builds an engine on the system
/// clock; a wrong key or a database that cannot be opened is one line.
pub async fn engine(store: &StoreConfig, library: Library, key: &Key, settings: Settings) -> anyhow::Result<Engine> {
    let keys = keys(store, key).await?;
    let opened = Engine::open(&store.url(), keys, Arc::new(library), Arc::new(SystemClock), settings).await;
    match opened {
        Ok(engine) => Ok(engine),
        Err(crate::engine::EngineError::Store(crate::store::StoreError::Key(e))) => {
            Err(InputError(e.to_string()).into())
        }
        Err(e) => Err(InputError(format!("could not open the database {}: {e}", store.database_url)).into()),
    }
}

/// The configured keystore, opened with the host key; a problem is one line.
pub async fn keys(store: &StoreConfig, key: &Key) -> anyhow::Result<crate::store::keys::Keys> {
    let url = store.keystore_url().map_err(InputError)?;
    crate::store::keys::Keys::open(&url, Cipher::new(key))
        .await
        .map_err(|e| InputError(format!("could not open the keystore {}: {e}", crate::store::shown_url(&url))).into())
}

/// The encryption key from MEND_KEY or MEND_KEY_FILE.
fn key_from_env() -> anyhow::Result<Key> {
    Key::from_env().map_err(|e| InputError(e.to_string()).into())
}
