//! `mend simulate`: the whole engine on a manual clock, with scripted couples,
//! on a real SQLite file. It prints the first couple's transcript and a summary,
//! and checks the invariants that matter to the people who use mend.
//!
//! Here: the run, its clock loop and each tick. Who the couples are and what
//! their acts do is in `script`; the invariants, in `check`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::clock::ManualClock;
use crate::core::entities::CoupleId;
use crate::core::model::{Kind, Role, Slot};
use crate::core::outbox::{Notice, To};
use crate::core::prompts::Library;
use crate::core::schedule::Schedule;
use crate::engine::{Engine, Job, Settings};
use crate::store;
use crate::worker::{Lifecycle, MemoryTransport, Worker};

mod check;
mod script;

pub use script::{COUPLE_TYPES, CoupleType};

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
    /// Hard moments met, and of those shared with the partner.
    pub hard_moments: usize,
    pub hard_moments_shared: usize,
    /// The private notes written to hard moments: none may ever be posted.
    pub private_notes: Vec<String>,
    /// Commitments made, "Did this happen?" asked, and of those answers, kept.
    pub commitments: usize,
    pub commitment_asks: usize,
    pub kept: usize,
    /// Each (commitment, occurrence) asked about: never twice.
    pub asked: HashSet<(i64, i64)>,
    /// By commitment: answers "Yes, I noticed", and "kept" notices posted.
    pub kept_answers: std::collections::HashMap<i64, usize>,
    pub kept_posts: std::collections::HashMap<i64, usize>,
    /// Check-ins asked for and written; each (couple, week) reflected on; the
    /// pictures drawn.
    pub check_in_asks: usize,
    pub check_ins: usize,
    pub reflection_weeks: HashSet<(CoupleId, i64)>,
    pub pictures: usize,
    pub violations: Vec<String>,
    /// Every (outbox item, part) posted, to catch a double.
    pub posted_parts: HashSet<(i64, String)>,
    /// What each kind of couple lived through, one per kind of `COUPLE_TYPES`
    /// (a kind with no couple in the run is there with none).
    pub types: Vec<TypeOutcome>,
}

/// What the couples of one kind lived through.
#[derive(Debug, Clone, Default)]
pub struct TypeOutcome {
    pub name: &'static str,
    pub couples: usize,
    /// Deliveries with a prompt chosen.
    pub deliveries: usize,
    /// The earliest day (from the couple's start) any reader of this kind got a
    /// prompt they had had before, if any did.
    pub first_repeat: Option<i64>,
}

/// How one scripted partner tends to respond.
#[derive(Debug, Clone, Copy)]
struct Habit {
    answer: f64,
    skip: f64,
    space: f64,
    edit: f64,
    meaningful: f64,
}

/// Something a scripted partner will do at a given instant. An answer carries
/// its delivery's kind and occurrence, as the partner saw it posted.
#[derive(Debug, Clone, Copy)]
enum Act {
    Answer {
        delivery: i64,
        kind: Kind,
        occurrence: i64,
        slot: Slot,
        edit: bool,
    },
    Skip {
        delivery: i64,
        slot: Slot,
    },
    Space {
        delivery: i64,
        slot: Slot,
    },
    Pause {
        until_days: Option<i64>,
    },
    Resume,
    AdvancePhase,
    /// `slot` meets a hard moment: perhaps a note just for them, perhaps
    /// letting their partner know (who answers "I'm here").
    HardMoment {
        slot: Slot,
        note: bool,
        share: bool,
    },
    /// `slot` commits to something small, once or on `when`.
    Commit {
        slot: Slot,
        when: Option<&'static str>,
    },
    /// The partner asked "Did this happen?" answers it.
    Notice {
        check: i64,
        slot: Slot,
    },
    /// `slot` checks in before the weekly reflection.
    CheckIn {
        reflection: i64,
        slot: Slot,
    },
}

struct SimCouple {
    id: CoupleId,
    /// Which of `COUPLE_TYPES` it is.
    kind: usize,
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
    let url = crate::config::database_url(&path.to_string_lossy());
    let keys = store::keys::Keys::open(&store::keys::default_url(&url).expect("a SQLite file"), cipher).await?;
    let pool = store::connect(&url, &keys).await?;
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().expect("valid start");
    let end = start + Duration::days(options.days.into());
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(pool, keys, library.clone(), clock.clone(), Settings::default());
    let worker = Worker::new(engine.clone(), MemoryTransport::default(), Arc::new(Lifecycle::default()));
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut sim = Sim {
        engine,
        worker,
        couples: Vec::new(),
        acts: BTreeMap::new(),
        outcome: Outcome::default(),
        seq: 0,
        due: None,
    };

    for i in 0..options.couples {
        sim.add_couple(i, &mut rng, start, end).await?;
    }
    sim.due = sim.engine.next_due().await?;
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
        now = sim.next_event(now, &downtime).max(now + Duration::minutes(1));
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
        "\nsummary: {} couples × {} days (seed {}): {} prompts sent, {} missed while down, {} answers, {} reveals, {} reflections, {} pauses, {} hard moments ({} shared), {} commitments ({} asked about, {} noticed kept), {} check-ins of {} asked, {} pictures drawn",
        options.couples,
        options.days,
        options.seed,
        o.sent,
        o.missed,
        o.answers,
        o.reveals,
        o.reflections,
        o.pauses,
        o.hard_moments,
        o.hard_moments_shared,
        o.commitments,
        o.commitment_asks,
        o.kept,
        o.check_ins,
        o.check_in_asks,
        o.pictures
    )?;
    for t in &o.types {
        let repeat = t.first_repeat.map_or("no repeat".to_string(), |d| format!("first repeat on day {d}"));
        writeln!(out, "  {}: {} couples, {} deliveries, {repeat}", t.name, t.couples, t.deliveries)?;
    }
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
    /// When the engine next has something to do, as it said after the last
    /// step or act; nothing else changes it.
    due: Option<DateTime<Utc>>,
}

impl Sim {
    fn plan(&mut self, at: DateTime<Utc>, couple: usize, act: Act) {
        self.seq += 1;
        self.acts.insert((at, self.seq), (couple, act));
    }

    /// The next instant anything happens: something in the engine is due (a
    /// schedule fires, an outbox item waits) or a partner acts.
    fn next_event(&self, now: DateTime<Utc>, downtime: &[(DateTime<Utc>, DateTime<Utc>)]) -> DateTime<Utc> {
        let act = self.acts.keys().next().map(|(t, _)| *t);
        let candidates = [self.due, act].into_iter().flatten().map(|t| t.max(now));
        let next = candidates.min().unwrap_or(now + Duration::days(1));
        // While down nothing happens until mend is back.
        match downtime.iter().find(|(a, b)| next >= *a && next < *b) {
            Some((_, b)) => *b,
            None => next,
        }
    }

    async fn tick(
        &mut self,
        now: DateTime<Utc>,
        rng: &mut StdRng,
        mut out: Option<&mut impl Write>,
    ) -> anyhow::Result<()> {
        // The worker steps when something is due, as the real loop sleeps until
        // then: an instant at which only a partner acts needs no step.
        if self.due.is_some_and(|t| t <= now) {
            self.due = self.worker.step().await?.next;
        }
        let mut jobs = Vec::new();
        // The worker posts couples side by side, so the order they finish in
        // varies; the scripted partners react in item order, so a seed always
        // gives the same run.
        let mut posted = self.worker.transport().drain();
        posted.sort_by_key(|p| p.item);
        for p in posted {
            for part in &p.parts {
                if !self.outcome.posted_parts.insert((p.item, part.clone())) {
                    self.outcome.violations.push(format!("outbox item {} posted its part {part} twice", p.item));
                }
            }
            jobs.push(p.job);
        }
        for job in &jobs {
            self.own_prompt_only(job);
            self.nothing_private_posted(job);
            self.commitment_posted(now, job).await?;
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
                    Act::Answer {
                        delivery: delivery.id,
                        kind: prepared.kind,
                        occurrence: delivery.occurrence,
                        slot,
                        edit: false,
                    }
                } else {
                    continue;
                };
                self.plan(at, ci, act);
                if matches!(act, Act::Answer { .. }) && rng.random_bool(habit.edit) {
                    self.plan(
                        at + Duration::minutes(rng.random_range(1..120)),
                        ci,
                        Act::Answer {
                            delivery: delivery.id,
                            kind: prepared.kind,
                            occurrence: delivery.occurrence,
                            slot,
                            edit: true,
                        },
                    );
                }
            }
        }
        let due: Vec<_> = self.acts.range(..=(now, u64::MAX)).map(|(k, v)| (*k, *v)).collect();
        for &(key, (ci, act)) in &due {
            self.acts.remove(&key);
            self.act(now, ci, act, rng, out.as_deref_mut()).await?;
        }
        // What the partners did may be due at once (a reveal, a notice).
        if !due.is_empty() {
            self.due = self.engine.next_due().await?;
        }
        let weekly = jobs.iter().filter_map(|j| match j {
            Job::Reflection { couple, reflection } => Some((couple.id, reflection.clone())),
            _ => None,
        });
        for (couple_id, reflection) in weekly.collect::<Vec<_>>() {
            self.outcome.reflections += 1;
            self.reflection_posted(couple_id, &reflection);
            if self.index(couple_id) == 0
                && let Some(out) = out.as_deref_mut()
            {
                let c = &self.couples[0];
                writeln!(
                    out,
                    "\n== Weekly reflection ({}) ==\n  {} prompts · {} seen together · {} small actions taken · pillars touched: {} · still waiting: {}",
                    now.with_timezone(&c.tz).format("%a %Y-%m-%d"),
                    reflection.prompts,
                    reflection.shared,
                    reflection.actions_taken,
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

    /// Each partner is sent, and nudged with, the prompt chosen for them and no
    /// other: a prompt worded for one partner never reaches the other.
    fn own_prompt_only(&mut self, job: &Job) {
        let (delivery, sent): (_, Vec<(Slot, &str)>) = match job {
            Job::Prompt(p) => {
                (&p.delivery, Slot::BOTH.iter().map(|s| (*s, p.prompts[s.index()].id.as_str())).collect())
            }
            Job::Nudge { delivery, slot, prompt, .. } => (delivery, vec![(*slot, prompt.id.as_str())]),
            _ => return,
        };
        let Some(chosen) = &delivery.chosen else {
            self.outcome.violations.push(format!("delivery {} was posted with no prompt chosen", delivery.id));
            return;
        };
        for (slot, id) in sent {
            if chosen.prompts[slot.index()] != id {
                self.outcome.violations.push(format!(
                    "delivery {} showed partner {} {id}, chosen for them was {}",
                    delivery.id,
                    slot.index(),
                    chosen.prompts[slot.index()]
                ));
            }
        }
    }

    /// A note written just for its writer never reaches anything mend posts;
    /// a check-in's words reach only the reflection.
    fn nothing_private_posted(&mut self, job: &Job) {
        let posted = format!("{job:?}");
        if !matches!(job, Job::Reflection { .. }) && posted.contains("check-in-words-") {
            self.outcome
                .violations
                .push(format!("a check-in's words reached a post other than a reflection: {posted:.200}"));
        }
        if let Some(note) = self.outcome.private_notes.iter().find(|n| posted.contains(n.as_str())) {
            self.outcome.violations.push(format!("a private note ({note}) reached a post: {posted:.200}"));
        }
    }

    /// A reflection goes out once a week per couple, with its picture: the
    /// weeks so far, this one last, drawn as a PNG.
    fn reflection_posted(&mut self, couple: CoupleId, r: &crate::core::reflection::Reflection) {
        let Some(week) = r.weeks.last() else {
            self.outcome.violations.push(format!("couple {couple}: a reflection with no picture of its weeks"));
            return;
        };
        if !self.outcome.reflection_weeks.insert((couple, week.start)) {
            self.outcome.violations.push(format!("couple {couple}: two reflections for the week of {}", week.start));
        }
        // The picture itself, drawn as the adapter draws it (for the first couple: it takes a while).
        if self.index(couple) == 0 {
            let (names, weeks) = crate::discord::render::chart_data(self.engine.library(), r, chrono_tz::UTC);
            let pillars: Vec<&str> = names.iter().map(String::as_str).collect();
            let png = mend_chart::render(&mend_chart::Chart { pillars: &pillars, weeks: &weeks });
            if !png.starts_with(b"\x89PNG") {
                self.outcome.violations.push(format!("couple {couple}: the picture of the weeks is not a PNG"));
            }
            self.outcome.pictures += 1;
        }
    }

    /// A "Did this happen?" goes to the partner it was made to, once per
    /// occurrence, and they answer it in a while; a "kept" is counted posted.
    async fn commitment_posted(&mut self, now: DateTime<Utc>, job: &Job) -> anyhow::Result<()> {
        let Job::Notice { couple: Some(c), notice, to } = job else { return Ok(()) };
        match notice {
            Notice::CommitmentAsk { commitment, check, slot } => {
                self.outcome.commitment_asks += 1;
                if *to != To::Partner(slot.other()) {
                    self.outcome.violations.push(format!("commitment {commitment} was asked of {to:?}"));
                }
                let Some(k) = self.engine.commitment_check(*check).await? else { return Ok(()) };
                if !self.outcome.asked.insert((*commitment, k.occurrence)) {
                    self.outcome.violations.push(format!("commitment {commitment} asked twice about {}", k.occurrence));
                }
                let ci = self.index(c.id);
                self.plan(now + Duration::hours(3), ci, Act::Notice { check: *check, slot: slot.other() });
            }
            Notice::Kept { commitment, .. } => *self.outcome.kept_posts.entry(*commitment).or_default() += 1,
            Notice::CheckIn { slot, reflection } => {
                self.outcome.check_in_asks += 1;
                if *to != To::Partner(*slot) {
                    self.outcome.violations.push(format!("a check-in for partner {} went to {to:?}", slot.index()));
                }
                // Most check in, within the day; some don't.
                let ci = self.index(c.id);
                let later = Duration::minutes(self.seq as i64 % 1200 + 10);
                if !self.seq.is_multiple_of(4) {
                    self.plan(now + later, ci, Act::CheckIn { reflection: *reflection, slot: *slot });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn index(&self, couple: CoupleId) -> usize {
        self.couples.iter().position(|c| c.id == couple).expect("simulated couple")
    }
}
