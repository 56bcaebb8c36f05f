//! `/healthz` and `/metrics`. Health: the real bot in this process against the
//! local Discord, its worker on the test's clock. Metrics: the real `mend run`
//! with `MEND_HTTP_ADDR` (a process of its own, so its counters are its own).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use discord_sim::{Sim, SimConfig};
use mend::core::entities::Partner;
use mend::core::model::{Role, ScheduleKind};
use mend::discord::{BotConfig, Secret};
use mend::engine::NewCouple;
use rand::SeedableRng;
use sqlx::Connection;

use crate::support::Fixture;
use crate::support::bot::{WAIT, button, find_button};
use crate::support::world::{MEND_KEY, World};

/// The bot, running, and its `/healthz` with a short stall bound.
struct Served {
    sim: Sim,
    fixture: Fixture,
    engine: mend::engine::Engine,
    wake: Arc<tokio::sync::Notify>,
    addr: SocketAddr,
    worker: tokio::task::JoinHandle<()>,
    shards: Arc<serenity::all::ShardManager>,
}

impl Served {
    async fn start(sim: SimConfig, stall: Duration) -> Served {
        let sim = Sim::start(sim).await.expect("the local Discord starts");
        let fixture = Fixture::new();
        let ca = fixture.dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        let engine = fixture.engine(crate::support::bot::settings()).await;
        let config = BotConfig {
            token: Secret::new(sim.token()),
            guild_id: Some(sim.guild_id()),
            api_addr: Some(sim.https_addr()),
            extra_root_cert: Some(ca),
            http_timeout: Duration::from_secs(10),
            shards: None,
            settings: crate::support::bot::bot_settings(),
        };
        let mut bot = mend::discord::build(config, engine.clone()).await.expect("the bot builds");
        let worker = bot.start_worker();
        let shards = bot.client.shard_manager.clone();
        let probe = mend::http::Probe {
            engine: engine.clone(),
            shards: shards.clone(),
            pulse: bot.worker.pulse(),
            stall,
            metrics: None,
        };
        let addr = mend::http::serve("127.0.0.1:0".parse().unwrap(), probe).await.unwrap();
        let wake = bot.wake.clone();
        tokio::spawn(async move {
            let _ = mend::discord::run(&mut bot).await;
        });
        sim.wait_for_bot_ready(WAIT).await.expect("the bot connects");
        Served { sim, fixture, engine, wake, addr, worker, shards }
    }

    async fn wait_health(&self, want: u16, words: &str) -> String {
        wait_health(self.addr, want, words).await
    }

    async fn stop(self) {
        self.worker.abort();
        self.shards.shutdown_all().await;
        self.sim.shutdown();
    }
}

/// GET `/healthz`: its status and body.
async fn health(addr: SocketAddr) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}/healthz")).await.expect("/healthz answers");
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Asks `/healthz` until it answers `want` with `words` in its body. serenity
/// may take ~10 s to report a shard gone (see below): 20 s, for a loaded machine.
async fn wait_health(addr: SocketAddr, want: u16, words: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = health(addr).await;
        if status == want && body.contains(words) {
            return body;
        }
        assert!(Instant::now() < deadline, "/healthz still {status} {body:?}, not {want} with {words:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_ok_while_running_and_503_when_the_gateway_is_gone() {
    // Discord's own heartbeat interval: serenity 0.12.5 notices a socket gone
    // through a failed heartbeat too, but then keeps reporting the shard as
    // connected while its restart waits on itself (up to ~10 s); the close
    // frame is what this test is about.
    let sim = SimConfig { heartbeat_interval_ms: 41_250, ..SimConfig::for_tests() };
    let served = Served::start(sim, Duration::from_secs(60)).await;
    assert_eq!(served.wait_health(200, "ok").await, "ok\n");
    // Discord goes away and stays away.
    served.sim.shutdown();
    let body = served.wait_health(503, "the Discord gateway is not connected").await;
    assert!(!body.contains("scheduler") && !body.contains("database"), "only the gateway: {body}");
    // No shutdown_all: with Discord gone, serenity would wait 5 s for its shard.
    served.worker.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_503_while_a_scheduler_step_does_not_return() {
    let served = Served::start(SimConfig::for_tests(), Duration::from_secs(1)).await;
    served.wait_health(200, "ok").await;
    // A couple whose prompt is due tomorrow morning: a step then has to write.
    let (alex, sam) = (served.sim.user("alex"), served.sim.user("sam"));
    let partners = [(&alex, "Alex"), (&sam, "Sam")].map(|(u, name)| Partner {
        name: name.into(),
        role: Role::Drifted,
        external_id: Some(u.id().to_string()),
    });
    let couple = served.engine.create_couple(NewCouple { tz: "UTC".into(), partners }).await.unwrap();
    served.engine.set_schedule(couple, ScheduleKind::Prompt, "daily 08:30", Some("UTC")).await.unwrap();
    // Another process holds the database's write lock, and the prompt falls
    // due: the step that claims it waits on the lock.
    let mut holder = sqlx::SqliteConnection::connect(&served.fixture.url()).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    served.fixture.clock.advance(chrono::Duration::days(1));
    served.wake.notify_one();
    let body = served.wait_health(503, "a scheduler step has been running for").await;
    assert!(body.contains("the database did not take a write"), "{body}");
    assert!(!body.contains("gateway"), "{body}");
    // The lock goes: the step ends, and mend is well again.
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    served.wait_health(200, "ok").await;
    served.stop().await;
}

/// One sample line of a Prometheus text body: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// Every sample line of a Prometheus text body.
fn samples(body: &str) -> Vec<Sample> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {l}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let labels = rest.trim_end_matches('}');
                    let pairs = labels
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once('=').unwrap_or_else(|| panic!("not a label: {p}"));
                            (k.to_string(), v.trim_matches('"').to_string())
                        })
                        .collect();
                    (name.to_string(), pairs)
                }
                None => (series.to_string(), Vec::new()),
            };
            (name, labels, value.parse().unwrap_or_else(|_| panic!("not a value: {l}")))
        })
        .collect()
}

fn value(body: &str, name: &str, label: Option<(&str, &str)>) -> f64 {
    samples(body)
        .into_iter()
        .filter(|(n, labels, _)| {
            n == name && label.is_none_or(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|s| s.2)
        .sum()
}

async fn scrape(addr: SocketAddr) -> String {
    let r = reqwest::get(format!("http://{addr}/metrics")).await.expect("/metrics answers");
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_prompt_sent_and_answered_and_no_label_is_personal() {
    let mut world = World::start(1, None).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    world.create_couples(1, &mut rng).await;
    world.schedule_in_the_past().await;
    let log = world.fixture.dir.path().join("run.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mend"))
        .arg("run")
        .env_clear()
        .env("DISCORD_TOKEN", world.sim.token())
        .env("DISCORD_API_ADDR", world.sim.https_addr().to_string())
        .env("DISCORD_EXTRA_ROOT_CERT", &world.ca)
        .env("DISCORD_GUILD_ID", world.sim.guild_id().to_string())
        .env("DATABASE_URL", &world.url)
        .env("MEND_KEYSTORE", world.fixture.keystore_url())
        .env("MEND_KEY", MEND_KEY)
        .env("MEND_HTTP_ADDR", "127.0.0.1:0")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _kill = Kill(&mut child);
    let marker = "serving /healthz and /metrics on http://";
    let deadline = Instant::now() + WAIT;
    let addr: SocketAddr = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find_map(|l| l.split_once(marker)) {
            break line.1.trim().parse().unwrap();
        }
        assert!(Instant::now() < deadline, "mend did not say where it serves:\n{text}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let before = scrape(addr).await;
    assert!(before.contains("# TYPE mend_outbox_pending gauge"), "{before}");

    world.wait_all_sent(WAIT).await;
    let couple = &world.couples[0];
    let prompt = world.prompts_in(couple).remove(0);
    let sent = scrape(addr).await;
    assert_eq!(value(&sent, "mend_posted_total", Some(("kind", "prompt"))), 1.0, "{sent}");
    assert!(value(&sent, "mend_discord_responses_total", Some(("class", "2xx"))) >= 1.0, "{sent}");
    assert_eq!(value(&sent, "mend_answers_total", None), 0.0, "{sent}");

    // Both answer, each the way the prompt asks.
    let words = ["zebra-lantern-metrics", "quokka-harbour-metrics"];
    for (user, words) in couple.users.iter().zip(words) {
        let (on, answer) = match find_button(&prompt, "Read mine") {
            Some(mine) => {
                let ix = user.click(prompt.id, &mine).unwrap();
                let own = user.wait_for_response(ix, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
                let b = find_button(&own, "Answer").unwrap_or_else(|| button(&own, "Done"));
                (own.id, b)
            }
            None => (prompt.id, find_button(&prompt, "Answer").unwrap_or_else(|| button(&prompt, "Done"))),
        };
        let ix = user.click(on, &answer).unwrap();
        user.wait_for_modal(ix, WAIT).await.unwrap();
        let submit = user.submit_modal(ix, &[("answer", words)], WAIT).await.unwrap();
        user.wait_for_response(submit, |m| !m.loading && !m.content.is_empty(), WAIT).await.unwrap();
    }
    let answered = scrape(addr).await;
    assert_eq!(value(&answered, "mend_answers_total", None), 2.0, "{answered}");
    assert!(value(&answered, "mend_scheduler_step_seconds_count", None) >= 1.0, "{answered}");
    assert!(answered.contains("mend_outbox_oldest_pending_seconds"), "{answered}");

    // Nothing personal in any label, nor anywhere in the body.
    let allowed_keys = ["kind", "class", "le"];
    let allowed_values = [
        "prompt",
        "reveal",
        "nudge",
        "reflection",
        "notice",
        "shared",
        "journal",
        "action",
        "2xx",
        "429",
        "4xx",
        "5xx",
        "none",
    ];
    for (name, labels, _) in samples(&answered) {
        assert!(name.starts_with("mend_"), "{name}");
        for (k, v) in labels {
            assert!(allowed_keys.contains(&k.as_str()), "label {k} on {name}");
            assert!(
                allowed_values.contains(&v.as_str()) || (k == "le" && (v == "+Inf" || v.parse::<f64>().is_ok())),
                "label {k}={v} on {name}"
            );
        }
    }
    let mut personal: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    personal.extend(couple.users.iter().flat_map(|u| [u.id().to_string(), u.name().to_string()]));
    personal.extend(couple.names.iter().cloned());
    personal.push(couple.channel().to_string());
    personal.push(world.sim.guild_id().to_string());
    for p in &personal {
        assert!(!answered.contains(p.as_str()), "{p:?} in /metrics:\n{answered}");
    }
}
