//! A couple in a server, end to end: pairing with consent, a private channel,
//! the schedule, daily prompts, both answers and the reveal, a nudge, the
//! weekly reflection — and what a third member can and cannot do.

use crate::support::bot::{TestBot, WAIT, button, embed_text, find_button};
use discord_sim::SimUser;
use mend::discord::ids::Action;
use mend::discord::text::NOT_YOURS;
use serde_json::json;

/// A click the stranger's client could not make, forged: mend refuses it
/// privately, and opens no answer form for them.
async fn forged_click_is_refused(stranger: &SimUser, home: u64, message: u64, custom_id: &str) {
    let ix = stranger.forge_click(home, message, custom_id).unwrap();
    assert_ne!(stranger.wait_for_ack(ix, WAIT).await.unwrap(), 9, "{custom_id}: a stranger got the answer form");
    let refused = stranger.wait_for_response(ix, |m| !m.loading, WAIT).await.unwrap();
    assert!(refused.ephemeral && refused.content == NOT_YOURS, "{custom_id}: {}", refused.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_for_a_couple_in_a_server() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;

    // The private channel: both partners see it, a third member does not.
    assert!(alex.can_see(home) && sam.can_see(home));
    assert!(!casey.can_see(home));
    assert!(casey.messages_in(home).is_err());

    // Each partner says privately how they come to this.
    let welcome = alex.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    let ask = alex.click(welcome.id, &button(&welcome, "Tell mend privately")).unwrap();
    let roles = alex.wait_for_response(ask, |m| m.content.contains("How do you come"), WAIT).await.unwrap();
    assert!(roles.ephemeral);
    alex.click(roles.id, &button(&roles, "I broke trust")).unwrap();
    let ask = sam.click(welcome.id, &button(&welcome, "Tell mend privately")).unwrap();
    let roles = sam.wait_for_response(ask, |m| m.content.contains("How do you come"), WAIT).await.unwrap();
    sam.click(roles.id, &button(&roles, "I was hurt")).unwrap();
    crate::support::bot::wait_until(|| {
        let c = futures::executor::block_on(app.engine.couple_of(&sam.id().to_string())).ok()??;
        let couple = futures::executor::block_on(app.engine.couple(c.0)).ok()?;
        (couple.roles() == [mend::core::model::Role::Repairing, mend::core::model::Role::Hurt]).then_some(())
    })
    .await;

    // Timezone autocomplete and the schedule.
    let choices = alex
        .autocomplete_choices(
            home,
            "schedule set",
            json!({"when": "daily 08:30", "timezone": "paris"}),
            "timezone",
            WAIT,
        )
        .await
        .unwrap();
    assert!(choices.iter().any(|c| c["value"] == "Europe/Paris"), "{choices:?}");
    let ix = alex.slash(home, "schedule set", json!({"when": "daily 08:30", "timezone": "Europe/Paris"})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("daily 08:30"), WAIT).await.unwrap();
    let ix = sam.slash(home, "schedule show", json!({})).unwrap();
    let shown = sam.wait_for_response(ix, |m| m.content.contains("Prompts"), WAIT).await.unwrap();
    assert!(shown.ephemeral && shown.content.contains("Mon 5 Jan 08:30"), "{}", shown.content);

    // Monday 08:30 in Paris: the prompt arrives in the private channel.
    app.set_time("2026-01-05T07:30:00Z");
    let prompt = sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    assert!(!embed_text(&prompt).is_empty());
    let embed = &prompt.embeds[0];
    assert!(embed["color"].as_u64().is_some_and(|c| c != 0), "in the pillar's colour");
    if find_button(&prompt, "Answer").is_some() {
        assert_eq!(embed["fields"][0]["name"], "Today's small action", "{embed}");
    }
    assert!(find_button(&prompt, "I need space").is_some());
    // This couple's Monday (a fixed seed and library) is a prompt both answer;
    // personal days and small actions have tests of their own (prompts.rs).
    let answer = button(&prompt, "Answer");
    let footer = prompt.embeds[0]["footer"]["text"].as_str().unwrap_or_default().to_string();
    assert!(footer.contains("each other's answers"), "Monday is a shared prompt: {footer}");

    // A third member's client cannot click this couple's buttons, but a modified
    // one can still send the click. mend re-checks who acts, whether casey
    // belongs to no couple or to another one, and nothing changes for this one.
    assert!(casey.click(prompt.id, &answer).is_err(), "casey cannot see the prompt");
    let before = serde_json::to_value(sam.messages_in(home).unwrap()).unwrap();
    forged_click_is_refused(&casey, home, prompt.id, &answer).await;
    app.pair("owner", "casey").await;
    for custom_id in [answer.clone(), button(&prompt, "I need space")] {
        forged_click_is_refused(&casey, home, prompt.id, &custom_id).await;
    }
    assert_eq!(serde_json::to_value(sam.messages_in(home).unwrap()).unwrap(), before, "the channel is unchanged");
    let delivery = match Action::parse(&answer) {
        Some(Action::Answer(d) | Action::Done(d)) => d,
        other => panic!("not a prompt button: {other:?}"),
    };
    assert!(app.engine.responses(delivery).await.unwrap().is_empty(), "no response was recorded");
    let (couple, _) = app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap();
    assert!(!app.engine.couple(couple).await.unwrap().is_paused_at(app.now().timestamp()), "not paused");

    {
        let ix = alex.click(prompt.id, &answer).unwrap();
        let modal = alex.wait_for_modal(ix, WAIT).await.unwrap();
        // The answer box shows the question above it.
        let question = modal.inputs.iter().find(|i| i.custom_id == "question").expect("the question is shown");
        assert_eq!(question.value.as_deref(), Some(embed_text(&prompt).as_str()));
        assert!(modal.inputs.iter().find(|i| i.custom_id == "answer").unwrap().max_length.is_some());
        let submit =
            alex.submit_modal(ix, &[("answer", "Our walk on Sunday, when you held my hand.")], WAIT).await.unwrap();
        let saved = alex.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
        assert!(saved.ephemeral);
        // The channel learns only that Alex answered, never what.
        let notice = sam.wait_for_message(home, |m| m.content.contains("has answered"), WAIT).await.unwrap();
        assert!(!notice.content.contains("walk"));
        for m in sam.messages_in(home).unwrap() {
            assert!(!m.content.contains("held my hand"), "Alex's answer leaked before the reveal: {}", m.content);
        }
        let ix = sam.click(prompt.id, &answer).unwrap();
        let submit = sam.submit_modal(ix, &[("answer", "Making coffee together.")], WAIT).await.unwrap();
        sam.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
    }

    // Both answered: revealed together in a thread under the prompt.
    let thread = crate::support::bot::wait_until(|| {
        sam.messages_in(home).ok()?.into_iter().find(|m| m.id == prompt.id)?.thread_id
    })
    .await;
    let revealed = sam.wait_for_message(thread, |m| m.content.contains("Alex"), WAIT).await.unwrap();
    assert!(revealed.content.contains("held my hand"), "{}", revealed.content);
    assert!(!casey.can_see(thread));

    // Tuesday: Sam doesn't answer; six hours later one gentle DM nudge.
    app.set_time("2026-01-06T07:30:00Z");
    sam.wait_for_message(home, |m| !m.embeds.is_empty() && m.id != prompt.id, WAIT).await.unwrap();
    app.settle().await;
    app.set_time("2026-01-06T13:31:00Z");
    let nudge = sam.wait_for_dm(|m| m.content.contains("waiting whenever you're ready"), WAIT).await.unwrap();
    assert!(find_button(&nudge, "I need space").is_some());
    app.set_time("2026-01-06T13:45:00Z");
    app.settle().await;
    let nudges = sam.dms().iter().filter(|m| m.content.contains("waiting whenever")).count();
    assert_eq!(nudges, 1, "only one nudge");

    // Sunday 19:00: each is asked privately to check in first; neither does,
    // so the weekly reflection comes when the day's window closes.
    app.set_time("2026-01-11T18:00:00Z");
    app.settle().await;
    for user in [&alex, &sam] {
        user.wait_for_dm(|m| m.content.contains("gentle check-in"), WAIT).await.unwrap();
    }
    let reflections = |u: &SimUser| {
        u.messages_in(home)
            .unwrap()
            .iter()
            .filter(|m| m.embeds.iter().any(|e| e["title"] == "Your week together"))
            .count()
    };
    assert_eq!(reflections(&alex), 0, "the reflection waits for the check-ins");
    app.set_time("2026-01-12T18:00:00Z");
    let reflection = alex
        .wait_for_message(home, |m| m.embeds.first().is_some_and(|e| e["title"] == "Your week together"), WAIT)
        .await
        .unwrap();
    let fields = reflection.embeds[0]["fields"].to_string();
    assert!(fields.contains("The week in numbers"), "{fields}");
    // About the couple: what they shared, never who answered what or what waited.
    assert!(fields.contains("1 time you both answered and saw each other's words"), "{fields}");
    for field in reflection.embeds[0]["fields"].as_array().unwrap() {
        for line in field["value"].as_str().unwrap_or("").lines() {
            let named = ["Alex", "Sam"].iter().any(|n| line.contains(n));
            assert!(!named || !line.chars().any(|c| c.is_ascii_digit()), "a name next to a count: {line}");
        }
    }
    assert!(!fields.contains("answered 1") && !fields.contains("answered 2"), "{fields}");
    assert!(reflection.embeds[0]["footer"]["text"].as_str().unwrap_or("").contains("Dr. Rivera"));

    app.stop().await;
}
