//! `deliveries`: the outbox of prompts, one row per (couple, occurrence).

use sqlx::{AnyExecutor, Row};

use super::{Batch, Result, StoreError, parse_enum};
use crate::core::entities::{Chosen, CoupleId, Delivery, DeliveryId, Status};
use crate::core::select::Past;

const BATCH: usize = 300;

const COLUMNS: &str = "id, couple_id, occurrence, claimed_at, status, pillar, kind, prompt_a, prompt_b, phase, sent_at, message_ref, revealed_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Delivery> {
    let pillar: Option<String> = r.try_get("pillar")?;
    let kind: Option<&str> = r.try_get("kind")?;
    let a: Option<String> = r.try_get("prompt_a")?;
    let b: Option<String> = r.try_get("prompt_b")?;
    let phase: Option<&str> = r.try_get("phase")?;
    let chosen = match (pillar, kind, a, b, phase) {
        (Some(pillar), Some(kind), Some(a), Some(b), Some(phase)) => {
            Some(Chosen { pillar, phase: parse_enum(phase)?, kind: parse_enum(kind)?, prompts: [a, b] })
        }
        _ => None,
    };
    Ok(Delivery {
        id: r.try_get("id")?,
        couple_id: r.try_get("couple_id")?,
        occurrence: r.try_get("occurrence")?,
        claimed_at: r.try_get("claimed_at")?,
        status: parse_enum(r.try_get::<&str, _>("status")?)?,
        chosen,
        sent_at: r.try_get("sent_at")?,
        message_ref: r.try_get("message_ref")?,
        revealed_at: r.try_get("revealed_at")?,
    })
}

/// A delivery to insert when its occurrence is claimed.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery {
    pub couple_id: CoupleId,
    pub occurrence: i64,
    pub status: Status,
}

/// Inserts claimed occurrences and returns those inserted now (id, couple,
/// occurrence, status). An occurrence already claimed is left as it is, so
/// claiming twice never doubles a prompt.
pub async fn insert_many(
    conn: &mut sqlx::AnyConnection,
    rows: &[NewDelivery],
    claimed_at: i64,
) -> Result<Vec<(DeliveryId, CoupleId, i64, Status)>> {
    let mut inserted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(BATCH) {
        let mut q = Batch::new("INSERT INTO deliveries (couple_id, occurrence, claimed_at, status) ");
        q.values(chunk, |b, d| {
            b.bind(d.couple_id).bind(d.occurrence).bind(claimed_at).bind(d.status.as_str());
        });
        q.push(" ON CONFLICT (couple_id, occurrence) DO NOTHING RETURNING id, couple_id, occurrence, status");
        for r in q.build().fetch_all(&mut *conn).await? {
            let status: &str = r.try_get("status")?;
            inserted.push((r.try_get("id")?, r.try_get("couple_id")?, r.try_get("occurrence")?, parse_enum(status)?));
        }
    }
    Ok(inserted)
}

pub async fn get(exec: impl AnyExecutor<'_>, id: DeliveryId) -> Result<Option<Delivery>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1")))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every delivery of a couple in `[from, to)`, oldest first.
pub async fn for_couple(exec: impl AnyExecutor<'_>, couple: CoupleId, from: i64, to: i64) -> Result<Vec<Delivery>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliveries WHERE couple_id = $1 AND occurrence >= $2 AND occurrence < $3 ORDER BY occurrence"
    )))
    .bind(couple)
    .bind(from)
    .bind(to)
    .fetch_all(exec)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The latest delivery of a couple that reached them.
pub async fn latest_sent(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<Option<Delivery>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deliveries WHERE couple_id = $1 AND status = 'sent' ORDER BY occurrence DESC LIMIT 1"
    )))
    .bind(couple)
    .fetch_optional(exec)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// What prompts a couple has had, oldest first, for selection. Read as one
/// row (a year of history is hundreds of rows, each its own trip to SQLite's
/// thread otherwise); ids and pillars never hold a space or a newline.
pub async fn history(exec: &mut sqlx::AnyConnection, couple: CoupleId) -> Result<Vec<Past>> {
    let sql = match super::Backend::of(exec) {
        super::Backend::Sqlite => {
            "SELECT group_concat(pillar || ' ' || prompt_a || ' ' || prompt_b, char(10)) FROM (
                 SELECT pillar, prompt_a, prompt_b FROM deliveries
                 WHERE couple_id = $1 AND pillar IS NOT NULL ORDER BY occurrence)"
        }
        super::Backend::Postgres => {
            "SELECT string_agg(pillar || ' ' || prompt_a || ' ' || prompt_b, chr(10) ORDER BY occurrence)
             FROM deliveries WHERE couple_id = $1 AND pillar IS NOT NULL"
        }
    };
    let joined: Option<String> = sqlx::query_scalar(sql).bind(couple).fetch_one(&mut *exec).await?;
    joined
        .unwrap_or_default()
        .lines()
        .map(|line| match line.split(' ').collect::<Vec<_>>().as_slice() {
            [pillar, a, b] => Ok(Past { pillar: pillar.to_string(), prompts: [a.to_string(), b.to_string()] }),
            _ => Err(StoreError::Corrupt(format!("a delivery's prompts cannot be read: {line:?}"))),
        })
        .collect()
}

/// Records the chosen prompt unless one was chosen already (a retry after a crash
/// keeps the first choice).
pub async fn set_chosen(exec: impl AnyExecutor<'_>, id: DeliveryId, c: &Chosen) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET pillar = $1, phase = $2, kind = $3, prompt_a = $4, prompt_b = $5
         WHERE id = $6 AND pillar IS NULL",
    )
    .bind(&c.pillar)
    .bind(c.phase.as_str())
    .bind(c.kind.as_str())
    .bind(&c.prompts[0])
    .bind(&c.prompts[1])
    .bind(id)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn mark_sent(exec: impl AnyExecutor<'_>, id: DeliveryId, at: i64, message_ref: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE deliveries SET status = 'sent', sent_at = $1, message_ref = $2 WHERE id = $3")
        .bind(at)
        .bind(message_ref)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn mark_missed(exec: impl AnyExecutor<'_>, id: DeliveryId) -> Result<()> {
    sqlx::query("UPDATE deliveries SET status = 'missed' WHERE id = $1 AND status = 'pending'")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Marks a delivery revealed; true only for the call that did it, so a reveal is
/// announced once.
pub async fn set_revealed(exec: impl AnyExecutor<'_>, id: DeliveryId, at: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE deliveries SET revealed_at = $1 WHERE id = $2 AND revealed_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts by status for one couple, for summaries.
pub async fn count(exec: impl AnyExecutor<'_>, couple: CoupleId, status: Status) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE couple_id = $1 AND status = $2")
        .bind(couple)
        .bind(status.as_str())
        .fetch_one(exec)
        .await?)
}

/// Deliveries claimed and not yet sent, across all couples.
pub async fn count_pending(exec: impl AnyExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'").fetch_one(exec).await?)
}

pub async fn mark_reveal_posted(exec: impl AnyExecutor<'_>, id: DeliveryId, at: i64) -> Result<()> {
    sqlx::query("UPDATE deliveries SET reveal_posted_at = $1 WHERE id = $2 AND reveal_posted_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}
