//! `responses`: what each partner did with a delivery (an answer, a skip, a
//! request for space).

use sqlx::{AnyConnection, AnyExecutor, Row};

use super::keys::{Keys, Opener};
use super::{Result, StoreError, parse_enum};
use crate::core::entities::{DeliveryId, Response, ResponseStatus};
use crate::core::model::Slot;

/// What a response's text is sealed to: its row.
pub(super) fn context(delivery: DeliveryId, slot: i64) -> Vec<u8> {
    format!("response:{delivery}:{slot}").into_bytes()
}

/// Reads responses, opening their texts with their writers' keys.
async fn from_rows(rows: Vec<sqlx::any::AnyRow>, keys: &Keys) -> Result<Vec<Response>> {
    let sealed: Vec<Option<Vec<u8>>> = rows.iter().map(|r| r.try_get("body")).collect::<Result<_, _>>()?;
    let opener = keys.opener(sealed.iter().flatten().map(Vec::as_slice)).await?;
    rows.iter().zip(sealed).map(|(r, s)| from_row(r, s, &opener)).collect()
}

fn from_row(r: &sqlx::any::AnyRow, sealed: Option<Vec<u8>>, opener: &Opener) -> Result<Response> {
    let slot: i64 = r.try_get("slot")?;
    let delivery_id: i64 = r.try_get("delivery_id")?;
    let body = sealed.map(|s| opener.text(&s, &context(delivery_id, slot), "an answer")).transpose()?;
    let status = parse_enum(r.try_get::<&str, _>("status")?)?;
    Ok(Response {
        delivery_id,
        slot: Slot::from_index(slot).ok_or_else(|| StoreError::Corrupt(format!("slot {slot}")))?,
        status,
        body,
        done: super::get_flag(r, "done")?,
        answered_at: r.try_get("answered_at")?,
        edited_at: r.try_get("edited_at")?,
        meaningful_at: r.try_get("meaningful_at")?,
    })
}

/// A response to save.
#[derive(Debug, Clone, Copy)]
pub struct NewResponse<'a> {
    /// The couple the delivery is theirs (checked by the caller): whose key.
    pub couple: i64,
    pub delivery: DeliveryId,
    pub slot: Slot,
    pub status: ResponseStatus,
    pub body: Option<&'a str>,
    pub done: Option<bool>,
    pub at: i64,
}

/// Saves a partner's response, replacing an earlier one (an edit keeps the first
/// answer time and records the edit time). The text is sealed to its row,
/// under its writer's key.
pub async fn upsert(conn: &mut AnyConnection, keys: &Keys, r: NewResponse<'_>) -> Result<()> {
    let NewResponse { couple, delivery, slot, status, body, done, at } = r;
    let sealed = match body {
        Some(b) => {
            let key = keys.writer(conn, couple, slot).await?;
            Some(key.seal(b.as_bytes(), &context(delivery, slot.index() as i64)))
        }
        None => None,
    };
    sqlx::query(
        "INSERT INTO responses (delivery_id, slot, status, body, done, answered_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (delivery_id, slot) DO UPDATE SET status = excluded.status, body = excluded.body,
             done = excluded.done, edited_at = excluded.answered_at",
    )
    .bind(delivery)
    .bind(slot.index() as i64)
    .bind(status.as_str())
    .bind(sealed)
    .bind(done.map(super::flag))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn for_delivery(exec: impl AnyExecutor<'_>, keys: &Keys, delivery: DeliveryId) -> Result<Vec<Response>> {
    let rows = sqlx::query(
        "SELECT delivery_id, slot, status, body, done, answered_at, edited_at, meaningful_at
         FROM responses WHERE delivery_id = $1 ORDER BY slot",
    )
    .bind(delivery)
    .fetch_all(exec)
    .await?;
    from_rows(rows, keys).await
}

/// Every response to a couple's deliveries with occurrence in `[from, to)`.
pub async fn for_couple(
    exec: impl AnyExecutor<'_>,
    keys: &Keys,
    couple: i64,
    from: i64,
    to: i64,
) -> Result<Vec<Response>> {
    let rows = sqlx::query(
        "SELECT r.delivery_id, r.slot, r.status, r.body, r.done, r.answered_at, r.edited_at, r.meaningful_at
         FROM responses r JOIN deliveries d ON d.id = r.delivery_id
         WHERE d.couple_id = $1 AND d.occurrence >= $2 AND d.occurrence < $3 ORDER BY d.occurrence, r.slot",
    )
    .bind(couple)
    .bind(from)
    .bind(to)
    .fetch_all(exec)
    .await?;
    from_rows(rows, keys).await
}

/// Marks the answer `slot` wrote as meaningful to their partner.
pub async fn mark_meaningful(exec: impl AnyExecutor<'_>, delivery: DeliveryId, slot: Slot, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE responses SET meaningful_at = $1 WHERE delivery_id = $2 AND slot = $3 AND status = 'answered'",
    )
    .bind(at)
    .bind(delivery)
    .bind(slot.index() as i64)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes every response a partner wrote in a couple.
pub async fn delete_for_partner(exec: impl AnyExecutor<'_>, couple: i64, slot: Slot) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM responses WHERE slot = $1 AND delivery_id IN (SELECT id FROM deliveries WHERE couple_id = $2)",
    )
    .bind(slot.index() as i64)
    .bind(couple)
    .execute(exec)
    .await?;
    Ok(done.rows_affected())
}
