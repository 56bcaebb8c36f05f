//! The private safety check: before any shared prompt each partner answers
//! three questions privately; an answer that signals danger is told only to
//! its owner, with domestic-violence resources, and stops shared prompts with
//! the very words any space shows. `/safety` offers it again, and leaving
//! quietly: the couple ends with a plain goodbye, and what that person wrote
//! is deleted.

use crate::own_data::answered_day;
use crate::support::bot::{SAFE, TestBot, WAIT, answer_safety, button, everything_seen, safety_check, updated};
use discord_sim::{MessageView, SimUser};
use mend::discord::text;
use mend::engine::UserError;
use serde_json::json;

/// What `user` sees, apart from the messages in `before` (by id).
fn new_for(user: &SimUser, before: &[MessageView]) -> Vec<MessageView> {
    everything_seen(user).into_iter().filter(|m| !before.iter().any(|b| b.id == m.id)).collect()
}

fn prompts_in(user: &SimUser, home: u64) -> usize {
    user.messages_in(home).unwrap().iter().filter(|m| !m.embeds.is_empty()).count()
}

/// Words of the safety check, its answers and its resources: none of them may
/// ever reach the partner.
const NEVER_FOR_THE_PARTNER: [&str; 8] = [
    "1 of 3",
    "frightened",
    "hurt you",
    "1-800-799-7233",
    "88788",
    "0808 2000 247",
    "afraid of your partner",
    "safe with",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_wait_for_both_checks_and_a_concern_reaches_only_its_owner() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair_unchecked("alex", "sam").await;
    let welcome = alex.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    assert!(welcome.content.contains("Prompts begin once you've both answered"), "{}", welcome.content);

    // Alex answers: thanked, told nothing was saved, then asked how they come to this.
    let done = safety_check(&alex, &welcome, SAFE).await;
    assert!(done.ephemeral);
    assert!(done.content.contains("Nothing you answered was saved"), "{}", done.content);
    assert!(done.content.contains("once Sam has answered"), "{}", done.content);
    assert!(done.content.contains("How do you come"), "then the role question: {}", done.content);

    // Monday 08:30: no prompt while Sam has yet to answer.
    app.set_time("2026-01-05T07:30:00Z");
    app.settle().await;
    assert_eq!(prompts_in(&alex, home), 0, "no shared prompt before both have answered");
    let ix = alex.slash(home, "resume", json!({})).unwrap();
    let refused = alex.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert_eq!(refused.content, text::NOT_STARTED);

    // Sam is sometimes afraid of their partner: only Sam is told, kindly, with
    // resources; nothing more is asked.
    let before_alex = everything_seen(&alex);
    let before_casey = everything_seen(&casey);
    let ix = sam.click(welcome.id, &button(&welcome, "Tell mend privately")).unwrap();
    let first = sam.wait_for_response(ix, |m| m.content.contains("1 of 3"), WAIT).await.unwrap();
    let told = answer_safety(&sam, first, ["Sometimes", "", ""]).await;
    assert!(told.ephemeral, "only Sam sees it");
    for words in [
        "aren't recommended while someone isn't sure they're safe",
        "findahelpline.com",
        "1-800-799-7233",
        "START",
        "88788",
        "0808 2000 247",
        "Dr. Rivera",
        "which was not saved",
        "they may still guess",
        "/journal",
    ] {
        assert!(told.content.contains(words), "{words:?} missing: {}", told.content);
    }
    app.settle().await;

    // Alex sees exactly what any space says, and nothing else; Casey nothing.
    let seen: Vec<String> = new_for(&alex, &before_alex).into_iter().map(|m| m.content).collect();
    assert_eq!(seen, [text::space_taken("Sam", None)], "the same words as any space");
    assert!(new_for(&casey, &before_casey).is_empty(), "a third member sees nothing");
    // Alex cannot lift it: refused in the words any space is refused with.
    let ix = alex.slash(home, "resume", json!({})).unwrap();
    let refused = alex.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert_eq!(refused.content, text::user_error(&UserError::SpaceHeld { name: "Sam".into(), until: None }));
    // No shared prompt comes, day after day.
    for day in 6..9 {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        app.settle().await;
    }
    assert_eq!(prompts_in(&sam, home), 0, "shared prompts stopped");
    // Sam may have private journal prompts, about themself.
    let ix = sam.slash(home, "journal", json!({})).unwrap();
    let journal = sam.wait_for_response(ix, |m| m.content.contains("Just for you"), WAIT).await.unwrap();
    assert!(journal.ephemeral);

    // Nothing of the answers is stored: no trace in the database file.
    let on_disk = app.on_disk();
    for words in ["mend:safety:", "Sometimes"] {
        assert!(!on_disk.windows(words.len()).any(|w| w == words.as_bytes()), "{words:?} is on disk");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_begin_when_both_answered_and_safety_can_be_taken_again() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair_unchecked("alex", "sam").await;
    let welcome = alex.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    safety_check(&alex, &welcome, SAFE).await;
    let done = safety_check(&sam, &welcome, SAFE).await;
    assert!(!done.content.contains("once Alex"), "no one left to wait for: {}", done.content);
    app.settle().await;
    let ready = alex.wait_for_message(home, |m| m.content.contains("You've both answered"), WAIT).await.unwrap();
    assert!(ready.content.contains("first prompt comes on Monday 5 January at 08:30"), "{}", ready.content);
    app.set_time("2026-01-05T07:30:00Z");
    sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();

    // Later, `/safety`: the questions again; a concern now stops prompts the same way.
    let ix = alex.slash(home, "safety", json!({})).unwrap();
    let menu = alex.wait_for_response(ix, |m| m.content.contains("leave quietly"), WAIT).await.unwrap();
    assert!(menu.ephemeral && menu.content.contains("1-800-799-7233"), "{}", menu.content);
    alex.click(menu.id, &button(&menu, "Answer the questions")).unwrap();
    let first = updated(&alex, menu.id, |m| m.content.contains("1 of 3")).await;
    let told = answer_safety(&alex, first, ["No", "Yes", ""]).await;
    assert!(told.content.contains("0808 2000 247"), "{}", told.content);
    app.settle().await;
    sam.wait_for_message(home, |m| m.content == text::space_taken("Alex", None), WAIT).await.unwrap();
    // Only Alex lifts it, when they choose.
    let ix = alex.slash(home, "resume", json!({})).unwrap();
    alex.wait_for_response(ix, |m| m.content == text::RESUMED, WAIT).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_quietly_ends_with_a_plain_goodbye_and_deletes_what_they_wrote() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;
    answered_day(&app, home).await;
    app.settle().await;
    let words_of_sam = |u: &SimUser| everything_seen(u).iter().filter(|m| m.content.contains("rain")).count();
    assert_eq!(words_of_sam(&alex), 1, "the reveal holds Sam's answer");
    let before_casey = everything_seen(&casey);

    let ix = sam.slash(home, "safety", json!({})).unwrap();
    let menu = sam.wait_for_response(ix, |m| m.content.contains("leave quietly"), WAIT).await.unwrap();
    let ix = sam.click(menu.id, &button(&menu, "Leave quietly")).unwrap();
    let ask = sam.wait_for_response(ix, |m| m.content.contains("can't be undone"), WAIT).await.unwrap();
    assert!(ask.ephemeral);
    let ix = sam.click(ask.id, &button(&ask, "Yes, leave quietly")).unwrap();
    sam.wait_for_ack(ix, WAIT).await.unwrap();
    app.settle().await;

    // Alex: a plain goodbye naming no one, and a copy of Alex's own words only.
    let goodbye = alex.wait_for_dm(|m| m.content == text::ENDED, WAIT).await.unwrap();
    assert!(!goodbye.content.contains("Sam"));
    let copy = alex.wait_for_dm(|m| !m.attachments.is_empty(), WAIT).await.unwrap();
    assert_eq!(copy.content, text::ENDED_QUIETLY_COPY);
    let export = String::from_utf8_lossy(&copy.attachments[0].data).to_string();
    assert!(export.contains("garden") && !export.contains("rain"), "Alex's words only: {export}");
    assert_eq!(words_of_sam(&alex), 0, "Sam's words are gone from Discord");
    for m in alex.dms() {
        for words in NEVER_FOR_THE_PARTNER.iter().chain(&["quietly"]) {
            assert!(!m.content.contains(words), "{words:?} reached Alex: {}", m.content);
        }
    }
    assert!(!alex.can_see(home), "the private channel is gone");
    assert!(new_for(&casey, &before_casey).is_empty(), "a third member sees nothing");
    assert!(app.engine.couple_of(&sam.id().to_string()).await.unwrap().is_none());
    let on_disk = app.on_disk();
    assert!(!on_disk.windows(4).any(|w| w == b"rain"), "Sam's words are not on disk");
    app.stop().await;
}
