//! The interaction state machine: one initial response within the ack
//! timeout, callback types valid for the interaction type, `@original`,
//! followups (the first one after a deferral edits `@original`, as poise
//! relies on), modals and autocomplete choices.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::State;
use super::messages::{Origin, Upload};
use super::model::{MessageInteraction, flags};
use super::validate;
use crate::error::ApiError;

/// Discord's interaction types the sim sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    Command,
    Component,
    Autocomplete,
    ModalSubmit,
}

impl InteractionKind {
    pub fn code(self) -> u8 {
        match self {
            Self::Command => 2,
            Self::Component => 3,
            Self::Autocomplete => 4,
            Self::ModalSubmit => 5,
        }
    }
}

/// A modal the bot opened with a type-9 callback.
#[derive(Clone, Debug)]
pub(crate) struct ModalShown {
    pub custom_id: String,
    pub title: String,
    pub components: Vec<Value>,
    pub at: Instant,
}

#[derive(Clone, Debug)]
pub(crate) struct Interaction {
    pub id: u64,
    pub token: String,
    pub kind: InteractionKind,
    pub user_id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    /// The `data` object as dispatched.
    pub data: Value,
    /// Command name (with subcommands) or component custom_id.
    pub name: String,
    /// The message a component sits on (also for modals opened from one).
    pub message_id: Option<u64>,
    /// For a modal submit: the interaction whose modal it answers.
    pub modal_of: Option<u64>,
    /// When INTERACTION_CREATE was dispatched.
    pub created: Instant,
    /// Callback type of the initial response and when it came.
    pub ack: Option<(u8, Instant)>,
    pub original_id: Option<u64>,
    /// A type-5 deferral whose placeholder the first followup replaces.
    pub deferred: bool,
    pub followups: Vec<u64>,
    pub modal: Option<ModalShown>,
    pub choices: Option<Vec<Value>>,
}

impl Interaction {
    /// For components, `@original` is the message the component sits on.
    fn original(&self) -> Option<u64> {
        self.original_id.or(match self.ack {
            Some((6 | 7, _)) => self.message_id,
            _ => None,
        })
    }
}

fn bad_type(message: &str) -> ApiError {
    ApiError::invalid_field(&["type"], "INTERACTION_RESPONSE_TYPE_INVALID", message)
}

impl State {
    fn interaction_by_token(&self, app: u64, token: &str) -> Result<u64, ApiError> {
        if app != self.app_id() {
            return Err(ApiError::unknown_webhook());
        }
        let ix = self.interactions.values().find(|i| i.token == token).ok_or_else(ApiError::unknown_webhook)?;
        let ttl = Duration::from_millis(self.cfg.interaction_token_ttl_ms);
        if ix.created.elapsed() > ttl {
            return Err(ApiError::invalid_webhook_token());
        }
        Ok(ix.id)
    }

    fn origin_for(&self, id: u64, ephemeral: bool) -> Origin {
        let ix = &self.interactions[&id];
        let invoked = ix.modal_of.and_then(|o| self.interactions.get(&o)).unwrap_or(ix);
        Origin {
            channel_id: ix.channel_id,
            author_id: self.bot_id(),
            kind: if invoked.kind == InteractionKind::Command { 20 } else { 0 },
            ephemeral_for: ephemeral.then_some(ix.user_id),
            interaction: Some(MessageInteraction {
                id: invoked.id,
                kind: invoked.kind.code(),
                name: invoked.name.clone(),
                user_id: invoked.user_id,
            }),
            webhook_id: Some(self.app_id()),
            extra_flags: 0,
        }
    }

    /// `POST /interactions/{id}/{token}/callback`.
    pub(crate) fn interaction_callback(
        &mut self,
        id: u64,
        token: &str,
        body: &Value,
        files: &[Upload],
    ) -> Result<(), ApiError> {
        let timeout = Duration::from_millis(self.cfg.interaction_ack_timeout_ms);
        let ix = self.interactions.get(&id).filter(|i| i.token == token).ok_or_else(ApiError::unknown_interaction)?;
        if ix.ack.is_some() {
            return Err(ApiError::already_acknowledged());
        }
        if ix.created.elapsed() > timeout {
            return Err(ApiError::unknown_interaction());
        }
        let Some(kind) = body["type"].as_u64() else {
            return Err(ApiError::invalid_field(&["type"], "BASE_TYPE_REQUIRED", "This field is required"));
        };
        let data = &body["data"];
        let ephemeral = data["flags"].as_u64().unwrap_or(0) & flags::EPHEMERAL != 0;
        use InteractionKind::*;
        match (kind, ix.kind) {
            (8, Autocomplete) => {}
            (_, Autocomplete) => return Err(bad_type("Autocomplete interactions only accept type 8.")),
            (8, _) => return Err(bad_type("Type 8 answers autocomplete interactions only.")),
            (4 | 5, _) => {}
            (6 | 7, Component | ModalSubmit) => {}
            (6 | 7, _) => return Err(bad_type("Types 6 and 7 are for component interactions.")),
            (9, Command | Component) => {}
            (9, _) => return Err(bad_type("A modal cannot answer this interaction.")),
            _ => return Err(bad_type("Invalid interaction response type.")),
        }
        let message_id = ix.message_id;
        let now = Instant::now();
        match kind {
            4 => {
                let created = self.create_message(self.origin_for(id, ephemeral), data, files)?;
                self.interaction_mut(id).original_id = Some(created.id());
            }
            5 => {
                let mut origin = self.origin_for(id, ephemeral);
                origin.extra_flags = flags::LOADING;
                let created = self.create_message(origin, &Value::Null, &[])?;
                let ix = self.interaction_mut(id);
                ix.original_id = Some(created.id());
                ix.deferred = true;
            }
            7 => {
                let target = message_id.ok_or_else(|| bad_type("Type 7 needs a message to update."))?;
                self.edit_message(target, data, files)?;
            }
            8 => {
                let choices = data["choices"].as_array().cloned().unwrap_or_default();
                if choices.len() > 25 {
                    return Err(ApiError::invalid_field(
                        &["data", "choices"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 25 or fewer in length.",
                    ));
                }
                self.interaction_mut(id).choices = Some(choices);
            }
            9 => {
                validate::modal(data)?;
                self.interaction_mut(id).modal = Some(ModalShown {
                    custom_id: data["custom_id"].as_str().unwrap_or_default().to_owned(),
                    title: data["title"].as_str().unwrap_or_default().to_owned(),
                    components: data["components"].as_array().cloned().unwrap_or_default(),
                    at: now,
                });
            }
            _ => {}
        }
        self.interaction_mut(id).ack = Some((kind as u8, now));
        Ok(())
    }

    fn interaction_mut(&mut self, id: u64) -> &mut Interaction {
        self.interactions.get_mut(&id).expect("interaction exists")
    }

    /// `POST /webhooks/{app}/{token}`: a followup, or the deferred original.
    pub(crate) fn followup(&mut self, app: u64, token: &str, body: &Value, files: &[Upload]) -> Result<u64, ApiError> {
        let id = self.interaction_by_token(app, token)?;
        let ix = &self.interactions[&id];
        if ix.ack.is_none() {
            return Err(ApiError::unknown_webhook());
        }
        if ix.deferred
            && let Some(original) = ix.original_id
        {
            self.edit_message(original, body, files)?;
            self.interaction_mut(id).deferred = false;
            return Ok(original);
        }
        let ephemeral = body["flags"].as_u64().unwrap_or(0) & flags::EPHEMERAL != 0;
        let created = self.create_message(self.origin_for(id, ephemeral), body, files)?;
        self.interaction_mut(id).followups.push(created.id());
        Ok(created.id())
    }

    /// Resolves `@original` or a followup id of the interaction behind `token`.
    pub(crate) fn webhook_message(&self, app: u64, token: &str, message: &str) -> Result<u64, ApiError> {
        let id = self.interaction_by_token(app, token)?;
        let ix = &self.interactions[&id];
        let found = if message == "@original" {
            ix.original()
        } else {
            message.parse::<u64>().ok().filter(|m| ix.followups.contains(m) || ix.original() == Some(*m))
        };
        found.filter(|m| self.messages.contains_key(m)).ok_or_else(ApiError::unknown_message)
    }

    pub(crate) fn edit_webhook_message(
        &mut self,
        app: u64,
        token: &str,
        message: &str,
        body: &Value,
        files: &[Upload],
    ) -> Result<u64, ApiError> {
        let target = self.webhook_message(app, token, message)?;
        self.edit_message(target, body, files)?;
        let id = self.interaction_by_token(app, token)?;
        let ix = self.interaction_mut(id);
        if ix.original_id == Some(target) {
            ix.deferred = false;
        }
        Ok(target)
    }
}
