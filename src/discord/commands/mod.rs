//! mend's slash commands: one module per group, one list of them all.

pub mod couple;
pub mod data;
pub mod help;
pub mod pause;
pub mod schedule;

use poise::serenity_prelude as serenity;

use super::{BotError, Context, Data, text};

/// Every command mend registers.
pub fn all() -> Vec<poise::Command<Data, BotError>> {
    vec![
        couple::couple(),
        schedule::schedule(),
        pause::pause(),
        pause::resume(),
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
    let engine = &ctx.data().engine;
    let (couple, slot) = engine
        .couple_of(&ctx.author().id.get().to_string())
        .await?
        .ok_or_else(|| BotError::user(text::NOT_IN_A_COUPLE))?;
    if ctx.guild_id().is_some() {
        let here = crate::store::discord::couple_of_channel(engine.pool(), ctx.channel_id().get()).await?;
        if here != Some(couple) {
            return Err(BotError::user(text::OUTSIDE_CHANNEL));
        }
    }
    Ok((couple, slot))
}

/// A reply only the person who ran the command sees.
pub async fn private(ctx: Context<'_>, content: impl Into<String>) -> Result<(), BotError> {
    ctx.send(poise::CreateReply::default().content(content).ephemeral(true)).await?;
    Ok(())
}

/// The couple's timezone, for showing times.
pub fn zone(tz: &str) -> chrono_tz::Tz {
    crate::core::schedule::parse_zone(tz).unwrap_or(chrono_tz::UTC)
}

pub fn user_mention(id: serenity::UserId) -> String {
    format!("<@{}>", id.get())
}
