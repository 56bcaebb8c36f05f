//! The engine: the rules of `core` applied to the store, with time from the
//! clock. Everything mend does that does not need Discord goes through here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sqlx::SqlitePool;

use crate::clock::Clock;
use crate::core::answer::{Answer, AnswerError};
use crate::core::model::{Depth, Kind, Phase, Role, ScheduleKind, Slot};
use crate::core::prompts::{Library, Prompt};
use crate::core::reflection::{Reflection, WeekItem};
use crate::core::schedule::{Schedule, ScheduleError};
use crate::core::select::{self, pick_prompt};
use crate::crypto::Cipher;
use crate::store::couples::{self, Couple, CoupleId, Partner};
use crate::store::deliveries::{self, Chosen, Delivery, DeliveryId, NewDelivery, Status};
use crate::store::responses::{self, NewResponse, Response, ResponseStatus};
use crate::store::{self, StoreError, reflections, schedules};

/// How the engine behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A prompt found due later than this (mend was down) is recorded as missed
    /// instead of sent.
    pub grace: Duration,
    /// How long "I need space" pauses a couple's prompts.
    pub space: Duration,
    /// Schedules claimed per transaction.
    pub claim_batch: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { grace: Duration::hours(6), space: Duration::days(2), claim_batch: 5_000 }
    }
}

/// Something the person acting can fix or should know, worded for them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error("I can't find that couple. If you ended it, you can start again with /couple start.")]
    UnknownCouple,
    #[error("That prompt isn't one of yours, so I can't take an answer for it.")]
    NotYours,
    #[error("That prompt was never sent, so there is nothing to answer yet.")]
    NotSent,
    #[error(
        "Your answers to this prompt have already been shared with each other, so it can't be changed now. Tomorrow brings a new one."
    )]
    AlreadyRevealed,
    #[error("This is a small action for today: answer with done or not today, and a note if you like.")]
    ActionNeedsDone,
    #[error("This prompt asks for a few words rather than done or not today.")]
    TextNeeded,
    #[error("There is nothing revealed to mark yet: it becomes possible once you have both answered.")]
    NotRevealed,
    #[error("Moving on to the next phase is for the partner who was hurt to decide, when they feel ready.")]
    NotTheirsToMove,
    #[error("You're already in the last phase, building closeness together.")]
    LastPhase,
    #[error("You're already at the gentlest pace, the first phase.")]
    FirstPhase,
    #[error("Prompts are already paused.")]
    AlreadyPaused,
    #[error("Prompts aren't paused.")]
    NotPaused,
    #[error("That date is already in the past; pick a moment still ahead.")]
    PauseInPast,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EngineError {
    fn from(e: sqlx::Error) -> Self {
        EngineError::Store(e.into())
    }
}

impl From<AnswerError> for EngineError {
    fn from(e: AnswerError) -> Self {
        EngineError::User(e.into())
    }
}

impl From<ScheduleError> for EngineError {
    fn from(e: ScheduleError) -> Self {
        EngineError::User(e.into())
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// A new couple: who they are and where they live.
#[derive(Debug, Clone)]
pub struct NewCouple {
    pub tz: String,
    pub partners: [Partner; 2],
}

/// What a claim found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClaimReport {
    /// Prompt occurrences claimed to be sent.
    pub prompts: usize,
    /// Reflection occurrences claimed to be sent.
    pub reflections: usize,
    /// Occurrences too late to send, recorded as missed.
    pub missed: usize,
}

/// A delivery ready to send, with the prompt each partner gets.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub delivery: Delivery,
    pub couple: Couple,
    pub pillar: String,
    pub kind: Kind,
    pub prompts: [Prompt; 2],
}

/// Both answers of a delivery, revealed together.
#[derive(Debug, Clone)]
pub struct Reveal {
    pub delivery: Delivery,
    pub responses: [Response; 2],
}

/// What saving an answer led to.
#[derive(Debug, Clone)]
pub struct Saved {
    pub edited: bool,
    /// Present when this answer completed a pair and both are now revealed.
    pub reveal: Option<Reveal>,
}

#[derive(Clone)]
pub struct Engine {
    pool: SqlitePool,
    cipher: Cipher,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("stored instants are in range")
}

impl Engine {
    /// `cipher` seals answer text at rest; it must be the one `pool` was opened with.
    pub fn new(
        pool: SqlitePool,
        cipher: Cipher,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Engine { pool, cipher, library, clock, settings }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub async fn create_couple(&self, new: NewCouple) -> Result<CoupleId> {
        crate::core::schedule::parse_zone(&new.tz)?;
        let phase = Phase::starting([new.partners[0].role, new.partners[1].role]);
        let mut tx = store::begin_write(&self.pool).await?;
        let id = couples::insert(&mut tx, ts(self.now()), &new.tz, phase, &new.partners).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn couple(&self, id: CoupleId) -> Result<Couple> {
        let mut conn = self.pool.acquire().await?;
        couples::get(&mut conn, id).await?.ok_or(UserError::UnknownCouple.into())
    }

    /// Sets (or replaces) one of a couple's schedules; it next fires strictly
    /// after now, unless the couple is paused.
    pub async fn set_schedule(&self, couple: CoupleId, kind: ScheduleKind, spec: &str, tz: &str) -> Result<Schedule> {
        let schedule = Schedule::parse(spec, tz)?;
        let c = self.couple(couple).await?;
        let now = self.now();
        let from = match (c.is_paused_at(ts(now)), c.paused_until) {
            (true, None) => None,
            (true, Some(until)) => Some(instant(until)),
            (false, _) => Some(now),
        };
        let next = from.and_then(|f| schedule.next_after(f)).map(ts);
        schedules::upsert(
            &self.pool,
            &schedules::StoredSchedule {
                couple_id: couple,
                kind,
                spec: schedule.spec().to_string(),
                tz: schedule.tz().name().to_string(),
                next_fire_at: next,
            },
        )
        .await?;
        Ok(schedule)
    }

    /// Pauses a couple's prompts and reflections, until an instant or until resumed.
    pub async fn pause(&self, couple: CoupleId, until: Option<DateTime<Utc>>) -> Result<()> {
        let now = self.now();
        if until.is_some_and(|u| u <= now) {
            return Err(UserError::PauseInPast.into());
        }
        let mut tx = store::begin_write(&self.pool).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if until.is_none() && c.is_paused_at(ts(now)) && c.paused_until.is_none() {
            return Err(UserError::AlreadyPaused.into());
        }
        couples::set_paused(&mut *tx, couple, true, until.map(ts)).await?;
        for s in schedules::for_couple(&mut *tx, couple).await? {
            let next = until.and_then(|u| parse_stored(&s).and_then(|sch| sch.next_after(u))).map(ts);
            schedules::set_next(&mut *tx, couple, s.kind, next).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Resumes a paused couple: schedules fire again from now on.
    pub async fn resume(&self, couple: CoupleId) -> Result<()> {
        let now = self.now();
        let mut tx = store::begin_write(&self.pool).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if !c.is_paused_at(ts(now)) {
            return Err(UserError::NotPaused.into());
        }
        couples::set_paused(&mut *tx, couple, false, None).await?;
        for s in schedules::for_couple(&mut *tx, couple).await? {
            let next = parse_stored(&s).and_then(|sch| sch.next_after(now)).map(ts);
            schedules::set_next(&mut *tx, couple, s.kind, next).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims every occurrence due by now, in batches: each batch inserts the
    /// outbox rows and advances the schedules in one transaction, so a crash
    /// between batches loses nothing and a repeat claims nothing twice.
    ///
    /// Of several occurrences due for one schedule (mend was down), only the
    /// newest can still be sent, and only within the grace window; the others are
    /// recorded as missed, so a couple never gets a burst of stale prompts.
    pub async fn claim_due(&self) -> Result<ClaimReport> {
        let now = self.now();
        let grace = self.settings.grace.num_seconds();
        let mut report = ClaimReport::default();
        let mut parsed: HashMap<(String, String), Option<Schedule>> = HashMap::new();
        loop {
            // A read first: a tick with nothing due takes no write lock.
            if schedules::due(&self.pool, ts(now), 1).await?.is_empty() {
                break;
            }
            let mut tx = store::begin_write(&self.pool).await?;
            let due = schedules::due(&mut *tx, ts(now), self.settings.claim_batch).await?;
            if due.is_empty() {
                break;
            }
            let mut prompts = Vec::new();
            let mut reflections = Vec::new();
            let mut advanced = Vec::with_capacity(due.len());
            for s in &due {
                let schedule = parsed.entry((s.spec.clone(), s.tz.clone())).or_insert_with(|| parse_stored(s)).as_ref();
                let Some(schedule) = schedule else {
                    tracing::error!(couple_id = s.couple_id, kind = %s.kind, "stored schedule no longer parses; stopping it");
                    advanced.push((s.couple_id, s.kind, None));
                    continue;
                };
                let first = s.next_fire_at.expect("due schedules have a fire instant");
                let (occurrences, next) = occurrences_until(schedule, first, now);
                let newest = *occurrences.last().expect("a due schedule has an occurrence");
                for &occ in &occurrences {
                    let status = if occ == newest && ts(now) - occ <= grace { Status::Pending } else { Status::Missed };
                    if status == Status::Missed {
                        report.missed += 1;
                    } else if s.kind == ScheduleKind::Prompt {
                        report.prompts += 1;
                    } else {
                        report.reflections += 1;
                    }
                    match s.kind {
                        ScheduleKind::Prompt => {
                            prompts.push(NewDelivery { couple_id: s.couple_id, occurrence: occ, status })
                        }
                        ScheduleKind::Reflection => {
                            reflections.push((s.couple_id, occ, occ - Duration::days(7).num_seconds(), status))
                        }
                    }
                }
                advanced.push((s.couple_id, s.kind, next.map(ts)));
            }
            deliveries::insert_many(&mut tx, &prompts, ts(now)).await?;
            reflections::insert_many(&mut tx, &reflections).await?;
            schedules::set_next_many(&mut tx, &advanced).await?;
            tx.commit().await?;
            if (due.len() as i64) < self.settings.claim_batch {
                break;
            }
        }
        Ok(report)
    }

    /// Deliveries claimed and not yet sent, oldest first.
    pub async fn pending(&self, limit: i64) -> Result<Vec<Delivery>> {
        Ok(deliveries::pending(&self.pool, limit).await?)
    }

    /// Deliveries not yet sent with an id above `after`, by id (see
    /// `deliveries::pending_after`).
    pub async fn pending_after(&self, after: DeliveryId, limit: i64) -> Result<Vec<Delivery>> {
        Ok(deliveries::pending_after(&self.pool, after, limit).await?)
    }

    /// Chooses the prompts of a pending delivery (once: a retry keeps the first
    /// choice). `None` when it can no longer be sent (the couple paused or ended,
    /// or it has waited past the grace window); it is then recorded as missed.
    pub async fn prepare(&self, id: DeliveryId) -> Result<Option<Prepared>> {
        let now = self.now();
        let mut tx = store::begin_write(&self.pool).await?;
        let Some(delivery) = deliveries::get(&mut *tx, id).await? else {
            return Ok(None);
        };
        let couple = couples::get(&mut tx, delivery.couple_id).await?;
        let stale = ts(now) - delivery.occurrence > self.settings.grace.num_seconds();
        let couple = match couple {
            Some(c)
                if delivery.status == Status::Pending && !stale && !c.is_paused_at(ts(now)) && c.ended_at.is_none() =>
            {
                c
            }
            _ => {
                deliveries::mark_missed(&mut *tx, id).await?;
                tx.commit().await?;
                return Ok(None);
            }
        };
        let chosen = match &delivery.chosen {
            Some(c) => c.clone(),
            None => {
                let history = deliveries::history(&mut *tx, couple.id).await?;
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
        let prompts = chosen.prompts.clone().map(|p| {
            self.library.prompt(&p).cloned().ok_or_else(|| StoreError::Corrupt(format!("prompt {p} left the library")))
        });
        let [a, b] = prompts;
        Ok(Some(Prepared {
            delivery: Delivery { chosen: Some(chosen.clone()), ..delivery },
            couple,
            pillar: chosen.pillar,
            kind: chosen.kind,
            prompts: [a?, b?],
        }))
    }

    /// Records that a delivery reached its couple (`message_ref`: where).
    /// Records that a claimed delivery cannot be sent (its couple's home is gone).
    pub async fn mark_missed(&self, id: DeliveryId) -> Result<()> {
        deliveries::mark_missed(&self.pool, id).await?;
        Ok(())
    }

    pub async fn mark_sent(&self, id: DeliveryId, message_ref: Option<&str>) -> Result<()> {
        deliveries::mark_sent(&self.pool, id, ts(self.now()), message_ref).await?;
        Ok(())
    }

    pub async fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        Ok(deliveries::get(&self.pool, id).await?)
    }

    pub async fn responses(&self, id: DeliveryId) -> Result<Vec<Response>> {
        Ok(responses::for_delivery(&self.pool, &self.cipher, id).await?)
    }

    /// Saves a partner's answer (an edit while not yet revealed replaces it). When
    /// both partners have answered a prompt that is shared, both are revealed, once.
    pub async fn answer(&self, couple: CoupleId, id: DeliveryId, slot: Slot, answer: Answer) -> Result<Saved> {
        let now = ts(self.now());
        let mut tx = store::begin_write(&self.pool).await?;
        let delivery = deliveries::get(&mut *tx, id).await?.ok_or(UserError::NotYours)?;
        let chosen = owned_and_sent(&delivery, couple)?;
        if delivery.revealed_at.is_some() {
            return Err(UserError::AlreadyRevealed.into());
        }
        match (&answer, chosen.kind) {
            (Answer::Text(_), Kind::Action) => return Err(UserError::ActionNeedsDone.into()),
            (Answer::Action { .. }, Kind::Shared | Kind::Journal) => {
                return Err(UserError::TextNeeded.into());
            }
            _ => {}
        }
        let before = responses::for_delivery(&mut *tx, &self.cipher, id).await?;
        let edited = before.iter().any(|r| r.slot == slot && r.status == ResponseStatus::Answered);
        let saved = NewResponse {
            delivery: id,
            slot,
            status: ResponseStatus::Answered,
            body: answer.body(),
            done: answer.done(),
            at: now,
        };
        responses::upsert(&mut *tx, &self.cipher, saved).await?;
        let mut reveal = None;
        if chosen.kind != Kind::Journal {
            let after = responses::for_delivery(&mut *tx, &self.cipher, id).await?;
            let both = after.iter().filter(|r| r.status == ResponseStatus::Answered).count() == 2;
            if both && deliveries::set_revealed(&mut *tx, id, now).await? {
                let [a, b]: [Response; 2] = after.try_into().expect("two answered responses");
                reveal = Some(Reveal { delivery: Delivery { revealed_at: Some(now), ..delivery }, responses: [a, b] });
            }
        }
        tx.commit().await?;
        Ok(Saved { edited, reveal })
    }

    /// "Skip today": no answer, no nudge, no guilt.
    pub async fn skip(&self, couple: CoupleId, id: DeliveryId, slot: Slot) -> Result<()> {
        self.set_response(couple, id, slot, ResponseStatus::Skipped).await
    }

    /// "I need space": this partner steps back from today's prompt and the
    /// couple's prompts pause for a while. Returns when they resume.
    pub async fn need_space(&self, couple: CoupleId, id: DeliveryId, slot: Slot) -> Result<DateTime<Utc>> {
        self.set_response(couple, id, slot, ResponseStatus::Space).await?;
        let until = self.now() + self.settings.space;
        let c = self.couple(couple).await?;
        // Already paused for longer: leave the longer pause as it is.
        if !(c.is_paused_at(ts(self.now())) && c.paused_until.is_none_or(|u| u >= ts(until))) {
            self.pause(couple, Some(until)).await?;
        }
        Ok(until)
    }

    async fn set_response(&self, couple: CoupleId, id: DeliveryId, slot: Slot, status: ResponseStatus) -> Result<()> {
        let now = ts(self.now());
        let mut tx = store::begin_write(&self.pool).await?;
        let delivery = deliveries::get(&mut *tx, id).await?.ok_or(UserError::NotYours)?;
        owned_and_sent(&delivery, couple)?;
        if delivery.revealed_at.is_some() {
            return Err(UserError::AlreadyRevealed.into());
        }
        let answered = responses::for_delivery(&mut *tx, &self.cipher, id)
            .await?
            .iter()
            .any(|r| r.slot == slot && r.status == ResponseStatus::Answered);
        // A skip never throws away an answer already written.
        if !answered {
            let r = NewResponse { delivery: id, slot, status, body: None, done: None, at: now };
            responses::upsert(&mut *tx, &self.cipher, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `marker` marks their partner's revealed answer as meaningful; it comes
    /// back in the weekly reflection's appreciations.
    pub async fn mark_meaningful(&self, couple: CoupleId, id: DeliveryId, marker: Slot) -> Result<()> {
        let delivery = deliveries::get(&self.pool, id).await?.ok_or(UserError::NotYours)?;
        owned_and_sent(&delivery, couple)?;
        if delivery.revealed_at.is_none() {
            return Err(UserError::NotRevealed.into());
        }
        responses::mark_meaningful(&self.pool, id, marker.other(), ts(self.now())).await?;
        Ok(())
    }

    /// Moves the couple to the next repair phase. Only the partner who was hurt
    /// decides this; in a couple without one, either partner may.
    pub async fn advance_phase(&self, couple: CoupleId, by: Slot) -> Result<Phase> {
        let c = self.couple(couple).await?;
        let hurt = c.roles().iter().position(|r| *r == Role::Hurt);
        if hurt.is_some_and(|h| h != by.index()) {
            return Err(UserError::NotTheirsToMove.into());
        }
        let next = c.phase.next().ok_or(UserError::LastPhase)?;
        couples::set_phase(&self.pool, couple, next, ts(self.now())).await?;
        Ok(next)
    }

    /// Either partner can slow down: back to the previous phase.
    pub async fn slow_down(&self, couple: CoupleId) -> Result<Phase> {
        let c = self.couple(couple).await?;
        let previous = c.phase.previous().ok_or(UserError::FirstPhase)?;
        couples::set_phase(&self.pool, couple, previous, ts(self.now())).await?;
        Ok(previous)
    }

    /// Reflections claimed and not yet sent.
    pub async fn pending_reflections(&self, limit: i64) -> Result<Vec<reflections::StoredReflection>> {
        Ok(reflections::pending(&self.pool, limit).await?)
    }

    /// Builds a claimed reflection for sending. A week in which no prompt reached
    /// the couple (their first days, or mend was down) has nothing to reflect
    /// on: it is recorded as missed and `None` returned.
    pub async fn prepare_reflection(&self, r: &reflections::StoredReflection) -> Result<Option<Reflection>> {
        let now = ts(self.now());
        let stale = now - r.occurrence > self.settings.grace.num_seconds();
        let reflection = self.reflection(r.couple_id, r.week_start, r.occurrence).await?;
        if stale || reflection.prompts == 0 {
            reflections::mark_missed(&self.pool, r.id).await?;
            return Ok(None);
        }
        Ok(Some(reflection))
    }

    pub async fn mark_reflection_sent(&self, id: i64, message_ref: Option<&str>) -> Result<()> {
        reflections::mark_sent(&self.pool, id, ts(self.now()), message_ref).await?;
        Ok(())
    }

    /// The reflection on a couple's deliveries in `[from, to)`.
    pub async fn reflection(&self, couple: CoupleId, from: i64, to: i64) -> Result<Reflection> {
        let delivered = deliveries::for_couple(&self.pool, couple, from, to).await?;
        let answers = responses::for_couple(&self.pool, &self.cipher, couple, from, to).await?;
        let items: Vec<WeekItem> = delivered
            .iter()
            .filter(|d| d.status == Status::Sent)
            .filter_map(|d| {
                let chosen = d.chosen.as_ref()?;
                let mine: Vec<&Response> = answers.iter().filter(|r| r.delivery_id == d.id).collect();
                let answered =
                    Slot::BOTH.map(|s| mine.iter().any(|r| r.slot == s && r.status == ResponseStatus::Answered));
                let done = Slot::BOTH.map(|s| mine.iter().find(|r| r.slot == s).and_then(|r| r.done));
                let meaningful = mine
                    .iter()
                    .filter(|r| r.meaningful_at.is_some() && d.revealed_at.is_some())
                    .filter_map(|r| r.body.clone().map(|b| (r.slot, b)))
                    .collect();
                Some(WeekItem {
                    pillar: chosen.pillar.clone(),
                    kind: chosen.kind,
                    prompts: chosen.prompts.clone(),
                    answered,
                    done,
                    meaningful,
                    revealed: d.revealed_at.is_some(),
                })
            })
            .collect();
        Ok(Reflection::build(&self.library, &items))
    }
}

/// One delivery as a partner may see it: their prompt and answer, and their
/// partner's answer only once revealed.
#[derive(Debug, Clone)]
pub struct Seen {
    pub delivery: Delivery,
    pub prompt: Option<Prompt>,
    pub mine: Option<Response>,
    pub theirs: Option<Response>,
}

impl Engine {
    /// Reveals decided more than `settle` ago and not yet posted.
    pub async fn unposted_reveals(&self, settle: Duration) -> Result<Vec<Reveal>> {
        let before = ts(self.now() - settle);
        let mut out = Vec::new();
        for id in deliveries::unposted_reveals(&self.pool, before, 100).await? {
            let Some(delivery) = deliveries::get(&self.pool, id).await? else { continue };
            let answered: Vec<Response> = responses::for_delivery(&self.pool, &self.cipher, id)
                .await?
                .into_iter()
                .filter(|r| r.status == ResponseStatus::Answered)
                .collect();
            match <[Response; 2]>::try_from(answered) {
                Ok(responses) => out.push(Reveal { delivery, responses }),
                // An answer was forgotten since: nothing left to post.
                Err(_) => deliveries::mark_reveal_posted(&self.pool, id, ts(self.now())).await?,
            }
        }
        Ok(out)
    }

    pub async fn mark_reveal_posted(&self, id: DeliveryId) -> Result<()> {
        deliveries::mark_reveal_posted(&self.pool, id, ts(self.now())).await?;
        Ok(())
    }
}

impl Engine {
    /// The couple and slot of a partner known outside mend by `external_id`.
    pub async fn couple_of(&self, external_id: &str) -> Result<Option<(CoupleId, Slot)>> {
        Ok(couples::find_by_external(&self.pool, external_id).await?)
    }

    /// A partner says privately how they come to mend. Before the first prompt
    /// it also sets where the couple starts.
    pub async fn set_role(&self, couple: CoupleId, slot: Slot, role: Role) -> Result<()> {
        let mut tx = store::begin_write(&self.pool).await?;
        couples::set_role(&mut *tx, couple, slot, role).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let started = deliveries::latest_sent(&mut *tx, couple).await?.is_some();
        if !started {
            couples::set_phase(&mut *tx, couple, Phase::starting(c.roles()), ts(self.now())).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends a couple: everything mend holds for them is deleted.
    pub async fn end_couple(&self, couple: CoupleId) -> Result<()> {
        let mut tx = store::begin_write(&self.pool).await?;
        couples::delete(&mut *tx, couple).await?;
        tx.commit().await?;
        store::scrub(&self.pool).await?;
        Ok(())
    }

    /// Deletes everything a partner wrote; their partner's answers stay theirs.
    pub async fn forget(&self, couple: CoupleId, slot: Slot) -> Result<u64> {
        let mut tx = store::begin_write(&self.pool).await?;
        let n = responses::delete_for_partner(&mut *tx, couple, slot).await?;
        tx.commit().await?;
        store::scrub(&self.pool).await?;
        Ok(n)
    }

    /// What a partner may see of their couple's deliveries, newest first.
    pub async fn seen_by(&self, couple: CoupleId, slot: Slot, limit: usize) -> Result<Vec<Seen>> {
        let delivered = deliveries::for_couple(&self.pool, couple, 0, i64::MAX).await?;
        let answers = responses::for_couple(&self.pool, &self.cipher, couple, 0, i64::MAX).await?;
        Ok(delivered
            .into_iter()
            .rev()
            .filter(|d| d.status == Status::Sent)
            .take(limit)
            .map(|d| {
                let prompt = d.chosen.as_ref().and_then(|c| self.library.prompt(&c.prompts[slot.index()]).cloned());
                let of = |s: Slot| answers.iter().find(|r| r.delivery_id == d.id && r.slot == s).cloned();
                let theirs = d.revealed_at.and_then(|_| of(slot.other()));
                Seen { mine: of(slot), theirs, prompt, delivery: d }
            })
            .collect())
    }
}

/// The delivery's choice, if it belongs to `couple` and was sent.
fn owned_and_sent(delivery: &Delivery, couple: CoupleId) -> Result<&Chosen> {
    if delivery.couple_id != couple {
        return Err(UserError::NotYours.into());
    }
    match (&delivery.chosen, delivery.status) {
        (Some(chosen), Status::Sent) => Ok(chosen),
        _ => Err(UserError::NotSent.into()),
    }
}

fn parse_stored(s: &schedules::StoredSchedule) -> Option<Schedule> {
    Schedule::parse(&s.spec, &s.tz).ok()
}

/// Every occurrence from `first` up to `now`, and the first one after `now`. A
/// schedule left unclaimed for a very long time is capped: beyond the cap the
/// rest are folded into the jump to the next future occurrence.
fn occurrences_until(schedule: &Schedule, first: i64, now: DateTime<Utc>) -> (Vec<i64>, Option<DateTime<Utc>>) {
    const CAP: usize = 1_000;
    let mut occurrences = vec![first];
    let mut next = schedule.next_after(instant(first));
    while let Some(t) = next.filter(|t| *t <= now) {
        if occurrences.len() == CAP {
            next = schedule.next_after(now);
            break;
        }
        occurrences.push(ts(t));
        next = schedule.next_after(t);
    }
    (occurrences, next)
}

/// The seed of a couple's random choices for one occurrence: the same couple and
/// occurrence always get the same prompt.
fn seed(couple: CoupleId, occurrence: i64) -> u64 {
    (couple as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (occurrence as u64).rotate_left(17)
}
