//! Two real `mend run` processes sharing the gateway's shards (`MEND_SHARDS`)
//! on one SQLite file, against a local Discord with four servers (two on each
//! shard) and a couple who meet mend only in direct messages: every command
//! is answered once, by the process whose shard Discord sent it to; the DM
//! one by the process holding shard 0; and only that process registers the
//! commands.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use discord_sim::{GuildSpec, SimConfig};
use mend::core::entities::{Home, Partner};
use mend::core::model::{Role, ScheduleKind};
use mend::engine::{NewCouple, Settings};
use serde_json::json;

use crate::doctor::Host;

const WAIT: Duration = Duration::from_secs(10);

/// One `mend run`, its output in a file.
struct Process {
    child: Child,
    log: std::path::PathBuf,
}

impl Process {
    fn start(host: &Host, shards: &str) -> Process {
        let log =
            host.fixture.dir.path().join(format!("run-{}.log", shards.replace(|c: char| !c.is_ascii_digit(), "")));
        let file = std::fs::File::create(&log).unwrap();
        let child = host
            .mend("run")
            // Commands registered globally: they work in DMs too.
            .env_remove("DISCORD_GUILD_ID")
            .env("MEND_SHARDS", shards)
            .env("MEND_MIN_INTERVAL_MINUTES", "0")
            .env("MEND_LOG", "mend=info,warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("mend starts");
        Process { child, log }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the output holds `needle`; fails at once if mend exits.
    async fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.text().contains(needle) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("mend exited ({status}) before saying {needle:?}:\n{}", self.text());
            }
            assert!(Instant::now() < deadline, "no {needle:?} in what mend said:\n{}", self.text());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Whether this process ran the command of interaction `ix`.
    fn handled(&self, ix: u64) -> bool {
        self.text().lines().any(|l| l.contains(" command ") && l.contains(&format!("interaction={ix} ")))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {}:\n{}", self.log.display(), self.text());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_shards_each_answering_its_own_and_shard_0_the_dms() {
    let began = Instant::now();
    let mut config = SimConfig::for_tests();
    config.world.members.extend(["robin".to_string(), "jo".to_string()]);
    config.world.more_guilds =
        (1..=3).map(|i| GuildSpec::new(&format!("Server {i}"), &["alex"], &[&format!("room-{i}")])).collect();
    let host = Host::start(config).await;
    let sim = &host.sim;
    let shard_of = |guild: u64| (guild >> 22) % 2;
    let guilds = sim.world().guilds;
    for shard in [0, 1] {
        let on = guilds.iter().filter(|(_, g)| shard_of(*g) == shard).count();
        assert_eq!(on, 2, "servers made a millisecond apart alternate between the shards: {guilds:?}");
    }

    // Robin and Jo, a couple in direct messages, paired before mend starts.
    let (robin, jo) = (sim.user("robin"), sim.user("jo"));
    let engine = host.fixture.engine(Settings::default()).await;
    let partners = [("Robin", &robin), ("Jo", &jo)].map(|(name, u)| Partner {
        name: name.into(),
        role: Role::Drifted,
        external_id: Some(u.id().to_string()),
    });
    let couple = engine.create_couple(NewCouple { tz: "UTC".into(), partners }).await.unwrap();
    engine.set_home(&Home { couple_id: couple, guild_id: None, channel_id: None }).await.unwrap();
    engine.set_schedule(couple, ScheduleKind::Prompt, "daily 20:00", Some("UTC")).await.unwrap();
    engine.close().await;

    let mut procs = [Process::start(&host, "0/2"), Process::start(&host, "1 / 2")];
    // Four servers, two on each shard: each process counts its own.
    let me = format!("mend: signed in to Discord as mend ({}), in 2 servers", sim.bot_user_id());
    procs[0].wait_for(&format!("{me} on shard 0 of 2; invite link")).await;
    procs[1].wait_for(&format!("{me} on shard 1 of 2; invite link")).await;
    procs[0].wait_for("mend is connected and its commands are registered").await;
    procs[1].wait_for("mend is connected; the process holding shard 0 registers the commands").await;

    // Each process registers (or not) before its gateway connects: both are
    // connected, so both have done all the registering they will.
    let puts = sim.requests_to("PUT /applications/*/commands");
    assert_eq!(puts.iter().map(|r| r.status).collect::<Vec<_>>(), vec![200], "one global registration");
    assert!(sim.requests_to("PUT /applications/*/guilds/*/commands").is_empty());

    // A command in every server, each answered by the process holding its shard.
    let alex = sim.user("alex");
    let mut asked = vec![];
    let channels = std::iter::once("general".to_string()).chain((1..=3).map(|i| format!("room-{i}")));
    for name in channels {
        let channel = sim.channel_id(&name);
        let guild = sim.channels().into_iter().find(|c| c.id == channel).and_then(|c| c.guild_id).unwrap();
        let ix = alex.slash(channel, "help", json!({})).unwrap();
        let reply = alex.wait_for_response(ix, |m| m.contains("mend is not therapy"), WAIT).await.unwrap();
        assert!(reply.ephemeral, "#{name}");
        answered(&host, ix).await;
        answered_once_by(&host, ix, shard_of(guild), &procs, &format!("/help in #{name}"));
        asked.push(ix);
    }

    // Robin's command in DMs reaches shard 0 only, and reads the shared database.
    let ix = robin.slash_in_dm("schedule show", json!({})).unwrap();
    let reply = robin.wait_for_response(ix, |m| m.contains("Prompts"), WAIT).await.unwrap();
    assert!(reply.contains("daily 20:00"), "{}", reply.content);
    answered(&host, ix).await;
    answered_once_by(&host, ix, 0, &procs, "/schedule show in DMs");
    asked.push(ix);

    // Each was answered by one callback, accepted; none by a second (which
    // Discord would refuse with 40060), though the later commands gave a
    // doubled answer to an earlier one every chance to show.
    for ix in asked {
        assert_eq!(callbacks(&host, ix), vec![204], "interaction {ix}");
    }

    for p in &mut procs {
        assert_eq!(p.child.try_wait().unwrap(), None, "both still run:\n{}", p.text());
        assert!(!p.text().contains(sim.token()), "never the token");
    }
    assert!(began.elapsed() < Duration::from_secs(20), "took {:?}", began.elapsed());
}

/// Interaction `ix` was dispatched once, to the session of shard `shard` of
/// 2; the process holding it ran the command, and the other never saw it.
fn answered_once_by(host: &Host, ix: u64, shard: u64, procs: &[Process; 2], what: &str) {
    let sim = &host.sim;
    let dispatched: Vec<[u64; 2]> = sim
        .dispatched()
        .into_iter()
        .filter(|d| d.t == "INTERACTION_CREATE" && d.d["id"] == json!(ix.to_string()))
        .map(|d| d.shard)
        .collect();
    assert_eq!(dispatched, vec![[shard, 2]], "{what}: dispatched once, to shard {shard}");
    let handled = [procs[0].handled(ix), procs[1].handled(ix)];
    let mut want = [false, false];
    want[shard as usize] = true;
    assert_eq!(handled, want, "{what}: run by the process holding shard {shard} only");
}

/// The callbacks the bot sent for interaction `ix`, by status.
fn callbacks(host: &Host, ix: u64) -> Vec<u16> {
    let prefix = format!("/interactions/{ix}/");
    host.sim
        .requests_to("POST /interactions/*/*/callback")
        .iter()
        .filter(|r| r.path.starts_with(&prefix))
        .map(|r| r.status)
        .collect()
}

/// Waits until the sim's request log holds a callback for `ix` (it records a
/// request once its answer is on the way, just after the reply is visible).
async fn answered(host: &Host, ix: u64) -> Vec<u16> {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = callbacks(host, ix);
        if !seen.is_empty() {
            return seen;
        }
        assert!(Instant::now() < deadline, "no callback for interaction {ix} in the request log");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
