//! The real `mend run` process, started, killed (SIGKILL), stopped (SIGTERM)
//! and started again on the fixture's database, against the project's local
//! Discord; and the world it serves, seeded through the engine before mend
//! starts and read back through it afterwards.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Timelike, Utc};
use discord_sim::{GuildSpec, MessageView, Sim, SimConfig, SimUser};
use mend::clock::{Clock, ManualClock, SystemClock};
use mend::core::entities::{CoupleId, Delivery, Home, Partner, Status};
use mend::core::model::{Role, ScheduleKind, Slot};
use mend::core::outbox::ItemKind;
use mend::core::prompts::Library;
use mend::crypto::{Cipher, Key};
use mend::engine::{Engine, NewCouple, Settings};

use super::Fixture;
use rand::Rng;
use rand::rngs::StdRng;

/// The key answers are encrypted with at rest (`MEND_KEY`, 64 hex characters).
pub const MEND_KEY: &str = "4d454e442d43524153482d54455354530123456789abcdef0011223344556677";

/// The line mend logs once its commands are registered and its scheduler runs.
const CONNECTED: &str = "mend is connected";

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A random duration in `[lo, hi)` milliseconds.
pub fn between(rng: &mut StdRng, lo: u64, hi: u64) -> Duration {
    ms(rng.random_range(lo..hi))
}

pub async fn sleep_until(t: Instant) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await;
}

/// Sleeps until a wall-clock instant (mend runs on the system clock).
pub async fn sleep_until_utc(t: DateTime<Utc>) {
    if let Ok(d) = (t - Utc::now()).to_std() {
        tokio::time::sleep(d).await;
    }
}

/// The first whole minute at least `lead` from `now`.
pub fn minute_boundary_after(now: DateTime<Utc>, lead: Duration) -> DateTime<Utc> {
    let earliest = now.timestamp() + lead.as_secs() as i64;
    let minute = (earliest + 59).div_euclid(60) * 60;
    Utc.timestamp_opt(minute, 0).unwrap()
}

/// A crontab line firing every day at `at`'s hour and minute (UTC).
pub fn daily_at(at: DateTime<Utc>) -> String {
    format!("{} {} * * *", at.minute(), at.hour())
}

/// One seeded couple: where mend meets it in the local Discord, and its two
/// users there.
pub struct Couple {
    pub index: usize,
    pub id: CoupleId,
    pub place: Place,
    pub names: [String; 2],
    pub users: [SimUser; 2],
}

/// Where a couple meets mend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A text channel of theirs in a server.
    Channel { guild: u64, channel: u64 },
    /// Each partner's direct messages with the bot (partner A's, partner B's).
    Dms([u64; 2]),
}

impl Couple {
    /// The couple's channel; a couple in DMs has none.
    pub fn channel(&self) -> u64 {
        match self.place {
            Place::Channel { channel, .. } => channel,
            Place::Dms(_) => panic!("couple {} lives in DMs, not in a channel", self.index),
        }
    }

    pub fn in_dms(&self) -> bool {
        matches!(self.place, Place::Dms(_))
    }

    /// Where each copy of a prompt goes: (slot, channel, someone who reads it
    /// there); the slot is `None` for the couple's channel, as mend records it.
    fn copies(&self) -> Vec<(Option<Slot>, u64, &SimUser)> {
        match self.place {
            Place::Channel { channel, .. } => vec![(None, channel, &self.users[0])],
            Place::Dms(dms) => Slot::BOTH.iter().map(|&s| (Some(s), dms[s.index()], &self.users[s.index()])).collect(),
        }
    }
}

/// How a world's couples are laid out: over how many servers (couple `i` is
/// in server `i % servers`, the seeded one first), and which of them meet
/// mend in direct messages rather than in a channel of theirs.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub servers: usize,
    /// Couple `i` lives in DMs when `i % dm_every == dm_every - 1` (0: none
    /// does). Its partners are still members of its server: Discord lets a bot
    /// write only to users it shares a server with.
    pub dm_every: usize,
}

impl Layout {
    /// Every couple in a channel of the one seeded server.
    pub const ONE_SERVER: Layout = Layout { servers: 1, dm_every: 0 };

    fn server_of(&self, couple: usize) -> usize {
        couple % self.servers
    }

    fn in_dms(&self, couple: usize) -> bool {
        self.dm_every > 0 && couple % self.dm_every == self.dm_every - 1
    }
}

/// The local Discord, a database in a temporary directory, and the couples
/// seeded in it.
pub struct World {
    pub sim: Sim,
    pub fixture: Fixture,
    pub url: String,
    pub ca: PathBuf,
    pub library: Arc<Library>,
    /// The cipher of `MEND_KEY`, the key mend is started with.
    pub cipher: Cipher,
    /// Reads (and seeds) the database through the library, on the system clock.
    pub engine: Engine,
    pub couples: Vec<Couple>,
    pub bot: u64,
    pub layout: Layout,
}

/// What was where at one moment: the database and what the couples see.
#[derive(Clone)]
pub struct Snapshot {
    pub label: String,
    /// Deliveries recorded as sent.
    pub sent: usize,
    pub pending: usize,
    /// Couples who can see their prompt in their channel.
    pub visible: usize,
    /// Prompts posted but not (yet) recorded as sent: what the nonce protects.
    pub posted_unrecorded: usize,
    /// Prompts recorded as sent that nobody can see: never allowed.
    pub recorded_unseen: usize,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} visible, {} sent, {} pending, {} posted but unrecorded, {} recorded but unseen",
            self.label, self.visible, self.sent, self.pending, self.posted_unrecorded, self.recorded_unseen
        )
    }
}

impl World {
    /// The local Discord with one server, one text channel per couple and two
    /// members per couple; `global_per_second` overrides its global REST limit
    /// (50/s).
    pub async fn start(couples: usize, global_per_second: Option<u32>) -> World {
        World::start_laid_out(couples, global_per_second, Layout::ONE_SERVER).await
    }

    /// The local Discord with `layout.servers` servers, couples spread over
    /// them as `layout` says: two members per couple in its server, and a text
    /// channel there unless it lives in DMs.
    pub async fn start_laid_out(couples: usize, global_per_second: Option<u32>, layout: Layout) -> World {
        assert!(layout.servers >= 1, "a world has at least the seeded server");
        let members_of = |server: usize| -> Vec<String> {
            (0..couples)
                .filter(|&i| layout.server_of(i) == server)
                .flat_map(|i| [format!("a{i}"), format!("b{i}")])
                .collect()
        };
        let channels_of = |server: usize| -> Vec<String> {
            (0..couples)
                .filter(|&i| layout.server_of(i) == server && !layout.in_dms(i))
                .map(|i| format!("c{i}"))
                .collect()
        };
        let mut config = SimConfig::for_tests();
        config.world.channels = std::iter::once("general".to_string()).chain(channels_of(0)).collect();
        config.world.members = members_of(0);
        config.world.more_guilds = (1..layout.servers)
            .map(|k| GuildSpec {
                name: format!("Server {k}"),
                members: members_of(k),
                channels: std::iter::once(format!("lobby-{k}")).chain(channels_of(k)).collect(),
            })
            .collect();
        if let Some(limit) = global_per_second {
            config.rate_limits.global_per_second = Some(limit);
        }
        let sim = Sim::start(config).await.expect("the local Discord starts");
        let fixture = Fixture::with_key(Key::from_hex(MEND_KEY).expect("a well-formed key"));
        let ca = fixture.dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        let (url, cipher, library) = (fixture.url(), fixture.cipher(), fixture.library.clone());
        // Reads (and seeds) the database as mend runs: on the system clock.
        let engine = fixture.engine_on(Arc::new(SystemClock), Settings::default()).await;
        let bot = sim.bot_user_id();
        World { sim, fixture, url, ca, library, cipher, engine, couples: Vec::new(), bot, layout }
    }

    /// An engine on the same database with its own clock, for seeding.
    pub async fn engine_at(&self, clock: Arc<dyn Clock>) -> Engine {
        self.fixture.engine_on(clock, Settings::default()).await
    }

    /// A pool of the test's own on mend's database (to hold its write lock, or
    /// look at what is stored).
    pub async fn db(&self) -> mend::store::Pool {
        self.fixture.db().await
    }

    /// Creates the couples, couple `i`'s partners being the users `a{i}` and
    /// `b{i}` of its server, with seeded roles (so prompts of every kind come up), and sets each
    /// couple's home: its channel, or DMs as the layout says (mend having
    /// written to them before, it knows their DM channels). No schedule yet.
    pub async fn create_couples(&mut self, n: usize, rng: &mut StdRng) {
        let roles = [[Role::Hurt, Role::Repairing], [Role::Drifted, Role::Drifted], [Role::Unsaid, Role::Unsaid]];
        let guilds = self.sim.world().guilds;
        for i in 0..n {
            let users = [self.sim.user(&format!("a{i}")), self.sim.user(&format!("b{i}"))];
            let names = [format!("A{i}"), format!("B{i}")];
            let role = roles[rng.random_range(0..roles.len())];
            let partners = [0, 1].map(|s| Partner {
                name: names[s].clone(),
                role: role[s],
                external_id: Some(users[s].id().to_string()),
            });
            let id = self.engine.create_couple(NewCouple { tz: "UTC".into(), partners }).await.unwrap();
            let place = if self.layout.in_dms(i) {
                let dms = users.clone().map(|u| u.dm_channel().expect("partners share a server with the bot"));
                for (u, dm) in users.iter().zip(dms) {
                    self.engine.remember_dm_channel(u.id(), dm).await.unwrap();
                }
                Place::Dms(dms)
            } else {
                let guild = guilds[self.layout.server_of(i)].1;
                Place::Channel { guild, channel: self.sim.channel_id(&format!("c{i}")) }
            };
            let (guild_id, channel_id) = match place {
                Place::Channel { guild, channel } => (Some(guild), Some(channel)),
                Place::Dms(_) => (None, None),
            };
            self.engine.set_home(&Home { couple_id: id, guild_id, channel_id }).await.unwrap();
            self.couples.push(Couple { index: i, id, place, names, users });
        }
    }

    /// Gives every couple the same daily prompt schedule, set at `now` by
    /// `seeder`'s clock (it first fires strictly after that).
    pub async fn schedule_all(&self, seeder: &Engine, spec: &str) {
        for c in &self.couples {
            seeder.set_schedule(c.id, ScheduleKind::Prompt, spec, Some("UTC")).await.unwrap();
        }
    }

    /// Schedules every couple's prompt as if it had been set two minutes ago:
    /// its first occurrence (returned) is a minute boundary already past, due
    /// the moment mend looks, well within the grace window. No waiting for a
    /// real minute boundary.
    pub async fn schedule_in_the_past(&self) -> DateTime<Utc> {
        let then = Utc::now() - chrono::Duration::seconds(120);
        let fire = minute_boundary_after(then + chrono::Duration::seconds(1), Duration::ZERO);
        let seeder = self.engine_at(Arc::new(ManualClock::new(then))).await;
        self.schedule_all(&seeder, &daily_at(fire)).await;
        fire
    }

    /// The prompts (bot messages with an embed) a couple sees in its channel;
    /// for a couple in DMs, partner A's and then partner B's.
    pub fn prompts_in(&self, c: &Couple) -> Vec<MessageView> {
        self.prompt_copies(c).concat()
    }

    /// The prompts of each copy's place (the channel; or each partner's DMs).
    fn prompt_copies(&self, c: &Couple) -> Vec<Vec<MessageView>> {
        c.copies()
            .into_iter()
            .map(|(_, channel, user)| {
                self.bot_messages(user, channel).into_iter().filter(|m| !m.embeds.is_empty()).collect()
            })
            .collect()
    }

    /// Whether a couple sees a prompt wherever it should (in DMs: both partners).
    fn sees_prompt(&self, c: &Couple) -> bool {
        self.prompt_copies(c).iter().all(|p| !p.is_empty())
    }

    /// Messages from the bot in a channel or thread, as `user` sees them.
    pub fn bot_messages(&self, user: &SimUser, channel: u64) -> Vec<MessageView> {
        user.messages_in(channel)
            .unwrap_or_else(|e| panic!("{} cannot read channel {channel}: {e}", user.name()))
            .into_iter()
            .filter(|m| m.author_id == self.bot)
            .collect()
    }

    /// How many couples see a prompt wherever it goes (in DMs: both partners).
    pub fn visible_prompts(&self) -> usize {
        self.couples.iter().filter(|c| self.sees_prompt(c)).count()
    }

    pub async fn deliveries(&self, c: &Couple) -> Vec<Delivery> {
        self.engine.deliveries_of(c.id).await.unwrap()
    }

    pub async fn pending(&self) -> usize {
        self.engine.prompts_waiting().await.unwrap() as usize
    }

    pub async fn snapshot(&self, label: impl Into<String>) -> Snapshot {
        let mut s =
            Snapshot { label: label.into(), sent: 0, pending: 0, visible: 0, posted_unrecorded: 0, recorded_unseen: 0 };
        for c in &self.couples {
            let copies = self.prompt_copies(c);
            let seen = copies.iter().all(|p| !p.is_empty());
            let some_seen = copies.iter().any(|p| !p.is_empty());
            let deliveries = self.deliveries(c).await;
            let sent = deliveries.iter().any(|d| d.status == Status::Sent);
            let pending = deliveries.iter().any(|d| d.status == Status::Pending);
            s.visible += seen as usize;
            s.sent += sent as usize;
            s.pending += pending as usize;
            s.posted_unrecorded += (some_seen && !sent) as usize;
            s.recorded_unseen += (sent && !seen) as usize;
        }
        s
    }

    /// Waits until nothing is pending and every couple sees a prompt.
    pub async fn wait_all_sent(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.pending().await == 0 && self.visible_prompts() == self.couples.len() {
                return;
            }
            if Instant::now() > deadline {
                let mut waiting = Vec::new();
                for c in &self.couples {
                    if self.deliveries(c).await.iter().any(|d| d.status == Status::Pending) {
                        waiting.extend(self.engine.outbox_of(c.id).await.unwrap());
                    }
                    if waiting.len() >= 3 {
                        break;
                    }
                }
                let leases: Vec<(i64, Option<String>, Option<i64>)> = sqlx::query_as(
                    "SELECT id, lease_owner, lease_until FROM outbox WHERE status = 'pending' AND kind = 'prompt' LIMIT 5",
                )
                .fetch_all(&self.db().await)
                .await
                .unwrap();
                let last =
                    (1..100).rev().map(|n| self.fixture.dir.path().join(format!("mend-{n}.log"))).find(|p| p.exists());
                let log = last.map(|p| tail(&p, 30)).unwrap_or_default();
                panic!(
                    "prompts still unsent after {timeout:?}: {:?}\nat {}, outbox items of couples still waiting: {waiting:?}\nleases: {leases:?}\n{log}",
                    self.snapshot("timeout").await,
                    Utc::now().timestamp()
                );
            }
            tokio::time::sleep(ms(100)).await;
        }
    }

    /// Every couple sees exactly one prompt for the occurrence `fire`, and the
    /// database holds exactly one delivery for it, sent, pointing at that very
    /// message, which was posted with the delivery's nonce.
    pub async fn assert_one_prompt_each(&self, fire: DateTime<Utc>) {
        let mut doubled = Vec::new();
        let mut missing = Vec::new();
        for c in &self.couples {
            let copies = self.prompt_copies(c);
            if copies.iter().any(|p| p.is_empty()) {
                missing.push(c.index);
            }
            if copies.iter().any(|p| p.len() > 1) {
                doubled.push((c.index, copies.concat().iter().map(|m| (m.id, m.nonce.clone())).collect::<Vec<_>>()));
            }
        }
        assert!(missing.is_empty(), "couples that never saw their prompt: {missing:?}");
        assert!(
            doubled.is_empty(),
            "couples that saw their prompt more than once (couple, [(message, nonce)]): {doubled:?}"
        );
        for c in &self.couples {
            let ds = self.deliveries(c).await;
            assert_eq!(ds.len(), 1, "couple {}: one delivery row per (couple, occurrence), got {ds:?}", c.index);
            let d = &ds[0];
            assert_eq!(
                d.occurrence,
                fire.timestamp(),
                "couple {}: the delivery is for the occurrence that fired",
                c.index
            );
            assert_eq!(d.status, Status::Sent, "couple {}: {d:?}", c.index);
            // One copy in the channel, or one in each partner's DMs.
            let prompts = self.prompts_in(c);
            assert_eq!(d.message_ref.as_deref(), Some(prompts[0].id.to_string().as_str()), "couple {}: {d:?}", c.index);
            let items = self.engine.outbox_of(c.id).await.unwrap();
            let item = items.iter().find(|i| i.kind == ItemKind::Prompt && i.delivery_id == Some(d.id)).unwrap();
            let copies = c.copies();
            for ((slot, _, _), prompt) in copies.iter().zip(&prompts) {
                let part = slot.map_or("c".to_string(), |s| format!("d{}", s.index()));
                assert_eq!(prompt.nonce, Some(serde_json::json!(format!("o{}{part}", item.id))), "couple {}", c.index);
            }
            let links = self.engine.prompt_messages(d.id).await.unwrap();
            let posted: Vec<_> =
                copies.iter().zip(&prompts).map(|((slot, channel, _), m)| (*slot, *channel, m.id)).collect();
            assert_eq!(links, posted, "couple {}: where the prompt was posted", c.index);
        }
        assert_eq!(self.pending().await, 0, "nothing left pending");
    }
}

/// The real `mend run`, as a child process on the world's database.
pub struct Mend {
    /// Its logs are `<name>-<start>.log` in the world's directory.
    name: String,
    env: Vec<(String, String)>,
    dir: PathBuf,
    child: Option<Child>,
    log: PathBuf,
    pub starts: usize,
    pub kills: usize,
    pub terms: usize,
}

impl Mend {
    pub fn new(world: &World) -> Mend {
        let env = [
            ("DISCORD_TOKEN", world.sim.token().to_string()),
            ("DISCORD_API_ADDR", world.sim.https_addr().to_string()),
            ("DISCORD_EXTRA_ROOT_CERT", world.ca.display().to_string()),
            ("DISCORD_GUILD_ID", world.sim.guild_id().to_string()),
            ("DATABASE_URL", world.url.clone()),
            ("MEND_KEYSTORE", world.fixture.keystore_url()),
            ("MEND_KEY", MEND_KEY.to_string()),
            ("MEND_LOG", std::env::var("MEND_TEST_LOG").unwrap_or_else(|_| "info".to_string())),
            // What a killed process held is taken again soon after a restart.
            ("MEND_OUTBOX_LEASE_SECONDS", "2".to_string()),
            // A post that failed (a 429 at the global limit) is tried again soon.
            ("MEND_RETRY_BASE_SECONDS", "1".to_string()),
            ("NO_COLOR", "1".to_string()),
        ];
        Mend {
            name: "mend".to_string(),
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            dir: world.fixture.dir.path().to_path_buf(),
            child: None,
            log: PathBuf::new(),
            starts: 0,
            kills: 0,
            terms: 0,
        }
    }

    /// Another `mend run` on the same world, with logs of its own and
    /// `vars` added to its environment (several processes on one database).
    pub fn another(world: &World, name: &str, vars: &[(&str, &str)]) -> Mend {
        let mut mend = Mend::new(world);
        mend.name = name.to_string();
        mend.env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        mend
    }

    /// Starts mend (again); its output goes to a log file of its own.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "mend is already running");
        self.starts += 1;
        self.log = self.dir.join(format!("{}-{}.log", self.name, self.starts));
        let out = std::fs::File::create(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mend"))
            .arg("run")
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("mend starts");
        self.child = Some(child);
    }

    /// Whether this mend has been started and not killed or stopped.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("mend is running").id()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("mend is running");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mend had already exited ({status}) before it was killed:\n{}", tail(&self.log, 40));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        self.kills += 1;
    }

    /// SIGTERM, then waits at most `bound` for mend to exit on its own. Returns
    /// how long it took and its exit status (`None`: still running; it is then
    /// killed).
    pub async fn terminate(&mut self, bound: Duration) -> (Duration, Option<ExitStatus>) {
        let mut child = self.child.take().expect("mend is running");
        let asked = Instant::now();
        let sent = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        assert!(sent.success(), "kill -TERM failed");
        self.terms += 1;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (asked.elapsed(), Some(status));
            }
            if asked.elapsed() > bound {
                child.kill().unwrap();
                child.wait().unwrap();
                return (asked.elapsed(), None);
            }
            tokio::time::sleep(ms(20)).await;
        }
    }

    /// Waits until this run of mend has connected, registered its commands and
    /// started its scheduler.
    pub async fn wait_connected(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log_text().contains(CONNECTED) {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("mend exited ({status}) while starting:\n{}", tail(&self.log, 40));
            }
            assert!(Instant::now() < deadline, "mend did not connect within {timeout:?}:\n{}", tail(&self.log, 40));
            tokio::time::sleep(ms(25)).await;
        }
    }

    /// The log of the current (or last) run.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Warnings and errors of every run so far, for the report.
    pub fn problems(&self) -> Vec<String> {
        (1..=self.starts)
            .flat_map(|n| {
                let text = std::fs::read_to_string(self.dir.join(format!("{}-{n}.log", self.name))).unwrap_or_default();
                text.lines()
                    .filter(|l| l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("panicked"))
                    .map(|l| format!("run {n}: {l}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

impl Drop for Mend {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() && self.starts > 0 {
            eprintln!("--- the last lines of mend's last run ({}):\n{}", self.log.display(), tail(&self.log, 60));
            for p in self.problems().iter().take(60) {
                eprintln!("{p}");
            }
        }
    }
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
