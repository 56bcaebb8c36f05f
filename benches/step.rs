//! What one worker step costs as history grows: the same due set (10,000
//! prompts, with reveals, nudges, notices and reflections) over 10,000 and over
//! 1,000,000 deliveries of history; an idle step over each; and a minute of
//! 2,000 weekly reflections in which one couple's channel is gone.
//!
//! Both databases hold 20,000 couples living in a channel. History is seeded
//! in bulk with SQL through the bench's own pool, shaped as the engine writes it:
//! deliveries with their chosen prompts (sent, a few missed), both partners'
//! responses (sealed with the engine's cipher), reveals, the outbox rows of
//! every prompt, nudge, reveal, "has answered" notice and reflection, with the
//! messages they were posted as. The small history is yesterday's prompt of
//! the 10,000 couples due; the large one is 50 days of all 20,000 couples.
//!
//! Each repetition runs one full `Worker::step` with a `MemoryTransport` (claim,
//! prompts, reveals, nudges, notices, reflections), then puts the due set back:
//! the rows the step created are deleted and what it posted is made due again.
//! The two sizes alternate, so noise on the shared machine falls on both.
//!
//! Run: `cargo bench --bench step` (prints tables for BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use mend::clock::ManualClock;
use mend::core::answer::Answer;
use mend::core::model::{Audience, Phase, Slot};
use mend::core::outbox::{Failure, ItemKind, Notice, To, Unreachable};
use mend::core::prompts::Library;
use mend::crypto::Cipher;
use mend::engine::{Engine, Settings};
use mend::worker::{Lifecycle, MemoryTransport, Worker};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

const COUPLES: i64 = 20_000;
/// Couples `1..=DUE` have their daily prompt due in the step.
const DUE: i64 = 10_000;
/// Couples `1..=REFLECTIONS` also have their weekly reflection due.
const REFLECTIONS: i64 = 300;
/// Couples whose partners both answer yesterday's prompt just before the step:
/// a reveal and two "has answered" notices each.
const REVEALS: std::ops::RangeInclusive<i64> = 301..=600;
/// Couples whose yesterday's prompt is unanswered: a nudge to each partner due.
const NUDGES: std::ops::RangeInclusive<i64> = 601..=900;
const REPETITIONS: usize = 5;
const IDLE_STEPS: usize = 500;
/// Couples `WEEKLY` have their reflection due an hour and a half after the
/// prompts; `UNREACHABLE` (one in 2,000) has lost its channel.
const WEEKLY: std::ops::RangeInclusive<i64> = 1_001..=3_000;
const UNREACHABLE: i64 = 2_000;
const WEEKLY_REPETITIONS: usize = 3;
const DAY: i64 = 86_400;
const ANSWER: &str = "I noticed you made the coffee this morning before I woke, and it felt like being thought of.";

/// One seeded database with its engine and worker.
struct Bench {
    label: &'static str,
    deliveries: i64,
    /// Couples with history, and how many days of it each has.
    history: (i64, i64),
    pool: SqlitePool,
    engine: Engine,
    clock: Arc<ManualClock>,
    worker: Worker<MemoryTransport>,
    /// The highest ids before the first step: anything above was made by a step.
    max_outbox: i64,
    max_delivery: i64,
    max_reflection: i64,
    _dir: tempfile::TempDir,
}

/// 08:30 in Paris on Monday 5 January 2026: the prompts' minute.
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 7, 30, 0).unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

async fn exec(pool: &SqlitePool, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.unwrap();
}

// --- seeding -------------------------------------------------------------

/// Couples, partners, homes and schedules: `1..=DUE` prompts due at `at`, the
/// others' later today; reflections `1..=REFLECTIONS` due at `at`, the others'
/// next Sunday.
async fn seed_couples(pool: &SqlitePool, days: i64, at: i64) {
    let created = at - (days + 1) * DAY;
    exec(
        pool,
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {COUPLES})
             INSERT INTO couples (id, created_at, tz, phase, phase_changed_at)
             SELECT i, {created}, 'Europe/Paris', 'attune', {created} FROM n"
        ),
    )
    .await;
    exec(
        pool,
        "INSERT INTO partners (couple_id, slot, name, role, external_id)
         SELECT id, 0, 'Ada', 'drifted', CAST(id * 2 AS TEXT) FROM couples
         UNION ALL SELECT id, 1, 'Ben', 'drifted', CAST(id * 2 + 1 AS TEXT) FROM couples"
            .into(),
    )
    .await;
    exec(
        pool,
        "INSERT INTO discord_couples (couple_id, guild_id, channel_id)
         SELECT id, '1', CAST(1000000 + id AS TEXT) FROM couples"
            .into(),
    )
    .await;
    let sunday = at + 6 * DAY + 37_800;
    exec(
        pool,
        format!(
            "INSERT INTO schedules (couple_id, kind, spec, tz, next_fire_at)
             SELECT id, 'prompt', 'daily 08:30', 'Europe/Paris',
                    CASE WHEN id <= {DUE} THEN {at} ELSE {at} + 43200 END FROM couples
             UNION ALL
             SELECT id, 'reflection', 'sun 19:00', 'Europe/Paris',
                    CASE WHEN id <= {REFLECTIONS} THEN {at} ELSE {sunday} END FROM couples"
        ),
    )
    .await;
}

/// `days` days of history for couples `1..=couples`, ending yesterday.
async fn seed_history(pool: &SqlitePool, cipher: &Cipher, library: &Library, couples: i64, days: i64, at: i64) {
    // The prompts history draws from: those worded for both, in the couples' phase.
    exec(pool, "CREATE TABLE bench_prompts (n INTEGER PRIMARY KEY, pillar TEXT, kind TEXT, id TEXT)".into()).await;
    let prompts: Vec<_> = library
        .prompts()
        .iter()
        .filter(|p| p.audience == Audience::Both && p.phases.contains(&Phase::Attune))
        .collect();
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO bench_prompts (n, pillar, kind, id) ");
    q.push_values(prompts.iter().enumerate(), |mut b, (n, p)| {
        b.push_bind(n as i64).push_bind(&p.pillar).push_bind(p.kind.as_str()).push_bind(&p.id);
    });
    q.build().execute(pool).await.unwrap();
    let shared = prompts.iter().position(|p| p.kind.as_str() == "shared").unwrap();
    let count = prompts.len();
    let (open_from, open_to) = (*REVEALS.start(), *NUDGES.end());

    // One row per delivery: who responded. Yesterday's prompt of the reveal and
    // nudge couples is still open (sent, unanswered, a shared prompt); one in
    // twenty before yesterday was missed; of those sent, 7 in 10 answered by both,
    // 1 by the first partner only, 1 skipped by the first and answered by the
    // second, 1 by neither.
    exec(
        pool,
        "CREATE TABLE bench_plan (id INTEGER PRIMARY KEY, couple INTEGER, occurrence INTEGER, open INTEGER,
             missed INTEGER, a0 INTEGER, a1 INTEGER, s0 INTEGER, prompt INTEGER)"
            .into(),
    )
    .await;
    exec(
        pool,
        format!(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {couples}),
                 d(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM d WHERE j < {days}),
                 base AS (SELECT i, j, (j = 1 AND i BETWEEN {open_from} AND {open_to}) AS open,
                                 (13 * i + 7 * j) % 10 AS p FROM c, d),
                 flags AS (SELECT *, (j > 1 AND (i + 3 * j) % 20 = 0) AS missed FROM base)
             INSERT INTO bench_plan (id, couple, occurrence, open, missed, a0, a1, s0, prompt)
             SELECT (i - 1) * {days} + ({days} - j + 1), i, {at} - j * {DAY}, open, missed,
                    NOT open AND NOT missed AND p <= 7,
                    NOT open AND NOT missed AND (p <= 6 OR p = 8),
                    NOT open AND NOT missed AND p = 8,
                    CASE WHEN open THEN {shared} ELSE (i * 7919 + j * 104729) % {count} END
             FROM flags"
        ),
    )
    .await;
    exec(
        pool,
        "INSERT INTO deliveries (id, couple_id, occurrence, claimed_at, status, pillar, kind, prompt_a, prompt_b, phase,
                                 sent_at, message_ref, revealed_at, reveal_posted_at)
         SELECT b.id, b.couple, b.occurrence, b.occurrence, CASE WHEN b.missed THEN 'missed' ELSE 'sent' END,
                CASE WHEN b.missed THEN NULL ELSE p.pillar END, CASE WHEN b.missed THEN NULL ELSE p.kind END,
                CASE WHEN b.missed THEN NULL ELSE p.id END, CASE WHEN b.missed THEN NULL ELSE p.id END,
                CASE WHEN b.missed THEN NULL ELSE 'attune' END,
                CASE WHEN b.missed THEN NULL ELSE b.occurrence + 5 END,
                CASE WHEN b.missed THEN NULL ELSE CAST(b.id * 8 AS TEXT) END,
                CASE WHEN b.a0 AND b.a1 AND p.kind <> 'journal' THEN b.occurrence + 7200 END,
                CASE WHEN b.a0 AND b.a1 AND p.kind <> 'journal' THEN b.occurrence + 7205 END
         FROM bench_plan b JOIN bench_prompts p ON p.n = b.prompt"
            .into(),
    )
    .await;
    exec(
        pool,
        "INSERT INTO delivery_messages (delivery_id, slot, channel_id, message_id)
         SELECT b.id, -1, CAST(1000000 + b.couple AS TEXT), CAST(b.id * 8 AS TEXT) FROM bench_plan b WHERE NOT b.missed"
            .into(),
    )
    .await;

    // The outbox, with explicit ids so parts can name them: delivery d owns
    // 8d (prompt), 8d+1+slot (nudges), 8d+3 (reveal), 8d+4+slot (notices).
    let prompt_outbox = String::from(
        "INSERT INTO outbox (id, couple_id, kind, delivery_id, status, attempts, next_attempt_at, deadline,
                             created_at, done_at)
         SELECT id * 8, couple, 'prompt', id, 'sent', 1, occurrence, occurrence + 21600, occurrence, occurrence + 5
         FROM bench_plan WHERE NOT missed",
    );
    exec(pool, prompt_outbox).await;
    // A nudge is dropped when its partner responded first (or it was revealed);
    // the open deliveries' nudges are still pending: due now for the nudge
    // couples, later today for the reveal couples.
    let (nudge_from, nudge_to) = (*NUDGES.start(), *NUDGES.end());
    for slot in 0..2 {
        let responded = if slot == 0 { "a0 OR s0" } else { "a1" };
        exec(
            pool,
            format!(
                "INSERT INTO outbox (id, couple_id, kind, delivery_id, slot, status, attempts, next_attempt_at,
                                     deadline, created_at, done_at)
                 SELECT id * 8 + 1 + {slot}, couple, 'nudge', id, {slot},
                        CASE WHEN open THEN 'pending' WHEN {responded} THEN 'dropped' ELSE 'sent' END,
                        CASE WHEN open THEN 0 ELSE 1 END,
                        CASE WHEN NOT open THEN occurrence + 21605
                             WHEN couple BETWEEN {nudge_from} AND {nudge_to} THEN {at} - 60
                             ELSE {at} + 18000 END,
                        CASE WHEN NOT open THEN occurrence + 43205
                             WHEN couple BETWEEN {nudge_from} AND {nudge_to} THEN {at} + 21540
                             ELSE {at} + 39600 END,
                        occurrence + 5,
                        CASE WHEN open THEN NULL ELSE occurrence + 21605 END
                 FROM bench_plan WHERE NOT missed"
            ),
        )
        .await;
    }
    exec(
        pool,
        "INSERT INTO outbox (id, couple_id, kind, delivery_id, status, attempts, next_attempt_at, deadline,
                             created_at, done_at)
         SELECT d.id * 8 + 3, d.couple_id, 'reveal', d.id, 'sent', 1, d.revealed_at, d.revealed_at + 604800,
                d.revealed_at, d.reveal_posted_at
         FROM deliveries d WHERE d.revealed_at IS NOT NULL"
            .into(),
    )
    .await;
    for slot in [Slot::A, Slot::B] {
        let i = slot.index();
        let answered = if i == 0 { "b.a0" } else { "b.a1" };
        let payload = serde_json::to_string(&(Notice::Answered { slot }, To::HomeOr(slot.other()))).unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (id, couple_id, kind, payload, status, attempts, next_attempt_at, deadline,
                                 created_at, done_at)
             SELECT b.id * 8 + 4 + {i}, b.couple, 'notice', ?, 'sent', 1, b.occurrence + 3600 + {i} * 60,
                    b.occurrence + 3600 + {i} * 60 + 86400, b.occurrence + 3600 + {i} * 60, b.occurrence + 3601 + {i} * 60
             FROM bench_plan b JOIN bench_prompts p ON p.n = b.prompt WHERE {answered} AND p.kind <> 'journal'"
        )))
        .bind(payload)
        .execute(pool)
        .await
        .unwrap();
    }
    // Each item that went out, as the message it was posted as.
    exec(
        pool,
        "INSERT INTO outbox_parts (outbox_id, part, channel_id, message_id)
         SELECT id, CASE WHEN kind = 'nudge' THEN 'd' || slot ELSE 'c' END,
                CAST(1000000 + couple_id AS TEXT), CAST(id AS TEXT)
         FROM outbox WHERE status = 'sent'"
            .into(),
    )
    .await;

    // Responses, sealed to their row as the engine seals them.
    let mut last = 0i64;
    loop {
        let rows: Vec<(i64, i64, bool, bool, bool, String)> = sqlx::query_as(
            "SELECT b.id, b.occurrence, b.a0, b.a1, b.s0, p.kind FROM bench_plan b JOIN bench_prompts p ON p.n = b.prompt
             WHERE b.id > ? AND (b.a0 OR b.a1 OR b.s0) ORDER BY b.id LIMIT 20000",
        )
        .bind(last)
        .fetch_all(pool)
        .await
        .unwrap();
        let Some(&(end, ..)) = rows.last() else { break };
        last = end;
        let mut responses = Vec::with_capacity(rows.len() * 2);
        for (id, occurrence, a0, a1, s0, kind) in rows {
            for (slot, answered, skipped) in [(0i64, a0, s0), (1, a1, false)] {
                let at = occurrence + 3600 + slot * 60;
                if answered {
                    let (body, done) = match kind.as_str() {
                        "action" => (None, Some(true)),
                        _ => (Some(cipher.seal(ANSWER.as_bytes(), format!("response:{id}:{slot}").as_bytes())), None),
                    };
                    responses.push((id, slot, "answered", body, done, at));
                } else if skipped {
                    responses.push((id, slot, "skipped", None, None, at));
                }
            }
        }
        for chunk in responses.chunks(4_000) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO responses (delivery_id, slot, status, body, done, answered_at) ");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3.clone()).push_bind(r.4).push_bind(r.5);
            });
            q.build().execute(pool).await.unwrap();
        }
    }

    // Weekly reflections on Sundays at 19:00 Paris, each posted.
    let weeks = (days + 6) / 7;
    let first_reflection = 8 * (couples * days + 1);
    exec(
        pool,
        format!(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {couples}),
                 w(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM w WHERE k + 1 < {weeks})
             INSERT INTO reflections (id, couple_id, occurrence, week_start, status, sent_at, message_ref)
             SELECT (i - 1) * {weeks} + k + 1, i, {at} - 48600 - k * 604800, {at} - 48600 - (k + 1) * 604800, 'sent',
                    {at} - 48600 - k * 604800 + 5, CAST({first_reflection} + (i - 1) * {weeks} + k AS TEXT)
             FROM c, w"
        ),
    )
    .await;
    exec(
        pool,
        format!(
            "INSERT INTO outbox (id, couple_id, kind, reflection_id, status, attempts, next_attempt_at, deadline,
                                 created_at, done_at)
             SELECT {first_reflection} + id - 1, couple_id, 'reflection', id, 'sent', 1, occurrence, occurrence + 21600,
                    occurrence, occurrence + 5
             FROM reflections"
        ),
    )
    .await;
    exec(
        pool,
        format!(
            "INSERT INTO outbox_parts (outbox_id, part, channel_id, message_id)
             SELECT id, 'c', CAST(1000000 + couple_id AS TEXT), CAST(id AS TEXT) FROM outbox
             WHERE kind = 'reflection' AND id >= {first_reflection}"
        ),
    )
    .await;
    exec(pool, "DROP TABLE bench_plan".into()).await;
    exec(pool, "DROP TABLE bench_prompts".into()).await;
    exec(pool, "PRAGMA wal_checkpoint(TRUNCATE)".into()).await;
}

async fn count(pool: &SqlitePool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(pool).await.unwrap()
}

async fn max_id(pool: &SqlitePool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COALESCE(MAX(id), 0) FROM {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn open(label: &'static str, history_couples: i64, days: i64) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let key = mend::crypto::Key::generate();
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let clock = Arc::new(ManualClock::new(at()));
    let keys =
        mend::store::keys::Keys::open(&mend::store::keys::default_url(&url).unwrap(), Cipher::new(&key)).await.unwrap();
    let engine = Engine::open(&url, keys, library.clone(), clock.clone(), Settings::default()).await.unwrap();
    let pool = SqlitePool::connect(&url).await.unwrap();
    let started = Instant::now();
    seed_couples(&pool, days, at().timestamp()).await;
    seed_history(&pool, &Cipher::new(&key), &library, history_couples, days, at().timestamp()).await;
    let deliveries = count(&pool, "deliveries").await;
    eprintln!(
        "{label}: seeded {deliveries} deliveries, {} responses, {} outbox rows, {} parts in {:.1} s",
        count(&pool, "responses").await,
        count(&pool, "outbox").await,
        count(&pool, "outbox_parts").await,
        started.elapsed().as_secs_f64()
    );

    // The reveal couples' partners answer yesterday's prompt ten minutes before.
    clock.set(at() - chrono::Duration::minutes(10));
    for couple in REVEALS {
        let open = engine.deliveries_of(couple).await.unwrap().into_iter().last().unwrap();
        for slot in Slot::BOTH {
            engine.answer(couple, open.id, slot, Answer::text(ANSWER).unwrap()).await.unwrap();
        }
    }
    clock.set(at());
    // What is due before the first step, to make it due again after each.
    exec(&pool, "CREATE TABLE bench_due (id INTEGER PRIMARY KEY)".into()).await;
    let now = at().timestamp();
    exec(
        &pool,
        format!("INSERT INTO bench_due SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= {now}"),
    )
    .await;
    let worker = Worker::new(engine.clone(), MemoryTransport::default(), Arc::new(Lifecycle::default()));
    Bench {
        label,
        deliveries,
        history: (history_couples, days),
        max_outbox: max_id(&pool, "outbox").await,
        max_delivery: max_id(&pool, "deliveries").await,
        max_reflection: max_id(&pool, "reflections").await,
        pool,
        engine,
        clock,
        worker,
        _dir: dir,
    }
}

// --- measuring -----------------------------------------------------------

/// What a step posted, by kind.
fn posted(worker: &Worker<MemoryTransport>, kind: ItemKind) -> usize {
    worker.transport().posts().iter().filter(|p| p.kind == kind).count()
}

/// Puts the due set back as it was before the first step.
async fn reset_due(b: &Bench) {
    let pool = &b.pool;
    let now = at().timestamp();
    exec(pool, format!("DELETE FROM outbox WHERE id > {}", b.max_outbox)).await;
    exec(pool, format!("DELETE FROM reflections WHERE id > {}", b.max_reflection)).await;
    exec(pool, format!("DELETE FROM deliveries WHERE id > {}", b.max_delivery)).await;
    exec(
        pool,
        "UPDATE deliveries SET reveal_posted_at = NULL
         WHERE id IN (SELECT delivery_id FROM outbox WHERE kind = 'reveal' AND id IN (SELECT id FROM bench_due))"
            .into(),
    )
    .await;
    exec(pool, "DELETE FROM outbox_parts WHERE outbox_id IN (SELECT id FROM bench_due)".into()).await;
    exec(
        pool,
        "UPDATE outbox SET status = 'pending', attempts = 0, lease_owner = NULL, lease_until = NULL, done_at = NULL,
             last_error = NULL WHERE id IN (SELECT id FROM bench_due)"
            .into(),
    )
    .await;
    exec(
        pool,
        format!(
            "UPDATE schedules SET next_fire_at = {now}
             WHERE (kind = 'prompt' AND couple_id <= {DUE}) OR (kind = 'reflection' AND couple_id <= {REFLECTIONS})"
        ),
    )
    .await;
    b.worker.transport().drain();
}

/// CPU this process has used (user + system), from /proc: on a shared machine
/// it moves less than the wall clock with what else runs.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One full step with the due set in place, wall clock and CPU; checks
/// everything due was posted.
async fn due_step(b: &Bench) -> (Duration, Duration) {
    reset_due(b).await;
    let (t, cpu_start) = (Instant::now(), cpu());
    let report = b.worker.step().await.unwrap();
    let elapsed = (t.elapsed(), cpu() - cpu_start);
    // A reflection's slot sends each partner their check-in; the reflection
    // itself follows when both answered or the window closed (`weekly`).
    let expected = [
        (ItemKind::Prompt, DUE as usize),
        (ItemKind::Reflection, 0),
        (ItemKind::Reveal, REVEALS.count()),
        (ItemKind::Nudge, 2 * NUDGES.count()),
        (ItemKind::Notice, 2 * REVEALS.count() + 2 * REFLECTIONS as usize),
    ];
    for (kind, n) in expected {
        assert_eq!(posted(&b.worker, kind), n, "{}: {kind} posted", b.label);
    }
    assert_eq!(report.failed, 0, "{}: failures", b.label);
    assert_eq!(b.engine.prompts_waiting().await.unwrap(), 0, "{}: every prompt recorded", b.label);
    elapsed
}

/// Steps with nothing due, 30 seconds after the prompts' minute.
async fn idle_steps(b: &Bench) -> Vec<Duration> {
    b.clock.set(at() + chrono::Duration::seconds(30));
    let mut idle = Vec::with_capacity(IDLE_STEPS);
    for _ in 0..IDLE_STEPS {
        let t = Instant::now();
        let report = b.worker.step().await.unwrap();
        idle.push(t.elapsed());
        assert_eq!(report.tried, 0, "{}: an idle step found work", b.label);
    }
    idle.sort();
    idle
}

struct Weekly {
    took: Vec<Duration>,
    reflections: usize,
    tried: usize,
    failed: usize,
}

/// 2,000 weekly reflections due in one minute, one couple's channel gone.
async fn weekly(b: &Bench) -> Weekly {
    let pool = &b.pool;
    let when = (at() + chrono::Duration::minutes(90)).timestamp();
    let (from, to) = (*WEEKLY.start(), *WEEKLY.end());
    let max_outbox = max_id(pool, "outbox").await;
    let max_reflection = max_id(pool, "reflections").await;
    let prompt_next: Option<i64> =
        sqlx::query_scalar("SELECT next_fire_at FROM schedules WHERE couple_id = ? AND kind = 'prompt'")
            .bind(UNREACHABLE)
            .fetch_one(pool)
            .await
            .unwrap();
    b.worker.transport().fail(
        UNREACHABLE,
        Failure::Unreachable { why: Unreachable::ChannelGone, slot: None, detail: "Unknown Channel (10003)".into() },
    );
    b.clock.set(mend::engine::instant(when));
    let mut out = Weekly { took: Vec::new(), reflections: 0, tried: 0, failed: 0 };
    for _ in 0..WEEKLY_REPETITIONS {
        exec(pool, format!("DELETE FROM outbox WHERE id > {max_outbox}")).await;
        exec(pool, format!("DELETE FROM reflections WHERE id > {max_reflection}")).await;
        exec(
            pool,
            format!("UPDATE couples SET paused = 0, paused_until = NULL, pause_hold = NULL WHERE id = {UNREACHABLE}"),
        )
        .await;
        exec(
            pool,
            format!("UPDATE discord_couples SET channel_id = CAST(1000000 + couple_id AS TEXT) WHERE couple_id = {UNREACHABLE}"),
        )
        .await;
        sqlx::query("UPDATE schedules SET next_fire_at = ? WHERE couple_id = ? AND kind = 'prompt'")
            .bind(prompt_next)
            .bind(UNREACHABLE)
            .execute(pool)
            .await
            .unwrap();
        exec(
            pool,
            format!("UPDATE schedules SET next_fire_at = {when} WHERE kind = 'reflection' AND couple_id BETWEEN {from} AND {to}"),
        )
        .await;
        // The slot: each partner's check-in. Then every couple has checked in,
        // which brings each reflection forward to now: that fan-out is the
        // step measured (at the same minute, so no other schedule is due).
        b.worker.step().await.unwrap();
        exec(
            pool,
            format!(
                "UPDATE outbox SET next_attempt_at = {when} WHERE kind = 'reflection' AND status = 'pending'
                 AND couple_id BETWEEN {from} AND {to} AND id > {max_outbox}"
            ),
        )
        .await;
        b.worker.transport().drain();
        let t = Instant::now();
        let report = b.worker.step().await.unwrap();
        out.took.push(t.elapsed());
        out.reflections = posted(&b.worker, ItemKind::Reflection);
        out.tried = report.tried;
        out.failed = report.failed;
        assert_eq!(out.reflections, WEEKLY.count() - 1, "{}: every reachable couple got its reflection", b.label);
        assert!(b.engine.couple(UNREACHABLE).await.unwrap().paused, "{}: the unreachable couple is paused", b.label);
    }
    b.worker.transport().heal(UNREACHABLE);
    out.took.sort();
    out
}

#[tokio::main]
async fn main() {
    // Under `cargo test --benches` the harness passes `--bench` only when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        println!("step bench: run with `cargo bench --bench step`");
        return;
    }
    let load_before = load_average();
    let started = Instant::now();
    let small = open("10,000", DUE, 1).await;
    let large = open("1,000,000", COUPLES, 50).await;
    let benches = [&small, &large];
    let mut steps = [Vec::new(), Vec::new()];
    let mut cpus = [Vec::new(), Vec::new()];
    for rep in 0..REPETITIONS {
        for ((b, took), cpu) in benches.iter().zip(&mut steps).zip(&mut cpus) {
            let (t, c) = due_step(b).await;
            eprintln!("{} deliveries: step {} took {:.0} ms ({:.0} ms CPU)", b.label, rep + 1, ms(t), ms(c));
            took.push(t);
            cpu.push(c);
        }
    }
    steps.iter_mut().chain(&mut cpus).for_each(|s| s.sort());
    let mut idle = Vec::new();
    let mut weeks = Vec::new();
    for b in benches {
        idle.push(idle_steps(b).await);
        weeks.push(weekly(b).await);
    }
    let others = REFLECTIONS as usize + REVEALS.count() * 3 + NUDGES.count() * 2;
    println!(
        "| history: deliveries | couples × days | step, {DUE} prompts + {others} others due: median | min | max | CPU: median | idle step: median | p99 | max |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, b) in benches.iter().enumerate() {
        println!(
            "| {} | {} × {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.3} ms | {:.3} ms | {:.3} ms |",
            b.deliveries,
            b.history.0,
            b.history.1,
            ms(percentile(&steps[i], 0.5)),
            ms(steps[i][0]),
            ms(*steps[i].last().unwrap()),
            ms(percentile(&cpus[i], 0.5)),
            ms(percentile(&idle[i], 0.5)),
            ms(percentile(&idle[i], 0.99)),
            ms(*idle[i].last().unwrap()),
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "\nratio 1,000,000 / 10,000 deliveries of history: step {:.2}× (fastest {:.2}×, CPU {:.2}×), idle step {:.2}×",
        ratio(percentile(&steps[1], 0.5), percentile(&steps[0], 0.5)),
        ratio(steps[1][0], steps[0][0]),
        ratio(percentile(&cpus[1], 0.5), percentile(&cpus[0], 0.5)),
        ratio(percentile(&idle[1], 0.5), percentile(&idle[0], 0.5)),
    );
    println!(
        "\n| history: deliveries | {} weekly reflections due, couple {UNREACHABLE} unreachable: step median | min | max | reflections posted | items tried · failed |",
        WEEKLY.count()
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for (b, w) in benches.iter().zip(&weeks) {
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.0} ms | {} of {} | {} · {} |",
            b.deliveries,
            ms(percentile(&w.took, 0.5)),
            ms(w.took[0]),
            ms(*w.took.last().unwrap()),
            w.reflections,
            WEEKLY.count(),
            w.tried,
            w.failed,
        );
    }
    // A query that reads a whole table would show here, at 1,000,000 deliveries.
    for (name, plan) in large.engine.step_query_plans().await.unwrap() {
        if plan.split(" | ").any(|step| step.starts_with("SCAN") && !step.contains("USING")) {
            println!("\nquery plan with a full scan: {name}: {plan}");
        }
    }
    println!(
        "\nconditions: {} cores, load average {load_before} before and {} after; whole run {:.0} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        started.elapsed().as_secs_f64()
    );
}
