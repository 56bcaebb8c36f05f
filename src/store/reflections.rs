//! `reflections`: one row per couple per weekly reflection occurrence.

use sqlx::{AnyExecutor, Row};

use super::{Batch, Result, parse_enum};
use crate::core::entities::{CoupleId, Status, StoredReflection};

/// Inserts claimed reflection occurrences and returns those inserted now (id,
/// couple, occurrence, status).
pub async fn insert_many(
    conn: &mut sqlx::AnyConnection,
    rows: &[(CoupleId, i64, i64, Status)],
) -> Result<Vec<(i64, CoupleId, i64, Status)>> {
    let mut inserted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(300) {
        let mut q = Batch::new("INSERT INTO reflections (couple_id, occurrence, week_start, status) ");
        q.values(chunk, |b, (c, o, w, s)| {
            b.bind(*c).bind(*o).bind(*w).bind(s.as_str());
        });
        q.push(" ON CONFLICT (couple_id, occurrence) DO NOTHING RETURNING id, couple_id, occurrence, status");
        for r in q.build().fetch_all(&mut *conn).await? {
            let status: &str = r.try_get("status")?;
            inserted.push((r.try_get("id")?, r.try_get("couple_id")?, r.try_get("occurrence")?, parse_enum(status)?));
        }
    }
    Ok(inserted)
}

pub async fn get(exec: impl AnyExecutor<'_>, id: i64) -> Result<Option<StoredReflection>> {
    sqlx::query("SELECT id, couple_id, occurrence, week_start, status FROM reflections WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<StoredReflection> {
    let status = parse_enum(r.try_get::<&str, _>("status")?)?;
    Ok(StoredReflection {
        id: r.try_get("id")?,
        couple_id: r.try_get("couple_id")?,
        occurrence: r.try_get("occurrence")?,
        week_start: r.try_get("week_start")?,
        status,
    })
}

pub async fn for_couple(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<Vec<StoredReflection>> {
    sqlx::query(
        "SELECT id, couple_id, occurrence, week_start, status FROM reflections WHERE couple_id = $1 ORDER BY occurrence",
    )
    .bind(couple)
    .fetch_all(exec)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn mark_sent(exec: impl AnyExecutor<'_>, id: i64, at: i64, message_ref: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE reflections SET status = 'sent', sent_at = $1, message_ref = $2 WHERE id = $3")
        .bind(at)
        .bind(message_ref)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn mark_missed(exec: impl AnyExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("UPDATE reflections SET status = 'missed' WHERE id = $1 AND status = 'pending'")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// A couple's reflections that were posted, oldest first, with when.
pub async fn posted(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<Vec<(StoredReflection, i64)>> {
    sqlx::query(
        "SELECT id, couple_id, occurrence, week_start, status, sent_at FROM reflections
         WHERE couple_id = $1 AND status = 'sent' ORDER BY occurrence",
    )
    .bind(couple)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| Ok((from_row(r)?, r.try_get::<Option<i64>, _>("sent_at")?.unwrap_or_default())))
    .collect()
}

/// Whether a reflection still takes check-ins: it waits to be posted, and no
/// worker is posting it right now (what it read is what goes out).
pub async fn takes_check_ins(exec: impl AnyExecutor<'_>, reflection: i64, now: i64) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM reflections r JOIN outbox o ON o.reflection_id = r.id AND o.kind = 'reflection'
         WHERE r.id = $1 AND r.status = 'pending' AND o.status = 'pending'
           AND (o.lease_until IS NULL OR o.lease_until <= $2)",
    )
    .bind(reflection)
    .bind(now)
    .fetch_optional(exec)
    .await?
    .is_some())
}

/// Makes a waiting reflection's outbox item due now (both partners checked in:
/// there is nothing more to wait for).
pub async fn bring_forward(exec: impl AnyExecutor<'_>, reflection: i64, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1
         WHERE kind = 'reflection' AND reflection_id = $2 AND status = 'pending' AND next_attempt_at > $3",
    )
    .bind(now)
    .bind(reflection)
    .bind(now)
    .execute(exec)
    .await?;
    Ok(())
}
