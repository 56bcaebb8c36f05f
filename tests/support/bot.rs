//! The real serenity + poise bot, over real sockets, to the project's local
//! Discord (`discord-sim`), on the fixture's SQLite file, with a clock the test
//! moves and a worker the test can step.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use discord_sim::{MessageView, Sim, SimConfig, SimUser};
use mend::clock::{Clock, ManualClock};
use mend::discord::{BotConfig, BotSettings, Secret};
use mend::engine::{Engine, Settings};

use super::Fixture;
use tokio::sync::{Notify, watch};

pub const WAIT: Duration = Duration::from_secs(10);

thread_local! {
    /// How long the bot lets one request to Discord take; a test of timeouts
    /// shortens it before starting the bot.
    pub static HTTP_TIMEOUT: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::from_secs(10)) };
}

pub struct TestBot {
    pub sim: Sim,
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub wake: Arc<Notify>,
    pub unreadable: Arc<AtomicUsize>,
    /// Finished worker steps, counted.
    steps: watch::Receiver<u64>,
    worker: tokio::task::JoinHandle<()>,
    shards: Arc<serenity::all::ShardManager>,
    fixture: Fixture,
}

/// How the host set mend up for these tests.
pub fn settings() -> Settings {
    Settings {
        default_tz: "Europe/Paris".into(),
        default_schedule: "daily 08:30".into(),
        default_reflection: "sun 19:00".into(),
        nudge_after: chrono::Duration::hours(6),
        // A failed post is tried again a second later on the test's clock.
        retry_base: chrono::Duration::seconds(1),
        ..Settings::default()
    }
}

/// The local Discord for tests of what people live through: its per-route
/// buckets roomier than Discord's 5 per 5 seconds, so a day's few messages to
/// one channel are not paced seconds apart. Rate limits themselves, at
/// Discord's numbers and worse, are what `outages.rs` and the crash suite test.
fn roomy() -> SimConfig {
    let mut config = SimConfig::for_tests();
    config.rate_limits.default_bucket.limit = 50;
    config
}

pub fn bot_settings() -> BotSettings {
    BotSettings { referral: Some("Dr. Rivera, 555-0100".into()) }
}

impl TestBot {
    /// Commands registered in the test server only.
    pub async fn start() -> TestBot {
        Self::start_with(roomy(), settings(), true).await
    }

    /// Commands registered globally, so they also work in DMs.
    pub async fn start_global() -> TestBot {
        Self::start_with(roomy(), settings(), false).await
    }

    pub async fn start_with(sim_config: SimConfig, settings: Settings, in_guild: bool) -> TestBot {
        let _ = tracing_subscriber::fmt().with_env_filter("mend=debug,warn").with_test_writer().try_init();
        let sim = Sim::start(sim_config).await.expect("the local Discord starts");
        let fixture = Fixture::new();
        let ca = fixture.dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        let clock = fixture.clock.clone();
        let engine = fixture.engine(settings).await;
        let config = BotConfig {
            token: Secret::new(sim.token()),
            guild_id: in_guild.then(|| sim.guild_id()),
            api_addr: Some(sim.https_addr()),
            extra_root_cert: Some(ca),
            http_timeout: HTTP_TIMEOUT.with(|t| t.get()),
            shards: None,
            settings: bot_settings(),
        };
        let mut bot = mend::discord::build(config, engine.clone()).await.expect("the bot builds");
        let worker = bot.start_worker();
        let steps = bot.worker.steps();
        let wake = bot.wake.clone();
        let unreadable = bot.unreadable_events.clone();
        let shards = bot.client.shard_manager.clone();
        tokio::spawn(async move {
            if let Err(e) = mend::discord::run(&mut bot).await {
                panic!("the bot stopped: {e}");
            }
        });
        sim.wait_for_bot_ready(WAIT).await.expect("the bot connects");
        sim.wait_for_command("couple", WAIT).await.expect("commands are registered");
        TestBot { sim, engine, clock, wake, unreadable, steps, worker, shards, fixture }
    }

    pub fn user(&self, name: &str) -> SimUser {
        self.sim.user(name)
    }

    pub fn general(&self) -> u64 {
        self.sim.channel_id("general")
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves mend's clock and lets the scheduler look.
    pub fn set_time(&self, to: &str) {
        self.clock.set(DateTime::parse_from_rfc3339(to).unwrap().with_timezone(&Utc));
        self.wake.notify_one();
    }

    /// Moves mend's clock on (past a retry's backoff, say) and lets the worker look.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
        self.wake.notify_one();
    }

    /// Wakes the worker and waits for a whole step that began after this call
    /// (a step already running when it is called does not count).
    pub async fn step(&self) {
        let mut steps = self.steps.clone();
        let start = *steps.borrow_and_update();
        for target in [start + 1, start + 2] {
            self.wake.notify_one();
            tokio::time::timeout(WAIT, steps.wait_for(|n| *n >= target))
                .await
                .expect("the worker took a step")
                .expect("the worker is running");
        }
    }

    /// Runs worker steps until nothing is due now: every claimed prompt, notice,
    /// reveal and reflection due by the test's clock has been posted or given up.
    pub async fn settle(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.step().await;
            match self.engine.next_due().await.unwrap() {
                Some(t) if t <= self.now() => {}
                _ => return,
            }
            assert!(tokio::time::Instant::now() < deadline, "work still due after {WAIT:?}");
        }
    }

    /// Everything SQLite has on disk for mend's database (to search its bytes).
    pub fn on_disk(&self) -> Vec<u8> {
        self.fixture.on_disk()
    }

    /// A pool of the test's own on mend's database, to look at what is stored.
    pub async fn db(&self) -> mend::store::Pool {
        self.fixture.db().await
    }

    /// Alex runs `/couple start` in #general (the reply only Alex sees) and the
    /// invitation reaches Sam privately; returns it, from Sam's DMs.
    pub async fn invite(&self, a: &str, b: &str) -> MessageView {
        let (alex, sam) = (self.user(a), self.user(b));
        let ix = alex.slash(self.general(), "couple start", serde_json::json!({"partner": sam.id()})).unwrap();
        let reply = alex.wait_for_response(ix, |m| m.content.contains("invitation privately"), WAIT).await.unwrap();
        assert!(reply.ephemeral, "only the one inviting sees that they invited");
        self.settle().await;
        sam.wait_for_dm(|m| m.content.contains("would like to use mend"), WAIT).await.unwrap()
    }

    /// Alex invites Sam, Sam accepts, and each takes the private safety check
    /// (answering safe); returns the private channel.
    pub async fn pair(&self, a: &str, b: &str) -> u64 {
        let home = self.pair_unchecked(a, b).await;
        for who in [a, b] {
            let user = self.user(who);
            let welcome = user.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
            safety_check(&user, &welcome, SAFE).await;
        }
        self.settle().await;
        home
    }

    /// Alex invites Sam and Sam accepts, in their DMs; returns the private
    /// channel, where the welcome waits for each one's safety check.
    pub async fn pair_unchecked(&self, a: &str, b: &str) -> u64 {
        let sam = self.user(b);
        let invitation = self.invite(a, b).await;
        let accept = button(&invitation, "Accept");
        sam.click(invitation.id, &accept).unwrap();
        let welcome =
            wait_until(|| sam.visible_channels().into_iter().find(|c| c.name.starts_with("mend-")).map(|c| c.id)).await;
        sam.wait_for_message(welcome, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
        welcome
    }

    /// Alex DMs `/couple start`, Sam joins with the code, and each takes the
    /// private safety check from their welcome (answering safe).
    pub async fn pair_in_dms(&self, a: &str, b: &str) {
        let (alex, sam) = (self.user(a), self.user(b));
        let ix = alex.slash_in_dm("couple start", serde_json::json!({})).unwrap();
        let reply = alex.wait_for_response(ix, |m| m.content.contains("pairing code"), WAIT).await.unwrap();
        let start = reply.content.find("**").unwrap() + 2;
        let code = &reply.content[start..start + 8];
        let ix = sam.slash_in_dm("couple join", serde_json::json!({ "code": code })).unwrap();
        let joined = sam.wait_for_response(ix, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
        self.settle().await;
        let welcome = alex.wait_for_dm(|m| m.content.contains("Welcome"), WAIT).await.unwrap();
        safety_check(&sam, &joined, SAFE).await;
        safety_check(&alex, &welcome, SAFE).await;
        self.settle().await;
    }

    /// `Some` once `user` is in no couple (it ended).
    pub fn engine_couple_gone(&self, user: &SimUser) -> Option<()> {
        let found = futures::executor::block_on(self.engine.couple_of(&user.id().to_string())).ok()?;
        found.is_none().then_some(())
    }

    /// Fails the test if serenity could not read anything the local Discord sent.
    pub fn assert_every_event_was_readable(&self) {
        assert_eq!(self.unreadable.load(Ordering::SeqCst), 0, "serenity dropped events it could not parse");
    }

    pub async fn stop(self) {
        self.assert_every_event_was_readable();
        assert!(!self.worker.is_finished(), "the worker is still running");
        self.worker.abort();
        self.shards.shutdown_all().await;
        self.sim.shutdown();
    }
}

/// Answers that tell mend someone feels safe.
pub const SAFE: [&str; 3] = ["No", "No", "Yes"];

/// `user` opens the private questions from the welcome ("Tell mend privately")
/// and answers them, as far as mend asks; returns the last private reply.
pub async fn safety_check(user: &SimUser, welcome: &MessageView, answers: [&str; 3]) -> MessageView {
    let ix = user.click(welcome.id, &button(welcome, "Tell mend privately")).unwrap();
    let first = user.wait_for_response(ix, |m| m.content.contains("1 of 3"), WAIT).await.unwrap();
    assert!(first.ephemeral, "only they see the questions");
    answer_safety(user, first, answers).await
}

/// Answers the safety questions from `question` on, as far as mend asks.
pub async fn answer_safety(user: &SimUser, mut question: MessageView, answers: [&str; 3]) -> MessageView {
    for (n, answer) in answers.iter().enumerate() {
        let asked = format!("{} of 3", n + 1);
        user.click(question.id, &button(&question, answer)).unwrap();
        question = updated(user, question.id, |m| !m.content.contains(&asked)).await;
        if !question.content.contains(&format!("{} of 3", n + 2)) {
            break;
        }
    }
    question
}

/// Waits until the message `id` that `user` sees (a reply only they see, say)
/// was updated to match `pred`.
pub async fn updated(user: &SimUser, id: u64, pred: impl Fn(&MessageView) -> bool) -> MessageView {
    wait_until(|| everything_seen(user).into_iter().find(|m| m.id == id && pred(m))).await
}

/// The custom id of the button labelled `label` on a message.
pub fn button(m: &MessageView, label: &str) -> String {
    find_button(m, label).unwrap_or_else(|| panic!("no button {label:?} on {:?}", m.components))
}

pub fn find_button(m: &MessageView, label: &str) -> Option<String> {
    m.components
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["label"].as_str() == Some(label))
        .and_then(|c| c["custom_id"].as_str().map(str::to_string))
}

/// Every message `user` can see anywhere: their channels and threads, and
/// their DMs (their own ephemeral replies included).
pub fn everything_seen(user: &discord_sim::SimUser) -> Vec<MessageView> {
    let mut all: Vec<MessageView> =
        user.visible_channels().iter().flat_map(|c| user.messages_in(c.id).unwrap_or_default()).collect();
    all.extend(user.dms());
    all
}

/// The embed description of a message, if any.
pub fn embed_text(m: &MessageView) -> String {
    m.embeds.first().and_then(|e| e["description"].as_str()).unwrap_or_default().to_string()
}

/// Polls until `f` gives a value (the local Discord is asynchronous).
pub async fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
