//! The only place with SQL. Each submodule owns one table; functions take any
//! SQLite executor so that one function serves a pool or a transaction.

pub mod checkins;
pub mod commitments;
pub mod couples;
pub mod deliveries;
pub mod hard_moments;
pub mod homes;
pub mod outbox;
pub mod pairings;
pub mod reflections;
pub mod rekey;
pub mod responses;
pub mod schedules;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use sqlx::SqlitePool as Pool;

use crate::crypto::{Cipher, KeyError};

/// A failure of the database, logged in full and never shown to a user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database holds a value mend does not understand: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens (creating if missing) the database at `url` and applies `migrations/`.
///
/// WAL lets readers go on while one writer writes; the busy timeout makes a
/// writer wait for another instead of failing with "database is locked".
/// `secure_delete` overwrites deleted rows, so forgotten data leaves no trace in
/// the file. The file is created readable by its owner only, and the key is
/// checked against the one the database was written with.
pub async fn connect(url: &str, cipher: &Cipher) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("secure_delete", "ON");
    if let Some(path) = file_of(url) {
        owner_only(&path)?;
    }
    // Local files do not go stale: no round trip to test a connection each time.
    let pool = SqlitePoolOptions::new().max_connections(8).test_before_acquire(false).connect_with(options).await?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    check_key(&pool, cipher).await?;
    Ok(pool)
}

/// Creates the database file readable and writable by its owner only (SQLite
/// gives its -wal and -shm files the same mode), or tightens an existing one.
fn owner_only(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |e: std::io::Error| StoreError::Sqlx(sqlx::Error::Io(e));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

const KEY_CHECK: &[u8] = b"mend key check";
/// What the key check is sealed to.
pub(crate) const KEY_CHECK_CONTEXT: &[u8] = b"key_check";

async fn check_key(pool: &SqlitePool, cipher: &Cipher) -> Result<()> {
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(pool).await?;
    match stored {
        Some(sealed) => match cipher.open(&sealed, KEY_CHECK_CONTEXT) {
            Ok(plain) if plain == KEY_CHECK => Ok(()),
            _ => Err(StoreError::Key(KeyError::Wrong)),
        },
        None => {
            sqlx::query("INSERT INTO key_check (id, sealed) VALUES (1, ?) ON CONFLICT DO NOTHING")
                .bind(cipher.seal(KEY_CHECK, KEY_CHECK_CONTEXT))
                .execute(pool)
                .await?;
            Ok(())
        }
    }
}

/// Begins a transaction that takes the write lock at once, so two writers queue
/// on the busy timeout instead of one failing when it upgrades a read lock.
pub async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Reads one of the domain's spelled enums from a column; anything else means
/// the database holds a value mend never wrote.
pub(crate) fn parse_enum<T: FromStr<Err = String>>(value: &str) -> Result<T> {
    value.parse().map_err(StoreError::Corrupt)
}

/// Folds the write-ahead log into the database and empties it, so rows just
/// deleted (and overwritten, with `secure_delete`) leave no copy in the -wal file.
pub async fn scrub(pool: &SqlitePool) -> Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    Ok(())
}

/// `EXPLAIN QUERY PLAN` of every query a worker step runs, by name, with
/// placeholder values: tests check each reads an index, never a whole table.
pub async fn explain_step_queries(pool: &SqlitePool) -> Result<Vec<(String, String)>> {
    let queries = [
        (
            "claim due schedules",
            "SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules
             WHERE next_fire_at IS NOT NULL AND next_fire_at <= 0 ORDER BY next_fire_at LIMIT 10",
        ),
        ("earliest schedule", "SELECT MIN(next_fire_at) FROM schedules WHERE next_fire_at IS NOT NULL"),
        (
            "claim due commitment asks",
            "SELECT id, couple_id, next_occurrence FROM commitments
             WHERE next_ask_at IS NOT NULL AND next_ask_at <= 0 ORDER BY next_ask_at LIMIT 10",
        ),
        ("earliest commitment ask", "SELECT MIN(next_ask_at) FROM commitments WHERE next_ask_at IS NOT NULL"),
        (
            "claim due outbox items",
            "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= 0
             AND (lease_until IS NULL OR lease_until <= 0) ORDER BY next_attempt_at, id LIMIT 10",
        ),
        (
            "earliest free outbox item",
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending' AND lease_until IS NULL",
        ),
        (
            "earliest lease to end",
            "SELECT MIN(lease_until) FROM outbox WHERE status = 'pending' AND lease_until IS NOT NULL",
        ),
        ("outbox parts", "SELECT part, channel_id, message_id FROM outbox_parts WHERE outbox_id = 1 ORDER BY part"),
        ("a delivery", "SELECT * FROM deliveries WHERE id = 1"),
        ("a delivery's responses", "SELECT * FROM responses WHERE delivery_id = 1 ORDER BY slot"),
        ("a delivery's messages", "SELECT * FROM delivery_messages WHERE delivery_id = 1 ORDER BY slot"),
        ("a reflection", "SELECT * FROM reflections WHERE id = 1"),
        (
            "a week of a couple's deliveries",
            "SELECT * FROM deliveries WHERE couple_id = 1 AND occurrence >= 0 AND occurrence < 9 ORDER BY occurrence",
        ),
        (
            "a week of a couple's responses",
            "SELECT r.* FROM responses r JOIN deliveries d ON d.id = r.delivery_id
             WHERE d.couple_id = 1 AND d.occurrence >= 0 AND d.occurrence < 9 ORDER BY d.occurrence, r.slot",
        ),
        (
            "a couple's history",
            "SELECT pillar, prompt_a, prompt_b FROM deliveries WHERE couple_id = 1 AND pillar IS NOT NULL ORDER BY occurrence",
        ),
        ("a reflection's check-ins", "SELECT * FROM checkins WHERE reflection_id = 1 ORDER BY slot"),
        (
            "whether a reflection takes check-ins",
            "SELECT 1 FROM reflections r JOIN outbox o ON o.reflection_id = r.id AND o.kind = 'reflection'
             WHERE r.id = 1 AND r.status = 'pending' AND o.status = 'pending'
               AND (o.lease_until IS NULL OR o.lease_until <= 0)",
        ),
    ];
    let mut plans = Vec::new();
    for (name, sql) in queries {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))).fetch_all(pool).await?;
        let plan = rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join(" | ");
        plans.push((name.to_string(), plan));
    }
    Ok(plans)
}

/// The file a database URL names (`None`: in memory, or no file), read as
/// `connect` reads it.
pub fn file_of(url: &str) -> Option<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty() && path != std::path::Path::new(":memory:")).then(|| path.to_path_buf())
}

/// A consistent copy of the whole database into `to`, while mend keeps
/// writing (SQLite's `VACUUM INTO`: one read transaction, a snapshot of
/// everything committed when it began). The copy is created owner-only and
/// never over an existing file; sealed texts stay sealed in it.
pub async fn backup(pool: &SqlitePool, to: &std::path::Path) -> Result<()> {
    let io = |e: std::io::Error| StoreError::Sqlx(sqlx::Error::Io(e));
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(0o600);
    }
    create.open(to).map_err(io)?;
    let done = sqlx::query("VACUUM INTO ?").bind(to.to_string_lossy().into_owned()).execute(pool).await;
    if let Err(e) = done {
        let _ = std::fs::remove_file(to);
        return Err(e.into());
    }
    Ok(())
}

/// A hold on a database, taken through a lock file beside it (`<db>.lock`):
/// `mend run` keeps a shared one while it serves, and `mend restore` and
/// `mend rekey` need the only one, so a database mend is serving is never
/// replaced or resealed under it. The kernel lets go of a hold when its
/// process ends, however it ends.
#[derive(Debug)]
pub struct Hold(#[allow(dead_code)] std::fs::File);

/// Why a hold could not be had.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("mend is running with this database (another process holds {0}) — stop it first")]
    Busy(std::path::PathBuf),
    #[error("could not open the lock file {0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
}

/// Takes a hold on the database `url` names (`alone`: the only one; otherwise
/// shared with other readers of that kind). `None` for a database in memory.
pub fn hold(url: &str, alone: bool) -> Result<Option<Hold>, HoldError> {
    let Some(db) = file_of(url) else { return Ok(None) };
    let mut path = db.into_os_string();
    path.push(".lock");
    let path = std::path::PathBuf::from(path);
    let mut open = std::fs::OpenOptions::new();
    open.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    let file = open.open(&path).map_err(|e| HoldError::Io(path.clone(), e))?;
    let taken = if alone { file.try_lock() } else { file.try_lock_shared() };
    match taken {
        Ok(()) => Ok(Some(Hold(file))),
        Err(std::fs::TryLockError::WouldBlock) => Err(HoldError::Busy(path)),
        Err(std::fs::TryLockError::Error(e)) => Err(HoldError::Io(path, e)),
    }
}

/// What a database file holds, read without changing it (no migration runs and
/// no key check is written): for `mend doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Migrations of this build applied to the file.
    pub applied: usize,
    /// Migrations of this build not yet applied (`mend run` applies them), by description.
    pub pending: Vec<String>,
    /// Versions applied to the file that this build does not know (a newer mend wrote it).
    pub unknown: Vec<i64>,
    /// Versions whose migration failed part-way.
    pub failed: Vec<i64>,
    /// Whether the key opens the database's key check (`None`: it has none yet).
    pub key_opens: Option<bool>,
}

/// Reads the migrations a database file has and whether `cipher` opens it.
pub async fn inspect(path: &std::path::Path, cipher: &Cipher) -> Result<Inspection> {
    let options =
        SqliteConnectOptions::new().filename(path).create_if_missing(false).busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let inspected = inspect_pool(&pool, cipher).await;
    pool.close().await;
    inspected
}

async fn inspect_pool(pool: &SqlitePool, cipher: &Cipher) -> Result<Inspection> {
    let has = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table)
            .fetch_one(pool)
            .await
            .map(|n| n > 0)
    };
    let rows: Vec<(i64, bool)> = if has("_sqlx_migrations").await? {
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations").fetch_all(pool).await?
    } else {
        Vec::new()
    };
    let migrator = sqlx::migrate!("migrations/sqlite");
    let known: Vec<_> = migrator.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
    let done = |v: i64| rows.iter().any(|(version, ok)| *version == v && *ok);
    let key_opens = if has("key_check").await? {
        let stored: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(pool).await?;
        stored.map(|sealed| cipher.open(&sealed, KEY_CHECK_CONTEXT).is_ok_and(|plain| plain == KEY_CHECK))
    } else {
        None
    };
    Ok(Inspection {
        applied: known.iter().filter(|m| done(m.version)).count(),
        pending: known
            .iter()
            .filter(|m| !done(m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect(),
        unknown: rows.iter().map(|r| r.0).filter(|v| !known.iter().any(|m| m.version == *v)).collect(),
        failed: rows.iter().filter(|r| !r.1).map(|r| r.0).collect(),
        key_opens,
    })
}

/// A write that changes nothing (the key check row rewritten as it is), in a
/// transaction that takes the write lock: whether the database takes writes
/// now, for `/healthz`.
pub async fn probe_write(pool: &SqlitePool) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("UPDATE key_check SET sealed = sealed WHERE id = 1").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
