//! A couple who meet mend only in direct messages: pairing by one-time code,
//! prompts to each partner, answers, the reveal, a nudge and the reflection.

use crate::support::bot::{SAFE, TestBot, WAIT, button, find_button, safety_check};
use serde_json::json;

fn code_in(text: &str) -> String {
    let start = text.find("**").expect("a bold code") + 2;
    let end = start + text[start..].find("**").unwrap();
    text[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_for_a_couple_in_direct_messages() {
    let app = TestBot::start_global().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));

    let ix = alex.slash_in_dm("couple start", json!({})).unwrap();
    let reply = alex.wait_for_response(ix, |m| m.content.contains("pairing code"), WAIT).await.unwrap();
    let code = code_in(&reply.content);

    // A wrong code and someone else's code are refused kindly.
    let ix = casey.slash_in_dm("couple join", json!({"code": "NOPE1234"})).unwrap();
    let refused = casey.wait_for_response(ix, |m| m.content.contains("doesn't match"), WAIT).await.unwrap();
    assert!(refused.ephemeral);
    let ix = alex.slash_in_dm("couple join", json!({"code": code})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("your own code"), WAIT).await.unwrap();

    let ix = sam.slash_in_dm("couple join", json!({"code": code.to_lowercase()})).unwrap();
    let welcome = sam.wait_for_response(ix, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    assert!(find_button(&welcome, "Tell mend privately").is_some());
    let alex_welcome = alex.wait_for_dm(|m| m.content.contains("Welcome"), WAIT).await.unwrap();
    // Each answers the private questions in their own DMs; prompts begin after.
    safety_check(&sam, &welcome, SAFE).await;
    safety_check(&alex, &alex_welcome, SAFE).await;

    // The code works once.
    let ix = casey.slash_in_dm("couple join", json!({"code": code})).unwrap();
    casey.wait_for_response(ix, |m| m.content.contains("expired"), WAIT).await.unwrap();

    let ix = alex.slash_in_dm("schedule set", json!({"when": "daily 08:30", "timezone": "Europe/Paris"})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("daily 08:30"), WAIT).await.unwrap();

    // Monday 08:30 Paris: each partner gets the prompt in their DMs.
    app.set_time("2026-01-05T07:30:00Z");
    let for_alex = alex.wait_for_dm(|m| !m.embeds.is_empty(), WAIT).await.unwrap();
    let for_sam = sam.wait_for_dm(|m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.settle().await;

    let answered = |m: &discord_sim::MessageView| find_button(m, "Answer");
    if let (Some(a), Some(s)) = (answered(&for_alex), answered(&for_sam)) {
        let ix = alex.click(for_alex.id, &a).unwrap();
        let submit = alex.submit_modal(ix, &[("answer", "The letter you wrote me.")], WAIT).await.unwrap();
        alex.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
        sam.wait_for_dm(|m| m.content.contains("Alex has answered"), WAIT).await.unwrap();
        assert!(sam.dms().iter().all(|m| !m.content.contains("letter you wrote")), "nothing leaks before the reveal");
        let ix = sam.click(for_sam.id, &s).unwrap();
        let submit = sam.submit_modal(ix, &[("answer", "That you stayed to talk.")], WAIT).await.unwrap();
        sam.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
        let is_journal = for_alex.embeds[0]["footer"]["text"].as_str().unwrap_or("").contains("never see");
        if !is_journal {
            let revealed = sam.wait_for_dm(|m| m.content.contains("letter you wrote"), WAIT).await.unwrap();
            assert!(revealed.content.contains("Alex"));
            alex.wait_for_dm(|m| m.content.contains("stayed to talk"), WAIT).await.unwrap();
        } else {
            app.settle().await;
            assert!(sam.dms().iter().all(|m| !m.content.contains("letter you wrote")), "journals are never shared");
        }
    } else {
        alex.click(for_alex.id, &button(&for_alex, "Done")).unwrap();
        sam.click(for_sam.id, &button(&for_sam, "Not today")).unwrap();
        sam.wait_for_dm(|m| m.content.contains("Did it today"), WAIT).await.unwrap();
    }

    // Tuesday: no answers; a nudge six hours later.
    app.set_time("2026-01-06T07:30:00Z");
    sam.wait_for_dm(|m| !m.embeds.is_empty() && m.id != for_sam.id, WAIT).await.unwrap();
    app.settle().await;
    app.set_time("2026-01-06T13:31:00Z");
    sam.wait_for_dm(|m| m.content.contains("waiting whenever you're ready"), WAIT).await.unwrap();

    // Sunday: each checks in privately, in their own DMs, and then the
    // reflection reaches both, with each one's words and nothing early.
    app.set_time("2026-01-11T18:00:00Z");
    app.settle().await;
    let is_reflection =
        |m: &discord_sim::MessageView| m.embeds.first().is_some_and(|e| e["title"] == "Your week together");
    for (user, appreciated, partner) in [(&alex, "The tea on Thursday.", "Sam"), (&sam, "Your patience.", "Alex")] {
        let ask = user.wait_for_dm(|m| m.content.contains("gentle check-in"), WAIT).await.unwrap();
        assert!(ask.content.contains(&format!("{partner} will read it")), "{}", ask.content);
        let ix = user.click(ask.id, &button(&ask, "Check in")).unwrap();
        let submit = user.submit_modal(ix, &[("appreciation", appreciated)], WAIT).await.unwrap();
        user.wait_for_response(submit, |m| m.content.contains("Thank you"), WAIT).await.unwrap();
        if user.id() == alex.id() {
            app.settle().await;
            assert!(sam.dms().iter().all(|m| !is_reflection(m) && !m.content.contains("tea on Thursday")));
        }
    }
    for user in [&alex, &sam] {
        let reflection = user.wait_for_dm(is_reflection, WAIT).await.unwrap();
        let text = reflection.embeds[0]["fields"].to_string();
        assert!(text.contains("**Alex** appreciated:\\n> The tea on Thursday."), "{text}");
        assert!(text.contains("**Sam** appreciated:\\n> Your patience."), "{text}");
        assert_eq!(reflection.attachments.len(), 1, "each copy has the picture");
    }
    app.stop().await;
}
