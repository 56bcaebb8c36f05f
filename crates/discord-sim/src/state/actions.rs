//! What the users the sim plays can do: run slash commands, ask for
//! autocomplete, click components, submit modals, post messages, leave.
//! Each checks what the real Discord client would allow the user, except
//! `forge_click`, which models a tampering client for tests of a bot's own
//! server-side checks.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::State;
use super::interaction::{Interaction, InteractionKind};
use super::messages::Origin;
use super::model::ChannelKind;
use super::options::Invocation;
use crate::error::SimError;
use crate::gateway::session::Dispatch;
use crate::ids::random_token;
use crate::json::{self, sf};
use crate::perms::bits;

/// Where a component sits and what it is.
fn find_component(components: &[Value], custom_id: &str) -> Option<Value> {
    components
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["custom_id"] == custom_id)
}

impl State {
    fn api(e: crate::error::ApiError) -> SimError {
        SimError::NotFound(e.message)
    }

    /// The user must see the channel and may use commands/post in it.
    fn user_may_act(&self, user: u64, channel_id: u64, needed: u64) -> Result<(), SimError> {
        let channel = self.channel(channel_id).map_err(Self::api)?;
        let perms = self.permissions_in(channel_id, user);
        if perms & bits::VIEW_CHANNEL == 0 {
            return Err(SimError::Forbidden(format!("user {user} cannot see channel {}", channel.id)));
        }
        if channel.kind != ChannelKind::Dm && perms & needed != needed {
            return Err(SimError::Forbidden(format!(
                "user {user} lacks permission {needed:#x} in channel {channel_id}"
            )));
        }
        Ok(())
    }

    fn new_interaction(&mut self, mut ix: Interaction) -> u64 {
        let id = self.ids.next();
        ix.id = id;
        ix.token = random_token(&format!("aW50ZXJhY3Rpb246{id}:"), 48);
        let d = json::events::interaction(self, &ix);
        let guild = ix.guild_id;
        // The clocks (3-second ack, token lifetime, ack latency) start at the dispatch.
        ix.created = Instant::now();
        self.interactions.insert(id, ix);
        self.gateway.broadcast(&Dispatch::new("INTERACTION_CREATE", d).guild(guild));
        id
    }

    fn blank(&self, kind: InteractionKind, user: u64, channel_id: u64, data: Value, name: String) -> Interaction {
        Interaction {
            id: 0,
            token: String::new(),
            kind,
            user_id: user,
            channel_id,
            guild_id: self.channels.get(&channel_id).and_then(|c| c.guild_id),
            data,
            name,
            message_id: None,
            modal_of: None,
            created: Instant::now(),
            ack: None,
            original_id: None,
            deferred: false,
            followups: vec![],
            modal: None,
            choices: None,
        }
    }

    /// A slash command (`"couple start"`) or, with `focused`, an autocomplete request.
    pub(crate) fn invoke(
        &mut self,
        user: u64,
        channel_id: u64,
        command: &str,
        options: &Value,
        focused: Option<&str>,
    ) -> Result<u64, SimError> {
        self.user_may_act(user, channel_id, bits::USE_APPLICATION_COMMANDS)?;
        let words: Vec<&str> = command.split_whitespace().collect();
        let (name, path) = words.split_first().ok_or_else(|| SimError::Invalid("empty command".into()))?;
        let guild = self.channels.get(&channel_id).and_then(|c| c.guild_id);
        let cmd = self
            .runnable_command(name, guild)
            .ok_or_else(|| SimError::NotFound(format!("command /{name} is not available in channel {channel_id}")))?
            .clone();
        let empty = Map::new();
        let values = match options {
            Value::Object(map) => map,
            Value::Null => &empty,
            _ => return Err(SimError::Invalid("options must be a JSON object".into())),
        };
        let inv = Invocation { path, values, focused };
        let (opts, resolved) = self.build_options(&cmd.body, guild, &inv)?;
        let mut data = json!({"id": sf(cmd.id), "name": cmd.name, "type": 1, "options": opts});
        if let Some(g) = cmd.guild_id {
            data["guild_id"] = sf(g);
        }
        if resolved.as_object().is_some_and(|r| !r.is_empty()) {
            data["resolved"] = resolved;
        }
        let kind = if focused.is_some() { InteractionKind::Autocomplete } else { InteractionKind::Command };
        let ix = self.blank(kind, user, channel_id, data, words.join(" "));
        Ok(self.new_interaction(ix))
    }

    /// Clicks a button (or picks `values` in a select menu) on a message the user sees.
    pub(crate) fn click(
        &mut self,
        user: u64,
        message_id: u64,
        custom_id: &str,
        values: Option<Vec<String>>,
    ) -> Result<u64, SimError> {
        let channel_id = self.message_for(user, message_id)?;
        self.user_may_act(user, channel_id, 0)?;
        self.component_interaction(user, channel_id, message_id, custom_id, values)
    }

    /// What a tampering client (or a leaked message id) can make Discord send:
    /// the same click from a user who cannot see the message's channel. Only
    /// that check is skipped. The message must be in `channel_id` (the channel
    /// the interaction claims, where Discord routes it), the component must be
    /// on it and enabled, and a guild message needs the user to be a member.
    pub(crate) fn forge_click(
        &mut self,
        user: u64,
        channel_id: u64,
        message_id: u64,
        custom_id: &str,
        values: Option<Vec<String>>,
    ) -> Result<u64, SimError> {
        if self.message_for(user, message_id)? != channel_id {
            return Err(SimError::NotFound(format!("message {message_id} in channel {channel_id}")));
        }
        let guild = self.channel(channel_id).map_err(Self::api)?.guild_id;
        if let Some(g) = guild
            && !self.guilds.get(&g).is_some_and(|g| g.members.contains_key(&user))
        {
            return Err(SimError::Forbidden(format!("user {user} is not a member of guild {g}")));
        }
        self.component_interaction(user, channel_id, message_id, custom_id, values)
    }

    /// The channel of a message that exists for `user` (another user's
    /// ephemeral message does not).
    fn message_for(&self, user: u64, message_id: u64) -> Result<u64, SimError> {
        self.messages
            .get(&message_id)
            .filter(|m| m.ephemeral_for.is_none_or(|u| u == user))
            .map(|m| m.channel_id)
            .ok_or_else(|| SimError::NotFound(format!("message {message_id}")))
    }

    /// Dispatches the MESSAGE_COMPONENT interaction for a component of a message.
    fn component_interaction(
        &mut self,
        user: u64,
        channel_id: u64,
        message_id: u64,
        custom_id: &str,
        values: Option<Vec<String>>,
    ) -> Result<u64, SimError> {
        let component = find_component(&self.messages[&message_id].components, custom_id)
            .ok_or_else(|| SimError::NotFound(format!("component {custom_id:?} on message {message_id}")))?;
        if component["disabled"].as_bool() == Some(true) {
            return Err(SimError::Forbidden(format!("component {custom_id:?} is disabled")));
        }
        let component_type = component["type"].as_u64().unwrap_or(2);
        let mut data = json!({"custom_id": custom_id, "component_type": component_type});
        match (component_type, values) {
            (2, None) => {}
            (3..=8, Some(values)) => data["values"] = json!(values),
            _ => return Err(SimError::Invalid("buttons are clicked, select menus need values".into())),
        }
        let mut ix = self.blank(InteractionKind::Component, user, channel_id, data, custom_id.to_owned());
        ix.message_id = Some(message_id);
        Ok(self.new_interaction(ix))
    }

    /// The modal `of` showed, if it is open for `user`: `(shown at, delay elapsed?)`.
    pub(crate) fn open_modal(&self, user: u64, of: u64) -> Option<Instant> {
        let ix = self.interactions.get(&of).filter(|i| i.user_id == user)?;
        let submitted = self.interactions.values().any(|i| i.modal_of == Some(of));
        ix.modal.as_ref().filter(|_| !submitted).map(|m| m.at)
    }

    /// Submits the modal that interaction `of` opened, with text input values by custom_id.
    pub(crate) fn submit_modal(&mut self, user: u64, of: u64, values: &[(String, String)]) -> Result<u64, SimError> {
        if self.open_modal(user, of).is_none() {
            return Err(SimError::NotFound(format!("open modal of interaction {of}")));
        }
        let origin = self.interactions[&of].clone();
        let modal = origin.modal.clone().expect("checked by open_modal");
        let mut rows = vec![];
        for row in &modal.components {
            let input = &row["components"][0];
            let custom_id = input["custom_id"].as_str().unwrap_or_default();
            let given = values.iter().find(|(k, _)| k == custom_id).map(|(_, v)| v.clone());
            let value = given.or_else(|| input["value"].as_str().map(String::from)).unwrap_or_default();
            let len = value.chars().count() as u64;
            if input["required"].as_bool() != Some(false) && len == 0 {
                return Err(SimError::Invalid(format!("text input {custom_id:?} is required")));
            }
            let min = input["min_length"].as_u64().unwrap_or(0);
            let max = input["max_length"].as_u64().unwrap_or(4000);
            if len > 0 && (len < min || len > max) {
                return Err(SimError::Invalid(format!("text input {custom_id:?} takes {min}..={max} characters")));
            }
            rows.push(json!({"type": 1, "components": [{"type": 4, "custom_id": custom_id, "value": value}]}));
        }
        if let Some((unknown, _)) =
            values.iter().find(|(k, _)| !modal.components.iter().any(|r| r["components"][0]["custom_id"] == *k))
        {
            return Err(SimError::Invalid(format!("the modal has no text input {unknown:?}")));
        }
        let data = json!({"custom_id": modal.custom_id, "components": rows});
        let mut ix = self.blank(InteractionKind::ModalSubmit, user, origin.channel_id, data, modal.custom_id.clone());
        ix.modal_of = Some(of);
        ix.message_id = origin.message_id;
        Ok(self.new_interaction(ix))
    }

    /// A user posts a message in a guild channel, thread or (with `None`) their DM with the bot.
    pub(crate) fn user_post(&mut self, user: u64, channel_id: Option<u64>, content: &str) -> Result<u64, SimError> {
        let channel_id = match channel_id {
            Some(id) => {
                let thread = self.channel(id).map_err(Self::api)?.kind.is_thread();
                let needed = if thread { bits::SEND_MESSAGES_IN_THREADS } else { bits::SEND_MESSAGES };
                self.user_may_act(user, id, needed)?;
                id
            }
            None => {
                // Discord only lets users DM a bot they share a server with.
                if !self.shares_guild_with_bot(user) {
                    return Err(SimError::Forbidden(format!("user {user} shares no server with the bot")));
                }
                self.open_dm(user)
            }
        };
        let body = json!({"content": content});
        let created = self
            .create_message(Origin::plain(channel_id, user), &body, &[])
            .map_err(|e| SimError::Invalid(e.message))?;
        Ok(created.id())
    }
}
