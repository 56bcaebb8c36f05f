//! Commitments: small, concrete things the partner rebuilding trust will do,
//! once or on a schedule. After each occurrence the partner it was made to is
//! asked privately, at a waking hour, whether it happened. What was kept is
//! told to both; anything else stays with the one who noticed: never posted,
//! counted or charted.

use super::{Engine, Result, UserError, instant, ts};
use crate::core::entities::{Couple, CoupleId};
use crate::core::model::{Role, Slot};
use crate::core::outbox::{NewItem, Notice, To};
use crate::core::schedule::Schedule;
use crate::store::commitments::{self, Check, Commitment, Noticed};
use crate::store::{self, couples, outbox};

/// Small and kept beats many: at most this many open at a time, per partner.
pub const MAX_OPEN: i64 = 3;
/// The longest a commitment's words may be.
pub const MAX_COMMITMENT_CHARS: usize = 300;
/// How long after an occurrence the partner is asked (then moved into their
/// waking hours).
const ASK_AFTER: i64 = 2 * 3600;
/// A commitment made once, with no time given: "by tomorrow".
const ONCE_WITHIN: i64 = 24 * 3600;

/// Whether `slot` may make commitments: the partner rebuilding trust, and in a
/// couple without a hurt partner named, either. A hurt partner is not asked to.
pub fn may_commit(c: &Couple, slot: Slot) -> bool {
    c.partner(slot).role != Role::Hurt
}

/// When the partner is asked about an occurrence at `occurrence`.
fn ask_at(engine: &Engine, c: &Couple, occurrence: i64) -> i64 {
    ts(engine.settings.waking.next_waking(instant(occurrence + ASK_AFTER), c.zone()))
}

fn clean(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UserError::CommitmentEmpty.into());
    }
    if text.chars().count() > MAX_COMMITMENT_CHARS {
        return Err(UserError::CommitmentTooLong { max: MAX_COMMITMENT_CHARS }.into());
    }
    Ok(text.to_string())
}

fn clean_note(note: Option<&str>) -> Option<String> {
    note.map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(MAX_COMMITMENT_CHARS * 3).collect())
}

/// The schedule of a commitment (`None`: once), in the couple's timezone.
fn parse_when(when: Option<&str>, tz: &str) -> Result<Option<Schedule>> {
    match when.map(str::trim).filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("once")) {
        None => Ok(None),
        Some(spec) => Ok(Some(Schedule::parse(spec, tz)?)),
    }
}

/// What answering "Did you notice it?" came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// It was answered before: nothing changed.
    Already,
    /// A "yes", told to both.
    Told,
    /// Recorded and kept with the one who noticed: any other answer, or a
    /// "yes" while someone has space.
    KeptQuiet,
}

impl Engine {
    /// `slot` commits to `text`, once (within a day) or on the schedule `when`.
    /// Both are told; the partner it was made to will be asked, privately.
    pub async fn commit(&self, couple: CoupleId, slot: Slot, text: &str, when: Option<&str>) -> Result<i64> {
        let text = clean(text)?;
        let now = self.now();
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if !may_commit(&c, slot) {
            return Err(UserError::NotTheirsToCommit.into());
        }
        if c.holds.checking.contains(&true) {
            return Err(UserError::CommitmentsNotStarted.into());
        }
        if c.is_paused_at(ts(now)) {
            return Err(UserError::CommitmentsHeld.into());
        }
        if commitments::open_count(&mut *tx, couple, slot).await? >= MAX_OPEN {
            return Err(UserError::TooManyCommitments { max: MAX_OPEN }.into());
        }
        let schedule = parse_when(when, &c.tz)?;
        if let Some(s) = &schedule {
            // Asked at most as often as prompts may come, and never hourly surveillance.
            s.check_floor(self.settings.min_interval, now)?;
        }
        let occurrence = match &schedule {
            None => Some(ts(now) + ONCE_WITHIN),
            Some(s) => s.next_after(now).map(ts),
        };
        let next = occurrence.map(|o| (o, ask_at(self, &c, o)));
        let spec = schedule.as_ref().map(|s| s.spec().to_string());
        let new = commitments::NewCommitment { couple, slot, text: &text, spec: spec.as_deref(), at: ts(now), next };
        let id = commitments::insert(&mut tx, &self.keys, &new).await?;
        let notice = Notice::Committed { commitment: id, slot };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, ts(now)), ts(now)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Asks about every occurrence now due: one "Did this happen?" to the
    /// partner it was made to, at most once per occurrence, and the next one
    /// set. While the couple is paused or someone has space, no one is asked.
    pub async fn claim_commitments(&self) -> Result<usize> {
        let now = ts(self.now());
        let mut asked = 0;
        loop {
            if commitments::due(&self.pool, now, 1).await?.is_empty() {
                return Ok(asked);
            }
            let mut tx = store::begin_write(&self.pool).await?;
            let due = commitments::due(&mut *tx, now, self.settings.claim_batch).await?;
            for (id, couple, occurrence) in &due {
                let Some(c) = couples::get(&mut tx, *couple).await? else { continue };
                let Some(m) = commitments::get(&mut *tx, &self.keys, *id).await? else { continue };
                let schedule = m.spec.as_deref().and_then(|spec| Schedule::parse_stored(spec, &c.tz).ok());
                // The newest occurrence whose ask is due: one missed while mend
                // was down is passed over for it, never asked late in a burst.
                let mut occ = *occurrence;
                if let Some(s) = &schedule {
                    for _ in 0..1_000 {
                        match s.next_after(instant(occ)).map(ts) {
                            Some(n) if ask_at(self, &c, n) <= now => occ = n,
                            _ => break,
                        }
                    }
                }
                let held = c.is_paused_at(now);
                let next = match &schedule {
                    Some(s) => s.next_after(instant(occ)).map(|o| (ts(o), ask_at(self, &c, ts(o)))),
                    // Once, while held: asked a day later instead of never.
                    None if held => Some((occ, now + ONCE_WITHIN)),
                    None => None,
                };
                if !held && let Some(check) = commitments::insert_check(&mut *tx, *id, *couple, occ, now).await? {
                    let notice = Notice::CommitmentAsk { commitment: *id, check, slot: m.slot };
                    let item = NewItem::notice(Some(*couple), notice, To::Partner(m.slot.other()), now);
                    outbox::insert(&mut tx, item, now).await?;
                    asked += 1;
                }
                commitments::set_next(&mut *tx, *id, next).await?;
            }
            tx.commit().await?;
            if (due.len() as i64) < self.settings.claim_batch {
                return Ok(asked);
            }
        }
    }

    /// The earliest "Did this happen?" still to ask.
    pub async fn next_commitment_ask(&self) -> Result<Option<i64>> {
        Ok(commitments::earliest(&self.pool).await?)
    }

    /// A commitment of `couple` (refused for anyone else's).
    pub async fn commitment(&self, couple: CoupleId, id: i64) -> Result<Commitment> {
        match commitments::get(&self.pool, &self.keys, id).await? {
            Some(m) if m.couple_id == couple => Ok(m),
            _ => Err(UserError::NotYours.into()),
        }
    }

    /// A commitment as an outbox notice tells it (`None`: gone since).
    pub async fn commitment_for_notice(&self, id: i64) -> Result<Option<Commitment>> {
        Ok(commitments::get(&self.pool, &self.keys, id).await?)
    }

    /// The check `id`, if still open to be answered.
    pub async fn commitment_check(&self, id: i64) -> Result<Option<Check>> {
        Ok(commitments::check(&self.pool, id).await?)
    }

    /// The couple's commitments, open first.
    pub async fn commitments(&self, couple: CoupleId) -> Result<Vec<Commitment>> {
        Ok(commitments::of_couple(&self.pool, &self.keys, couple).await?)
    }

    /// The partner it was made to answers "Did you notice it?". Only "Yes, I
    /// noticed" is told, to both (not while someone has space: it still
    /// counts); anything else stays with them. Answering again changes nothing.
    pub async fn notice_commitment(
        &self,
        couple: CoupleId,
        slot: Slot,
        check: i64,
        noticed: Noticed,
    ) -> Result<Answered> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let k =
            commitments::check(&mut *tx, check).await?.filter(|k| k.couple_id == couple).ok_or(UserError::NotYours)?;
        let m = commitments::get(&mut *tx, &self.keys, k.commitment_id).await?.ok_or(UserError::CommitmentGone)?;
        if m.slot == slot {
            return Err(UserError::NotYours.into());
        }
        let recorded = commitments::answer(&mut *tx, check, noticed, now).await?;
        let held = couples::get(&mut tx, couple).await?.is_none_or(|c| c.is_paused_at(now));
        let told = recorded && noticed == Noticed::Kept && !held;
        if told {
            let notice = Notice::Kept { commitment: m.id, slot };
            outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, now), now).await?;
        }
        tx.commit().await?;
        Ok(match (recorded, told) {
            (false, _) => Answered::Already,
            (true, true) => Answered::Told,
            (true, false) => Answered::KeptQuiet,
        })
    }

    async fn own_open(
        &self,
        tx: &mut sqlx::AnyConnection,
        couple: CoupleId,
        slot: Slot,
        id: i64,
    ) -> Result<Commitment> {
        let m = commitments::get(&mut *tx, &self.keys, id).await?.filter(|m| m.couple_id == couple);
        let m = m.ok_or(UserError::NotYours)?;
        if m.slot != slot {
            return Err(UserError::NotYourCommitment.into());
        }
        if m.retired_at.is_some() {
            return Err(UserError::CommitmentGone.into());
        }
        Ok(m)
    }

    /// The committer revises it, with an optional note for their partner.
    pub async fn revise_commitment(
        &self,
        couple: CoupleId,
        slot: Slot,
        id: i64,
        text: &str,
        note: Option<&str>,
    ) -> Result<()> {
        let text = clean(text)?;
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        self.own_open(&mut tx, couple, slot, id).await?;
        if couples::get(&mut tx, couple).await?.is_none_or(|c| c.is_paused_at(now)) {
            return Err(UserError::CommitmentsHeld.into());
        }
        commitments::revise(&mut tx, &self.keys, id, &text, clean_note(note).as_deref(), now).await?;
        let notice = Notice::CommitmentRevised { commitment: id };
        outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, now), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The committer retires it, with an optional note: no one is asked about
    /// it again. Retiring twice changes nothing.
    pub async fn retire_commitment(&self, couple: CoupleId, slot: Slot, id: i64, note: Option<&str>) -> Result<()> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        self.own_open(&mut tx, couple, slot, id).await?;
        if commitments::retire(&mut tx, &self.keys, id, clean_note(note).as_deref(), now).await? {
            let notice = Notice::CommitmentRetired { commitment: id };
            outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, now), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The partner it was made to marks it "this matters most" (again: unmarks
    /// it). Only one may matter most at a time. Returns whether it now does.
    pub async fn matters_most(&self, couple: CoupleId, slot: Slot, id: i64) -> Result<bool> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        if couples::get(&mut tx, couple).await?.is_none_or(|c| c.is_paused_at(now)) {
            return Err(UserError::CommitmentsHeld.into());
        }
        let all = commitments::of_couple(&mut *tx, &self.keys, couple).await?;
        let m = all.iter().find(|m| m.id == id).ok_or(UserError::NotYours)?;
        if m.slot == slot {
            return Err(UserError::NotYours.into());
        }
        let now_matters = m.matters_at.is_none();
        for other in all.iter().filter(|o| o.slot == m.slot && o.matters_at.is_some()) {
            commitments::set_matters(&mut *tx, other.id, None).await?;
        }
        if now_matters {
            commitments::set_matters(&mut *tx, id, Some(now)).await?;
            let notice = Notice::MattersMost { commitment: id, slot };
            outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Partner(m.slot), now), now).await?;
        }
        tx.commit().await?;
        Ok(now_matters)
    }

    /// What `slot` answered when asked about their partner's commitments, with
    /// each commitment: theirs alone, for their export.
    pub async fn noticed_by(&self, couple: CoupleId, slot: Slot) -> Result<Vec<(Commitment, Check)>> {
        let all = commitments::of_couple(&self.pool, &self.keys, couple).await?;
        let checks = commitments::checks_of_couple(&self.pool, couple).await?;
        Ok(checks
            .into_iter()
            .filter_map(|k| all.iter().find(|m| m.id == k.commitment_id && m.slot != slot).map(|m| (m.clone(), k)))
            .collect())
    }

    /// The Discord messages that quoted any of the couple's commitments (their
    /// records go with them), for the adapter to delete as the couple ends.
    pub async fn take_commitment_messages(&self, couple: CoupleId) -> Result<Vec<(u64, u64)>> {
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let ids: Vec<i64> = commitments::of_couple(&mut *tx, &self.keys, couple).await?.iter().map(|m| m.id).collect();
        let messages = outbox::take_commitment_messages(&mut tx, couple, &ids).await?;
        tx.commit().await?;
        Ok(messages)
    }

    /// Commitments noticed kept in `[from, to)`, for the reflection and its picture.
    pub async fn kept_between(&self, couple: CoupleId, from: i64, to: i64) -> Result<usize> {
        Ok(commitments::kept_between(&self.pool, couple, from, to).await?)
    }
}
