//! `/help`: what mend is and is not, and where to find help in a crisis.

use super::super::{BotError, Context, text};

/// What mend is, what it is not, and where to find help in a crisis.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn help(ctx: Context<'_>) -> Result<(), BotError> {
    let mut content = format!("{}\n\n{}", text::HELP, text::WHO_CAN_READ);
    if let Some(referral) = &ctx.data().settings.referral {
        content.push_str(&text::referral(referral));
    }
    super::private(ctx, content).await
}
