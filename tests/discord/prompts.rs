//! What each partner sees of a day's prompt: their own question, privately,
//! when it is worded for their role; the question in the answer box; a small
//! action with its note, revealed as done together; a nudge in waking hours,
//! with the question.

use crate::phases::say_role;
use crate::support::bot::{TestBot, WAIT, button, everything_seen, find_button};
use discord_sim::MessageView;
use mend::core::model::Slot;
use mend::discord::ids::Action;
use serde_json::json;

/// A betrayal couple in a server, roles said privately; returns the channel.
async fn betrayal_couple(app: &TestBot) -> u64 {
    let home = app.pair("alex", "sam").await;
    say_role(&app.user("alex"), home, "I broke trust").await;
    say_role(&app.user("sam"), home, "I was hurt").await;
    let sam = app.user("sam");
    crate::support::bot::wait_until(|| {
        let (c, _) = futures::executor::block_on(app.engine.couple_of(&sam.id().to_string())).ok()??;
        let couple = futures::executor::block_on(app.engine.couple(c)).ok()?;
        (couple.roles() == [mend::core::model::Role::Repairing, mend::core::model::Role::Hurt]).then_some(())
    })
    .await;
    home
}

/// Runs the days from Monday on until the prompt in the channel has the button
/// `label`; returns it.
async fn first_day_with(app: &TestBot, home: u64, label: &str) -> MessageView {
    let alex = app.user("alex");
    let mut seen = Vec::new();
    for day in 5..31 {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        let prompt =
            alex.wait_for_message(home, |m| !m.embeds.is_empty() && !seen.contains(&m.id), WAIT).await.unwrap();
        seen.push(prompt.id);
        app.settle().await;
        if find_button(&prompt, label).is_some() {
            return prompt;
        }
    }
    panic!("no prompt with {label:?} in the first weeks");
}

fn delivery_of(prompt: &MessageView) -> i64 {
    prompt
        .components
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find_map(|c| match Action::parse(c["custom_id"].as_str()?) {
            Some(Action::Answer(d) | Action::Done(d) | Action::Mine(d)) => Some(d),
            _ => None,
        })
        .expect("a prompt button")
}

fn shows(m: &MessageView, text: &str) -> bool {
    m.content.contains(text) || m.embeds.iter().any(|e| e.to_string().contains(&text.replace('"', "\\\"")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_worded_for_a_role_is_read_only_by_its_reader() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = betrayal_couple(&app).await;
    let prompt = first_day_with(&app, home, "Read mine").await;
    let d = delivery_of(&prompt);
    let chosen = app
        .engine
        .deliveries_of(app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap().0)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == d)
        .and_then(|x| x.chosen)
        .unwrap();
    let text_of = |slot: Slot| app.engine.library().prompt(&chosen.prompts[slot.index()]).unwrap().text.clone();
    let (for_alex, for_sam) = (text_of(Slot::A), text_of(Slot::B));
    assert_ne!(for_alex, for_sam);
    // The channel shows neither question.
    for m in alex.messages_in(home).unwrap() {
        assert!(!shows(&m, &for_alex) && !shows(&m, &for_sam), "a personal question in the channel: {m:?}");
    }
    // Each reads their own, privately, and answers it.
    for (user, own, other, words) in
        [(&alex, &for_alex, &for_sam, "I am learning to listen."), (&sam, &for_sam, &for_alex, "Slowly, yes.")]
    {
        let ix = user.click(prompt.id, &button(&prompt, "Read mine")).unwrap();
        let mine = user.wait_for_response(ix, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
        assert!(mine.ephemeral && shows(&mine, own) && !shows(&mine, other), "{mine:?}");
        let answer = find_button(&mine, "Answer").or_else(|| find_button(&mine, "Done")).unwrap();
        let ix = user.click(mine.id, &answer).unwrap();
        let modal = user.wait_for_modal(ix, WAIT).await.unwrap();
        let question = modal.inputs.iter().find(|i| i.custom_id == "question").unwrap();
        assert_eq!(question.value.as_deref(), Some(own.as_str()), "the answer box shows their own question");
        let submit = user.submit_modal(ix, &[("answer", words)], WAIT).await.unwrap();
        user.wait_for_response(submit, |m| !m.loading && !m.content.is_empty(), WAIT).await.unwrap();
    }
    app.settle().await;
    // Neither question reaches anything the other (or anyone) can see, the
    // reveal included; casey sees none of it.
    for m in everything_seen(&alex).iter().chain(everything_seen(&sam).iter()) {
        if m.ephemeral {
            continue;
        }
        assert!(!shows(m, &for_alex) && !shows(m, &for_sam), "a personal question was shown: {m:?}");
    }
    let revealed: Vec<MessageView> =
        everything_seen(&sam).into_iter().filter(|m| m.content.contains("of your own")).collect();
    assert_eq!(revealed.len(), 1, "the reveal says each had their own question");
    assert!(everything_seen(&sam).iter().any(|m| m.content.contains("I am learning to listen.")));
    assert!(everything_seen(&casey).iter().all(|m| !m.content.contains("learning to listen")));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_action_takes_a_note_and_is_revealed_as_done_together_never_as_a_tally() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    let prompt = first_day_with(&app, home, "Done").await;
    // Done opens a form with the action and an optional note.
    let ix = alex.click(prompt.id, &button(&prompt, "Done")).unwrap();
    let modal = alex.wait_for_modal(ix, WAIT).await.unwrap();
    assert!(
        modal.inputs.iter().any(
            |i| i.custom_id == "question" && i.value.as_deref() == Some(&*crate::support::bot::embed_text(&prompt))
        )
    );
    let note = modal.inputs.iter().find(|i| i.custom_id == "answer").unwrap();
    assert!(!note.required && note.label.contains("note"), "{note:?}");
    let submit = alex.submit_modal(ix, &[("answer", "We walked to the river.")], WAIT).await.unwrap();
    alex.wait_for_response(submit, |m| m.content.contains("done"), WAIT).await.unwrap();
    // Sam's "Not today" is theirs alone.
    let ix = sam.click(prompt.id, &button(&prompt, "Not today")).unwrap();
    let theirs = sam.wait_for_response(ix, |m| m.content.contains("no score"), WAIT).await.unwrap();
    assert!(theirs.ephemeral);
    app.settle().await;
    let revealed: Vec<String> =
        everything_seen(&alex).into_iter().filter(|m| !m.ephemeral).map(|m| m.content).collect();
    assert!(revealed.iter().any(|c| c.contains("We walked to the river.")), "the note is shared: {revealed:?}");
    for c in &revealed {
        for tally in ["Not today", "not today", "Did it", "didn't"] {
            assert!(!c.contains(tally), "a tally of who did not: {c}");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nudge_after_an_evening_prompt_waits_for_the_morning_and_shows_the_question() {
    let app = TestBot::start().await;
    let sam = app.user("sam");
    let home = app.pair("alex", "sam").await;
    let ix = sam.slash(home, "schedule set", json!({"when": "daily 8pm", "timezone": "Europe/Paris"})).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("daily 20:00"), WAIT).await.unwrap();
    app.set_time("2026-01-05T19:00:00Z");
    let prompt = sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.settle().await;
    // Six hours later it is 02:00 in Paris: no nudge in the night.
    app.set_time("2026-01-06T01:01:00Z");
    app.settle().await;
    assert!(sam.dms().iter().all(|m| !m.content.contains("waiting whenever")), "no nudge at 02:00");
    app.set_time("2026-01-06T07:00:00Z");
    app.settle().await;
    let nudge = sam.wait_for_dm(|m| m.content.contains("waiting whenever"), WAIT).await.unwrap();
    let question = crate::support::bot::embed_text(&prompt);
    // Neither said a role: one question for both, shown in the channel and in the nudge.
    assert!(find_button(&prompt, "Read mine").is_none());
    assert!(!question.is_empty() && nudge.content.contains(&question), "with the question: {}", nudge.content);
    assert_eq!(sam.dms().iter().filter(|m| m.content.contains("waiting whenever")).count(), 1);
    app.stop().await;
}
