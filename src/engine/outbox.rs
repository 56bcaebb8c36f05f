//! The outbox, as the worker sees it: take what is due (leased), open it into a
//! job with everything needed to post it, record each part as it is posted,
//! and record the outcome — retried with backoff, given up at its deadline,
//! and an unreachable couple paused and told, never holding up anyone else.

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{Engine, Prepared, Result, Reveal, ts};
use crate::core::entities::{Chosen, Couple, Delivery, Home, Response, ResponseStatus, Status};
use crate::core::model::{Depth, Slot};
use crate::core::outbox::{Failure, Item, ItemKind, ItemStatus, NewItem, Notice, OutboxId, To, backoff, lifetime};
use crate::core::prompts::Prompt;
use crate::core::reflection::Reflection;
use crate::core::select::{self, pick_prompt};
use crate::store::{self, StoreError, couples, deliveries, homes, outbox, reflections, responses};

/// What an outbox item posts, with what the adapter needs to word it.
#[derive(Debug, Clone)]
pub enum Job {
    Prompt(Prepared),
    Reveal {
        couple: Couple,
        reveal: Reveal,
    },
    /// One gentle reminder to `slot`, with the question.
    Nudge {
        couple: Couple,
        delivery: Delivery,
        slot: Slot,
        prompt: Prompt,
    },
    Reflection {
        couple: Couple,
        reflection: Reflection,
    },
    /// `couple` is `None` for people whose couple no longer exists.
    Notice {
        couple: Option<Couple>,
        notice: Notice,
        to: To,
    },
}

/// An item opened for posting.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub item: Item,
    pub job: Job,
    /// Where the couple lives now (`None`: nowhere, or a couple that ended).
    pub home: Option<Home>,
    /// Parts already posted by an earlier attempt: (part, channel, message).
    pub posted: Vec<(String, u64, u64)>,
    /// For a reveal or a nudge: where the prompt was posted (slot `None`: the channel).
    pub prompt_messages: Vec<(Option<Slot>, u64, u64)>,
}

impl Outcome {
    /// Whether `part` already reached its destination.
    pub fn posted(&self, part: &str) -> Option<(u64, u64)> {
        self.posted.iter().find(|(p, ..)| p == part).map(|(_, c, m)| (*c, *m))
    }
}

impl Engine {
    /// Leases up to `limit` due items for `owner`, earliest first.
    pub async fn claim_work(&self, owner: &str, limit: i64) -> Result<Vec<Item>> {
        let now = ts(self.now());
        let until = now + self.settings.lease.num_seconds();
        if !outbox::any_due(&self.pool, now).await? {
            return Ok(Vec::new());
        }
        let mut tx = store::begin_write(&self.pool).await?;
        let items = outbox::claim(&mut tx, owner, now, until, limit).await?;
        tx.commit().await?;
        Ok(items)
    }

    /// Opens a leased item. `None` when it is no longer owed (the couple paused
    /// or ended, the moment passed, the partner already answered); it is then
    /// recorded as dropped, and a prompt or reflection as missed.
    pub async fn open_item(&self, owner: &str, item: &Item) -> Result<Option<Outcome>> {
        // A nudge, notice or reveal whose moment has passed (mend was down) is
        // not posted late; prompts and reflections check their own grace.
        let late = ts(self.now()) > item.deadline
            && matches!(item.kind, ItemKind::Nudge | ItemKind::Notice | ItemKind::Reveal);
        let job = match item.kind {
            _ if late => {
                tracing::warn!(outbox_id = item.id, kind = %item.kind, "its moment passed while it waited; not posted");
                None
            }
            ItemKind::Prompt => self.prepare(item).await?.map(Job::Prompt),
            ItemKind::Reveal => self.open_reveal(item).await?,
            ItemKind::Nudge => self.open_nudge(item).await?,
            ItemKind::Reflection => self.open_reflection(item).await?,
            ItemKind::Notice => self.open_notice(item).await?,
        };
        let Some(job) = job else {
            outbox::finish(&self.pool, item.id, owner, ItemStatus::Dropped, ts(self.now()), None).await?;
            return Ok(None);
        };
        let home = match item.couple_id {
            Some(c) => homes::home(&self.pool, c).await?,
            None => None,
        };
        let prompt_messages = match item.delivery_id {
            Some(d) if matches!(item.kind, ItemKind::Reveal | ItemKind::Nudge) => {
                homes::messages(&self.pool, d).await?
            }
            _ => Vec::new(),
        };
        let posted = outbox::parts(&self.pool, item.id).await?;
        Ok(Some(Outcome { item: item.clone(), job, home, posted, prompt_messages }))
    }

    /// Chooses the prompts of a claimed delivery (once: a retry keeps the first
    /// choice), unless it can no longer be sent (the couple paused or ended, or
    /// it has waited past the grace window); it is then recorded as missed.
    async fn prepare(&self, item: &Item) -> Result<Option<Prepared>> {
        let Some(id) = item.delivery_id else { return Ok(None) };
        let now = self.now();
        let mut tx = store::begin_write(&self.pool).await?;
        let Some(delivery) = deliveries::get(&mut *tx, id).await? else { return Ok(None) };
        let couple = couples::get(&mut tx, delivery.couple_id).await?;
        let stale = ts(now) - delivery.occurrence > self.settings.grace.num_seconds();
        let couple = match couple {
            Some(c) if delivery.status == Status::Pending && !stale && !c.is_paused_at(ts(now)) => c,
            _ => {
                deliveries::mark_missed(&mut *tx, id).await?;
                tx.commit().await?;
                return Ok(None);
            }
        };
        let chosen = match &delivery.chosen {
            Some(c) => c.clone(),
            None => {
                let history = deliveries::history(&mut tx, couple.id).await?;
                let input = select::Couple {
                    roles: couple.roles(),
                    phase: couple.phase,
                    depth: Depth::ramp((delivery.occurrence - couple.created_at) / 86_400),
                };
                let mut rng = StdRng::seed_from_u64(seed(couple.id, delivery.occurrence));
                let Some(choice) = pick_prompt(&self.library, &input, &history, &mut rng) else {
                    tracing::error!(couple_id = couple.id, "no prompt in the library fits this couple");
                    deliveries::mark_missed(&mut *tx, id).await?;
                    tx.commit().await?;
                    return Ok(None);
                };
                let chosen =
                    Chosen { pillar: choice.pillar, phase: couple.phase, kind: choice.kind, prompts: choice.prompts };
                deliveries::set_chosen(&mut *tx, id, &chosen).await?;
                chosen
            }
        };
        tx.commit().await?;
        let [a, b] = chosen.prompts.clone().map(|p| self.prompt(&p));
        Ok(Some(Prepared {
            delivery: Delivery { chosen: Some(chosen.clone()), ..delivery },
            couple,
            pillar: chosen.pillar,
            kind: chosen.kind,
            prompts: [a?, b?],
        }))
    }

    fn prompt(&self, id: &str) -> Result<Prompt> {
        Ok(self
            .library
            .prompt(id)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt(format!("prompt {id} left the library")))?)
    }

    async fn answered(&self, delivery: i64) -> Result<Vec<Response>> {
        Ok(responses::for_delivery(&self.pool, &self.keys, delivery)
            .await?
            .into_iter()
            .filter(|r| r.status == ResponseStatus::Answered)
            .collect())
    }

    async fn open_reveal(&self, item: &Item) -> Result<Option<Job>> {
        let (Some(id), Some(c)) = (item.delivery_id, item.couple_id) else { return Ok(None) };
        let Some(delivery) = deliveries::get(&self.pool, id).await? else { return Ok(None) };
        // An answer forgotten since: there is nothing left to reveal.
        let Ok(responses) = <[Response; 2]>::try_from(self.answered(id).await?) else { return Ok(None) };
        let couple = self.couple(c).await?;
        Ok(Some(Job::Reveal { couple, reveal: Reveal { delivery, responses } }))
    }

    async fn open_nudge(&self, item: &Item) -> Result<Option<Job>> {
        let (Some(id), Some(c), Some(slot)) = (item.delivery_id, item.couple_id, item.slot) else { return Ok(None) };
        let Some(delivery) = deliveries::get(&self.pool, id).await? else { return Ok(None) };
        let couple = self.couple(c).await?;
        let responded = responses::for_delivery(&self.pool, &self.keys, id).await?.iter().any(|r| r.slot == slot);
        // A nudge that waited for the morning is not for a prompt a newer one replaced.
        let latest = deliveries::latest_sent(&self.pool, c).await?.map(|d| d.id);
        let open = delivery.status == Status::Sent && delivery.revealed_at.is_none() && latest == Some(id);
        // Paused now (a pause that has ended no longer counts), or already answered: no nudge.
        if responded || !open || couple.is_paused_at(ts(self.now())) {
            return Ok(None);
        }
        let Some(chosen) = &delivery.chosen else { return Ok(None) };
        let prompt = self.prompt(&chosen.prompts[slot.index()])?;
        Ok(Some(Job::Nudge { couple, delivery, slot, prompt }))
    }

    async fn open_reflection(&self, item: &Item) -> Result<Option<Job>> {
        let Some(id) = item.reflection_id else { return Ok(None) };
        let Some(r) = reflections::get(&self.pool, id).await? else { return Ok(None) };
        // It waits for the partners' check-ins until its window closes, and is
        // worth posting within the grace window after that.
        let closes = r.occurrence + crate::core::reflection::CHECK_IN_WINDOW_SECONDS;
        let stale = ts(self.now()) - closes > self.settings.grace.num_seconds();
        if stale || r.status != Status::Pending {
            reflections::mark_missed(&self.pool, id).await?;
            return Ok(None);
        }
        // A week in which no prompt reached the couple (their first days, or mend
        // was down) has nothing to reflect on.
        let reflection = self.weekly_reflection(&r).await?;
        if reflection.prompts == 0 {
            reflections::mark_missed(&self.pool, id).await?;
            return Ok(None);
        }
        let couple = self.couple(r.couple_id).await?;
        // Nothing shared goes into a space or a pause that began while it
        // waited: that week is let go (each check-in stays its writer's).
        if couple.is_paused_at(ts(self.now())) {
            reflections::mark_missed(&self.pool, id).await?;
            return Ok(None);
        }
        Ok(Some(Job::Reflection { couple, reflection }))
    }

    async fn open_notice(&self, item: &Item) -> Result<Option<Job>> {
        let Some((notice, to)) = item.notice.clone() else { return Ok(None) };
        let couple = match item.couple_id {
            Some(c) => Some(self.couple(c).await?),
            None => None,
        };
        // A check-in only while its reflection waits for it.
        if let Notice::CheckIn { reflection, .. } = &notice
            && !self.check_in_owed(*reflection).await?
        {
            return Ok(None);
        }
        // An invitation answered or expired meanwhile is not sent.
        if let Notice::Invitation { pairing, .. } = &notice {
            let open = store::pairings::pairing_by_id(&self.pool, *pairing)
                .await?
                .is_some_and(|p| p.is_open_at(ts(self.now())));
            if !open {
                return Ok(None);
            }
        }
        // A commitment forgotten meanwhile is told no more; a "Did this happen?"
        // only while it is open and not yet answered.
        if let Some(id) = notice.commitment() {
            let Some(m) = self.commitment_for_notice(id).await? else { return Ok(None) };
            if let Notice::CommitmentAsk { check, .. } = &notice {
                let open =
                    store::commitments::check(&self.pool, *check).await?.is_some_and(|k| k.answered_at.is_none());
                if !open || m.retired_at.is_some() {
                    return Ok(None);
                }
            }
        }
        // The end of a space is told only if that space ran its course: not
        // when it was lifted, lengthened or replaced meanwhile.
        if let (Notice::SpaceEnded { slot, until }, Some(c)) = (&notice, &couple) {
            let ran_its_course = c.holds.space[slot.index()] == Some(*until);
            if !ran_its_course {
                return Ok(None);
            }
        }
        Ok(Some(Job::Notice { couple, notice, to }))
    }

    /// Records that one part of an item reached its destination, so no retry
    /// posts it again. A prompt's parts are also where its reveal thread starts.
    pub async fn posted_part(&self, item: &Item, part: &str, channel: u64, message: u64) -> Result<()> {
        let mut tx = store::begin_write(&self.pool).await?;
        outbox::add_part(&mut *tx, item.id, part, channel, message).await?;
        if item.kind == ItemKind::Prompt
            && let Some(d) = item.delivery_id
        {
            let slot = match part {
                "d0" => Some(Slot::A),
                "d1" => Some(Slot::B),
                _ => None,
            };
            homes::add_message(&mut *tx, d, slot, channel, message).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records how posting an item went.
    pub async fn finish(&self, owner: &str, item: &Item, result: std::result::Result<(), Failure>) -> Result<()> {
        let now = self.now();
        let failure = match result {
            Ok(()) => return self.finish_sent(owner, item).await,
            Err(f) => f,
        };
        // A transient failure is tried again until the item's deadline. So is a
        // reveal whose destination cannot be reached: it holds what both partners
        // wrote, so the couple is paused and told as for anything else, and the
        // reveal is kept (for their DMs, if their channel is gone); what already
        // reached one partner is not sent again.
        let kept = match &failure {
            Failure::Transient(_) => true,
            Failure::Unreachable { .. } => item.kind == ItemKind::Reveal,
            Failure::Permanent(_) => false,
        };
        if kept && ts(now) < item.deadline {
            if let (Failure::Unreachable { why, slot, .. }, Some(couple)) = (&failure, item.couple_id) {
                self.unreachable(couple, *why, *slot).await?;
            }
            let wait = backoff(item.failures + 1, self.settings.retry_base, self.settings.retry_ceiling);
            let next = ts(now + wait).min(item.deadline).max(ts(now) + 1);
            tracing::info!(outbox_id = item.id, kind = %item.kind, attempts = item.attempts, retry_in_s = wait.num_seconds(), error = %failure.detail(), "will try again");
            outbox::retry_at(&self.pool, item.id, owner, next, failure.detail()).await?;
            return Ok(());
        }
        match &failure {
            Failure::Permanent(detail) => {
                tracing::error!(outbox_id = item.id, kind = %item.kind, couple_id = ?item.couple_id, error = %detail, "Discord refused a post; giving it up")
            }
            Failure::Transient(detail) => {
                tracing::warn!(outbox_id = item.id, kind = %item.kind, couple_id = ?item.couple_id, attempts = item.attempts, error = %detail, "still failing at its deadline; giving it up")
            }
            Failure::Unreachable { why, detail, .. } => {
                tracing::warn!(outbox_id = item.id, kind = %item.kind, couple_id = ?item.couple_id, reason = ?why, error = %detail, "destination unreachable")
            }
        }
        let mut tx = store::begin_write(&self.pool).await?;
        if !outbox::finish(&mut *tx, item.id, owner, ItemStatus::Failed, ts(now), Some(failure.detail())).await? {
            return Ok(());
        }
        // What reached someone counts as sent: the partner who has it can answer.
        let reached = outbox::parts(&mut *tx, item.id).await?.first().map(|(_, _, m)| m.to_string());
        self.settle_subject(&mut tx, item, reached.as_deref()).await?;
        tx.commit().await?;
        if let (Failure::Unreachable { why, slot, .. }, Some(couple)) = (&failure, item.couple_id)
            && item.kind != ItemKind::Notice
        {
            self.unreachable(couple, *why, *slot).await?;
        }
        Ok(())
    }

    async fn finish_sent(&self, owner: &str, item: &Item) -> Result<()> {
        let now = ts(self.now());
        let mut tx = store::begin_write(&self.pool).await?;
        if !outbox::finish(&mut *tx, item.id, owner, ItemStatus::Sent, now, None).await? {
            return Ok(());
        }
        // The goodbye to a couple that ended was the last thing mend owed them:
        // nothing of theirs stays, not even where their DMs were.
        if let (None, Some((_, To::Users(users)))) = (item.couple_id, &item.notice) {
            for user in users.iter().filter_map(|u| u.parse().ok()) {
                homes::delete_dm_channel(&mut *tx, user).await?;
            }
        }
        let first = outbox::parts(&mut *tx, item.id).await?.first().map(|(_, _, m)| m.to_string());
        self.settle_subject(&mut tx, item, Some(first.as_deref().unwrap_or(""))).await?;
        if item.kind == ItemKind::Prompt
            && let (Some(d), Some(c)) = (item.delivery_id, item.couple_id)
        {
            // One gentle nudge per partner, later, if they haven't responded by
            // then, and never in the couple's night.
            let zone = couples::get(&mut tx, c).await?.map_or(chrono_tz::UTC, |c| c.zone());
            let due = ts(self.settings.waking.next_waking(super::instant(now) + self.settings.nudge_after, zone));
            let nudges: Vec<NewItem> = Slot::BOTH
                .map(|slot| NewItem {
                    couple_id: Some(c),
                    kind: ItemKind::Nudge,
                    delivery_id: Some(d),
                    reflection_id: None,
                    slot: Some(slot),
                    notice: None,
                    due,
                    deadline: due + lifetime(ItemKind::Nudge, self.settings.grace).num_seconds(),
                })
                .to_vec();
            outbox::insert_many(&mut tx, &nudges, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What an item's outcome means for what it was about: a prompt or
    /// reflection sent (`reached`: its first message) or missed; a reveal posted.
    async fn settle_subject(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        item: &Item,
        reached: Option<&str>,
    ) -> Result<()> {
        let now = ts(self.now());
        match (item.kind, item.delivery_id, item.reflection_id, reached) {
            (ItemKind::Prompt, Some(d), _, Some(m)) => deliveries::mark_sent(&mut **tx, d, now, Some(m)).await?,
            (ItemKind::Prompt, Some(d), _, None) => {
                metrics::counter!("mend_prompts_missed_total").increment(1);
                deliveries::mark_missed(&mut **tx, d).await?
            }
            (ItemKind::Reflection, _, Some(r), Some(m)) => reflections::mark_sent(&mut **tx, r, now, Some(m)).await?,
            (ItemKind::Reflection, _, Some(r), None) => reflections::mark_missed(&mut **tx, r).await?,
            (ItemKind::Reveal, Some(d), ..) => deliveries::mark_reveal_posted(&mut **tx, d, now).await?,
            _ => {}
        }
        Ok(())
    }

    /// Gives back an item taken but not tried, to be taken again no earlier than
    /// `not_before` (behind the item of its couple that failed first).
    pub async fn release(&self, owner: &str, item: OutboxId, not_before: Option<i64>) -> Result<()> {
        outbox::release(&self.pool, item, owner, not_before).await?;
        Ok(())
    }

    /// When an item's next attempt is due (for keeping a couple's items in order).
    pub async fn next_attempt(&self, item: OutboxId) -> Result<Option<i64>> {
        Ok(outbox::get(&self.pool, item).await?.filter(|i| i.status == ItemStatus::Pending).map(|i| i.next_attempt_at))
    }

    /// How many outbox items stand at `status` (tests and `mend status`).
    pub async fn outbox_count(&self, status: ItemStatus) -> Result<i64> {
        Ok(outbox::count(&self.pool, status).await?)
    }

    /// Items of one kind still owed (posted neither yet nor given up).
    pub async fn waiting(&self, kind: ItemKind) -> Result<i64> {
        Ok(outbox::count_waiting(&self.pool, kind).await?)
    }

    /// Every outbox item of a couple, oldest first (tests and the simulator).
    pub async fn outbox_of(&self, couple: i64) -> Result<Vec<Item>> {
        Ok(outbox::for_couple(&self.pool, couple).await?)
    }
}

/// The seed of a couple's random choices for one occurrence: the same couple and
/// occurrence always get the same prompt.
fn seed(couple: i64, occurrence: i64) -> u64 {
    (couple as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (occurrence as u64).rotate_left(17)
}
