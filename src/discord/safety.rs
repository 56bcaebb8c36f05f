//! The private safety check, leaving quietly, and journal prompts just for the
//! one who asks. What a person answers lives only in the click that carries it:
//! it is never stored, logged or shown to anyone else.

use poise::serenity_prelude as serenity;
use serenity::{
    ComponentInteraction, Context as SerenityContext, CreateActionRow, CreateButton, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
};

use super::ids::Action;
use super::{BotError, Data, commands, text};
use crate::core::model::{Role, Slot};

/// Question `n` of the check, with its three answers as buttons.
pub fn question(n: u8) -> CreateInteractionResponseMessage {
    let (_, answers) = text::SAFETY_QUESTIONS[n as usize];
    let buttons = (0u8..)
        .zip(answers)
        .map(|(a, (label, _))| {
            CreateButton::new(Action::Safety(n, a).custom_id()).label(label).style(serenity::ButtonStyle::Secondary)
        })
        .collect();
    CreateInteractionResponseMessage::new()
        .content(text::safety_question(n as usize))
        .components(vec![CreateActionRow::Buttons(buttons)])
}

/// The buttons of whoever said they may not be safe (and of `/safety`).
fn concern_buttons() -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::Journal.custom_id())
            .label("A private prompt for me")
            .style(serenity::ButtonStyle::Secondary),
        CreateButton::new(Action::LeaveQuietly.custom_id())
            .label("Leave quietly")
            .style(serenity::ButtonStyle::Secondary),
    ])]
}

/// `/safety`'s choices: the questions again, or leaving quietly.
pub fn menu_buttons() -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::SafetyStart.custom_id())
            .label("Answer the questions")
            .style(serenity::ButtonStyle::Primary),
        CreateButton::new(Action::LeaveQuietly.custom_id())
            .label("Leave quietly")
            .style(serenity::ButtonStyle::Secondary),
    ])]
}

/// The role question's buttons.
pub fn role_buttons() -> Vec<CreateActionRow> {
    let buttons = Role::ALL
        .iter()
        .map(|r| {
            CreateButton::new(Action::Role(*r).custom_id())
                .label(text::role_label(*r))
                .style(serenity::ButtonStyle::Secondary)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

fn update(content: impl Into<String>, rows: Vec<CreateActionRow>) -> CreateInteractionResponse {
    CreateInteractionResponse::UpdateMessage(CreateInteractionResponseMessage::new().content(content).components(rows))
}

/// `slot` answered `answer` to question `n`. An answer that signals danger
/// ends the check there; three safe answers clear it.
pub async fn answered(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    (couple, slot): (i64, Slot),
    n: u8,
    answer: u8,
) -> Result<(), BotError> {
    let engine = &data.engine;
    let (_, answers) = text::SAFETY_QUESTIONS[n as usize];
    let referral = data.settings.referral.as_deref();
    if answers[answer as usize].1 {
        engine.safety_concern(couple, slot).await?;
        data.wake.notify_one();
        c.create_response(&ctx.http, update(text::safety_concern(referral), concern_buttons())).await?;
        return Ok(());
    }
    if (n as usize) + 1 < text::SAFETY_QUESTIONS.len() {
        c.create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(question(n + 1))).await?;
        return Ok(());
    }
    let cleared = engine.safety_clear(couple, slot).await?;
    data.wake.notify_one();
    let partner = engine.couple(couple).await?.partner(slot.other()).name.clone();
    let thanks = text::safety_clear(cleared.partner_pending.then_some(partner.as_str()));
    let response = if cleared.first {
        update(format!("{thanks}\n\n{}", text::role_question()), role_buttons())
    } else {
        update(thanks, vec![])
    };
    c.create_response(&ctx.http, response).await?;
    Ok(())
}

/// Leaving quietly, confirmed: first what `slot` wrote goes, here and in
/// Discord; then the partner gets a copy of their own words; then the couple
/// ends with the same plain goodbye to both, naming no one.
pub async fn leave_quietly(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    (couple, slot): (i64, Slot),
) -> Result<(), BotError> {
    c.defer_ephemeral(&ctx.http).await?;
    let engine = &data.engine;
    let forgotten = engine.forget(couple, slot).await?;
    super::components::delete_messages(ctx, couple, &forgotten.messages).await;
    commands::data::send_export(&ctx.http, engine, couple, slot.other(), text::ENDED_QUIETLY_COPY).await?;
    let quoted = engine.take_commitment_messages(couple).await?;
    super::components::delete_messages(ctx, couple, &quoted).await;
    let home = engine.end_couple(couple, None).await?;
    data.wake.notify_one();
    tracing::info!(couple_id = couple, "a couple ended quietly");
    c.create_followup(
        &ctx.http,
        CreateInteractionResponseFollowup::new()
            .content(text::left_quietly(data.settings.referral.as_deref()))
            .ephemeral(true),
    )
    .await
    .ok();
    commands::couple::delete_home(ctx, couple, home).await;
    Ok(())
}

/// A journal prompt about oneself, never kept, with "Another".
pub fn journal_parts() -> (String, Vec<CreateActionRow>) {
    let prompt = text::JOURNAL_FOR_YOU[rand::random_range(0..text::JOURNAL_FOR_YOU.len())];
    let another =
        CreateButton::new(Action::Journal.custom_id()).label("Another").style(serenity::ButtonStyle::Secondary);
    (text::journal_for_you(prompt), vec![CreateActionRow::Buttons(vec![another])])
}

pub fn journal() -> CreateInteractionResponseMessage {
    let (content, rows) = journal_parts();
    CreateInteractionResponseMessage::new().content(content).components(rows).ephemeral(true)
}
