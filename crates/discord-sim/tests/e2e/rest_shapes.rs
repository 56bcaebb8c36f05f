//! REST responses parse into serenity's model types when serenity itself
//! makes the calls (over TLS, rate limiter on), and Discord's errors come
//! back with their codes.

use crate::common;
use serenity::all::{
    ChannelId, ChannelType, CreateAttachment, CreateChannel, CreateCommand, CreateCommandOption, CreateEmbed,
    CreateMessage, CreateThread, GuildId, PermissionOverwrite, PermissionOverwriteType, Permissions, UserId,
};
use serenity::http::HttpError;

/// The Discord error code of a failed serenity call.
fn code(err: serenity::Error) -> isize {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => r.error.code,
        other => panic!("not a Discord error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_user_gateway_and_commands() {
    let sim = common::sim().await;
    let http = common::http(&sim);
    let me = http.get_current_user().await.unwrap();
    assert_eq!((me.id.get(), me.bot), (sim.bot_user_id(), true));
    let app = http.get_current_application_info().await.unwrap();
    assert_eq!(app.id.get(), sim.application_id());
    assert_eq!(app.owner.unwrap().id.get(), sim.world().owner_id);
    let gateway = http.get_bot_gateway().await.unwrap();
    assert_eq!(gateway.url, sim.gateway_url());
    let alex = sim.user("alex").id();
    assert_eq!(http.get_user(UserId::new(alex)).await.unwrap().name, "alex");

    http.set_application_id(app.id);
    let guild = GuildId::new(sim.guild_id());
    let cmd = CreateCommand::new("schedule").description("When prompts arrive").add_option(
        CreateCommandOption::new(serenity::all::CommandOptionType::String, "timezone", "IANA zone")
            .required(true)
            .set_autocomplete(true),
    );
    let first = guild.set_commands(&http, vec![cmd.clone()]).await.unwrap();
    let again = guild.set_commands(&http, vec![cmd]).await.unwrap();
    assert_eq!(first[0].id, again[0].id, "bulk overwrite keeps ids of existing commands");
    assert_eq!(again[0].options[0].name, "timezone");
    let bad = CreateCommand::new("Bad Name").description("x");
    assert_eq!(code(guild.set_commands(&http, vec![bad]).await.unwrap_err()), 50035);
    let global =
        serenity::all::Command::set_global_commands(&http, vec![CreateCommand::new("help").description("Help")])
            .await
            .unwrap();
    assert_eq!(global[0].name, "help");
    assert_eq!(sim.commands(Some(sim.guild_id())).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_channel_thread_dm_and_attachments() {
    let sim = common::sim().await;
    let http = common::http(&sim);
    let guild = GuildId::new(sim.guild_id());
    let (alex, sam, bot) = (sim.user("alex"), sim.user("sam"), sim.bot_user_id());
    let allow = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES;
    let member = |id: u64| PermissionOverwrite {
        allow,
        deny: Permissions::empty(),
        kind: PermissionOverwriteType::Member(UserId::new(id)),
    };
    let everyone = PermissionOverwrite {
        allow: Permissions::empty(),
        deny: Permissions::VIEW_CHANNEL,
        kind: PermissionOverwriteType::Role(guild.get().into()),
    };
    // Forgetting the bot's own overwrite makes the channel unusable for it.
    let forgot = guild
        .create_channel(
            &http,
            CreateChannel::new("forgot-the-bot")
                .kind(ChannelType::Text)
                .permissions(vec![everyone.clone(), member(alex.id())]),
        )
        .await
        .unwrap();
    let refused = forgot.id.say(&http, "hello?").await.unwrap_err();
    assert_eq!(code(refused), 50001);

    let overwrites = vec![everyone, member(alex.id()), member(sam.id()), member(bot)];
    let private = guild
        .create_channel(&http, CreateChannel::new("alex-and-sam").kind(ChannelType::Text).permissions(overwrites))
        .await
        .unwrap();
    assert_eq!(private.permission_overwrites.len(), 4);
    assert!(alex.can_see(private.id.get()) && sam.can_see(private.id.get()));
    assert!(!sim.user("casey").can_see(private.id.get()));
    assert!(sim.user("casey").messages_in(private.id.get()).is_err());

    let file = CreateAttachment::bytes(b"pillar,count\nrepair,3\n".to_vec(), "week.csv");
    let prompt = private
        .id
        .send_message(
            &http,
            CreateMessage::new()
                .content("Today's prompt")
                .embed(CreateEmbed::new().title("Turning Toward"))
                .add_file(file),
        )
        .await
        .unwrap();
    assert_eq!(prompt.attachments[0].filename, "week.csv");
    let seen = alex.messages_in(private.id.get()).unwrap();
    assert_eq!(seen[0].attachments[0].data, b"pillar,count\nrepair,3\n");
    assert_eq!(seen[0].embeds[0]["title"], "Turning Toward");

    let thread = private.id.create_thread_from_message(&http, prompt.id, CreateThread::new("Answers")).await.unwrap();
    assert_eq!(thread.id.get(), prompt.id.get(), "a message thread takes the message's id");
    thread.id.say(&http, "Alex: we walked").await.unwrap();
    assert_eq!(sam.messages_in(thread.id.get()).unwrap().len(), 1);
    assert_eq!(
        code(private.id.create_thread_from_message(&http, prompt.id, CreateThread::new("again")).await.unwrap_err()),
        160004
    );

    let dm = UserId::new(alex.id()).create_dm_channel(&http).await.unwrap();
    let dm_again = UserId::new(alex.id()).create_dm_channel(&http).await.unwrap();
    assert_eq!(dm.id, dm_again.id, "DM creation is idempotent");
    dm.id.say(&http, "Your prompt for today").await.unwrap();
    assert_eq!(alex.dms()[0].content, "Your prompt for today");
    alex.set_dms_closed(true);
    assert_eq!(code(dm.id.say(&http, "nudge").await.unwrap_err()), 50007);

    let fetched = http.get_channel(private.id).await.unwrap();
    assert!(fetched.guild().is_some());
    let member = http.get_member(guild, UserId::new(sam.id())).await.unwrap();
    assert_eq!(member.user.name, "sam");
    private.id.delete(&http).await.unwrap();
    assert_eq!(code(http.get_channel(private.id).await.unwrap_err()), 10003);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_errors_and_nonce_dedupe() {
    let sim = common::sim().await;
    let http = common::http(&sim);
    let general = ChannelId::new(sim.channel_id("general"));
    // serenity checks the 2000 limit itself, so go around it with raw JSON.
    let long = serde_json::json!({"content": "x".repeat(2001)});
    let err = http.send_message(general, vec![], &long).await.unwrap_err();
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = err else { panic!() };
    assert_eq!((r.status_code.as_u16(), r.error.code), (400, 50035));
    assert_eq!(r.error.errors[0].path, "content");
    // serenity checks each embed's 6000; Discord also limits their sum.
    let big = CreateEmbed::new().description("d".repeat(3500));
    let too_big = general.send_message(&http, CreateMessage::new().embeds(vec![big.clone(), big])).await;
    assert_eq!(code(too_big.unwrap_err()), 50035);

    let prompt = || {
        CreateMessage::new()
            .content("prompt")
            .nonce(serenity::all::Nonce::String("p7-20240101".into()))
            .enforce_nonce(true)
    };
    let first = general.send_message(&http, prompt()).await.unwrap();
    let second = general.send_message(&http, prompt()).await.unwrap();
    assert_eq!(first.id, second.id, "enforce_nonce returns the existing message");
    assert_eq!(sim.user("alex").messages_in(general.get()).unwrap().len(), 1);

    let wrong = serenity::all::HttpBuilder::new("not-the-token").client(common::reqwest_client(&sim)).build();
    assert_eq!(code(wrong.get_current_user().await.unwrap_err()), 0);
    assert_eq!(sim.requests_to("GET /users/@me").last().unwrap().status, 401);
    assert_eq!(code(http.get_channel(ChannelId::new(1234)).await.unwrap_err()), 10003);

    // Routes the sim lacks still answer with Discord's JSON error shape.
    let raw = common::reqwest_client(&sim);
    let auth = format!("Bot {}", sim.token());
    let missing =
        raw.get("https://discord.com/api/v10/guilds/1/emojis").header("authorization", &auth).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.json::<serde_json::Value>().await.unwrap()["code"], 0);
    let wrong_method =
        raw.put("https://discord.com/api/v10/users/@me").header("authorization", &auth).send().await.unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
    assert_eq!(wrong_method.json::<serde_json::Value>().await.unwrap()["message"], "405: Method Not Allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_without_manage_channels_gets_50013() {
    let mut cfg = discord_sim::SimConfig::for_tests();
    cfg.world = discord_sim::WorldSpec::default().bot_without(discord_sim::perms::bits::MANAGE_CHANNELS);
    let sim = discord_sim::Sim::start(cfg).await.unwrap();
    let http = common::http(&sim);
    let guild = GuildId::new(sim.guild_id());
    let refused = guild.create_channel(&http, CreateChannel::new("nope")).await.unwrap_err();
    assert_eq!(code(refused), 50013);
    assert!(sim.find_channel("nope").is_none());
}

/// `GET /users/@me/guilds` parses into serenity's `GuildInfo`, with the bot's
/// guild-level permissions as Discord computes them; the application's `flags`
/// say which privileged intents the portal has on, in both application endpoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_user_guilds_and_application_flags() {
    use discord_sim::config::intents;
    use discord_sim::perms::bits;
    use serenity::all::ApplicationFlags;

    let mut config = discord_sim::SimConfig::for_tests();
    config.world = discord_sim::WorldSpec::default().bot_without(bits::MANAGE_CHANNELS);
    let sim = discord_sim::Sim::start(config).await.unwrap();
    let http = common::http(&sim);
    let guilds = http.get_guilds(None, None).await.unwrap();
    assert_eq!(guilds.len(), 1);
    let g = &guilds[0];
    assert_eq!((g.id.get(), g.name.as_str(), g.owner), (sim.guild_id(), "Mend Test Server", false));
    let expected = (bits::BOT_DEFAULT & !bits::MANAGE_CHANNELS) | bits::EVERYONE_DEFAULT;
    assert_eq!(g.permissions.bits(), expected, "@everyone and the bot's role together");
    assert!(!g.permissions.manage_channels());
    assert_eq!(http.get_guilds(None, Some(201)).await.map(|_| ()).map_err(code), Err(50035));

    let flags = http.get_current_application_info().await.unwrap().flags.unwrap();
    assert!(flags.contains(ApplicationFlags::GATEWAY_GUILD_MEMBERS_LIMITED), "{flags:?}");
    assert!(flags.contains(ApplicationFlags::GATEWAY_MESSAGE_CONTENT_LIMITED), "{flags:?}");

    let mut config = discord_sim::SimConfig::for_tests();
    config.privileged_intents = intents::MESSAGE_CONTENT;
    let without = discord_sim::Sim::start(config).await.unwrap();
    let flags = common::http(&without).get_current_application_info().await.unwrap().flags.unwrap();
    let members = ApplicationFlags::GATEWAY_GUILD_MEMBERS | ApplicationFlags::GATEWAY_GUILD_MEMBERS_LIMITED;
    assert!(!flags.intersects(members), "{flags:?}");
    let raw: serde_json::Value = common::reqwest_client(&without)
        .get("https://discord.com/api/v10/applications/@me")
        .header("authorization", format!("Bot {}", without.token()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["flags"].as_u64().unwrap() & (1 << 15 | 1 << 14), 0, "{raw}");
}
