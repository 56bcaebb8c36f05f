//! The private safety check: before any shared prompt, and at any time with
//! `/safety`. Its answers are never stored, logged or exported; only what they
//! lead to is: a partner no longer holding the first prompt, or that partner's
//! space, which reaches the other partner exactly as any space does.

use super::couples::hold;
use super::{Engine, Result, UserError, ts};
use crate::core::entities::{CoupleId, UNTIL_LIFTED};
use crate::core::model::Slot;
use crate::core::outbox::{NewItem, Notice, To};
use crate::store::{self, couples, outbox};

/// What a clear safety check led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    /// It was the check before their first prompt (not a later `/safety`).
    pub first: bool,
    /// The partner has yet to take theirs.
    pub partner_pending: bool,
}

impl Engine {
    /// `slot` took the check and nothing in it signalled danger. They no
    /// longer hold the couple's first prompt; once neither does (and nothing
    /// else holds them), prompts start and both are told.
    pub async fn safety_clear(&self, couple: CoupleId, slot: Slot) -> Result<Cleared> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        if c.holds.checking[slot.index()] {
            let mut holds = c.holds;
            holds.checking[slot.index()] = false;
            hold(&mut tx, couple, holds, now).await?;
            if holds.combined(now).is_none() {
                outbox::insert(&mut tx, NewItem::notice(Some(couple), Notice::Ready, To::Home, now), now).await?;
            }
        }
        tx.commit().await?;
        Ok(Cleared { first: c.holds.checking[slot.index()], partner_pending: c.holds.checking[slot.other().index()] })
    }

    /// Something `slot` answered signals they may not be safe. Shared prompts
    /// stop as a space of theirs until they lift it: the other partner is told
    /// with the very words any space is told with, so nothing tells them why.
    pub async fn safety_concern(&self, couple: CoupleId, slot: Slot) -> Result<()> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let c = couples::get(&mut tx, couple).await?.ok_or(UserError::UnknownCouple)?;
        let mut holds = c.holds;
        holds.checking[slot.index()] = false;
        let already = holds.space[slot.index()] == Some(UNTIL_LIFTED);
        holds.space[slot.index()] = Some(UNTIL_LIFTED);
        hold(&mut tx, couple, holds, now).await?;
        if !already {
            let notice = Notice::SpaceTaken { slot, until: None };
            outbox::insert(&mut tx, NewItem::notice(Some(couple), notice, To::Home, now), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
