//! Hard moments: met privately and at once; shared with the partner only if
//! their owner chooses, as a content-free note; never counted against anyone.

use super::{Engine, Result, UserError, ts};
use crate::core::entities::CoupleId;
use crate::core::model::Slot;
use crate::core::outbox::{NewItem, Notice, To};
use crate::store::hard_moments::{self, HardMoment};
use crate::store::{self, outbox};

impl Engine {
    /// `slot` is having a hard moment: recorded for them alone. Returns its id.
    pub async fn hard_moment(&self, couple: CoupleId, slot: Slot) -> Result<i64> {
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let id = hard_moments::insert(&mut *tx, couple, slot, ts(self.now())).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The hard moment `id`, if it is `slot`'s own.
    async fn own_moment(&self, couple: CoupleId, slot: Slot, id: i64) -> Result<HardMoment> {
        match hard_moments::get(&self.pool, &self.keys, id).await? {
            Some(m) if m.couple_id == couple && m.slot == slot => Ok(m),
            _ => Err(UserError::NotYours.into()),
        }
    }

    /// "Let my partner know": the partner gets, privately, a note that says no
    /// more than that this is a hard moment (once, however often it is asked).
    pub async fn share_hard_moment(&self, couple: CoupleId, slot: Slot, id: i64) -> Result<()> {
        self.own_moment(couple, slot, id).await?;
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        if hard_moments::set_shared(&mut *tx, id, now).await? {
            let notice = Notice::HardMoment { slot, moment: id };
            outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Partner(slot.other()), now), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The partner of a shared hard moment answers "I'm here": its owner is told.
    pub async fn here_for_hard_moment(&self, couple: CoupleId, slot: Slot, id: i64) -> Result<()> {
        self.own_moment(couple, slot.other(), id).await?;
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        if hard_moments::set_met(&mut *tx, id, now).await? {
            let notice = Notice::ImHere { slot };
            outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Partner(slot.other()), now), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// "Just for me": a note of `slot`'s own to the moment, sealed, never shown
    /// to the partner (`None` or blank: none).
    pub async fn note_hard_moment(&self, couple: CoupleId, slot: Slot, id: i64, note: Option<&str>) -> Result<()> {
        self.own_moment(couple, slot, id).await?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        hard_moments::set_note(&mut tx, &self.keys, id, note).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `slot`'s own hard moments, for their export.
    pub async fn hard_moments_of(&self, couple: CoupleId, slot: Slot) -> Result<Vec<HardMoment>> {
        Ok(hard_moments::of_partner(&self.pool, &self.keys, couple, slot).await?)
    }
}
