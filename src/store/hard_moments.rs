//! `hard_moments`: a partner's hard moments, with the note sealed to its row.

use sqlx::{AnyConnection, AnyExecutor, Row};

use super::Result;
use super::keys::{Keys, Opener};
use crate::core::entities::CoupleId;
use crate::core::model::Slot;

/// One hard moment, as its owner may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardMoment {
    pub id: i64,
    pub couple_id: CoupleId,
    pub slot: Slot,
    pub created_at: i64,
    pub shared_at: Option<i64>,
    pub met_at: Option<i64>,
    pub note: Option<String>,
}

pub(super) fn context(id: i64) -> Vec<u8> {
    format!("hard_moment:{id}").into_bytes()
}

pub async fn insert(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot, at: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("INSERT INTO hard_moments (couple_id, slot, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(couple)
        .bind(slot.index() as i64)
        .bind(at)
        .fetch_one(exec)
        .await?)
}

pub async fn get(exec: impl AnyExecutor<'_>, keys: &Keys, id: i64) -> Result<Option<HardMoment>> {
    let row =
        sqlx::query("SELECT id, couple_id, slot, created_at, shared_at, met_at, note FROM hard_moments WHERE id = $1")
            .bind(id)
            .fetch_optional(exec)
            .await?;
    let rows: Vec<_> = row.into_iter().collect();
    let opener = keys.opener_for(&rows, &["note"]).await?;
    rows.first().map(|r| from_row(r, &opener)).transpose()
}

/// A partner's hard moments, oldest first.
pub async fn of_partner(
    exec: impl AnyExecutor<'_>,
    keys: &Keys,
    couple: CoupleId,
    slot: Slot,
) -> Result<Vec<HardMoment>> {
    let rows = sqlx::query(
        "SELECT id, couple_id, slot, created_at, shared_at, met_at, note FROM hard_moments
         WHERE couple_id = $1 AND slot = $2 ORDER BY created_at, id",
    )
    .bind(couple)
    .bind(slot.index() as i64)
    .fetch_all(exec)
    .await?;
    let opener = keys.opener_for(&rows, &["note"]).await?;
    rows.iter().map(|r| from_row(r, &opener)).collect()
}

fn from_row(r: &sqlx::any::AnyRow, opener: &Opener) -> Result<HardMoment> {
    let id: i64 = r.try_get("id")?;
    let note: Option<Vec<u8>> = r.try_get("note")?;
    let note = note.map(|sealed| opener.text(&sealed, &context(id), "a hard moment's note")).transpose()?;
    Ok(HardMoment {
        id,
        couple_id: r.try_get("couple_id")?,
        slot: Slot::from_index(r.try_get("slot")?)
            .ok_or_else(|| super::StoreError::Corrupt(format!("hard moment {id} has no partner")))?,
        created_at: r.try_get("created_at")?,
        shared_at: r.try_get("shared_at")?,
        met_at: r.try_get("met_at")?,
        note,
    })
}

/// Marks it shared with the partner; `false` if it already was.
pub async fn set_shared(exec: impl AnyExecutor<'_>, id: i64, at: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE hard_moments SET shared_at = $1 WHERE id = $2 AND shared_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The partner answered "I'm here"; `false` if they already had.
pub async fn set_met(exec: impl AnyExecutor<'_>, id: i64, at: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE hard_moments SET met_at = $1 WHERE id = $2 AND met_at IS NULL AND shared_at IS NOT NULL")
            .bind(at)
            .bind(id)
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets its writer's note, sealed under their key.
pub async fn set_note(conn: &mut AnyConnection, keys: &Keys, id: i64, note: Option<&str>) -> Result<()> {
    let (couple, slot): (i64, i64) =
        sqlx::query_as("SELECT couple_id, slot FROM hard_moments WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
    let slot =
        Slot::from_index(slot).ok_or_else(|| super::StoreError::Corrupt(format!("hard moment {id} has no partner")))?;
    let sealed = match note {
        Some(n) => Some(keys.writer(conn, couple, slot).await?.seal(n.as_bytes(), &context(id))),
        None => None,
    };
    sqlx::query("UPDATE hard_moments SET note = $1 WHERE id = $2").bind(sealed).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Hard moments of a couple shared and met together in `[from, to)`.
pub async fn met_together(exec: impl AnyExecutor<'_>, couple: CoupleId, from: i64, to: i64) -> Result<usize> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hard_moments WHERE couple_id = $1 AND met_at IS NOT NULL AND created_at >= $2 AND created_at < $3",
    )
    .bind(couple)
    .bind(from)
    .bind(to)
    .fetch_one(exec)
    .await?;
    Ok(n as usize)
}

pub async fn delete_for_partner(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<u64> {
    let done = sqlx::query("DELETE FROM hard_moments WHERE couple_id = $1 AND slot = $2")
        .bind(couple)
        .bind(slot.index() as i64)
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}
