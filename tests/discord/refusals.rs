//! What mend refuses, kindly and on the server side: a declined invitation, a
//! click by someone it isn't for, a command outside the couple's channel, an
//! answer the modal cannot hold or that is empty, a bot without the permission
//! to create a channel, and a partner whose DMs are closed.

use crate::support::bot::{TestBot, WAIT, button, find_button, settings, wait_until};
use discord_sim::SimConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_invitation_creates_nothing_and_only_the_invited_can_answer_it() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let invitation = app.invite("alex", "sam").await;
    // Nothing in the open channel says who is pairing: not the invitation, not
    // its answer.
    let open = || casey.messages_in(app.general()).unwrap();
    assert!(open().is_empty(), "the open channel holds nothing: {:?}", open());

    // Casey cannot even see it; a forged click is refused.
    let ix = casey.forge_click(invitation.channel_id, invitation.id, &button(&invitation, "Accept")).unwrap();
    let refused = casey.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert!(refused.ephemeral && refused.content.contains("someone else"), "{}", refused.content);

    let ix = sam.click(invitation.id, &button(&invitation, "Not now")).unwrap();
    sam.wait_for_ack(ix, WAIT).await.unwrap();
    let updated = wait_until(|| {
        sam.dms().into_iter().find(|m| m.id == invitation.id && m.content.contains("Nothing was created"))
    })
    .await;
    assert!(find_button(&updated, "Accept").is_none(), "the buttons are gone");
    app.settle().await;
    // Alex learns it privately; the open channel still holds nothing.
    let told = alex.wait_for_dm(|m| m.content.contains("would rather not for now"), WAIT).await.unwrap();
    assert!(!told.content.contains(&casey.id().to_string()));
    assert!(open().is_empty(), "the open channel holds nothing: {:?}", open());
    assert!(app.sim.channels().iter().all(|c| !c.name.starts_with("mend-")), "no channel was created");
    assert!(app.engine.couple_of(&sam.id().to_string()).await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_outside_the_private_channel_and_strangers_are_refused() {
    let app = TestBot::start().await;
    let (alex, casey) = (app.user("alex"), app.user("casey"));
    let home = app.pair("alex", "sam").await;

    let ix = alex.slash(app.general(), "schedule show", json!({})).unwrap();
    let refused = alex.wait_for_response(ix, |m| m.content.contains("private channel"), WAIT).await.unwrap();
    assert!(refused.ephemeral);

    let ix = casey.slash(app.general(), "history", json!({})).unwrap();
    let refused = casey.wait_for_response(ix, |m| m.content.contains("not paired"), WAIT).await.unwrap();
    assert!(refused.ephemeral);

    // What people type is accepted; what cannot be a time is refused with the fix.
    let ix = alex.slash(home, "schedule set", json!({"when": "every day at 8pm", "timezone": "europe/paris"})).unwrap();
    let ok = alex.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert!(ok.content.contains("daily 20:00") && ok.content.contains("Europe/Paris"), "{}", ok.content);
    let ix = alex.slash(home, "schedule set", json!({"when": "daily 25:00", "timezone": "Europe/Paris"})).unwrap();
    let bad = alex.wait_for_response(ix, |m| m.content.contains("not a time of day"), WAIT).await.unwrap();
    assert!(bad.ephemeral && bad.content.contains("21:00"), "{}", bad.content);
    assert!(
        !bad.content.contains("crontab") || bad.content.find("crontab") > bad.content.find("daily"),
        "{}",
        bad.content
    );
    let ix = alex.slash(home, "schedule set", json!({"when": "daily 8pm", "timezone": "EST"})).unwrap();
    let bad = alex.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert!(bad.ephemeral && bad.content.contains("America/New_York"), "{}", bad.content);

    let ix = alex.slash(home, "couple start", json!({"partner": casey.id()})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("already paired"), WAIT).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_the_modal_cannot_hold_or_that_are_empty_are_never_lost() {
    let app = TestBot::start().await;
    let alex = app.user("alex");
    let home = app.pair("alex", "sam").await;
    // Find a day with a written prompt.
    let mut day = 5;
    let mut seen = Vec::new();
    let (prompt, answer) = loop {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        let prompt = alex
            .wait_for_message(
                home,
                |m| m.embeds.first().is_some_and(|e| e["description"].is_string()) && !seen.contains(&m.id),
                WAIT,
            )
            .await
            .unwrap();
        seen.push(prompt.id);
        app.settle().await;
        if let Some(a) = find_button(&prompt, "Answer") {
            break (prompt, a);
        }
        day += 1;
        assert!(day < 20, "a written prompt within two weeks");
    };
    let ix = alex.click(prompt.id, &answer).unwrap();
    let modal = alex.wait_for_modal(ix, WAIT).await.unwrap();
    let input = modal.inputs.iter().find(|i| i.custom_id == "answer").expect("an answer box");
    assert_eq!(input.max_length, Some(1000));
    // Discord's client will not send more than the modal allows.
    assert!(alex.submit_modal(ix, &[("answer", &"x".repeat(1001))], WAIT).await.is_err());
    // Only invisible characters: refused, and shown back.
    let ix = alex.click(prompt.id, &answer).unwrap();
    let submit = alex.submit_modal(ix, &[("answer", "\u{200B}\u{200B}")], WAIT).await.unwrap();
    let reply = alex.wait_for_response(submit, |m| m.content.contains("looks empty"), WAIT).await.unwrap();
    assert!(reply.ephemeral && reply.content.contains("here is what you wrote"));
    // Markdown that could ping everyone is saved, and never pings.
    let ix = alex.click(prompt.id, &answer).unwrap();
    let submit = alex.submit_modal(ix, &[("answer", "@everyone I love you")], WAIT).await.unwrap();
    alex.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_manage_channels_the_couple_is_told_what_an_admin_can_do() {
    let mut config = SimConfig::for_tests();
    config.world.bot_permissions &= !discord_sim::perms::bits::MANAGE_CHANNELS;
    let app = TestBot::start_with(config, settings(), true).await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let invitation = app.invite("alex", "sam").await;
    sam.click(invitation.id, &button(&invitation, "Accept")).unwrap();
    let told =
        wait_until(|| sam.dms().into_iter().find(|m| m.id == invitation.id && m.content.contains("Manage Channels")))
            .await;
    assert!(told.content.contains("nothing was set up"));
    app.settle().await;
    alex.wait_for_dm(|m| m.content.contains("Manage Channels"), WAIT).await.unwrap();
    assert!(app.engine.couple_of(&alex.id().to_string()).await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_with_closed_dms_is_nudged_in_the_channel_instead() {
    let app = TestBot::start().await;
    let sam = app.user("sam");
    let home = app.pair("alex", "sam").await;
    sam.set_dms_closed(true);
    app.set_time("2026-01-05T07:30:00Z");
    sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.settle().await;
    app.set_time("2026-01-05T13:31:00Z");
    let nudge = sam.wait_for_message(home, |m| m.content.contains("gentle reminder"), WAIT).await.unwrap();
    assert!(nudge.content.contains(&format!("<@{}>", sam.id())));
    assert!(sam.dms().iter().all(|m| !m.content.contains("waiting whenever")));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mend_run_with_a_rejected_token_says_so_in_one_line_and_exits_2() {
    let sim = discord_sim::Sim::start(SimConfig::for_tests()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let (addr, db) = (sim.https_addr().to_string(), format!("sqlite://{}", dir.path().join("m.db").display()));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mend"))
            .arg("run")
            .env("DISCORD_TOKEN", "not-the-token")
            .env("DISCORD_API_ADDR", addr)
            .env("DISCORD_EXTRA_ROOT_CERT", ca)
            .env("DATABASE_URL", db)
            .env("MEND_KEY", "33".repeat(32))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("mend:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("rejected the token"), "{err}");
    assert!(!err.contains("not-the-token"), "the token is never printed");
    sim.shutdown();
}

/// `mend run` against the local Discord with `env`, bounded in time (a mend that
/// stays up is killed and reported as such).
async fn run_mend(
    sim: &discord_sim::Sim,
    dir: &tempfile::TempDir,
    env: Vec<(&'static str, String)>,
) -> std::process::Output {
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let (addr, db) = (sim.https_addr().to_string(), format!("sqlite://{}", dir.path().join("m.db").display()));
    tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mend"))
            .arg("run")
            .env("DISCORD_API_ADDR", addr)
            .env("DISCORD_EXTRA_ROOT_CERT", ca)
            .env("DATABASE_URL", db)
            .env("MEND_KEY", "33".repeat(32))
            .envs(env)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// Defect 8: commands that cannot be registered (a DISCORD_GUILD_ID where the
/// bot is not) stop mend at once with one line saying what to fix, instead of
/// a bot connected but deaf.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_cannot_be_registered_stop_mend_with_one_line() {
    let sim = discord_sim::Sim::start(SimConfig::for_tests()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = vec![("DISCORD_TOKEN", sim.token().to_string()), ("DISCORD_GUILD_ID", "1234567890123456789".to_string())];
    let output = run_mend(&sim, &dir, env).await;
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "mend exits instead of staying up deaf: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("mend:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("could not register") && lines[0].contains("unset DISCORD_GUILD_ID"), "{err}");
    assert!(sim.requests_to("GET /gateway").is_empty(), "it never connected to the gateway");
    sim.shutdown();
}

/// The host's floor applies to the host's own defaults too: a default schedule
/// more frequent than MEND_MIN_INTERVAL_MINUTES is refused at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_schedule_under_the_floor_is_refused_at_start() {
    let sim = discord_sim::Sim::start(SimConfig::for_tests()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = vec![("DISCORD_TOKEN", sim.token().to_string()), ("MEND_DEFAULT_SCHEDULE", "*/5 * * * *".to_string())];
    let output = run_mend(&sim, &dir, env).await;
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("MEND_DEFAULT_SCHEDULE") && err.contains("MEND_MIN_INTERVAL_MINUTES"), "{err}");
    sim.shutdown();
}

/// An invited partner whose DMs are closed is asked, in the channel where the
/// invitation was started, to open them: a mention that names nothing of what
/// it is or who sent it. Once open, the invitation reaches them privately.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_to_closed_dms_asks_neutrally_in_the_open_channel() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    sam.set_dms_closed(true);
    let ix = alex.slash(app.general(), "couple start", json!({"partner": sam.id()})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("invitation privately"), WAIT).await.unwrap();
    app.settle().await;
    let open = casey.messages_in(app.general()).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    let ask = &open[0];
    assert!(ask.content.contains(&format!("<@{}>", sam.id())) && ask.content.contains("direct message"));
    for word in ["mend", "alex", "Alex", "pair", "couple", "invit", "partner", "trust"] {
        assert!(!ask.content.contains(word), "{word:?} in the open channel: {}", ask.content);
    }
    assert!(sam.dms().is_empty());
    // Alex learns privately what happened and what to do.
    let told = alex.wait_for_dm(|m| m.content.contains("couldn't reach them"), WAIT).await.unwrap();
    assert!(told.content.contains("/couple start"), "{}", told.content);
    sam.set_dms_closed(false);
    let invitation = app.invite("alex", "sam").await;
    assert!(find_button(&invitation, "Accept").is_some());
    assert_eq!(casey.messages_in(app.general()).unwrap().len(), 1, "nothing more in the open channel");
    app.stop().await;
}
