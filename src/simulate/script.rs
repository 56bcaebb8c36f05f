//! The scripted couples: who they are (names, roles, zones, schedules, habits)
//! and what each of their acts does against the engine.

use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::{Act, Habit, Sim, SimCouple};
use crate::core::answer::Answer;
use crate::core::entities::Partner;
use crate::core::model::{Kind, Role, ScheduleKind, Slot};
use crate::engine::instant;

const ZONES: [&str; 12] = [
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "UTC",
    "Europe/London",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Africa/Nairobi",
    "America/St_Johns",
];

const NAMES: [&str; 12] =
    ["Alex", "Sam", "Jordan", "Robin", "Maya", "Noor", "Kai", "Lea", "Tomas", "Ines", "Yuki", "Ade"];

/// A kind of couple the simulator scripts: how each partner comes to mend, and
/// whether the couple moves on through the phases or stays where it starts all
/// year.
#[derive(Debug, Clone, Copy)]
pub struct CoupleType {
    pub name: &'static str,
    pub roles: [Role; 2],
    pub moves_on: bool,
}

/// Every kind of couple a run has, in turn (couple `i` is of kind `i % len`), so
/// a run of at least this many couples has every kind.
pub const COUPLE_TYPES: [CoupleType; 9] = [
    CoupleType { name: "betrayal, moving on", roles: [Role::Repairing, Role::Hurt], moves_on: true },
    CoupleType {
        name: "betrayal started by the hurt partner, moving on",
        roles: [Role::Hurt, Role::Repairing],
        moves_on: true,
    },
    CoupleType { name: "drifted, moving on", roles: [Role::Drifted, Role::Drifted], moves_on: true },
    CoupleType { name: "unsaid and hurt, moving on", roles: [Role::Unsaid, Role::Hurt], moves_on: true },
    CoupleType { name: "drifted and unsaid, moving on", roles: [Role::Drifted, Role::Unsaid], moves_on: true },
    CoupleType { name: "betrayal, staying in atone", roles: [Role::Hurt, Role::Repairing], moves_on: false },
    CoupleType { name: "drifted, staying in attune", roles: [Role::Drifted, Role::Drifted], moves_on: false },
    CoupleType { name: "unsaid and unsaid, staying in attune", roles: [Role::Unsaid, Role::Unsaid], moves_on: false },
    CoupleType { name: "unsaid and hurt, staying in atone", roles: [Role::Hurt, Role::Unsaid], moves_on: false },
];

impl Sim {
    pub(super) async fn add_couple(
        &mut self,
        i: usize,
        rng: &mut StdRng,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let tz = *ZONES.choose(rng).expect("zones");
        let kind = i % COUPLE_TYPES.len();
        let roles = COUPLE_TYPES[kind].roles;
        let names = [NAMES[(2 * i) % NAMES.len()].to_string(), NAMES[(2 * i + 1) % NAMES.len()].to_string()];
        let partners = [0, 1].map(|s| Partner { name: names[s].clone(), role: roles[s], external_id: None });
        let id = self.engine.create_couple(crate::engine::NewCouple { tz: tz.into(), partners }).await?;
        let (h, m) = (rng.random_range(6..23), rng.random_range(0..60));
        let prompt_spec = match rng.random_range(0..5) {
            0 | 1 => format!("daily {h:02}:{m:02}"),
            2 => format!("weekdays {h:02}:{m:02}"),
            3 => format!("mon,wed,fri,sat {h:02}:{m:02}"),
            _ => format!("{m} {h} * * *"),
        };
        let reflection_spec = if rng.random_bool(0.5) { "sun 19:00".to_string() } else { "30 18 * * 6".to_string() };
        let prompt = self.engine.set_schedule(id, ScheduleKind::Prompt, &prompt_spec, Some(tz)).await?;
        let reflection = self.engine.set_schedule(id, ScheduleKind::Reflection, &reflection_spec, Some(tz)).await?;
        let habit = |rng: &mut StdRng| Habit {
            answer: rng.random_range(0.45..0.95),
            skip: rng.random_range(0.02..0.15),
            space: 0.01,
            edit: 0.1,
            meaningful: rng.random_range(0.1..0.5),
        };
        self.couples.push(SimCouple {
            id,
            kind,
            names,
            roles,
            habits: [habit(rng), habit(rng)],
            tz: prompt.tz(),
            created_at: start.timestamp(),
            prompt,
            reflection,
            paused: Vec::new(),
            open_pause: None,
        });
        let span = (end - start).num_minutes().max(2);
        if rng.random_bool(0.25) {
            let at = start + Duration::minutes(rng.random_range(1..span));
            if rng.random_bool(0.5) {
                self.plan(at, i, Act::Pause { until_days: Some(rng.random_range(2..6)) });
            } else {
                self.plan(at, i, Act::Pause { until_days: None });
                self.plan(at + Duration::days(rng.random_range(1..8)), i, Act::Resume);
            }
        }
        // Now and then a hard moment, met privately, sometimes shared.
        for _ in 0..rng.random_range(0..4) {
            let at = start + Duration::minutes(rng.random_range(1..span));
            let slot = if rng.random_bool(0.5) { Slot::A } else { Slot::B };
            self.plan(at, i, Act::HardMoment { slot, note: rng.random_bool(0.5), share: rng.random_bool(0.6) });
        }
        // The partner rebuilding trust (either, where no one said they were
        // hurt) commits to something small, once or daily.
        if rng.random_bool(0.6) {
            let slot = if roles[0] == Role::Hurt { Slot::B } else { Slot::A };
            let when =
                [None, Some("daily 18:00"), Some("weekdays 19:30"), Some("sat 10:00")].choose(rng).copied().flatten();
            let at = start + Duration::minutes(rng.random_range(1..span));
            self.plan(at, i, Act::Commit { slot, when });
        }
        // Moving on is the hurt partner's call, when they feel ready: into attune
        // after a few weeks, and for some, later, into attach.
        if COUPLE_TYPES[kind].moves_on {
            self.plan(start + Duration::days(rng.random_range(14..40)), i, Act::AdvancePhase);
            if rng.random_bool(0.5) {
                self.plan(start + Duration::days(rng.random_range(60..150)), i, Act::AdvancePhase);
            }
        }
        Ok(())
    }

    pub(super) async fn act(
        &mut self,
        now: DateTime<Utc>,
        ci: usize,
        act: Act,
        rng: &mut StdRng,
        out: Option<&mut impl Write>,
    ) -> anyhow::Result<()> {
        let couple = self.couples[ci].id;
        let names = self.couples[ci].names.clone();
        let tz = self.couples[ci].tz;
        let name = |slot: Slot| names[slot.index()].clone();
        let mut line = None;
        match act {
            Act::Answer { delivery, kind, occurrence, slot, edit } => {
                let text =
                    format!("{}'s {}answer to delivery {delivery}", name(slot), if edit { "edited " } else { "" });
                let answer = match kind {
                    Kind::Action => Answer::action(rng.random_bool(0.7), Some(&text))?,
                    _ => Answer::text(&text)?,
                };
                match self.engine.answer(couple, delivery, slot, answer).await {
                    Ok(saved) => {
                        self.outcome.answers += 1;
                        let day = instant(occurrence).with_timezone(&tz).format("%a");
                        let verb = if saved.edited { "edited their answer" } else { "answered" };
                        line = Some(format!("  {} {verb} ({day}'s prompt): {text}", name(slot)));
                        if saved.revealed {
                            self.outcome.reveals += 1;
                            if kind == Kind::Journal {
                                self.outcome.violations.push(format!("journal delivery {delivery} was revealed"));
                            }
                            // Only the first couple's transcript shows what was revealed.
                            if ci == 0 && out.is_some() {
                                let shown: Vec<String> = self
                                    .engine
                                    .responses(delivery)
                                    .await?
                                    .iter()
                                    .map(|r| format!("{}: {}", name(r.slot), r.body.as_deref().unwrap_or("(no note)")))
                                    .collect();
                                line = Some(format!(
                                    "{}\n  revealed to both → {}",
                                    line.unwrap_or_default(),
                                    shown.join(" | ")
                                ));
                            }
                            let marker = if rng.random_bool(0.5) { Slot::A } else { Slot::B };
                            if rng.random_bool(self.couples[ci].habits[marker.index()].meaningful) {
                                self.engine.mark_meaningful(couple, delivery, marker).await?;
                            }
                        }
                    }
                    // Answering after the reveal is refused kindly; scripted edits can race it.
                    Err(crate::engine::EngineError::User(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Act::Skip { delivery, slot } => {
                self.engine.skip(couple, delivery, slot).await.or_else(user_ok)?;
                line = Some(format!("  {} skipped today", name(slot)));
            }
            Act::Space { delivery, slot } => {
                let length = Some(self.engine.settings().space);
                if let Ok(Some(until)) = self.engine.need_space(couple, slot, Some(delivery), length).await {
                    self.note_pause(ci, now, Some(until));
                    line = Some(format!(
                        "  {} asked for some space; prompts pause until {}",
                        name(slot),
                        until.with_timezone(&tz).format("%a %H:%M")
                    ));
                }
            }
            Act::Pause { until_days } => {
                let until = until_days.map(|d| now + Duration::days(d));
                if self.engine.pause(couple, Slot::A, until).await.is_ok() {
                    self.note_pause(ci, now, until);
                    line = Some("  the couple paused prompts".to_string());
                }
            }
            Act::Resume => {
                if self.engine.resume(couple, Slot::B).await.is_ok() {
                    if let Some(from) = self.couples[ci].open_pause.take() {
                        self.couples[ci].paused.push((from, now.timestamp()));
                    }
                    line = Some("  the couple resumed prompts".to_string());
                }
            }
            Act::HardMoment { slot, note, share } => {
                let id = self.engine.hard_moment(couple, slot).await?;
                self.outcome.hard_moments += 1;
                if note {
                    let text = format!("private-note-{couple}-{id}");
                    self.engine.note_hard_moment(couple, slot, id, Some(&text)).await?;
                    self.outcome.private_notes.push(text);
                }
                if share {
                    self.engine.share_hard_moment(couple, slot, id).await?;
                    self.engine.here_for_hard_moment(couple, slot.other(), id).await?;
                    self.outcome.hard_moments_shared += 1;
                }
                line = Some(format!("  {} had a hard moment{}", name(slot), if share { ", met together" } else { "" }));
            }
            Act::Commit { slot, when } => {
                let text = format!("{} will text when leaving work", name(slot));
                if self.engine.commit(couple, slot, &text, when).await.or_else(|e| user_ok(e).map(|_| 0))? > 0 {
                    self.outcome.commitments += 1;
                    line = Some(format!("  {} committed: {text} ({})", name(slot), when.unwrap_or("once")));
                }
            }
            Act::Notice { check, slot } => {
                use crate::store::commitments::Noticed;
                let noticed = *[Noticed::Kept, Noticed::Kept, Noticed::NotThisTime, Noticed::NotSure]
                    .choose(rng)
                    .expect("answers");
                use crate::engine::Answered;
                let answered = match self.engine.notice_commitment(couple, slot, check, noticed).await {
                    Ok(a) => a,
                    Err(crate::engine::EngineError::User(_)) => Answered::Already,
                    Err(e) => return Err(e.into()),
                };
                if answered != Answered::Already {
                    if noticed == Noticed::Kept {
                        self.outcome.kept += 1;
                    }
                    // Told once each "yes" told, and never for anything else.
                    if answered == Answered::Told {
                        if noticed != Noticed::Kept {
                            self.outcome.violations.push(format!("a {noticed} answer was told (check {check})"));
                        }
                        let commitment =
                            self.engine.commitment_check(check).await?.map(|k| k.commitment_id).unwrap_or_default();
                        *self.outcome.kept_answers.entry(commitment).or_default() += 1;
                    }
                    // Only the first couple's transcript says it, and only a kept one.
                    if noticed == Noticed::Kept {
                        line = Some(format!("  {} noticed a commitment kept", name(slot)));
                    }
                }
            }
            Act::CheckIn { reflection, slot } => {
                let appreciated = format!("check-in-words-{couple}-{reflection}-{}: you listened", slot.index());
                let cared = format!("check-in-words-{couple}-{reflection}-{}: a walk", slot.index());
                let saved = self.engine.check_in_as(couple, slot, reflection, Some(&appreciated), Some(&cared)).await?;
                if matches!(saved, crate::engine::CheckedIn::Saved { .. }) {
                    self.outcome.check_ins += 1;
                    line = Some(format!("  {} checked in before the reflection", name(slot)));
                }
            }
            Act::AdvancePhase => {
                let c = &self.couples[ci];
                let by = if c.roles[1] == Role::Hurt { Slot::B } else { Slot::A };
                if let Ok(phase) = self.engine.advance_phase(couple, by).await {
                    line = Some(format!("  {} felt ready to move on: phase is now {phase}", name(by)));
                }
            }
        }
        if ci == 0
            && let (Some(out), Some(line)) = (out, line)
        {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    fn note_pause(&mut self, ci: usize, now: DateTime<Utc>, until: Option<DateTime<Utc>>) {
        self.outcome.pauses += 1;
        let c = &mut self.couples[ci];
        match until {
            Some(u) => c.paused.push((now.timestamp(), u.timestamp())),
            None => c.open_pause = c.open_pause.or(Some(now.timestamp())),
        }
    }
}

fn user_ok(e: crate::engine::EngineError) -> Result<(), crate::engine::EngineError> {
    match e {
        crate::engine::EngineError::User(_) => Ok(()),
        other => Err(other),
    }
}
