//! The weekly State of the Union, end to end: each partner's private check-in
//! first, then the reflection in the couple's channel (appreciations first,
//! each one's "one thing I can do for you" under their name, and a picture of
//! the weeks described in words), posted once both have checked in or when the
//! day's window closes, and never twice.

use crate::support::bot::{TestBot, WAIT, button, embed_text, everything_seen, find_button};
use discord_sim::{Fault, MessageView, SimUser};

const SUNDAY: &str = "2026-01-11T18:00:00Z";

fn is_check_in(m: &MessageView) -> bool {
    m.content.contains("gentle check-in")
}

fn is_reflection(m: &MessageView) -> bool {
    m.embeds.iter().any(|e| e["title"] == "Your week together")
}

fn reflections_in(user: &SimUser, channel: u64) -> usize {
    user.messages_in(channel).unwrap().iter().filter(|m| is_reflection(m)).count()
}

/// Everything `user` can see, as one text (content and embeds).
fn seen_text(user: &SimUser) -> String {
    everything_seen(user)
        .iter()
        .map(|m| format!("{}\n{}\n", m.content, serde_json::to_string(&m.embeds).unwrap()))
        .collect()
}

/// Monday's prompt reaches the couple (both answer it when it asks for words
/// from both), then Sunday 19:00 in Paris comes.
async fn a_week(app: &TestBot, home: u64) {
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    app.set_time("2026-01-05T07:30:00Z");
    let prompt = sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.settle().await;
    let shared = prompt.embeds[0]["footer"]["text"].as_str().unwrap_or_default().contains("each other's answers");
    if let (true, Some(answer)) = (shared, find_button(&prompt, "Answer")) {
        for (user, words) in [(&alex, "The walk by the canal."), (&sam, "Our slow breakfast.")] {
            let ix = user.click(prompt.id, &answer).unwrap();
            let submit = user.submit_modal(ix, &[("answer", words)], WAIT).await.unwrap();
            user.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
        }
    }
    app.settle().await;
    app.set_time(SUNDAY);
    app.settle().await;
}

/// `user` opens their check-in from its DM and sends it; returns the reply.
async fn check_in(user: &SimUser, message: &MessageView, appreciation: &str, cared_for: &str) -> MessageView {
    let ix = user.click(message.id, &button(message, "Check in")).unwrap();
    let submit =
        user.submit_modal(ix, &[("appreciation", appreciation), ("cared_for", cared_for)], WAIT).await.unwrap();
    let reply = user.wait_for_response(submit, |m| m.content.contains("Thank you"), WAIT).await.unwrap();
    assert!(reply.ephemeral);
    reply
}

/// The fields of the reflection's embed, as (name, value).
fn fields(reflection: &MessageView) -> Vec<(String, String)> {
    reflection.embeds[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f["value"].as_str().unwrap().to_string()))
        .collect()
}

fn position(fields: &[(String, String)], name: &str) -> usize {
    fields.iter().position(|(n, _)| n == name).unwrap_or_else(|| panic!("no field {name:?} in {fields:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_checks_in_privately_and_the_reflection_follows_at_once() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;
    a_week(&app, home).await;

    // Sunday 19:00 Paris: each partner is asked privately, told who reads it and when.
    let for_alex = alex.wait_for_dm(is_check_in, WAIT).await.unwrap();
    let for_sam = sam.wait_for_dm(is_check_in, WAIT).await.unwrap();
    assert!(for_alex.content.contains("appreciated about Sam") && for_alex.content.contains("Sam will read it"));
    assert!(for_sam.content.contains("appreciated about Alex") && for_sam.content.contains("Alex will read it"));
    assert!(for_alex.content.contains("optional"), "{}", for_alex.content);
    assert!(!seen_text(&casey).contains("check-in"), "a third member sees none of it");
    let in_channel = |u: &SimUser| u.messages_in(home).unwrap();
    assert!(in_channel(&sam).iter().all(|m| !is_check_in(m) && !is_reflection(m)), "nothing in the channel yet");

    // Alex checks in. The form asks both questions, both optional.
    let ix = alex.click(for_alex.id, &button(&for_alex, "Check in")).unwrap();
    let modal = alex.wait_for_modal(ix, WAIT).await.unwrap();
    assert_eq!(modal.inputs.len(), 2);
    assert!(modal.inputs.iter().all(|i| !i.required && i.max_length == Some(1000)), "{:?}", modal.inputs);
    assert!(modal.inputs[0].label.contains("appreciated about Sam"), "{}", modal.inputs[0].label);
    assert!(modal.inputs[1].label.contains("feel cared for"), "{}", modal.inputs[1].label);
    let submit = alex
        .submit_modal(
            ix,
            &[
                ("appreciation", "You made soup when I was tired."),
                ("cared_for", "A walk after dinner, phones at home."),
            ],
            WAIT,
        )
        .await
        .unwrap();
    let kept = alex.wait_for_response(submit, |m| m.content.contains("Thank you"), WAIT).await.unwrap();
    assert!(kept.ephemeral && kept.content.contains("Sam will read it"), "{}", kept.content);
    app.settle().await;
    assert_eq!(reflections_in(&sam, home), 0, "the reflection waits for Sam");
    assert!(!seen_text(&sam).contains("soup"), "Sam never sees Alex's check-in before the reflection");

    // Alex opens the form again: their own words are there to change; Sam's form holds none of them.
    let again = alex.click(for_alex.id, &button(&for_alex, "Check in")).unwrap();
    let modal = alex.wait_for_modal(again, WAIT).await.unwrap();
    assert_eq!(modal.inputs[0].value.as_deref(), Some("You made soup when I was tired."));
    let ix = sam.click(for_sam.id, &button(&for_sam, "Check in")).unwrap();
    let modal = sam.wait_for_modal(ix, WAIT).await.unwrap();
    assert!(modal.inputs.iter().all(|i| i.value.as_deref().unwrap_or("").is_empty()), "{:?}", modal.inputs);
    let submit = sam
        .submit_modal(
            ix,
            &[("appreciation", "You listened without fixing."), ("cared_for", "Ask me how the interview went.")],
            WAIT,
        )
        .await
        .unwrap();
    let done = sam.wait_for_response(submit, |m| m.content.contains("Thank you"), WAIT).await.unwrap();
    assert!(done.content.contains("on its way"), "{}", done.content);

    // Both have checked in: the reflection comes at once, in the couple's channel.
    app.settle().await;
    let reflection = sam.wait_for_message(home, is_reflection, WAIT).await.unwrap();
    let f = fields(&reflection);
    assert_eq!(f[0].0, "Appreciations", "appreciations first: {f:?}");
    assert!(f[0].1.contains("**Alex** appreciated:\n> You made soup when I was tired."), "{}", f[0].1);
    assert!(f[0].1.contains("**Sam** appreciated:\n> You listened without fixing."), "{}", f[0].1);
    let order = ["Appreciations", "What went right", "One thing to talk through", "One thing I can do for you"];
    let at: Vec<usize> = order.iter().map(|n| position(&f, n)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{f:?}");
    let talk = &f[position(&f, "One thing to talk through")].1;
    assert!(talk.contains("I feel… about… I need…") && talk.contains("Then swap"), "{talk}");
    let care = &f[position(&f, "One thing I can do for you")].1;
    let (alex_asks, sam_asks) = care.split_once("**What would help Sam feel cared for**").expect(care);
    assert!(alex_asks.contains("**What would help Alex feel cared for**\n> A walk after dinner"), "{care}");
    assert!(sam_asks.contains("> Ask me how the interview went."), "{care}");
    assert!(!alex_asks.contains("interview") && !sam_asks.contains("walk after dinner"), "each under their own name");
    // The picture of the weeks, attached and shown in the embed, and in words.
    assert_eq!(reflection.attachments.len(), 1);
    assert_eq!(reflection.attachments[0].filename, "weeks.png");
    // (Discord answers with the attachment's own address in place of `attachment://`.)
    let image = reflection.embeds[0]["image"]["url"].as_str().unwrap_or_default();
    assert!(image.ends_with("weeks.png"), "the embed shows the picture: {image}");
    let decoder = png::Decoder::new(std::io::Cursor::new(reflection.attachments[0].data.clone()));
    let info = decoder.read_info().expect("a PNG").info().clone();
    assert_eq!((info.width, info.height), (1000, 700));
    let (name, words) = f.last().unwrap();
    assert_eq!(name, "The picture, in words");
    assert!(words.contains("A chart of your first week with mend"), "{words}");
    assert!(reflection.embeds[0]["footer"]["text"].as_str().unwrap_or("").contains("Dr. Rivera"), "the referral");
    // No count next to a name.
    for line in f.iter().flat_map(|(_, v)| v.lines().map(str::to_string).collect::<Vec<_>>()) {
        let named = ["Alex", "Sam"].iter().any(|n| line.contains(n));
        assert!(!named || !line.chars().any(|c| c.is_ascii_digit()), "a name next to a count: {line}");
    }
    // A third member sees none of it, and the words are sealed at rest.
    let casey_saw = seen_text(&casey);
    for words in ["soup", "without fixing", "Your week together", "interview"] {
        assert!(!casey_saw.contains(words), "{words:?} reached a third member");
    }
    let disk = app.on_disk();
    for words in ["soup when I was tired", "without fixing", "walk after dinner", "interview went"] {
        assert!(!disk.windows(words.len()).any(|w| w == words.as_bytes()), "{words:?} is in the database file");
    }

    // The form Alex opened before it went out, sent now: kindly told, and given their words back.
    let late = alex
        .submit_modal(again, &[("appreciation", "And the flowers on Thursday."), ("cared_for", "")], WAIT)
        .await
        .unwrap();
    let told = alex.wait_for_response(late, |m| m.content.contains("already gone out"), WAIT).await.unwrap();
    assert!(told.ephemeral);
    assert!(embed_text(&told).contains("And the flowers on Thursday."), "{:?}", told.embeds);
    let ix = sam.click(for_sam.id, &button(&for_sam, "Check in")).unwrap();
    let closed = sam.wait_for_response(ix, |m| m.content.contains("already gone out"), WAIT).await.unwrap();
    assert!(closed.ephemeral);
    app.settle().await;
    assert_eq!(reflections_in(&alex, home), 1);
    assert!(!seen_text(&sam).contains("flowers on Thursday"), "what came too late reaches no one else");

    // Each one's export holds their own check-ins, and the reflection they both saw.
    let ix = alex.slash(home, "export", serde_json::json!({})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("sent you a file"), WAIT).await.unwrap();
    let file = alex.wait_for_dm(|m| !m.attachments.is_empty(), WAIT).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&file.attachments[0].data).unwrap();
    let mine = doc["check_ins"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{doc}");
    assert_eq!(mine[0]["appreciated"], "You made soup when I was tired.");
    let posted = doc["reflections"].as_array().unwrap();
    assert_eq!(posted.len(), 1);
    assert!(posted[0].to_string().contains("You listened without fixing."), "{doc}");

    // /forget: Alex's check-in goes, with the reflection that quoted it.
    let ix = alex.slash(home, "forget", serde_json::json!({})).unwrap();
    let ask = alex.wait_for_response(ix, |m| m.content.contains("Are you sure"), WAIT).await.unwrap();
    let ix = alex.click(ask.id, &button(&ask, "Yes, delete what I wrote")).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("deleted"), WAIT).await.unwrap();
    crate::support::bot::wait_until(|| (reflections_in(&sam, home) == 0).then_some(())).await;
    let (couple, _) = app.engine.couple_of(&alex.id().to_string()).await.unwrap().unwrap();
    assert!(app.engine.check_ins_of(couple, mend::core::model::Slot::A).await.unwrap().is_empty());
    assert_eq!(app.engine.check_ins_of(couple, mend::core::model::Slot::B).await.unwrap().len(), 1, "Sam's stay");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_check_in_the_reflection_waits_for_the_day_and_blames_no_one() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    a_week(&app, home).await;
    let for_alex = alex.wait_for_dm(is_check_in, WAIT).await.unwrap();
    sam.wait_for_dm(is_check_in, WAIT).await.unwrap();
    check_in(&alex, &for_alex, "The coffee you brought me in bed.", "Sit with me on the balcony.").await;

    // The reflection waits while the day is open.
    app.set_time("2026-01-12T17:59:00Z");
    app.settle().await;
    assert_eq!(reflections_in(&sam, home), 0, "it waits for the window to close");

    // A day after its slot, it comes, with what Alex wrote and nothing about Sam.
    app.set_time("2026-01-12T18:00:00Z");
    app.settle().await;
    let reflection = sam.wait_for_message(home, is_reflection, WAIT).await.unwrap();
    let f = fields(&reflection);
    assert_eq!(f[0].0, "Appreciations");
    assert!(f[0].1.contains("**Alex** appreciated:\n> The coffee you brought me in bed."), "{}", f[0].1);
    let care = &f[position(&f, "One thing I can do for you")].1;
    assert!(care.contains("**What would help Alex feel cared for**\n> Sit with me on the balcony."), "{care}");
    let all = serde_json::to_string(&reflection.embeds).unwrap();
    assert!(!all.contains("Sam"), "the partner who didn't check in is not named: {all}");
    for words in ["didn't", "did not", "check in", "checked in", "missing", "forgot"] {
        assert!(!all.contains(words), "{words:?} in {all}");
    }
    assert_eq!(reflection.attachments.len(), 1, "the picture comes with it");

    // Sam, later: the check-in has closed, kindly said.
    let for_sam = sam.wait_for_dm(is_check_in, WAIT).await.unwrap();
    let ix = sam.click(for_sam.id, &button(&for_sam, "Check in")).unwrap();
    let closed = sam.wait_for_response(ix, |m| m.content.contains("already gone out"), WAIT).await.unwrap();
    assert!(closed.ephemeral);

    // `/couple end`: the check-ins go with everything else.
    let ix = sam.slash(home, "couple end", serde_json::json!({})).unwrap();
    let ask = sam.wait_for_response(ix, |m| m.content.contains("Are you sure"), WAIT).await.unwrap();
    let ix = sam.click(ask.id, &button(&ask, "Yes, send our copies and end")).unwrap();
    sam.wait_for_ack(ix, WAIT).await.unwrap();
    // (Its "Done" is in the channel deleted right after: what lasts is the end.)
    crate::support::bot::wait_until(|| app.engine_couple_gone(&sam)).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM checkins").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(left, 0, "no check-in outlives the couple");
    let disk = app.on_disk();
    assert!(!disk.windows(10).any(|w| w == b"the balcon"), "nor its words");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reflection_is_posted_once_a_week_even_when_a_post_times_out() {
    crate::support::bot::HTTP_TIMEOUT.with(|t| t.set(std::time::Duration::from_secs(2)));
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    a_week(&app, home).await;
    let for_alex = alex.wait_for_dm(is_check_in, WAIT).await.unwrap();
    let for_sam = sam.wait_for_dm(is_check_in, WAIT).await.unwrap();
    check_in(&alex, &for_alex, "Your patience.", "").await;
    // Discord holds the reflection's post past mend's timeout, then creates it
    // anyway: the retry must find it, not post it again.
    let to_home = |app: &TestBot| {
        let path = format!("/channels/{home}/messages");
        app.sim.requests().iter().filter(|r| r.method == "POST" && r.path == path).count()
    };
    let before = to_home(&app);
    app.sim.inject_fault(Fault::hang("POST /channels/*/messages", 1, 3.0));
    check_in(&sam, &for_sam, "", "A quiet evening together.").await;
    sam.wait_for_message(home, is_reflection, WAIT).await.unwrap();
    app.settle().await;
    app.advance(chrono::Duration::seconds(5));
    app.settle().await;
    // More steps, the hour the item was first due, and the week after's
    // Saturday: still one reflection for this week.
    for _ in 0..3 {
        app.step().await;
    }
    assert_eq!(to_home(&app) - before, 2, "the post that timed out, and its retry (answered with the first)");
    for at in ["2026-01-12T18:00:00Z", "2026-01-12T19:00:00Z", "2026-01-17T12:00:00Z"] {
        app.set_time(at);
        app.settle().await;
    }
    assert_eq!(reflections_in(&sam, home), 1, "one reflection this week, though its first post timed out");
    let (couple, _) = app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap();
    let items = app.engine.outbox_of(couple).await.unwrap();
    let weekly: Vec<_> =
        items.iter().filter(|i| i.kind == mend::core::outbox::ItemKind::Reflection).map(|i| i.status).collect();
    assert_eq!(weekly, [mend::core::outbox::ItemStatus::Sent]);
    app.stop().await;
}
