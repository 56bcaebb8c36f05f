//! Where couples live on Discord: their channel, pairing invitations, the
//! messages a prompt was posted as, and nudges.

use sqlx::{Row, SqliteExecutor};

use super::Result;
use super::couples::CoupleId;
use super::deliveries::DeliveryId;
use crate::core::model::Slot;

/// A couple's home on Discord: a private channel in a server, or DMs only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub couple_id: CoupleId,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
}

fn id(s: Option<String>) -> Option<u64> {
    s.and_then(|s| s.parse().ok())
}

pub async fn set_home(exec: impl SqliteExecutor<'_>, home: &Home) -> Result<()> {
    sqlx::query(
        "INSERT INTO discord_couples (couple_id, guild_id, channel_id) VALUES (?, ?, ?)
         ON CONFLICT (couple_id) DO UPDATE SET guild_id = excluded.guild_id, channel_id = excluded.channel_id",
    )
    .bind(home.couple_id)
    .bind(home.guild_id.map(|g| g.to_string()))
    .bind(home.channel_id.map(|c| c.to_string()))
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn home(exec: impl SqliteExecutor<'_>, couple: CoupleId) -> Result<Option<Home>> {
    let row = sqlx::query("SELECT couple_id, guild_id, channel_id FROM discord_couples WHERE couple_id = ?")
        .bind(couple)
        .fetch_optional(exec)
        .await?;
    row.map(|r| {
        Ok(Home {
            couple_id: r.try_get("couple_id")?,
            guild_id: id(r.try_get("guild_id")?),
            channel_id: id(r.try_get("channel_id")?),
        })
    })
    .transpose()
}

/// The couple whose private channel this is.
pub async fn couple_of_channel(exec: impl SqliteExecutor<'_>, channel: u64) -> Result<Option<CoupleId>> {
    Ok(sqlx::query_scalar("SELECT couple_id FROM discord_couples WHERE channel_id = ?")
        .bind(channel.to_string())
        .fetch_optional(exec)
        .await?)
}

/// A pairing invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    pub id: i64,
    pub initiator: u64,
    pub partner: Option<u64>,
    pub guild_id: Option<u64>,
    pub code: Option<String>,
    pub expires_at: i64,
    pub status: String,
}

fn pairing(r: &sqlx::sqlite::SqliteRow) -> Result<Pairing> {
    Ok(Pairing {
        id: r.try_get("id")?,
        initiator: id(Some(r.try_get("initiator")?)).unwrap_or_default(),
        partner: id(r.try_get("partner")?),
        guild_id: id(r.try_get("guild_id")?),
        code: r.try_get("code")?,
        expires_at: r.try_get("expires_at")?,
        status: r.try_get("status")?,
    })
}

pub async fn insert_pairing(
    exec: impl SqliteExecutor<'_>,
    initiator: u64,
    partner: Option<u64>,
    guild_id: Option<u64>,
    code: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO pairings (initiator, partner, guild_id, code, created_at, expires_at, status)
         VALUES (?, ?, ?, ?, ?, ?, 'pending') RETURNING id",
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

const PAIRING_COLUMNS: &str = "SELECT id, initiator, partner, guild_id, code, expires_at, status FROM pairings";

pub async fn pairing_by_id(exec: impl SqliteExecutor<'_>, pairing_id: i64) -> Result<Option<Pairing>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{PAIRING_COLUMNS} WHERE id = ?")))
        .bind(pairing_id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(pairing)
        .transpose()
}

pub async fn pairing_by_code(exec: impl SqliteExecutor<'_>, code: &str) -> Result<Option<Pairing>> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{PAIRING_COLUMNS} WHERE code = ?")))
        .bind(code)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(pairing)
        .transpose()
}

/// Moves a pending invitation to `status`; false if it was no longer pending
/// (so a double click cannot pair twice).
pub async fn settle_pairing(exec: impl SqliteExecutor<'_>, pairing_id: i64, status: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE pairings SET status = ? WHERE id = ? AND status = 'pending'")
        .bind(status)
        .bind(pairing_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts an accepted invitation back to pending when what accepting needed
/// (a channel) could not be made, so it can be accepted again.
pub async fn settle_pairing_back(exec: impl SqliteExecutor<'_>, pairing_id: i64) -> Result<()> {
    sqlx::query("UPDATE pairings SET status = 'pending' WHERE id = ? AND status = 'accepted'")
        .bind(pairing_id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Where a delivery was posted; `slot` is `None` for the couple's channel.
pub async fn add_message(
    exec: impl SqliteExecutor<'_>,
    delivery: DeliveryId,
    slot: Option<Slot>,
    channel: u64,
    message: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_messages (delivery_id, slot, channel_id, message_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (delivery_id, slot) DO NOTHING",
    )
    .bind(delivery)
    .bind(slot.map_or(-1, |s| s.index() as i64))
    .bind(channel.to_string())
    .bind(message.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

/// The messages of a delivery: (slot, channel, message).
pub async fn messages(exec: impl SqliteExecutor<'_>, delivery: DeliveryId) -> Result<Vec<(Option<Slot>, u64, u64)>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT slot, channel_id, message_id FROM delivery_messages WHERE delivery_id = ? ORDER BY slot",
    )
    .bind(delivery)
    .fetch_all(exec)
    .await?;
    Ok(rows.into_iter().filter_map(|(s, c, m)| Some((Slot::from_index(s), c.parse().ok()?, m.parse().ok()?))).collect())
}

/// Partners not yet nudged who have not responded to a delivery sent before
/// `sent_before` (and no later than `sent_after`, so old prompts stay quiet).
pub async fn nudges_due(
    exec: impl SqliteExecutor<'_>,
    sent_after: i64,
    sent_before: i64,
) -> Result<Vec<(DeliveryId, CoupleId, Slot)>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT d.id, d.couple_id, s.slot FROM deliveries d
         JOIN (SELECT 0 AS slot UNION ALL SELECT 1) s
         JOIN couples c ON c.id = d.couple_id
         WHERE d.status = 'sent' AND d.sent_at > ? AND d.sent_at <= ? AND d.revealed_at IS NULL
           AND c.ended_at IS NULL AND c.paused = 0
           AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.delivery_id = d.id AND r.slot = s.slot)
           AND NOT EXISTS (SELECT 1 FROM nudges n WHERE n.delivery_id = d.id AND n.slot = s.slot)
         ORDER BY d.sent_at",
    )
    .bind(sent_after)
    .bind(sent_before)
    .fetch_all(exec)
    .await?;
    Ok(rows.into_iter().filter_map(|(d, c, s)| Some((d, c, Slot::from_index(s)?))).collect())
}

pub async fn record_nudge(
    exec: impl SqliteExecutor<'_>,
    delivery: DeliveryId,
    slot: Slot,
    at: i64,
    via: &str,
) -> Result<bool> {
    let done =
        sqlx::query("INSERT INTO nudges (delivery_id, slot, sent_at, via) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(delivery)
            .bind(slot.index() as i64)
            .bind(at)
            .bind(via)
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_nudge_via(exec: impl SqliteExecutor<'_>, delivery: DeliveryId, slot: Slot, via: &str) -> Result<()> {
    sqlx::query("UPDATE nudges SET via = ? WHERE delivery_id = ? AND slot = ?")
        .bind(via)
        .bind(delivery)
        .bind(slot.index() as i64)
        .execute(exec)
        .await?;
    Ok(())
}

/// Forgets every invitation a user made or received.
pub async fn delete_pairings_of(exec: impl SqliteExecutor<'_>, user: u64) -> Result<()> {
    sqlx::query("DELETE FROM pairings WHERE initiator = ?1 OR partner = ?1")
        .bind(user.to_string())
        .execute(exec)
        .await?;
    Ok(())
}
