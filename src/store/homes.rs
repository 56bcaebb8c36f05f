//! `discord_couples` and `delivery_messages`: where each couple lives and the
//! messages each prompt was posted as. Ids are kept as decimal text.

use sqlx::{AnyExecutor, Row};

use super::Result;
use crate::core::entities::{CoupleId, DeliveryId, Home};
use crate::core::model::Slot;

pub(super) fn id(s: Option<String>) -> Option<u64> {
    s.and_then(|s| s.parse().ok())
}

pub async fn set_home(exec: impl AnyExecutor<'_>, home: &Home) -> Result<()> {
    sqlx::query(
        "INSERT INTO discord_couples (couple_id, guild_id, channel_id) VALUES ($1, $2, $3)
         ON CONFLICT (couple_id) DO UPDATE SET guild_id = excluded.guild_id, channel_id = excluded.channel_id",
    )
    .bind(home.couple_id)
    .bind(home.guild_id.map(|g| g.to_string()))
    .bind(home.channel_id.map(|c| c.to_string()))
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn home(exec: impl AnyExecutor<'_>, couple: CoupleId) -> Result<Option<Home>> {
    let row = sqlx::query("SELECT couple_id, guild_id, channel_id FROM discord_couples WHERE couple_id = $1")
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
pub async fn couple_of_channel(exec: impl AnyExecutor<'_>, channel: u64) -> Result<Option<CoupleId>> {
    Ok(sqlx::query_scalar("SELECT couple_id FROM discord_couples WHERE channel_id = $1")
        .bind(channel.to_string())
        .fetch_optional(exec)
        .await?)
}

/// Where a delivery was posted; `slot` is `None` for the couple's channel.
pub async fn add_message(
    exec: impl AnyExecutor<'_>,
    delivery: DeliveryId,
    slot: Option<Slot>,
    channel: u64,
    message: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_messages (delivery_id, slot, channel_id, message_id) VALUES ($1, $2, $3, $4)
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
pub async fn messages(exec: impl AnyExecutor<'_>, delivery: DeliveryId) -> Result<Vec<(Option<Slot>, u64, u64)>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT slot, channel_id, message_id FROM delivery_messages WHERE delivery_id = $1 ORDER BY slot",
    )
    .bind(delivery)
    .fetch_all(exec)
    .await?;
    Ok(rows.into_iter().filter_map(|(s, c, m)| Some((Slot::from_index(s), c.parse().ok()?, m.parse().ok()?))).collect())
}

/// The DM channel mend knows for a user.
pub async fn dm_channel(exec: impl AnyExecutor<'_>, user: u64) -> Result<Option<u64>> {
    let row: Option<String> = sqlx::query_scalar("SELECT channel_id FROM dm_channels WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_optional(exec)
        .await?;
    Ok(row.and_then(|c| c.parse().ok()))
}

pub async fn set_dm_channel(exec: impl AnyExecutor<'_>, user: u64, channel: u64) -> Result<()> {
    sqlx::query(
        "INSERT INTO dm_channels (user_id, channel_id) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
    )
    .bind(user.to_string())
    .bind(channel.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

/// Forgets the DM channels of users who are no longer on mend.
pub async fn delete_dm_channel(exec: impl AnyExecutor<'_>, user: u64) -> Result<()> {
    sqlx::query("DELETE FROM dm_channels WHERE user_id = $1").bind(user.to_string()).execute(exec).await?;
    Ok(())
}
