//! Commitments on Discord: "Did this happen?" answered privately, and the
//! maker's revise and retire, the partner's "this matters most", from
//! `/commitments`. Every click is checked on the server side by the engine.

use poise::serenity_prelude as serenity;
use serenity::{
    ComponentInteraction, Context as SerenityContext, CreateActionRow, CreateButton, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateModal, InputTextStyle, ModalInteraction,
};

use super::ids::Action;
use super::{BotError, Data, text};
use crate::core::model::Slot;
use crate::engine::{Engine, MAX_COMMITMENT_CHARS};
use crate::store::commitments::{Commitment, Noticed};

const ANSWERS: [(Noticed, &str); 3] =
    [(Noticed::Kept, "Yes, I noticed"), (Noticed::NotThisTime, "Not this time"), (Noticed::NotSure, "Not sure")];

/// The three answers to "Did this happen?".
pub fn ask_buttons(check: i64) -> Vec<CreateActionRow> {
    let buttons = (0u8..)
        .zip(ANSWERS)
        // All alike: nothing nudges towards one answer.
        .map(|(a, (_, label))| {
            CreateButton::new(Action::Noticed(check, a).custom_id())
                .label(label)
                .style(serenity::ButtonStyle::Secondary)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// `/commitments`: the couple's open commitments, and what this partner may do
/// with each (the maker: revise, retire; the other: "this matters most").
pub async fn list(engine: &Engine, couple: i64, slot: Slot) -> Result<(String, Vec<CreateActionRow>), BotError> {
    let c = engine.couple(couple).await?;
    let open: Vec<Commitment> =
        engine.commitments(couple).await?.into_iter().filter(|m| m.retired_at.is_none()).collect();
    if open.is_empty() {
        return Ok((text::no_commitments(crate::engine::may_commit(&c, slot)), Vec::new()));
    }
    let mut out = String::from("**Open commitments**\n");
    let mut rows = Vec::new();
    for (n, m) in open.iter().enumerate() {
        let maker = if m.slot == slot { "You".to_string() } else { c.partner(m.slot).name.clone() };
        let matters = if m.matters_at.is_some() { " · *matters most*" } else { "" };
        out.push_str(&format!(
            "\n**{}.** {maker}, to {}{matters}\n{}\n",
            n + 1,
            if m.slot == slot { c.partner(slot.other()).name.clone() } else { "you".to_string() },
            text::commitment_words(&m.text, m.spec.as_deref(), None)
        ));
        let buttons = if m.slot == slot {
            vec![
                CreateButton::new(Action::CommitRevise(m.id).custom_id())
                    .label(format!("Revise {}", n + 1))
                    .style(serenity::ButtonStyle::Secondary),
                CreateButton::new(Action::CommitRetire(m.id).custom_id())
                    .label(format!("Retire {}", n + 1))
                    .style(serenity::ButtonStyle::Secondary),
            ]
        } else {
            let label = if m.matters_at.is_some() { "Unmark" } else { "This matters most" };
            vec![
                CreateButton::new(Action::CommitMatters(m.id).custom_id())
                    .label(format!("{label} ({})", n + 1))
                    .style(serenity::ButtonStyle::Secondary),
            ]
        };
        rows.push(CreateActionRow::Buttons(buttons));
    }
    // Discord shows at most five rows of buttons.
    rows.truncate(5);
    Ok((out, rows))
}

fn ephemeral(content: impl Into<String>) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content(content).ephemeral(true))
}

/// A button of a commitment, by whoever clicked it.
pub async fn on_component(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    (couple, slot): (i64, Slot),
    action: Action,
) -> Result<(), BotError> {
    let engine = &data.engine;
    match action {
        Action::Noticed(check, a) => {
            let (noticed, _) = ANSWERS[a as usize];
            let answered = engine.notice_commitment(couple, slot, check, noticed).await?;
            data.wake.notify_one();
            let said = match (answered, noticed) {
                (crate::engine::Answered::Already, _) => text::ALREADY_NOTICED,
                (crate::engine::Answered::Told, _) => text::NOTICED_KEPT,
                (_, Noticed::Kept) => text::NOTICED_KEPT_QUIETLY,
                _ => text::NOTICED_OTHERWISE,
            };
            // The question stays, its buttons go, the answer is said under it.
            let content = format!("{}\n\n{said}", c.message.content);
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::UpdateMessage(
                    CreateInteractionResponseMessage::new().content(content).components(vec![]),
                ),
            )
            .await?;
        }
        Action::CommitRevise(id) | Action::CommitRetire(id) => {
            let m = engine.commitment(couple, id).await?;
            if m.slot != slot {
                return Err(crate::engine::EngineError::from(crate::engine::UserError::NotYourCommitment).into());
            }
            let note = CreateInputText::new(InputTextStyle::Paragraph, "A note for your partner (optional)", "answer")
                .max_length(900)
                .required(false);
            let modal = if matches!(action, Action::CommitRevise(_)) {
                let words = CreateInputText::new(InputTextStyle::Paragraph, "Your commitment", "text")
                    .value(m.text.clone())
                    .max_length(MAX_COMMITMENT_CHARS as u16)
                    .required(true);
                CreateModal::new(Action::CommitReviseSubmit(id).custom_id(), "Revise a commitment")
                    .components(vec![CreateActionRow::InputText(words), CreateActionRow::InputText(note)])
            } else {
                CreateModal::new(Action::CommitRetireSubmit(id).custom_id(), "Retire a commitment")
                    .components(vec![CreateActionRow::InputText(note)])
            };
            c.create_response(&ctx.http, CreateInteractionResponse::Modal(modal)).await?;
        }
        Action::CommitMatters(id) => {
            let now_matters = engine.matters_most(couple, slot, id).await?;
            data.wake.notify_one();
            let name = engine.couple(couple).await?.partner(slot.other()).name.clone();
            c.create_response(&ctx.http, ephemeral(text::matters_most(&name, now_matters))).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Whatever happens, what the maker wrote is saved or shown back to them.
async fn reply_saved(ctx: &SerenityContext, m: &ModalInteraction, saved: Result<String, BotError>, written: &str) {
    let content = match saved {
        Ok(done) => done,
        Err(BotError::User(reason)) => text::cannot_save(&reason, written),
        Err(BotError::Internal(e)) => {
            tracing::error!(error = %format!("{e:#}"), "saving a commitment failed");
            text::cannot_save(text::APOLOGY, written)
        }
    };
    if let Err(e) = m.create_response(&ctx.http, ephemeral(content)).await {
        tracing::warn!(error = %e, "could not confirm a commitment change");
    }
}

pub async fn on_revise(ctx: &SerenityContext, m: &ModalInteraction, data: &Data, id: i64) {
    let words = super::components::modal_input(m, "text");
    let note = super::components::modal_input(m, "answer");
    let saved = async {
        let (couple, slot) = super::components::acting(data, m.user.id).await?;
        data.engine.revise_commitment(couple, slot, id, &words, Some(&note)).await?;
        data.wake.notify_one();
        Ok(text::COMMITMENT_REVISED.to_string())
    }
    .await;
    let written = if note.trim().is_empty() { words.clone() } else { format!("{words}\n\n{note}") };
    reply_saved(ctx, m, saved, &written).await;
}

pub async fn on_retire(ctx: &SerenityContext, m: &ModalInteraction, data: &Data, id: i64) {
    let note = super::components::modal_input(m, "answer");
    let saved = async {
        let (couple, slot) = super::components::acting(data, m.user.id).await?;
        data.engine.retire_commitment(couple, slot, id, Some(&note)).await?;
        data.wake.notify_one();
        Ok(text::COMMITMENT_RETIRED.to_string())
    }
    .await;
    reply_saved(ctx, m, saved, &note).await;
}
