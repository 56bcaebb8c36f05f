//! The Discord transport of the outbox: renders each job and posts it, part by
//! part (the channel post, each partner's DM, a reveal's thread and messages),
//! recording each part as it lands, every post with a nonce. Discord's answers
//! are classified here, once, for every kind of message.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateMessage, CreateThread, Http, MessageId,
    Nonce, UserId,
};

use super::ids::Action;
use super::{render, text};
use crate::core::entities::Couple;
use crate::core::model::Slot;
use crate::core::outbox::{Failure, Notice, To, Unreachable};
use crate::engine::{Engine, Job, Outcome, instant};
use crate::worker::Transport;

/// Posts through serenity's HTTP client (its rate limiter included).
pub struct DiscordTransport {
    pub http: Arc<Http>,
    /// "When you're ready, I'm here: …", shown in reflections.
    pub referral: Option<String>,
}

/// Discord's JSON error code of a failed request, if it has one.
pub fn discord_code(e: &serenity::Error) -> Option<isize> {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

/// Classifies a failed request, once for every kind of message: retrying helps
/// only with rate limits, server errors and timeouts.
pub fn classify(e: &serenity::Error, slot: Option<Slot>) -> Failure {
    let detail = e.to_string();
    let unreachable = |why| Failure::Unreachable { why, slot, detail: detail.clone() };
    match discord_code(e) {
        Some(10003) => return unreachable(Unreachable::ChannelGone),
        Some(50001 | 50013) => return unreachable(Unreachable::NoAccess),
        Some(50007) => return unreachable(Unreachable::DmClosed),
        _ => {}
    }
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            if status == 429 || status >= 500 {
                Failure::Transient(detail)
            } else {
                Failure::Permanent(format!("{detail} ({status} {:?} {})", r.method, r.url))
            }
        }
        // Connection trouble and timeouts.
        serenity::Error::Http(_) | serenity::Error::Io(_) => Failure::Transient(detail),
        _ => Failure::Permanent(detail),
    }
}

/// Counts Discord's answer to one request by its class (`2xx`, `429`, `4xx`,
/// `5xx`, or `none` when no answer came), for `/metrics`; a call serenity
/// refused before sending anything is not counted.
fn count<T>(r: &serenity::Result<T>) {
    let class = match r {
        Ok(_) => "2xx",
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(e))) => match e.status_code.as_u16() {
            429 => "429",
            500.. => "5xx",
            _ => "4xx",
        },
        Err(serenity::Error::Http(_) | serenity::Error::Io(_)) => "none",
        Err(_) => return,
    };
    metrics::counter!("mend_discord_responses_total", "class" => class).increment(1);
}

fn nonce(item: i64, part: &str) -> Nonce {
    let s = format!("o{item}{part}");
    debug_assert!(s.len() <= 25, "Discord nonces hold at most 25 characters");
    Nonce::String(s)
}

/// The DM channel with `user`: the one mend already opened, or a new one
/// (remembered, since Discord limits opening them).
async fn dm(http: &Http, engine: &Engine, user: u64) -> serenity::Result<ChannelId> {
    if let Ok(Some(channel)) = engine.dm_channel(user).await {
        return Ok(ChannelId::new(channel));
    }
    let opened = UserId::new(user).create_dm_channel(http).await;
    count(&opened);
    let channel = opened?.id;
    if let Err(e) = engine.remember_dm_channel(user, channel.get()).await {
        tracing::warn!(error = %e, "could not remember a DM channel");
    }
    Ok(channel)
}

impl Transport for DiscordTransport {
    async fn send(&self, engine: &Engine, work: &Outcome) -> Result<(), Failure> {
        let post = Post { http: &self.http, engine, work };
        match &work.job {
            Job::Prompt(p) => post.prompt(p).await,
            Job::Reveal { couple, reveal } => post.reveal(couple, reveal).await,
            Job::Nudge { couple, slot, prompt, delivery } => post.nudge(couple, *slot, &prompt.text, delivery.id).await,
            Job::Reflection { couple, reflection } => {
                // The picture of the weeks goes with it, described in words.
                let (embed, picture) =
                    render::reflection(engine.library(), reflection, couple, self.referral.as_deref());
                let file = serenity::CreateAttachment::bytes(picture, render::PICTURE_FILE);
                post.to_home(couple, |m| m.embed(embed.clone()).add_file(file.clone())).await
            }
            Job::Notice { couple, notice, to } => post.notice(couple.as_ref(), notice, to).await,
        }
    }
}

/// One item being posted.
struct Post<'a> {
    http: &'a Http,
    engine: &'a Engine,
    work: &'a Outcome,
}

impl Post<'_> {
    /// Posts one part unless an earlier attempt did, and records it.
    async fn part(
        &self,
        part: &str,
        channel: ChannelId,
        slot: Option<Slot>,
        message: CreateMessage,
    ) -> Result<u64, Failure> {
        if let Some((_, m)) = self.work.posted(part) {
            return Ok(m);
        }
        let message = message.nonce(nonce(self.work.item.id, part)).enforce_nonce(true);
        let sent = channel.send_message(self.http, message).await;
        count(&sent);
        let sent = sent.map_err(|e| classify(&e, slot))?;
        self.record(part, channel.get(), sent.id.get()).await?;
        Ok(sent.id.get())
    }

    async fn record(&self, part: &str, channel: u64, message: u64) -> Result<(), Failure> {
        self.engine
            .posted_part(&self.work.item, part, channel, message)
            .await
            .map_err(|e| Failure::Transient(format!("could not record a post: {e}")))
    }

    fn channel(&self) -> Option<ChannelId> {
        self.work.home.as_ref().and_then(|h| h.channel_id).map(ChannelId::new)
    }

    /// The partner's DM channel, when they have a Discord id.
    async fn dm_of(&self, couple: &Couple, slot: Slot) -> Result<Option<ChannelId>, Failure> {
        match couple.partner(slot).user_id() {
            Some(user) => dm(self.http, self.engine, user).await.map(Some).map_err(|e| classify(&e, Some(slot))),
            None => Ok(None),
        }
    }

    /// Posts to the couple's channel, or to each partner's DMs. Every partner is
    /// tried; the first failure is returned after.
    async fn to_home(&self, couple: &Couple, build: impl Fn(CreateMessage) -> CreateMessage) -> Result<(), Failure> {
        if let Some(channel) = self.channel() {
            let m = build(CreateMessage::new()).allowed_mentions(CreateAllowedMentions::new());
            return self.part("c", channel, None, m).await.map(|_| ());
        }
        let build = &build;
        every(Slot::BOTH, |slot| async move {
            let Some(channel) = self.dm_of(couple, slot).await? else { return Ok(()) };
            self.part(&format!("d{}", slot.index()), channel, Some(slot), build(CreateMessage::new())).await.map(|_| ())
        })
        .await
    }

    async fn prompt(&self, p: &crate::engine::Prepared) -> Result<(), Failure> {
        let library = self.engine.library();
        let d = p.delivery.id;
        // Taken before: an earlier attempt may have posted it and stopped before
        // recording it. The nonce dedupes for a few minutes only, so look for the
        // earlier post first: its buttons carry the delivery id.
        let retry = self.work.item.attempts > 1;
        if let Some(channel) = self.channel() {
            if retry
                && self.work.posted("c").is_none()
                && let Some(m) = already_posted(self.http, channel, d).await
            {
                return self.record("c", channel.get(), m).await;
            }
            let buttons = if render::is_personal(library, &p.delivery) {
                render::personal_buttons(d)
            } else {
                render::prompt_buttons(d, p.kind)
            };
            let m = CreateMessage::new()
                .embed(render::prompt_embed(library, p, None))
                .components(buttons)
                .allowed_mentions(CreateAllowedMentions::new());
            return self.part("c", channel, None, m).await.map(|_| ());
        }
        every(Slot::BOTH, |slot| async move {
            let part = format!("d{}", slot.index());
            let Some(channel) = self.dm_of(&p.couple, slot).await? else { return Ok(()) };
            if retry
                && self.work.posted(&part).is_none()
                && let Some(m) = already_posted(self.http, channel, d).await
            {
                return self.record(&part, channel.get(), m).await;
            }
            let m = CreateMessage::new()
                .embed(render::prompt_embed(library, p, Some(slot)))
                .components(render::prompt_buttons(d, p.kind));
            self.part(&part, channel, Some(slot), m).await.map(|_| ())
        })
        .await
    }

    /// Both answers together: in a thread under the prompt in the couple's
    /// channel, or to each partner in DMs.
    async fn reveal(&self, couple: &Couple, reveal: &crate::engine::Reveal) -> Result<(), Failure> {
        let heading = match reveal.delivery.kind() {
            crate::core::model::Kind::Action => text::action_reveal_heading(
                reveal.responses.iter().all(|r| r.done == Some(true)),
                reveal.responses.iter().any(|r| r.body.is_some()),
            ),
            _ if render::is_personal(self.engine.library(), &reveal.delivery) => text::REVEAL_HEADING_PERSONAL,
            _ => text::reveal_heading(),
        };
        // Each part is named for whose words it holds (`a0…`, `a1…`), so that
        // `/forget` can find the messages holding one partner's answers.
        let mut parts = vec![("h".to_string(), heading.to_string())];
        for r in &reveal.responses {
            let Some(body) = r.body.as_deref() else { continue };
            let pieces = render::revealed_answer(&couple.partner(r.slot).name, body);
            parts.extend(pieces.into_iter().enumerate().map(|(i, p)| (format!("a{}{i:02}", r.slot.index()), p)));
        }
        let button = || {
            vec![CreateActionRow::Buttons(vec![
                CreateButton::new(Action::Meaningful(reveal.delivery.id).custom_id())
                    .label("This meant something to me")
                    .style(serenity::ButtonStyle::Secondary),
            ])]
        };
        if let Some(channel) = self.channel() {
            let target = self.thread(couple, channel, reveal).await?;
            for (part, content) in &parts {
                let m = CreateMessage::new().content(content).allowed_mentions(CreateAllowedMentions::new());
                self.part(part, target, None, m).await?;
            }
            let closing = CreateMessage::new()
                .content("If your partner's words touched you, you can say so privately:")
                .components(button());
            return self.part("b", target, None, closing).await.map(|_| ());
        }
        let parts = &parts;
        every(Slot::BOTH, |slot| async move {
            let Some(channel) = self.dm_of(couple, slot).await? else { return Ok(()) };
            for (part, content) in parts {
                let m = CreateMessage::new().content(content);
                self.part(&format!("d{}{part}", slot.index()), channel, Some(slot), m).await?;
            }
            let closing = CreateMessage::new()
                .content("If your partner's words touched you, you can say so privately.")
                .components(button());
            self.part(&format!("d{}b", slot.index()), channel, Some(slot), closing).await.map(|_| ())
        })
        .await
    }

    /// The reveal's thread under the prompt (once: a thread started from a
    /// message takes the message's id, so an earlier attempt's is found on 160004).
    async fn thread(
        &self,
        couple: &Couple,
        channel: ChannelId,
        reveal: &crate::engine::Reveal,
    ) -> Result<ChannelId, Failure> {
        if let Some((thread, _)) = self.work.posted("t") {
            return Ok(ChannelId::new(thread));
        }
        let Some(message) = self.work.prompt_messages.iter().find(|(slot, ..)| slot.is_none()).map(|(_, _, m)| *m)
        else {
            return Ok(channel);
        };
        let day = instant(reveal.delivery.occurrence).with_timezone(&couple.zone()).format("%a %-d %b").to_string();
        let name = CreateThread::new(text::reveal_thread_name(&day));
        let made = channel.create_thread_from_message(self.http, MessageId::new(message), name).await;
        count(&made);
        let thread = match made {
            Ok(thread) => thread.id,
            Err(e) if discord_code(&e) == Some(160004) => ChannelId::new(message),
            Err(e) => {
                let failure = classify(&e, None);
                if matches!(failure, Failure::Transient(_) | Failure::Unreachable { .. }) {
                    return Err(failure);
                }
                tracing::warn!(couple_id = couple.id, error = %e, "could not open a reveal thread; posting in the channel");
                channel
            }
        };
        self.record("t", thread.get(), thread.get()).await?;
        Ok(thread)
    }

    /// One gentle DM to a partner who hasn't responded, with the question and
    /// the same buttons; a mention in the channel when their DMs are closed.
    async fn nudge(&self, couple: &Couple, slot: Slot, question: &str, delivery: i64) -> Result<(), Failure> {
        let name = &couple.partner(slot).name;
        let kind = match &self.work.job {
            Job::Nudge { delivery, .. } => delivery.kind(),
            _ => crate::core::model::Kind::Shared,
        };
        let direct = async {
            let Some(channel) = self.dm_of(couple, slot).await? else {
                return Err(Failure::Unreachable {
                    why: Unreachable::DmClosed,
                    slot: Some(slot),
                    detail: "no id".into(),
                });
            };
            let m = CreateMessage::new()
                .content(format!("{}\n\n> {}", text::nudge(name), render::clip(question, 1500)))
                .components(render::prompt_buttons(delivery, kind));
            self.part(&format!("d{}", slot.index()), channel, Some(slot), m).await.map(|_| ())
        }
        .await;
        match (direct, self.channel(), couple.partner(slot).user_id()) {
            (Err(Failure::Unreachable { why: Unreachable::DmClosed, .. }), Some(channel), Some(user)) => {
                // In the channel both read, the question shows only if it is both's.
                let personal = match &self.work.job {
                    Job::Nudge { delivery, .. } => render::is_personal(self.engine.library(), delivery),
                    _ => true,
                };
                let shown = (!personal).then(|| render::clip(question, 1500));
                let m = CreateMessage::new()
                    .content(text::nudge_in_channel(&format!("<@{user}>"), shown.as_deref()))
                    .allowed_mentions(CreateAllowedMentions::new().users([UserId::new(user)]));
                self.part(&format!("c{}", slot.index()), channel, None, m).await.map(|_| ())
            }
            (result, ..) => result,
        }
    }

    async fn notice(&self, couple: Option<&Couple>, notice: &Notice, to: &To) -> Result<(), Failure> {
        let zone = couple.map_or(chrono_tz::UTC, Couple::zone);
        let when = |t: i64| instant(t).with_timezone(&zone).format("%A %-d %B, %H:%M").to_string();
        if let (Notice::Invitation { pairing, channel, .. }, To::Users(users)) = (notice, to) {
            let user = users.first().and_then(|u| u.parse().ok()).unwrap_or_default();
            return self.invitation(user, *pairing, *channel, &text::notice(notice, None, "", false, when)).await;
        }
        // The welcome names the couple's own schedule, in their timezone.
        let schedule = match (notice, couple) {
            (Notice::Welcome, Some(c)) => super::commands::schedule::prompt_words(self.engine, c.id).await,
            (Notice::Ready, Some(c)) => {
                super::commands::schedule::next_prompt_words(self.engine, c.id).await.unwrap_or_default()
            }
            // A commitment's words, read (sealed at rest) as it is posted.
            (n, _) if n.commitment().is_some() => {
                let id = n.commitment().expect("checked");
                let m = self.engine.commitment_for_notice(id).await.map_err(|e| Failure::Transient(e.to_string()))?;
                let Some(m) = m else { return Ok(()) };
                let note = matches!(n, Notice::CommitmentRevised { .. } | Notice::CommitmentRetired { .. })
                    .then_some(m.note.as_deref())
                    .flatten();
                text::commitment_words(&m.text, m.spec.as_deref(), note)
            }
            _ => String::new(),
        };
        let content = text::notice(notice, couple, &schedule, self.channel().is_some(), when);
        let build = |m: CreateMessage| {
            let m = m.content(&content);
            match notice {
                Notice::Welcome => m.components(super::commands::couple::role_row()),
                Notice::HardMoment { moment, .. } => m.components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new(Action::HardHere(*moment).custom_id())
                        .label("I'm here")
                        .style(serenity::ButtonStyle::Primary),
                ])]),
                Notice::CommitmentAsk { check, .. } => m.components(super::commitments::ask_buttons(*check)),
                Notice::CheckIn { reflection, .. } => m.components(render::check_in_button(*reflection)),
                _ => m,
            }
        };
        match (to, couple) {
            (To::Users(users), _) => {
                let users: Vec<u64> = users.iter().filter_map(|u| u.parse().ok()).collect();
                let build = &build;
                every(users.into_iter().enumerate(), |(i, user)| async move {
                    let channel = dm(self.http, self.engine, user).await.map_err(|e| classify(&e, None))?;
                    self.part(&format!("u{i}"), channel, None, build(CreateMessage::new())).await.map(|_| ())
                })
                .await
            }
            (_, None) => Ok(()),
            (To::Home, Some(c)) => self.to_home(c, build).await,
            (To::HomeOr(_), Some(_)) if self.channel().is_some() => {
                let channel = self.channel().expect("checked");
                let m = build(CreateMessage::new()).allowed_mentions(CreateAllowedMentions::new());
                self.part("c", channel, None, m).await.map(|_| ())
            }
            (To::HomeOr(slot) | To::Partner(slot), Some(c)) => {
                let direct = async {
                    let Some(channel) = self.dm_of(c, *slot).await? else { return Ok(()) };
                    self.part(&format!("d{}", slot.index()), channel, Some(*slot), build(CreateMessage::new()))
                        .await
                        .map(|_| ())
                }
                .await;
                // A hard moment shared with a partner whose DMs are closed reaches
                // them in the couple's own channel instead: it says no more there.
                match (direct, notice, self.channel(), c.partner(*slot).user_id()) {
                    (
                        Err(Failure::Unreachable { why: Unreachable::DmClosed, .. }),
                        Notice::HardMoment { .. },
                        Some(channel),
                        Some(user),
                    ) => {
                        let m = build(CreateMessage::new())
                            .content(format!("<@{user}>, {content}"))
                            .allowed_mentions(CreateAllowedMentions::new().users([UserId::new(user)]));
                        self.part(&format!("c{}", slot.index()), channel, None, m).await.map(|_| ())
                    }
                    (result, ..) => result,
                }
            }
        }
    }
}

impl Post<'_> {
    /// An invitation, privately to the invited partner. Should their DMs be
    /// closed, a neutral mention where it was started asks them to open them.
    async fn invitation(&self, user: u64, pairing: i64, started_in: u64, content: &str) -> Result<(), Failure> {
        let message =
            CreateMessage::new().content(content).components(super::commands::couple::invitation_buttons(pairing));
        let sent = match dm(self.http, self.engine, user).await {
            Ok(channel) => self.part("u0", channel, None, message).await.map(|_| ()),
            Err(e) => Err(classify(&e, None)),
        };
        match sent {
            Err(Failure::Unreachable { why: Unreachable::DmClosed, .. }) => {
                let ask = CreateMessage::new()
                    .content(text::open_your_dms(&format!("<@{user}>")))
                    .allowed_mentions(CreateAllowedMentions::new().users([UserId::new(user)]));
                self.part("m", ChannelId::new(started_in), None, ask).await?;
                self.engine
                    .invitation_not_reached(pairing)
                    .await
                    .map_err(|e| Failure::Transient(format!("could not tell the one who invited: {e}")))
            }
            other => other,
        }
    }
}

/// The id of a prompt for `delivery` mend already posted among the channel's
/// recent messages, found by the delivery id its buttons carry.
async fn already_posted(http: &Http, channel: ChannelId, delivery: i64) -> Option<u64> {
    let marks =
        [Action::Answer(delivery).custom_id(), Action::Done(delivery).custom_id(), Action::Mine(delivery).custom_id()];
    let recent = channel.messages(http, serenity::GetMessages::new().limit(50)).await;
    count(&recent);
    let recent = recent.ok()?;
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

/// Runs `post` for each item (each partner, each user), all of them even after
/// one fails, and returns the first failure: one partner's closed DMs never keep
/// the other from getting theirs.
async fn every<T, F, Fut>(items: impl IntoIterator<Item = T>, post: F) -> Result<(), Failure>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let mut first_failure = None;
    for item in items {
        if let Err(f) = post(item).await {
            first_failure.get_or_insert(f);
        }
    }
    first_failure.map_or(Ok(()), Err)
}
