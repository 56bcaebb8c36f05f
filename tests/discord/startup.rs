//! What `mend run` says as it starts, at the default log level: who it signed
//! in as, how many servers, the invite link with exactly the permissions it
//! needs, and whatever `mend doctor` would flag on Discord's side.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use discord_sim::perms::bits;
use discord_sim::{SimConfig, WorldSpec, intents};

use crate::doctor::Host;

/// `mend run` as a host starts it (no MEND_LOG: the default, warn), its
/// stderr in a file.
struct Running {
    child: Child,
    log: std::path::PathBuf,
}

impl Running {
    fn start(host: &Host) -> Running {
        let log = host.fixture.dir.path().join("run.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = host
            .mend("run")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("mend starts");
        Running { child, log }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the output holds every one of `needles`.
    async fn wait_for(&mut self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text();
            if needles.iter().all(|n| text.contains(n)) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {needles:?} in what mend said:\n{text}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for mend to exit on its own; its exit code.
    async fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "mend did not exit:\n{}", self.text());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mend_run_says_who_where_the_invite_link_and_a_missing_permission() {
    let mut config = SimConfig::for_tests();
    config.world = WorldSpec::default().bot_without(bits::MANAGE_CHANNELS);
    let host = Host::start(config).await;
    let mut run = Running::start(&host);
    let app = host.sim.world().application_id;
    let link = format!(
        "https://discord.com/oauth2/authorize?client_id={app}&scope=bot+applications.commands&permissions={}",
        mend::discord::checks::NEEDED.bits()
    );
    let text = run
        .wait_for(&[
            &format!(
                "mend: signed in to Discord as mend ({}), in 1 server; invite link: {link}",
                host.sim.bot_user_id()
            ),
            "mend: ✗ server \"Mend Test Server\": mend lacks Manage Channels — Server Settings → Roles",
        ])
        .await;
    assert!(!text.contains("Intent"), "the intent is on: nothing said about it:\n{text}");
    assert!(!text.contains(host.sim.token()), "never the token:\n{text}");
    // The link asks for every permission the code uses, and no more.
    let asked = serenity::all::Permissions::from_bits_truncate(mend::discord::checks::NEEDED.bits());
    for needed in [
        serenity::all::Permissions::MANAGE_CHANNELS,
        serenity::all::Permissions::CREATE_PUBLIC_THREADS,
        serenity::all::Permissions::ATTACH_FILES,
    ] {
        assert!(asked.contains(needed), "{needed:?}");
    }
    assert!(!asked.administrator() && !asked.manage_messages(), "{asked:?}");
    // mend runs on: a missing permission is said, not fatal.
    host.sim.wait_for_bot_ready(Duration::from_secs(10)).await.expect("mend connects all the same");
    assert_eq!(run.child.try_wait().unwrap(), None, "{}", run.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_server_members_intent_mend_run_says_the_fix_and_exits_2() {
    let mut config = SimConfig::for_tests();
    config.privileged_intents = intents::MESSAGE_CONTENT;
    let host = Host::start(config).await;
    let mut run = Running::start(&host);
    run.wait_for(&[
        "mend: ✗ Server Members Intent is off — Developer Portal → your app → Bot → Privileged Gateway Intents",
    ])
    .await;
    assert_eq!(run.exit_code().await, Some(2), "{}", run.text());
    assert!(run.text().contains("turn on Server Members Intent"), "{}", run.text());
}
