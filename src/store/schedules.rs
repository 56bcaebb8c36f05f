//! `schedules`: each couple's prompt and reflection schedules, with the next
//! instant each fires.

use sqlx::{AnyExecutor, Row};

use super::{Batch, Result, parse_enum};
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

fn from_row(r: &sqlx::any::AnyRow) -> Result<StoredSchedule> {
    Ok(StoredSchedule {
        couple_id: r.try_get("couple_id")?,
        kind: parse_enum(r.try_get::<&str, _>("kind")?)?,
        spec: r.try_get("spec")?,
        tz: r.try_get("tz")?,
        next_fire_at: r.try_get("next_fire_at")?,
    })
}

pub async fn upsert(exec: impl AnyExecutor<'_>, s: &StoredSchedule) -> Result<()> {
    sqlx::query(
        "INSERT INTO schedules (couple_id, kind, spec, tz, next_fire_at) VALUES ($1, $2, $3, $4, $5)
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

pub async fn get(exec: impl AnyExecutor<'_>, couple: CoupleId, kind: ScheduleKind) -> Result<Option<StoredSchedule>> {
    sqlx::query("SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules WHERE couple_id = $1 AND kind = $2")
        .bind(couple)
        .bind(kind.as_str())
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn for_couple(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<Vec<StoredSchedule>> {
    sqlx::query("SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules WHERE couple_id = $1 ORDER BY kind")
        .bind(couple)
        .fetch_all(exec)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Schedules whose next fire instant is at or before `now`, earliest first. Reads
/// only the due rows of the partial index.
pub async fn due(exec: impl AnyExecutor<'_>, now: i64, limit: i64) -> Result<Vec<StoredSchedule>> {
    sqlx::query(
        "SELECT couple_id, kind, spec, tz, next_fire_at FROM schedules
         WHERE next_fire_at IS NOT NULL AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2",
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
pub async fn earliest(exec: impl AnyExecutor<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MIN(next_fire_at) FROM schedules WHERE next_fire_at IS NOT NULL")
        .fetch_one(exec)
        .await?)
}

pub async fn set_next(
    exec: impl AnyExecutor<'_>,
    couple: CoupleId,
    kind: ScheduleKind,
    next: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE schedules SET next_fire_at = $1 WHERE couple_id = $2 AND kind = $3")
        .bind(next)
        .bind(couple)
        .bind(kind.as_str())
        .execute(exec)
        .await?;
    Ok(())
}

/// Advances many schedules at once: one statement per few hundred rows.
pub async fn set_next_many(
    conn: &mut sqlx::AnyConnection,
    rows: &[(CoupleId, ScheduleKind, Option<i64>)],
) -> Result<()> {
    for chunk in rows.chunks(BATCH) {
        let mut q = Batch::new("WITH v(c, k, n) AS (");
        q.values(chunk, |b, (c, k, n)| {
            b.bind(*c).bind(k.as_str()).bind(*n);
        });
        q.push(
            ") UPDATE schedules SET next_fire_at = v.n FROM v
               WHERE schedules.couple_id = v.c AND schedules.kind = v.k",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn delete_for(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<()> {
    sqlx::query("DELETE FROM schedules WHERE couple_id = $1").bind(couple).execute(exec).await?;
    Ok(())
}
