//! Creating, editing and deleting messages, shared by the REST routes, the
//! interaction responses and the users the sim plays. Every change is echoed
//! to the gateway (MESSAGE_CREATE / UPDATE / DELETE) unless it is ephemeral.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::State;
use super::model::{Attachment, ChannelKind, Message, MessageInteraction, flags};
use super::validate;
use crate::config::intents;
use crate::error::ApiError;
use crate::gateway::session::{Content, Dispatch};
use crate::ids::now_timestamp;
use crate::json;

/// A file part of a multipart body (`files[n]`).
#[derive(Clone, Debug)]
pub(crate) struct Upload {
    /// The `n` of `files[n]`, which `attachments[].id` refers to.
    pub index: Option<u64>,
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// Who creates a message and in which role; the body comes separately.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub channel_id: u64,
    pub author_id: u64,
    pub kind: u8,
    pub ephemeral_for: Option<u64>,
    pub interaction: Option<MessageInteraction>,
    pub webhook_id: Option<u64>,
    pub extra_flags: u64,
}

impl Origin {
    pub fn plain(channel_id: u64, author_id: u64) -> Self {
        Self {
            channel_id,
            author_id,
            kind: 0,
            ephemeral_for: None,
            interaction: None,
            webhook_id: None,
            extra_flags: 0,
        }
    }
}

/// Either an existing message returned by nonce deduplication, or a new one.
pub(crate) enum Created {
    New(u64),
    Existing(u64),
}

impl Created {
    pub fn id(&self) -> u64 {
        match self {
            Self::New(id) | Self::Existing(id) => *id,
        }
    }
}

fn mentions_in(content: &str) -> Vec<u64> {
    let mut out = vec![];
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let digits = rest.strip_prefix('!').unwrap_or(rest);
        let end = digits.find('>').unwrap_or(0);
        if let Ok(id) = digits[..end].parse::<u64>()
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

/// New attachments from `body.attachments` metadata and uploaded files; an
/// entry whose id matches no upload keeps an attachment of `existing`.
fn attachments(
    ids: &mut crate::ids::IdGen,
    body: &Value,
    files: &[Upload],
    existing: &[Attachment],
) -> Result<Option<Vec<Attachment>>, ApiError> {
    let meta = body.get("attachments").and_then(Value::as_array);
    if meta.is_none() && files.is_empty() {
        return Ok(None);
    }
    let mut out = vec![];
    let mut used = vec![false; files.len()];
    for (i, entry) in meta.into_iter().flatten().enumerate() {
        let id = entry["id"].as_u64().or_else(|| entry["id"].as_str().and_then(|s| s.parse().ok()));
        let upload = id.and_then(|id| files.iter().position(|f| f.index == Some(id)));
        if let Some(pos) = upload {
            used[pos] = true;
            let f = &files[pos];
            out.push(Attachment {
                id: ids.next(),
                filename: entry["filename"].as_str().unwrap_or(&f.filename).to_owned(),
                content_type: f.content_type.clone(),
                description: entry["description"].as_str().map(String::from),
                data: f.data.clone(),
            });
        } else if let Some(kept) = existing.iter().find(|a| Some(a.id) == id) {
            out.push(kept.clone());
        } else {
            return Err(ApiError::invalid_field(
                &["attachments", &i.to_string(), "id"],
                "ATTACHMENT_NOT_FOUND",
                "Attachment data not found",
            ));
        }
    }
    for (f, _) in files.iter().zip(used).filter(|(_, used)| !used) {
        out.push(Attachment {
            id: ids.next(),
            filename: f.filename.clone(),
            content_type: f.content_type.clone(),
            description: None,
            data: f.data.clone(),
        });
    }
    Ok(Some(out))
}

fn array(body: &Value, key: &str) -> Option<Vec<Value>> {
    match body.get(key) {
        Some(Value::Array(items)) => Some(items.clone()),
        Some(Value::Null) => Some(vec![]),
        _ => None,
    }
}

/// Discord fills in `type: "rich"` and `inline: false` on the embeds it echoes.
fn normalize_embeds(embeds: Vec<Value>) -> Vec<Value> {
    embeds
        .into_iter()
        .map(|mut e| {
            if e.get("type").is_none() {
                e["type"] = Value::from("rich");
            }
            if let Some(fields) = e.get_mut("fields").and_then(Value::as_array_mut) {
                for f in fields {
                    if f.get("inline").is_none_or(Value::is_null) {
                        f["inline"] = Value::from(false);
                    }
                }
            }
            e
        })
        .collect()
}

impl State {
    /// Validates and stores a message, honouring `nonce` + `enforce_nonce`.
    pub(crate) fn create_message(
        &mut self,
        origin: Origin,
        body: &Value,
        files: &[Upload],
    ) -> Result<Created, ApiError> {
        validate::message_body(body)?;
        let nonce = body.get("nonce").filter(|n| !n.is_null()).cloned();
        if let Some(nonce) = &nonce
            && body["enforce_nonce"].as_bool() == Some(true)
        {
            let window = Duration::from_millis(self.cfg.nonce_window_ms);
            let duplicate = self.messages.values().find(|m| {
                m.author_id == origin.author_id && m.nonce.as_ref() == Some(nonce) && m.created.elapsed() < window
            });
            if let Some(m) = duplicate {
                return Ok(Created::Existing(m.id));
            }
        }
        let content = body["content"].as_str().unwrap_or_default().to_owned();
        let embeds = normalize_embeds(array(body, "embeds").unwrap_or_default());
        let components = array(body, "components").unwrap_or_default();
        let attachments = attachments(&mut self.ids, body, files, &[])?.unwrap_or_default();
        let has_sticker = body["sticker_ids"].as_array().is_some_and(|s| !s.is_empty());
        let placeholder = origin.extra_flags & flags::LOADING != 0;
        if content.is_empty()
            && embeds.is_empty()
            && attachments.is_empty()
            && components.is_empty()
            && !has_sticker
            && !placeholder
        {
            return Err(ApiError::empty_message());
        }
        let channel = self.channel(origin.channel_id)?;
        let guild_id = channel.guild_id;
        let mut flags = body["flags"].as_u64().unwrap_or(0) & (flags::SUPPRESS_EMBEDS | flags::SUPPRESS_NOTIFICATIONS);
        flags |= origin.extra_flags;
        if origin.ephemeral_for.is_some() {
            flags |= flags::EPHEMERAL;
        }
        let reply = body["message_reference"]["message_id"].as_str().is_some()
            || body["message_reference"]["message_id"].is_u64();
        let id = self.ids.next();
        let message = Message {
            id,
            channel_id: origin.channel_id,
            guild_id,
            author_id: origin.author_id,
            mentions: mentions_in(&content).into_iter().filter(|u| self.users.contains_key(u)).collect(),
            content,
            embeds,
            components,
            attachments,
            nonce,
            flags,
            kind: if reply && origin.kind == 0 { 19 } else { origin.kind },
            ephemeral_for: origin.ephemeral_for,
            interaction: origin.interaction,
            webhook_id: origin.webhook_id,
            edited_timestamp: None,
            mention_everyone: false,
            thread_id: None,
            created: Instant::now(),
        };
        self.messages.insert(id, message);
        if let Some(c) = self.channels.get_mut(&origin.channel_id) {
            c.last_message_id = Some(id);
            c.message_count += 1;
        }
        self.dispatch_message("MESSAGE_CREATE", id);
        Ok(Created::New(id))
    }

    /// Applies the fields present in `body` to a message (content, embeds,
    /// components, attachments, suppress-embeds flag) and clears "thinking".
    pub(crate) fn edit_message(&mut self, id: u64, body: &Value, files: &[Upload]) -> Result<(), ApiError> {
        validate::message_body(body)?;
        let existing = self.messages.get(&id).ok_or_else(ApiError::unknown_message)?.attachments.clone();
        let attachments = attachments(&mut self.ids, body, files, &existing)?;
        let m = self.messages.get_mut(&id).ok_or_else(ApiError::unknown_message)?;
        if let Some(content) = body.get("content") {
            m.content = content.as_str().unwrap_or_default().to_owned();
            m.mentions = mentions_in(&m.content);
        }
        if let Some(embeds) = array(body, "embeds") {
            m.embeds = normalize_embeds(embeds);
        }
        if let Some(components) = array(body, "components") {
            m.components = components;
        }
        if let Some(attachments) = attachments {
            m.attachments = attachments;
        }
        if let Some(f) = body["flags"].as_u64() {
            m.flags = (m.flags & !flags::SUPPRESS_EMBEDS) | (f & flags::SUPPRESS_EMBEDS);
        }
        m.flags &= !flags::LOADING;
        m.edited_timestamp = Some(now_timestamp());
        if m.content.is_empty() && m.embeds.is_empty() && m.attachments.is_empty() && m.components.is_empty() {
            return Err(ApiError::empty_message());
        }
        self.dispatch_message("MESSAGE_UPDATE", id);
        Ok(())
    }

    pub(crate) fn delete_message(&mut self, id: u64) -> Result<(), ApiError> {
        let m = self.messages.remove(&id).ok_or_else(ApiError::unknown_message)?;
        if m.ephemeral_for.is_some() {
            return Ok(());
        }
        let (intent, guild) = self.message_scope(m.channel_id);
        let d = serde_json::json!({
            "id": json::sf(m.id),
            "channel_id": json::sf(m.channel_id),
            "guild_id": json::sf_opt(m.guild_id),
        });
        let dispatch = Dispatch::new("MESSAGE_DELETE", d).intent(intent).guild(guild);
        self.gateway.broadcast(&dispatch);
        Ok(())
    }

    /// The intent a message event in this channel needs, and its guild.
    fn message_scope(&self, channel_id: u64) -> (u64, Option<u64>) {
        match self.channels.get(&channel_id) {
            Some(c) if c.kind == ChannelKind::Dm => (intents::DIRECT_MESSAGES, None),
            Some(c) => (intents::GUILD_MESSAGES, c.guild_id),
            None => (intents::GUILD_MESSAGES, None),
        }
    }

    fn dispatch_message(&mut self, t: &'static str, id: u64) {
        let Some(m) = self.messages.get(&id) else {
            return;
        };
        // Ephemeral responses exist only for the invoking user's client.
        if m.ephemeral_for.is_some() {
            return;
        }
        let (intent, guild) = self.message_scope(m.channel_id);
        let bot = self.bot_id();
        let exempt = guild.is_none() || m.author_id == bot || m.mentions.contains(&bot);
        let d = json::model::message(self, m);
        let dispatch = Dispatch::new(t, d).intent(intent).guild(guild).content(if exempt {
            Content::Visible
        } else {
            Content::Privileged
        });
        self.gateway.broadcast(&dispatch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_user_mentions() {
        assert_eq!(mentions_in("hi <@12> and <@!34>, <#5> <@12>"), vec![12, 34]);
        assert!(mentions_in("<@ nope").is_empty());
    }
}
