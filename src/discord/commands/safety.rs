//! `/safety` and `/journal`: private to whoever runs them, anywhere.

use super::super::{BotError, Context, safety, text};

/// A private safety check, and the choice to leave mend quietly (only you see this).
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn safety(ctx: Context<'_>) -> Result<(), BotError> {
    let referral = ctx.data().settings.referral.as_deref();
    let paired = ctx.data().engine.couple_of(&ctx.author().id.get().to_string()).await?;
    let reply = match paired {
        Some(_) => {
            poise::CreateReply::default().content(text::safety_menu(referral)).components(safety::menu_buttons())
        }
        None => poise::CreateReply::default().content(text::safety_alone(referral)),
    };
    ctx.send(reply.ephemeral(true)).await?;
    Ok(())
}

/// A journal prompt just for you: mend keeps nothing of it.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn journal(ctx: Context<'_>) -> Result<(), BotError> {
    let (content, rows) = safety::journal_parts();
    ctx.send(poise::CreateReply::default().content(content).components(rows).ephemeral(true)).await?;
    Ok(())
}
