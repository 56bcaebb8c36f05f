//! Channel messages: create (JSON or multipart), list, get, edit, delete.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::body::Payload;
use super::{Ctx, snowflake};
use crate::error::ApiError;
use crate::json::model::message;
use crate::perms::bits;
use crate::shared::Shared;
use crate::state::State as World;
use crate::state::messages::Origin;
use crate::state::model::ChannelKind;

type Reply = Result<Json<Value>, ApiError>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/channels/{channel}/messages", get(list).post(create))
        .route("/channels/{channel}/messages/{message}", get(get_one).patch(edit).delete(delete))
}

/// Whether the bot may post here, with Discord's error for each refusal.
fn check_send(s: &World, channel_id: u64, with_files: bool) -> Result<(), ApiError> {
    let channel = s.channel(channel_id)?;
    match channel.kind {
        ChannelKind::Dm => {
            let recipient = channel.recipient_id.and_then(|r| s.users.get(&r));
            let reachable = recipient.is_some_and(|u| !u.dms_closed && s.shares_guild_with_bot(u.id));
            if !reachable {
                return Err(ApiError::cannot_dm());
            }
            Ok(())
        }
        ChannelKind::Category => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, 50008, "Cannot send messages in a non-text channel"))
        }
        kind => {
            let mut needed = if kind.is_thread() { bits::SEND_MESSAGES_IN_THREADS } else { bits::SEND_MESSAGES };
            if with_files {
                needed |= bits::ATTACH_FILES;
            }
            s.require_bot(channel_id, needed).map(|_| ())
        }
    }
}

async fn create(State(shared): Ctx, Path(channel): Path<String>, body: Payload) -> Reply {
    let channel = snowflake("channel_id", &channel)?;
    shared.write(|s| {
        check_send(s, channel, !body.files.is_empty())?;
        let origin = Origin::plain(channel, s.bot_id());
        let created = s.create_message(origin, &body.json, &body.files)?;
        Ok(Json(message(s, &s.messages[&created.id()])))
    })
}

#[derive(Deserialize)]
struct Page {
    limit: Option<usize>,
    before: Option<u64>,
    after: Option<u64>,
}

/// Newest first, like Discord; without READ_MESSAGE_HISTORY the list is empty.
async fn list(State(shared): Ctx, Path(channel): Path<String>, Query(page): Query<Page>) -> Reply {
    let channel = snowflake("channel_id", &channel)?;
    shared.read(|s| {
        let perms = s.require_bot(channel, 0)?;
        if perms & bits::READ_MESSAGE_HISTORY == 0 {
            return Ok(Json(Value::Array(vec![])));
        }
        let limit = page.limit.unwrap_or(50).clamp(1, 100);
        let mut found: Vec<Value> = s
            .messages
            .values()
            .rev()
            .filter(|m| m.channel_id == channel && m.ephemeral_for.is_none())
            .filter(|m| page.before.is_none_or(|b| m.id < b) && page.after.is_none_or(|a| m.id > a))
            .map(|m| message(s, m))
            .collect();
        if page.after.is_some() {
            // `after` pages start at the oldest message after the cursor.
            found.reverse();
            found.truncate(limit);
            found.reverse();
        } else {
            found.truncate(limit);
        }
        Ok(Json(Value::Array(found)))
    })
}

fn ids(channel: &str, message: &str) -> Result<(u64, u64), ApiError> {
    Ok((snowflake("channel_id", channel)?, snowflake("message_id", message)?))
}

async fn get_one(State(shared): Ctx, Path((channel, id)): Path<(String, String)>) -> Reply {
    let (channel, id) = ids(&channel, &id)?;
    shared.read(|s| {
        let perms = s.require_bot(channel, 0)?;
        if perms & bits::READ_MESSAGE_HISTORY == 0 {
            return Err(ApiError::missing_access());
        }
        let m = s.message(channel, id)?;
        if m.ephemeral_for.is_some() {
            return Err(ApiError::unknown_message());
        }
        Ok(Json(message(s, m)))
    })
}

async fn edit(State(shared): Ctx, Path((channel, id)): Path<(String, String)>, body: Payload) -> Reply {
    let (channel, id) = ids(&channel, &id)?;
    shared.write(|s| {
        s.require_bot(channel, 0)?;
        let m = s.message(channel, id)?;
        if m.author_id != s.bot_id() || m.ephemeral_for.is_some() {
            return Err(ApiError::cannot_edit_foreign());
        }
        s.edit_message(id, &body.json, &body.files)?;
        Ok(Json(message(s, &s.messages[&id])))
    })
}

async fn delete(State(shared): Ctx, Path((channel, id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let (channel, id) = ids(&channel, &id)?;
    shared.write(|s| {
        let perms = s.require_bot(channel, 0)?;
        let m = s.message(channel, id)?;
        let is_dm = s.channel(channel)?.kind == ChannelKind::Dm;
        let own = m.author_id == s.bot_id();
        if !own && (is_dm || perms & bits::MANAGE_MESSAGES == 0) {
            return Err(ApiError::missing_permissions());
        }
        s.delete_message(id)?;
        Ok(StatusCode::NO_CONTENT)
    })
}
