//! Buttons and modals. Every one re-checks, on the server side, that the person
//! clicking belongs to the couple the button is for.

use poise::serenity_prelude as serenity;
use serenity::{
    ComponentInteraction, Context as SerenityContext, CreateActionRow, CreateButton, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateModal,
    FullEvent, InputTextStyle, Interaction, ModalInteraction,
};

use super::ids::Action;
use super::{BotError, Data, commands, text};
use crate::core::answer::{Answer, MAX_ANSWER_CHARS};
use crate::core::model::{Kind, Slot};
use crate::core::outbox::Unreachable;
use crate::engine::EngineError;

/// poise's event handler: routes component and modal interactions.
pub async fn on_event(ctx: &SerenityContext, event: &FullEvent, data: &Data) -> Result<(), BotError> {
    let interaction = match event {
        FullEvent::InteractionCreate { interaction } => interaction,
        FullEvent::ChannelDelete { channel, .. } => return on_channel_deleted(data, channel.id).await,
        FullEvent::GuildMemberRemoval { guild_id, user, .. } => return on_member_left(data, *guild_id, user.id).await,
        _ => return Ok(()),
    };
    let _working = data.lifecycle.enter();
    match interaction {
        Interaction::Component(c) => {
            let Some(action) = Action::parse(&c.data.custom_id) else { return Ok(()) };
            if let Err(e) = on_component(ctx, c, data, action).await {
                reply_error(ctx, c.id, &c.token, e).await;
            }
        }
        Interaction::Modal(m) => match Action::parse(&m.data.custom_id) {
            Some(Action::AnswerSubmit(delivery)) => on_answer_submit(ctx, m, data, delivery, false).await,
            Some(Action::DoneSubmit(delivery)) => on_answer_submit(ctx, m, data, delivery, true).await,
            Some(Action::HardNoteSubmit(moment)) => on_hard_note(ctx, m, data, moment).await,
            Some(Action::CommitReviseSubmit(id)) => super::commitments::on_revise(ctx, m, data, id).await,
            Some(Action::CommitRetireSubmit(id)) => super::commitments::on_retire(ctx, m, data, id).await,
            Some(Action::CheckInSubmit(reflection)) => on_check_in_submit(ctx, m, data, reflection).await,
            _ => {}
        },
        _ => {}
    }
    Ok(())
}

/// Tells the clicker what went wrong, privately, whether or not the interaction
/// was already acknowledged.
async fn reply_error(ctx: &SerenityContext, id: serenity::InteractionId, token: &str, e: BotError) {
    let message = match e {
        BotError::User(m) => m,
        BotError::Internal(e) => {
            tracing::error!(error = %format!("{e:#}"), "component interaction failed");
            text::APOLOGY.to_string()
        }
    };
    let response = CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new().content(message.clone()).ephemeral(true),
    );
    if ctx.http.create_interaction_response(id, token, &response, vec![]).await.is_err() {
        let followup = CreateInteractionResponseFollowup::new().content(message).ephemeral(true);
        let _ = ctx.http.create_followup_message(token, &followup, vec![]).await;
    }
}

async fn ephemeral(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    content: impl Into<String>,
) -> Result<(), BotError> {
    c.create_response(
        &ctx.http,
        CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content(content).ephemeral(true)),
    )
    .await?;
    Ok(())
}

/// Deletes the Discord messages (channel, message) that held someone's words;
/// returns how many are gone (one already deleted by hand counts). One mend can
/// no longer reach (access lost) is logged, by id only.
pub async fn delete_messages(ctx: &SerenityContext, couple: i64, messages: &[(u64, u64)]) -> usize {
    let mut deleted = 0;
    for (channel, message) in messages {
        match serenity::ChannelId::new(*channel).delete_message(&ctx.http, serenity::MessageId::new(*message)).await {
            Ok(()) => deleted += 1,
            Err(e) if super::deliver::discord_code(&e) == Some(10008) => deleted += 1,
            Err(e) => tracing::warn!(couple_id = couple, error = %e, "could not delete a message someone forgot"),
        }
    }
    deleted
}

/// The couple and slot of whoever clicked; refuses anyone outside a couple.
pub(super) async fn acting(data: &Data, user: serenity::UserId) -> Result<(i64, Slot), BotError> {
    let (couple, slot) = data.engine.acting(user.get(), None).await.map_err(|e| match e {
        EngineError::User(_) => BotError::user(text::NOT_YOURS),
        e => e.into(),
    })?;
    Ok((couple.id, slot))
}

/// The clicker must belong to the couple of this delivery (checked here, on the
/// server side, whatever the click claims).
async fn acting_on(data: &Data, user: serenity::UserId, delivery: i64) -> Result<(i64, Slot), BotError> {
    let (couple, slot) = data.engine.acting_on(user.get(), delivery).await?;
    Ok((couple.id, slot))
}

async fn on_component(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    action: Action,
) -> Result<(), BotError> {
    let engine = &data.engine;
    match action {
        Action::Answer(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            let delivery = engine.answerable(couple, d).await?;
            let input = CreateInputText::new(InputTextStyle::Paragraph, "Your answer", "answer")
                .max_length(MAX_ANSWER_CHARS as u16)
                .min_length(1)
                .required(true)
                .placeholder("Take your time. A few honest words are plenty.");
            let modal = answer_form(engine, &delivery, slot, Action::AnswerSubmit(d), input);
            c.create_response(&ctx.http, CreateInteractionResponse::Modal(modal)).await?;
        }
        Action::Mine(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            let delivery = engine.answerable(couple, d).await?;
            let prompt = own_prompt(engine, &delivery, slot);
            let embed = super::render::own_prompt_embed(engine.library(), &delivery, &prompt);
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::Message(
                    CreateInteractionResponseMessage::new()
                        .embed(embed)
                        .components(super::render::prompt_buttons(d, delivery.kind()))
                        .ephemeral(true),
                ),
            )
            .await?;
        }
        Action::Done(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            let delivery = engine.answerable(couple, d).await?;
            let note = CreateInputText::new(InputTextStyle::Paragraph, text::ACTION_NOTE_LABEL, "answer")
                .max_length(MAX_ANSWER_CHARS as u16)
                .required(false)
                .placeholder("How it went, what you noticed — or nothing at all.");
            let modal = answer_form(engine, &delivery, slot, Action::DoneSubmit(d), note);
            c.create_response(&ctx.http, CreateInteractionResponse::Modal(modal)).await?;
        }
        Action::Skip(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            engine.skip(couple, d, slot).await?;
            let next = commands::schedule::next_prompt_words(engine, couple).await;
            ephemeral(ctx, c, text::skipped(next.as_deref())).await?;
        }
        Action::Space(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            let until = engine.need_space(couple, slot, Some(d), Some(engine.settings().space)).await?;
            data.wake.notify_one();
            let zone = engine.couple(couple).await?.zone();
            let when = until.map(|u| u.with_timezone(&zone).format("%A %-d %B, %H:%M").to_string());
            ephemeral(ctx, c, text::space_for_you(when.as_deref(), data.settings.referral.as_deref())).await?;
        }
        Action::NotToday(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            c.defer_ephemeral(&ctx.http).await?;
            let saved = engine.answer(couple, d, slot, Answer::action(false, None).map_err(EngineError::from)?).await;
            let message = match saved {
                Ok(_) => text::ACTION_NOT_TODAY.to_string(),
                Err(EngineError::User(u)) => text::user_error(&u),
                Err(e) => return Err(e.into()),
            };
            // The writer hears first; the couple's notices follow from the outbox.
            data.wake.notify_one();
            c.create_followup(&ctx.http, CreateInteractionResponseFollowup::new().content(message).ephemeral(true))
                .await?;
        }
        Action::Meaningful(d) => {
            let (couple, slot) = acting_on(data, c.user.id, d).await?;
            engine.mark_meaningful(couple, d, slot).await?;
            ephemeral(ctx, c, text::MARKED_MEANINGFUL).await?;
        }
        Action::Accept(p) | Action::Decline(p) => {
            commands::couple::answer_invitation(ctx, c, data, p, matches!(action, Action::Accept(_))).await?;
        }
        Action::AskRole => {
            let (couple, slot) = acting(data, c.user.id).await?;
            // Before the first prompt: the private safety check, then this.
            let message = if engine.couple(couple).await?.holds.checking[slot.index()] {
                super::safety::question(0)
            } else {
                CreateInteractionResponseMessage::new()
                    .content(text::role_question())
                    .components(super::safety::role_buttons())
            };
            c.create_response(&ctx.http, CreateInteractionResponse::Message(message.ephemeral(true))).await?;
        }
        Action::SafetyStart => {
            acting(data, c.user.id).await?;
            c.create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(super::safety::question(0))).await?;
        }
        Action::Safety(n, answer) => {
            let who = acting(data, c.user.id).await?;
            super::safety::answered(ctx, c, data, who, n, answer).await?;
        }
        Action::LeaveQuietly => {
            acting(data, c.user.id).await?;
            let confirm = CreateButton::new(Action::LeaveQuietlyConfirm.custom_id())
                .label("Yes, leave quietly")
                .style(serenity::ButtonStyle::Danger);
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::Message(
                    CreateInteractionResponseMessage::new()
                        .content(text::LEAVE_QUIETLY_ASK)
                        .components(vec![CreateActionRow::Buttons(vec![confirm])])
                        .ephemeral(true),
                ),
            )
            .await?;
        }
        Action::LeaveQuietlyConfirm => {
            let who = acting(data, c.user.id).await?;
            super::safety::leave_quietly(ctx, c, data, who).await?;
        }
        Action::Noticed(..) | Action::CommitRevise(_) | Action::CommitRetire(_) | Action::CommitMatters(_) => {
            let who = acting(data, c.user.id).await?;
            super::commitments::on_component(ctx, c, data, who, action).await?;
        }
        Action::Journal => {
            c.create_response(&ctx.http, CreateInteractionResponse::Message(super::safety::journal())).await?;
        }
        Action::Role(role) => {
            let (couple, slot) = acting(data, c.user.id).await?;
            engine.set_role(couple, slot, role).await?;
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::UpdateMessage(
                    CreateInteractionResponseMessage::new().content(text::role_saved(role)).components(vec![]),
                ),
            )
            .await?;
        }
        Action::PhaseForward | Action::PhaseBack => {
            let (couple, slot) = acting(data, c.user.id).await?;
            let cpl = engine.couple(couple).await?;
            let forward = action == Action::PhaseForward;
            if forward && !crate::engine::may_move_on(&cpl, slot) {
                return Err(EngineError::from(crate::engine::UserError::NotTheirsToMove).into());
            }
            let to = if forward { cpl.phase.next() } else { cpl.phase.previous() };
            let to = to.ok_or_else(|| {
                EngineError::from(if forward {
                    crate::engine::UserError::LastPhase
                } else {
                    crate::engine::UserError::FirstPhase
                })
            })?;
            let (label, ask) = text::phase_ask(to, forward);
            let confirm = CreateButton::new(Action::PhaseTo(cpl.phase, to).custom_id())
                .label(label)
                .style(serenity::ButtonStyle::Primary);
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::Message(
                    CreateInteractionResponseMessage::new()
                        .content(ask)
                        .components(vec![CreateActionRow::Buttons(vec![confirm])])
                        .ephemeral(true),
                ),
            )
            .await?;
        }
        Action::PhaseTo(from, to) => {
            let (couple, slot) = acting(data, c.user.id).await?;
            let now = engine.move_phase(couple, slot, from, to).await?;
            data.wake.notify_one();
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::UpdateMessage(
                    CreateInteractionResponseMessage::new().content(text::phase_moved_for_you(now)).components(vec![]),
                ),
            )
            .await?;
        }
        Action::ForgetConfirm => {
            let (couple, slot) = acting(data, c.user.id).await?;
            c.defer_ephemeral(&ctx.http).await?;
            let forgotten = engine.forget(couple, slot).await?;
            let deleted = delete_messages(ctx, couple, &forgotten.messages).await;
            let left = forgotten.messages.len() - deleted;
            c.create_followup(
                &ctx.http,
                CreateInteractionResponseFollowup::new()
                    .content(text::forgotten(forgotten.answers, deleted, forgotten.reflections, left))
                    .ephemeral(true),
            )
            .await?;
        }
        Action::EndConfirm => {
            let (couple, slot) = acting(data, c.user.id).await?;
            c.defer_ephemeral(&ctx.http).await?;
            let partner = engine.couple(couple).await?.partner(slot.other()).name.clone();
            let (sent, home) = commands::couple::end_couple(ctx, data, couple, slot).await?;
            let done = text::ended_here(sent[slot.index()], &partner, sent[slot.other().index()]);
            c.create_followup(&ctx.http, CreateInteractionResponseFollowup::new().content(done).ephemeral(true))
                .await
                .ok();
            commands::couple::delete_home(ctx, couple, home).await;
        }
        Action::HardShare(m) | Action::HardQuiet(m) => {
            let (couple, slot) = acting(data, c.user.id).await?;
            let said = if matches!(action, Action::HardShare(_)) {
                engine.share_hard_moment(couple, slot, m).await?;
                data.wake.notify_one();
                text::HARD_MOMENT_SHARED
            } else {
                text::HARD_MOMENT_QUIET
            };
            c.create_response(
                &ctx.http,
                CreateInteractionResponse::UpdateMessage(
                    CreateInteractionResponseMessage::new().content(said).components(vec![]),
                ),
            )
            .await?;
        }
        Action::HardNote(m) => {
            acting(data, c.user.id).await?;
            let input = CreateInputText::new(InputTextStyle::Paragraph, "Just for you", "answer")
                .max_length(MAX_ANSWER_CHARS as u16)
                .required(false)
                .placeholder("Whatever you'd like to set down. Your partner will never see it.");
            let modal = CreateModal::new(Action::HardNoteSubmit(m).custom_id(), "A note just for you")
                .components(vec![CreateActionRow::InputText(input)]);
            c.create_response(&ctx.http, CreateInteractionResponse::Modal(modal)).await?;
        }
        Action::HardHere(m) => {
            let (couple, slot) = acting(data, c.user.id).await?;
            engine.here_for_hard_moment(couple, slot, m).await?;
            data.wake.notify_one();
            ephemeral(ctx, c, text::IM_HERE_SENT).await?;
        }
        Action::AnswerSubmit(_)
        | Action::DoneSubmit(_)
        | Action::HardNoteSubmit(_)
        | Action::CommitReviseSubmit(_)
        | Action::CommitRetireSubmit(_) => {}
        Action::CheckIn(reflection) => open_check_in(ctx, c, data, reflection).await?,
        Action::CheckInSubmit(_) => {}
    }
    Ok(())
}

/// A note just for its writer, to their hard moment: kept, or shown back.
async fn on_hard_note(ctx: &SerenityContext, m: &ModalInteraction, data: &Data, moment: i64) {
    let written = modal_text(m);
    let saved = async {
        let (couple, slot) = acting(data, m.user.id).await?;
        let note = crate::core::answer::Answer::text(&written).ok();
        let note = note.as_ref().and_then(|a| a.body());
        data.engine.note_hard_moment(couple, slot, moment, note).await?;
        Ok::<_, BotError>(())
    }
    .await;
    let content = match saved {
        Ok(()) => text::HARD_MOMENT_KEPT.to_string(),
        Err(BotError::User(reason)) => text::cannot_save(&reason, &written),
        Err(BotError::Internal(e)) => {
            tracing::error!(error = %format!("{e:#}"), "saving a hard moment's note failed");
            text::cannot_save(text::APOLOGY, &written)
        }
    };
    let reply = CreateInteractionResponseMessage::new().content(content).ephemeral(true);
    if let Err(e) = m.create_response(&ctx.http, CreateInteractionResponse::Message(reply)).await {
        tracing::warn!(error = %e, "could not confirm a hard moment's note");
    }
}

/// What was typed in a form's "answer" box.
fn modal_text(m: &ModalInteraction) -> String {
    modal_input(m, "answer")
}

/// What was typed in a form's box `custom_id`.
pub(super) fn modal_input(m: &ModalInteraction, custom_id: &str) -> String {
    m.data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .find_map(|c| match c {
            serenity::ActionRowComponent::InputText(t) if t.custom_id == custom_id => t.value.clone(),
            _ => None,
        })
        .unwrap_or_default()
}

/// The prompt `slot` reads in `delivery` (their own, on a personal day).
fn own_prompt(engine: &crate::engine::Engine, delivery: &crate::core::entities::Delivery, slot: Slot) -> String {
    delivery
        .chosen
        .as_ref()
        .and_then(|c| engine.library().prompt(&c.prompts[slot.index()]))
        .map_or_else(String::new, |p| p.text.clone())
}

/// The form a partner writes in: the question they are answering shown above
/// the box (Discord's forms hold only text inputs, so it is one, filled in and
/// never read back), then `input`.
fn answer_form(
    engine: &crate::engine::Engine,
    delivery: &crate::core::entities::Delivery,
    slot: Slot,
    submit: Action,
    input: CreateInputText,
) -> CreateModal {
    let question = own_prompt(engine, delivery, slot);
    let shown = CreateInputText::new(InputTextStyle::Paragraph, text::MODAL_QUESTION_LABEL, "question")
        .value(super::render::clip(&question, 4000))
        .required(false);
    CreateModal::new(submit.custom_id(), text::modal_title(delivery.kind()))
        .components(vec![CreateActionRow::InputText(shown), CreateActionRow::InputText(input)])
}

/// A submitted answer. Whatever happens, the writer's words are either saved
/// or shown back to them.
async fn on_answer_submit(ctx: &SerenityContext, m: &ModalInteraction, data: &Data, delivery: i64, done: bool) {
    let written = modal_text(m);
    // Saving takes milliseconds: answer the submit itself with the outcome (an
    // interaction callback, not rate limited with followups). Should saving be
    // slow, acknowledge within Discord's 3 seconds and follow up when done.
    let save = save_answer(data, m.user.id, delivery, &written, done);
    tokio::pin!(save);
    let (outcome, deferred) = match tokio::time::timeout(std::time::Duration::from_millis(1500), &mut save).await {
        Ok(outcome) => (outcome, false),
        Err(_) => {
            if let Err(e) = m.defer_ephemeral(&ctx.http).await {
                tracing::warn!(error = %e, "could not acknowledge an answer");
            }
            (save.await, true)
        }
    };
    let content = match outcome {
        Ok(message) => {
            data.wake.notify_one();
            message
        }
        Err(BotError::User(reason)) => text::cannot_save(&reason, &written),
        Err(BotError::Internal(e)) => {
            tracing::error!(delivery_id = delivery, error = %format!("{e:#}"), "saving an answer failed");
            text::cannot_save(text::APOLOGY, &written)
        }
    };
    // The writer hears first that their words are kept; the couple's notice and
    // the reveal were written to the outbox with the answer and follow from there.
    let confirmed = if deferred {
        let followup = CreateInteractionResponseFollowup::new().content(content).ephemeral(true);
        m.create_followup(&ctx.http, followup).await.map(|_| ())
    } else {
        let reply = CreateInteractionResponseMessage::new().content(content).ephemeral(true);
        m.create_response(&ctx.http, CreateInteractionResponse::Message(reply)).await
    };
    if let Err(e) = confirmed {
        tracing::warn!(delivery_id = delivery, error = %e, "could not confirm an answer");
    }
}

/// Saves what a partner wrote: an answer, or (`done`) a small action done with
/// its optional note.
async fn save_answer(
    data: &Data,
    user: serenity::UserId,
    delivery: i64,
    written: &str,
    done: bool,
) -> Result<String, BotError> {
    let (couple, slot) = acting_on(data, user, delivery).await?;
    let answer = match done {
        true => Answer::action(true, Some(written)),
        false => Answer::text(written),
    };
    let saved = data.engine.answer(couple, delivery, slot, answer.map_err(EngineError::from)?).await?;
    if done {
        return Ok(text::ACTION_DONE.into());
    }
    let message = match (saved.kind, saved.edited, saved.revealed) {
        (_, _, true) => "Saved — you've both answered, so your answers are now shared with each other.",
        (Kind::Journal, ..) => text::JOURNAL_SAVED,
        (_, true, _) => text::ANSWER_EDITED,
        (_, false, _) => text::ANSWER_SAVED_WAITING,
    };
    Ok(message.into())
}

/// A couple's private channel was deleted (by an admin; `/couple end` deletes
/// the couple first, so it is not found here).
async fn on_channel_deleted(data: &Data, channel: serenity::ChannelId) -> Result<(), BotError> {
    if let Some(couple) = data.engine.couple_of_channel(channel.get()).await? {
        data.engine.unreachable(couple, Unreachable::ChannelGone, None).await?;
        data.wake.notify_one();
    }
    Ok(())
}

async fn on_member_left(data: &Data, guild: serenity::GuildId, user: serenity::UserId) -> Result<(), BotError> {
    data.engine.partner_left(user.get(), guild.get()).await?;
    data.wake.notify_one();
    Ok(())
}

/// A partner opens their weekly check-in: the two optional questions, with
/// what they wrote before (to change it), or a kind word if it has closed.
async fn open_check_in(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    reflection: i64,
) -> Result<(), BotError> {
    let form = data.engine.check_in_form(c.user.id.get(), reflection).await?;
    if !form.open {
        return ephemeral(ctx, c, text::CHECK_IN_CLOSED).await;
    }
    let partner = &form.couple.partner(form.slot.other()).name;
    let [for_appreciation, for_care] = text::check_in_placeholders(partner);
    let max = crate::core::reflection::MAX_CHECK_IN_CHARS as u16;
    let input = |label: String, id: &str, placeholder: String, value: Option<&String>| {
        let input = CreateInputText::new(InputTextStyle::Paragraph, label, id)
            .max_length(max)
            .required(false)
            .placeholder(placeholder);
        match value {
            Some(v) => input.value(v),
            None => input,
        }
    };
    let mine = form.mine.as_ref();
    let modal = CreateModal::new(Action::CheckInSubmit(reflection).custom_id(), text::CHECK_IN_TITLE).components(vec![
        CreateActionRow::InputText(input(
            text::check_in_appreciation_label(partner),
            "appreciation",
            for_appreciation,
            mine.and_then(|m| m.appreciation.as_ref()),
        )),
        CreateActionRow::InputText(input(
            text::CHECK_IN_CARED_LABEL.into(),
            "cared_for",
            for_care,
            mine.and_then(|m| m.cared_for.as_ref()),
        )),
    ]);
    c.create_response(&ctx.http, CreateInteractionResponse::Modal(modal)).await?;
    Ok(())
}

/// A submitted check-in. Whatever happens, the writer's words are kept for
/// the reflection or shown back to them.
async fn on_check_in_submit(ctx: &SerenityContext, m: &ModalInteraction, data: &Data, reflection: i64) {
    let appreciation = modal_input(m, "appreciation");
    let cared_for = modal_input(m, "cared_for");
    let save = async {
        let saved = data.engine.check_in(m.user.id.get(), reflection, Some(&appreciation), Some(&cared_for)).await?;
        let partner = match data.engine.acting(m.user.id.get(), None).await {
            Ok((couple, slot)) => couple.partner(slot.other()).name.clone(),
            Err(_) => "your partner".to_string(),
        };
        Ok::<_, BotError>((saved, partner))
    };
    tokio::pin!(save);
    // Answer the submit itself when saving is quick; else acknowledge within
    // Discord's 3 seconds and follow up.
    let (outcome, deferred) = match tokio::time::timeout(std::time::Duration::from_millis(1500), &mut save).await {
        Ok(outcome) => (outcome, false),
        Err(_) => {
            if let Err(e) = m.defer_ephemeral(&ctx.http).await {
                tracing::warn!(error = %e, "could not acknowledge a check-in");
            }
            (save.await, true)
        }
    };
    let (content, words_back) = match outcome {
        Ok((crate::engine::CheckedIn::Saved { complete: true }, _)) => {
            data.wake.notify_one();
            (text::CHECK_IN_COMPLETE.to_string(), false)
        }
        Ok((crate::engine::CheckedIn::Saved { complete: false }, partner)) => (text::check_in_saved(&partner), false),
        Ok((crate::engine::CheckedIn::Closed, _)) => (text::CHECK_IN_TOO_LATE.to_string(), true),
        Err(BotError::User(reason)) => (reason, true),
        Err(BotError::Internal(e)) => {
            tracing::error!(reflection_id = reflection, error = %format!("{e:#}"), "saving a check-in failed");
            (text::APOLOGY.to_string(), true)
        }
    };
    let words = super::render::check_in_words(&appreciation, &cared_for).filter(|_| words_back);
    let confirmed = if deferred {
        let mut followup = CreateInteractionResponseFollowup::new().content(content).ephemeral(true);
        if let Some(embed) = words {
            followup = followup.embed(embed);
        }
        m.create_followup(&ctx.http, followup).await.map(|_| ())
    } else {
        let mut reply = CreateInteractionResponseMessage::new().content(content).ephemeral(true);
        if let Some(embed) = words {
            reply = reply.embed(embed);
        }
        m.create_response(&ctx.http, CreateInteractionResponse::Message(reply)).await
    };
    if let Err(e) = confirmed {
        tracing::warn!(reflection_id = reflection, error = %e, "could not confirm a check-in");
    }
}
