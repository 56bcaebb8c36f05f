//! The only place with SQL. Each submodule owns one table; functions take any
//! executor so that one function serves a pool or a transaction.
//!
//! One store for two backends, through sqlx's `Any` driver: SQLite (embedded,
//! the default) and PostgreSQL (`DATABASE_URL=postgres://…`). Both read the
//! same SQL (`$1`-numbered parameters, integers for 0/1 flags); where they
//! differ the function names the backend ([`Backend::of`]), and each has its
//! own migrations (`migrations/sqlite/`, `migrations/postgres/`).

pub mod checkins;
pub mod commitments;
pub mod couples;
pub mod deliveries;
pub mod hard_moments;
pub mod homes;
pub mod keys;
pub mod leader;
pub mod migrate;
pub mod outbox;
pub mod pairings;
pub mod reflections;
pub mod rekey;
pub mod responses;
pub mod schedules;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, Arguments, Encode, Executor, Type};

pub use sqlx::AnyPool as Pool;

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
    #[error("{0}")]
    Unsupported(&'static str),
    /// A text whose writer's key was destroyed (`/forget`, `/couple end`):
    /// a copy of the database from before then still holds it, sealed.
    #[error("this text's writer asked mend to forget it: its key is destroyed")]
    Forgotten,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A write transaction on either backend.
pub type Tx = sqlx::Transaction<'static, Any>;

/// Which database engine a URL, a pool or a connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `DATABASE_URL` names: `postgres://` or `postgresql://`
    /// for PostgreSQL, anything else (`sqlite://…`, a path) for SQLite.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn of(conn: &AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" { Backend::Postgres } else { Backend::Sqlite }
    }

    pub fn of_pool(pool: &Pool) -> Backend {
        Backend::of_url(pool.connect_options().database_url.as_str())
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The migrations of a backend, embedded at build time.
pub fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    }
}

/// Opens the database at `url` (creating a SQLite file if missing), applies
/// its backend's migrations and checks the key against the one the database
/// was written with.
///
/// On SQLite, WAL lets readers go on while one writer writes; the busy timeout
/// makes a writer wait for another instead of failing with "database is
/// locked"; `secure_delete` overwrites deleted rows. The file is created
/// readable by its owner only.
///
/// `keys` is the keystore its texts are sealed with: the database records
/// which (its random id), and refuses another. Texts written before data
/// keys are resealed under their writers' keys on the first open, a rekey
/// that stopped part-way is ended or undone, and keys a forgetting left to
/// destroy are destroyed.
pub async fn connect(url: &str, keys: &keys::Keys) -> Result<Pool> {
    let pool = open(url, 8).await?;
    migrator(Backend::of_pool(&pool)).run(&pool).await?;
    check_key_or_keystore(&pool, keys).await?;
    keys.finish_rekey().await?;
    link_keystore(&pool, keys).await?;
    keys::destroy_pending(&pool, keys).await?;
    Ok(pool)
}

/// The host key opens the database's key check; or else, for a copy taken
/// before a `mend rekey` (a backup), it opens the keys of the keystore the
/// copy is linked to, which is all its texts need: then the check is
/// resealed under it. Never while a rekey is under way, nor for a copy with
/// texts still under the host key itself.
async fn check_key_or_keystore(pool: &Pool, keys: &keys::Keys) -> Result<()> {
    let checked = check_key(pool, keys.host()).await;
    if !matches!(checked, Err(StoreError::Key(KeyError::Wrong))) {
        return checked;
    }
    let linked: Option<(String, i64)> =
        sqlx::query_as("SELECT keystore, upgraded FROM keystore_link WHERE id = 1").fetch_optional(pool).await?;
    let ours = match linked {
        Some((id, upgraded)) => upgraded != 0 && id == keys.id().await?,
        None => false,
    };
    if !ours || keys.rekey_staged().await? || keys.host_opens().await? != Some(true) {
        return checked;
    }
    sqlx::query("UPDATE key_check SET sealed = $1 WHERE id = 1")
        .bind(keys.host().seal(KEY_CHECK, KEY_CHECK_CONTEXT))
        .execute(pool)
        .await?;
    Ok(())
}

/// Records `keys` as this database's keystore, or checks it is the one
/// recorded; then reseals, once, what was written before data keys.
async fn link_keystore(pool: &Pool, keys: &keys::Keys) -> Result<()> {
    let keystore = keys.id().await?;
    let linked: Option<String> =
        sqlx::query_scalar("SELECT keystore FROM keystore_link WHERE id = 1").fetch_optional(pool).await?;
    match linked {
        Some(id) if id == keystore => {}
        Some(_) => return Err(KeyError::OtherKeystore.into()),
        None => {
            if keys.linked().await? && keys.count().await? > 0 {
                return Err(KeyError::KeystoreTaken.into());
            }
            sqlx::query("INSERT INTO keystore_link (id, keystore) VALUES (1, $1) ON CONFLICT DO NOTHING")
                .bind(&keystore)
                .execute(pool)
                .await?;
            let linked: String =
                sqlx::query_scalar("SELECT keystore FROM keystore_link WHERE id = 1").fetch_one(pool).await?;
            if linked != keystore {
                return Err(KeyError::OtherKeystore.into());
            }
            keys.mark_linked().await?;
        }
    }
    rekey::upgrade(pool, keys).await?;
    Ok(())
}

/// A pool on `url` with each backend's settings, and no migration run.
pub async fn open(url: &str, max_connections: u32) -> Result<Pool> {
    sqlx::any::install_default_drivers();
    match Backend::of_url(url) {
        Backend::Sqlite => {
            sqlite_pool(
                url,
                max_connections,
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
            )
            .await
        }
        Backend::Postgres => {
            let options = AnyConnectOptions::from_str(url)?;
            Ok(AnyPoolOptions::new()
                .max_connections(max_connections.max(16))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?)
        }
    }
}

/// A pool on a SQLite file (created owner-only if missing; a bare path works
/// as a URL), each connection set up with `pragmas`. An in-memory database's
/// connections live as long as the pool: it is gone with the last.
pub(crate) async fn sqlite_pool(url: &str, max_connections: u32, pragmas: &'static str) -> Result<Pool> {
    let options = SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename().to_path_buf();
    let in_memory = path.as_os_str().is_empty() || path == std::path::Path::new(":memory:");
    let url = if in_memory {
        "sqlite::memory:".to_string()
    } else {
        owner_only(&path)?;
        if url.contains("://") || url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{}", path.display())
        }
    };
    let options = AnyConnectOptions::from_str(&url)?;
    // Local files do not go stale: no round trip to test a connection each time.
    Ok(AnyPoolOptions::new()
        .max_connections(max_connections)
        .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
        .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(1800)) })
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(pragmas).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
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

async fn check_key(pool: &Pool, cipher: &Cipher) -> Result<()> {
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(pool).await?;
    match stored {
        Some(sealed) => match cipher.open(&sealed, KEY_CHECK_CONTEXT) {
            Ok(plain) if plain == KEY_CHECK => Ok(()),
            _ => Err(StoreError::Key(KeyError::Wrong)),
        },
        None => {
            sqlx::query("INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT DO NOTHING")
                .bind(cipher.seal(KEY_CHECK, KEY_CHECK_CONTEXT))
                .execute(pool)
                .await?;
            Ok(())
        }
    }
}

/// The advisory lock every write transaction takes on PostgreSQL: shared by
/// those that touch one couple (or a few, each locked on its own), the only
/// one for those that may touch any.
const ALL_COUPLES: i64 = -1;

/// Begins a transaction that may touch any couple's rows: on SQLite it takes
/// the write lock at once (`BEGIN IMMEDIATE`, so two writers queue on the busy
/// timeout instead of one failing when it upgrades a read lock); on
/// PostgreSQL it waits for every other writer, as SQLite's one writer does.
pub async fn begin_write(pool: &Pool) -> Result<Tx> {
    match Backend::of_pool(pool) {
        Backend::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
        Backend::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ALL_COUPLES).execute(&mut *tx).await?;
            Ok(tx)
        }
    }
}

/// Begins a transaction that touches the rows of `couple` only. On
/// PostgreSQL it holds that couple's lock until it ends, so two partners
/// answering at the same instant, or a pause racing a resume, take turns
/// (the second reads what the first wrote), while other couples go on.
pub async fn begin_couple(pool: &Pool, couple: i64) -> Result<Tx> {
    let mut tx = begin_couples(pool).await?;
    lock_couples(&mut tx, &mut vec![couple]).await?;
    Ok(tx)
}

/// Begins a transaction that will lock the couples it touches with
/// [`lock_couples`] before it reads their rows.
pub async fn begin_couples(pool: &Pool) -> Result<Tx> {
    match Backend::of_pool(pool) {
        Backend::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
        Backend::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(ALL_COUPLES).execute(&mut *tx).await?;
            Ok(tx)
        }
    }
}

/// Locks `couples` for the rest of a transaction begun with
/// [`begin_couples`], in ascending order so two transactions never wait on
/// each other in a circle. (SQLite's transaction already holds the only
/// write lock.)
pub async fn lock_couples(tx: &mut Tx, couples: &mut Vec<i64>) -> Result<()> {
    if Backend::of(tx) == Backend::Postgres && !couples.is_empty() {
        couples.sort_unstable();
        couples.dedup();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT pg_advisory_xact_lock(c) FROM (SELECT unnest(ARRAY[{}]::bigint[]) AS c ORDER BY c) l",
            couples.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A list of ids as SQL reads it after `IN`: `(1,2,3)`, or `(NULL)` (which
/// matches nothing) for none. Ids are integers, so nothing else can get in.
pub(crate) fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "(NULL)".into();
    }
    format!("({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

/// A statement of many rows of values, its parameters numbered `$1…` as both
/// backends read them (sqlx's `QueryBuilder` writes `?` for `Any`).
pub(crate) struct Batch {
    sql: String,
    args: AnyArguments,
    n: usize,
}

impl Batch {
    pub fn new(head: &str) -> Batch {
        Batch { sql: head.to_string(), args: AnyArguments::default(), n: 0 }
    }

    pub fn push(&mut self, sql: &str) -> &mut Batch {
        self.sql.push_str(sql);
        self
    }

    /// `VALUES (…), (…)`, one row per item, each value bound by `row`.
    pub fn values<T>(&mut self, items: &[T], mut row: impl FnMut(&mut Batch, &T)) -> &mut Batch {
        self.sql.push_str("VALUES ");
        for (i, item) in items.iter().enumerate() {
            self.sql.push_str(if i == 0 { "(" } else { ", (" });
            let before = self.n;
            row(self, item);
            debug_assert!(self.n > before, "a row binds at least one value");
            self.sql.push(')');
        }
        self
    }

    /// Binds one value of the current row.
    pub fn bind<'q, V: Encode<'q, Any> + Type<Any> + 'q>(&mut self, value: V) -> &mut Batch {
        if !self.sql.ends_with('(') {
            self.sql.push_str(", ");
        }
        self.n += 1;
        self.sql.push_str(&format!("${}", self.n));
        self.args.add(value).expect("mend's values encode");
        self
    }

    pub fn build(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.args)
    }
}

/// A 0/1 flag as both backends store it.
pub(crate) fn flag(b: bool) -> i64 {
    b as i64
}

/// Reads a 0/1 flag (`None`: NULL).
pub(crate) fn get_flag(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<bool>> {
    use sqlx::Row;
    match row.try_get::<Option<i64>, _>(column)? {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(n) => Err(StoreError::Corrupt(format!("{column} = {n}"))),
    }
}

/// Reads a 0/1 flag that is never NULL.
pub(crate) fn get_set_flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool> {
    get_flag(row, column)?.ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
}

/// Reads one of the domain's spelled enums from a column; anything else means
/// the database holds a value mend never wrote.
pub(crate) fn parse_enum<T: FromStr<Err = String>>(value: &str) -> Result<T> {
    value.parse().map_err(StoreError::Corrupt)
}

/// Folds the write-ahead log into the database and empties it, so rows just
/// deleted (and overwritten, with `secure_delete`) leave no copy in the -wal file.
pub async fn scrub(pool: &Pool) -> Result<()> {
    // PostgreSQL has no file of its own to fold: what it forgets is made
    // unreadable by destroying its key.
    if Backend::of_pool(pool) == Backend::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    }
    Ok(())
}

/// `EXPLAIN QUERY PLAN` of every query a worker step runs, by name, with
/// placeholder values: tests check each reads an index, never a whole table.
pub async fn explain_step_queries(pool: &Pool) -> Result<Vec<(String, String)>> {
    if Backend::of_pool(pool) != Backend::Sqlite {
        return Err(StoreError::Unsupported("query plans are read on SQLite"));
    }
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
    if Backend::of_url(url) != Backend::Sqlite {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty() && path != std::path::Path::new(":memory:")).then(|| path.to_path_buf())
}

/// A consistent copy of the whole database into `to`, while mend keeps
/// writing (SQLite's `VACUUM INTO`: one read transaction, a snapshot of
/// everything committed when it began). The copy is created owner-only and
/// never over an existing file; sealed texts stay sealed in it.
pub async fn backup(pool: &Pool, to: &std::path::Path) -> Result<()> {
    if Backend::of_pool(pool) != Backend::Sqlite {
        return Err(StoreError::Unsupported(
            "`mend backup` copies a SQLite file; on PostgreSQL use pg_dump or the server's own backups",
        ));
    }
    let io = |e: std::io::Error| StoreError::Sqlx(sqlx::Error::Io(e));
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(0o600);
    }
    create.open(to).map_err(io)?;
    let done = sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().into_owned()).execute(pool).await;
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
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let inspected = inspect_pool(&pool, cipher).await;
    pool.close().await;
    inspected
}

async fn inspect_pool(pool: &sqlx::SqlitePool, cipher: &Cipher) -> Result<Inspection> {
    let has = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1")
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
    let key = if has("key_check").await? {
        Some(sqlx::query_scalar("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(pool).await?)
    } else {
        None
    };
    Ok(judge(Backend::Sqlite, &rows, key.flatten(), cipher))
}

/// What a PostgreSQL database holds, read without changing it: for `mend doctor`.
pub async fn inspect_postgres(url: &str, cipher: &Cipher) -> Result<Inspection> {
    use sqlx::postgres::PgPoolOptions;
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
    let has = |table: &'static str| {
        let pool = &pool;
        async move { sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(pool).await }
    };
    let rows: Vec<(i64, bool)> = if has("_sqlx_migrations").await? {
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations").fetch_all(&pool).await?
    } else {
        Vec::new()
    };
    let key: Option<Vec<u8>> = if has("key_check").await? {
        sqlx::query_scalar("SELECT sealed FROM key_check WHERE id = 1").fetch_optional(&pool).await?
    } else {
        None
    };
    pool.close().await;
    Ok(judge(Backend::Postgres, &rows, key, cipher))
}

/// The migrations applied (`rows`: version, whether it succeeded) judged
/// against this build's, and whether `cipher` opens the key check.
fn judge(backend: Backend, rows: &[(i64, bool)], key_check: Option<Vec<u8>>, cipher: &Cipher) -> Inspection {
    let migrator = migrator(backend);
    let known: Vec<_> = migrator.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
    let done = |v: i64| rows.iter().any(|(version, ok)| *version == v && *ok);
    let key_opens =
        key_check.map(|sealed| cipher.open(&sealed, KEY_CHECK_CONTEXT).is_ok_and(|plain| plain == KEY_CHECK));
    Inspection {
        applied: known.iter().filter(|m| done(m.version)).count(),
        pending: known
            .iter()
            .filter(|m| !done(m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect(),
        unknown: rows.iter().map(|r| r.0).filter(|v| !known.iter().any(|m| m.version == *v)).collect(),
        failed: rows.iter().filter(|r| !r.1).map(|r| r.0).collect(),
        key_opens,
    }
}

/// A database URL as it may be shown: without its password.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A write that changes nothing (the key check row rewritten as it is), in a
/// transaction that takes the write lock: whether the database takes writes
/// now, for `/healthz`.
pub async fn probe_write(pool: &Pool) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("UPDATE key_check SET sealed = sealed WHERE id = 1").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
