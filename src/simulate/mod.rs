//! `mend simulate`: the whole engine on a manual clock, with scripted couples,
//! on a real SQLite file. It prints the first couple's transcript and a summary,
//! and checks the invariants that matter to the people who use mend.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::clock::ManualClock;
use crate::core::answer::Answer;
use crate::core::model::{Depth, Kind, Role, ScheduleKind, Slot};
use crate::core::prompts::Library;
use crate::core::schedule::Schedule;
use crate::core::select::{self, fits};
use crate::core::entities::{CoupleId, Partner, ResponseStatus, Status};
use crate::engine::{Engine, Job, Settings, instant};
use crate::store;
use crate::worker::{Lifecycle, MemoryTransport, Worker};

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub couples: usize,
    pub days: u32,
    pub seed: u64,
    /// Keep the database here; otherwise a temporary file.
    pub db: Option<PathBuf>,
    /// Print the first couple's transcript.
    pub transcript: bool,
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub sent: usize,
    pub missed: usize,
    pub answers: usize,
    pub reveals: usize,
    pub reflections: usize,
    pub pauses: usize,
    pub violations: Vec<String>,
    /// Every (outbox item, part) posted, to catch a double.
    pub posted_parts: HashSet<(i64, String)>,
}

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

const ROLES: [[Role; 2]; 5] = [
    [Role::Repairing, Role::Hurt],
    [Role::Hurt, Role::Repairing],
    [Role::Drifted, Role::Drifted],
    [Role::Unsaid, Role::Hurt],
    [Role::Drifted, Role::Unsaid],
];

/// How one scripted partner tends to respond.
#[derive(Debug, Clone, Copy)]
struct Habit {
    answer: f64,
    skip: f64,
    space: f64,
    edit: f64,
    meaningful: f64,
}

/// Something a scripted partner will do at a given instant.
#[derive(Debug, Clone, Copy)]
enum Act {
    Answer { delivery: i64, slot: Slot, edit: bool },
    Skip { delivery: i64, slot: Slot },
    Space { delivery: i64, slot: Slot },
    Pause { until_days: Option<i64> },
    Resume,
    AdvancePhase,
}

struct SimCouple {
    id: CoupleId,
    names: [String; 2],
    roles: [Role; 2],
    habits: [Habit; 2],
    tz: chrono_tz::Tz,
    created_at: i64,
    prompt: Schedule,
    reflection: Schedule,
    /// Windows (from, to] in which the couple was paused: no occurrence is owed.
    paused: Vec<(i64, i64)>,
    open_pause: Option<i64>,
}

pub async fn run(library: Arc<Library>, options: &SimOptions, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir()?;
    let path = options.db.clone().unwrap_or_else(|| tmp.path().join("simulate.db"));
    if options.db.as_ref().is_some_and(|p| p.exists()) {
        anyhow::bail!("{} already exists: give `--db` a new file for each simulation", path.display());
    }
    // A key for this run only: the simulation's answers are sealed like real ones.
    let cipher = crate::crypto::Cipher::new(&crate::crypto::Key::generate());
    let pool = store::connect(&crate::config::database_url(&path.to_string_lossy()), &cipher).await?;
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().expect("valid start");
    let end = start + Duration::days(options.days.into());
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(pool, cipher, library.clone(), clock.clone(), Settings::default());
    let worker = Worker::new(engine.clone(), MemoryTransport::default(), Arc::new(Lifecycle::default()));
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut sim =
        Sim { engine, worker, couples: Vec::new(), acts: BTreeMap::new(), outcome: Outcome::default(), seq: 0 };

    for i in 0..options.couples {
        sim.add_couple(i, &mut rng, start, end).await?;
    }
    let downtime = downtime_windows(&mut rng, start, end);

    let mut now = start;
    let mut last_tick = start;
    while now <= end {
        clock.set(now);
        let down = downtime.iter().any(|(a, b)| now >= *a && now < *b);
        if !down {
            sim.tick(now, &mut rng, options.transcript.then_some(&mut *out)).await?;
            last_tick = now;
        }
        now = sim.next_event(now, &downtime).await?.max(now + Duration::minutes(1));
    }
    for c in &mut sim.couples {
        if let Some(from) = c.open_pause.take() {
            c.paused.push((from, last_tick.timestamp() + 1));
        }
    }
    sim.check(&library, last_tick, &downtime).await?;
    let o = &sim.outcome;
    writeln!(
        out,
        "\nsummary: {} couples × {} days (seed {}): {} prompts sent, {} missed while down, {} answers, {} reveals, {} reflections, {} pauses",
        options.couples, options.days, options.seed, o.sent, o.missed, o.answers, o.reveals, o.reflections, o.pauses
    )?;
    if o.violations.is_empty() {
        writeln!(out, "invariants: all hold")?;
    } else {
        for v in &o.violations {
            writeln!(out, "VIOLATION: {v}")?;
        }
    }
    Ok(sim.outcome)
}

/// Three outages: an hour, most of a day, two days.
fn downtime_windows(rng: &mut StdRng, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let span = (end - start).num_minutes().max(1);
    [60, 20 * 60, 50 * 60]
        .into_iter()
        .map(|len| {
            let at = start + Duration::minutes(rng.random_range(0..span));
            (at, at + Duration::minutes(len))
        })
        .collect()
}

struct Sim {
    engine: Engine,
    /// The real worker step, posting into memory.
    worker: Worker<MemoryTransport>,
    couples: Vec<SimCouple>,
    /// Scripted acts by instant; `seq` keeps their order stable.
    acts: BTreeMap<(DateTime<Utc>, u64), (usize, Act)>,
    outcome: Outcome,
    seq: u64,
}

impl Sim {
    fn plan(&mut self, at: DateTime<Utc>, couple: usize, act: Act) {
        self.seq += 1;
        self.acts.insert((at, self.seq), (couple, act));
    }

    async fn add_couple(
        &mut self,
        i: usize,
        rng: &mut StdRng,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let tz = *ZONES.choose(rng).expect("zones");
        let roles = *ROLES.choose(rng).expect("roles");
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
        if roles.contains(&Role::Hurt) || rng.random_bool(0.5) {
            self.plan(start + Duration::days(rng.random_range(14..40)), i, Act::AdvancePhase);
        }
        Ok(())
    }

    /// The next instant anything happens: a schedule fires or a partner acts.
    async fn next_event(
        &self,
        now: DateTime<Utc>,
        downtime: &[(DateTime<Utc>, DateTime<Utc>)],
    ) -> anyhow::Result<DateTime<Utc>> {
        let fire = self.engine.next_due().await?;
        let act = self.acts.keys().next().map(|(t, _)| *t);
        let back_up = downtime.iter().map(|(_, b)| *b).filter(|b| *b > now).min();
        let candidates = [fire, act].into_iter().flatten().map(|t| t.max(now));
        let next = candidates.min().unwrap_or(now + Duration::days(1));
        // While down nothing happens until mend is back.
        Ok(match downtime.iter().find(|(a, b)| next >= *a && next < *b) {
            Some((_, b)) => *b,
            None => back_up.filter(|b| *b < next).map_or(next, |_| next),
        })
    }

    async fn tick(
        &mut self,
        now: DateTime<Utc>,
        rng: &mut StdRng,
        mut out: Option<&mut impl Write>,
    ) -> anyhow::Result<()> {
        self.worker.step().await?;
        let mut jobs = Vec::new();
        for p in self.worker.transport().drain() {
            for part in &p.parts {
                if !self.outcome.posted_parts.insert((p.item, part.clone())) {
                    self.outcome.violations.push(format!("outbox item {} posted its part {part} twice", p.item));
                }
            }
            jobs.push(p.job);
        }
        let prompts = jobs.iter().filter_map(|j| match j {
            Job::Prompt(p) => Some(p.clone()),
            _ => None,
        });
        for prepared in prompts.collect::<Vec<_>>() {
            let delivery = prepared.delivery.clone();
            self.outcome.sent += 1;
            let ci = self.index(prepared.couple.id);
            if ci == 0
                && let Some(out) = out.as_deref_mut()
            {
                let c = &self.couples[0];
                let local = now.with_timezone(&c.tz).format("%a %Y-%m-%d %H:%M");
                let pillar = self.engine.library().pillar(&prepared.pillar).map_or("", |p| p.name.as_str());
                let late = if now.timestamp() > delivery.occurrence { " · sent late: mend was down" } else { "" };
                writeln!(
                    out,
                    "\n{local} · {pillar} · {} ({}){late}",
                    prepared.kind,
                    prepared.delivery.chosen.as_ref().map_or("", |c| c.phase.as_str())
                )?;
                for slot in Slot::BOTH {
                    writeln!(out, "  for {}: {}", c.names[slot.index()], prepared.prompts[slot.index()].text)?;
                }
            }
            for slot in Slot::BOTH {
                let habit = self.couples[ci].habits[slot.index()];
                let at = now + Duration::minutes(rng.random_range(20..16 * 60));
                let roll: f64 = rng.random();
                let act = if roll < habit.space {
                    Act::Space { delivery: delivery.id, slot }
                } else if roll < habit.space + habit.skip {
                    Act::Skip { delivery: delivery.id, slot }
                } else if roll < habit.space + habit.skip + habit.answer {
                    Act::Answer { delivery: delivery.id, slot, edit: false }
                } else {
                    continue;
                };
                self.plan(at, ci, act);
                if matches!(act, Act::Answer { .. }) && rng.random_bool(habit.edit) {
                    self.plan(
                        at + Duration::minutes(rng.random_range(1..120)),
                        ci,
                        Act::Answer { delivery: delivery.id, slot, edit: true },
                    );
                }
            }
        }
        let due: Vec<_> = self.acts.range(..=(now, u64::MAX)).map(|(k, v)| (*k, *v)).collect();
        for (key, (ci, act)) in due {
            self.acts.remove(&key);
            self.act(now, ci, act, rng, out.as_deref_mut()).await?;
        }
        let weekly = jobs.iter().filter_map(|j| match j {
            Job::Reflection { couple, reflection } => Some((couple.id, reflection.clone())),
            _ => None,
        });
        for (couple_id, reflection) in weekly.collect::<Vec<_>>() {
            self.outcome.reflections += 1;
            if self.index(couple_id) == 0
                && let Some(out) = out.as_deref_mut()
            {
                let c = &self.couples[0];
                writeln!(
                    out,
                    "\n== Weekly reflection ({}) ==\n  {} prompts · {} answered {} · {} answered {} · {} seen together · pillars touched: {} · still waiting: {}",
                    now.with_timezone(&c.tz).format("%a %Y-%m-%d"),
                    reflection.prompts,
                    c.names[0],
                    reflection.answered[0],
                    c.names[1],
                    reflection.answered[1],
                    reflection.both_answered,
                    reflection.pillars_touched.len(),
                    reflection.pillars_missed.len(),
                )?;
                for a in &reflection.appreciations {
                    writeln!(out, "  appreciated: what {} wrote — {}", c.names[a.writer.index()], a.text)?;
                }
                if let Some(topic) = &reflection.topic {
                    writeln!(out, "  to talk through: {}", topic.guide)?;
                }
            }
        }
        Ok(())
    }

    fn index(&self, couple: CoupleId) -> usize {
        self.couples.iter().position(|c| c.id == couple).expect("simulated couple")
    }

    async fn act(
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
            Act::Answer { delivery, slot, edit } => {
                let d = self.engine.delivery(delivery).await?.expect("delivery exists");
                let kind = d.chosen.as_ref().map(|c| c.kind);
                let text =
                    format!("{}'s {}answer to delivery {delivery}", name(slot), if edit { "edited " } else { "" });
                let answer = match kind {
                    Some(Kind::Action) => Answer::action(rng.random_bool(0.7), Some(&text))?,
                    _ => Answer::text(&text)?,
                };
                match self.engine.answer(couple, delivery, slot, answer).await {
                    Ok(saved) => {
                        self.outcome.answers += 1;
                        let day = instant(d.occurrence).with_timezone(&tz).format("%a");
                        let verb = if saved.edited { "edited their answer" } else { "answered" };
                        line = Some(format!("  {} {verb} ({day}'s prompt): {text}", name(slot)));
                        if saved.revealed {
                            self.outcome.reveals += 1;
                            if kind == Some(Kind::Journal) {
                                self.outcome.violations.push(format!("journal delivery {delivery} was revealed"));
                            }
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
                if let Ok(until) = self.engine.need_space(couple, delivery, slot).await {
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

    /// Checks the invariants against what is in the database.
    async fn check(
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
                let overdue = item.status == crate::core::outbox::ItemStatus::Pending && item.deadline < last_tick.timestamp();
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

fn user_ok(e: crate::engine::EngineError) -> Result<(), crate::engine::EngineError> {
    match e {
        crate::engine::EngineError::User(_) => Ok(()),
        other => Err(other),
    }
}
