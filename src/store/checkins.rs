//! `checkins`: each partner's weekly check-in before a reflection, its two
//! texts sealed to their row and field.

use sqlx::{AnyConnection, AnyExecutor, Row};

use super::keys::{Keys, Opener};
use super::{Result, StoreError};
use crate::core::entities::CoupleId;
use crate::core::model::Slot;
use crate::core::reflection::CheckIn;

/// A check-in as stored: for which reflection, and when it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckIn {
    pub reflection_id: i64,
    pub written_at: i64,
    pub check_in: CheckIn,
}

const COLUMNS: &str = "reflection_id, slot, appreciation, cared_for, written_at";

/// What each text is sealed to: its reflection, its writer and which text it
/// is, so a sealed text moved to another row or field does not open.
fn context(reflection: i64, slot: Slot, field: &str) -> Vec<u8> {
    context_at(reflection, slot.index() as i64, field)
}

/// What a check-in's `field` is sealed to, from the row's own columns.
pub(super) fn context_at(reflection: i64, slot: i64, field: &str) -> Vec<u8> {
    format!("checkin:{reflection}:{slot}:{field}").into_bytes()
}

/// Saves `slot`'s check-in for `reflection`, replacing one they wrote before.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    conn: &mut AnyConnection,
    keys: &Keys,
    reflection: i64,
    couple: CoupleId,
    slot: Slot,
    appreciation: Option<&str>,
    cared_for: Option<&str>,
    at: i64,
) -> Result<()> {
    let key = keys.writer(conn, couple, slot).await?;
    let seal = |text: Option<&str>, field| text.map(|t| key.seal(t.as_bytes(), &context(reflection, slot, field)));
    sqlx::query(
        "INSERT INTO checkins (reflection_id, couple_id, slot, appreciation, cared_for, written_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (reflection_id, slot) DO UPDATE SET
             appreciation = excluded.appreciation, cared_for = excluded.cared_for, written_at = excluded.written_at",
    )
    .bind(reflection)
    .bind(couple)
    .bind(slot.index() as i64)
    .bind(seal(appreciation, "appreciation"))
    .bind(seal(cared_for, "cared_for"))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn from_row(r: &sqlx::any::AnyRow, opener: &Opener) -> Result<StoredCheckIn> {
    let reflection: i64 = r.try_get("reflection_id")?;
    let slot = Slot::from_index(r.try_get("slot")?)
        .ok_or_else(|| StoreError::Corrupt(format!("a check-in of reflection {reflection} has no partner")))?;
    let open = |field: &str| -> Result<Option<String>> {
        let sealed: Option<Vec<u8>> = r.try_get(field)?;
        sealed.map(|s| opener.text(&s, &context(reflection, slot, field), "a check-in")).transpose()
    };
    Ok(StoredCheckIn {
        reflection_id: reflection,
        written_at: r.try_get("written_at")?,
        check_in: CheckIn { writer: slot, appreciation: open("appreciation")?, cared_for: open("cared_for")? },
    })
}

/// The check-ins written for one reflection, the first partner's first.
pub async fn for_reflection(exec: impl AnyExecutor<'_>, keys: &Keys, reflection: i64) -> Result<Vec<CheckIn>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM checkins WHERE reflection_id = $1 ORDER BY slot"
    )))
    .bind(reflection)
    .fetch_all(exec)
    .await?;
    let opener = keys.opener_for(&rows, &["appreciation", "cared_for"]).await?;
    rows.iter().map(|r| from_row(r, &opener).map(|c| c.check_in)).collect()
}

/// How many partners have checked in for a reflection (0, 1 or 2).
pub async fn count(exec: impl AnyExecutor<'_>, reflection: i64) -> Result<usize> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM checkins WHERE reflection_id = $1")
        .bind(reflection)
        .fetch_one(exec)
        .await?;
    Ok(n as usize)
}

/// `slot`'s own check-ins, oldest first (their export).
pub async fn of_partner(
    exec: impl AnyExecutor<'_>,
    keys: &Keys,
    couple: CoupleId,
    slot: Slot,
) -> Result<Vec<StoredCheckIn>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM checkins WHERE couple_id = $1 AND slot = $2 ORDER BY reflection_id"
    )))
    .bind(couple)
    .bind(slot.index() as i64)
    .fetch_all(exec)
    .await?;
    let opener = keys.opener_for(&rows, &["appreciation", "cared_for"]).await?;
    rows.iter().map(|r| from_row(r, &opener)).collect()
}

/// The reflections posted with words of `slot`'s check-in in them.
pub async fn quoted_reflections(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT c.reflection_id FROM checkins c JOIN reflections r ON r.id = c.reflection_id
         WHERE c.couple_id = $1 AND c.slot = $2 AND r.status = 'sent'
           AND (c.appreciation IS NOT NULL OR c.cared_for IS NOT NULL)
         ORDER BY c.reflection_id",
    )
    .bind(couple)
    .bind(slot.index() as i64)
    .fetch_all(exec)
    .await?)
}

pub async fn delete_for_partner(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<u64> {
    let done = sqlx::query("DELETE FROM checkins WHERE couple_id = $1 AND slot = $2")
        .bind(couple)
        .bind(slot.index() as i64)
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}
