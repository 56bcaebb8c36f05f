//! `/commit` and `/commitments`.

use super::super::{BotError, Context, commitments, text};
use super::{couple_here, private};

/// Commit to one small, concrete thing, once or on a schedule; your partner notices it privately.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn commit(
    ctx: Context<'_>,
    #[description = "What you'll do, small and concrete: \"I'll put my phone away at dinner\""]
    #[max_length = 300]
    what: String,
    #[description = "When: once (the default), or a schedule like \"daily 18:00\" or \"weekdays 18:00\""] when: Option<
        String,
    >,
) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let engine = &ctx.data().engine;
    let id = engine.commit(couple, slot, &what, when.as_deref()).await?;
    ctx.data().wake.notify_one();
    let m = engine.commitment(couple, id).await?;
    let c = engine.couple(couple).await?;
    let when = match m.next_ask_at {
        Some(t) => crate::engine::instant(t).with_timezone(&c.zone()).format("first on %A %-d %B at %H:%M").to_string(),
        None => "after each time".into(),
    };
    private(ctx, text::committed_for_you(&c.partner(slot.other()).name, &when)).await
}

/// Your couple's commitments: revise or retire yours; mark the one that matters most to you.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn commitments(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let (content, rows) = commitments::list(&ctx.data().engine, couple, slot).await?;
    ctx.send(poise::CreateReply::default().content(content).components(rows).ephemeral(true)).await?;
    Ok(())
}
