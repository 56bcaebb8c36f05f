//! Resealing every sealed text under a new key, in one transaction.
//!
//! Each table that holds sealed text names its columns here, with the key of
//! each row and what a value is sealed to (the same contexts its own module
//! uses). A test checks that no blob in the database lives in a column missing
//! from this list, so a new sealed column cannot be forgotten by a rekey.

use sqlx::Row;

use super::keys::Keys;
use super::{KEY_CHECK_CONTEXT, Result, StoreError, begin_write};
use crate::core::model::Slot;
use crate::crypto::{Cipher, SealedWith, sealed_with};

/// One column of sealed values: how to page through its rows by their key (two
/// integers; single-key tables select 0 as the second) and write one back.
struct SealedColumn {
    /// `SELECT k1, k2, value, couple, slot … WHERE value IS NOT NULL AND
    /// (k1, k2) > (?, ?) ORDER BY k1, k2 LIMIT ?`: the couple and slot of
    /// its writer, whose key seals it (-1 for the key check, under the host key).
    select: &'static str,
    /// `UPDATE … SET value = ? WHERE k1 = ? AND k2 = ?`
    update: &'static str,
    context: fn(i64, i64) -> Vec<u8>,
    /// `table.column`, for the coverage test and errors.
    name: &'static str,
}

const SEALED: [SealedColumn; 7] = [
    SealedColumn {
        name: "responses.body",
        select: "SELECT r.delivery_id, r.slot, r.body, d.couple_id, r.slot FROM responses r
                 JOIN deliveries d ON d.id = r.delivery_id
                 WHERE r.body IS NOT NULL AND (r.delivery_id, r.slot) > ($1, $2)
                 ORDER BY r.delivery_id, r.slot LIMIT $3",
        update: "UPDATE responses SET body = $1 WHERE delivery_id = $2 AND slot = $3",
        context: |delivery, slot| super::responses::context(delivery, slot),
    },
    SealedColumn {
        name: "hard_moments.note",
        select: "SELECT id, 0, note, couple_id, slot FROM hard_moments WHERE note IS NOT NULL AND (id, 0) > ($1, $2) ORDER BY id LIMIT $3",
        update: "UPDATE hard_moments SET note = $1 WHERE id = $2 AND 0 = $3",
        context: |id, _| super::hard_moments::context(id),
    },
    SealedColumn {
        name: "commitments.body",
        select: "SELECT id, 0, body, couple_id, slot FROM commitments WHERE body IS NOT NULL AND (id, 0) > ($1, $2) ORDER BY id LIMIT $3",
        update: "UPDATE commitments SET body = $1 WHERE id = $2 AND 0 = $3",
        context: |id, _| super::commitments::body_context(id),
    },
    SealedColumn {
        name: "commitments.note",
        select: "SELECT id, 0, note, couple_id, slot FROM commitments WHERE note IS NOT NULL AND (id, 0) > ($1, $2) ORDER BY id LIMIT $3",
        update: "UPDATE commitments SET note = $1 WHERE id = $2 AND 0 = $3",
        context: |id, _| super::commitments::note_context(id),
    },
    SealedColumn {
        name: "checkins.appreciation",
        select:
            "SELECT reflection_id, slot, appreciation, couple_id, slot FROM checkins
                 WHERE appreciation IS NOT NULL AND (reflection_id, slot) > ($1, $2) ORDER BY reflection_id, slot LIMIT $3",
        update: "UPDATE checkins SET appreciation = $1 WHERE reflection_id = $2 AND slot = $3",
        context: |reflection, slot| super::checkins::context_at(reflection, slot, "appreciation"),
    },
    SealedColumn {
        name: "checkins.cared_for",
        select: "SELECT reflection_id, slot, cared_for, couple_id, slot FROM checkins
                 WHERE cared_for IS NOT NULL AND (reflection_id, slot) > ($1, $2) ORDER BY reflection_id, slot LIMIT $3",
        update: "UPDATE checkins SET cared_for = $1 WHERE reflection_id = $2 AND slot = $3",
        context: |reflection, slot| super::checkins::context_at(reflection, slot, "cared_for"),
    },
    SealedColumn {
        name: "key_check.sealed",
        select: "SELECT id, 0, sealed, -1, -1 FROM key_check WHERE (id, 0) > ($1, $2) ORDER BY id LIMIT $3",
        update: "UPDATE key_check SET sealed = $1 WHERE id = $2 AND 0 = $3",
        context: |_, _| KEY_CHECK_CONTEXT.to_vec(),
    },
];

/// Rows resealed per read: memory stays bounded whatever the database holds.
const PAGE: i64 = 500;

/// One sealed value as its column's `select` reads it.
struct SealedRow {
    k1: i64,
    k2: i64,
    value: Vec<u8>,
    /// Its writer (-1 for the key check).
    couple: i64,
    slot: i64,
}

/// A column's sealed values, a page at a time, in key order.
struct Pages<'c> {
    column: &'c SealedColumn,
    after: (i64, i64),
    done: bool,
}

impl<'c> Pages<'c> {
    fn of(column: &'c SealedColumn) -> Pages<'c> {
        Pages { column, after: (i64::MIN, i64::MIN), done: false }
    }

    /// The next page; empty once every row has been read.
    async fn next(&mut self, conn: &mut sqlx::AnyConnection) -> Result<Vec<SealedRow>> {
        if self.done {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(self.column.select))
            .bind(self.after.0)
            .bind(self.after.1)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await?;
        self.done = (rows.len() as i64) < PAGE;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(SealedRow {
                    k1: r.try_get(0)?,
                    k2: r.try_get(1)?,
                    value: r.try_get(2)?,
                    couple: r.try_get(3)?,
                    slot: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        if let Some(last) = rows.last() {
            self.after = (last.k1, last.k2);
        }
        Ok(rows)
    }
}

/// Reseals every value still under the host key `old` (the key check, and
/// any text from before data keys) under `new`, in one write transaction
/// (texts under a data key follow their key, resealed in the keystore):
/// either all of them are under the new key when it returns, or (an error, a
/// crash, the power going) none are, and the old key still opens everything.
/// `progress` hears the running count after each page, inside the transaction.
/// Returns how many values were resealed.
pub async fn rekey(pool: &sqlx::AnyPool, old: &Cipher, new: &Cipher, mut progress: impl FnMut(u64)) -> Result<u64> {
    let mut tx = begin_write(pool).await?;
    let mut resealed = 0;
    for column in &SEALED {
        let mut pages = Pages::of(column);
        loop {
            let rows = pages.next(&mut tx).await?;
            if rows.is_empty() {
                break;
            }
            for SealedRow { k1, k2, value, .. } in rows {
                if sealed_with(&value) != SealedWith::Host {
                    continue;
                }
                let context = (column.context)(k1, k2);
                let plain = old.open(&value, &context).map_err(|_| {
                    StoreError::Corrupt(format!("{} of row {k1}/{k2} does not open with the key", column.name))
                })?;
                sqlx::query(sqlx::AssertSqlSafe(column.update))
                    .bind(new.seal(&plain, &context))
                    .bind(k1)
                    .bind(k2)
                    .execute(&mut *tx)
                    .await?;
                resealed += 1;
            }
            progress(resealed);
        }
    }
    tx.commit().await?;
    Ok(resealed)
}

/// Reseals every text written before data keys (under the host key itself)
/// under its writer's data key, in one write transaction, once: the
/// database records that it is done. Returns how many were resealed.
pub async fn upgrade(pool: &sqlx::AnyPool, keys: &Keys) -> Result<u64> {
    let done = |pool| async move {
        let upgraded: Option<i64> =
            sqlx::query_scalar("SELECT upgraded FROM keystore_link WHERE id = 1").fetch_optional(pool).await?;
        Ok::<_, StoreError>(upgraded.is_some_and(|u| u != 0))
    };
    if done(pool).await? {
        return Ok(0);
    }
    let mut tx = begin_write(pool).await?;
    let upgraded: i64 =
        sqlx::query_scalar("SELECT upgraded FROM keystore_link WHERE id = 1").fetch_one(&mut *tx).await?;
    if upgraded != 0 {
        return Ok(0);
    }
    let mut resealed = 0;
    for column in SEALED.iter().filter(|c| c.name != "key_check.sealed") {
        let mut pages = Pages::of(column);
        loop {
            let rows = pages.next(&mut tx).await?;
            if rows.is_empty() {
                break;
            }
            for SealedRow { k1, k2, value, couple, slot } in rows {
                if sealed_with(&value) != SealedWith::Host {
                    continue;
                }
                let slot = Slot::from_index(slot)
                    .ok_or_else(|| StoreError::Corrupt(format!("{} of row {k1}/{k2} has no writer", column.name)))?;
                let context = (column.context)(k1, k2);
                let plain = keys.host().open(&value, &context).map_err(|_| {
                    StoreError::Corrupt(format!("{} of row {k1}/{k2} does not open with the key", column.name))
                })?;
                let key = keys.writer(&mut tx, couple, slot).await?;
                sqlx::query(sqlx::AssertSqlSafe(column.update))
                    .bind(key.seal(&plain, &context))
                    .bind(k1)
                    .bind(k2)
                    .execute(&mut *tx)
                    .await?;
                resealed += 1;
            }
        }
    }
    sqlx::query("UPDATE keystore_link SET upgraded = 1 WHERE id = 1").execute(&mut *tx).await?;
    tx.commit().await?;
    if resealed > 0 {
        tracing::info!(resealed, "texts resealed under their writers' own keys");
    }
    Ok(resealed)
}

/// The `table.column` of every blob the database holds that no entry of
/// `SEALED` covers (for the test that keeps this list whole).
pub async fn uncovered_blobs(pool: &sqlx::AnyPool) -> Result<Vec<String>> {
    // Every column with a blob in it: on SQLite any column may hold one, so
    // each is asked; on PostgreSQL only `bytea` columns can.
    let (tables, columns, holds) = match super::Backend::of_pool(pool) {
        super::Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            "SELECT name FROM pragma_table_info($1)",
            "typeof(\"{column}\") = 'blob'",
        ),
        super::Backend::Postgres => (
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND data_type = 'bytea'",
            "\"{column}\" IS NOT NULL",
        ),
    };
    let tables: Vec<String> = sqlx::query_scalar(tables).fetch_all(pool).await?;
    let mut uncovered = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(columns).bind(&table).fetch_all(pool).await?;
        for column in columns {
            let name = format!("{table}.{column}");
            if SEALED.iter().any(|s| s.name == name) {
                continue;
            }
            let holds = holds.replace("{column}", &column);
            let blobs: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM \"{table}\" WHERE {holds}")))
                    .fetch_one(pool)
                    .await?;
            if blobs > 0 {
                uncovered.push(name);
            }
        }
    }
    Ok(uncovered)
}

/// The partners (couple, slot) with a text sealed under a key the keystore
/// no longer holds: in a database restored from a copy older than their
/// `/forget` (or their couple's end). Reads every sealed text: for `mend
/// restore`, not for a running mend.
pub async fn writers_forgotten(pool: &sqlx::AnyPool, keys: &Keys) -> Result<Vec<(i64, Slot)>> {
    let mut owners: std::collections::BTreeMap<i64, std::collections::BTreeSet<(i64, i64)>> = Default::default();
    let mut conn = pool.acquire().await?;
    for column in SEALED.iter().filter(|c| c.name != "key_check.sealed") {
        let mut pages = Pages::of(column);
        loop {
            let rows = pages.next(&mut conn).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                if let SealedWith::Data(id) = sealed_with(&row.value) {
                    owners.entry(id).or_default().insert((row.couple, row.slot));
                }
            }
        }
    }
    drop(conn);
    let ids: Vec<i64> = owners.keys().copied().collect();
    let held = keys.held(&ids).await?;
    let mut gone: Vec<(i64, Slot)> = owners
        .into_iter()
        .filter(|(id, _)| !held.contains(id))
        .flat_map(|(_, o)| o)
        .filter_map(|(couple, slot)| Slot::from_index(slot).map(|s| (couple, s)))
        .collect();
    gone.sort_by_key(|(c, s)| (*c, s.index()));
    gone.dedup();
    Ok(gone)
}
