//! `commitments` and `commitment_checks`: what a partner committed to, sealed
//! to its row, and each "Did this happen?" asked of the partner it was made to.

use sqlx::{AnyExecutor, Row};

use super::keys::{Keys, Opener};
use super::{Result, StoreError};
use crate::core::entities::CoupleId;
use crate::core::model::Slot;

/// One commitment, as the couple may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub id: i64,
    pub couple_id: CoupleId,
    /// Who made it (it was made to the other).
    pub slot: Slot,
    pub text: String,
    /// Its schedule in the couple's timezone; `None`: once.
    pub spec: Option<String>,
    pub created_at: i64,
    pub revised_at: Option<i64>,
    /// The committer's note on their last revision or on retiring it.
    pub note: Option<String>,
    pub retired_at: Option<i64>,
    /// When the partner marked it "this matters most".
    pub matters_at: Option<i64>,
    pub next_occurrence: Option<i64>,
    pub next_ask_at: Option<i64>,
}

crate::core::model::spelled_enum!(
    /// What the partner answered to "Did this happen?".
    Noticed, "answer" {
        Kept => "kept",
        NotThisTime => "not_this_time",
        NotSure => "not_sure",
    }
);

/// One "Did this happen?", as the one asked may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub id: i64,
    pub commitment_id: i64,
    pub couple_id: CoupleId,
    pub occurrence: i64,
    pub asked_at: i64,
    pub answer: Option<Noticed>,
    pub answered_at: Option<i64>,
}

pub(super) fn body_context(id: i64) -> Vec<u8> {
    format!("commitment:{id}").into_bytes()
}

pub(super) fn note_context(id: i64) -> Vec<u8> {
    format!("commitment-note:{id}").into_bytes()
}

macro_rules! columns {
    () => {
        "id, couple_id, slot, body, spec, created_at, revised_at, note, retired_at, matters_at, next_occurrence, next_ask_at"
    };
}

/// A commitment to insert. `next`: its first occurrence and when to ask about it.
pub struct NewCommitment<'a> {
    pub couple: CoupleId,
    pub slot: Slot,
    pub text: &'a str,
    pub spec: Option<&'a str>,
    pub at: i64,
    pub next: Option<(i64, i64)>,
}

/// A new commitment: its row first (for its id), then its sealed text.
pub async fn insert(conn: &mut sqlx::AnyConnection, keys: &Keys, new: &NewCommitment<'_>) -> Result<i64> {
    let key = keys.writer(conn, new.couple, new.slot).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO commitments (couple_id, slot, body, spec, created_at, next_occurrence, next_ask_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.couple)
    .bind(new.slot.index() as i64)
    .bind(Vec::<u8>::new())
    .bind(new.spec)
    .bind(new.at)
    .bind(new.next.map(|n| n.0))
    .bind(new.next.map(|n| n.1))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE commitments SET body = $1 WHERE id = $2")
        .bind(key.seal(new.text.as_bytes(), &body_context(id)))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

pub async fn get(exec: impl AnyExecutor<'_>, keys: &Keys, id: i64) -> Result<Option<Commitment>> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM commitments WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?;
    let rows: Vec<_> = row.into_iter().collect();
    let opener = keys.opener_for(&rows, &["body", "note"]).await?;
    rows.first().map(|r| from_row(r, &opener)).transpose()
}

/// A couple's commitments, open ones first then retired, oldest first.
pub async fn of_couple(exec: impl AnyExecutor<'_>, keys: &Keys, couple: CoupleId) -> Result<Vec<Commitment>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM commitments WHERE couple_id = $1 ORDER BY retired_at IS NOT NULL, created_at, id"
    ))
    .bind(couple)
    .fetch_all(exec)
    .await?;
    let opener = keys.opener_for(&rows, &["body", "note"]).await?;
    rows.iter().map(|r| from_row(r, &opener)).collect()
}

/// How many commitments `slot` has open.
pub async fn open_count(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM commitments WHERE couple_id = $1 AND slot = $2 AND retired_at IS NULL")
        .bind(couple)
        .bind(slot.index() as i64)
        .fetch_one(exec)
        .await?)
}

fn open_sealed(opener: &Opener, sealed: &[u8], context: &[u8]) -> Result<String> {
    opener.text(sealed, context, "a commitment")
}

fn from_row(r: &sqlx::any::AnyRow, opener: &Opener) -> Result<Commitment> {
    let id: i64 = r.try_get("id")?;
    let body: Vec<u8> = r.try_get("body")?;
    let note: Option<Vec<u8>> = r.try_get("note")?;
    Ok(Commitment {
        id,
        couple_id: r.try_get("couple_id")?,
        slot: Slot::from_index(r.try_get("slot")?)
            .ok_or_else(|| StoreError::Corrupt(format!("commitment {id} has no partner")))?,
        text: open_sealed(opener, &body, &body_context(id))?,
        spec: r.try_get("spec")?,
        created_at: r.try_get("created_at")?,
        revised_at: r.try_get("revised_at")?,
        note: note.map(|n| open_sealed(opener, &n, &note_context(id))).transpose()?,
        retired_at: r.try_get("retired_at")?,
        matters_at: r.try_get("matters_at")?,
        next_occurrence: r.try_get("next_occurrence")?,
        next_ask_at: r.try_get("next_ask_at")?,
    })
}

/// New words for it, with the committer's note (`None`: none).
pub async fn revise(
    conn: &mut sqlx::AnyConnection,
    keys: &Keys,
    id: i64,
    text: &str,
    note: Option<&str>,
    at: i64,
) -> Result<()> {
    let key = committer_key(conn, keys, id).await?;
    sqlx::query("UPDATE commitments SET body = $1, note = $2, revised_at = $3 WHERE id = $4")
        .bind(key.seal(text.as_bytes(), &body_context(id)))
        .bind(note.map(|n| key.seal(n.as_bytes(), &note_context(id))))
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Retires it with the committer's note; `false` if it already was.
pub async fn retire(conn: &mut sqlx::AnyConnection, keys: &Keys, id: i64, note: Option<&str>, at: i64) -> Result<bool> {
    let sealed = match note {
        Some(n) => Some(committer_key(conn, keys, id).await?.seal(n.as_bytes(), &note_context(id))),
        None => None,
    };
    let done = sqlx::query(
        "UPDATE commitments SET retired_at = $1, note = $2, next_ask_at = NULL, next_occurrence = NULL
         WHERE id = $3 AND retired_at IS NULL",
    )
    .bind(at)
    .bind(sealed)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The key of the partner who made commitment `id`.
async fn committer_key(conn: &mut sqlx::AnyConnection, keys: &Keys, id: i64) -> Result<crate::crypto::DataKey> {
    let (couple, slot): (i64, i64) =
        sqlx::query_as("SELECT couple_id, slot FROM commitments WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
    let slot = Slot::from_index(slot).ok_or_else(|| StoreError::Corrupt(format!("commitment {id} has no partner")))?;
    keys.writer(conn, couple, slot).await
}

/// The partner marks it "this matters most" (or unmarks it).
pub async fn set_matters(exec: impl AnyExecutor<'_>, id: i64, at: Option<i64>) -> Result<()> {
    sqlx::query("UPDATE commitments SET matters_at = $1 WHERE id = $2").bind(at).bind(id).execute(exec).await?;
    Ok(())
}

/// Open commitments whose next "Did this happen?" is due by `now`.
pub async fn due(exec: impl AnyExecutor<'_>, now: i64, limit: i64) -> Result<Vec<(i64, CoupleId, i64)>> {
    let rows = sqlx::query(
        "SELECT id, couple_id, next_occurrence FROM commitments
         WHERE next_ask_at IS NOT NULL AND next_ask_at <= $1 ORDER BY next_ask_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("couple_id")?, r.try_get("next_occurrence")?))).collect()
}

/// The earliest "Did this happen?" still to ask.
pub async fn earliest(exec: impl AnyExecutor<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MIN(next_ask_at) FROM commitments WHERE next_ask_at IS NOT NULL")
        .fetch_one(exec)
        .await?)
}

/// When to ask next: (the occurrence, when to ask about it); `None`: never again.
pub async fn set_next(exec: impl AnyExecutor<'_>, id: i64, next: Option<(i64, i64)>) -> Result<()> {
    sqlx::query("UPDATE commitments SET next_occurrence = $1, next_ask_at = $2 WHERE id = $3")
        .bind(next.map(|n| n.0))
        .bind(next.map(|n| n.1))
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Records that the partner is asked about `occurrence`; `None` if they
/// already were (a commitment is asked about at most once per occurrence).
pub async fn insert_check(
    exec: impl AnyExecutor<'_>,
    commitment: i64,
    couple: CoupleId,
    occurrence: i64,
    at: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO commitment_checks (commitment_id, couple_id, occurrence, asked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (commitment_id, occurrence) DO NOTHING RETURNING id",
    )
    .bind(commitment)
    .bind(couple)
    .bind(occurrence)
    .bind(at)
    .fetch_optional(exec)
    .await?)
}

fn check_from_row(r: &sqlx::any::AnyRow) -> Result<Check> {
    let answer: Option<String> = r.try_get("answer")?;
    Ok(Check {
        id: r.try_get("id")?,
        commitment_id: r.try_get("commitment_id")?,
        couple_id: r.try_get("couple_id")?,
        occurrence: r.try_get("occurrence")?,
        asked_at: r.try_get("asked_at")?,
        answer: answer.map(|a| a.parse().map_err(StoreError::Corrupt)).transpose()?,
        answered_at: r.try_get("answered_at")?,
    })
}

pub async fn check(exec: impl AnyExecutor<'_>, id: i64) -> Result<Option<Check>> {
    let row = sqlx::query(
        "SELECT id, commitment_id, couple_id, occurrence, asked_at, answer, answered_at FROM commitment_checks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(exec)
    .await?;
    row.as_ref().map(check_from_row).transpose()
}

/// The checks of a couple's commitments, oldest first.
pub async fn checks_of_couple(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<Vec<Check>> {
    let rows = sqlx::query(
        "SELECT id, commitment_id, couple_id, occurrence, asked_at, answer, answered_at FROM commitment_checks
         WHERE couple_id = $1 ORDER BY asked_at, id",
    )
    .bind(couple)
    .fetch_all(exec)
    .await?;
    rows.iter().map(check_from_row).collect()
}

/// The answer, once: `false` if it was already answered.
pub async fn answer(exec: impl AnyExecutor<'_>, check: i64, noticed: Noticed, at: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE commitment_checks SET answer = $1, answered_at = $2 WHERE id = $3 AND answered_at IS NULL")
            .bind(noticed.as_str())
            .bind(at)
            .bind(check)
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Commitments of a couple noticed kept, by when it was noticed, in `[from, to)`.
/// Only what was kept is ever counted.
pub async fn kept_between(exec: impl AnyExecutor<'_>, couple: CoupleId, from: i64, to: i64) -> Result<usize> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM commitment_checks
         WHERE couple_id = $1 AND answer = 'kept' AND answered_at >= $2 AND answered_at < $3",
    )
    .bind(couple)
    .bind(from)
    .bind(to)
    .fetch_one(exec)
    .await?;
    Ok(n as usize)
}

/// Deletes the commitments `slot` made, with every check of them.
pub async fn delete_for_partner(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<u64> {
    let done = sqlx::query("DELETE FROM commitments WHERE couple_id = $1 AND slot = $2")
        .bind(couple)
        .bind(slot.index() as i64)
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}

/// The ids of the commitments `slot` made.
pub async fn ids_of_partner(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM commitments WHERE couple_id = $1 AND slot = $2")
        .bind(couple)
        .bind(slot.index() as i64)
        .fetch_all(exec)
        .await?)
}

/// Deletes what `slot` answered about their partner's commitments.
pub async fn delete_noticed_by(exec: impl AnyExecutor<'_>, couple: CoupleId, slot: Slot) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM commitment_checks WHERE couple_id = $1
         AND commitment_id IN (SELECT id FROM commitments WHERE couple_id = $2 AND slot = $3)",
    )
    .bind(couple)
    .bind(couple)
    .bind(slot.other().index() as i64)
    .execute(exec)
    .await?;
    Ok(done.rows_affected())
}
