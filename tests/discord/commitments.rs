//! Commitments: made by the partner rebuilding trust, at most three open;
//! after each occurrence the partner it was made to is asked privately, once,
//! at a waking hour. What was kept is told to both; a "Not this time" stays
//! with the one who noticed: never posted, counted, exported to the maker, or
//! seen by anyone else.

use crate::phases::say_role;
use crate::support::bot::{TestBot, WAIT, button, everything_seen, updated};
use discord_sim::{MessageView, SimUser};
use mend::discord::text;
use serde_json::json;

const PROMISE: &str = "I'll text you when I leave work.";

fn asks(user: &SimUser) -> Vec<MessageView> {
    user.dms().into_iter().filter(|m| m.content.contains("Did you notice it?")).collect()
}

fn new_for(user: &SimUser, before: &[MessageView]) -> Vec<MessageView> {
    everything_seen(user)
        .into_iter()
        .filter(|m| !before.iter().any(|b| b.id == m.id && b.content == m.content))
        .collect()
}

async fn export_of(user: &SimUser, home: u64) -> serde_json::Value {
    let before = user.dms().iter().filter(|m| !m.attachments.is_empty()).count();
    let ix = user.slash(home, "export", json!({})).unwrap();
    user.wait_for_response(ix, |m| m.content.contains("sent you a file"), WAIT).await.unwrap();
    let file = crate::support::bot::wait_until(|| {
        let files: Vec<MessageView> = user.dms().into_iter().filter(|m| !m.attachments.is_empty()).collect();
        (files.len() > before).then(|| files.last().cloned()).flatten()
    })
    .await;
    serde_json::from_slice(&file.attachments[0].data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commitment_kept_is_told_to_both_and_a_miss_stays_with_who_noticed() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;
    say_role(&alex, home, "I broke trust").await;
    say_role(&sam, home, "I was hurt").await;

    // The hurt partner is not asked to commit: a kind refusal, only for them.
    let ix = sam.slash(home, "commit", json!({"what": "I'll try harder."})).unwrap();
    let refused = sam.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert!(refused.ephemeral && refused.content.contains("partner rebuilding trust"), "{}", refused.content);

    // Alex commits, on a schedule; both see it in their channel, Casey nothing.
    let casey_before = everything_seen(&casey);
    let ix = alex.slash(home, "commit", json!({"what": PROMISE, "when": "daily 18:00"})).unwrap();
    let done = alex.wait_for_response(ix, |m| m.content.contains("Committed"), WAIT).await.unwrap();
    assert!(done.ephemeral);
    assert!(done.content.contains("first on Monday 5 January at 20:00"), "two hours after, awake: {}", done.content);
    app.settle().await;
    sam.wait_for_message(home, |m| m.content.contains("Alex made a commitment") && m.content.contains(PROMISE), WAIT)
        .await
        .unwrap();
    assert!(!app.on_disk().windows(10).any(|w| w == b"leave work"), "the commitment is sealed at rest");

    // Small and kept beats many: a fourth open one is refused.
    for what in ["I'll put my phone away at dinner.", "I'll tell you where I'm going."] {
        let ix = alex.slash(home, "commit", json!({"what": what})).unwrap();
        alex.wait_for_response(ix, |m| m.content.contains("Committed"), WAIT).await.unwrap();
    }
    let ix = alex.slash(home, "commit", json!({"what": "One more."})).unwrap();
    let refused = alex.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert!(refused.content.contains("3 commitments open"), "{}", refused.content);

    // Monday 20:00 Paris: Sam is asked, privately, once however often mend looks.
    app.set_time("2026-01-05T19:00:00Z");
    app.settle().await;
    app.step().await;
    let ask = sam.wait_for_dm(|m| m.content.contains("Did you notice it?") && m.content.contains(PROMISE), WAIT).await;
    let ask = ask.unwrap();
    let about = |u: &SimUser| asks(u).into_iter().filter(|m| m.content.contains(PROMISE)).count();
    assert_eq!(about(&sam), 1, "asked once per occurrence");
    assert!(asks(&alex).is_empty(), "the maker is never asked");

    // "Not this time": it stays with Sam. Alex, the channel and Casey see nothing.
    app.settle().await;
    let alex_before = everything_seen(&alex);
    sam.click(ask.id, &button(&ask, "Not this time")).unwrap();
    let answered = updated(&sam, ask.id, |m| m.components.is_empty()).await;
    assert!(answered.content.contains(text::NOTICED_OTHERWISE), "{}", answered.content);
    app.settle().await;
    assert!(
        new_for(&alex, &alex_before).is_empty(),
        "nothing of a miss reaches Alex: {:?}",
        new_for(&alex, &alex_before)
    );

    // Tuesday: "Yes, I noticed" is told to both, in the channel.
    app.set_time("2026-01-06T19:00:00Z");
    app.settle().await;
    let ask = crate::support::bot::wait_until(|| {
        asks(&sam).into_iter().find(|m| !m.components.is_empty() && m.content.contains(PROMISE))
    })
    .await;
    assert!(ask.content.contains(PROMISE), "{}", ask.content);
    sam.click(ask.id, &button(&ask, "Yes, I noticed")).unwrap();
    updated(&sam, ask.id, |m| m.content.contains(text::NOTICED_KEPT)).await;
    app.settle().await;
    let kept =
        alex.wait_for_message(home, |m| m.content.contains("Sam noticed Alex keeping this commitment"), WAIT).await;
    assert!(kept.unwrap().content.contains(PROMISE));
    for m in everything_seen(&alex) {
        assert!(!m.content.contains("Not this time") && !m.content.contains("not_this_time"), "{}", m.content);
    }
    assert!(new_for(&casey, &casey_before).is_empty(), "a third member sees nothing");

    // Exports: Sam's holds what Sam answered; Alex's never holds a miss.
    let alex_export = export_of(&alex, home).await.to_string();
    assert!(alex_export.contains("leave work") && !alex_export.contains("not_this_time"), "{alex_export}");
    let sam_export = export_of(&sam, home).await.to_string();
    assert!(sam_export.contains("not_this_time") && sam_export.contains("kept"), "{sam_export}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maker_revises_or_retires_the_partner_marks_what_matters_and_forget_removes_it() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    // Neither said who was hurt: either may commit.
    let ix = sam.slash(home, "commit", json!({"what": "I'll ask how your day was.", "when": "daily 19:00"})).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("Committed"), WAIT).await.unwrap();
    let ix = alex.slash(home, "commit", json!({"what": PROMISE, "when": "daily 18:00"})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("Committed"), WAIT).await.unwrap();
    app.settle().await;

    // Sam marks Alex's as the one that matters most; Alex is told.
    let ix = sam.slash(home, "commitments", json!({})).unwrap();
    let list = sam.wait_for_response(ix, |m| m.content.contains("Open commitments"), WAIT).await.unwrap();
    assert!(list.ephemeral && list.content.contains(PROMISE));
    let ix = sam.click(list.id, &button(&list, "This matters most (2)")).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("matters most to you"), WAIT).await.unwrap();
    app.settle().await;
    alex.wait_for_dm(|m| m.content.contains("Sam marked this commitment as the one that matters most"), WAIT)
        .await
        .unwrap();
    // Sam cannot retire Alex's: only the maker changes it (a forged click is refused).
    assert!(crate::support::bot::find_button(&list, "Retire 2").is_none());

    // Alex revises it with a note, then retires it: both told, no ask after.
    let ix = alex.slash(home, "commitments", json!({})).unwrap();
    let list = alex.wait_for_response(ix, |m| m.content.contains("Open commitments"), WAIT).await.unwrap();
    let ix = alex.click(list.id, &button(&list, "Revise 2")).unwrap();
    let submit = alex
        .submit_modal(ix, &[("text", "I'll text you when I leave, and when I arrive."), ("answer", "Both ends.")], WAIT)
        .await
        .unwrap();
    alex.wait_for_response(submit, |m| m.content == text::COMMITMENT_REVISED, WAIT).await.unwrap();
    app.settle().await;
    sam.wait_for_message(home, |m| m.content.contains("when I arrive") && m.content.contains("Both ends"), WAIT)
        .await
        .unwrap();
    let on_disk = app.on_disk();
    for words in ["when I arrive", "Both ends"] {
        assert!(!on_disk.windows(words.len()).any(|w| w == words.as_bytes()), "{words:?} is sealed at rest");
    }
    let ix = alex.click(list.id, &button(&list, "Retire 2")).unwrap();
    let submit = alex.submit_modal(ix, &[("answer", "New job, new times.")], WAIT).await.unwrap();
    alex.wait_for_response(submit, |m| m.content == text::COMMITMENT_RETIRED, WAIT).await.unwrap();
    app.set_time("2026-01-05T19:00:00Z");
    app.settle().await;
    assert!(asks(&sam).is_empty(), "a retired commitment is not asked about");
    // Sam's own commitment is asked of Alex at 21:00.
    app.set_time("2026-01-05T20:00:00Z");
    app.settle().await;
    alex.wait_for_dm(|m| m.content.contains("Did you notice it?") && m.content.contains("how your day was"), WAIT)
        .await
        .unwrap();

    // Alex forgets: Alex's commitment goes, with every message that quoted it.
    let ix = alex.slash(home, "forget", json!({})).unwrap();
    let ask = alex.wait_for_response(ix, |m| m.content.contains("Are you sure"), WAIT).await.unwrap();
    let ix = alex.click(ask.id, &button(&ask, "Yes, delete what I wrote")).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("deleted"), WAIT).await.unwrap();
    for user in [&alex, &sam] {
        let left: Vec<_> = everything_seen(user).into_iter().filter(|m| m.content.contains("leave work")).collect();
        assert!(left.iter().all(|m| m.ephemeral), "gone from Discord: {left:?}");
    }
    assert!(everything_seen(&sam).iter().any(|m| m.content.contains("how your day was")), "Sam's stays");
    let db = app.db().await;
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT slot, COUNT(*) FROM commitments GROUP BY slot").fetch_all(&db).await.unwrap();
    assert_eq!(rows, [(1, 1)], "Alex's commitment row is gone; Sam's stays");

    // Sam ends the couple: what quoted Sam's commitment goes too, DMs included.
    let ix = sam.slash(home, "couple end", json!({})).unwrap();
    let ask = sam.wait_for_response(ix, |m| m.content.contains("end"), WAIT).await.unwrap();
    let ix = sam.click(ask.id, &button(&ask, "Yes, send our copies and end")).unwrap();
    sam.wait_for_ack(ix, WAIT).await.unwrap();
    app.settle().await;
    crate::support::bot::wait_until(|| app.engine_couple_gone(&sam)).await;
    for user in [&alex, &sam] {
        let left: Vec<_> = user.dms().into_iter().filter(|m| m.content.contains("how your day was")).collect();
        assert!(left.is_empty(), "gone from DMs: {left:?}");
    }
    app.stop().await;
}

/// Before both partners have taken mend's private questions, `/commit` says
/// so, in words about beginning: not the words of a space or a pause, which
/// no one has taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_the_safety_check_a_commitment_waits_for_the_beginning() {
    let app = TestBot::start().await;
    let home = app.pair_unchecked("alex", "sam").await;
    let alex = app.user("alex");
    let ix = alex.slash(home, "commit", json!({"what": PROMISE})).unwrap();
    let reply = alex.wait_for_response(ix, |m| m.ephemeral, WAIT).await.unwrap();
    assert_eq!(reply.content, text::COMMITMENTS_NOT_STARTED, "{}", reply.content);
    assert!(!reply.content.contains("space") && !reply.content.contains("paused"), "{}", reply.content);
    app.stop().await;
}
