//! `/hard-moment`: private and immediate; shared with the partner only by
//! choice and only as "a hard moment"; a note just for its writer, sealed and
//! never shown; met together, said so in the reflection without counting.

use crate::support::bot::{TestBot, WAIT, button, everything_seen};
use discord_sim::{MessageView, SimUser};
use serde_json::json;

async fn hard_moment(user: &SimUser, home: u64) -> (u64, MessageView) {
    let ix = user.slash(home, "hard-moment", json!({})).unwrap();
    let reply = user.wait_for_response(ix, |m| m.content.contains("normal part of healing"), WAIT).await.unwrap();
    (ix, reply)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_moment_is_private_shared_only_by_choice_and_met_together() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;

    // Alex meets it privately: grounding, crisis lines, the host's referral.
    let (_, mine) = hard_moment(&alex, home).await;
    assert!(mine.ephemeral);
    for words in ["not a step back", "988", "116 123", "findahelpline.com", "Dr. Rivera"] {
        assert!(mine.content.contains(words), "{words:?} missing: {}", mine.content);
    }
    // A note just for Alex: sealed at rest, never shown to anyone else.
    let ix = alex.click(mine.id, &button(&mine, "Just for me")).unwrap();
    let submit = alex.submit_modal(ix, &[("answer", "The song in the shop undid me.")], WAIT).await.unwrap();
    let kept = alex.wait_for_response(submit, |m| m.content.contains("Kept just for you"), WAIT).await.unwrap();
    assert!(kept.ephemeral);
    app.settle().await;
    assert!(everything_seen(&sam).iter().all(|m| !m.content.contains("song")), "the note never reaches Sam");
    assert!(everything_seen(&sam).iter().all(|m| !m.content.contains("hard moment")), "nothing shared unless chosen");
    let on_disk = app.on_disk();
    assert!(!on_disk.windows(8).any(|w| w == b"the shop"), "the note is sealed at rest");

    // Another day, Alex lets Sam know: Sam is told only that, privately, with a
    // guide and "I'm here"; Alex hears that Sam responded.
    let (_, mine) = hard_moment(&alex, home).await;
    let ix = alex.click(mine.id, &button(&mine, "Let my partner know")).unwrap();
    alex.wait_for_ack(ix, WAIT).await.unwrap();
    app.settle().await;
    let told = sam.wait_for_dm(|m| m.content.contains("is having a hard moment"), WAIT).await.unwrap();
    assert!(told.content.contains("Reassure, don't defend"), "{}", told.content);
    assert!(!told.content.contains("song"), "nothing Alex wrote: {}", told.content);
    assert!(everything_seen(&casey).iter().all(|m| !m.content.contains("hard moment")), "a third member sees nothing");
    let in_channel =
        |u: &SimUser| u.messages_in(home).unwrap().into_iter().filter(|m| !m.ephemeral).collect::<Vec<_>>();
    assert!(in_channel(&sam).iter().all(|m| !m.content.contains("hard moment")), "not in the channel");
    let ix = sam.click(told.id, &button(&told, "I'm here")).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("told them you're here"), WAIT).await.unwrap();
    app.settle().await;
    alex.wait_for_dm(|m| m.content.contains("Sam is here for you"), WAIT).await.unwrap();

    // Sunday's reflection says it was met together, naming no one (neither
    // checks in first, so it comes when the check-in window closes, a day on).
    app.set_time("2026-01-05T07:30:00Z");
    app.settle().await;
    app.set_time("2026-01-11T18:00:00Z");
    app.settle().await;
    app.set_time("2026-01-12T18:00:00Z");
    app.settle().await;
    let reflection = alex
        .wait_for_message(home, |m| m.embeds.iter().any(|e| e["title"] == "Your week together"), WAIT)
        .await
        .unwrap();
    let text = reflection.embeds[0].to_string();
    assert!(text.contains("you met it together"), "{text}");
    assert!(!text.contains("Alex") || !text.contains("hard"), "no one named with a hard moment: {text}");

    // Alex's export holds their note; Sam's holds none of Alex's moments.
    let ix = alex.slash(home, "export", json!({})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("sent you a file"), WAIT).await.unwrap();
    let file = alex.wait_for_dm(|m| !m.attachments.is_empty(), WAIT).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&file.attachments[0].data).unwrap();
    assert_eq!(doc["hard_moments"].as_array().unwrap().len(), 2, "{doc}");
    let ix = sam.slash(home, "export", json!({})).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("sent you a file"), WAIT).await.unwrap();
    let file = sam.wait_for_dm(|m| !m.attachments.is_empty(), WAIT).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&file.attachments[0].data).unwrap();
    assert!(doc["hard_moments"].as_array().unwrap().is_empty(), "{doc}");
    assert!(!String::from_utf8_lossy(&file.attachments[0].data).contains("song"));

    // /forget: Alex's hard moments go with everything else Alex wrote.
    let ix = alex.slash(home, "forget", json!({})).unwrap();
    let ask = alex.wait_for_response(ix, |m| m.content.contains("Are you sure"), WAIT).await.unwrap();
    let ix = alex.click(ask.id, &button(&ask, "Yes, delete what I wrote")).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("deleted"), WAIT).await.unwrap();
    let couple = app.engine.couple_of(&alex.id().to_string()).await.unwrap().unwrap().0;
    let left = app.engine.hard_moments_of(couple, mend::core::model::Slot::A).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    let on_disk = app.on_disk();
    assert!(!on_disk.windows(8).any(|w| w == b"the shop"));
    app.stop().await;
}

/// A partner whose DMs are closed still learns of a shared hard moment, in the
/// couple's own channel (never the open one), with nothing more in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_hard_moment_reaches_a_partner_with_closed_dms_in_the_couples_channel() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;
    sam.set_dms_closed(true);
    let (_, mine) = hard_moment(&alex, home).await;
    let ix = alex.click(mine.id, &button(&mine, "Let my partner know")).unwrap();
    alex.wait_for_ack(ix, WAIT).await.unwrap();
    app.settle().await;
    let told = sam.wait_for_message(home, |m| m.content.contains("is having a hard moment"), WAIT).await.unwrap();
    assert!(told.content.starts_with(&format!("<@{}>", sam.id())), "{}", told.content);
    assert!(crate::support::bot::find_button(&told, "I'm here").is_some());
    assert!(casey.messages_in(app.general()).unwrap().is_empty(), "nothing in the open channel");
    app.stop().await;
}
