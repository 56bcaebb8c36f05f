//! Answers: saving them (sealed), the content-free notice, the reveal once both
//! have answered — all in the answer's transaction — and what each partner may
//! read back.

use super::{Engine, Result, Saved, UserError, ts};
use crate::core::answer::Answer;
use crate::core::entities::{Chosen, CoupleId, Delivery, DeliveryId, Response, ResponseStatus, Status};
use crate::core::model::{Kind, Slot};
use crate::core::outbox::{ItemKind, NewItem, Notice, To, lifetime};
use crate::core::prompts::Prompt;
use crate::store::keys::Keys;
use crate::store::responses::NewResponse;
use crate::store::{self, deliveries, outbox, responses};

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
    pub async fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        Ok(deliveries::get(&self.pool, id).await?)
    }

    pub async fn responses(&self, id: DeliveryId) -> Result<Vec<Response>> {
        Ok(responses::for_delivery(&self.pool, &self.keys, id).await?)
    }

    /// The prompt a partner can still answer: theirs, sent and not yet revealed.
    pub async fn answerable(&self, couple: CoupleId, id: DeliveryId) -> Result<Delivery> {
        let delivery = deliveries::get(&self.pool, id).await?.ok_or(UserError::NotYours)?;
        owned_and_sent(&delivery, couple)?;
        if delivery.revealed_at.is_some() {
            return Err(UserError::AlreadyRevealed.into());
        }
        Ok(delivery)
    }

    /// Saves a partner's answer (an edit while not yet revealed replaces it), in
    /// one transaction with what it owes the couple: a content-free "has
    /// answered" for a first answer, and — when both partners have answered a
    /// prompt that is shared — the reveal, once.
    pub async fn answer(&self, couple: CoupleId, id: DeliveryId, slot: Slot, answer: Answer) -> Result<Saved> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let delivery = deliveries::get(&mut *tx, id).await?.ok_or(UserError::NotYours)?;
        let chosen = owned_and_sent(&delivery, couple)?;
        if delivery.revealed_at.is_some() {
            return Err(UserError::AlreadyRevealed.into());
        }
        match (&answer, chosen.kind) {
            (Answer::Text(_), Kind::Action) => return Err(UserError::ActionNeedsDone.into()),
            (Answer::Action { .. }, Kind::Shared | Kind::Journal) => return Err(UserError::TextNeeded.into()),
            _ => {}
        }
        let before = responses::for_delivery(&mut *tx, &self.keys, id).await?;
        let edited = before.iter().any(|r| r.slot == slot && r.status == ResponseStatus::Answered);
        let saved = NewResponse {
            couple,
            delivery: id,
            slot,
            status: ResponseStatus::Answered,
            body: answer.body(),
            done: answer.done(),
            at: now,
        };
        responses::upsert(&mut tx, &self.keys, saved).await?;
        let mut owed = Vec::new();
        if !edited && chosen.kind != Kind::Journal {
            owed.push(NewItem::notice(Some(couple), Notice::Answered { slot }, To::HomeOr(slot.other()), now));
        }
        let mut revealed = false;
        if chosen.kind != Kind::Journal {
            let answered = before.iter().any(|r| r.slot == slot.other() && r.status == ResponseStatus::Answered);
            if answered && deliveries::set_revealed(&mut *tx, id, now).await? {
                revealed = true;
                owed.push(NewItem {
                    couple_id: Some(couple),
                    kind: ItemKind::Reveal,
                    delivery_id: Some(id),
                    reflection_id: None,
                    slot: None,
                    notice: None,
                    due: now,
                    deadline: now + lifetime(ItemKind::Reveal, self.settings.grace).num_seconds(),
                });
            }
        }
        outbox::insert_many(&mut tx, &owed, now).await?;
        tx.commit().await?;
        metrics::counter!("mend_answers_total", "kind" => chosen.kind.as_str()).increment(1);
        Ok(Saved { edited, kind: chosen.kind, revealed })
    }

    /// "Skip today": no answer, no nudge, no guilt.
    pub async fn skip(&self, couple: CoupleId, id: DeliveryId, slot: Slot) -> Result<()> {
        let now = ts(self.now());
        let mut tx = store::begin_couple(&self.pool, couple).await?;
        let delivery = deliveries::get(&mut *tx, id).await?.ok_or(UserError::NotYours)?;
        owned_and_sent(&delivery, couple)?;
        if delivery.revealed_at.is_some() {
            return Err(UserError::AlreadyRevealed.into());
        }
        respond(&mut tx, &self.keys, couple, id, slot, ResponseStatus::Skipped, now).await?;
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

    /// What a partner may see of their couple's deliveries, newest first.
    pub async fn seen_by(&self, couple: CoupleId, slot: Slot, limit: usize) -> Result<Vec<Seen>> {
        let delivered = deliveries::for_couple(&self.pool, couple, 0, i64::MAX).await?;
        let answers = responses::for_couple(&self.pool, &self.keys, couple, 0, i64::MAX).await?;
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

/// Records a skip or a request for space; a response never throws away an
/// answer already written.
pub(super) async fn respond(
    tx: &mut sqlx::AnyConnection,
    keys: &Keys,
    couple: CoupleId,
    id: DeliveryId,
    slot: Slot,
    status: ResponseStatus,
    now: i64,
) -> Result<()> {
    let answered = responses::for_delivery(&mut *tx, keys, id)
        .await?
        .iter()
        .any(|r| r.slot == slot && r.status == ResponseStatus::Answered);
    if !answered {
        let r = NewResponse { couple, delivery: id, slot, status, body: None, done: None, at: now };
        responses::upsert(&mut *tx, keys, r).await?;
    }
    Ok(())
}

/// The delivery's choice, if it belongs to `couple` and was sent.
pub(super) fn owned_and_sent(delivery: &Delivery, couple: CoupleId) -> Result<&Chosen> {
    if delivery.couple_id != couple {
        return Err(UserError::NotYours.into());
    }
    match (&delivery.chosen, delivery.status) {
        (Some(chosen), Status::Sent) => Ok(chosen),
        _ => Err(UserError::NotSent.into()),
    }
}

impl Engine {
    /// Every delivery of a couple, oldest first (the simulator's checks).
    pub async fn deliveries_of(&self, couple: CoupleId) -> Result<Vec<Delivery>> {
        Ok(deliveries::for_couple(&self.pool, couple, 0, i64::MAX).await?)
    }

    /// Every reflection occurrence of a couple, oldest first.
    pub async fn reflections_of(&self, couple: CoupleId) -> Result<Vec<crate::core::entities::StoredReflection>> {
        Ok(store::reflections::for_couple(&self.pool, couple).await?)
    }
}
