//! `pairings`: invitations to pair, waiting for the partner's consent (a button
//! in a server, a one-time code in DMs).

use sqlx::{AnyExecutor, Row};

use super::homes::id;
use super::{Result, parse_enum};
use crate::core::entities::{Pairing, PairingStatus};

fn pairing(r: &sqlx::any::AnyRow) -> Result<Pairing> {
    Ok(Pairing {
        id: r.try_get("id")?,
        initiator: id(Some(r.try_get("initiator")?)).unwrap_or_default(),
        partner: id(r.try_get("partner")?),
        guild_id: id(r.try_get("guild_id")?),
        code: r.try_get("code")?,
        expires_at: r.try_get("expires_at")?,
        status: parse_enum(r.try_get::<&str, _>("status")?)?,
        tz: r.try_get("tz")?,
    })
}

pub async fn insert_pairing(
    exec: impl AnyExecutor<'_>,
    initiator: u64,
    partner: Option<u64>,
    guild_id: Option<u64>,
    code: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO pairings (initiator, partner, guild_id, code, created_at, expires_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending') RETURNING id",
    )
    .bind(initiator.to_string())
    .bind(partner.map(|p| p.to_string()))
    .bind(guild_id.map(|g| g.to_string()))
    .bind(code)
    .bind(now)
    .bind(expires_at)
    .fetch_one(exec)
    .await?)
}

const PAIRING_COLUMNS: &str = "SELECT id, initiator, partner, guild_id, code, expires_at, status, tz FROM pairings";

/// The timezone the couple will live in, given when the pairing was started.
pub async fn set_zone(exec: impl AnyExecutor<'_>, pairing: i64, tz: &str) -> Result<()> {
    sqlx::query("UPDATE pairings SET tz = $1 WHERE id = $2").bind(tz).bind(pairing).execute(exec).await?;
    Ok(())
}

pub async fn pairing_by_id(exec: impl AnyExecutor<'_>, pairing_id: i64) -> Result<Option<Pairing>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{PAIRING_COLUMNS} WHERE id = $1")))
        .bind(pairing_id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(pairing)
        .transpose()
}

pub async fn pairing_by_code(exec: impl AnyExecutor<'_>, code: &str) -> Result<Option<Pairing>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{PAIRING_COLUMNS} WHERE code = $1")))
        .bind(code)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(pairing)
        .transpose()
}

/// Moves a pending invitation to `status`; false if it was no longer pending
/// (so a double click cannot pair twice).
pub async fn settle_pairing(exec: impl AnyExecutor<'_>, pairing_id: i64, status: PairingStatus) -> Result<bool> {
    let done = sqlx::query("UPDATE pairings SET status = $1 WHERE id = $2 AND status = 'pending'")
        .bind(status.as_str())
        .bind(pairing_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts an accepted invitation back to pending when what accepting needed
/// (a channel) could not be made, so it can be accepted again.
pub async fn settle_pairing_back(exec: impl AnyExecutor<'_>, pairing_id: i64) -> Result<()> {
    sqlx::query("UPDATE pairings SET status = 'pending' WHERE id = $1 AND status = 'accepted'")
        .bind(pairing_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Forgets every invitation a user made or received.
pub async fn delete_pairings_of(exec: impl AnyExecutor<'_>, user: u64) -> Result<()> {
    sqlx::query("DELETE FROM pairings WHERE initiator = $1 OR partner = $1")
        .bind(user.to_string())
        .execute(exec)
        .await?;
    Ok(())
}
