//! Own your data on Discord: /history, /export, /forget, /couple end, /help,
//! /pause and /resume — each visible only to whoever asked.

use crate::support::bot::{TestBot, WAIT, button, everything_seen, find_button};
use mend::discord::text::NOT_YOURS;
use serde_json::json;

/// Runs days until a written (shared) prompt comes, and has both answer it.
pub(crate) async fn answered_day(app: &TestBot, home: u64) -> u64 {
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let mut seen = Vec::new();
    for day in 5..25 {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        let prompt =
            alex.wait_for_message(home, |m| !m.embeds.is_empty() && !seen.contains(&m.id), WAIT).await.unwrap();
        seen.push(prompt.id);
        app.settle().await;
        let shared = prompt.embeds[0]["footer"]["text"].as_str().unwrap_or("").contains("each other's answers");
        let Some(answer) = find_button(&prompt, "Answer").filter(|_| shared) else { continue };
        for (user, text) in [(&alex, "Alex wrote about the garden."), (&sam, "Sam wrote about the rain.")] {
            let ix = user.click(prompt.id, &answer).unwrap();
            let submit = user.submit_modal(ix, &[("answer", text)], WAIT).await.unwrap();
            user.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
        }
        return prompt.id;
    }
    panic!("no shared prompt in twenty days");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_export_and_help_show_only_what_this_partner_may_see() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    answered_day(&app, home).await;

    let ix = alex.slash(home, "history", json!({})).unwrap();
    let history = alex.wait_for_response(ix, |m| m.content.contains("garden"), WAIT).await.unwrap();
    assert!(history.ephemeral && history.content.contains("rain"), "{}", history.content);

    let ix = sam.slash(home, "export", json!({})).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("sent you a file"), WAIT).await.unwrap();
    let file = sam.wait_for_dm(|m| !m.attachments.is_empty(), WAIT).await.unwrap();
    let export: serde_json::Value = serde_json::from_slice(&file.attachments[0].data).unwrap();
    assert_eq!(export["you"].as_str().map(str::to_lowercase).as_deref(), Some("sam"));
    let text = export.to_string();
    assert!(text.contains("Sam wrote about the rain") && text.contains("Alex wrote about the garden"));

    let ix = alex.slash(home, "help", json!({})).unwrap();
    let help = alex.wait_for_response(ix, |m| m.content.contains("not therapy"), WAIT).await.unwrap();
    assert!(help.ephemeral && help.content.contains("988") && help.content.contains("Dr. Rivera"));
    app.stop().await;
}

/// How many messages `user` can see anywhere that contain `words`.
fn seen_with(user: &discord_sim::SimUser, words: &str) -> usize {
    everything_seen(user).iter().filter(|m| m.content.contains(words)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_deletes_what_one_partner_wrote_and_end_deletes_the_couple() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    let answered = answered_day(&app, home).await;
    // The next prompt goes unanswered: six hours later Alex is nudged by DM,
    // with the prompt's buttons. That DM outlives the couple.
    let next = app.now().date_naive().succ_opt().unwrap();
    app.set_time(&format!("{next}T07:30:00Z"));
    alex.wait_for_message(home, |m| !m.embeds.is_empty() && m.id > answered, WAIT).await.unwrap();
    app.settle().await;
    app.set_time(&format!("{next}T13:31:00Z"));
    let nudge = alex.wait_for_dm(|m| m.content.contains("waiting whenever you're ready"), WAIT).await.unwrap();

    // Before: Sam can read Alex's words in the answers' thread.
    assert_eq!(seen_with(&sam, "garden"), 1, "the reveal holds Alex's answer");
    let ix = alex.slash(home, "forget", json!({})).unwrap();
    let ask = alex.wait_for_response(ix, |m| m.content.contains("Are you sure"), WAIT).await.unwrap();
    assert!(ask.content.contains("threads"), "the question says what goes: {}", ask.content);
    let ix = alex.click(ask.id, &button(&ask, "Yes, delete what I wrote")).unwrap();
    let done = alex.wait_for_response(ix, |m| m.content.contains("deleted"), WAIT).await.unwrap();
    assert!(done.ephemeral);
    assert!(
        done.content.contains("1 answer you wrote") && done.content.contains("1 message in Discord"),
        "{}",
        done.content
    );
    assert!(done.content.contains("screenshotted"), "honest about what mend cannot reach: {}", done.content);
    // After: no message anyone can see holds Alex's words; Sam's stay.
    for user in [&alex, &sam] {
        assert_eq!(seen_with(user, "garden"), 0, "Alex's words are gone from Discord");
    }
    assert_eq!(seen_with(&sam, "rain"), 1, "Sam's own answer stays");
    let ix = sam.slash(home, "history", json!({})).unwrap();
    let history = sam.wait_for_response(ix, |m| m.content.contains("rain"), WAIT).await.unwrap();
    assert!(!history.content.contains("garden"), "Alex's words are gone: {}", history.content);

    // Sam ends it: asked first; each gets a copy by DM before anything is
    // deleted; Alex is told privately, by whom.
    let ix = sam.slash(home, "couple end", json!({})).unwrap();
    let ask = sam.wait_for_response(ix, |m| m.content.contains("Are you sure"), WAIT).await.unwrap();
    assert!(ask.ephemeral && ask.content.contains("copy") && ask.content.contains("Alex"), "{}", ask.content);
    let ix = sam.click(ask.id, &button(&ask, "Yes, send our copies and end")).unwrap();
    sam.wait_for_ack(ix, WAIT).await.unwrap();
    // The "Done" reply is in the channel that is deleted right after, and can
    // vanish with it before anyone reads it (as on Discord): what lasts is in
    // each one's DMs.
    crate::support::bot::wait_until(|| (!alex.can_see(home)).then_some(())).await;
    app.settle().await;
    sam.wait_for_dm(|m| m.content == mend::discord::text::ENDED, WAIT).await.unwrap();
    assert!(app.engine.couple_of(&alex.id().to_string()).await.unwrap().is_none());
    for user in [&alex, &sam] {
        let copy = user.wait_for_dm(|m| !m.attachments.is_empty(), WAIT).await.unwrap();
        assert_eq!(copy.attachments[0].filename, "mend-export.json");
    }
    app.settle().await;
    let told = alex.wait_for_dm(|m| m.content.contains("has ended mend for the two of you"), WAIT).await.unwrap();
    assert!(told.content.starts_with("Sam"), "{}", told.content);
    // A stale button from the ended couple is refused, privately.
    let first = find_button(&nudge, "Answer").unwrap_or_else(|| button(&nudge, "Done"));
    for custom_id in [first, button(&nudge, "I need space")] {
        let ix = alex.click(nudge.id, &custom_id).unwrap();
        let refused = alex.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
        assert!(refused.ephemeral && refused.content == NOT_YOURS, "{custom_id}: {}", refused.content);
        assert!(alex.interaction(ix).unwrap().modal.is_none());
    }
    assert!(app.engine.couple_of(&sam.id().to_string()).await.unwrap().is_none(), "nothing came back");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_prompts_until_resume() {
    let app = TestBot::start().await;
    let alex = app.user("alex");
    let home = app.pair("alex", "sam").await;
    let ix = alex.slash(home, "pause", json!({"until": "soon"})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("couldn't read"), WAIT).await.unwrap();
    let ix = alex.slash(home, "pause", json!({})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("paused"), WAIT).await.unwrap();
    app.set_time("2026-01-05T07:30:00Z");
    // A whole worker step at the prompt's moment: still nothing.
    app.settle().await;
    assert!(alex.messages_in(home).unwrap().iter().all(|m| m.embeds.is_empty()), "no prompt while paused");
    let ix = alex.slash(home, "resume", json!({})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("Welcome back"), WAIT).await.unwrap();
    app.set_time("2026-01-06T07:30:00Z");
    alex.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.stop().await;
}
