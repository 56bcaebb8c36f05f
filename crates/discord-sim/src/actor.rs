//! `SimUser`: a person in the sim. Tests read like what they do:
//! `alex.slash(general, "couple start", json!({"partner": sam.id()}))`,
//! `alex.wait_for_dm(|m| m.contains("prompt"), secs(5))`.

use std::time::Duration;

use serde_json::Value;

use crate::error::SimError;
use crate::sim::Sim;
use crate::state::State;
use crate::views::{ChannelView, InteractionView, MessageView, ModalView};

#[derive(Clone)]
pub struct SimUser {
    sim: Sim,
    id: u64,
}

fn forbidden(user: u64, channel: u64) -> SimError {
    SimError::Forbidden(format!("user {user} cannot see channel {channel}"))
}

impl SimUser {
    pub(crate) fn new(sim: Sim, id: u64) -> Self {
        Self { sim, id }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn name(&self) -> String {
        self.read(|s| s.users[&self.id].username.clone())
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        self.sim.shared.read(f)
    }

    fn write<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        self.sim.shared.write(f)
    }

    // --- acting ---------------------------------------------------------

    /// Runs a slash command (`"schedule set"` for subcommands) in a channel;
    /// `options` is `{"name": value}` (user/channel/role options take ids).
    /// Returns the interaction id.
    pub fn slash(&self, channel_id: u64, command: &str, options: Value) -> Result<u64, SimError> {
        self.write(|s| s.invoke(self.id, channel_id, command, &options, None))
    }

    /// Runs a slash command in the user's DM with the bot.
    pub fn slash_in_dm(&self, command: &str, options: Value) -> Result<u64, SimError> {
        let dm = self.dm_channel()?;
        self.slash(dm, command, options)
    }

    /// Sends an autocomplete request while typing into option `focused`.
    pub fn autocomplete(&self, channel_id: u64, command: &str, options: Value, focused: &str) -> Result<u64, SimError> {
        self.write(|s| s.invoke(self.id, channel_id, command, &options, Some(focused)))
    }

    /// Autocomplete, then waits for the bot's choices (`{name, value}`).
    pub async fn autocomplete_choices(
        &self,
        channel_id: u64,
        command: &str,
        options: Value,
        focused: &str,
        timeout: Duration,
    ) -> Result<Vec<Value>, SimError> {
        let id = self.autocomplete(channel_id, command, options, focused)?;
        self.sim.shared.wait_for(timeout, "autocomplete choices", |s| s.interactions[&id].choices.clone()).await
    }

    /// Clicks a button on a message this user sees. Returns the interaction id.
    pub fn click(&self, message_id: u64, custom_id: &str) -> Result<u64, SimError> {
        self.write(|s| s.click(self.id, message_id, custom_id, None))
    }

    /// Picks `values` in a select menu.
    pub fn select(&self, message_id: u64, custom_id: &str, values: &[&str]) -> Result<u64, SimError> {
        let values = values.iter().map(|v| v.to_string()).collect();
        self.write(|s| s.click(self.id, message_id, custom_id, Some(values)))
    }

    /// Clicks a button on a message in a channel this user cannot see, as a
    /// modified client (or one given a leaked message id) can make Discord
    /// send. The interaction claims `channel_id`, the message's own channel,
    /// with this user as the member. The message, the component and guild
    /// membership are still checked. Ephemeral responses reach this user
    /// through `wait_for_response`. Exists to test a bot's server-side checks.
    pub fn forge_click(&self, channel_id: u64, message_id: u64, custom_id: &str) -> Result<u64, SimError> {
        self.write(|s| s.forge_click(self.id, channel_id, message_id, custom_id, None))
    }

    /// `forge_click` for a select menu.
    pub fn forge_select(
        &self,
        channel_id: u64,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Result<u64, SimError> {
        let values = values.iter().map(|v| v.to_string()).collect();
        self.write(|s| s.forge_click(self.id, channel_id, message_id, custom_id, Some(values)))
    }

    /// Waits for the modal that interaction `of` opened, then fills and submits it
    /// no earlier than `modal_submit_delay_ms` after it opened (poise registers
    /// its collector only after the callback). Values are by text input custom_id;
    /// inputs not given keep their pre-filled value. Returns the submit's id.
    pub async fn submit_modal(&self, of: u64, values: &[(&str, &str)], timeout: Duration) -> Result<u64, SimError> {
        let shown = self.sim.shared.wait_for(timeout, "the bot to open a modal", |s| s.open_modal(self.id, of)).await?;
        let delay = Duration::from_millis(self.sim.config().modal_submit_delay_ms);
        tokio::time::sleep_until((shown + delay).into()).await;
        let values: Vec<(String, String)> = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.write(|s| s.submit_modal(self.id, of, &values))
    }

    /// Posts in a guild channel or thread the user can write in.
    pub fn say(&self, channel_id: u64, content: &str) -> Result<u64, SimError> {
        self.write(|s| s.user_post(self.id, Some(channel_id), content))
    }

    /// Sends the bot a direct message.
    pub fn dm(&self, content: &str) -> Result<u64, SimError> {
        self.write(|s| s.user_post(self.id, None, content))
    }

    /// Leaves the seeded guild (GUILD_MEMBER_REMOVE).
    pub fn leave_guild(&self) -> Result<(), SimError> {
        let guild = self.sim.guild_id();
        self.write(|s| s.remove_member(guild, self.id)).map_err(|e| SimError::NotFound(e.message))
    }

    /// Closes (or reopens) DMs from the bot: its sends fail with 50007.
    pub fn set_dms_closed(&self, closed: bool) {
        self.write(|s| {
            if let Some(u) = s.users.get_mut(&self.id) {
                u.dms_closed = closed;
            }
        });
    }

    // --- seeing ---------------------------------------------------------

    /// The user's DM channel with the bot, opened if needed.
    pub fn dm_channel(&self) -> Result<u64, SimError> {
        self.write(|s| {
            if !s.shares_guild_with_bot(self.id) && s.dm_channel_of(self.id).is_none() {
                return Err(SimError::Forbidden("no shared server with the bot".into()));
            }
            Ok(s.open_dm(self.id))
        })
    }

    pub fn can_see(&self, channel_id: u64) -> bool {
        self.read(|s| s.can_view(channel_id, self.id))
    }

    /// Channels (and threads) this user can see, DMs included.
    pub fn visible_channels(&self) -> Vec<ChannelView> {
        self.read(|s| s.channels.values().filter(|c| s.can_view(c.id, self.id)).map(ChannelView::from).collect())
    }

    fn visible_in(&self, s: &State, channel_id: u64) -> Option<Vec<MessageView>> {
        if !s.can_view(channel_id, self.id) {
            return None;
        }
        let list = s
            .messages
            .values()
            .filter(|m| m.channel_id == channel_id && m.ephemeral_for.is_none_or(|u| u == self.id))
            .map(|m| MessageView::of(s, m))
            .collect();
        Some(list)
    }

    /// Messages in a channel, oldest first, as this user sees them
    /// (their own ephemeral responses included). Err if they cannot see it.
    pub fn messages_in(&self, channel_id: u64) -> Result<Vec<MessageView>, SimError> {
        self.read(|s| {
            if !s.channels.contains_key(&channel_id) {
                return Err(SimError::NotFound(format!("channel {channel_id}")));
            }
            self.visible_in(s, channel_id).ok_or_else(|| forbidden(self.id, channel_id))
        })
    }

    /// The user's DMs with the bot, oldest first.
    pub fn dms(&self) -> Vec<MessageView> {
        self.read(|s| s.dm_channel_of(self.id).and_then(|c| self.visible_in(s, c)).unwrap_or_default())
    }

    /// An interaction this user made, with the responses they see.
    pub fn interaction(&self, id: u64) -> Result<InteractionView, SimError> {
        self.read(|s| s.interactions.get(&id).filter(|i| i.user_id == self.id).map(|i| InteractionView::of(s, i)))
            .ok_or_else(|| SimError::NotFound(format!("interaction {id} of user {}", self.id)))
    }

    /// Waits until the newest message matching `pred` is visible in a channel.
    pub async fn wait_for_message(
        &self,
        channel_id: u64,
        pred: impl Fn(&MessageView) -> bool,
        timeout: Duration,
    ) -> Result<MessageView, SimError> {
        let what = format!("a matching message in channel {channel_id}");
        self.sim
            .shared
            .wait_for(timeout, &what, |s| self.visible_in(s, channel_id)?.into_iter().rev().find(|m| pred(m)))
            .await
    }

    /// Waits until the newest DM from the bot matching `pred` arrives.
    pub async fn wait_for_dm(
        &self,
        pred: impl Fn(&MessageView) -> bool,
        timeout: Duration,
    ) -> Result<MessageView, SimError> {
        let bot = self.sim.bot_user_id();
        self.sim
            .shared
            .wait_for(timeout, "a matching DM from the bot", |s| {
                let dm = s.dm_channel_of(self.id)?;
                self.visible_in(s, dm)?.into_iter().rev().find(|m| m.author_id == bot && pred(m))
            })
            .await
    }

    /// Waits until a response to interaction `id` (original or followup,
    /// not still "thinking") matches `pred`.
    pub async fn wait_for_response(
        &self,
        id: u64,
        pred: impl Fn(&MessageView) -> bool,
        timeout: Duration,
    ) -> Result<MessageView, SimError> {
        self.sim
            .shared
            .wait_for(timeout, &format!("a matching response to interaction {id}"), |s| {
                let ix = s.interactions.get(&id).filter(|i| i.user_id == self.id)?;
                InteractionView::of(s, ix).messages().into_iter().rev().find(|m| !m.loading && pred(m))
            })
            .await
    }

    /// Waits until the bot answers interaction `id` with any callback; returns its type.
    pub async fn wait_for_ack(&self, id: u64, timeout: Duration) -> Result<u8, SimError> {
        self.sim
            .shared
            .wait_for(timeout, &format!("a callback to interaction {id}"), |s| {
                s.interactions.get(&id).and_then(|i| i.ack).map(|(t, _)| t)
            })
            .await
    }

    /// Waits until the bot opens a modal in answer to interaction `id`.
    pub async fn wait_for_modal(&self, id: u64, timeout: Duration) -> Result<ModalView, SimError> {
        self.sim
            .shared
            .wait_for(timeout, &format!("a modal for interaction {id}"), |s| {
                let ix = s.interactions.get(&id).filter(|i| i.user_id == self.id)?;
                InteractionView::of(s, ix).modal
            })
            .await
    }
}
