//! `schedules`: each couple's prompt and reflection schedules, with the next
//! instant each fires.

use sqlx::{QueryBuilder, Row, Sqlite, SqliteExecutor};

use super::{Result, parse_enum};
use crate::core::entities::CoupleId;
use crate::core::model::ScheduleKind;

/// Rows per multi-row statement; well under SQLite's bound-parameter limit.
const BATCH: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub couple_id: CoupleId,
    pub kind: ScheduleKind,
    pub spec: String,
    pub tz: String,
    pub next_fire_at: Option<i64>,
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<StoredSchedule> {
    Ok(StoredSchedule {
        couple_id: r.try_get("couple_id")?,
        kind: parse_enum(r.try_get::<&str, _>("kind")?)?,
        spec: r.try_get("spec")?,
        tz: r.try_get("tz")?,
        next_fire_at: r.try_get("next_fire_at")?,
    })
}

pub async fn upsert(exec: impl SqliteExecutor<'_>, s: &StoredSchedule) -> Result<()> {
    sqlx::query(
        "INSERT INTO schedules (couple_id, kind, spec, tz, next_fire_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (couple_id, kind) DO UPDATE SET spec = excluded.spec, tz = excluded.tz,
             next_fire_at = excluded.next_fire_at",
    )
    .bind(s.couple_id)
    .bind(s.kind.as_str())
    .bind(&s.spec)
    .bind(&s.tz)
    .bind(s.next_fire_at)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn get(
    exec: impl SqliteExecutor<'_>,
    couple: CoupleId,
    kind: ScheduleKind,
) -> Result<Option<StoredSchedule>> {
    sqlx::query("SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules WHERE couple_id = ? AND kind = ?")
        .bind(couple)
        .bind(kind.as_str())
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn for_couple(exec: impl SqliteExecutor<'_>, couple: CoupleId) -> Result<Vec<StoredSchedule>> {
    sqlx::query("SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules WHERE couple_id = ? ORDER BY kind")
        .bind(couple)
        .fetch_all(exec)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Schedules whose next fire instant is at or before `now`, earliest first. Reads
/// only the due rows of the partial index.
pub async fn due(exec: impl SqliteExecutor<'_>, now: i64, limit: i64) -> Result<Vec<StoredSchedule>> {
    sqlx::query(
        "SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules
         WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(exec)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The earliest instant any schedule fires, for the scheduler's sleep.
pub async fn earliest(exec: impl SqliteExecutor<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MIN(next_fire_at) FROM schedules WHERE next_fire_at IS NOT NULL")
        .fetch_one(exec)
        .await?)
}

pub async fn set_next(
    exec: impl SqliteExecutor<'_>,
    couple: CoupleId,
    kind: ScheduleKind,
    next: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE schedules SET next_fire_at = ? WHERE couple_id = ? AND kind = ?")
        .bind(next)
        .bind(couple)
        .bind(kind.as_str())
        .execute(exec)
        .await?;
    Ok(())
}

/// Advances many schedules at once: one statement per few hundred rows.
pub async fn set_next_many(
    conn: &mut sqlx::SqliteConnection,
    rows: &[(CoupleId, ScheduleKind, Option<i64>)],
) -> Result<()> {
    for chunk in rows.chunks(BATCH) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("WITH v(c, k, n) AS (");
        q.push_values(chunk, |mut b, (c, k, n)| {
            b.push_bind(*c).push_bind(k.as_str()).push_bind(*n);
        });
        q.push(
            ") UPDATE schedules SET next_fire_at = v.n FROM v
               WHERE schedules.couple_id = v.c AND schedules.kind = v.k",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn delete_for(exec: impl SqliteExecutor<'_>, couple: CoupleId) -> Result<()> {
    sqlx::query("DELETE FROM schedules WHERE couple_id = ?").bind(couple).execute(exec).await?;
    Ok(())
}
