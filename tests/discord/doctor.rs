//! `mend doctor`, the real binary, against the local Discord: a checklist
//! with ✓ or ✗ and the fix for each problem; exit 0 when all is well, 1 when not.

use std::process::Output;

use discord_sim::perms::bits;
use discord_sim::{Sim, SimConfig, WorldSpec, intents};
use mend::engine::Settings;

use crate::support::Fixture;

/// A host's set-up: the local Discord, and a database with its key.
pub(crate) struct Host {
    pub sim: Sim,
    pub fixture: Fixture,
    pub ca: std::path::PathBuf,
}

impl Host {
    pub async fn start(config: SimConfig) -> Host {
        let sim = Sim::start(config).await.expect("the local Discord starts");
        let fixture = Fixture::new();
        let ca = fixture.dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        fixture.engine(Settings::default()).await.close().await;
        Host { sim, fixture, ca }
    }

    /// Registers mend's commands in the server, as `mend run` does when it starts.
    pub async fn register_commands(&self) {
        let ca = reqwest::Certificate::from_pem(self.sim.ca_pem().as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .resolve("discord.com", self.sim.https_addr())
            .add_root_certificate(ca)
            .build()
            .unwrap();
        let http = serenity::all::HttpBuilder::new(self.sim.token()).client(client).build();
        http.set_application_id(serenity::all::ApplicationId::new(self.sim.world().application_id));
        let create = poise::builtins::create_application_commands(&mend::discord::commands::all());
        serenity::all::GuildId::new(self.sim.guild_id()).set_commands(&http, create).await.unwrap();
    }

    /// `mend COMMAND` with the host's environment (as `mend run` gets it).
    pub fn mend(&self, command: &str) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mend"));
        c.arg(command)
            .env_clear()
            .current_dir(self.fixture.dir.path())
            .env("DISCORD_TOKEN", self.sim.token())
            .env("DISCORD_API_ADDR", self.sim.https_addr().to_string())
            .env("DISCORD_EXTRA_ROOT_CERT", &self.ca)
            .env("DISCORD_GUILD_ID", self.sim.guild_id().to_string())
            .env("DATABASE_URL", self.fixture.url())
            .env("MEND_KEYSTORE", self.fixture.keystore_url())
            .env("MEND_KEY", self.fixture.key.to_hex());
        c
    }

    /// Runs `mend doctor` with the host's environment and `changes` on top.
    async fn doctor(&self, changes: &[(&str, &str)]) -> Output {
        let mut command = self.mend("doctor");
        for (k, v) in changes {
            command.env(k, v);
        }
        let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("mend runs");
        let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(!all.contains(self.sim.token()), "the token never prints:\n{all}");
        assert!(!all.contains(&self.fixture.key.to_hex()), "the key never prints:\n{all}");
        output
    }
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The checklist line that starts with `mark` and holds `words`.
fn line<'a>(text: &'a str, mark: char, words: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(mark) && l.contains(words))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_well_is_a_checklist_of_ticks_and_exit_0() {
    let host = Host::start(SimConfig::for_tests()).await;
    // Before mend ever ran, its commands are not there: named with the fix.
    let o = host.doctor(&[]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(line(&text, '✗', "commands are registered in server").is_some_and(|l| l.contains("mend run")), "{text}");

    host.register_commands().await;
    let o = host.doctor(&[]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let checks: Vec<&str> = text.lines().filter(|l| !l.starts_with("all well")).collect();
    assert!(checks.iter().all(|l| l.starts_with('✓')), "{text}");
    let mut expected = vec![
        "the token is valid: mend signs in as mend",
        "Server Members Intent is on",
        "server \"Mend Test Server\": mend has every permission it needs",
        "commands are registered in server",
        "migrations applied",
        "the key opens the database",
        "settings: timezone UTC",
    ];
    // A SQLite file's own checks; on PostgreSQL the server keeps its files.
    if crate::support::backend() == mend::store::Backend::Sqlite {
        expected.extend(["readable by its owner only", "MiB free"]);
    }
    for words in expected {
        assert!(line(&text, '✓', words).is_some(), "no ✓ line with {words:?}:\n{text}");
    }
    assert!(text.lines().last().unwrap().starts_with("all well"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_the_bot_role_lacks_are_named_with_the_fix() {
    let mut config = SimConfig::for_tests();
    config.world = WorldSpec::default().bot_without(bits::MANAGE_CHANNELS | bits::MANAGE_ROLES);
    let host = Host::start(config).await;
    host.register_commands().await;
    let o = host.doctor(&[]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let lacks = line(&text, '✗', "server \"Mend Test Server\": mend lacks").unwrap_or_else(|| panic!("{text}"));
    assert!(lacks.contains("lacks Manage Channels, Manage Roles —"), "{lacks}");
    assert!(lacks.contains("Server Settings → Roles"), "{lacks}");
    assert!(lacks.contains("permissions="), "the invite link with the permissions: {lacks}");
    // Only that is wrong.
    assert_eq!(text.lines().filter(|l| l.starts_with('✗')).count(), 1, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_a_missing_intent_is_named_with_the_fix() {
    let mut config = SimConfig::for_tests();
    config.privileged_intents = intents::MESSAGE_CONTENT;
    let host = Host::start(config).await;
    host.register_commands().await;
    let o = host.doctor(&[]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert_eq!(
        line(&text, '✗', "Server Members Intent"),
        Some(
            "✗ Server Members Intent is off — Developer Portal → your app → Bot → Privileged Gateway Intents → turn on Server Members Intent"
        ),
        "{text}"
    );
    assert!(line(&text, '✓', "every permission it needs").is_some(), "{text}");

    let o = host.doctor(&[("DISCORD_TOKEN", "not-the-token")]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let token = line(&text, '✗', "Discord rejected the token").unwrap_or_else(|| panic!("{text}"));
    assert!(token.contains("Reset Token") && token.contains("DISCORD_TOKEN"), "{token}");
    assert!(!text.contains("not-the-token"), "{text}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_others_can_read_or_a_wrong_key_is_named_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let host = Host::start(SimConfig::for_tests()).await;
    host.register_commands().await;
    let db = host.fixture.db_path();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = host.doctor(&[]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let exposed = line(&text, '✗', "other users can read").unwrap_or_else(|| panic!("{text}"));
    assert!(exposed.contains("mode 644") && exposed.contains(&format!("chmod 600 {}", db.display())), "{exposed}");
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o644, "doctor looks; it changes nothing");

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let other = mend::crypto::Key::generate().to_hex();
    let o = host.doctor(&[("MEND_KEY", &other)]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let wrong = line(&text, '✗', "the key does not open the database").unwrap_or_else(|| panic!("{text}"));
    assert!(wrong.contains("original key"), "{wrong}");
    assert_eq!(text.lines().filter(|l| l.starts_with('✗')).count(), 1, "{text}");
    assert!(line(&text, '✓', "may write its database").is_some(), "{text}");

    // A database in a directory mend cannot make its files in.
    let nowhere = host.fixture.dir.path().join("no-such-directory").join("mend.db");
    let url = format!("sqlite://{}", nowhere.display());
    let o = host.doctor(&[("DATABASE_URL", &url)]).await;
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let cannot = line(&text, '✗', "cannot make files in").unwrap_or_else(|| panic!("{text}"));
    assert!(cannot.contains("no-such-directory") && cannot.contains("chown"), "{cannot}");
}
