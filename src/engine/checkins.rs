//! The weekly check-in before the State of the Union: each partner is asked,
//! privately, for one thing they appreciated and one thing that would help them
//! feel cared for. The reflection waits for both, or for its window to close,
//! and leaves out whoever did not write, without a word about it.

use super::{Engine, Result, UserError, ts};
use crate::core::answer::AnswerError;
use crate::core::entities::{Couple, CoupleId, Status, StoredReflection};
use crate::core::model::Slot;
use crate::core::outbox::{ItemKind, NewItem, Notice, To, lifetime};
use crate::core::reflection::{CHECK_IN_WINDOW_SECONDS, CheckIn, MAX_CHECK_IN_CHARS, Reflection};
use crate::store::checkins::StoredCheckIn;
use crate::store::{self, checkins, deliveries, reflections};

/// What became of a check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedIn {
    /// Kept for the reflection. `complete`: both partners have now checked in,
    /// so the reflection goes out at once.
    Saved { complete: bool },
    /// The reflection has already gone out (or its week has closed): nothing
    /// was kept, and the writer is shown their words back.
    Closed,
}

/// What a partner's check-in form needs.
#[derive(Debug, Clone)]
pub struct CheckInForm {
    pub couple: Couple,
    pub slot: Slot,
    /// Whether the reflection still takes check-ins.
    pub open: bool,
    /// What they wrote before, if they did (shown again to change it).
    pub mine: Option<CheckIn>,
}

/// A reflection posted to the couple, rebuilt from what mend holds now (what
/// a partner has since forgotten is no longer in it).
#[derive(Debug, Clone)]
pub struct PostedReflection {
    pub week_start: i64,
    pub posted_at: i64,
    pub reflection: Reflection,
}

impl Engine {
    /// What a claimed reflection occurrence owes: a private check-in to each
    /// partner now, and the reflection itself once the window closes (sooner,
    /// when both have checked in), given a grace window after that.
    pub(super) fn reflection_items(
        &self,
        couple: CoupleId,
        reflection: i64,
        occurrence: i64,
        now: i64,
    ) -> Vec<NewItem> {
        let mut items: Vec<NewItem> = Slot::BOTH
            .map(|slot| NewItem::notice(Some(couple), Notice::CheckIn { slot, reflection }, To::Partner(slot), now))
            .to_vec();
        items.push(NewItem {
            couple_id: Some(couple),
            kind: ItemKind::Reflection,
            delivery_id: None,
            reflection_id: Some(reflection),
            slot: None,
            notice: None,
            due: occurrence + CHECK_IN_WINDOW_SECONDS,
            deadline: occurrence + lifetime(ItemKind::Reflection, self.settings.grace).num_seconds(),
        });
        items
    }

    /// Whether the check-in for `reflection` is still worth sending: the
    /// reflection waits, and its week had a prompt to reflect on (a week with
    /// none has no reflection, so no check-in either).
    pub(super) async fn check_in_owed(&self, reflection: i64) -> Result<bool> {
        let Some(r) = reflections::get(&self.pool, reflection).await? else { return Ok(false) };
        if !reflections::takes_check_ins(&self.pool, reflection, ts(self.now())).await? {
            return Ok(false);
        }
        let week = deliveries::for_couple(&self.pool, r.couple_id, r.week_start, r.occurrence).await?;
        Ok(week.iter().any(|d| d.status == Status::Sent))
    }

    /// The reflection `user` checks in for, if it is their couple's; refused otherwise.
    async fn own_reflection(&self, user: u64, reflection: i64) -> Result<(Couple, Slot, StoredReflection)> {
        let (couple, slot) = self.acting(user, None).await.map_err(|e| match e {
            super::EngineError::User(_) => UserError::NotYours.into(),
            e => e,
        })?;
        match reflections::get(&self.pool, reflection).await? {
            Some(r) if r.couple_id == couple.id => Ok((couple, slot, r)),
            _ => Err(UserError::NotYours.into()),
        }
    }

    /// `user` opens their check-in for `reflection`.
    pub async fn check_in_form(&self, user: u64, reflection: i64) -> Result<CheckInForm> {
        let (couple, slot, _) = self.own_reflection(user, reflection).await?;
        let open = reflections::takes_check_ins(&self.pool, reflection, ts(self.now())).await?;
        let mine =
            checkins::for_reflection(&self.pool, &self.keys, reflection).await?.into_iter().find(|c| c.writer == slot);
        Ok(CheckInForm { couple, slot, open, mine })
    }

    /// `user` checks in for `reflection`, both answers optional; a second
    /// check-in replaces the first while the reflection waits. The second
    /// partner's brings the reflection forward: it goes out now.
    pub async fn check_in(
        &self,
        user: u64,
        reflection: i64,
        appreciation: Option<&str>,
        cared_for: Option<&str>,
    ) -> Result<CheckedIn> {
        let (couple, slot, _) = self.own_reflection(user, reflection).await?;
        self.check_in_as(couple.id, slot, reflection, appreciation, cared_for).await
    }

    /// `slot` of `couple` checks in for `reflection` (the simulator, which has
    /// no chat ids; `check_in` for a person).
    pub async fn check_in_as(
        &self,
        couple: CoupleId,
        slot: Slot,
        reflection: i64,
        appreciation: Option<&str>,
        cared_for: Option<&str>,
    ) -> Result<CheckedIn> {
        match reflections::get(&self.pool, reflection).await? {
            Some(r) if r.couple_id == couple => {}
            _ => return Err(UserError::NotYours.into()),
        }
        let check_in = CheckIn::new(slot, appreciation, cared_for);
        for text in [&check_in.appreciation, &check_in.cared_for].into_iter().flatten() {
            let chars = text.chars().count();
            if chars > MAX_CHECK_IN_CHARS {
                return Err(UserError::Answer(AnswerError::TooLong(chars)).into());
            }
        }
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        if !reflections::takes_check_ins(&mut *tx, reflection, now).await? {
            return Ok(CheckedIn::Closed);
        }
        checkins::upsert(
            &mut tx,
            &self.keys,
            reflection,
            couple,
            slot,
            check_in.appreciation.as_deref(),
            check_in.cared_for.as_deref(),
            now,
        )
        .await?;
        let complete = checkins::count(&mut *tx, reflection).await? == 2;
        if complete {
            reflections::bring_forward(&mut *tx, reflection, now).await?;
        }
        tx.commit().await?;
        Ok(CheckedIn::Saved { complete })
    }

    /// `slot`'s own check-ins, for their export.
    pub async fn check_ins_of(&self, couple: CoupleId, slot: Slot) -> Result<Vec<StoredCheckIn>> {
        Ok(checkins::of_partner(&self.pool, &self.keys, couple, slot).await?)
    }

    /// Every reflection posted to a couple, oldest first: both partners may see
    /// each one (their export).
    pub async fn posted_reflections(&self, couple: CoupleId) -> Result<Vec<PostedReflection>> {
        let mut out = Vec::new();
        for (r, posted_at) in reflections::posted(&self.pool, couple).await? {
            let mut reflection = self.reflection(couple, r.week_start, r.occurrence).await?;
            reflection.add_check_ins(&checkins::for_reflection(&self.pool, &self.keys, r.id).await?);
            out.push(PostedReflection { week_start: r.week_start, posted_at, reflection });
        }
        Ok(out)
    }
}
