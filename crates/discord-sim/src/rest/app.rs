//! Gateway discovery, the application, users, application commands.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::body::Payload;
use super::{Ctx, snowflake};
use crate::error::ApiError;
use crate::json::model::{current_user, user};
use crate::json::sf;
use crate::shared::Shared;
use std::sync::Arc;

type Reply = Result<Json<Value>, ApiError>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/gateway", get(gateway))
        .route("/gateway/bot", get(gateway_bot))
        .route("/oauth2/applications/@me", get(application))
        .route("/applications/@me", get(application))
        .route("/users/@me", get(me))
        .route("/users/@me/guilds", get(my_guilds))
        .route("/users/{user}", get(get_user))
        .route("/applications/{app}/commands", get(global_commands).put(put_global_commands))
        .route("/applications/{app}/guilds/{guild}/commands", get(guild_commands).put(put_guild_commands))
        .route("/users/@me/channels", post(create_dm))
}

async fn gateway(State(shared): Ctx) -> Json<Value> {
    Json(json!({"url": shared.read(|s| s.gateway_url.clone())}))
}

/// Discord recommends about one shard per 1,000 guilds, and at least one.
pub(crate) fn recommended_shards(guilds: usize) -> usize {
    guilds.div_ceil(1000).max(1)
}

async fn gateway_bot(State(shared): Ctx) -> Json<Value> {
    let (url, guilds) = shared.read(|s| {
        let bot = s.bot_id();
        (s.gateway_url.clone(), s.guilds.values().filter(|g| g.members.contains_key(&bot)).count())
    });
    Json(json!({
        "url": url,
        "shards": recommended_shards(guilds),
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
    }))
}

async fn application(State(shared): Ctx) -> Json<Value> {
    Json(shared.read(|s| {
        let owner = s.users.get(&s.seeded.owner_id).map(user);
        let bot = &s.users[&s.bot_id()];
        json!({
            "id": sf(s.app_id()),
            "name": bot.username,
            "icon": null,
            "description": "",
            "summary": "",
            "type": null,
            "bot": user(bot),
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": format!("{:064x}", s.app_id()),
            "owner": owner,
            "team": null,
            // The same flags READY carries: which privileged intents the
            // portal has on (as the "limited" bits of an app in < 100 servers).
            "flags": crate::json::events::application_flags(s.cfg.privileged_intents),
            "redirect_uris": [],
            "interactions_endpoint_url": null,
            "approximate_guild_count": s.guilds.len(),
        })
    }))
}

async fn me(State(shared): Ctx) -> Json<Value> {
    Json(shared.read(|s| current_user(&s.users[&s.bot_id()])))
}

/// `GET /users/@me/guilds`: partial guilds the bot is a member of, each with
/// `owner` and the bot's guild-level `permissions` (a string of bits), as
/// Discord's "Get Current User Guilds" documents. `with_counts=true` adds the
/// approximate member and presence counts.
async fn my_guilds(
    State(shared): Ctx,
    axum::extract::Query(query): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> Reply {
    let with_counts = query.get("with_counts").is_some_and(|v| v == "true");
    let after = query.get("after").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let before = query.get("before").and_then(|v| v.parse::<u64>().ok()).unwrap_or(u64::MAX);
    let limit = match query.get("limit") {
        None => 200,
        Some(l) => match l.parse::<usize>() {
            Ok(n @ 1..=200) => n,
            _ => {
                return Err(ApiError::invalid_field(
                    &["limit"],
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 200.",
                ));
            }
        },
    };
    Ok(Json(shared.read(|s| {
        let bot = s.bot_id();
        let guilds: Vec<Value> = s
            .guilds
            .values()
            .filter(|g| g.members.contains_key(&bot) && g.id > after && g.id < before)
            .take(limit)
            .map(|g| {
                let mut v = json!({
                    "id": sf(g.id),
                    "name": g.name,
                    "icon": null,
                    "banner": null,
                    "owner": g.owner_id == bot,
                    "permissions": s.guild_permissions(g.id, bot).unwrap_or(0).to_string(),
                    "features": [],
                });
                if with_counts {
                    v["approximate_member_count"] = json!(g.members.len());
                    v["approximate_presence_count"] = json!(0);
                }
                v
            })
            .collect();
        Value::from(guilds)
    })))
}

async fn get_user(State(shared): Ctx, Path(id): Path<String>) -> Reply {
    let id = snowflake("user_id", &id)?;
    shared.read(|s| Ok(Json(user(s.user(id)?))))
}

fn check_app(shared: &Shared, app: &str) -> Result<(), ApiError> {
    let app = snowflake("application_id", app)?;
    if shared.read(|s| s.app_id()) != app {
        return Err(ApiError::unknown_application());
    }
    Ok(())
}

async fn global_commands(State(shared): Ctx, Path(app): Path<String>) -> Reply {
    check_app(&shared, &app)?;
    Ok(Json(Value::from(shared.read(|s| s.commands_of(None)))))
}

async fn put_global_commands(State(shared): Ctx, Path(app): Path<String>, body: Payload) -> Reply {
    check_app(&shared, &app)?;
    Ok(Json(Value::from(shared.write(|s| s.set_commands(None, &body.json))?)))
}

fn guild_of(shared: &Shared, guild: &str) -> Result<u64, ApiError> {
    let guild = snowflake("guild_id", guild)?;
    shared.read(|s| {
        let g = s.guild(guild)?;
        // The bot must be in the guild to own commands there.
        if g.members.contains_key(&s.bot_id()) { Ok(guild) } else { Err(ApiError::missing_access()) }
    })
}

async fn guild_commands(State(shared): Ctx, Path((app, guild)): Path<(String, String)>) -> Reply {
    check_app(&shared, &app)?;
    let guild = guild_of(&shared, &guild)?;
    Ok(Json(Value::from(shared.read(|s| s.commands_of(Some(guild))))))
}

async fn put_guild_commands(State(shared): Ctx, Path((app, guild)): Path<(String, String)>, body: Payload) -> Reply {
    check_app(&shared, &app)?;
    let guild = guild_of(&shared, &guild)?;
    Ok(Json(Value::from(shared.write(|s| s.set_commands(Some(guild), &body.json))?)))
}

/// `POST /users/@me/channels`: idempotent.
async fn create_dm(State(shared): Ctx, body: Payload) -> Reply {
    let raw = &body.json["recipient_id"];
    let recipient = raw.as_str().map(String::from).or_else(|| raw.as_u64().map(|n| n.to_string())).unwrap_or_default();
    let recipient = snowflake("recipient_id", &recipient)?;
    shared.write(|s| {
        s.user(recipient)?;
        let id = s.open_dm(recipient);
        Ok(Json(crate::json::model::channel(s, &s.channels[&id])))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_shard_per_thousand_guilds_and_at_least_one() {
        let shards: Vec<usize> = [0, 1, 999, 1000, 1001, 2500].map(super::recommended_shards).to_vec();
        assert_eq!(shards, vec![1, 1, 1, 1, 2, 3]);
    }
}
