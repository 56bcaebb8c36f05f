//! The invariants a run must keep, checked against what the database holds:
//! one delivery per owed occurrence, no early or journal reveals, no repeats
//! before a pillar runs out, one reflection a week, nothing stuck in the outbox.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Sim, SimCouple};
use crate::core::entities::{ResponseStatus, Status};
use crate::core::model::{Depth, Kind, Slot};
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
            // No prompt repeated for a partner before its pillar ran out for them.
            for slot in Slot::BOTH {
                let mut round: HashMap<&str, HashSet<&str>> = HashMap::new();
                for d in &rows {
                    let Some(ch) = &d.chosen else { continue };
                    let id = ch.prompts[slot.index()].as_str();
                    let set = round.entry(ch.pillar.as_str()).or_default();
                    if set.insert(id) {
                        continue;
                    }
                    let state = select::Couple {
                        roles: c.roles,
                        phase: ch.phase,
                        depth: Depth::ramp((d.occurrence - c.created_at) / 86_400),
                    };
                    let unused: Vec<&str> = library
                        .in_pillar(&ch.pillar)
                        .filter(|p| fits(p, c.roles[slot.index()], &state) && !set.contains(p.id.as_str()))
                        .map(|p| p.id.as_str())
                        .collect();
                    if !unused.is_empty() {
                        v.push(format!("couple {}: {id} repeated while {} was unused", c.id, unused.join(", ")));
                    }
                    set.clear();
                    set.insert(id);
                }
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
        Ok(())
    }
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
