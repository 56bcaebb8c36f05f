//! The invariants a run must keep, checked against what the database holds:
//! one delivery per owed occurrence, no early or journal reveals, no repeat for a
//! reader before what fits them of that pillar and kind runs out, no prompt worded
//! for one role read by someone else, one reflection a week, nothing stuck in the
//! outbox.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{COUPLE_TYPES, Sim, SimCouple, TypeOutcome};
use crate::core::entities::{Chosen, Delivery, ResponseStatus, Status};
use crate::core::model::{Audience, Depth, Kind, Phase, Slot};
use crate::core::prompts::Library;
use crate::core::schedule::Schedule;
use crate::core::select::{self, fits};
use crate::engine::instant;

impl Sim {
    /// Checks the invariants against what is in the database.
    pub(super) async fn check(
        &mut self,
        library: &Library,
        last_tick: DateTime<Utc>,
        downtime: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> anyhow::Result<()> {
        let grace = self.engine.settings().grace.num_seconds();
        let mut v = Vec::new();
        // What was noticed kept is told, once each; a miss never is.
        for (commitment, posts) in &self.outcome.kept_posts {
            let kept = self.outcome.kept_answers.get(commitment).copied().unwrap_or(0);
            if *posts != kept {
                v.push(format!("commitment {commitment}: {posts} \"kept\" posts for {kept} noticed kept"));
            }
        }
        if self.outcome.commitments > 0 && self.outcome.commitment_asks == 0 {
            v.push("commitments were made but no one was ever asked about one".into());
        }
        let mut types: Vec<TypeOutcome> =
            COUPLE_TYPES.iter().map(|t| TypeOutcome { name: t.name, ..TypeOutcome::default() }).collect();
        for c in &self.couples {
            let rows = self.engine.deliveries_of(c.id).await?;
            // Exactly one delivery per scheduled occurrence outside pauses.
            let owed_prompts = owed(&c.prompt, c, last_tick);
            let have: HashSet<i64> = rows.iter().map(|d| d.occurrence).collect();
            if have.len() != rows.len() {
                v.push(format!("couple {}: an occurrence has two deliveries", c.id));
            }
            for o in owed_prompts.difference(&have) {
                v.push(format!("couple {}: occurrence {} has no delivery", c.id, instant(*o)));
            }
            for o in have.difference(&owed_prompts) {
                v.push(format!("couple {}: delivery at {} was not owed", c.id, instant(*o)));
            }
            for d in &rows {
                if d.status == Status::Sent {
                    if d.sent_at.unwrap_or(0) - d.occurrence > grace {
                        v.push(format!(
                            "couple {}: a prompt was sent {}s late, past the grace window",
                            c.id,
                            d.sent_at.unwrap_or(0) - d.occurrence
                        ));
                    }
                } else if d.status == Status::Missed {
                    self.outcome.missed += 1;
                    // Missed only because mend was down: too long, or a newer
                    // occurrence came due in the same outage.
                    let occ = instant(d.occurrence);
                    let excused = downtime.iter().any(|(a, b)| {
                        occ >= *a
                            && occ < *b
                            && ((*b - occ).num_seconds() > grace
                                || rows.iter().any(|n| n.occurrence > d.occurrence && instant(n.occurrence) < *b))
                    });
                    if !excused {
                        v.push(format!("couple {}: the prompt due {occ} was missed while mend was up", c.id));
                    }
                }
                let responses = self.engine.responses(d.id).await?;
                if let Some(revealed) = d.revealed_at {
                    let answered: Vec<_> = responses.iter().filter(|r| r.status == ResponseStatus::Answered).collect();
                    if answered.len() != 2
                        || answered
                            .iter()
                            .any(|r| r.answered_at > revealed || r.edited_at.is_some_and(|e| e > revealed))
                    {
                        v.push(format!("couple {}: delivery {} revealed before both answered", c.id, d.id));
                    }
                    if d.chosen.as_ref().is_some_and(|ch| ch.kind == Kind::Journal) {
                        v.push(format!("couple {}: journal delivery {} revealed", c.id, d.id));
                    }
                }
            }
            for d in &rows {
                if d.status == Status::Sent && d.chosen.is_none() {
                    v.push(format!("couple {}: delivery {} was sent with no prompt chosen", c.id, d.id));
                }
                // Owed, mend up, past its grace window, and still neither sent nor missed.
                if d.status == Status::Pending && last_tick.timestamp() - d.occurrence > grace {
                    v.push(format!("couple {}: the prompt due {} was never sent", c.id, instant(d.occurrence)));
                }
            }
            let chosen: Vec<(&Delivery, &Chosen)> =
                rows.iter().filter_map(|d| d.chosen.as_ref().map(|ch| (d, ch))).collect();
            v.extend(repeats_before_exhaustion(library, c, &chosen));
            v.extend(worded_for_someone_else(library, c, &chosen));
            if !COUPLE_TYPES[c.kind].moves_on {
                let start = Phase::starting(c.roles);
                if let Some((d, ch)) = chosen.iter().find(|(_, ch)| ch.phase != start) {
                    v.push(format!("couple {}: meant to stay in {start}, delivery {} was in {}", c.id, d.id, ch.phase));
                }
            }
            let t = &mut types[c.kind];
            t.couples += 1;
            t.deliveries += chosen.len();
            if let Some(day) = first_repeat(c, &chosen) {
                t.first_repeat = Some(t.first_repeat.map_or(day, |d| d.min(day)));
            }
            // One reflection per couple per week, for every week owed.
            let refl = self.engine.reflections_of(c.id).await?;
            let owed_weeks = owed(&c.reflection, c, last_tick);
            let have_weeks: HashSet<i64> = refl.iter().map(|r| r.occurrence).collect();
            if owed_weeks != have_weeks {
                v.push(format!(
                    "couple {}: {} reflections owed, {} recorded",
                    c.id,
                    owed_weeks.len(),
                    have_weeks.len()
                ));
            }
            // Everything owed through the outbox was posted or deliberately
            // dropped, and nothing waits past its deadline.
            for item in self.engine.outbox_of(c.id).await? {
                let overdue =
                    item.status == crate::core::outbox::ItemStatus::Pending && item.deadline < last_tick.timestamp();
                if overdue || item.status == crate::core::outbox::ItemStatus::Failed {
                    v.push(format!("couple {}: outbox item {} ({}) was {}", c.id, item.id, item.kind, item.status));
                }
            }
            for pair in refl.windows(2) {
                if pair[1].occurrence - pair[0].occurrence < 6 * 86_400 {
                    v.push(format!("couple {}: two reflections in one week", c.id));
                }
            }
        }
        self.outcome.violations.extend(v);
        self.outcome.types = types;
        Ok(())
    }
}

/// The couple as selection saw it at a delivery: its phase then, and the depth
/// its days on mend had reached.
fn state_at(c: &SimCouple, d: &Delivery, ch: &Chosen) -> select::Couple {
    select::Couple { roles: c.roles, phase: ch.phase, depth: Depth::ramp((d.occurrence - c.created_at) / 86_400) }
}

/// No prompt comes back to a reader while a prompt of the same pillar and kind
/// that fits them (in the couple's phase, at the depth reached) is still new to
/// them this round. A repeat starts a new round of that pillar and kind.
fn repeats_before_exhaustion(library: &Library, c: &SimCouple, chosen: &[(&Delivery, &Chosen)]) -> Vec<String> {
    let mut v = Vec::new();
    for slot in Slot::BOTH {
        let role = c.roles[slot.index()];
        let mut round: HashMap<(&str, Kind), HashSet<&str>> = HashMap::new();
        for (d, ch) in chosen {
            let id = ch.prompts[slot.index()].as_str();
            let Some(kind) = library.prompt(id).map(|p| p.kind) else { continue };
            let set = round.entry((ch.pillar.as_str(), kind)).or_default();
            if set.insert(id) {
                continue;
            }
            let state = state_at(c, d, ch);
            let unused: Vec<&str> = library
                .in_pillar(&ch.pillar)
                .filter(|p| p.kind == kind && fits(p, role, &state) && !set.contains(p.id.as_str()))
                .map(|p| p.id.as_str())
                .collect();
            if !unused.is_empty() {
                v.push(format!(
                    "couple {}: {id} came back to the {role} reader ({} {kind}, {}, delivery {}) while {} was unused",
                    c.id,
                    ch.pillar,
                    ch.phase,
                    d.id,
                    unused.join(", ")
                ));
            }
            set.clear();
            set.insert(id);
        }
    }
    v
}

/// A prompt worded for a role goes only to a reader with that role, and a day
/// with one is each partner's own (so the other never reads it).
fn worded_for_someone_else(library: &Library, c: &SimCouple, chosen: &[(&Delivery, &Chosen)]) -> Vec<String> {
    let mut v = Vec::new();
    for (d, ch) in chosen {
        let mut worded = false;
        for slot in Slot::BOTH {
            let id = &ch.prompts[slot.index()];
            let Some(p) = library.prompt(id) else {
                v.push(format!("couple {}: delivery {} chose {id}, which is not in the library", c.id, d.id));
                continue;
            };
            let role = c.roles[slot.index()];
            if p.audience != Audience::Both {
                worded = true;
                if Some(p.audience) != role.audience() {
                    v.push(format!(
                        "couple {}: delivery {} gave the {role} reader {id}, worded for the {} reader",
                        c.id, d.id, p.audience
                    ));
                }
            }
        }
        if worded && !select::is_personal(library, &ch.prompts) {
            v.push(format!("couple {}: delivery {} shows a role-worded prompt to both partners", c.id, d.id));
        }
    }
    v
}

/// The first day (from the couple's start) either reader got a prompt again.
fn first_repeat(c: &SimCouple, chosen: &[(&Delivery, &Chosen)]) -> Option<i64> {
    Slot::BOTH
        .into_iter()
        .filter_map(|slot| {
            let mut seen = HashSet::new();
            chosen
                .iter()
                .find(|(_, ch)| !seen.insert(ch.prompts[slot.index()].as_str()))
                .map(|(d, _)| (d.occurrence - c.created_at) / 86_400)
        })
        .min()
}

/// Every occurrence of a schedule from the couple's start to the last tick,
/// except those that fell inside one of its pauses.
fn owed(schedule: &Schedule, c: &SimCouple, last_tick: DateTime<Utc>) -> HashSet<i64> {
    std::iter::successors(schedule.next_after(instant(c.created_at)), |t| schedule.next_after(*t))
        .take_while(|t| *t <= last_tick)
        .map(|t| t.timestamp())
        .filter(|t| !c.paused.iter().any(|(from, to)| t > from && t <= to))
        .collect()
}
