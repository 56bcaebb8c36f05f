//! Channels, permission overwrites, threads, guild members.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::Value;

use super::body::Payload;
use super::{Ctx, snowflake};
use crate::error::ApiError;
use crate::json::model::{channel, guild_member, role};
use crate::perms::bits;
use crate::shared::Shared;
use crate::state::State as World;
use crate::state::model::ChannelKind;

type Reply = Result<Json<Value>, ApiError>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/channels/{channel}", get(get_channel).patch(edit_channel).delete(delete_channel))
        .route("/channels/{channel}/permissions/{target}", put(put_permission).delete(delete_permission))
        .route("/channels/{channel}/messages/{message}/threads", post(thread_from_message))
        .route("/channels/{channel}/threads", post(thread))
        .route("/channels/{channel}/thread-members/{user}", put(add_thread_member))
        .route("/channels/{channel}/typing", post(typing))
        .route("/guilds/{guild}/channels", get(guild_channels).post(create_channel))
        .route("/guilds/{guild}/members/{user}", get(get_member))
        .route("/guilds/{guild}/roles", get(roles))
}

fn channel_json(s: &World, id: u64) -> Json<Value> {
    Json(channel(s, &s.channels[&id]))
}

/// The bot may look at a channel it can view, or at its own DMs.
fn visible(s: &World, id: u64) -> Result<(), ApiError> {
    s.channel(id)?;
    if !s.can_view(id, s.bot_id()) {
        return Err(ApiError::missing_access());
    }
    Ok(())
}

async fn get_channel(State(shared): Ctx, Path(id): Path<String>) -> Reply {
    let id = snowflake("channel_id", &id)?;
    shared.read(|s| {
        visible(s, id)?;
        Ok(channel_json(s, id))
    })
}

async fn edit_channel(State(shared): Ctx, Path(id): Path<String>, body: Payload) -> Reply {
    let id = snowflake("channel_id", &id)?;
    shared.write(|s| {
        s.edit_channel(id, &body.json)?;
        Ok(channel_json(s, id))
    })
}

async fn delete_channel(State(shared): Ctx, Path(id): Path<String>) -> Reply {
    let id = snowflake("channel_id", &id)?;
    shared.write(|s| s.delete_channel(id, true).map(Json))
}

async fn put_permission(
    State(shared): Ctx,
    Path((id, target)): Path<(String, String)>,
    body: Payload,
) -> Result<StatusCode, ApiError> {
    let id = snowflake("channel_id", &id)?;
    let target = snowflake("overwrite_id", &target)?;
    shared.write(|s| s.put_overwrite(id, target, &body.json))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_permission(
    State(shared): Ctx,
    Path((id, target)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = snowflake("channel_id", &id)?;
    let target = snowflake("overwrite_id", &target)?;
    shared.write(|s| s.delete_overwrite(id, target))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn thread_from_message(State(shared): Ctx, Path((id, message)): Path<(String, String)>, body: Payload) -> Reply {
    let id = snowflake("channel_id", &id)?;
    let message = snowflake("message_id", &message)?;
    shared.write(|s| {
        let thread = s.thread_from_message(id, message, &body.json)?;
        Ok(channel_json(s, thread))
    })
}

async fn thread(State(shared): Ctx, Path(id): Path<String>, body: Payload) -> Reply {
    let id = snowflake("channel_id", &id)?;
    shared.write(|s| {
        let thread = s.thread_without_message(id, &body.json)?;
        Ok(channel_json(s, thread))
    })
}

async fn add_thread_member(
    State(shared): Ctx,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = snowflake("channel_id", &id)?;
    let user = if user == "@me" { shared.read(|s| s.bot_id()) } else { snowflake("user_id", &user)? };
    shared.write(|s| s.add_thread_member(id, user))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn typing(State(shared): Ctx, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = snowflake("channel_id", &id)?;
    shared.read(|s| {
        let needed = match s.channel(id)?.kind {
            k if k.is_thread() => bits::SEND_MESSAGES_IN_THREADS,
            ChannelKind::Dm => 0,
            _ => bits::SEND_MESSAGES,
        };
        s.require_bot(id, needed).map(|_| StatusCode::NO_CONTENT)
    })
}

fn bot_guild(s: &World, guild: &str) -> Result<u64, ApiError> {
    let guild = snowflake("guild_id", guild)?;
    if !s.guild(guild)?.members.contains_key(&s.bot_id()) {
        return Err(ApiError::missing_access());
    }
    Ok(guild)
}

async fn guild_channels(State(shared): Ctx, Path(guild): Path<String>) -> Reply {
    shared.read(|s| {
        let guild = bot_guild(s, &guild)?;
        let list: Vec<Value> = s
            .channels
            .values()
            .filter(|c| c.guild_id == Some(guild) && !c.kind.is_thread())
            .map(|c| channel(s, c))
            .collect();
        Ok(Json(Value::from(list)))
    })
}

async fn create_channel(State(shared): Ctx, Path(guild): Path<String>, body: Payload) -> Reply {
    shared.write(|s| {
        let guild = bot_guild(s, &guild)?;
        let id = s.create_guild_channel(guild, &body.json)?;
        Ok(channel_json(s, id))
    })
}

async fn get_member(State(shared): Ctx, Path((guild, user)): Path<(String, String)>) -> Reply {
    shared.read(|s| {
        let guild = bot_guild(s, &guild)?;
        let user = snowflake("user_id", &user)?;
        let mut m = guild_member(s, s.guild(guild)?, user).ok_or_else(ApiError::unknown_member)?;
        m["guild_id"] = crate::json::sf(guild);
        Ok(Json(m))
    })
}

async fn roles(State(shared): Ctx, Path(guild): Path<String>) -> Reply {
    shared.read(|s| {
        let guild = bot_guild(s, &guild)?;
        let list: Vec<Value> = s.guild(guild)?.roles.iter().map(role).collect();
        Ok(Json(Value::from(list)))
    })
}
