//! No answer text, token or key in any log line, at any level: the whole flow
//! runs with every log enabled (`trace`, through mend's own filter) and the
//! captured output is searched.

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::bot::{TestBot, WAIT, find_button};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_anyone_wrote_reaches_a_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(mend::telemetry::filter("trace,discord_sim=off"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    let mut said = Vec::new();
    let mut seen = Vec::new();
    for day in 5..20 {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        let prompt =
            alex.wait_for_message(home, |m| !m.embeds.is_empty() && !seen.contains(&m.id), WAIT).await.unwrap();
        seen.push(prompt.id);
        app.settle().await;
        let Some(answer) = find_button(&prompt, "Answer") else { continue };
        for (user, text) in [(&alex, format!("zebra-lantern-{day}")), (&sam, format!("quokka-harbour-{day}"))] {
            let ix = user.click(prompt.id, &answer).unwrap();
            let submit = user.submit_modal(ix, &[("answer", &text)], WAIT).await.unwrap();
            user.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
            said.push(text);
        }
        if said.len() >= 4 {
            break;
        }
    }
    let ix = sam.slash(home, "history", json!({})).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("quokka"), WAIT).await.unwrap();
    // A hard moment's note, just for its writer, and a small action's note.
    let ix = alex.slash(home, "hard-moment", json!({})).unwrap();
    let mine = alex.wait_for_response(ix, |m| m.content.contains("normal part of healing"), WAIT).await.unwrap();
    let ix = alex.click(mine.id, &support::bot::button(&mine, "Just for me")).unwrap();
    let note = "marmot-lighthouse-note".to_string();
    let submit = alex.submit_modal(ix, &[("answer", &note)], WAIT).await.unwrap();
    alex.wait_for_response(submit, |m| m.content.contains("Kept just for you"), WAIT).await.unwrap();
    said.push(note);
    // A weekly check-in, read by the partner only in the reflection.
    app.set_time("2026-01-25T07:30:00Z");
    app.settle().await;
    app.set_time("2026-01-25T18:00:00Z");
    app.settle().await;
    let ask = alex.wait_for_dm(|m| support::bot::find_button(m, "Check in").is_some(), WAIT).await.unwrap();
    let ix = alex.click(ask.id, &support::bot::button(&ask, "Check in")).unwrap();
    let (appreciated, cared) = ("heron-appreciation-lamp".to_string(), "otter-caredfor-kettle".to_string());
    let submit = alex.submit_modal(ix, &[("appreciation", &appreciated), ("cared_for", &cared)], WAIT).await.unwrap();
    alex.wait_for_response(submit, |m| m.content.contains("Thank you"), WAIT).await.unwrap();
    app.settle().await;
    said.extend([appreciated, cared]);
    // A commitment, sealed like an answer, and its revision note.
    let promise = "walrus-promise-lantern".to_string();
    let ix = alex.slash(home, "commit", json!({"what": promise, "when": "daily 18:00"})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("Committed"), WAIT).await.unwrap();
    app.settle().await;
    said.push(promise);
    // The safety check, taken again, with an answer that signals danger.
    let ix = sam.slash(home, "safety", json!({})).unwrap();
    let menu = sam.wait_for_response(ix, |m| m.content.contains("leave quietly"), WAIT).await.unwrap();
    sam.click(menu.id, &support::bot::button(&menu, "Answer the questions")).unwrap();
    let first = support::bot::updated(&sam, menu.id, |m| m.content.contains("1 of 3")).await;
    let told = support::bot::answer_safety(&sam, first, ["I'm not sure", "", ""]).await;
    assert!(told.content.contains("88788"));
    app.settle().await;
    let token = app.sim.token().to_string();
    app.stop().await;

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("couple paired"), "the capture works and mend logged its flow");
    assert!(text.lines().count() > 5, "plenty was logged at trace:\n{text}");
    for word in &said {
        assert!(!text.contains(word.as_str()), "answer text {word:?} reached a log line");
    }
    assert!(!text.contains(&token), "the bot token reached a log line");
    // Which button anyone pressed in the safety check (it holds their answer).
    assert!(!text.contains("mend:safety:"), "a safety answer reached a log line");
    assert!(!text.contains("not sure"), "a safety answer reached a log line");
}
