//! Load: the real bot (serenity + poise) against the project's local Discord,
//! built as `tests/support/bot.rs` builds it (manual clock, SQLite file), with
//! 2,000 couples whose prompts fall due in the same minute, then 2,000
//! answers arriving at 200 a second.
//!
//! 1. Fan-out: the prompts of 2,000 couples due at 08:30 Paris. Measured from
//!    the moment the clock is set and the scheduler woken until every prompt is
//!    posted and recorded as sent; once with Discord's global limit of 50
//!    requests/s (the sim's default), once the next day with it off. Every couple
//!    must get exactly one prompt a day.
//! 2. Answers: 2,000 partners click *Answer* and submit the modal, paced at
//!    200 a second (first partners of every couple with an *Answer* button,
//!    then second partners, so some couples complete and get a reveal): to the
//!    first day's prompts with the global limit on, and to the second day's
//!    with it off. The local Discord records when it dispatched each
//!    interaction and when it accepted the bot's first callback (type 9 for the
//!    click, the deferral for the submit): that is the acknowledgement latency
//!    Discord's 3-second rule measures. Every "Saved" confirmation must match an
//!    answer in the database, read through the engine; no user may see an
//!    apology. The bench exits 1 if any of that fails.
//!
//! Warnings and errors logged by anyone (mend, serenity, sqlx) are counted, as
//! are serenity's pre-emptive waits on rate-limit buckets it thinks exhausted.
//!
//! Nudges are set 7 days out: at 6 h they would fall due in a minute of their
//! own (14:30), not in the fan-out the next day, which the manual clock skips to.
//!
//! Run: `cargo bench --bench load` (prints a markdown table for BENCHMARKS.md).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use discord_sim::{MessageView, SimConfig, SimUser, WorldSpec};
use mend::core::entities::{Home, Partner, ResponseStatus, Status};
use mend::core::model::{Role, ScheduleKind, Slot};
use mend::core::outbox::ItemKind;
use mend::discord::text;
use mend::engine::{NewCouple, Settings};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use support::bot::{self, TestBot};

const COUPLES: usize = 2_000;
const ANSWERS: usize = 2_000;
const ANSWERS_PER_SECOND: f64 = 200.0;
/// 08:30 in Paris on Monday 5 and Tuesday 6 January 2026.
const DAY_ONE: &str = "2026-01-05T07:30:00Z";
const DAY_TWO: &str = "2026-01-06T07:30:00Z";
/// Longest a phase may take before the bench gives up.
const PHASE_LIMIT: Duration = Duration::from_secs(150);

// --- what mend logged ----------------------------------------------------

/// Counts warnings and errors (any crate), grouped by target and message, so a
/// "database is locked" that never reached a user still shows.
#[derive(Default)]
struct Logged {
    events: Mutex<BTreeMap<String, (usize, String)>>,
    /// serenity's pre-emptive waits on a bucket it thinks exhausted: count and
    /// total milliseconds, by bucket (channels, or the application's webhooks).
    waits: Mutex<BTreeMap<String, (usize, u64)>>,
    application_id: std::sync::atomic::AtomicU64,
}

struct CountLogs(Arc<Logged>);

#[derive(Default)]
struct Fields {
    message: String,
    error: String,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = format!("{value:?}"),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "error" => self.error = value.to_string(),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountLogs {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        // "Pre-emptive ratelimit on route RatelimitingBucket(Some((Discriminant(N), Some(ID)))) for Mms"
        if let Some(rest) = fields.message.strip_prefix("Pre-emptive ratelimit on route ") {
            let (route, wait) = rest.rsplit_once(" for ").unwrap_or((rest, "0ms"));
            let wait: u64 = wait.trim_end_matches("ms").parse().unwrap_or(0);
            let app = self.0.application_id.load(Ordering::SeqCst).to_string();
            let bucket = if route.contains(&format!("Some({app})")) {
                "the application's webhooks (interaction followups)".to_string()
            } else if route.contains("Some(") {
                "one channel each".to_string()
            } else {
                route.to_string()
            };
            let mut waits = self.0.waits.lock().unwrap();
            let entry = waits.entry(bucket).or_insert((0, 0));
            entry.0 += 1;
            entry.1 += wait;
            return;
        }
        if *meta.level() > tracing::Level::WARN {
            return;
        }
        let key = format!("{} {}: {}", meta.level(), meta.target(), fields.message);
        let mut events = self.0.events.lock().unwrap();
        let entry = events.entry(key).or_insert((0, fields.error.chars().take(300).collect()));
        entry.0 += 1;
    }
}

// --- figures -------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// --- the world -----------------------------------------------------------

struct Couple {
    id: i64,
    channel: u64,
    users: [SimUser; 2],
}

fn sim_config() -> SimConfig {
    let members = (0..COUPLES).flat_map(|i| [format!("p{i}a"), format!("p{i}b")]).collect();
    let channels = std::iter::once("general".to_string()).chain((0..COUPLES).map(|i| format!("couple-{i}"))).collect();
    SimConfig { world: WorldSpec { members, channels, ..WorldSpec::default() }, ..SimConfig::for_tests() }
}

/// Couples, their schedules (daily 08:30 Paris) and their channels, through
/// the library as the bot would have made them.
async fn seed(tb: &TestBot) -> Vec<Couple> {
    let world = tb.sim.world();
    let users: HashMap<&str, u64> = world.users.iter().map(|(n, id)| (n.as_str(), *id)).collect();
    let channels: HashMap<&str, u64> = world.channels.iter().map(|(n, id)| (n.as_str(), *id)).collect();
    let mut couples = Vec::with_capacity(COUPLES);
    for i in 0..COUPLES {
        let ids = [users[format!("p{i}a").as_str()], users[format!("p{i}b").as_str()]];
        let roles = if i % 2 == 0 { [Role::Hurt, Role::Repairing] } else { [Role::Drifted, Role::Drifted] };
        let partner =
            |slot: usize, name: String| Partner { name, role: roles[slot], external_id: Some(ids[slot].to_string()) };
        let id = tb
            .engine
            .create_couple(NewCouple {
                tz: "Europe/Paris".into(),
                partners: [partner(0, format!("Ada {i}")), partner(1, format!("Ben {i}"))],
            })
            .await
            .unwrap();
        tb.engine.set_schedule(id, ScheduleKind::Prompt, "daily 08:30", Some("Europe/Paris")).await.unwrap();
        let channel = channels[format!("couple-{i}").as_str()];
        tb.engine
            .set_home(&Home { couple_id: id, guild_id: Some(world.guild_id), channel_id: Some(channel) })
            .await
            .unwrap();
        couples.push(Couple { id, channel, users: ids.map(|u| tb.sim.user_by_id(u).unwrap()) });
    }
    couples
}

/// A prompt as posted in a couple's channel: its delivery and its buttons.
struct Posted {
    message: u64,
    delivery: i64,
    answer_button: Option<String>,
}

fn button_delivery(m: &MessageView, verb: &str) -> Option<(String, i64)> {
    m.components().into_iter().filter_map(|c| c.custom_id).find_map(|id| {
        let d = id.strip_prefix(&format!("mend:{verb}:"))?.parse().ok()?;
        Some((id, d))
    })
}

/// Every prompt in each couple's channel (what partner A sees), oldest first;
/// also counts messages that carry an apology.
fn prompts_seen(couples: &[Couple]) -> (Vec<Vec<Posted>>, usize) {
    let mut apologies = 0;
    let all = couples
        .iter()
        .map(|c| {
            let messages = c.users[0].messages_in(c.channel).unwrap();
            apologies += messages.iter().filter(|m| m.contains(text::APOLOGY)).count();
            messages
                .iter()
                .filter_map(|m| {
                    let (_, delivery) = button_delivery(m, "space")?;
                    Some(Posted {
                        message: m.id,
                        delivery,
                        answer_button: button_delivery(m, "answer").map(|(id, _)| id),
                    })
                })
                .collect()
        })
        .collect();
    (all, apologies)
}

// --- 1. fan-out ----------------------------------------------------------

struct FanOut {
    label: &'static str,
    elapsed: Duration,
    posts: usize,
    /// Sending rate inside bursts (idle gaps over 5 s left out).
    busy_rate: f64,
    longest_gap: Duration,
    batches: usize,
    rate_limited: usize,
    waits: BTreeMap<String, (usize, u64)>,
    cpu: f64,
}

async fn fan_out(
    tb: &TestBot,
    logged: &Logged,
    couples: &[Couple],
    due: &str,
    label: &'static str,
    day: i64,
) -> FanOut {
    let channels: HashSet<u64> = couples.iter().map(|c| c.channel).collect();
    let log_start = tb.sim.requests().len();
    logged.waits.lock().unwrap().clear();
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    tb.set_time(due);
    let mut claimed = false;
    loop {
        let pending = tb.engine.prompts_waiting().await.unwrap();
        claimed |= pending > 0;
        if claimed && pending == 0 {
            break;
        }
        assert!(started.elapsed() < PHASE_LIMIT, "{label}: prompts still pending after {PHASE_LIMIT:?} ({pending})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_start;
    let waits = std::mem::take(&mut *logged.waits.lock().unwrap());
    let log = tb.sim.requests();
    let log = &log[log_start..];
    let mut at: Vec<u64> = log
        .iter()
        .filter(|r| r.method == "POST" && r.status == 200)
        .filter_map(|r| {
            let channel: u64 = r.path.strip_prefix("/channels/")?.strip_suffix("/messages")?.parse().ok()?;
            channels.contains(&channel).then_some(r.at_ms)
        })
        .collect();
    at.sort();
    let rate_limited = log.iter().filter(|r| r.status == 429).count();
    // Bursts: split at idle gaps of more than 5 s.
    let mut busy = 0u64;
    let mut longest_gap = 0u64;
    let mut batches = usize::from(!at.is_empty());
    let mut burst_start = at.first().copied().unwrap_or(0);
    for w in at.windows(2) {
        let gap = w[1] - w[0];
        longest_gap = longest_gap.max(gap);
        if gap > 5_000 {
            busy += w[0] - burst_start;
            burst_start = w[1];
            batches += 1;
        }
    }
    busy += at.last().copied().unwrap_or(0) - burst_start;

    // Exactly one prompt per couple for this day, in Discord and in the database.
    let (seen, apologies) = prompts_seen(couples);
    assert_eq!(apologies, 0, "{label}: an apology was posted in a couple's channel");
    for (c, posted) in couples.iter().zip(&seen) {
        assert_eq!(posted.len() as i64, day, "{label}: couple {} has {} prompts after day {day}", c.id, posted.len());
        let distinct: HashSet<i64> = posted.iter().map(|p| p.delivery).collect();
        assert_eq!(distinct.len(), posted.len(), "{label}: couple {} got the same delivery twice", c.id);
        let stored = tb.engine.deliveries_of(c.id).await.unwrap();
        let count = |status: Status| stored.iter().filter(|d| d.status == status).count() as i64;
        assert_eq!(count(Status::Sent), day, "{label}: couple {}", c.id);
        assert_eq!(count(Status::Missed), 0, "{label}: couple {}", c.id);
    }
    eprintln!(
        "{label}: {} prompts in {:.1} s ({batches} bursts, longest gap {:.1} s), {rate_limited} answered 429",
        at.len(),
        elapsed.as_secs_f64(),
        longest_gap as f64 / 1000.0
    );
    FanOut {
        label,
        elapsed,
        posts: at.len(),
        busy_rate: at.len() as f64 / (busy.max(1) as f64 / 1000.0),
        longest_gap: Duration::from_millis(longest_gap),
        batches,
        rate_limited,
        waits,
        cpu,
    }
}

// --- 2. answers ----------------------------------------------------------

#[derive(Clone)]
struct Target {
    couple: i64,
    slot: Slot,
    user: SimUser,
    message: u64,
    button: String,
    delivery: i64,
    text: String,
}

#[derive(Default)]
struct Attempt {
    click: Option<u64>,
    clicked_at: Option<Instant>,
    submit: Option<u64>,
    submitted_at: Option<Instant>,
    /// Why the user could not go on (no modal, a refused submit).
    stuck: Option<String>,
}

struct Answers {
    label: &'static str,
    /// Couples whose prompt had an Answer button; partners answering second.
    answerable: usize,
    second_partners: usize,
    sent: usize,
    click_rate: f64,
    submit_rate: f64,
    click_acks: Vec<Duration>,
    submit_acks: Vec<Duration>,
    click_not_modal: usize,
    late_clicks: usize,
    late_submits: usize,
    unacked: usize,
    confirmed: usize,
    confirm_times: Vec<Duration>,
    apologies: usize,
    cannot_save: usize,
    unresolved: usize,
    stuck: usize,
    in_database: usize,
    reveals: usize,
    expected_reveals: usize,
    /// How long after the last confirmation the last reveal and notice were posted.
    reveals_after: Duration,
    /// Reveals and notices still owed when the bench stopped waiting.
    still_owed: i64,
    rate_limited: usize,
    rate_limited_by_route: BTreeMap<String, usize>,
    limited_requests: usize,
    waits: BTreeMap<String, (usize, u64)>,
    followup_pause: Duration,
    elapsed: Duration,
    cpu: f64,
}

fn targets(couples: &[Couple], seen: &[Vec<Posted>]) -> (Vec<Target>, usize) {
    let answerable: Vec<(&Couple, &Posted)> = couples
        .iter()
        .zip(seen)
        .filter_map(|(c, posted)| posted.last().filter(|p| p.answer_button.is_some()).map(|p| (c, p)))
        .collect();
    let mut out: Vec<Target> = [0, 1]
        .into_iter()
        .flat_map(|slot| answerable.iter().map(move |(c, p)| (slot, *c, *p)))
        .take(ANSWERS)
        .map(|(slot, c, p)| Target {
            couple: c.id,
            slot: Slot::from_index(slot).unwrap(),
            user: c.users[slot as usize].clone(),
            message: p.message,
            button: p.answer_button.clone().unwrap(),
            delivery: p.delivery,
            text: format!(
                "From partner {slot} of couple {}: I noticed you made the coffee this morning, thank you.",
                c.id
            ),
        })
        .collect();
    assert_eq!(out.len(), ANSWERS, "not enough prompts with an Answer button");
    out.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    (out, answerable.len())
}

/// A route as a template: `POST /channels/{id}/messages`.
fn template(method: &str, path: &str) -> String {
    let tokened = path.starts_with("/interactions/") || path.starts_with("/webhooks/");
    let parts: Vec<&str> = path
        .split('/')
        .enumerate()
        .map(|(i, p)| match p {
            _ if tokened && i == 3 => "{token}",
            _ if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => "{id}",
            _ => p,
        })
        .collect();
    format!("{method} {}", parts.join("/"))
}

async fn answers(
    tb: &TestBot,
    logged: &Logged,
    label: &'static str,
    (targets, answerable): (Vec<Target>, usize),
) -> Answers {
    let log_start = tb.sim.requests().len();
    logged.waits.lock().unwrap().clear();
    let threads_before: HashSet<u64> =
        tb.sim.channels().iter().filter(|c| c.name.starts_with("Your answers")).map(|c| c.id).collect();
    let cpu_start = cpu_seconds();
    let n = targets.len();
    let attempts: Arc<Vec<Mutex<Attempt>>> = Arc::new((0..n).map(|_| Mutex::default()).collect());
    let begin = tokio::time::Instant::now() + Duration::from_millis(200);
    let started = Instant::now();
    let gap = Duration::from_secs_f64(1.0 / ANSWERS_PER_SECOND);
    let done = Arc::new(AtomicUsize::new(0));
    for (i, t) in targets.iter().cloned().enumerate() {
        let attempts = attempts.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let record = |f: &dyn Fn(&mut Attempt)| f(&mut attempts[i].lock().unwrap());
            tokio::time::sleep_until(begin + gap * i as u32).await;
            let click = t.user.click(t.message, &t.button);
            let clicked_at = Instant::now();
            match click {
                Ok(click) => {
                    record(&|a| {
                        a.click = Some(click);
                        a.clicked_at = Some(clicked_at);
                    });
                    // A person waits for the modal; poll rather than wake on every change.
                    let modal = loop {
                        let view = t.user.interaction(click).unwrap();
                        if view.callback.is_some() || clicked_at.elapsed() > Duration::from_secs(10) {
                            break view.modal.is_some();
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    };
                    if !modal {
                        record(&|a| a.stuck = Some("no modal".into()));
                    } else {
                        match t.user.submit_modal(click, &[("answer", &t.text)], Duration::from_secs(10)).await {
                            Ok(submit) => {
                                let at = Instant::now();
                                record(&|a| {
                                    a.submit = Some(submit);
                                    a.submitted_at = Some(at);
                                })
                            }
                            Err(e) => record(&|a| a.stuck = Some(format!("submit refused: {e}"))),
                        }
                    }
                }
                Err(e) => record(&|a| a.stuck = Some(format!("click refused: {e}"))),
            }
            done.fetch_add(1, Ordering::SeqCst);
        });
    }

    // Wait for each submit's outcome as its user sees it: "Saved…" or an apology.
    enum Outcome {
        Confirmed(Duration),
        CannotSave,
    }
    let mut outcomes: HashMap<usize, Outcome> = HashMap::new();
    loop {
        let all_sent = done.load(Ordering::SeqCst) == n;
        for (i, t) in targets.iter().enumerate() {
            if outcomes.contains_key(&i) {
                continue;
            }
            let (submit, at) = {
                let a = attempts[i].lock().unwrap();
                match (a.submit, a.submitted_at) {
                    (Some(s), Some(at)) => (s, at),
                    _ => continue,
                }
            };
            let view = t.user.interaction(submit).unwrap();
            for m in view.messages().iter().filter(|m| !m.loading) {
                if m.content.starts_with("Saved") || m.content.starts_with("Updated") {
                    outcomes.insert(i, Outcome::Confirmed(at.elapsed()));
                } else if m.content.contains("So nothing is lost, here is what you wrote") {
                    outcomes.insert(i, Outcome::CannotSave);
                }
            }
        }
        let submitted = attempts.iter().filter(|a| a.lock().unwrap().submit.is_some()).count();
        if all_sent && outcomes.len() == submitted {
            break;
        }
        if started.elapsed() > PHASE_LIMIT {
            eprintln!("answers: giving up waiting after {PHASE_LIMIT:?}: {} of {submitted} resolved", outcomes.len());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_start;
    let waits = std::mem::take(&mut *logged.waits.lock().unwrap());

    // What the local Discord recorded about each interaction.
    let attempts: Vec<Attempt> = attempts.iter().map(|a| std::mem::take(&mut *a.lock().unwrap())).collect();
    let mut click_acks = vec![];
    let mut submit_acks = vec![];
    let (mut click_not_modal, mut unacked, mut apologies) = (0, 0, 0);
    for (t, a) in targets.iter().zip(&attempts) {
        if let Some(click) = a.click {
            let view = t.user.interaction(click).unwrap();
            match view.first_ack_latency {
                Some(l) => click_acks.push(l),
                None => unacked += 1,
            }
            click_not_modal += usize::from(view.callback.is_some_and(|c| c != 9));
            apologies += view.messages().iter().filter(|m| m.contains(text::APOLOGY)).count();
        }
        if let Some(submit) = a.submit {
            let view = t.user.interaction(submit).unwrap();
            match view.first_ack_latency {
                Some(l) => submit_acks.push(l),
                None => unacked += 1,
            }
            apologies += view.messages().iter().filter(|m| m.contains(text::APOLOGY)).count();
        }
    }
    click_acks.sort();
    submit_acks.sort();

    // Late callbacks: Discord (and the sim) answer them 404 / 10062.
    let clicks: HashSet<u64> = attempts.iter().filter_map(|a| a.click).collect();
    let submits: HashSet<u64> = attempts.iter().filter_map(|a| a.submit).collect();
    let log = tb.sim.requests();
    let log = &log[log_start..];
    let late = |ids: &HashSet<u64>| {
        log.iter()
            .filter(|r| r.status == 404 && r.path.ends_with("/callback"))
            .filter_map(|r| r.path.strip_prefix("/interactions/")?.split('/').next()?.parse::<u64>().ok())
            .filter(|id| ids.contains(id))
            .count()
    };
    let rate_limited = log.iter().filter(|r| r.status == 429).count();
    // Followups ("Saved") as they reached Discord: the longest pause between two.
    let followups: Vec<u64> = log
        .iter()
        .filter(|r| r.method == "POST" && r.status == 200 && r.path.starts_with("/webhooks/"))
        .map(|r| r.at_ms)
        .collect();
    let followup_pause = Duration::from_millis(followups.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0));
    // Requests the global limit applies to that went through: channel posts, threads.
    let limited_requests = log
        .iter()
        .filter(|r| r.status < 300 && !r.path.starts_with("/interactions/") && !r.path.starts_with("/webhooks/"))
        .count();
    let mut rate_limited_by_route = BTreeMap::new();
    for r in log.iter().filter(|r| r.status == 429) {
        *rate_limited_by_route.entry(template(&r.method, &r.path)).or_insert(0) += 1;
    }

    // Every confirmed answer is in the database, as written.
    let mut in_database = 0;
    let mut confirm_times = vec![];
    let mut confirmed = 0;
    let mut cannot_save = 0;
    for (i, t) in targets.iter().enumerate() {
        match outcomes.get(&i) {
            Some(Outcome::Confirmed(d)) => {
                confirmed += 1;
                confirm_times.push(*d);
                let stored = tb.engine.responses(t.delivery).await.unwrap();
                let mine = stored.iter().find(|r| r.slot == t.slot);
                if mine
                    .is_some_and(|r| r.status == ResponseStatus::Answered && r.body.as_deref() == Some(t.text.as_str()))
                {
                    in_database += 1;
                } else {
                    eprintln!("answers: confirmed but not stored: couple {} slot {:?}: {mine:?}", t.couple, t.slot);
                }
            }
            Some(Outcome::CannotSave) => cannot_save += 1,
            None => {}
        }
    }
    confirm_times.sort();
    // Reveals: threads the bot opened during this phase, against the deliveries
    // that both partners answered and that are not journal prompts.
    let count_reveals = || {
        tb.sim
            .channels()
            .iter()
            .filter(|c| c.name.starts_with("Your answers") && !threads_before.contains(&c.id))
            .count()
    };
    let mut both: HashMap<i64, usize> = HashMap::new();
    for t in &targets {
        *both.entry(t.delivery).or_insert(0) += 1;
    }
    let mut expected_reveals = 0;
    for (&d, &count) in &both {
        let delivery = tb.engine.delivery(d).await.unwrap().unwrap();
        let journal = delivery.chosen.is_some_and(|c| c.kind == mend::core::model::Kind::Journal);
        if count == 2 && !journal {
            expected_reveals += 1;
            assert!(delivery.revealed_at.is_some(), "{label}: delivery {d} answered by both and not revealed");
        }
    }
    let second_partners = both.values().filter(|&&c| c == 2).count();
    // Writers are confirmed first; "has answered" notices and reveals follow,
    // paced by mend's posting budget and Discord's limits. Wait for them all,
    // with mend's clock running meanwhile, so that a post retried after a 429
    // goes out when it would on a real clock instead of waiting for the next day.
    let reveals_from = Instant::now();
    let owed = || async {
        tb.engine.waiting(ItemKind::Reveal).await.unwrap() + tb.engine.waiting(ItemKind::Notice).await.unwrap()
    };
    let mut reveals = count_reveals();
    let mut still_owed = owed().await;
    while (reveals < expected_reveals || still_owed > 0) && reveals_from.elapsed() < Duration::from_secs(180) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        tb.advance(chrono::Duration::milliseconds(250));
        reveals = count_reveals();
        still_owed = owed().await;
    }
    let reveals_after = reveals_from.elapsed();

    let times = |f: &dyn Fn(&Attempt) -> Option<Instant>| {
        let mut t: Vec<Instant> = attempts.iter().filter_map(f).collect();
        t.sort();
        match (t.first(), t.last()) {
            (Some(a), Some(b)) if t.len() > 1 => (t.len() - 1) as f64 / (*b - *a).as_secs_f64(),
            _ => 0.0,
        }
    };
    Answers {
        label,
        answerable,
        second_partners,
        sent: submits.len(),
        click_rate: times(&|a| a.clicked_at),
        submit_rate: times(&|a| a.submitted_at),
        click_not_modal,
        late_clicks: late(&clicks),
        late_submits: late(&submits),
        unacked,
        confirmed,
        confirm_times,
        apologies,
        cannot_save,
        unresolved: submits.len() - outcomes.len(),
        stuck: attempts.iter().filter(|a| a.stuck.is_some()).count(),
        in_database,
        reveals,
        expected_reveals,
        reveals_after,
        still_owed,
        rate_limited,
        rate_limited_by_route,
        limited_requests,
        waits,
        followup_pause,
        elapsed,
        cpu,
        click_acks,
        submit_acks,
    }
}

// --- the run -------------------------------------------------------------

fn waits(w: &BTreeMap<String, (usize, u64)>) -> String {
    if w.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> =
        w.iter().map(|(bucket, (n, ms))| format!("{n} on {bucket}, {:.1} s in all", *ms as f64 / 1000.0)).collect();
    parts.join("; ")
}

#[tokio::main]
async fn main() {
    // Under `cargo test --benches` the harness passes `--bench` only when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load bench: run with `cargo bench --bench load`");
        return;
    }
    let logged = Arc::new(Logged::default());
    // Warnings and errors, and serenity's debug line for a pre-emptive rate-limit
    // wait; events only (enabling serenity's spans would format its state on
    // every request).
    let filter = tracing_subscriber::filter::filter_fn(|meta| {
        meta.is_event()
            && (*meta.level() <= tracing::Level::WARN
                || meta.target() == "serenity::http::ratelimiting" && *meta.level() <= tracing::Level::DEBUG)
    });
    tracing_subscriber::registry().with(CountLogs(logged.clone()).with_filter(filter)).init();
    let load_before = load_average();
    let started = Instant::now();

    let settings = Settings { nudge_after: chrono::Duration::days(7), ..bot::settings() };
    let tb = TestBot::start_with(sim_config(), settings, true).await;
    logged.application_id.store(tb.sim.application_id(), Ordering::SeqCst);
    let couples = seed(&tb).await;
    eprintln!("seeded {COUPLES} couples and started the bot in {:.1} s", started.elapsed().as_secs_f64());

    // 1a. Fan-out with Discord's global limit (the sim's default, 50/s).
    let limited = fan_out(&tb, &logged, &couples, DAY_ONE, "global limit 50/s", 1).await;

    // 2a. Answers to the day's prompts, with the global limit still on.
    let (seen, _) = prompts_seen(&couples);
    let answered_limited = answers(&tb, &logged, "global limit 50/s", targets(&couples, &seen)).await;

    // 1b. The next day's fan-out with the global limit off.
    tb.sim.set_global_rate_limit(None);
    let unlimited = fan_out(&tb, &logged, &couples, DAY_TWO, "no global limit", 2).await;

    // 2b. Answers to the second day's prompts, global limit off.
    let (seen, _) = prompts_seen(&couples);
    let answered_unlimited = answers(&tb, &logged, "no global limit", targets(&couples, &seen)).await;

    let total = started.elapsed();
    let load_after = load_average();
    tb.assert_every_event_was_readable();

    // --- report ---
    println!(
        "\n| fan-out: 2,000 prompts due in one minute | prompts | all posted after | end to end | while sending | bursts · longest idle gap | 429 answers | process CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for f in [&limited, &unlimited] {
        println!(
            "| {} | {} | {:.1} s | **{:.0} prompts/s** | {:.0} prompts/s | {} · {:.1} s | {} | {:.0} s ({:.0}% of 2 cores) |",
            f.label,
            f.posts,
            f.elapsed.as_secs_f64(),
            f.posts as f64 / f.elapsed.as_secs_f64(),
            f.busy_rate,
            f.batches,
            f.longest_gap.as_secs_f64(),
            f.rate_limited,
            f.cpu,
            100.0 * f.cpu / f.elapsed.as_secs_f64() / 2.0,
        );
    }
    for f in [&limited, &unlimited] {
        println!("\nfan-out, {}: serenity's pre-emptive bucket waits: {}", f.label, waits(&f.waits));
    }
    let runs = [&answered_limited, &answered_unlimited];
    let row = |name: &str, f: &dyn Fn(&Answers) -> String| {
        println!("| {name} | {} |", runs.iter().map(|a| f(a)).collect::<Vec<_>>().join(" | "));
    };
    let latency = |acks: &[Duration]| {
        format!(
            "{:.1} / {:.1} / {:.1} ms (n = {})",
            ms(percentile(acks, 0.5)),
            ms(percentile(acks, 0.99)),
            ms(acks.last().copied().unwrap_or_default()),
            acks.len()
        )
    };
    println!(
        "\n| answers: {ANSWERS} partners click Answer and submit the modal | {} | {} |",
        runs[0].label, runs[1].label
    );
    println!("|---|---:|---:|");
    row("who answered", &|a| {
        format!(
            "first partners of {} couples with an Answer button, then {} second partners",
            a.answerable.min(ANSWERS),
            a.second_partners
        )
    });
    row("arrival: clicks · modal submits", &|a| format!("{:.0}/s · **{:.0}/s**", a.click_rate, a.submit_rate));
    row("ack latency p50 / p99 / max: click → type 9 modal", &|a| latency(&a.click_acks));
    row("ack latency p50 / p99 / max: submit → first callback (the \"Saved\" reply)", &|a| latency(&a.submit_acks));
    row("over 3 s (rejected 10062): clicks · submits · never acknowledged", &|a| {
        format!("{} · {} · {}", a.late_clicks, a.late_submits, a.unacked)
    });
    row("confirmed (\"Saved\" ephemeral) · in the database as written", &|a| {
        format!("{} of {} · {}", a.confirmed, a.sent, a.in_database)
    });
    row("submit → \"Saved\" seen, p50 / p99 / max (±0.1 s)", &|a| {
        format!(
            "{:.1} / {:.1} / {:.1} s",
            percentile(&a.confirm_times, 0.5).as_secs_f64(),
            percentile(&a.confirm_times, 0.99).as_secs_f64(),
            a.confirm_times.last().copied().unwrap_or_default().as_secs_f64()
        )
    });
    row("reveals posted (expected)", &|a| format!("{} ({})", a.reveals, a.expected_reveals));
    row("all reveals and \"has answered\" notices posted, after the phase · still owed", &|a| {
        format!("{:.1} s · {}", a.reveals_after.as_secs_f64(), a.still_owed)
    });
    row("apologies · \"could not save\" · clicks without a modal · stuck · unresolved", &|a| {
        format!("{} · {} · {} · {} · {}", a.apologies, a.cannot_save, a.click_not_modal, a.stuck, a.unresolved)
    });
    row("requests under the global limit the answers caused (posts, threads)", &|a| a.limited_requests.to_string());
    row("429 answers during the phase", &|a| {
        let top: Vec<String> = a.rate_limited_by_route.iter().map(|(r, n)| format!("{n} `{r}`")).collect();
        format!("{} ({})", a.rate_limited, top.join(", "))
    });
    row("serenity's pre-emptive bucket waits", &|a| waits(&a.waits));
    row("longest pause between two followups reaching Discord", &|a| {
        format!("{:.1} s", a.followup_pause.as_secs_f64())
    });
    row("phase length · process CPU", &|a| {
        format!(
            "{:.1} s · {:.0} s ({:.0}% of 2 cores)",
            a.elapsed.as_secs_f64(),
            a.cpu,
            100.0 * a.cpu / a.elapsed.as_secs_f64() / 2.0
        )
    });
    println!(
        "\nconditions: {} cores, load average {load_before} before and {load_after} after; the bot, the local Discord and \
         the load driver share one process and its tokio runtime; whole run {:.0} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        total.as_secs_f64()
    );
    let events = std::mem::take(&mut *logged.events.lock().unwrap());
    if events.is_empty() {
        println!("warnings and errors logged: none");
    } else {
        println!("warnings and errors logged:");
        for (key, (count, sample)) in &events {
            println!("  {count} × {key} (e.g. {sample})");
        }
    }

    let ok = runs.iter().all(|a| {
        a.late_clicks + a.late_submits + a.unacked + a.apologies + a.cannot_save + a.stuck + a.unresolved == 0
            && a.confirmed == a.sent
            && a.in_database == a.confirmed
            && a.reveals == a.expected_reveals
            && a.still_owed == 0
    });
    tb.stop().await;
    if !ok {
        eprintln!("load: some answers were not acknowledged in time, not confirmed, or not stored (see above)");
        std::process::exit(1);
    }
}
