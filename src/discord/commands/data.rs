//! Own your data: `/history`, `/export`, `/forget`.

use poise::serenity_prelude as serenity;
use serenity::{CreateActionRow, CreateAttachment, CreateButton, CreateMessage};

use super::super::ids::Action;
use super::super::{BotError, Context, render, text};
use super::{couple_here, private};
use crate::engine::instant;

/// Your recent prompts and answers (only you see this).
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn history(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    ctx.defer_ephemeral().await?;
    let engine = &ctx.data().engine;
    let c = engine.couple(couple).await?;
    let tz = c.zone();
    let seen = engine.seen_by(couple, slot, 10).await?;
    if seen.is_empty() {
        return private(ctx, "No prompts yet. The first one will come on your schedule (`/schedule show`).").await;
    }
    let mut out = String::new();
    for s in seen {
        let day = instant(s.delivery.occurrence).with_timezone(&tz).format("%a %-d %b");
        let prompt = s.prompt.as_ref().map_or("", |p| p.text.as_str());
        out.push_str(&format!("**{day}** — *{}*\n", render::clip(prompt, 200)));
        match &s.mine {
            Some(r) => {
                out.push_str(&format!("You: {}\n", render::clip(r.body.as_deref().unwrap_or(r.status.as_str()), 300)))
            }
            None => out.push_str("You: not answered\n"),
        }
        if let Some(t) = &s.theirs {
            out.push_str(&format!(
                "{}: {}\n",
                c.partner(slot.other()).name,
                render::clip(t.body.as_deref().unwrap_or(""), 300)
            ));
        }
        out.push('\n');
    }
    for part in render::split(&out.replace('@', "@\u{200B}"), render::MESSAGE_LIMIT) {
        private(ctx, part).await?;
    }
    Ok(())
}

/// A file in your DMs with everything you can see on mend.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn export(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    ctx.defer_ephemeral().await?;
    let http = ctx.serenity_context().http.clone();
    let sent = send_export(&http, &ctx.data().engine, couple, slot, "Here is everything you can see on mend.").await?;
    private(ctx, if sent { text::EXPORT_SENT } else { text::EXPORT_DMS_CLOSED }).await
}

/// Sends `slot` of `couple`, by DM, a file with everything they can see on
/// mend; `false` when their DMs are closed to mend.
pub async fn send_export(
    http: &serenity::Http,
    engine: &crate::engine::Engine,
    couple: i64,
    slot: crate::core::model::Slot,
    note: &str,
) -> Result<bool, BotError> {
    let c = engine.couple(couple).await?;
    let seen = engine.seen_by(couple, slot, usize::MAX).await?;
    let items: Vec<serde_json::Value> = seen
        .iter()
        .map(|s| {
            let response = |r: &Option<crate::core::entities::Response>| {
                r.as_ref().map(|r| {
                    serde_json::json!({"status": r.status.as_str(), "text": r.body, "done": r.done,
                        "answered_at": instant(r.answered_at).to_rfc3339()})
                })
            };
            serde_json::json!({
                "date": instant(s.delivery.occurrence).to_rfc3339(),
                "pillar": s.delivery.chosen.as_ref().map(|c| c.pillar.clone()),
                "prompt": s.prompt.as_ref().map(|p| p.text.clone()),
                "you": response(&s.mine),
                "partner": response(&s.theirs),
            })
        })
        .collect();
    let moments: Vec<serde_json::Value> = engine
        .hard_moments_of(couple, slot)
        .await?
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "at": instant(m.created_at).to_rfc3339(),
                "partner_told": m.shared_at.is_some(),
                "partner_was_there": m.met_at.is_some(),
                "note": m.note,
            })
        })
        .collect();
    // Every commitment of the couple, as both may see it; what this partner
    // noticed of their partner's, theirs alone (a "not this time" never reaches
    // the one who made it).
    let noticed = engine.noticed_by(couple, slot).await?;
    let commitments: Vec<serde_json::Value> = engine
        .commitments(couple)
        .await?
        .into_iter()
        .map(|m| {
            let mine = m.slot == slot;
            let answers: Vec<serde_json::Value> = noticed
                .iter()
                .filter(|(n, k)| n.id == m.id && k.answer.is_some())
                .map(|(_, k)| {
                    serde_json::json!({"occurrence": instant(k.occurrence).to_rfc3339(),
                        "you_answered": k.answer.map(|a| a.as_str())})
                })
                .collect();
            serde_json::json!({
                "made_by": if mine { "you" } else { "your partner" },
                "text": m.text,
                "when": m.spec.as_deref().unwrap_or("once"),
                "made_at": instant(m.created_at).to_rfc3339(),
                "note": m.note,
                "retired_at": m.retired_at.map(|t| instant(t).to_rfc3339()),
                "matters_most": m.matters_at.is_some(),
                "you_noticed": answers,
            })
        })
        .collect();
    // Your own check-ins, and every weekly reflection posted to the two of you.
    let check_ins = render::check_ins_json(&engine.check_ins_of(couple, slot).await?);
    let reflections = render::reflections_json(engine.library(), &engine.posted_reflections(couple).await?, &c);
    let doc = serde_json::json!({
        "you": c.partner(slot).name,
        "partner": c.partner(slot.other()).name,
        "your_role": c.partner(slot).role.as_str(),
        "phase": c.phase.as_str(),
        "prompts": items,
        // Your own hard moments only: your partner's never reach your export.
        "hard_moments": moments,
        "commitments": commitments,
        "check_ins": check_ins,
        "reflections": reflections,
    });
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| BotError::Internal(e.into()))?;
    let Some(user) = c.partner(slot).user_id() else { return Ok(false) };
    let sent = async {
        let dm = serenity::UserId::new(user).create_dm_channel(http).await?;
        dm.send_message(
            http,
            CreateMessage::new().content(note).add_file(CreateAttachment::bytes(bytes, "mend-export.json")),
        )
        .await
    }
    .await;
    if let Err(e) = &sent {
        tracing::info!(error = %e, "export DM failed");
    }
    Ok(sent.is_ok())
}

/// Delete everything you have written on mend (asks first).
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn forget(ctx: Context<'_>) -> Result<(), BotError> {
    couple_here(ctx).await?;
    let button = CreateButton::new(Action::ForgetConfirm.custom_id())
        .label("Yes, delete what I wrote")
        .style(serenity::ButtonStyle::Danger);
    ctx.send(
        poise::CreateReply::default()
            .content(text::FORGET_ASK)
            .components(vec![CreateActionRow::Buttons(vec![button])])
            .ephemeral(true),
    )
    .await?;
    Ok(())
}
