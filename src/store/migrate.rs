//! Moving a SQLite database into an empty PostgreSQL one, for `mend migrate-to`.
//!
//! The tables are found, not listed: whatever SQLite holds (but its own and
//! sqlx's bookkeeping) is copied, parents before children, every column, ids
//! kept (sealed texts are sealed to their row ids), in one PostgreSQL
//! transaction, so the target holds either everything or nothing. Each value
//! is read as the target column's type, so sealed bytes that SQLite keeps in a
//! column declared TEXT arrive as `bytea`. Identity sequences then go on past
//! the highest id SQLite ever handed out, as they would have there.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use sqlx::Row;

use super::{Backend, Batch, KEY_CHECK, KEY_CHECK_CONTEXT, Pool, StoreError};
use crate::crypto::Cipher;

/// Why a move did not happen (nothing was written to the target).
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("the target database already holds mend's data ({table} has rows)")]
    NotEmpty { table: String },
    #[error("the target database's key check was written with another key")]
    OtherKey,
    #[error("{0}")]
    Mismatch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for MoveError {
    fn from(e: sqlx::Error) -> Self {
        MoveError::Store(e.into())
    }
}

impl From<sqlx::migrate::MigrateError> for MoveError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        MoveError::Store(e.into())
    }
}

type Result<T, E = MoveError> = std::result::Result<T, E>;

/// How one table was moved: its rows, and where its ids go on from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub table: String,
    pub rows: u64,
    /// The highest id the table ever used, which new ids now follow (`None`:
    /// the table has no identity column, or never had a row).
    pub ids_after: Option<i64>,
}

/// The kind a target column is read and written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
    Real,
}

#[derive(Debug, Clone)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Real(Option<f64>),
}

/// Values bound per statement stay well under PostgreSQL's 65,535, and a
/// batch of rows in memory stays small.
const BATCH_ROWS: usize = 500;
const BATCH_VALUES: usize = 30_000;

/// Copies every table of `source` (SQLite, fully migrated, opened with
/// `cipher`) into `target` (PostgreSQL): refuses a target that already holds
/// mend's rows, runs PostgreSQL's migrations on it, copies in one
/// transaction, and sets every identity sequence past the highest id used.
/// `progress` hears each table as it is done, with its count of rows.
pub async fn to_postgres(
    source: &Pool,
    target: &Pool,
    cipher: &Cipher,
    mut progress: impl FnMut(&Moved),
) -> Result<Vec<Moved>> {
    if Backend::of_pool(source) != Backend::Sqlite || Backend::of_pool(target) != Backend::Postgres {
        return Err(StoreError::Unsupported("a move goes from SQLite to PostgreSQL").into());
    }
    let mut reading = source.begin().await?;
    let tables = in_parent_order(&mut reading).await?;
    // The key check alone may already be there (a `mend status` on the empty
    // target writes one): it is kept if this key wrote it.
    let skip_key_check = refuse_rows(target, &tables, cipher).await?;
    super::migrator(Backend::Postgres).run(target).await?;

    let high_water = sqlite_sequence(&mut reading).await?;
    // Every other writer waits, as SQLite's one writer would.
    let mut writing = super::begin_write(target).await?;
    let mut moved = Vec::new();
    for table in &tables {
        if table == "key_check" && skip_key_check {
            continue;
        }
        if table == "keystore_link" {
            // A mend started on the empty target named its keystore there:
            // the source's keystore, whose keys seal what moves, replaces it.
            sqlx::query("DELETE FROM keystore_link").execute(&mut *writing).await?;
        }
        let columns = columns_of(&mut writing, &mut reading, table).await?;
        let rows = copy_table(&mut reading, &mut writing, table, &columns).await?;
        let ids_after = set_identity(&mut writing, table, high_water.get(table).copied()).await?;
        let done = Moved { table: table.clone(), rows, ids_after };
        progress(&done);
        moved.push(done);
    }
    writing.commit().await?;
    reading.rollback().await?;
    Ok(moved)
}

/// The tables of the SQLite database, each after every table it refers to.
async fn in_parent_order(sqlite: &mut super::Tx) -> Result<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut **sqlite)
    .await?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let of: Vec<String> = sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
            .bind(name)
            .fetch_all(&mut **sqlite)
            .await?;
        // A table that refers to itself comes after itself already.
        parents.insert(name.clone(), of.into_iter().filter(|p| p != name).collect());
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let ready: Vec<String> = names
            .iter()
            .filter(|n| !ordered.contains(*n))
            .filter(|n| parents[*n].iter().all(|p| ordered.contains(p) || !parents.contains_key(p)))
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(MoveError::Mismatch("the SQLite tables refer to each other in a circle".into()));
        }
        ordered.extend(ready);
    }
    Ok(ordered)
}

/// Fails if any of `tables` exists in the target with a row in it; `true`
/// when the only row is a key check this key opens (then it is kept).
async fn refuse_rows(target: &Pool, tables: &[String], cipher: &Cipher) -> Result<bool> {
    let present: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(target)
    .await?;
    let mut key_check = false;
    for table in tables.iter().filter(|t| present.contains(t)) {
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) one", quoted(table));
        let has_rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(target).await?;
        if has_rows == 0 || table == "keystore_link" {
            continue;
        }
        if table != "key_check" {
            return Err(MoveError::NotEmpty { table: table.clone() });
        }
        let sealed: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM key_check").fetch_all(target).await?;
        match sealed.as_slice() {
            [one] if cipher.open(one, KEY_CHECK_CONTEXT).is_ok_and(|plain| plain == KEY_CHECK) => key_check = true,
            _ => return Err(MoveError::OtherKey),
        }
    }
    Ok(key_check)
}

/// The high-water mark of each SQLite AUTOINCREMENT table: the highest id it
/// ever handed out, though that row may be gone.
async fn sqlite_sequence(sqlite: &mut super::Tx) -> Result<BTreeMap<String, i64>> {
    let has: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
            .fetch_one(&mut **sqlite)
            .await?;
    if has == 0 {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, CAST(seq AS INTEGER) FROM sqlite_sequence").fetch_all(&mut **sqlite).await?;
    Ok(rows.into_iter().collect())
}

/// The columns SQLite has for `table`, each with the kind its target column
/// takes; a column the target lacks, or a type mend never uses, is refused.
async fn columns_of(pg: &mut super::Tx, sqlite: &mut super::Tx, table: &str) -> Result<Vec<(String, Kind)>> {
    let target: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut **pg)
    .await?;
    if target.is_empty() {
        return Err(MoveError::Mismatch(format!("PostgreSQL's migrations make no table {table}")));
    }
    let source: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
        .bind(table)
        .fetch_all(&mut **sqlite)
        .await?;
    source
        .into_iter()
        .map(|column| {
            let Some((_, data_type)) = target.iter().find(|(c, _)| *c == column) else {
                return Err(MoveError::Mismatch(format!("PostgreSQL's {table} has no column {column}")));
            };
            let kind = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "text" | "character varying" => Kind::Text,
                "bytea" => Kind::Bytes,
                "double precision" | "real" => Kind::Real,
                other => return Err(MoveError::Mismatch(format!("{table}.{column} is {other} on PostgreSQL"))),
            };
            Ok((column, kind))
        })
        .collect()
}

/// Streams `table` out of SQLite and into PostgreSQL a batch at a time;
/// returns how many rows were copied.
async fn copy_table(
    sqlite: &mut super::Tx,
    pg: &mut super::Tx,
    table: &str,
    columns: &[(String, Kind)],
) -> Result<u64> {
    let select = columns
        .iter()
        .map(|(c, kind)| match kind {
            // Whatever SQLite declared, the bytes as they are.
            Kind::Bytes => format!("CAST({} AS BLOB)", quoted(c)),
            _ => quoted(c),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!(
        "INSERT INTO {} ({}) ",
        quoted(table),
        columns.iter().map(|(c, _)| quoted(c)).collect::<Vec<_>>().join(", ")
    );
    let per_batch = (BATCH_VALUES / columns.len().max(1)).clamp(1, BATCH_ROWS);
    // In key order (some tables have no rowid), as a reader of the table sees it.
    let key: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
        .bind(table)
        .fetch_all(&mut **sqlite)
        .await?;
    let order = if key.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", key.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "))
    };
    let sql = format!("SELECT {select} FROM {}{order}", quoted(table));
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut **sqlite);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_batch);
    let mut copied = 0;
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, (column, kind)) in columns.iter().enumerate() {
            let value = match kind {
                Kind::Int => row.try_get(i).map(Value::Int),
                Kind::Text => row.try_get(i).map(Value::Text),
                Kind::Bytes => row.try_get(i).map(Value::Bytes),
                Kind::Real => row.try_get(i).map(Value::Real),
            };
            // Named by column only: the value may be someone's words.
            values.push(value.map_err(|_| {
                MoveError::Mismatch(format!("{table}.{column} holds a value PostgreSQL's column cannot take"))
            })?);
        }
        batch.push(values);
        if batch.len() == per_batch {
            copied += insert_batch(pg, &insert, &batch).await?;
            batch.clear();
        }
    }
    drop(rows);
    if !batch.is_empty() {
        copied += insert_batch(pg, &insert, &batch).await?;
    }
    Ok(copied)
}

async fn insert_batch(pg: &mut super::Tx, insert: &str, rows: &[Vec<Value>]) -> Result<u64> {
    let mut batch = Batch::new(insert);
    batch.values(rows, |b, row| {
        for value in row {
            match value {
                Value::Int(v) => b.bind(*v),
                Value::Text(v) => b.bind(v.clone()),
                Value::Bytes(v) => b.bind(v.clone()),
                Value::Real(v) => b.bind(*v),
            };
        }
    });
    Ok(batch.build().execute(&mut **pg).await?.rows_affected())
}

/// Sets the identity sequence of `table` (if it has one) past both its
/// highest id and SQLite's high-water mark, so no id is handed out twice.
async fn set_identity(pg: &mut super::Tx, table: &str, high_water: Option<i64>) -> Result<Option<i64>> {
    let identity: Option<String> = sqlx::query_scalar(
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1
           AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
    )
    .bind(table)
    .fetch_optional(&mut **pg)
    .await?;
    let Some(column) = identity else { return Ok(None) };
    let highest: Option<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MAX({}) FROM {}", quoted(&column), quoted(table))))
            .fetch_one(&mut **pg)
            .await?;
    let Some(after) = highest.max(high_water).filter(|n| *n > 0) else { return Ok(None) };
    sqlx::query("SELECT CAST(setval(pg_get_serial_sequence($1, $2), $3) AS BIGINT)")
        .bind(quoted(table))
        .bind(&column)
        .bind(after)
        .execute(&mut **pg)
        .await?;
    Ok(Some(after))
}

/// A name as both backends quote it (names come from the schema, never from a user).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
