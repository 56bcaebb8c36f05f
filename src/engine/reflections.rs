//! The weekly reflection: built from what reached the couple that week.

use super::{Engine, Result};
use crate::core::entities::{CoupleId, Response, ResponseStatus, Status};
use crate::core::model::Slot;
use crate::core::reflection::{Reflection, WeekItem};
use crate::store::{deliveries, responses};

impl Engine {
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
        let mut reflection = Reflection::build(&self.library, &items);
        reflection.met_together = crate::store::hard_moments::met_together(&self.pool, couple, from, to).await?;
        Ok(reflection)
    }
}
