//! The weekly reflection: built from what reached the couple that week, the
//! partners' check-ins, the commitments noticed kept, and the weeks before it
//! (the picture).

use super::{Engine, Result};
use crate::core::entities::{CoupleId, Response, ResponseStatus, Status, StoredReflection};
use crate::core::model::Slot;
use crate::core::reflection::{Reflection, Week, WeekItem};
use crate::store::{checkins, deliveries, hard_moments, responses};

const DAY: i64 = 24 * 60 * 60;
const WEEK: i64 = 7 * DAY;

impl Engine {
    /// The reflection on a couple's deliveries in `[from, to)`: what they did
    /// together, with the hard moments met and the commitments kept in it.
    pub async fn reflection(&self, couple: CoupleId, from: i64, to: i64) -> Result<Reflection> {
        let items: Vec<WeekItem> = self.week_items(couple, from, to).await?.into_iter().map(|(_, i)| i).collect();
        let mut reflection = Reflection::build(&self.library, &items);
        reflection.met_together = hard_moments::met_together(&self.pool, couple, from, to).await?;
        reflection.kept = crate::store::commitments::kept_between(&self.pool, couple, from, to).await?;
        Ok(reflection)
    }

    /// A weekly reflection as it is posted: its week, the partners' check-ins,
    /// and the picture of the weeks so far.
    pub(super) async fn weekly_reflection(&self, r: &StoredReflection) -> Result<Reflection> {
        let mut reflection = self.reflection(r.couple_id, r.week_start, r.occurrence).await?;
        reflection.add_check_ins(&checkins::for_reflection(&self.pool, &self.keys, r.id).await?);
        reflection.weeks = self.weeks(r).await?;
        Ok(reflection)
    }

    /// One week per week the couple has had up to this reflection's, oldest
    /// first. Only the weeks the picture shows are read: the ones before count
    /// as weeks only, so a long history costs no more than a short one.
    async fn weeks(&self, r: &StoredReflection) -> Result<Vec<Week>> {
        let created = self.couple(r.couple_id).await?.created_at;
        // A first week counts once the couple had a day of it.
        let span = r.occurrence - created - DAY;
        let total = ((span + WEEK - 1) / WEEK).max(1) as usize;
        let shown = total.min(mend_chart::MAX_WEEKS);
        let start = |k: usize| r.week_start - WEEK * k as i64;
        let first_shown = start(shown - 1);
        let items = self.week_items(r.couple_id, first_shown, r.occurrence).await?;
        let mut weeks: Vec<Week> =
            (shown..total).rev().map(|k| Week { start: start(k), together: 0, kept: 0, pillars: Vec::new() }).collect();
        for k in (0..shown).rev() {
            let (from, to) = (start(k), start(k) + WEEK);
            let to = if k == 0 { r.occurrence } else { to };
            let week: Vec<WeekItem> =
                items.iter().filter(|(o, _)| (from..to).contains(o)).map(|(_, i)| i.clone()).collect();
            let mut reflection = Reflection::build(&self.library, &week);
            reflection.kept = crate::store::commitments::kept_between(&self.pool, r.couple_id, from, to).await?;
            weeks.push(reflection.as_week(from));
        }
        Ok(weeks)
    }

    /// What reached the couple in `[from, to)`, by occurrence, with what each
    /// partner did with it.
    async fn week_items(&self, couple: CoupleId, from: i64, to: i64) -> Result<Vec<(i64, WeekItem)>> {
        let delivered = deliveries::for_couple(&self.pool, couple, from, to).await?;
        let answers = responses::for_couple(&self.pool, &self.keys, couple, from, to).await?;
        Ok(delivered
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
                Some((
                    d.occurrence,
                    WeekItem {
                        pillar: chosen.pillar.clone(),
                        kind: chosen.kind,
                        prompts: chosen.prompts.clone(),
                        answered,
                        done,
                        meaningful,
                        revealed: d.revealed_at.is_some(),
                    },
                ))
            })
            .collect())
    }
}
