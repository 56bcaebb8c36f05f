//! Gateway payloads: Hello, READY, GUILD_CREATE and INTERACTION_CREATE.

use serde_json::{Value, json};

use super::model::{channel, current_user, member, message, role, user};
use super::{sf, sf_opt};
use crate::config::intents;
use crate::state::State;
use crate::state::interaction::Interaction;
use crate::state::model::{ChannelKind, Guild};

/// Discord's default upload limit for guilds without boosts (10 MiB).
pub(crate) const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

pub(crate) fn hello(heartbeat_interval_ms: u64) -> Value {
    json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": heartbeat_interval_ms, "_trace": ["discord-sim"]}})
}

/// `application.flags` for an app under 100 guilds: the "limited" flag of each
/// privileged intent enabled in the portal, plus the command badge.
pub(crate) fn application_flags(privileged: u64) -> u64 {
    let mut flags = 1 << 23;
    if privileged & intents::GUILD_PRESENCES != 0 {
        flags |= 1 << 13;
    }
    if privileged & intents::GUILD_MEMBERS != 0 {
        flags |= 1 << 15;
    }
    if privileged & intents::MESSAGE_CONTENT != 0 {
        flags |= 1 << 19;
    }
    flags
}

pub(crate) fn ready(state: &State, session_id: &str, shard: (u64, u64)) -> Value {
    let bot = &state.users[&state.bot_id()];
    let guilds: Vec<Value> = state
        .guilds
        .values()
        .filter(|g| g.members.contains_key(&bot.id))
        .filter(|g| (g.id >> 22) % shard.1.max(1) == shard.0)
        .map(|g| json!({"id": sf(g.id), "unavailable": true}))
        .collect();
    json!({
        "v": 10,
        "user": current_user(bot),
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": state.gateway_url,
        "shard": [shard.0, shard.1],
        "application": {"id": sf(state.app_id()), "flags": application_flags(state.cfg.privileged_intents)},
        "private_channels": [],
        "presences": [],
        "relationships": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["rotterdam"],
        "user_settings": {},
        "_trace": ["discord-sim"],
    })
}

/// GUILD_CREATE as a bot with `session_intents` receives it: without
/// GUILD_MEMBERS, `members` holds only the bot itself.
pub(crate) fn guild_create(state: &State, g: &Guild, session_intents: u64) -> Value {
    let bot = state.bot_id();
    let members: Vec<Value> = g
        .members
        .values()
        .filter(|m| session_intents & intents::GUILD_MEMBERS != 0 || m.user_id == bot)
        .filter_map(|m| state.users.get(&m.user_id).map(|u| member(m, u, true)))
        .collect();
    let in_guild = |want_thread: bool| -> Vec<Value> {
        state
            .channels
            .values()
            .filter(|c| c.guild_id == Some(g.id) && c.kind.is_thread() == want_thread)
            .filter(|c| !want_thread || state.can_view(c.id, bot))
            .map(|c| channel(state, c))
            .collect()
    };
    let joined_at = g.members.get(&bot).map(|m| m.joined_at.clone());
    let mut v = json!({
        "id": sf(g.id),
        "name": g.name,
        "icon": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": sf(g.owner_id),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": g.roles.iter().map(role).collect::<Vec<_>>(),
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": sf_opt(g.system_channel_id),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
    });
    // Two objects: one `json!` this large exceeds the macro recursion limit.
    let rest = json!({
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "nsfw_level": 0,
        "nsfw": false,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "joined_at": joined_at,
        "large": false,
        "unavailable": false,
        "member_count": g.members.len(),
        "voice_states": [],
        "members": members,
        "channels": in_guild(false),
        "threads": in_guild(true),
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(base), Value::Object(rest)) = (v.as_object_mut(), rest) {
        base.extend(rest);
    }
    v
}

pub(crate) fn interaction(state: &State, ix: &Interaction) -> Value {
    let bot = state.bot_id();
    let mut v = json!({
        "id": sf(ix.id),
        "application_id": sf(state.app_id()),
        "type": ix.kind.code(),
        "data": ix.data,
        "channel_id": sf(ix.channel_id),
        "token": ix.token,
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "app_permissions": state.permissions_in(ix.channel_id, bot).to_string(),
    });
    if let Some(c) = state.channels.get(&ix.channel_id) {
        v["channel"] = channel(state, c);
    }
    let dm = state.channels.get(&ix.channel_id).is_none_or(|c| c.kind == ChannelKind::Dm);
    match ix.guild_id.and_then(|g| state.guilds.get(&g)) {
        Some(g) if !dm => {
            v["guild_id"] = sf(g.id);
            v["guild_locale"] = json!("en-US");
            v["context"] = json!(0);
            v["authorizing_integration_owners"] = json!({"0": sf(g.id)});
            if let (Some(m), Some(u)) = (g.members.get(&ix.user_id), state.users.get(&ix.user_id)) {
                let mut mv = member(m, u, true);
                mv["permissions"] = json!(state.permissions_in(ix.channel_id, ix.user_id).to_string());
                v["member"] = mv;
            }
        }
        _ => {
            v["context"] = json!(1);
            // A guild-installed app invoked in its DM: guild owner "0".
            v["authorizing_integration_owners"] = json!({"0": "0"});
            if let Some(u) = state.users.get(&ix.user_id) {
                v["user"] = user(u);
            }
        }
    }
    if let Some(m) = ix.message_id.and_then(|m| state.messages.get(&m)) {
        v["message"] = message(state, m);
    }
    v
}
