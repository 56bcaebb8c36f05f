//! Everything mend posts on its own: the scheduler's loop, prompts, reveals,
//! nudges and reflections. Work that needs no interaction token, so it never
//! depends on one still being valid.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, CreateAllowedMentions, CreateButton, CreateMessage, CreateThread, Http, MessageId, Nonce, UserId,
};
use tokio::sync::Notify;

use super::ids::Action;
use super::{BotSettings, render, text};
use crate::core::model::Slot;
use crate::engine::{Engine, Reveal, instant};
use crate::store::couples::Couple;
use crate::store::deliveries::Delivery;
use crate::store::discord::{self as links, Home};

/// How many couples are sent to at once: concurrent within Discord's limits
/// (serenity's rate limiter queues per route), not one couple after another.
const FAN_OUT: usize = 16;

/// Posts mend makes on its own behalf (notices, reveals) share one budget, so a
/// burst of answers cannot flood Discord: serenity's limiter lets each waiting
/// request retry by itself, and Discord bans an IP after 10,000 invalid
/// requests in 10 minutes.
static POSTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(FAN_OUT);

async fn posting_permit() -> tokio::sync::SemaphorePermit<'static> {
    POSTING.acquire().await.expect("the posting budget is never closed")
}
/// The longest the scheduler sleeps without looking again.
const MAX_SLEEP: StdDuration = StdDuration::from_secs(60);

/// Starts the scheduler: a dumb loop around `step`, woken early by `wake`.
pub fn spawn_scheduler(
    http: Arc<Http>,
    engine: Engine,
    settings: BotSettings,
    wake: Arc<Notify>,
    lifecycle: Arc<super::Lifecycle>,
) {
    tokio::spawn(async move {
        while !lifecycle.stopping() {
            let running = lifecycle.enter();
            let result = step(&http, &engine, &settings, &lifecycle).await;
            drop(running);
            let next = match result {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "scheduler step failed");
                    None
                }
            };
            let sleep = next.and_then(|t| (t - engine.now()).to_std().ok()).map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = wake.notified() => {}
            }
        }
    });
}

/// One pass: claim what is due, send it, nudge, reflect. Returns when next to
/// look.
pub async fn step(
    http: &Http,
    engine: &Engine,
    settings: &BotSettings,
    lifecycle: &super::Lifecycle,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    engine.claim_due().await?;
    // Every pending prompt, a batch at a time: a backlog larger than a batch is
    // not left waiting for the next wake-up.
    let mut cursor = 0;
    while !lifecycle.stopping() {
        let batch = engine.pending_after(cursor, 1_000).await?;
        let Some(last) = batch.last() else { break };
        cursor = last.id;
        futures::stream::iter(batch)
            // A stop lets sends under way finish and starts no more; the outbox
            // keeps the rest for the next start.
            .take_while(|_| std::future::ready(!lifecycle.stopping()))
            .for_each_concurrent(FAN_OUT, |d| async move {
                if let Err(e) = send_prompt(http, engine, &d).await {
                    tracing::warn!(delivery_id = d.id, couple_id = d.couple_id, error = %e, "could not send a prompt yet");
                }
            })
            .await;
    }
    post_unposted_reveals(http, engine).await?;
    send_nudges(http, engine, settings).await?;
    send_reflections(http, engine, settings).await?;
    let next_fire = crate::store::schedules::earliest(engine.pool()).await?.map(instant);
    // Nudges come due between fires: look again within the minute.
    Ok(next_fire)
}

fn nonce(s: String) -> Nonce {
    debug_assert!(s.len() <= 25, "Discord nonces hold at most 25 characters");
    Nonce::String(s)
}

async fn dm(http: &Http, user: u64) -> serenity::Result<ChannelId> {
    Ok(UserId::new(user).create_dm_channel(http).await?.id)
}

fn user_id(couple: &Couple, slot: Slot) -> Option<u64> {
    couple.partner(slot).external_id.as_deref().and_then(|s| s.parse().ok())
}

/// Posts a prompt. The nonce is derived from the delivery, with
/// `enforce_nonce`, so a retry after a crash returns the message already posted
/// instead of posting it twice.
pub async fn send_prompt(http: &Http, engine: &Engine, d: &Delivery) -> anyhow::Result<()> {
    let Some(p) = engine.prepare(d.id).await? else {
        return Ok(());
    };
    let Some(home) = links::home(engine.pool(), p.couple.id).await? else {
        anyhow::bail!("couple has no home on Discord");
    };
    let library = engine.library();
    let mut first_message = None;
    // A delivery whose prompt was already chosen was attempted before (mend
    // stopped mid-send). The nonce dedupes a re-post for a few minutes only, so
    // look for the earlier post first: its buttons carry the delivery id.
    let retry = d.chosen.is_some();
    let earlier = match home.channel_id {
        Some(channel) if retry => already_posted(http, channel, d.id).await,
        _ => None,
    };
    match home.channel_id {
        Some(channel) if earlier.is_some() => {
            let m = earlier.expect("checked");
            links::add_message(engine.pool(), d.id, None, channel, m).await?;
            first_message = Some(m);
        }
        Some(channel) => {
            let message = CreateMessage::new()
                .embed(render::prompt_embed(library, &p, None))
                .components(render::prompt_buttons(d.id, p.kind))
                .allowed_mentions(CreateAllowedMentions::new())
                .nonce(nonce(format!("p{}", d.id)))
                .enforce_nonce(true);
            let sent = match ChannelId::new(channel).send_message(http, message).await {
                Ok(sent) => sent,
                Err(e) => {
                    if let Some(why) = Unreachable::from_error(&e) {
                        engine.mark_missed(d.id).await?;
                        home_unreachable(http, engine, p.couple.id, why).await?;
                        return Ok(());
                    }
                    return Err(e.into());
                }
            };
            links::add_message(engine.pool(), d.id, None, channel, sent.id.get()).await?;
            first_message = Some(sent.id.get());
        }
        None => {
            for slot in Slot::BOTH {
                let Some(user) = user_id(&p.couple, slot) else { continue };
                let result: serenity::Result<(ChannelId, MessageId)> = async {
                    let channel = dm(http, user).await?;
                    if retry && let Some(m) = already_posted(http, channel.get(), d.id).await {
                        return Ok((channel, MessageId::new(m)));
                    }
                    let message = CreateMessage::new()
                        .embed(render::prompt_embed(library, &p, Some(slot)))
                        .components(render::prompt_buttons(d.id, p.kind))
                        .nonce(nonce(format!("p{}s{}", d.id, slot.index())))
                        .enforce_nonce(true);
                    let sent = channel.send_message(http, message).await?;
                    Ok((channel, sent.id))
                }
                .await;
                match result {
                    Ok((channel, message)) => {
                        links::add_message(engine.pool(), d.id, Some(slot), channel.get(), message.get()).await?;
                        first_message.get_or_insert(message.get());
                    }
                    Err(e) => {
                        tracing::warn!(couple_id = p.couple.id, slot = slot.index(), error = %e, "could not DM a prompt")
                    }
                }
            }
        }
    }
    match first_message {
        Some(m) => engine.mark_sent(d.id, Some(&m.to_string())).await?,
        None => anyhow::bail!("the prompt reached neither partner"),
    }
    Ok(())
}

/// Posts both answers together: in a thread under the prompt in the couple's
/// channel, or to each partner in DMs.
pub async fn post_reveal(http: &Http, engine: &Engine, couple: &Couple, reveal: &Reveal) -> anyhow::Result<()> {
    let _permit = posting_permit().await;
    let home = links::home(engine.pool(), couple.id).await?;
    let chosen = reveal.delivery.chosen.as_ref();
    let mut parts = vec![text::reveal_heading().to_string()];
    for r in &reveal.responses {
        let prompt = chosen.and_then(|c| engine.library().prompt(&c.prompts[r.slot.index()]));
        let same_prompt = chosen.is_some_and(|c| c.prompts[0] == c.prompts[1]);
        parts.extend(render::revealed_answer(
            &couple.partner(r.slot).name,
            prompt.filter(|_| !same_prompt).map(|p| p.text.as_str()),
            r.body.as_deref(),
            r.done,
        ));
    }
    let messages = links::messages(engine.pool(), reveal.delivery.id).await?;
    let day = instant(reveal.delivery.occurrence)
        .with_timezone(&crate::core::schedule::parse_zone(&couple.tz).unwrap_or(chrono_tz::UTC))
        .format("%a %-d %b")
        .to_string();
    match home {
        Some(Home { channel_id: Some(channel), .. }) => {
            let message = messages.iter().find(|(slot, ..)| slot.is_none()).map(|(_, _, m)| *m);
            let target = match message {
                Some(m) => match ChannelId::new(channel)
                    .create_thread_from_message(
                        http,
                        MessageId::new(m),
                        CreateThread::new(text::reveal_thread_name(&day)),
                    )
                    .await
                {
                    Ok(thread) => thread.id,
                    // Already created by an earlier, interrupted attempt: a thread
                    // started from a message takes the message's id.
                    Err(e) if discord_code(&e) == Some(160004) => ChannelId::new(m),
                    Err(e) => {
                        tracing::warn!(couple_id = couple.id, error = %e, "could not open a reveal thread; posting in the channel");
                        ChannelId::new(channel)
                    }
                },
                None => ChannelId::new(channel),
            };
            for (i, part) in parts.iter().enumerate() {
                let message = CreateMessage::new()
                    .content(part)
                    .allowed_mentions(CreateAllowedMentions::new())
                    .nonce(nonce(format!("v{}n{i}", reveal.delivery.id)))
                    .enforce_nonce(true);
                target.send_message(http, message).await?;
            }
            let button = CreateButton::new(Action::Meaningful(reveal.delivery.id).custom_id())
                .label("This meant something to me")
                .style(serenity::ButtonStyle::Secondary);
            let closing = CreateMessage::new()
                .content("If your partner's words touched you, you can say so privately:")
                .button(button)
                .nonce(nonce(format!("v{}b", reveal.delivery.id)))
                .enforce_nonce(true);
            target.send_message(http, closing).await?;
        }
        _ => {
            for slot in Slot::BOTH {
                let Some(user) = user_id(couple, slot) else { continue };
                let channel = dm(http, user).await?;
                for (i, part) in parts.iter().enumerate() {
                    let message = CreateMessage::new()
                        .content(part)
                        .nonce(nonce(format!("v{}s{}n{i}", reveal.delivery.id, slot.index())))
                        .enforce_nonce(true);
                    channel.send_message(http, message).await?;
                }
                let button = CreateButton::new(Action::Meaningful(reveal.delivery.id).custom_id())
                    .label("This meant something to me")
                    .style(serenity::ButtonStyle::Secondary);
                let closing = CreateMessage::new()
                    .content("If your partner's words touched you, you can say so privately.")
                    .button(button)
                    .nonce(nonce(format!("v{}s{}b", reveal.delivery.id, slot.index())))
                    .enforce_nonce(true);
                channel.send_message(http, closing).await?;
            }
        }
    }
    engine.mark_reveal_posted(reveal.delivery.id).await?;
    Ok(())
}

/// The id of a prompt for `delivery` mend already posted among the channel's
/// recent messages, found by the delivery id its buttons carry.
async fn already_posted(http: &Http, channel: u64, delivery: i64) -> Option<u64> {
    let marks = [Action::Answer(delivery).custom_id(), Action::Done(delivery).custom_id()];
    let recent = ChannelId::new(channel).messages(http, serenity::GetMessages::new().limit(50)).await.ok()?;
    recent
        .iter()
        .find(|m| {
            m.components.iter().flat_map(|row| row.components.iter()).any(|c| match c {
                serenity::ActionRowComponent::Button(b) => match &b.data {
                    serenity::ButtonKind::NonLink { custom_id, .. } => marks.contains(custom_id),
                    _ => false,
                },
                _ => false,
            })
        })
        .map(|m| m.id.get())
}

/// Discord's JSON error code of a failed request, if it has one.
pub fn discord_code(e: &serenity::Error) -> Option<isize> {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

/// Posts reveals whose posting a crash interrupted.
async fn post_unposted_reveals(http: &Http, engine: &Engine) -> anyhow::Result<()> {
    for reveal in engine.unposted_reveals(chrono::Duration::seconds(10)).await? {
        let couple = engine.couple(reveal.delivery.couple_id).await?;
        if let Err(e) = post_reveal(http, engine, &couple, &reveal).await {
            tracing::warn!(delivery_id = reveal.delivery.id, error = %e, "could not post a reveal yet");
        }
    }
    Ok(())
}

/// Tells the couple's channel (or the other partner, in DMs) that someone
/// answered — never what.
pub async fn announce_answer(http: &Http, engine: &Engine, couple: &Couple, slot: Slot) -> anyhow::Result<()> {
    notify(http, engine, couple, &text::has_answered(&couple.partner(slot).name), &[slot.other()]).await
}

/// Posts a notice for both partners in the couple's home.
pub async fn notify_couple(http: &Http, engine: &Engine, couple: &Couple, content: &str) -> anyhow::Result<()> {
    notify(http, engine, couple, content, &Slot::BOTH).await
}

/// Posts `content` in the couple's channel, or, for a couple in DMs, to the
/// partners in `in_dms`. It mentions no one.
async fn notify(http: &Http, engine: &Engine, couple: &Couple, content: &str, in_dms: &[Slot]) -> anyhow::Result<()> {
    let _permit = posting_permit().await;
    match links::home(engine.pool(), couple.id).await? {
        Some(Home { channel_id: Some(channel), .. }) => {
            let message = CreateMessage::new().content(content).allowed_mentions(CreateAllowedMentions::new());
            ChannelId::new(channel).send_message(http, message).await?;
        }
        _ => {
            for slot in in_dms {
                if let Some(user) = user_id(couple, *slot) {
                    dm(http, user).await?.send_message(http, CreateMessage::new().content(content)).await?;
                }
            }
        }
    }
    Ok(())
}

/// One gentle DM to each partner who hasn't responded a while after a prompt,
/// with the same Answer button; a mention in the channel when their DMs are closed.
async fn send_nudges(http: &Http, engine: &Engine, settings: &BotSettings) -> anyhow::Result<()> {
    let now = engine.now();
    let before = (now - settings.nudge_after).timestamp();
    let after = before - chrono::Duration::hours(24).num_seconds();
    let due = links::nudges_due(engine.pool(), after, before).await?;
    tracing::debug!(count = due.len(), "nudges due");
    for (delivery, couple_id, slot) in due {
        let couple = engine.couple(couple_id).await?;
        let Some(d) = engine.delivery(delivery).await? else { continue };
        let Some(user) = user_id(&couple, slot) else { continue };
        // Recorded before sending: after a crash a nudge may be lost, never doubled.
        if !links::record_nudge(engine.pool(), delivery, slot, now.timestamp(), "dm").await? {
            continue;
        }
        let kind = d.chosen.as_ref().map(|c| c.kind).unwrap_or(crate::core::model::Kind::Shared);
        let buttons = render::prompt_buttons(delivery, kind);
        let direct = async {
            let channel = dm(http, user).await?;
            channel
                .send_message(
                    http,
                    CreateMessage::new().content(text::nudge(&couple.partner(slot).name)).components(buttons.clone()),
                )
                .await
        }
        .await;
        if let Err(e) = direct {
            tracing::info!(couple_id, slot = slot.index(), error = %e, "nudge by DM failed; trying the channel");
            let Some(Home { channel_id: Some(channel), .. }) = links::home(engine.pool(), couple_id).await? else {
                continue;
            };
            ChannelId::new(channel)
                .send_message(
                    http,
                    CreateMessage::new()
                        .content(text::nudge_in_channel(&format!("<@{user}>")))
                        .allowed_mentions(CreateAllowedMentions::new().users([UserId::new(user)])),
                )
                .await?;
            links::set_nudge_via(engine.pool(), delivery, slot, "channel").await?;
        }
    }
    Ok(())
}

async fn send_reflections(http: &Http, engine: &Engine, settings: &BotSettings) -> anyhow::Result<()> {
    for r in engine.pending_reflections(500).await? {
        let Some(reflection) = engine.prepare_reflection(&r).await? else { continue };
        let couple = engine.couple(r.couple_id).await?;
        let names = [couple.partners[0].name.as_str(), couple.partners[1].name.as_str()];
        let embed = render::reflection_embed(engine.library(), &reflection, names, settings.referral.as_deref());
        let mut first = None;
        match links::home(engine.pool(), couple.id).await? {
            Some(Home { channel_id: Some(channel), .. }) => {
                let sent = ChannelId::new(channel)
                    .send_message(
                        http,
                        CreateMessage::new()
                            .embed(embed)
                            .allowed_mentions(CreateAllowedMentions::new())
                            .nonce(nonce(format!("r{}", r.id)))
                            .enforce_nonce(true),
                    )
                    .await?;
                first = Some(sent.id.get());
            }
            _ => {
                for slot in Slot::BOTH {
                    let Some(user) = user_id(&couple, slot) else { continue };
                    let channel = dm(http, user).await?;
                    let message = CreateMessage::new()
                        .embed(embed.clone())
                        .nonce(nonce(format!("r{}s{}", r.id, slot.index())))
                        .enforce_nonce(true);
                    first.get_or_insert(channel.send_message(http, message).await?.id.get());
                }
            }
        }
        engine.mark_reflection_sent(r.id, first.map(|m| m.to_string()).as_deref()).await?;
    }
    Ok(())
}

/// Why a couple's private channel cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The channel was deleted.
    Gone,
    /// mend lost the permission to see or post in it.
    NoAccess,
}

impl Unreachable {
    /// Errors that retrying will not fix; anything else (429, 5xx, timeouts) is
    /// retried on the next step.
    pub fn from_error(e: &serenity::Error) -> Option<Unreachable> {
        match discord_code(e) {
            Some(10003) => Some(Unreachable::Gone),
            Some(50001 | 50013) => Some(Unreachable::NoAccess),
            _ => None,
        }
    }
}

/// The couple's channel cannot be used: prompts pause instead of failing every
/// day, and both partners are told, privately, what to do. A deleted channel
/// moves the couple to direct messages, where `/resume` brings prompts back.
pub async fn home_unreachable(http: &Http, engine: &Engine, couple_id: i64, why: Unreachable) -> anyhow::Result<()> {
    let Some(home) = links::home(engine.pool(), couple_id).await? else { return Ok(()) };
    let couple = engine.couple(couple_id).await?;
    if why == Unreachable::Gone {
        links::set_home(engine.pool(), &Home { channel_id: None, ..home }).await?;
    }
    match engine.pause(couple_id, None).await {
        Ok(()) | Err(crate::engine::EngineError::User(_)) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::warn!(couple_id, reason = ?why, "the couple's channel is unreachable; prompts paused");
    let message = match why {
        Unreachable::Gone => text::CHANNEL_GONE,
        Unreachable::NoAccess => text::CHANNEL_NO_ACCESS,
    };
    for slot in Slot::BOTH {
        let Some(user) = user_id(&couple, slot) else { continue };
        let sent =
            async { dm(http, user).await?.send_message(http, CreateMessage::new().content(message)).await }.await;
        if let Err(e) = sent {
            tracing::info!(couple_id, slot = slot.index(), error = %e, "could not tell a partner their channel is unreachable");
        }
    }
    Ok(())
}

/// A partner left the server: prompts pause, and the partner still there is told.
pub async fn partner_left(http: &Http, engine: &Engine, couple_id: i64, who: Slot) -> anyhow::Result<()> {
    let couple = engine.couple(couple_id).await?;
    match engine.pause(couple_id, None).await {
        Ok(()) | Err(crate::engine::EngineError::User(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let message = text::partner_left(&couple.partner(who).name);
    if let Some(Home { channel_id: Some(channel), .. }) = links::home(engine.pool(), couple_id).await? {
        let _ = ChannelId::new(channel)
            .send_message(http, CreateMessage::new().content(&message).allowed_mentions(CreateAllowedMentions::new()))
            .await;
    }
    if let Some(user) = user_id(&couple, who.other()) {
        let _ = async { dm(http, user).await?.send_message(http, CreateMessage::new().content(&message)).await }.await;
    }
    tracing::info!(couple_id, "a partner left the server; prompts paused");
    Ok(())
}
