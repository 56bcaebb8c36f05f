//! Space belongs to the one who asked for it; a pause is told to both. What each
//! partner sees, and what the open channel never sees.

use crate::own_data::answered_day;
use crate::support::bot::{TestBot, WAIT, button};
use discord_sim::SimUser;
use serde_json::json;

async fn slash_reply(user: &SimUser, home: u64, command: &str, options: serde_json::Value) -> discord_sim::MessageView {
    let ix = user.slash(home, command, options).unwrap();
    user.wait_for_response(ix, |m| !m.loading && !m.content.is_empty(), WAIT).await.unwrap()
}

/// The value Discord sends for the `/space for:` choice named `name`, as mend
/// registered it.
async fn space_for(app: &TestBot, name: &str) -> serde_json::Value {
    let command = app.sim.wait_for_command("space", WAIT).await.unwrap();
    let choices = command["options"][0]["choices"].as_array().cloned().unwrap_or_default();
    choices.into_iter().find(|c| c["name"] == name).map(|c| c["value"].clone()).unwrap_or_else(|| panic!("{command}"))
}

fn said_in(user: &SimUser, channel: u64, text: &str) -> usize {
    user.messages_in(channel).unwrap().iter().filter(|m| m.content.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_after_a_reveal_is_the_takers_alone_to_lift_and_both_are_told() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;
    // Both answered, so today's answers are shared: "I need space" still works.
    let prompt = answered_day(&app, home).await;
    app.settle().await;
    let message = sam.messages_in(home).unwrap().into_iter().find(|m| m.id == prompt).unwrap();
    let ix = sam.click(prompt, &button(&message, "I need space")).unwrap();
    let mine = sam.wait_for_response(ix, |m| m.content.contains("paused until"), WAIT).await.unwrap();
    assert!(mine.ephemeral, "only Sam sees what Sam is told");
    for words in ["your partner can't lift it", "988", "116 123", "findahelpline.com", "Dr. Rivera"] {
        assert!(mine.content.contains(words), "{words:?} missing from {:?}", mine.content);
    }
    app.settle().await;
    // Alex is told, with no reason and nothing Sam wrote; the open channel hears nothing.
    assert_eq!(said_in(&alex, home, "Sam is taking a little space"), 1);
    assert_eq!(said_in(&casey, app.general(), "space"), 0);

    // Alex cannot lift Sam's space.
    let refused = slash_reply(&alex, home, "resume", json!({})).await;
    assert!(refused.ephemeral);
    assert!(refused.content.contains("Only Sam can end it sooner"), "{}", refused.content);
    let couple = app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap().0;
    let c = app.engine.couple(couple).await.unwrap();
    assert!(c.is_paused_at(app.now().timestamp()), "still paused after Alex's /resume");
    app.settle().await;
    assert_eq!(said_in(&sam, home, "resumed prompts"), 0, "nothing was resumed");

    // Sam lifts it; both are told.
    let back = slash_reply(&sam, home, "resume", json!({})).await;
    assert!(back.content.contains("Welcome back"), "{}", back.content);
    app.settle().await;
    assert_eq!(said_in(&alex, home, "Sam resumed prompts"), 1);
    assert!(!app.engine.couple(couple).await.unwrap().is_paused_at(app.now().timestamp()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_by_command_ends_on_its_own_and_its_end_is_told_to_both() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    app.set_time("2026-01-05T06:00:00Z");
    let mine = slash_reply(&alex, home, "space", json!({"for": space_for(&app, "a day").await})).await;
    assert!(mine.ephemeral && mine.content.contains("paused until Tuesday 6 January, 07:00"), "{}", mine.content);
    app.settle().await;
    assert_eq!(said_in(&sam, home, "Alex is taking a little space"), 1);
    // Monday's 08:30 prompt is inside the space: none comes. The space ends on
    // Tuesday at 07:00 Paris; both are told once, and Tuesday's prompt comes.
    app.set_time("2026-01-05T07:30:00Z");
    app.settle().await;
    assert!(sam.messages_in(home).unwrap().iter().all(|m| m.embeds.is_empty()), "no prompt during the space");
    assert_eq!(said_in(&sam, home, "space has come to its end"), 0, "not before its end");
    app.set_time("2026-01-06T06:00:00Z");
    app.settle().await;
    assert_eq!(said_in(&sam, home, "space has come to its end"), 1);
    app.set_time("2026-01-06T07:30:00Z");
    app.settle().await;
    assert_eq!(sam.messages_in(home).unwrap().iter().filter(|m| !m.embeds.is_empty()).count(), 1);
    assert_eq!(said_in(&alex, home, "space has come to its end"), 1, "told once");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_until_ready_waits_for_its_taker_and_a_pause_either_may_lift() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    // A plain pause by Alex is told to Sam, and Sam may resume it.
    let paused = slash_reply(&alex, home, "pause", json!({})).await;
    assert!(paused.ephemeral && paused.content.contains("paused"));
    app.settle().await;
    assert_eq!(said_in(&sam, home, "Alex paused prompts"), 1);
    let back = slash_reply(&sam, home, "resume", json!({})).await;
    assert!(back.content.contains("Welcome back"), "{}", back.content);
    app.settle().await;
    assert_eq!(said_in(&alex, home, "Sam resumed prompts"), 1);

    // Space for as long as Sam needs: a week later it still holds.
    let mine = slash_reply(&sam, home, "space", json!({"for": space_for(&app, "until I'm ready").await})).await;
    assert!(mine.content.contains("until you say you're ready"), "{}", mine.content);
    app.set_time("2026-01-12T07:30:00Z");
    app.settle().await;
    assert!(alex.messages_in(home).unwrap().iter().all(|m| m.embeds.is_empty()), "no prompt during the space");
    let refused = slash_reply(&alex, home, "resume", json!({})).await;
    assert!(refused.content.contains("until they're ready"), "{}", refused.content);
    let back = slash_reply(&sam, home, "resume", json!({})).await;
    assert!(back.content.contains("Welcome back"), "{}", back.content);
    app.set_time("2026-01-13T07:30:00Z");
    alex.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_both_take_space_each_lifts_only_their_own() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    let until_ready = space_for(&app, "until I'm ready").await;
    slash_reply(&alex, home, "space", json!({"for": until_ready})).await;
    slash_reply(&sam, home, "space", json!({"for": until_ready})).await;
    app.settle().await;
    // Alex lifts theirs; Sam's still holds prompts, and both are told so.
    let mine = slash_reply(&alex, home, "resume", json!({})).await;
    assert!(mine.content.contains("for Sam's space"), "{}", mine.content);
    app.settle().await;
    assert_eq!(said_in(&sam, home, "Alex is ready to pick up again"), 1);
    let couple = app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap().0;
    assert!(app.engine.couple(couple).await.unwrap().is_paused_at(app.now().timestamp()));
    let again = slash_reply(&alex, home, "resume", json!({})).await;
    assert!(again.content.contains("Only Sam can end it sooner"), "{}", again.content);
    // Sam lifts theirs: prompts come back.
    let back = slash_reply(&sam, home, "resume", json!({})).await;
    assert!(back.content.contains("Welcome back"), "{}", back.content);
    assert!(!app.engine.couple(couple).await.unwrap().is_paused_at(app.now().timestamp()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_inside_a_pause_keeps_its_own_end_and_the_pause_stays_liftable() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    slash_reply(&alex, home, "pause", json!({})).await;
    app.set_time("2026-01-05T06:00:00Z");
    let mine = slash_reply(&sam, home, "space", json!({"for": space_for(&app, "a day").await})).await;
    assert!(mine.content.contains("Tuesday 6 January, 07:00"), "{}", mine.content);
    app.settle().await;
    // A day on, Sam's space ends and both are told; Alex's pause still holds.
    app.set_time("2026-01-06T06:00:00Z");
    app.settle().await;
    assert_eq!(said_in(&alex, home, "space has come to its end. Prompts stay paused for now"), 1);
    app.set_time("2026-01-06T07:30:00Z");
    app.settle().await;
    assert!(sam.messages_in(home).unwrap().iter().all(|m| m.embeds.is_empty()), "still paused");
    // Either may lift the pause.
    let back = slash_reply(&sam, home, "resume", json!({})).await;
    assert!(back.content.contains("Welcome back"), "{}", back.content);
    app.set_time("2026-01-07T07:30:00Z");
    alex.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.stop().await;
}
