//! Guild-side changes: channels, permission overwrites, threads, members
//! leaving. Each checks the acting bot's permissions like Discord and
//! dispatches the matching gateway event.

use serde_json::{Value, json};

use super::State;
use super::model::{Channel, ChannelKind};
use crate::config::intents;
use crate::error::{ApiError, FormErrors};
use crate::gateway::session::Dispatch;
use crate::json::{self, sf};
use crate::perms::{Overwrite, OverwriteKind, bits};

fn id_of(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn perm_bits(v: &Value) -> u64 {
    id_of(v).unwrap_or(0)
}

fn overwrite_kind(v: &Value) -> Option<OverwriteKind> {
    match v {
        Value::String(s) if s == "role" => Some(OverwriteKind::Role),
        Value::String(s) if s == "member" => Some(OverwriteKind::Member),
        other => id_of(other).and_then(OverwriteKind::from_code),
    }
}

fn parse_overwrite(id: u64, v: &Value) -> Result<Overwrite, ApiError> {
    let kind = overwrite_kind(&v["type"])
        .ok_or_else(|| ApiError::invalid_field(&["type"], "BASE_TYPE_CHOICES", "Value must be one of {0, 1}."))?;
    Ok(Overwrite { id, kind, allow: perm_bits(&v["allow"]), deny: perm_bits(&v["deny"]) })
}

fn check_name(errors: &mut FormErrors, name: Option<&str>) {
    let n = name.map_or(0, |s| s.chars().count());
    if n == 0 || n > 100 {
        errors.add(&["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    }
}

impl State {
    /// Overwrites may only allow or deny what the bot itself has in the guild;
    /// MANAGE_ROLES in overwrites needs ADMINISTRATOR.
    fn check_overwrites(&self, guild_id: u64, overwrites: &[Overwrite]) -> Result<(), ApiError> {
        let bot = self.guild_permissions(guild_id, self.bot_id()).unwrap_or(0);
        if bot & bits::ADMINISTRATOR != 0 {
            return Ok(());
        }
        for o in overwrites {
            let touched = o.allow | o.deny;
            if touched & !bot != 0 || touched & bits::MANAGE_ROLES != 0 {
                return Err(ApiError::missing_permissions());
            }
        }
        Ok(())
    }

    fn channel_event(&mut self, t: &'static str, channel_id: u64) {
        let Some(c) = self.channels.get(&channel_id) else {
            return;
        };
        let d = json::model::channel(self, c);
        let dispatch = Dispatch::new(t, d).intent(intents::GUILDS).guild(c.guild_id);
        self.gateway.broadcast(&dispatch);
    }

    /// `POST /guilds/{gid}/channels`.
    pub(crate) fn create_guild_channel(&mut self, guild_id: u64, body: &Value) -> Result<u64, ApiError> {
        self.guild(guild_id)?;
        let perms = self.guild_permissions(guild_id, self.bot_id()).unwrap_or(0);
        if perms & bits::MANAGE_CHANNELS == 0 {
            return Err(ApiError::missing_permissions());
        }
        let mut errors = FormErrors::default();
        check_name(&mut errors, body["name"].as_str());
        let kind = match body["type"].as_u64().unwrap_or(0) {
            0 => ChannelKind::Text,
            4 => ChannelKind::Category,
            _ => {
                errors.add(&["type"], "BASE_TYPE_CHOICES", "The sim models text channels (0) and categories (4).");
                ChannelKind::Text
            }
        };
        errors.into_result()?;
        let mut overwrites = vec![];
        for o in body["permission_overwrites"].as_array().into_iter().flatten() {
            let id = id_of(&o["id"]).ok_or_else(|| {
                ApiError::invalid_field(
                    &["permission_overwrites", "id"],
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                )
            })?;
            overwrites.push(parse_overwrite(id, o)?);
        }
        self.check_overwrites(guild_id, &overwrites)?;
        let parent_id = id_of(&body["parent_id"]).filter(|p| {
            self.channels.get(p).is_some_and(|c| c.kind == ChannelKind::Category && c.guild_id == Some(guild_id))
        });
        let id = self.ids.next();
        let position = self.channels.values().filter(|c| c.guild_id == Some(guild_id)).count() as u32;
        self.channels.insert(
            id,
            Channel {
                id,
                kind,
                guild_id: Some(guild_id),
                name: body["name"].as_str().unwrap_or_default().to_owned(),
                topic: body["topic"].as_str().map(String::from),
                parent_id,
                position,
                overwrites,
                recipient_id: None,
                owner_id: None,
                thread_members: Default::default(),
                last_message_id: None,
                message_count: 0,
            },
        );
        self.channel_event("CHANNEL_CREATE", id);
        Ok(id)
    }

    /// `PATCH /channels/{cid}`: name, topic, overwrites.
    pub(crate) fn edit_channel(&mut self, channel_id: u64, body: &Value) -> Result<(), ApiError> {
        let channel = self.channel(channel_id)?;
        let (guild_id, is_thread) = (channel.guild_id, channel.kind.is_thread());
        let guild_id = guild_id.ok_or_else(ApiError::missing_permissions)?;
        let needed = if is_thread { bits::MANAGE_THREADS } else { bits::MANAGE_CHANNELS };
        self.require_bot(channel_id, needed)?;
        let mut errors = FormErrors::default();
        if body.get("name").is_some() {
            check_name(&mut errors, body["name"].as_str());
        }
        errors.into_result()?;
        let overwrites = match body["permission_overwrites"].as_array() {
            Some(list) => {
                let mut parsed = vec![];
                for o in list {
                    let id = id_of(&o["id"]).ok_or_else(ApiError::unknown_overwrite)?;
                    parsed.push(parse_overwrite(id, o)?);
                }
                self.check_overwrites(guild_id, &parsed)?;
                Some(parsed)
            }
            None => None,
        };
        let c = self.channels.get_mut(&channel_id).expect("checked above");
        if let Some(name) = body["name"].as_str() {
            c.name = name.to_owned();
        }
        if let Some(topic) = body.get("topic") {
            c.topic = topic.as_str().map(String::from);
        }
        if let Some(overwrites) = overwrites {
            c.overwrites = overwrites;
        }
        self.channel_event(if is_thread { "THREAD_UPDATE" } else { "CHANNEL_UPDATE" }, channel_id);
        Ok(())
    }

    /// `PUT /channels/{cid}/permissions/{oid}` (MANAGE_ROLES).
    pub(crate) fn put_overwrite(&mut self, channel_id: u64, target: u64, body: &Value) -> Result<(), ApiError> {
        let guild_id = self.channel(channel_id)?.guild_id.ok_or_else(ApiError::missing_permissions)?;
        self.require_bot(channel_id, bits::MANAGE_ROLES)?;
        let overwrite = parse_overwrite(target, body)?;
        self.check_overwrites(guild_id, std::slice::from_ref(&overwrite))?;
        let c = self.channels.get_mut(&channel_id).expect("checked above");
        c.overwrites.retain(|o| o.id != target);
        c.overwrites.push(overwrite);
        self.channel_event("CHANNEL_UPDATE", channel_id);
        Ok(())
    }

    /// A server admin sets a permission overwrite (no bot permission needed).
    pub(crate) fn admin_set_overwrite(
        &mut self,
        channel_id: u64,
        overwrite: crate::perms::Overwrite,
    ) -> Result<(), ApiError> {
        let c = self.channels.get_mut(&channel_id).ok_or_else(ApiError::unknown_channel)?;
        c.overwrites.retain(|o| o.id != overwrite.id);
        c.overwrites.push(overwrite);
        self.channel_event("CHANNEL_UPDATE", channel_id);
        Ok(())
    }

    /// `DELETE /channels/{cid}/permissions/{oid}`.
    pub(crate) fn delete_overwrite(&mut self, channel_id: u64, target: u64) -> Result<(), ApiError> {
        self.require_bot(channel_id, bits::MANAGE_ROLES)?;
        let c = self.channels.get_mut(&channel_id).expect("checked above");
        c.overwrites.retain(|o| o.id != target);
        self.channel_event("CHANNEL_UPDATE", channel_id);
        Ok(())
    }

    /// Deletes a channel (by the bot through REST when `as_bot`, or by a
    /// server admin through the control API) and its threads and messages.
    pub(crate) fn delete_channel(&mut self, channel_id: u64, as_bot: bool) -> Result<Value, ApiError> {
        let channel = self.channel(channel_id)?.clone();
        if as_bot && channel.kind != ChannelKind::Dm {
            let needed = if channel.kind.is_thread() { bits::MANAGE_THREADS } else { bits::MANAGE_CHANNELS };
            self.require_bot(channel_id, needed)?;
        }
        let body = json::model::channel(self, &channel);
        if channel.kind == ChannelKind::Dm {
            // Closing a DM hides it; it is not a guild event.
            return Ok(body);
        }
        let t = if channel.kind.is_thread() { "THREAD_DELETE" } else { "CHANNEL_DELETE" };
        let d = if channel.kind.is_thread() {
            json!({"id": sf(channel.id), "guild_id": json::sf_opt(channel.guild_id), "parent_id": json::sf_opt(channel.parent_id), "type": channel.kind.code()})
        } else {
            body.clone()
        };
        let gone: Vec<u64> = self
            .channels
            .values()
            .filter(|c| c.id == channel_id || (c.kind.is_thread() && c.parent_id == Some(channel_id)))
            .map(|c| c.id)
            .collect();
        self.channels.retain(|id, _| !gone.contains(id));
        self.messages.retain(|_, m| !gone.contains(&m.channel_id));
        let dispatch = Dispatch::new(t, d).intent(intents::GUILDS).guild(channel.guild_id);
        self.gateway.broadcast(&dispatch);
        Ok(body)
    }

    fn new_thread(&mut self, id: u64, parent: &Channel, kind: ChannelKind, name: &str) -> u64 {
        let bot = self.bot_id();
        self.channels.insert(
            id,
            Channel {
                id,
                kind,
                guild_id: parent.guild_id,
                name: name.to_owned(),
                topic: None,
                parent_id: Some(parent.id),
                position: 0,
                overwrites: vec![],
                recipient_id: None,
                owner_id: Some(bot),
                thread_members: [bot].into(),
                last_message_id: None,
                message_count: 0,
            },
        );
        let Some(c) = self.channels.get(&id) else {
            return id;
        };
        let mut d = json::model::channel(self, c);
        d["newly_created"] = json!(true);
        let dispatch = Dispatch::new("THREAD_CREATE", d).intent(intents::GUILDS).guild(c.guild_id);
        self.gateway.broadcast(&dispatch);
        id
    }

    fn thread_parent(&self, channel_id: u64, needed: u64, body: &Value) -> Result<Channel, ApiError> {
        let parent = self.channel(channel_id)?.clone();
        if parent.kind != ChannelKind::Text {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                50024,
                "Cannot execute action on this channel type",
            ));
        }
        self.require_bot(channel_id, needed)?;
        let mut errors = FormErrors::default();
        check_name(&mut errors, body["name"].as_str());
        errors.into_result()?;
        Ok(parent)
    }

    /// `POST /channels/{cid}/messages/{mid}/threads`: the thread takes the message's id.
    pub(crate) fn thread_from_message(
        &mut self,
        channel_id: u64,
        message_id: u64,
        body: &Value,
    ) -> Result<u64, ApiError> {
        let parent = self.thread_parent(channel_id, bits::CREATE_PUBLIC_THREADS, body)?;
        let message = self.message(channel_id, message_id)?;
        if message.thread_id.is_some() || self.channels.contains_key(&message_id) {
            return Err(ApiError::thread_exists());
        }
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let id = self.new_thread(message_id, &parent, ChannelKind::PublicThread, &name);
        if let Some(m) = self.messages.get_mut(&message_id) {
            m.thread_id = Some(id);
        }
        Ok(id)
    }

    /// `POST /channels/{cid}/threads`: type 11 (public) or 12 (private, the default).
    pub(crate) fn thread_without_message(&mut self, channel_id: u64, body: &Value) -> Result<u64, ApiError> {
        let private = body["type"].as_u64().unwrap_or(12) == 12;
        let (kind, needed) = if private {
            (ChannelKind::PrivateThread, bits::CREATE_PRIVATE_THREADS)
        } else {
            (ChannelKind::PublicThread, bits::CREATE_PUBLIC_THREADS)
        };
        let parent = self.thread_parent(channel_id, needed, body)?;
        let id = self.ids.next();
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        Ok(self.new_thread(id, &parent, kind, &name))
    }

    /// `PUT /channels/{tid}/thread-members/{uid}`.
    pub(crate) fn add_thread_member(&mut self, thread_id: u64, user: u64) -> Result<(), ApiError> {
        let thread = self.channel(thread_id)?;
        if !thread.kind.is_thread() {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                50024,
                "Cannot execute action on this channel type",
            ));
        }
        let guild_id = thread.guild_id.unwrap_or_default();
        self.require_bot(thread_id, bits::SEND_MESSAGES_IN_THREADS)?;
        if !self.guild(guild_id)?.members.contains_key(&user) {
            return Err(ApiError::unknown_member());
        }
        if let Some(t) = self.channels.get_mut(&thread_id) {
            t.thread_members.insert(user);
        }
        Ok(())
    }

    /// A member leaves (or is removed from) a guild.
    pub(crate) fn remove_member(&mut self, guild_id: u64, user: u64) -> Result<(), ApiError> {
        let guild = self.guilds.get_mut(&guild_id).ok_or_else(ApiError::unknown_guild)?;
        guild.members.remove(&user).ok_or_else(ApiError::unknown_member)?;
        for c in self.channels.values_mut().filter(|c| c.guild_id == Some(guild_id)) {
            c.thread_members.remove(&user);
        }
        let u = json::model::user(self.user(user)?);
        let d = json!({"guild_id": sf(guild_id), "user": u});
        let dispatch = Dispatch::new("GUILD_MEMBER_REMOVE", d).intent(intents::GUILD_MEMBERS).guild(Some(guild_id));
        self.gateway.broadcast(&dispatch);
        Ok(())
    }

    /// Whether the bot and `user` share a guild, which Discord requires for DMs.
    pub(crate) fn shares_guild_with_bot(&self, user: u64) -> bool {
        let bot = self.bot_id();
        self.guilds.values().any(|g| g.members.contains_key(&user) && g.members.contains_key(&bot))
    }
}
