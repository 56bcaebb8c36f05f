//! A forged click: what a modified client (or a leaked message id) can make
//! Discord send for a message in a channel its user cannot see. A bot must
//! re-check who acts; these tests show the sim lets a bot's check be tested.

use crate::common::{WAIT, start_bot_with};
use discord_sim::{Sim, SimConfig, SimError, WorldSpec};
use serde_json::{Value, json};
use serenity::all::{
    ChannelType, ComponentInteraction, Context, CreateActionRow, CreateButton, CreateChannel,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage, CreateSelectMenu, CreateSelectMenuKind,
    CreateSelectMenuOption, Event, EventHandler, GatewayIntents, GuildId, Interaction, PermissionOverwrite,
    PermissionOverwriteType, Permissions, UserId,
};
use serenity::async_trait;

/// Buttons that belong to one user: anyone else is refused, privately.
struct Guard {
    owner: u64,
}

#[async_trait]
impl EventHandler for Guard {
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Component(c) = interaction {
            reply(&ctx, &c, if c.user.id.get() == self.owner { "Done." } else { "Not yours." }).await;
        }
    }
}

async fn reply(ctx: &Context, c: &ComponentInteraction, text: &str) {
    let message = CreateInteractionResponseMessage::new().content(text).ephemeral(true);
    c.create_response(&ctx.http, CreateInteractionResponse::Message(message)).await.unwrap();
}

/// A world with one user outside the guild.
async fn sim_with_outsider() -> Sim {
    let world = WorldSpec { outsiders: vec!["drew".into()], ..WorldSpec::default() };
    Sim::start(SimConfig { world, ..SimConfig::for_tests() }).await.expect("sim starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_click_reaches_the_bot_from_a_user_who_cannot_see_the_channel() {
    let sim = sim_with_outsider().await;
    let (alex, casey) = (sim.user("alex"), sim.user("casey"));
    let mut bot = start_bot_with(&sim, GatewayIntents::GUILDS, Guard { owner: alex.id() }).await;
    bot.next("GUILD_CREATE").await;

    // A channel only alex (and the bot) can see, with alex's buttons in it.
    let guild = GuildId::new(sim.guild_id());
    let allow = |id: u64| PermissionOverwrite {
        allow: Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES,
        deny: Permissions::empty(),
        kind: PermissionOverwriteType::Member(UserId::new(id)),
    };
    let everyone = PermissionOverwrite {
        allow: Permissions::empty(),
        deny: Permissions::VIEW_CHANNEL,
        kind: PermissionOverwriteType::Role(guild.get().into()),
    };
    let overwrites = vec![everyone, allow(alex.id()), allow(sim.bot_user_id())];
    let channel = guild
        .create_channel(&bot.http, CreateChannel::new("alex-only").kind(ChannelType::Text).permissions(overwrites))
        .await
        .unwrap();
    let mood = CreateSelectMenu::new(
        "mood",
        CreateSelectMenuKind::String {
            options: vec![CreateSelectMenuOption::new("Calm", "calm"), CreateSelectMenuOption::new("Tired", "tired")],
        },
    );
    let rows = vec![
        CreateActionRow::Buttons(vec![CreateButton::new("answer:7").label("Answer")]),
        CreateActionRow::SelectMenu(mood),
    ];
    let message =
        channel.id.send_message(&bot.http, CreateMessage::new().content("Today").components(rows)).await.unwrap();
    let (private, msg) = (channel.id.get(), message.id.get());
    assert!(!casey.can_see(private));

    // An ordinary client cannot click it.
    assert!(matches!(casey.click(msg, "answer:7"), Err(SimError::Forbidden(_))));

    // A forged click reaches the bot, claiming the message's own channel, with casey as the member.
    let ix = casey.forge_click(private, msg, "answer:7").unwrap();
    let Event::InteractionCreate(event) = bot.next("INTERACTION_CREATE").await else { unreachable!() };
    let Interaction::Component(c) = event.interaction else { panic!("not a component interaction") };
    assert_eq!(c.id.get(), ix);
    assert_eq!((c.user.id.get(), c.channel_id.get(), c.guild_id), (casey.id(), private, Some(guild)));
    assert_eq!(c.member.as_ref().map(|m| m.user.id.get()), Some(casey.id()));
    assert_eq!((c.message.id.get(), c.data.custom_id.as_str()), (msg, "answer:7"));

    // The bot's private refusal reaches casey, and only casey.
    let refused = casey.wait_for_response(ix, |m| m.content == "Not yours.", WAIT).await.unwrap();
    assert!(refused.ephemeral && refused.channel_id == private);
    assert!(casey.messages_in(private).is_err(), "casey still cannot read the channel");
    assert!(alex.messages_in(private).unwrap().iter().all(|m| m.content != "Not yours."));
    assert_eq!(alex.messages_in(private).unwrap().len(), 1, "only the prompt");

    // The message, the component and membership are still Discord's to check.
    let general = sim.channel_id("general");
    assert!(matches!(casey.forge_click(general, msg, "answer:7"), Err(SimError::NotFound(_))), "wrong channel");
    assert!(matches!(casey.forge_click(private, msg, "answer:8"), Err(SimError::NotFound(_))), "no such button");
    assert!(matches!(casey.forge_click(private, msg, "mood"), Err(SimError::Invalid(_))), "a select needs values");
    let drew = sim.user("drew");
    assert!(matches!(drew.forge_click(private, msg, "answer:7"), Err(SimError::Forbidden(_))), "not a member");

    // The owner of the buttons still gets through the ordinary way.
    let ok = alex.click(msg, "answer:7").unwrap();
    alex.wait_for_response(ok, |m| m.content == "Done.", WAIT).await.unwrap();
    bot.next("INTERACTION_CREATE").await;

    // The same through the control API, with a select menu.
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let req = http.post(format!("{}/users/casey/{path}", sim.control_url())).json(&body);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let click = json!({"message_id": msg, "custom_id": "mood", "values": ["calm"]});
    assert_eq!(post("click", click.clone()).await.0, 403, "an ordinary click is refused");
    let mut forged = click;
    forged["channel_id"] = json!(private);
    let (status, body) = post("forge-click", forged).await;
    assert_eq!(status, 200, "{body}");
    let id = body["interaction_id"].as_u64().unwrap();
    let Event::InteractionCreate(event) = bot.next("INTERACTION_CREATE").await else { unreachable!() };
    let Interaction::Component(c) = event.interaction else { panic!("not a component interaction") };
    assert_eq!((c.id.get(), c.user.id.get(), c.channel_id.get()), (id, casey.id(), private));
    let (status, reply) = post("wait/response", json!({"interaction_id": id, "contains": "Not yours."})).await;
    assert_eq!((status, reply["ephemeral"].as_bool()), (200, Some(true)), "{reply}");
    bot.stop().await;
}
