//! Schedules: setting them (in the couple's timezone, never more often than the
//! host's floor) and claiming what is due into deliveries and the outbox.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::{Engine, Result, UserError, instant, ts};
use crate::core::entities::{CoupleId, Status};
use crate::core::model::ScheduleKind;
use crate::core::outbox::{ItemKind, NewItem};
use crate::core::schedule::Schedule;
use crate::store::deliveries::NewDelivery;
use crate::store::schedules::StoredSchedule;
use crate::store::{self, couples, deliveries, outbox, reflections, schedules};

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

/// One of a couple's schedules, as `/schedule show` tells it.
#[derive(Debug, Clone)]
pub struct CoupleSchedule {
    pub kind: ScheduleKind,
    pub schedule: Schedule,
    /// The next instant it fires; `None` while paused with no end.
    pub next: Option<DateTime<Utc>>,
}

impl Engine {
    /// Sets (or replaces) one of a couple's schedules; it next fires strictly
    /// after now, unless the couple is paused. A timezone given here becomes the
    /// couple's: every schedule, pause and date shown follows it.
    pub async fn set_schedule(
        &self,
        couple: CoupleId,
        kind: ScheduleKind,
        spec: &str,
        tz: Option<&str>,
    ) -> Result<Schedule> {
        let now = self.now();
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let tz = tz.map(str::trim).filter(|t| !t.is_empty()).unwrap_or(&c.tz).to_string();
        let schedule = Schedule::parse(spec, &tz)?;
        schedule.check_floor(self.settings.min_interval, now)?;
        let zone = schedule.tz().name().to_string();
        let from = self.resume_from(&c, now);
        let mut all = vec![(kind, schedule.clone())];
        if zone != c.tz {
            couples::set_tz(&mut *tx, couple, &zone).await?;
            for other in schedules::for_couple(&mut *tx, couple).await?.into_iter().filter(|s| s.kind != kind) {
                if let Ok(s) = Schedule::parse(&other.spec, &zone) {
                    all.push((other.kind, s));
                }
            }
        }
        for (kind, s) in all {
            let next = from.and_then(|f| s.next_after(f)).map(ts);
            let stored = StoredSchedule {
                couple_id: couple,
                kind,
                spec: s.spec().to_string(),
                tz: s.tz().name().to_string(),
                next_fire_at: next,
            };
            schedules::upsert(&mut *tx, &stored).await?;
        }
        tx.commit().await?;
        Ok(schedule)
    }

    /// From when a couple's schedules fire: now, the end of a timed pause, or
    /// never while paused until resumed.
    pub(super) fn resume_from(&self, c: &crate::core::entities::Couple, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (c.is_paused_at(ts(now)), c.paused_until) {
            (true, None) => None,
            (true, Some(until)) => Some(instant(until)),
            (false, _) => Some(now),
        }
    }

    /// Brings one of a couple's schedules forward to now (the sandbox's "due
    /// now", so no one waits): the worker claims it at its next look. A couple
    /// held by a pause, a space or a safety check still to take keeps waiting,
    /// as its schedule does; returns whether it was brought forward.
    pub async fn due_now(&self, couple: CoupleId, kind: ScheduleKind) -> Result<bool> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if c.is_paused_at(now) || schedules::get(&mut *tx, couple, kind).await?.is_none() {
            return Ok(false);
        }
        schedules::set_next(&mut *tx, couple, kind, Some(now)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A couple's schedules with when each next fires.
    pub async fn schedules(&self, couple: CoupleId) -> Result<Vec<CoupleSchedule>> {
        Ok(schedules::for_couple(&self.pool, couple)
            .await?
            .into_iter()
            .filter_map(|s| {
                let schedule = parse_stored(&s)?;
                Some(CoupleSchedule { kind: s.kind, schedule, next: s.next_fire_at.map(instant) })
            })
            .collect())
    }

    /// Claims every occurrence due by now, in batches: each batch inserts the
    /// deliveries, reflections and their outbox items and advances the schedules
    /// in one transaction, so a crash between batches loses nothing and a repeat
    /// claims nothing twice.
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
            let mut weekly = Vec::new();
            let mut advanced = Vec::with_capacity(due.len());
            for s in &due {
                let schedule = parsed.entry((s.spec.clone(), s.tz.clone())).or_insert_with(|| parse_stored(s)).as_ref();
                let Some(schedule) = schedule else {
                    tracing::error!(couple_id = s.couple_id, kind = %s.kind, "stored schedule no longer parses; stopping it");
                    advanced.push((s.couple_id, s.kind, None));
                    continue;
                };
                let Some(first) = s.next_fire_at else { continue };
                let (occurrences, next) = occurrences_until(schedule, first, now);
                let newest = *occurrences.last().expect("a due schedule has an occurrence");
                for &occ in &occurrences {
                    let status = if occ == newest && ts(now) - occ <= grace { Status::Pending } else { Status::Missed };
                    match (status, s.kind) {
                        (Status::Missed, kind) => {
                            report.missed += 1;
                            if kind == ScheduleKind::Prompt {
                                metrics::counter!("mend_prompts_missed_total").increment(1);
                            }
                        }
                        (_, ScheduleKind::Prompt) => report.prompts += 1,
                        (_, ScheduleKind::Reflection) => report.reflections += 1,
                    }
                    match s.kind {
                        ScheduleKind::Prompt => {
                            prompts.push(NewDelivery { couple_id: s.couple_id, occurrence: occ, status })
                        }
                        ScheduleKind::Reflection => {
                            weekly.push((s.couple_id, occ, occ - Duration::days(7).num_seconds(), status))
                        }
                    }
                }
                advanced.push((s.couple_id, s.kind, next.map(ts)));
            }
            let mut owed = Vec::new();
            for (id, couple, occurrence, status) in deliveries::insert_many(&mut tx, &prompts, ts(now)).await? {
                if status == Status::Pending {
                    owed.push(self.scheduled_item(ItemKind::Prompt, couple, Some(id), None, occurrence, ts(now)));
                }
            }
            for (id, couple, occurrence, status) in reflections::insert_many(&mut tx, &weekly).await? {
                if status == Status::Pending {
                    // Each partner's check-in first; the reflection waits for them.
                    owed.extend(self.reflection_items(couple, id, occurrence, ts(now)));
                }
            }
            outbox::insert_many(&mut tx, &owed, ts(now)).await?;
            schedules::set_next_many(&mut tx, &advanced).await?;
            tx.commit().await?;
            if (due.len() as i64) < self.settings.claim_batch {
                break;
            }
        }
        Ok(report)
    }

    fn scheduled_item(
        &self,
        kind: ItemKind,
        couple: CoupleId,
        delivery: Option<i64>,
        reflection: Option<i64>,
        occurrence: i64,
        now: i64,
    ) -> NewItem {
        NewItem {
            couple_id: Some(couple),
            kind,
            delivery_id: delivery,
            reflection_id: reflection,
            slot: None,
            notice: None,
            due: now,
            deadline: occurrence + crate::core::outbox::lifetime(kind, self.settings.grace).num_seconds(),
        }
    }

    /// When the worker should look next: the earliest schedule or outbox item.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let fire = schedules::earliest(&self.pool).await?;
        let owed = outbox::earliest(&mut *self.pool.acquire().await?).await?;
        let ask = store::commitments::earliest(&self.pool).await?;
        Ok([fire, owed, ask].into_iter().flatten().min().map(instant))
    }
}

pub(super) fn parse_stored(s: &StoredSchedule) -> Option<Schedule> {
    // What was stored before the grammar grew (or a zone since refused for new
    // input, like `EST`) keeps working for the couple who has it.
    Schedule::parse_stored(&s.spec, &s.tz).ok()
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
