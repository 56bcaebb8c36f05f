//! Settings read at start-up, so that a bad value fails at once with a clear
//! message rather than later in the middle of someone's evening.

use std::path::PathBuf;

use clap::Args;

/// Where mend keeps its data and which prompts it offers.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// The SQLite database (created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://mend.db", global = true)]
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

/// Accepts `sqlite://file.db`, `sqlite::memory:` or a bare path.
pub fn database_url(value: &str) -> String {
    if value.starts_with("sqlite:") { value.to_string() } else { format!("sqlite://{value}") }
}
