//! SQLite and PostgreSQL side by side, in one run, on the same machine: the
//! claim of 10,000 due prompts among 1,000,000 couples, an idle tick, a full
//! worker step posting 2,000 prompts (into memory), answers arriving at 200 a
//! second (each saved with what it owes, as a partner's "Saved" waits for),
//! and how soon another process takes the outbox's lead after its holder is
//! killed.
//!
//! Run: `cargo bench --bench backends` (prints tables for BENCHMARKS.md). The
//! PostgreSQL server is a throwaway cluster started with `.ci/postgres`, or
//! the admin URL in `MEND_BENCH_POSTGRES_URL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use mend::clock::ManualClock;
use mend::core::answer::Answer;
use mend::core::entities::Partner;
use mend::core::model::{Kind, Role, ScheduleKind, Slot};
use mend::core::prompts::Library;
use mend::engine::{Engine, NewCouple, Settings};
use mend::store::Backend;
use mend::worker::{Lifecycle, MemoryTransport, Worker};

const DUE: i64 = 10_000;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Where each backend's databases are made.
struct Servers {
    _dir: tempfile::TempDir,
    pg_admin: String,
    pg_cluster: Option<std::path::PathBuf>,
}

impl Servers {
    fn start() -> Servers {
        let dir = tempfile::tempdir().unwrap();
        if let Ok(admin) = std::env::var("MEND_BENCH_POSTGRES_URL") {
            return Servers { _dir: dir, pg_admin: admin, pg_cluster: None };
        }
        let cluster = dir.path().join("pg");
        let out = std::process::Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/postgres"))
            .arg("start")
            .arg(&cluster)
            .output()
            .unwrap();
        assert!(out.status.success(), "PostgreSQL did not start: {}", String::from_utf8_lossy(&out.stderr));
        let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Servers { _dir: dir, pg_admin: admin, pg_cluster: Some(cluster) }
    }

    /// The keystore for the database `name` on `backend`: the file beside a
    /// SQLite database, a database of its own on PostgreSQL (as mend asks).
    async fn keystore(&self, backend: Backend, name: &str) -> String {
        match backend {
            Backend::Sqlite => mend::store::keys::default_url(&format!(
                "sqlite://{}",
                self._dir.path().join(format!("{name}.db")).display()
            ))
            .unwrap(),
            Backend::Postgres => self.database(backend, &format!("{name}_keys")).await,
        }
    }

    /// A new empty database on `backend`.
    async fn database(&self, backend: Backend, name: &str) -> String {
        match backend {
            Backend::Sqlite => format!("sqlite://{}", self._dir.path().join(format!("{name}.db")).display()),
            Backend::Postgres => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&self.pg_admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut c).await.unwrap();
                format!("{}/{name}", self.pg_admin.rsplit_once('/').unwrap().0)
            }
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        if let Some(cluster) = &self.pg_cluster {
            let _ = std::process::Command::new("bash")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/postgres"))
                .arg("stop")
                .arg(cluster)
                .status();
        }
    }
}

async fn engine_at(url: &str, keystore: &str, clock: Arc<ManualClock>, settings: Settings) -> Engine {
    let cipher = mend::crypto::Cipher::new(&mend::crypto::Key::generate());
    let library = Arc::new(Library::builtin_with(&[]).unwrap());
    let keys = mend::store::keys::Keys::open(keystore, cipher).await.unwrap();
    Engine::open(url, keys, library, clock, settings).await.unwrap()
}

/// `couples` couples, each with a daily prompt and a weekly reflection;
/// `DUE` of them fire at `at`, the rest over the next week. In bulk, in SQL
/// both backends read.
async fn seed(pool: &mend::store::Pool, couples: i64, at: i64) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO couples (id, created_at, tz, phase, phase_changed_at)
         SELECT i, $2, 'Europe/Paris', 'attune', $2 FROM n",
    )
    .bind(couples)
    .bind(at - 86_400)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO partners (couple_id, slot, name, role)
         SELECT id, 0, 'A', 'drifted' FROM couples UNION ALL SELECT id, 1, 'B', 'drifted' FROM couples",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO schedules (couple_id, kind, spec, tz, next_fire_at)
         SELECT id, 'prompt', 'daily 08:30', 'Europe/Paris',
                CASE WHEN id <= $1 THEN $2 ELSE $2 + 60 + (id * 7919) % (7 * 86400 - 120) END FROM couples
         UNION ALL
         SELECT id, 'reflection', 'sun 19:00', 'Europe/Paris', $2 + 86400 + (id * 104729) % (6 * 86400) FROM couples",
    )
    .bind(DUE)
    .bind(at)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    if Backend::of_pool(pool) == Backend::Postgres {
        // New couples after the seed get ids past it; the planner sees the rows.
        sqlx::query("SELECT setval(pg_get_serial_sequence('couples', 'id'), $1)")
            .bind(couples)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
    }
}

async fn reset_due(pool: &mend::store::Pool, at: i64) {
    sqlx::query("DELETE FROM deliveries").execute(pool).await.unwrap();
    sqlx::query("UPDATE schedules SET next_fire_at = $1 WHERE kind = 'prompt' AND couple_id <= $2")
        .bind(at)
        .bind(DUE)
        .execute(pool)
        .await
        .unwrap();
}

struct Claims {
    seed: Duration,
    claim: Vec<Duration>,
    idle: Vec<Duration>,
}

async fn claims(servers: &Servers, backend: Backend) -> Claims {
    let url = servers.database(backend, "claims").await;
    let keystore = servers.keystore(backend, "claims").await;
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 7, 30, 0).unwrap();
    let clock = Arc::new(ManualClock::new(at));
    let engine = engine_at(&url, &keystore, clock.clone(), Settings { claim_batch: DUE, ..Settings::default() }).await;
    let pool = mend::store::open(&url, 2).await.unwrap();
    let started = Instant::now();
    seed(&pool, 1_000_000, at.timestamp()).await;
    let seed_time = started.elapsed();
    let mut claim = Vec::new();
    for _ in 0..5 {
        reset_due(&pool, at.timestamp()).await;
        clock.set(at);
        let t = Instant::now();
        let report = engine.claim_due().await.unwrap();
        claim.push(t.elapsed());
        assert_eq!(report.prompts as i64, DUE, "every due prompt claimed");
    }
    clock.set(at + chrono::Duration::seconds(30));
    let mut idle = Vec::new();
    for _ in 0..1_000 {
        let t = Instant::now();
        assert_eq!(engine.claim_due().await.unwrap().prompts, 0);
        idle.push(t.elapsed());
    }
    claim.sort();
    idle.sort();
    Claims { seed: seed_time, claim, idle }
}

struct Answers {
    step: Duration,
    posted: usize,
    saved: Vec<Duration>,
    revealed: usize,
    arrival: f64,
}

/// 2,000 couples made through the engine; one worker step posts their
/// prompts; then both partners of 1,000 of them answer, 200 answers a second.
async fn answers(servers: &Servers, backend: Backend) -> Answers {
    const COUPLES: usize = 2_000;
    let url = servers.database(backend, "answers").await;
    let keystore = servers.keystore(backend, "answers").await;
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(at));
    let engine =
        engine_at(&url, &keystore, clock.clone(), Settings { claim_batch: 5_000, ..Settings::default() }).await;
    let mut couples = Vec::with_capacity(COUPLES);
    for i in 0..COUPLES {
        let partners = [0, 1].map(|s| Partner { name: format!("p{i}-{s}"), role: Role::Drifted, external_id: None });
        let id = engine.create_couple(NewCouple { tz: "Europe/Paris".into(), partners }).await.unwrap();
        engine.set_schedule(id, ScheduleKind::Prompt, "daily 08:30", None).await.unwrap();
        couples.push(id);
    }
    clock.set(Utc.with_ymd_and_hms(2026, 1, 5, 7, 30, 0).unwrap());
    let worker = Worker::new(engine.clone(), MemoryTransport::default(), Arc::new(Lifecycle::default()));
    let t = Instant::now();
    let mut posted = 0;
    loop {
        let report = worker.step().await.unwrap();
        posted += report.tried - report.failed;
        if report.tried == 0 {
            break;
        }
    }
    let step = t.elapsed();

    let mut owed = Vec::new();
    for &c in couples.iter().take(COUPLES / 2) {
        let d = engine.deliveries_of(c).await.unwrap().remove(0);
        let kind = d.chosen.as_ref().unwrap().kind;
        for slot in [Slot::A, Slot::B] {
            owed.push((c, d.id, slot, kind));
        }
    }
    let started = Instant::now();
    let mut saving = Vec::with_capacity(owed.len());
    for (n, (c, d, slot, kind)) in owed.into_iter().enumerate() {
        // One answer every 5 ms: 200 a second, each in a task of its own.
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + Duration::from_millis(5 * n as u64))).await;
        let engine = engine.clone();
        saving.push(tokio::spawn(async move {
            let answer = match kind {
                Kind::Action => Answer::action(true, Some("done, together")).unwrap(),
                _ => Answer::text("the walk by the river").unwrap(),
            };
            let t = Instant::now();
            let saved = engine.answer(c, d, slot, answer).await.unwrap();
            (t.elapsed(), saved.revealed)
        }));
    }
    let arrival = saving.len() as f64 / started.elapsed().as_secs_f64();
    let mut saved = Vec::new();
    let mut revealed = 0;
    for s in saving {
        let (t, r) = s.await.unwrap();
        saved.push(t);
        revealed += r as usize;
    }
    saved.sort();
    Answers { step, posted, saved, revealed, arrival }
}

/// The bench re-run as a child that takes the lead and waits to be killed.
fn hold_the_lead(url: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let _lead = mend::store::leader::try_lead(url).await.unwrap().expect("the child leads");
        use std::io::Write;
        println!("leading");
        std::io::stdout().flush().unwrap();
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
}

/// From the SIGKILL of the process holding the lead to another taking it,
/// asking every 50 ms (`mend run` asks every 2 s: add up to that).
async fn failover(servers: &Servers, backend: Backend) -> Vec<Duration> {
    use std::io::BufRead;
    let url = servers.database(backend, "failover").await;
    let keystore = servers.keystore(backend, "failover").await;
    let _engine = engine_at(&url, &keystore, Arc::new(ManualClock::new(Utc::now())), Settings::default()).await;
    let mut took = Vec::new();
    for _ in 0..5 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env("MEND_BENCH_HOLD_LEAD", &url)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "leading");
        assert!(mend::store::leader::try_lead(&url).await.unwrap().is_none(), "the child holds the lead");
        let t = Instant::now();
        child.kill().unwrap();
        child.wait().unwrap();
        loop {
            if let Some(_lead) = mend::store::leader::try_lead(&url).await.unwrap() {
                took.push(t.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    took.sort();
    took
}

/// One backend's figures.
type Row = (Backend, Claims, Answers, Vec<Duration>);

fn main() {
    if let Ok(url) = std::env::var("MEND_BENCH_HOLD_LEAD") {
        return hold_the_lead(&url);
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!("backends bench: run with `cargo bench --bench backends`");
        return;
    }
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(bench());
}

async fn bench() {
    let servers = Servers::start();
    let backends = [Backend::Sqlite, Backend::Postgres];
    let mut rows = Vec::new();
    for backend in backends {
        eprintln!("{}: claims", backend.name());
        let c = claims(&servers, backend).await;
        eprintln!("{}: answers", backend.name());
        let a = answers(&servers, backend).await;
        eprintln!("{}: failover", backend.name());
        let f = failover(&servers, backend).await;
        rows.push((backend, c, a, f));
    }
    println!("| backend | seed 1,000,000 couples | claim 10,000 due: median | min | max | idle tick: median | p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (b, c, ..) in &rows {
        println!(
            "| {} | {:.1} s | {:.0} ms | {:.0} ms | {:.0} ms | {:.3} ms | {:.3} ms |",
            b.name(),
            c.seed.as_secs_f64(),
            ms(percentile(&c.claim, 0.5)),
            ms(c.claim[0]),
            ms(*c.claim.last().unwrap()),
            ms(percentile(&c.idle, 0.5)),
            ms(percentile(&c.idle, 0.99)),
        );
    }
    println!();
    println!(
        "| backend | worker step: 2,000 prompts posted (into memory) | answers: arrival | saved p50 | p99 | max | reveals |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (b, _, a, _) in &rows {
        println!(
            "| {} | {:.0} ms ({} posted) | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms | {} of 1000 |",
            b.name(),
            ms(a.step),
            a.posted,
            a.arrival,
            ms(percentile(&a.saved, 0.5)),
            ms(percentile(&a.saved, 0.99)),
            ms(*a.saved.last().unwrap()),
            a.revealed,
        );
    }
    println!();
    println!("| backend | lead taken over after SIGKILL of its holder: median | min | max |");
    println!("|---|---:|---:|---:|");
    for (b, .., f) in &rows {
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.0} ms |",
            b.name(),
            ms(percentile(f, 0.5)),
            ms(f[0]),
            ms(*f.last().unwrap())
        );
    }
    let ratio = |f: &dyn Fn(&Row) -> f64| f(&rows[1]) / f(&rows[0]);
    println!();
    println!(
        "PostgreSQL / SQLite, this run: claim {:.2}×, idle tick {:.2}×, step {:.2}×, answer p99 {:.2}×",
        ratio(&|r| ms(percentile(&r.1.claim, 0.5))),
        ratio(&|r| ms(percentile(&r.1.idle, 0.5))),
        ratio(&|r| ms(r.2.step)),
        ratio(&|r| ms(percentile(&r.2.saved, 0.99))),
    );
}
