//! JSON of Discord's resource objects: users, roles, members, channels,
//! messages, attachments, application commands.

use serde_json::{Value, json};

use super::{sf, sf_opt};
use crate::ids::snowflake_timestamp;
use crate::state::State;
use crate::state::model::{Attachment, Channel, ChannelKind, Guild, Member, Message, Role, User};

pub(crate) fn user(u: &User) -> Value {
    json!({
        "id": sf(u.id),
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": null,
        "bot": u.bot,
        "system": false,
        "public_flags": 0,
        "flags": 0,
    })
}

/// The bot as `GET /users/@me` and READY describe it.
pub(crate) fn current_user(u: &User) -> Value {
    let mut v = user(u);
    v["verified"] = json!(true);
    v["mfa_enabled"] = json!(false);
    v["locale"] = json!("en-US");
    v
}

pub(crate) fn role(r: &Role) -> Value {
    let mut v = json!({
        "id": sf(r.id),
        "name": r.name,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": r.position,
        "permissions": r.permissions.to_string(),
        "managed": r.bot_id.is_some(),
        "mentionable": false,
        "flags": 0,
    });
    if let Some(bot) = r.bot_id {
        v["tags"] = json!({"bot_id": sf(bot)});
    }
    v
}

/// A guild member; `with_user` is false for the partial member inside a message.
pub(crate) fn member(m: &Member, u: &User, with_user: bool) -> Value {
    let mut v = json!({
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": m.roles.iter().map(|r| sf(*r)).collect::<Vec<_>>(),
        "joined_at": m.joined_at,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    });
    if with_user {
        v["user"] = user(u);
    }
    v
}

/// A member of `guild` as a full object, or `None` if `user` is not one.
pub(crate) fn guild_member(state: &State, guild: &Guild, user_id: u64) -> Option<Value> {
    let m = guild.members.get(&user_id)?;
    let u = state.users.get(&user_id)?;
    Some(member(m, u, true))
}

pub(crate) fn channel(state: &State, c: &Channel) -> Value {
    if c.kind == ChannelKind::Dm {
        let recipients: Vec<Value> = c.recipient_id.and_then(|r| state.users.get(&r)).map(user).into_iter().collect();
        return json!({
            "id": sf(c.id),
            "type": 1,
            "last_message_id": sf_opt(c.last_message_id),
            "flags": 0,
            "recipients": recipients,
        });
    }
    let overwrites: Vec<Value> = c
        .overwrites
        .iter()
        .map(|o| {
            json!({"id": sf(o.id), "type": o.kind.code(), "allow": o.allow.to_string(), "deny": o.deny.to_string()})
        })
        .collect();
    let mut v = json!({
        "id": sf(c.id),
        "type": c.kind.code(),
        "guild_id": sf_opt(c.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": overwrites,
        "topic": c.topic,
        "nsfw": false,
        "last_message_id": sf_opt(c.last_message_id),
        "parent_id": sf_opt(c.parent_id),
        "rate_limit_per_user": 0,
        "flags": 0,
    });
    if c.kind.is_thread() {
        let created = snowflake_timestamp(c.id);
        v["owner_id"] = sf_opt(c.owner_id);
        v["message_count"] = json!(c.message_count);
        v["total_message_sent"] = json!(c.message_count);
        v["member_count"] = json!(c.thread_members.len().min(50));
        v["thread_metadata"] = json!({
            "archived": false,
            "auto_archive_duration": 1440,
            "archive_timestamp": created,
            "locked": false,
            "invitable": c.kind == ChannelKind::PrivateThread,
            "create_timestamp": created,
        });
        v.as_object_mut().map(|o| o.remove("permission_overwrites"));
    }
    v
}

pub(crate) fn attachment(channel_id: u64, a: &Attachment) -> Value {
    let path = format!("attachments/{channel_id}/{}/{}", a.id, a.filename);
    json!({
        "id": sf(a.id),
        "filename": a.filename,
        "description": a.description,
        "content_type": a.content_type,
        "size": a.data.len(),
        "url": format!("https://cdn.discordapp.com/{path}"),
        "proxy_url": format!("https://media.discordapp.net/{path}"),
    })
}

pub(crate) fn message(state: &State, m: &Message) -> Value {
    let author = state.users.get(&m.author_id);
    let mentions: Vec<Value> = m.mentions.iter().filter_map(|id| state.users.get(id)).map(user).collect();
    let mut v = json!({
        "id": sf(m.id),
        "channel_id": sf(m.channel_id),
        "author": author.map(user),
        "content": m.content,
        "timestamp": snowflake_timestamp(m.id),
        "edited_timestamp": m.edited_timestamp,
        "tts": false,
        "mention_everyone": m.mention_everyone,
        "mentions": mentions,
        "mention_roles": [],
        "attachments": m.attachments.iter().map(|a| attachment(m.channel_id, a)).collect::<Vec<_>>(),
        "embeds": m.embeds,
        "pinned": false,
        "type": m.kind,
        "flags": m.flags,
        "components": m.components,
    });
    if let Some(guild_id) = m.guild_id {
        v["guild_id"] = sf(guild_id);
        let member = state.guilds.get(&guild_id).and_then(|g| g.members.get(&m.author_id));
        if let (Some(member_obj), Some(author)) = (member, author) {
            v["member"] = self::member(member_obj, author, false);
        }
    }
    if let Some(nonce) = &m.nonce {
        v["nonce"] = nonce.clone();
    }
    if let Some(webhook) = m.webhook_id {
        v["webhook_id"] = sf(webhook);
        v["application_id"] = sf(state.app_id());
    }
    if let Some(i) = &m.interaction {
        let invoker = state.users.get(&i.user_id).map(user);
        v["interaction"] = json!({"id": sf(i.id), "type": i.kind, "name": i.name, "user": invoker});
    }
    if let Some(thread) = m.thread_id.and_then(|t| state.channels.get(&t)) {
        v["thread"] = channel(state, thread);
    }
    v
}
