//! The commands that look and report: `mend prompts check|list|stats`, `mend
//! schedule preview` and `mend status`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::{InputError, engine, key_from_env, load_library};
use crate::config::StoreConfig;
use crate::core::coverage::{self, MIN_FITTING, MIN_LIGHT};
use crate::core::prompts::{Library, PILLARS};
use crate::core::schedule::Schedule;
use crate::engine::Settings;

#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// Validate prompt files: every problem is named with its file and prompt,
    /// then every reader and phase with too few prompts (see `stats`).
    Check {
        /// Directories to check (default: `prompts`).
        dirs: Vec<PathBuf>,
    },
    /// List prompts.
    List {
        /// Only this pillar (its id, e.g. `patience-time`).
        #[arg(long)]
        pillar: Option<String>,
        /// Read this directory instead of the built-in library.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// For every reader role and phase: how many prompts fit, how many are light,
    /// and how many days a couple goes before the reader sees a prompt again.
    /// Exits 1 when a row has too few.
    Stats {
        /// Read this directory instead of the built-in library.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Print the next fire instants of a spec, in UTC.
    Preview {
        /// `daily 08:30`, `weekdays 21:00`, `weekends 10:00`, `mon,wed,fri 07:15`,
        /// or a crontab(5) line such as `30 8 * * 1-5` (quote it).
        #[arg(required = true, num_args = 1..)]
        spec: Vec<String>,
        /// IANA timezone, e.g. Europe/Paris.
        #[arg(long)]
        tz: String,
        /// Start strictly after this instant (RFC 3339; default: now).
        #[arg(long)]
        from: Option<String>,
        #[arg(long, default_value_t = 5)]
        count: usize,
    },
}

pub(super) async fn status(store: &StoreConfig) -> anyhow::Result<ExitCode> {
    // Beside a running mend, never during a restore or a rekey.
    let _beside = hold_shared(store)?;
    let engine = engine(store, load_library(store)?, &key_from_env()?, Settings::default()).await?;
    let st = engine.status().await?;
    println!("database: {}", store.database_url);
    println!("couples: {} ({} paused)", st.couples, st.paused);
    println!("messages waiting to be sent: {} ({} given up)", st.waiting, st.failed);
    match st.next {
        Some(t) => println!("next due: {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => println!("next due: nothing scheduled"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn backup(store: &StoreConfig, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    if file.exists() {
        return Err(super::InputError(format!(
            "{} already exists: give `mend backup` a new file (it never overwrites one)",
            file.display()
        ))
        .into());
    }
    // Beside a running mend, never during a restore or a rekey.
    let _beside = hold_shared(store)?;
    let engine = engine(store, load_library(store)?, &key_from_env()?, Settings::default()).await?;
    let st = engine.backup(file).await?;
    println!(
        "backed up {} to {} ({} couples; owner-only; answers stay sealed, and this key opens it)",
        store.database_url,
        file.display(),
        st.couples
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn restore(store: &StoreConfig, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let input = |m: String| anyhow::Error::from(super::InputError(m));
    if !file.is_file() {
        return Err(input(format!(
            "{} is not a file: give `mend restore` a backup `mend backup` wrote",
            file.display()
        )));
    }
    let Some(target) = crate::store::file_of(&store.url()) else {
        return Err(input("DATABASE_URL names no file to restore into".into()));
    };
    // A database mend is serving is never replaced under it.
    let _alone = hold_alone(store)?;
    // The key must open the backup before anything is touched.
    let key = key_from_env()?;
    // The backup's texts are sealed with the live keystore's keys (what was
    // forgotten since stays unreadable, and is deleted below).
    let keystore = store.keystore_url().map_err(input)?;
    let backup = StoreConfig { database_url: file.display().to_string(), keystore: Some(keystore), ..store.clone() };
    let from = engine(&backup, load_library(store)?, &key, Settings::default()).await?;
    let mut kept = None;
    if target.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = target.with_file_name(format!(
            "{}.before-restore-{stamp}",
            target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        for suffix in ["", "-wal", "-shm"] {
            let (a, b) = (format!("{}{suffix}", target.display()), format!("{}{suffix}", aside.display()));
            if std::path::Path::new(&a).exists() {
                std::fs::rename(&a, &b)?;
            }
        }
        kept = Some(aside);
    }
    let st = from.backup(&target).await?;
    from.close().await;
    let restored = engine(store, load_library(store)?, &key, Settings::default()).await?;
    let forgotten = restored.forget_again().await?;
    restored.close().await;
    if forgotten > 0 {
        println!(
            "{forgotten} partner(s) had asked mend to forget their words after this backup was taken: \
             those words are gone from the restored database too"
        );
    }
    match kept {
        Some(aside) => println!(
            "restored {} into {} ({} couples); the database it replaced is kept as {}",
            file.display(),
            target.display(),
            st.couples,
            aside.display()
        ),
        None => println!("restored {} into {} ({} couples)", file.display(), target.display(), st.couples),
    }
    Ok(ExitCode::SUCCESS)
}

/// A shared hold on the configured database: alongside `mend run`, never
/// during `mend restore` or `mend rekey`.
fn hold_shared(store: &StoreConfig) -> anyhow::Result<Option<crate::store::Hold>> {
    crate::store::hold(&store.url(), false).map_err(|e| match e {
        crate::store::HoldError::Busy(_) => {
            super::InputError("a restore or a rekey of this database is under way — try again when it is done".into())
                .into()
        }
        e => super::InputError(e.to_string()).into(),
    })
}

/// The only hold on the configured database (`mend run` keeps a shared one).
fn hold_alone(store: &StoreConfig) -> anyhow::Result<Option<crate::store::Hold>> {
    crate::store::hold(&store.url(), true).map_err(|e| super::InputError(e.to_string()).into())
}

/// `mend rekey NEWKEY`: every sealed text resealed under the key in the file
/// NEWKEY, in one transaction, with mend stopped; after it only the new key
/// opens the database.
pub(super) async fn rekey(store: &StoreConfig, new_key: &std::path::Path) -> anyhow::Result<ExitCode> {
    let input = |m: String| anyhow::Error::from(super::InputError(m));
    let new = crate::crypto::Key::from_file(new_key)
        .map_err(|e| input(format!("{e} — write a new key with `mend keygen {}` first", new_key.display())))?;
    let old = key_from_env()?;
    if old.to_hex() == new.to_hex() {
        return Err(input(format!(
            "{} holds the key the database is already sealed with — write a new one with `mend keygen FILE`",
            new_key.display()
        )));
    }
    let _alone = hold_alone(store)?;
    let engine = engine(store, load_library(store)?, &old, Settings::default()).await?;
    // Nothing is changed until the end: stopped before it, the old key still
    // opens everything.
    let mut last = None::<std::time::Instant>;
    let progress = |n: u64| {
        if last.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1)) {
            eprintln!("resealing… {n} keys and texts so far (nothing changes until all are done)");
            last = Some(std::time::Instant::now());
        }
    };
    let resealed = engine.rekey(&crate::crypto::Cipher::new(&new), progress).await?;
    println!(
        "resealed {resealed} keys and texts under the key in {}; the old key no longer opens this database.",
        new_key.display()
    );
    println!(
        "then: export MEND_KEY_FILE={} (or MEND_KEY) and start mend again. Backups written before now are restored with the new key (the partners' keys they need are in the keystore, under it).",
        new_key.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn count<K: Ord>(m: &std::collections::BTreeMap<K, usize>, k: K) -> usize {
    m.get(&k).copied().unwrap_or(0)
}

pub(super) fn check_prompts(dirs: Vec<PathBuf>) -> ExitCode {
    let dirs = if dirs.is_empty() { vec![PathBuf::from("prompts")] } else { dirs };
    let (library, problems) = Library::check(&dirs);
    for problem in &problems {
        println!("{problem}");
    }
    for (pillar, c) in library.coverage() {
        use crate::core::model::{Audience, Depth, Kind, Phase};
        println!(
            "{pillar:<28} {:>3} prompts · light {} medium {} deep {} · hurt {} repairing {} · journal {} action {} · atone {} attune {} attach {}",
            c.total,
            count(&c.depths, Depth::Light),
            count(&c.depths, Depth::Medium),
            count(&c.depths, Depth::Deep),
            count(&c.audiences, Audience::Hurt),
            count(&c.audiences, Audience::Repairing),
            count(&c.kinds, Kind::Journal),
            count(&c.kinds, Kind::Action),
            count(&c.phases, Phase::Atone),
            count(&c.phases, Phase::Attune),
            count(&c.phases, Phase::Attach),
        );
    }
    if !problems.is_empty() {
        println!(
            "{} problem(s); whether every reader has enough prompts is checked once every file reads",
            problems.len()
        );
        return ExitCode::from(2);
    }
    let shortfalls = coverage::shortfalls(&coverage::rows(&library));
    for line in &shortfalls {
        println!("too few prompts: {line}");
    }
    if shortfalls.is_empty() {
        println!("ok: {} prompts in {} pillars", library.prompts().len(), library.pillars().len());
        ExitCode::SUCCESS
    } else {
        println!(
            "{} reader and phase row(s) below the minimums — `mend prompts stats` shows them all",
            shortfalls.len()
        );
        ExitCode::FAILURE
    }
}

/// Reads `dir`, or the built-in library with the host's extra directories.
fn library_from(store: &StoreConfig, dir: Option<PathBuf>) -> anyhow::Result<Library> {
    Ok(match dir {
        Some(dir) => Library::load(&[dir])
            .map_err(|p| InputError(format!("{} problem(s) in the prompts, first: {}", p.len(), p[0])))?,
        None => load_library(store)?,
    })
}

pub(super) fn prompt_stats(store: &StoreConfig, dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let library = library_from(store, dir)?;
    let rows = coverage::rows(&library);
    println!("{:<10} {:<7} {:>7} {:>6}  days until a repeat", "reader", "phase", "fitting", "light");
    for row in &rows {
        let (reader, phase) = (row.reader.as_str(), row.phase.as_str());
        println!("{reader:<10} {phase:<7} {:>7} {:>6}  {}", row.fitting, row.light, row.repeat);
    }
    let shortfalls = coverage::shortfalls(&rows);
    if shortfalls.is_empty() {
        println!("ok: every reader has at least {MIN_FITTING} prompts in every phase, {MIN_LIGHT} of them light");
        return Ok(ExitCode::SUCCESS);
    }
    for line in &shortfalls {
        println!("too few prompts: {line}");
    }
    Ok(ExitCode::FAILURE)
}

pub(super) fn list_prompts(
    store: &StoreConfig,
    pillar: Option<String>,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let library = library_from(store, dir)?;
    if let Some(p) = &pillar
        && !PILLARS.iter().any(|(id, ..)| id == p)
    {
        let known: Vec<&str> = PILLARS.iter().map(|p| p.0).collect();
        return Err(InputError(format!("unknown pillar `{p}`; pillars are: {}", known.join(", "))).into());
    }
    for prompt in library.prompts().iter().filter(|p| pillar.as_ref().is_none_or(|want| &p.pillar == want)) {
        let phases: Vec<&str> = prompt.phases.iter().map(|p| p.as_str()).collect();
        println!(
            "{:<32} {:<7} {:<9} {:<6} {:<20} {}",
            prompt.id,
            prompt.kind,
            prompt.audience,
            prompt.depth,
            phases.join(","),
            prompt.text
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn preview(spec: &str, tz: &str, from: Option<&str>, count: usize) -> anyhow::Result<ExitCode> {
    let schedule = Schedule::parse(spec, tz).map_err(|e| InputError(e.to_string()))?;
    let from = match from {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| InputError(format!("`{s}` is not an RFC 3339 instant — try 2026-03-08T00:00:00Z")))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    for t in schedule.upcoming(from, count) {
        println!("{}", t.format("%Y-%m-%dT%H:%M:%SZ"));
    }
    Ok(ExitCode::SUCCESS)
}
