//! What a person sees: messages, interaction responses, modals, channels.
//! These are the types tests assert on.

use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use crate::perms::Overwrite;
use crate::state::State;
use crate::state::interaction::{Interaction, InteractionKind};
use crate::state::model::{Attachment, Channel, ChannelKind, Message, flags};

/// A file on a message; `data` holds the uploaded bytes (base64 in JSON).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AttachmentView {
    pub id: u64,
    pub filename: String,
    pub content_type: Option<String>,
    pub description: Option<String>,
    #[serde(serialize_with = "base64_bytes")]
    pub data: Vec<u8>,
}

fn millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64() * 1000.0),
        None => s.serialize_none(),
    }
}

fn base64_bytes<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            description: a.description.clone(),
            data: a.data.clone(),
        }
    }
}

/// A button or select menu as a user sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ComponentView {
    /// 2 button, 3 string select, …
    pub kind: u64,
    pub custom_id: Option<String>,
    pub label: Option<String>,
    pub style: Option<u64>,
    pub url: Option<String>,
    pub disabled: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    pub id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub author_id: u64,
    pub author: String,
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    pub attachments: Vec<AttachmentView>,
    /// Only the invoking user sees it.
    pub ephemeral: bool,
    /// A deferred response still "thinking".
    pub loading: bool,
    pub flags: u64,
    pub nonce: Option<Value>,
    pub edited: bool,
    /// The thread started from this message.
    pub thread_id: Option<u64>,
    /// The interaction this message answers.
    pub interaction_id: Option<u64>,
    /// Discord message type (0 default, 19 reply, 20 slash command response).
    pub kind: u8,
}

impl MessageView {
    pub(crate) fn of(state: &State, m: &Message) -> Self {
        Self {
            id: m.id,
            channel_id: m.channel_id,
            guild_id: m.guild_id,
            author_id: m.author_id,
            author: state.users.get(&m.author_id).map(|u| u.username.clone()).unwrap_or_default(),
            content: m.content.clone(),
            embeds: m.embeds.clone(),
            components: m.components.clone(),
            attachments: m.attachments.iter().map(AttachmentView::from).collect(),
            ephemeral: m.ephemeral_for.is_some(),
            loading: m.flags & flags::LOADING != 0,
            flags: m.flags,
            nonce: m.nonce.clone(),
            edited: m.edited_timestamp.is_some(),
            thread_id: m.thread_id,
            interaction_id: m.interaction.as_ref().map(|i| i.id),
            kind: m.kind,
        }
    }

    /// Content plus every embed's author, title, description, fields and
    /// footer, one per line: what a reader takes in.
    pub fn text(&self) -> String {
        let mut out = vec![self.content.clone()];
        for e in &self.embeds {
            for v in [&e["author"]["name"], &e["title"], &e["description"]] {
                out.extend(v.as_str().map(String::from));
            }
            for f in e["fields"].as_array().into_iter().flatten() {
                out.extend(f["name"].as_str().map(String::from));
                out.extend(f["value"].as_str().map(String::from));
            }
            out.extend(e["footer"]["text"].as_str().map(String::from));
        }
        out.retain(|s| !s.is_empty());
        out.join("\n")
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }

    /// Buttons and selects, row by row.
    pub fn components(&self) -> Vec<ComponentView> {
        self.components
            .iter()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .map(|c| ComponentView {
                kind: c["type"].as_u64().unwrap_or(0),
                custom_id: c["custom_id"].as_str().map(String::from),
                label: c["label"].as_str().map(String::from),
                style: c["style"].as_u64(),
                url: c["url"].as_str().map(String::from),
                disabled: c["disabled"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// The component with this custom_id.
    pub fn component(&self, custom_id: &str) -> Option<ComponentView> {
        self.components().into_iter().find(|c| c.custom_id.as_deref() == Some(custom_id))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TextInputView {
    pub custom_id: String,
    pub label: String,
    /// 1 short, 2 paragraph.
    pub style: u64,
    pub required: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub value: Option<String>,
    pub placeholder: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModalView {
    pub custom_id: String,
    pub title: String,
    pub inputs: Vec<TextInputView>,
}

/// An interaction as its user experiences it.
#[derive(Clone, Debug, Serialize)]
pub struct InteractionView {
    pub id: u64,
    pub kind: InteractionKind,
    pub user_id: u64,
    pub channel_id: u64,
    /// Command path or component custom_id.
    pub name: String,
    /// Type of the bot's initial callback, once it answered.
    pub callback: Option<u8>,
    /// From the dispatch of INTERACTION_CREATE to the sim accepting the bot's
    /// initial callback (what Discord's 3-second rule measures); `None` until
    /// one is accepted (a late one, rejected with 10062, leaves it `None`).
    /// In JSON: `first_ack_latency_ms`, a float.
    #[serde(rename = "first_ack_latency_ms", serialize_with = "millis")]
    pub first_ack_latency: Option<Duration>,
    pub original: Option<MessageView>,
    pub followups: Vec<MessageView>,
    pub modal: Option<ModalView>,
    /// Autocomplete choices (`{name, value}`), once the bot answered.
    pub choices: Option<Vec<Value>>,
}

impl InteractionView {
    pub(crate) fn of(state: &State, ix: &Interaction) -> Self {
        let view = |id: &u64| state.messages.get(id).map(|m| MessageView::of(state, m));
        let modal = ix.modal.as_ref().map(|m| ModalView {
            custom_id: m.custom_id.clone(),
            title: m.title.clone(),
            inputs: m
                .components
                .iter()
                .map(|row| {
                    let i = &row["components"][0];
                    TextInputView {
                        custom_id: i["custom_id"].as_str().unwrap_or_default().into(),
                        label: i["label"].as_str().unwrap_or_default().into(),
                        style: i["style"].as_u64().unwrap_or(1),
                        required: i["required"].as_bool().unwrap_or(true),
                        min_length: i["min_length"].as_u64(),
                        max_length: i["max_length"].as_u64(),
                        value: i["value"].as_str().map(String::from),
                        placeholder: i["placeholder"].as_str().map(String::from),
                    }
                })
                .collect(),
        });
        Self {
            id: ix.id,
            kind: ix.kind,
            user_id: ix.user_id,
            channel_id: ix.channel_id,
            name: ix.name.clone(),
            callback: ix.ack.map(|(t, _)| t),
            first_ack_latency: ix.ack.map(|(_, at)| at.saturating_duration_since(ix.created)),
            original: ix.original_id.as_ref().and_then(view),
            followups: ix.followups.iter().filter_map(view).collect(),
            modal,
            choices: ix.choices.clone(),
        }
    }

    /// The original response and the followups, in order.
    pub fn messages(&self) -> Vec<MessageView> {
        self.original.iter().chain(&self.followups).cloned().collect()
    }

    pub fn is_command(&self) -> bool {
        self.kind == InteractionKind::Command
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ChannelView {
    pub id: u64,
    pub kind: ChannelKind,
    pub name: String,
    pub guild_id: Option<u64>,
    pub parent_id: Option<u64>,
    pub topic: Option<String>,
    pub overwrites: Vec<Overwrite>,
    /// The human in a DM with the bot.
    pub recipient_id: Option<u64>,
    pub thread_members: Vec<u64>,
}

impl From<&Channel> for ChannelView {
    fn from(c: &Channel) -> Self {
        Self {
            id: c.id,
            kind: c.kind,
            name: c.name.clone(),
            guild_id: c.guild_id,
            parent_id: c.parent_id,
            topic: c.topic.clone(),
            overwrites: c.overwrites.clone(),
            recipient_id: c.recipient_id,
            thread_members: c.thread_members.iter().copied().collect(),
        }
    }
}
