//! The gateway lifecycle with a real serenity client: heartbeats, op 7,
//! dropped sockets with replay on RESUME, op 9, close codes, intents.

use crate::common;
use std::time::Duration;

use crate::common::{Bot, WAIT, start_bot};
use discord_sim::{Sim, SimConfig};
use serenity::all::{Event, GatewayError, GatewayIntents};

const INTENTS: GatewayIntents =
    GatewayIntents::GUILDS.union(GatewayIntents::GUILD_MESSAGES).union(GatewayIntents::DIRECT_MESSAGES);

async fn ready_bot(sim: &Sim, intents: GatewayIntents) -> Bot {
    let mut bot = start_bot(sim, intents).await;
    bot.next("GUILD_CREATE").await;
    bot
}

async fn until(sim: &Sim, what: &str, check: impl Fn(&discord_sim::GatewayStats) -> bool) {
    until_within(sim, WAIT, what, check).await;
}

async fn until_within(sim: &Sim, wait: Duration, what: &str, check: impl Fn(&discord_sim::GatewayStats) -> bool) {
    let deadline = std::time::Instant::now() + wait;
    while !check(&sim.gateway_stats()) {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}: {:?}", sim.gateway_stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn message_content(bot: &mut Bot) -> String {
    let Event::MessageCreate(m) = bot.next("MESSAGE_CREATE").await else { unreachable!() };
    m.message.content
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn op7_reconnect_resumes_and_dropped_socket_replays_missed_events() {
    let sim = common::sim().await;
    let mut bot = ready_bot(&sim, INTENTS | GatewayIntents::MESSAGE_CONTENT).await;
    let (alex, general) = (sim.user("alex"), sim.channel_id("general"));
    until(&sim, "a heartbeat", |s| s.heartbeats > 0).await;

    assert_eq!(sim.request_reconnect(), 1);
    bot.next("RESUMED").await;
    alex.say(general, "after op 7").unwrap();
    assert_eq!(message_content(&mut bot).await, "after op 7");

    assert_eq!(sim.drop_gateway(None), 1);
    alex.say(general, "while the socket was down").unwrap();
    assert_eq!(message_content(&mut bot).await, "while the socket was down");
    until(&sim, "the second resume", |s| s.resumes == 2).await;
    let stats = sim.gateway_stats();
    assert_eq!((stats.identifies, stats.failed_resumes), (1, 0), "{stats:?}");
    bot.stop().await;
}

/// serenity 0.12.5 answers a missed ACK with a full restart (a new IDENTIFY
/// through its shard queuer, about 5 s later), not with a RESUME.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_heartbeat_ack_makes_serenity_restart_the_shard() {
    let sim = common::sim().await;
    let bot = ready_bot(&sim, INTENTS).await;
    sim.drop_heartbeat_acks(1);
    let wait = Duration::from_secs(15);
    until_within(&sim, wait, "a new session after a missed ACK", |s| s.identifies >= 2).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_session_without_resume_reidentifies() {
    let sim = common::sim().await;
    let mut bot = ready_bot(&sim, INTENTS).await;
    assert_eq!(sim.invalidate_session(false), 1);
    // serenity's shard queuer waits 5 s between identifies.
    let ready = tokio::time::timeout(Duration::from_secs(15), bot.next("READY")).await;
    assert!(ready.is_ok(), "re-identified: {:?}", sim.gateway_stats());
    assert_eq!(sim.gateway_stats().identifies, 2);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_and_disallowed_intents_are_fatal() {
    let sim = common::sim().await;
    let http = serenity::all::HttpBuilder::new("wrong").client(common::reqwest_client(&sim)).build();
    let mut client = serenity::all::ClientBuilder::new_with_http(http, INTENTS).await.unwrap();
    let result = tokio::time::timeout(WAIT, client.start()).await.expect("start returns");
    assert!(matches!(result, Err(serenity::Error::Gateway(GatewayError::InvalidAuthentication))), "{result:?}");

    let mut cfg = SimConfig::for_tests();
    cfg.privileged_intents = 0;
    let strict = Sim::start(cfg).await.unwrap();
    let mut client =
        serenity::all::ClientBuilder::new_with_http(common::http(&strict), INTENTS | GatewayIntents::MESSAGE_CONTENT)
            .await
            .unwrap();
    let result = tokio::time::timeout(WAIT, client.start()).await.expect("start returns");
    assert!(matches!(result, Err(serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_content_needs_the_intent_unless_mentioned_or_in_dm() {
    let sim = common::sim().await;
    let mut bot = ready_bot(&sim, INTENTS).await;
    let (alex, general, bot_id) = (sim.user("alex"), sim.channel_id("general"), sim.bot_user_id());
    alex.say(general, "just chatting").unwrap();
    assert_eq!(message_content(&mut bot).await, "", "no MESSAGE_CONTENT intent");
    alex.say(general, &format!("<@{bot_id}> hello")).unwrap();
    assert_eq!(message_content(&mut bot).await, format!("<@{bot_id}> hello"));
    alex.dm("a private answer").unwrap();
    assert_eq!(message_content(&mut bot).await, "a private answer");
    bot.stop().await;

    let mut guild_only = ready_bot(&sim, GatewayIntents::GUILDS).await;
    alex.dm("unseen").unwrap();
    alex.say(general, "unseen too").unwrap();
    sim.user("sam").leave_guild().unwrap();
    // A GUILDS event afterwards proves the stream is live; nothing else came before it.
    sim.delete_channel(general).unwrap();
    let mut seen = vec![];
    while let Ok(Some((name, _))) = tokio::time::timeout(WAIT, guild_only.events.recv()).await {
        if name == "CHANNEL_DELETE" {
            break;
        }
        seen.push(name);
    }
    assert!(seen.iter().all(|n| n != "MESSAGE_CREATE" && n != "GUILD_MEMBER_REMOVE"), "{seen:?}");
    guild_only.stop().await;
}
