//! The only place with SQL. Each submodule owns one table; functions take any
//! SQLite executor so that one function serves a pool or a transaction.

pub mod couples;
pub mod deliveries;
pub mod discord;
pub mod reflections;
pub mod responses;
pub mod schedules;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use sqlx::SqlitePool as Pool;

/// A failure of the database, logged in full and never shown to a user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database holds a value mend does not understand: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens (creating if missing) the database at `url` and applies `migrations/`.
///
/// WAL lets readers go on while one writer writes; the busy timeout makes a
/// writer wait for another instead of failing with "database is locked".
pub async fn connect(url: &str) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    sqlx::migrate!().run(&pool).await?;
    Ok(pool)
}

/// Begins a transaction that takes the write lock at once, so two writers queue
/// on the busy timeout instead of one failing when it upgrades a read lock.
pub async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// SQLite stores signed 64-bit integers; ids outside mend (Discord's u64
/// snowflakes) are kept as decimal text, so no conversion can overflow.
pub(crate) fn parse_enum<T: FromStr<Err = String>>(value: &str) -> Result<T> {
    value.parse().map_err(StoreError::Corrupt)
}
