//! The world as Discord stores it: users, guilds, roles, members, channels,
//! messages, application commands.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::Value;

use crate::perms::Overwrite;

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub username: String,
    pub global_name: Option<String>,
    pub bot: bool,
    /// The user has DMs from this bot closed (or blocked it): sends fail with 50007.
    pub dms_closed: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub id: u64,
    pub name: String,
    pub permissions: u64,
    pub position: u32,
    pub color: u32,
    /// The bot's own integration role is managed and tagged with the bot id.
    pub bot_id: Option<u64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub joined_at: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Guild {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    /// Includes @everyone, whose id is the guild id.
    pub roles: Vec<Role>,
    pub members: BTreeMap<u64, Member>,
    pub system_channel_id: Option<u64>,
}

impl Guild {
    pub fn role(&self, id: u64) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn everyone_permissions(&self) -> u64 {
        self.role(self.id).map_or(0, |r| r.permissions)
    }
}

/// Discord channel types the sim models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Text,
    Dm,
    Category,
    PublicThread,
    PrivateThread,
}

impl ChannelKind {
    pub fn code(self) -> u8 {
        match self {
            Self::Text => 0,
            Self::Dm => 1,
            Self::Category => 4,
            Self::PublicThread => 11,
            Self::PrivateThread => 12,
        }
    }

    pub fn from_code(code: u64) -> Option<Self> {
        Some(match code {
            0 => Self::Text,
            1 => Self::Dm,
            4 => Self::Category,
            11 => Self::PublicThread,
            12 => Self::PrivateThread,
            _ => return None,
        })
    }

    pub fn is_thread(self) -> bool {
        matches!(self, Self::PublicThread | Self::PrivateThread)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Channel {
    pub id: u64,
    pub kind: ChannelKind,
    pub guild_id: Option<u64>,
    pub name: String,
    pub topic: Option<String>,
    /// Category of a channel, or the channel a thread lives in.
    pub parent_id: Option<u64>,
    pub position: u32,
    pub overwrites: Vec<Overwrite>,
    /// The human on the other side of a DM with the bot.
    pub recipient_id: Option<u64>,
    /// Who started a thread.
    pub owner_id: Option<u64>,
    pub thread_members: BTreeSet<u64>,
    pub last_message_id: Option<u64>,
    pub message_count: u32,
}

/// A file attached to a message, bytes included so tests can read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: u64,
    pub filename: String,
    pub content_type: Option<String>,
    pub description: Option<String>,
    pub data: Vec<u8>,
}

/// The slash command (or component) a message answers, for `message.interaction`.
#[derive(Clone, Debug)]
pub(crate) struct MessageInteraction {
    pub id: u64,
    pub kind: u8,
    pub name: String,
    pub user_id: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub author_id: u64,
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    pub attachments: Vec<Attachment>,
    pub nonce: Option<Value>,
    pub flags: u64,
    /// Discord message type: 0 default, 20 chat input command response.
    pub kind: u8,
    /// An ephemeral interaction response is visible to this user only.
    pub ephemeral_for: Option<u64>,
    pub interaction: Option<MessageInteraction>,
    pub webhook_id: Option<u64>,
    pub edited_timestamp: Option<String>,
    pub mentions: Vec<u64>,
    pub mention_everyone: bool,
    /// The thread started from this message (same id, as on Discord).
    pub thread_id: Option<u64>,
    pub created: Instant,
}

/// Message flags used by the sim.
pub(crate) mod flags {
    pub const EPHEMERAL: u64 = 1 << 6;
    /// "Bot is thinking…" placeholder after a deferred response.
    pub const LOADING: u64 = 1 << 7;
    pub const SUPPRESS_EMBEDS: u64 = 1 << 2;
    pub const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;
}

/// A registered application command, as stored after a bulk overwrite.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    pub id: u64,
    pub guild_id: Option<u64>,
    pub name: String,
    pub kind: u8,
    /// The full command object as Discord returns it.
    pub body: Value,
}
