//! Defects of the foundation issue as the couple lives them on Discord, end to
//! end through serenity and poise against the local Discord.

use crate::support::bot::{TestBot, WAIT, button, find_button};
use discord_sim::Fault;

const NUDGE: &str = "waiting whenever you're ready";

/// Defect 1: after "I need space" ends, a partner who hasn't answered is nudged
/// again, as before the space.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_space_ends_a_partner_who_has_not_answered_is_nudged_again() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    app.set_time("2026-01-05T07:30:00Z");
    let monday = sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    let ix = sam.click(monday.id, &button(&monday, "I need space")).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("paused until"), WAIT).await.unwrap();
    app.settle().await;
    // The space ends Wednesday morning; Thursday's prompt comes, and six hours
    // later each partner gets one gentle reminder.
    app.set_time("2026-01-08T07:30:00Z");
    let thursday = sam.wait_for_message(home, |m| !m.embeds.is_empty() && m.id != monday.id, WAIT).await.unwrap();
    app.settle().await;
    app.set_time("2026-01-08T13:31:00Z");
    for user in [&alex, &sam] {
        let nudge = user.wait_for_dm(|m| m.content.contains(NUDGE), WAIT).await.unwrap();
        assert!(find_button(&nudge, "I need space").is_some(), "the nudge keeps today's buttons");
    }
    assert!(!thursday.embeds.is_empty());
    app.stop().await;
}

/// Defects 4 and 5: in DMs, a partner whose DMs are closed is not retried every
/// pass (each a refused request Discord counts towards a ban), and the partner
/// who got the reflection never gets it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_dm_is_not_retried_and_a_half_sent_reflection_is_not_doubled() {
    let app = TestBot::start_global().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    app.pair_in_dms("alex", "sam").await;
    // Monday's prompt reaches both.
    app.set_time("2026-01-05T07:30:00Z");
    sam.wait_for_dm(|m| !m.embeds.is_empty(), WAIT).await.unwrap();
    alex.wait_for_dm(|m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.settle().await;
    // Sam closes their DMs to mend. Sunday 19:00 Paris: the weekly reflection.
    sam.set_dms_closed(true);
    let sam_dm = sam.dm_channel().unwrap();
    let to_sam = |app: &TestBot| {
        app.sim
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == format!("/channels/{sam_dm}/messages"))
            .count()
    };
    let before = to_sam(&app);
    // First each partner's check-in: Sam's cannot reach them, and is tried once.
    app.set_time("2026-01-11T18:00:00Z");
    app.settle().await;
    alex.wait_for_dm(|m| m.content.contains("gentle check-in"), WAIT).await.unwrap();
    assert_eq!(to_sam(&app) - before, 1, "the check-in to a closed DM is tried once");
    // The reflection comes when the check-in window closes, a day later.
    app.set_time("2026-01-12T18:00:00Z");
    alex.wait_for_dm(|m| m.embeds.iter().any(|e| e["title"] == "Your week together"), WAIT).await.unwrap();
    app.settle().await;
    // An hour of passes, a minute apart.
    for minute in 1..=60 {
        app.set_time(&format!("2026-01-12T18:{minute:02}:00Z").replace("18:60", "19:00"));
        app.settle().await;
    }
    let reflections = alex.dms().iter().filter(|m| m.embeds.iter().any(|e| e["title"] == "Your week together")).count();
    assert_eq!(reflections, 1, "the partner who had it is not sent it again");
    assert_eq!(to_sam(&app) - before, 2, "a closed DM is tried once for each message, not every pass");
    // Prompts pause, and the partner mend can still reach is told what Sam can do, once.
    let told = alex.dms().iter().filter(|m| m.content.contains("can't reach Sam")).count();
    assert_eq!(told, 1);
    app.stop().await;
}

/// Defect 10: once the pairing is made, a failure after it (the welcome post)
/// never tells the partner to try again; the welcome comes from the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_welcome_after_pairing_is_retried_not_blamed_on_the_partner() {
    let app = TestBot::start().await;
    let sam = app.user("sam");
    let invitation = app.invite("alex", "sam").await;
    app.sim.inject_fault(Fault::server_error("POST /channels/*/messages", 3, 502));
    let accept = sam.click(invitation.id, &button(&invitation, "Accept")).unwrap();
    let home = crate::support::bot::wait_until(|| {
        sam.visible_channels().into_iter().find(|c| c.name.starts_with("mend-")).map(|c| c.id)
    })
    .await;
    // Discord recovers; mend tries the welcome again after its backoff.
    for second in 1..=20 {
        app.set_time(&format!("2026-01-05T00:00:{second:02}Z"));
        if sam.messages_in(home).unwrap().iter().any(|m| m.content.contains("Welcome")) {
            break;
        }
        app.settle().await;
    }
    sam.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    // Sam was told they are paired, and never asked to try again.
    let paired = crate::support::bot::wait_until(|| {
        sam.dms().into_iter().find(|m| m.id == invitation.id && m.content.contains("You accepted"))
    })
    .await;
    assert!(paired.content.contains(&format!("<#{home}>")));
    let blamed = sam
        .wait_for_response(
            accept,
            |m| m.content.contains("Something went wrong"),
            std::time::Duration::from_millis(200),
        )
        .await;
    assert!(blamed.is_err(), "the partner is never told to try again once paired");
    let welcomes = sam.messages_in(home).unwrap().iter().filter(|m| m.content.contains("Welcome")).count();
    assert_eq!(welcomes, 1);
    assert!(app.engine.couple_of(&sam.id().to_string()).await.unwrap().is_some());
    app.stop().await;
}
