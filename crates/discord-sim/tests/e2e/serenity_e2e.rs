//! A real serenity 0.12.5 client against the sim: TLS REST with serenity's
//! rate limiter, plain ws gateway, READY, GUILD_CREATE, sending messages.

use crate::common;
use crate::common::{WAIT, start_bot};
use serenity::all::{ChannelId, CreateMessage, Event, GatewayIntents};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_connects_over_tls_and_ws_and_sends_a_message() {
    let sim = common::sim().await;
    let mut bot = start_bot(&sim, GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES).await;

    let Event::Ready(ready) = bot.next("READY").await else { unreachable!() };
    assert_eq!(ready.ready.user.id.get(), sim.bot_user_id());
    let Event::GuildCreate(guild) = bot.next("GUILD_CREATE").await else { unreachable!() };
    assert_eq!(guild.guild.id.get(), sim.guild_id());
    assert!(!sim.requests_to("GET /gateway").is_empty(), "the gateway URL came from the sim");

    let general = sim.channel_id("general");
    let sent = ChannelId::new(general)
        .send_message(&bot.http, CreateMessage::new().content("hello from serenity"))
        .await
        .expect("message sent over TLS");
    assert_eq!(sent.content, "hello from serenity");

    // The sim echoes MESSAGE_CREATE for the bot's own message.
    let Event::MessageCreate(echo) = bot.next("MESSAGE_CREATE").await else { unreachable!() };
    assert_eq!(echo.message.id, sent.id);

    let alex = sim.user("alex");
    let seen = alex
        .wait_for_message(general, |m| m.content == "hello from serenity", WAIT)
        .await
        .expect("alex sees the message");
    assert_eq!(seen.author_id, sim.bot_user_id());
    bot.stop().await;
}
