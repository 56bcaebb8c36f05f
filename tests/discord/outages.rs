//! Outages and Discord faults delay work but lose none of it: 429s and 5xx on
//! the message route, a dropped gateway, a reconnect request, an invalid
//! session; a deleted channel, a partner who left, a missing permission — the
//! couple is told, prompts pause instead of failing every day, and come back.

use crate::support::bot::{TestBot, WAIT, find_button};
use discord_sim::Fault;
use serde_json::json;

/// Clicks Answer until the modal opens (the gateway may be reconnecting).
async fn open_answer(user: &discord_sim::SimUser, prompt: u64, answer: &str) -> u64 {
    loop {
        if let Ok(ix) = user.click(prompt, answer)
            && user.wait_for_modal(ix, std::time::Duration::from_secs(3)).await.is_ok()
        {
            return ix;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn prompts_in(user: &discord_sim::SimUser, channel: u64) -> usize {
    user.messages_in(channel).map(|m| m.iter().filter(|m| !m.embeds.is_empty()).count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_server_errors_and_gateway_trouble_lose_nothing_and_double_nothing() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    // The next prompt meets two 429s, a global 429 and two 502s before it gets through.
    app.sim.inject_fault(Fault::rate_limit("POST /channels/*/messages", 2, 0.3));
    app.sim.inject_fault(Fault::global_rate_limit("POST /channels/*/messages", 1, 0.3));
    app.sim.inject_fault(Fault::server_error("POST /channels/*/messages", 2, 502));
    let mut day = 5;
    let prompt = loop {
        app.set_time(&format!("2026-01-{day:02}T07:30:00Z"));
        // A 5xx is retried after a backoff: move mend's clock past it.
        let prompt = loop {
            let seen =
                sam.wait_for_message(home, |m| !m.embeds.is_empty(), std::time::Duration::from_millis(500)).await;
            if let Ok(p) = seen
                && prompts_in(&sam, home) == day - 4
            {
                break p;
            }
            app.advance(chrono::Duration::seconds(5));
        };
        app.settle().await;
        if find_button(&prompt, "Answer").is_some() {
            break prompt;
        }
        day += 1;
    };
    assert_eq!(prompts_in(&sam, home), day - 4, "one prompt a day, none doubled by the retries");
    let injected = app.sim.requests_to("POST /channels/*/messages").iter().filter(|r| r.injected).count();
    assert_eq!(injected, 5, "every injected fault was met");
    let answer = find_button(&prompt, "Answer").unwrap();

    // The gateway drops while Alex answers; a reconnect request while Sam does.
    app.sim.drop_gateway(None);
    let ix = open_answer(&alex, prompt.id, &answer).await;
    let submit = alex.submit_modal(ix, &[("answer", "Through the storm.")], WAIT).await.unwrap();
    alex.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
    app.sim.request_reconnect();
    let ix = open_answer(&sam, prompt.id, &answer).await;
    let submit = sam.submit_modal(ix, &[("answer", "And the calm after.")], WAIT).await.unwrap();
    sam.wait_for_response(submit, |m| m.content.contains("Saved"), WAIT).await.unwrap();
    let thread = crate::support::bot::wait_until(|| {
        sam.messages_in(home).ok()?.into_iter().find(|m| m.id == prompt.id)?.thread_id
    })
    .await;
    sam.wait_for_message(thread, |m| m.content.contains("calm after"), WAIT).await.unwrap();
    let reveals = sam.messages_in(thread).unwrap().iter().filter(|m| m.content.contains("Through the storm")).count();
    assert_eq!(reveals, 1, "revealed once");

    // An invalid session (re-identify after serenity's 5 s) and the next day's
    // prompt still arrives, once.
    app.sim.invalidate_session(false);
    app.set_time(&format!("2026-01-{:02}T07:30:00Z", day + 1));
    crate::support::bot::wait_until(|| (prompts_in(&sam, home) == day - 3).then_some(())).await;
    app.settle().await;
    assert_eq!(prompts_in(&sam, home), day - 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_channel_moves_the_couple_to_dms_paused_until_they_resume() {
    let app = TestBot::start_global().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    app.sim.delete_channel(home).unwrap();
    for user in [&alex, &sam] {
        user.wait_for_dm(|m| m.content.contains("was deleted"), WAIT).await.unwrap();
    }
    let (couple, _) = app.engine.couple_of(&alex.id().to_string()).await.unwrap().unwrap();
    app.set_time("2026-01-05T07:30:00Z");
    app.settle().await;
    assert!(alex.dms().iter().all(|m| m.embeds.is_empty()), "paused: no prompt");
    assert!(app.engine.couple(couple).await.unwrap().paused);

    let ix = sam.slash_in_dm("resume", json!({})).unwrap();
    sam.wait_for_response(ix, |m| m.content.contains("Welcome back"), WAIT).await.unwrap();
    app.set_time("2026-01-06T07:30:00Z");
    alex.wait_for_dm(|m| !m.embeds.is_empty(), WAIT).await.unwrap();
    sam.wait_for_dm(|m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_access_to_the_channel_pauses_and_tells_the_couple_until_an_admin_fixes_it() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    let bot = app.sim.bot_user_id();
    let view_and_send = discord_sim::perms::bits::VIEW_CHANNEL | discord_sim::perms::bits::SEND_MESSAGES;
    app.sim.set_member_overwrite(home, bot, 0, view_and_send).unwrap();
    app.set_time("2026-01-05T07:30:00Z");
    alex.wait_for_dm(|m| m.content.contains("can no longer see or post"), WAIT).await.unwrap();
    sam.wait_for_dm(|m| m.content.contains("View Channel"), WAIT).await.unwrap();
    let (couple, _) = app.engine.couple_of(&alex.id().to_string()).await.unwrap().unwrap();
    assert!(app.engine.couple(couple).await.unwrap().paused, "paused instead of failing every day");
    // The next day nothing is attempted and nobody is told twice.
    app.set_time("2026-01-06T07:30:00Z");
    app.settle().await;
    assert_eq!(alex.dms().iter().filter(|m| m.content.contains("can no longer")).count(), 1);

    // An admin restores access; /resume brings prompts back.
    let everything = discord_sim::perms::bits::VIEW_CHANNEL
        | discord_sim::perms::bits::SEND_MESSAGES
        | discord_sim::perms::bits::EMBED_LINKS
        | discord_sim::perms::bits::READ_MESSAGE_HISTORY
        | discord_sim::perms::bits::CREATE_PUBLIC_THREADS
        | discord_sim::perms::bits::SEND_MESSAGES_IN_THREADS;
    app.sim.set_member_overwrite(home, bot, everything, 0).unwrap();
    let ix = alex.slash(home, "resume", json!({})).unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("Welcome back"), WAIT).await.unwrap();
    app.set_time("2026-01-07T07:30:00Z");
    sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_who_leaves_the_server_pauses_prompts_and_the_other_is_told() {
    let app = TestBot::start().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let home = app.pair("alex", "sam").await;
    sam.leave_guild().unwrap();
    alex.wait_for_message(home, |m| m.content.contains("no longer in this server"), WAIT).await.unwrap();
    let (couple, _) = app.engine.couple_of(&alex.id().to_string()).await.unwrap().unwrap();
    assert!(app.engine.couple(couple).await.unwrap().paused);
    app.set_time("2026-01-05T07:30:00Z");
    app.settle().await;
    assert_eq!(prompts_in(&alex, home), 0, "no prompt while paused");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_discord_holds_past_the_timeout_is_retried_without_doubling() {
    crate::support::bot::HTTP_TIMEOUT.with(|t| t.set(std::time::Duration::from_secs(2)));
    let app = TestBot::start().await;
    let sam = app.user("sam");
    let home = app.pair("alex", "sam").await;
    // Discord holds the post 3 s (mend gives up after 2 s) and then creates it anyway.
    app.sim.inject_fault(Fault::hang("POST /channels/*/messages", 1, 3.0));
    app.set_time("2026-01-05T07:30:00Z");
    sam.wait_for_message(home, |m| !m.embeds.is_empty(), WAIT).await.unwrap();
    // The retry, after its backoff, finds the post that went through and does not post again.
    app.settle().await;
    app.advance(chrono::Duration::seconds(5));
    app.settle().await;
    assert_eq!(prompts_in(&sam, home), 1, "one prompt, though the first post timed out");
    assert!(!app.sim.requests_to("GET /channels/*/messages").is_empty(), "the retry looked for its earlier post");
    let (couple, _) = app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap();
    let rows = app.engine.deliveries_of(couple).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, mend::core::entities::Status::Sent);
    app.stop().await;
}
