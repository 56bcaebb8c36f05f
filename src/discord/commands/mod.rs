//! mend's slash commands: one module per group, one list of them all.

pub mod commit;
pub mod couple;
pub mod data;
pub mod help;
pub mod pause;
pub mod safety;
pub mod schedule;

use poise::serenity_prelude as serenity;

use super::{BotError, Context, Data, text};
use crate::engine::{EngineError, UserError};

/// Every command mend registers.
pub fn all() -> Vec<poise::Command<Data, BotError>> {
    vec![
        couple::couple(),
        schedule::schedule(),
        pause::pause(),
        pause::resume(),
        pause::space(),
        pause::hard_moment(),
        commit::commit(),
        commit::commitments(),
        safety::safety(),
        safety::journal(),
        pause::phase(),
        data::history(),
        data::export(),
        data::forget(),
        help::help(),
    ]
}

/// The couple of whoever runs a command, refusing anyone not in one, and a
/// command used in a server outside the couple's private channel.
pub async fn couple_here(ctx: Context<'_>) -> Result<(i64, crate::core::model::Slot), BotError> {
    let channel = ctx.guild_id().map(|_| ctx.channel_id().get());
    match ctx.data().engine.acting(ctx.author().id.get(), channel).await {
        Ok((couple, slot)) => Ok((couple.id, slot)),
        Err(EngineError::User(UserError::NotYours)) => Err(BotError::user(text::OUTSIDE_CHANNEL)),
        Err(e) => Err(e.into()),
    }
}

/// A reply only the person who ran the command sees.
pub async fn private(ctx: Context<'_>, content: impl Into<String>) -> Result<(), BotError> {
    ctx.send(poise::CreateReply::default().content(content).ephemeral(true)).await?;
    Ok(())
}

pub fn user_mention(id: serenity::UserId) -> String {
    format!("<@{}>", id.get())
}
