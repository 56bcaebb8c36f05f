//! The sim's whole mutable state behind one lock: the world, interactions,
//! commands and gateway sessions. One lock keeps "store, then dispatch" atomic,
//! so the bot sees events in the order the world changed.

pub(crate) mod actions;
mod commands;
pub(crate) mod interaction;
#[cfg(test)]
mod interaction_tests;
pub(crate) mod messages;
pub(crate) mod model;
mod options;
mod seed;
mod validate;
pub(crate) mod world;
#[cfg(test)]
mod world_tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::SimConfig;
use crate::error::ApiError;
use crate::gateway::session::Gateway;
use crate::ids::IdGen;
use crate::perms::{self, Subject, bits};

use interaction::Interaction;
use model::{Channel, ChannelKind, Command, Guild, Message, User};

/// Ids of the seeded world, for tests.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WorldIds {
    pub application_id: u64,
    pub bot_user_id: u64,
    pub bot_role_id: u64,
    pub guild_id: u64,
    pub owner_id: u64,
    /// Every guild by name, the seeded one (`guild_id`) first, then `more_guilds`.
    pub guilds: Vec<(String, u64)>,
    /// Text channels by name, in creation order.
    pub channels: Vec<(String, u64)>,
    /// Every seeded human user by name (members and outsiders).
    pub users: Vec<(String, u64)>,
}

impl WorldIds {
    pub fn user(&self, name: &str) -> Option<u64> {
        self.users.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    pub fn channel(&self, name: &str) -> Option<u64> {
        self.channels.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    pub fn guild(&self, name: &str) -> Option<u64> {
        self.guilds.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }
}

pub(crate) struct State {
    pub cfg: Arc<SimConfig>,
    pub ids: IdGen,
    pub seeded: WorldIds,
    pub users: BTreeMap<u64, User>,
    pub guilds: BTreeMap<u64, Guild>,
    pub channels: BTreeMap<u64, Channel>,
    pub messages: BTreeMap<u64, Message>,
    pub interactions: BTreeMap<u64, Interaction>,
    pub commands: Vec<Command>,
    pub gateway: Gateway,
    /// Base URL of the gateway, for READY's `resume_gateway_url`.
    pub gateway_url: String,
}

impl State {
    pub fn new(cfg: Arc<SimConfig>, gateway_url: String) -> Self {
        seed::seed(cfg, gateway_url)
    }

    pub fn bot_id(&self) -> u64 {
        self.seeded.bot_user_id
    }

    pub fn app_id(&self) -> u64 {
        self.seeded.application_id
    }

    pub fn user(&self, id: u64) -> Result<&User, ApiError> {
        self.users.get(&id).ok_or_else(ApiError::unknown_user)
    }

    pub fn user_by_name(&self, name: &str) -> Option<&User> {
        self.users.values().find(|u| u.username == name)
    }

    pub fn channel(&self, id: u64) -> Result<&Channel, ApiError> {
        self.channels.get(&id).ok_or_else(ApiError::unknown_channel)
    }

    pub fn guild(&self, id: u64) -> Result<&Guild, ApiError> {
        self.guilds.get(&id).ok_or_else(ApiError::unknown_guild)
    }

    pub fn message(&self, channel_id: u64, id: u64) -> Result<&Message, ApiError> {
        self.messages.get(&id).filter(|m| m.channel_id == channel_id).ok_or_else(ApiError::unknown_message)
    }

    /// The DM channel between the bot and `user`, if one was opened.
    pub fn dm_channel_of(&self, user: u64) -> Option<u64> {
        self.channels.values().find(|c| c.kind == ChannelKind::Dm && c.recipient_id == Some(user)).map(|c| c.id)
    }

    /// Opens (or returns) the DM channel between the bot and `user`.
    pub fn open_dm(&mut self, user: u64) -> u64 {
        if let Some(id) = self.dm_channel_of(user) {
            return id;
        }
        let id = self.ids.next();
        self.channels.insert(
            id,
            Channel {
                id,
                kind: ChannelKind::Dm,
                guild_id: None,
                name: String::new(),
                topic: None,
                parent_id: None,
                position: 0,
                overwrites: vec![],
                recipient_id: Some(user),
                owner_id: None,
                thread_members: Default::default(),
                last_message_id: None,
                message_count: 0,
            },
        );
        id
    }

    /// `user`'s guild-level permissions, or `None` if not a member.
    pub fn guild_permissions(&self, guild_id: u64, user: u64) -> Option<u64> {
        let guild = self.guilds.get(&guild_id)?;
        let roles = self.member_roles(guild, user)?;
        Some(perms::base(&subject(guild, user, &roles)))
    }

    fn member_roles(&self, guild: &Guild, user: u64) -> Option<Vec<(u64, u64)>> {
        let member = guild.members.get(&user)?;
        Some(member.roles.iter().filter_map(|r| guild.role(*r).map(|role| (role.id, role.permissions))).collect())
    }

    /// `user`'s permissions in a channel, as Discord computes them. Threads
    /// use their parent's overwrites; a private thread also needs membership
    /// (or MANAGE_THREADS). DMs grant messaging to their two participants.
    pub fn permissions_in(&self, channel_id: u64, user: u64) -> u64 {
        let Some(channel) = self.channels.get(&channel_id) else {
            return 0;
        };
        if channel.kind == ChannelKind::Dm {
            let participant = channel.recipient_id == Some(user) || user == self.bot_id();
            return if participant {
                bits::VIEW_CHANNEL
                    | bits::SEND_MESSAGES
                    | bits::READ_MESSAGE_HISTORY
                    | bits::EMBED_LINKS
                    | bits::ATTACH_FILES
            } else {
                0
            };
        }
        let Some(guild) = channel.guild_id.and_then(|g| self.guilds.get(&g)) else {
            return 0;
        };
        let Some(roles) = self.member_roles(guild, user) else {
            return 0;
        };
        let overwrites_of = if channel.kind.is_thread() {
            channel.parent_id.and_then(|p| self.channels.get(&p))
        } else {
            Some(channel)
        };
        let overwrites = overwrites_of.map_or(&[][..], |c| &c.overwrites[..]);
        let perms = perms::in_channel(&subject(guild, user, &roles), overwrites);
        if channel.kind == ChannelKind::PrivateThread
            && !channel.thread_members.contains(&user)
            && perms & bits::MANAGE_THREADS == 0
        {
            return 0;
        }
        perms
    }

    /// The bot needs VIEW_CHANNEL (else 50001) and `needed` (else 50013).
    pub fn require_bot(&self, channel_id: u64, needed: u64) -> Result<u64, ApiError> {
        self.channel(channel_id)?;
        let perms = self.permissions_in(channel_id, self.bot_id());
        if perms & bits::VIEW_CHANNEL == 0 {
            return Err(ApiError::missing_access());
        }
        if perms & needed != needed {
            return Err(ApiError::missing_permissions());
        }
        Ok(perms)
    }

    /// What a user may see of the channel's existence.
    pub fn can_view(&self, channel_id: u64, user: u64) -> bool {
        self.permissions_in(channel_id, user) & bits::VIEW_CHANNEL != 0
    }
}

fn subject<'a>(guild: &Guild, user: u64, roles: &'a [(u64, u64)]) -> Subject<'a> {
    Subject {
        user_id: user,
        guild_id: guild.id,
        owner_id: guild.owner_id,
        everyone: guild.everyone_permissions(),
        roles,
    }
}
