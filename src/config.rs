//! Settings read at start-up, so that a bad value fails at once with a clear
//! message rather than later in the middle of someone's evening.
//!
//! One tree: `StoreConfig` (where the data is), `engine::Settings` (the rules'
//! numbers), `discord::BotConfig` (how to reach Discord); `defaults` is the one
//! place their default values are written.

use std::path::PathBuf;

use clap::Args;

/// The default of every setting that has one, shared by the command line and
/// `engine::Settings::default()`.
pub mod defaults {
    pub const DATABASE_URL: &str = "sqlite://mend.db";
    pub const TZ: &str = "UTC";
    pub const SCHEDULE: &str = "daily 20:00";
    pub const REFLECTION: &str = "sun 19:00";
    pub const NUDGE_AFTER_MINUTES: i64 = 360;
    /// Nudges come between 08:00 and 22:00 in the couple's timezone.
    pub const NUDGE_HOURS: &str = "08-22";
    /// The shortest gap between two prompts (or reflections) a couple may choose.
    pub const MIN_INTERVAL_MINUTES: i64 = 60;
    pub const RETRY_BASE_SECONDS: i64 = 30;
    pub const LEASE_SECONDS: i64 = 120;
    pub const DISCORD_TIMEOUT_SECONDS: u64 = 30;
    /// `/healthz` calls the scheduler stalled when a step runs longer than
    /// this (the worker steps at least once a minute).
    pub const HEALTH_STALL_SECONDS: u64 = 180;
}

/// Where mend keeps its data and which prompts it offers.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// The SQLite database (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = defaults::DATABASE_URL, global = true)]
    pub database_url: String,

    /// Extra directories of prompt files, added to the built-in library
    /// (separate several with `:` in the environment variable).
    #[arg(long = "extra-prompts", env = "MEND_EXTRA_PROMPTS", value_delimiter = ':', global = true)]
    pub extra_prompts: Vec<PathBuf>,
}

impl StoreConfig {
    /// The database URL with `sqlite:` added to a bare path.
    pub fn url(&self) -> String {
        database_url(&self.database_url)
    }
}

/// Accepts `postgres://…` (or `postgresql://…`), `sqlite://file.db`,
/// `sqlite::memory:` or a bare path (a SQLite file).
pub fn database_url(value: &str) -> String {
    if value.starts_with("sqlite:") || crate::store::Backend::of_url(value) == crate::store::Backend::Postgres {
        value.to_string()
    } else {
        format!("sqlite://{value}")
    }
}

/// Reads `.env` from the working directory, if there is one, into the
/// environment; what is already set there wins, and an empty value is "not
/// set". Returns a one-line problem to tell the host (a line that does not
/// parse: then nothing of the file is used), or `None`.
pub fn load_dotenv() -> Option<String> {
    // A line that does not parse is named by its variable, never printed: it
    // may hold the token.
    let problem = |e: dotenvy::Error| match e {
        dotenvy::Error::LineParse(rest, _) => {
            // `rest` is the text dotenvy could not read (a value, maybe the
            // token): find its line in the file for the name in front of it.
            let file = std::fs::read_to_string(".env").unwrap_or_default();
            let name = file
                .lines()
                .find(|l| l.contains(rest.as_str()))
                .and_then(|l| l.split_once('='))
                .map(|(n, _)| n.trim().trim_start_matches("export ").trim())
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or("a variable")
                .to_string();
            format!(
                "mend: .env was not read: the line setting {name} does not parse (quote a value with spaces: \
                 NAME=\"a b\") — fix the line, or remove .env"
            )
        }
        other => format!("mend: .env was not read: {other} — fix it, or remove .env"),
    };
    let lines = match dotenvy::dotenv_iter() {
        Ok(lines) => lines,
        Err(e) if e.not_found() => return None,
        Err(e) => return Some(problem(e)),
    };
    // Read it whole first: a bad line leaves the environment as it was.
    let mut set = Vec::new();
    for line in lines {
        match line {
            // An empty value (`DISCORD_GUILD_ID=`, as .env.example writes the
            // optional ones) means "not set"; the environment wins over the file.
            Ok((name, value)) if !value.trim().is_empty() && std::env::var_os(&name).is_none() => {
                set.push((name, value))
            }
            Ok(_) => {}
            Err(e) => return Some(problem(e)),
        }
    }
    for (name, value) in set {
        // SAFETY: called first thing in `main`, before anything else reads or
        // writes the environment (dotenvy's own loader does the same).
        unsafe { std::env::set_var(name, value) };
    }
    None
}
