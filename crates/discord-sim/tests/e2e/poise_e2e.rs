//! A small poise 0.7.1 bot (shaped like mend) against the sim: command
//! registration in `setup`, defer + say, modals, buttons, autocomplete, DMs,
//! ephemeral replies, and the interaction rules (late or double callbacks).

use crate::common;
use std::time::Duration;

use crate::common::{Forward, WAIT};
use discord_sim::{InteractionKind, Sim, SimConfig};
use poise::serenity_prelude as serenity;
use serde_json::json;
use serenity::{
    ComponentInteraction, CreateActionRow, CreateButton, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, FullEvent, GatewayIntents,
};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, (), Error>;

#[derive(Debug, poise::Modal)]
#[name = "Your answer"]
struct AnswerModal {
    #[name = "Answer"]
    #[paragraph]
    #[max_length = 1000]
    answer: String,
}

/// Thinks, then answers (the first followup edits the deferred original).
#[poise::command(slash_command)]
async fn ping(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer().await?;
    ctx.say("pong").await?;
    Ok(())
}

/// Opens a modal and confirms privately.
#[poise::command(slash_command)]
async fn answer(ctx: poise::ApplicationContext<'_, (), Error>) -> Result<(), Error> {
    use poise::Modal as _;
    let Some(data) = AnswerModal::execute(ctx).await? else {
        return Ok(());
    };
    let reply = poise::CreateReply::default().content(format!("Saved: {}", data.answer)).ephemeral(true);
    ctx.send(reply).await?;
    Ok(())
}

/// Posts today's prompt with buttons.
#[poise::command(slash_command)]
async fn prompt(ctx: Context<'_>) -> Result<(), Error> {
    let row = CreateActionRow::Buttons(vec![
        CreateButton::new("answer:1").label("Answer"),
        CreateButton::new("skip:1").label("Skip today"),
    ]);
    let reply = poise::CreateReply::default().content("Today's prompt: what made you smile?").components(vec![row]);
    ctx.send(reply).await?;
    Ok(())
}

async fn zones(_ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = ["Europe/Berlin", "Europe/London", "America/New_York"]
        .into_iter()
        .filter(|z| z.starts_with(partial))
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Sets a timezone.
#[poise::command(slash_command)]
async fn tz(ctx: Context<'_>, #[autocomplete = "zones"] zone: String) -> Result<(), Error> {
    ctx.say(format!("Timezone set to {zone}")).await?;
    Ok(())
}

/// Says that mend is not therapy (works in DMs).
#[poise::command(slash_command, ephemeral)]
async fn help(ctx: Context<'_>) -> Result<(), Error> {
    ctx.say("mend is not therapy.").await?;
    Ok(())
}

/// Answers after the sim's (shortened) ack timeout.
#[poise::command(slash_command)]
async fn slow(ctx: Context<'_>) -> Result<(), Error> {
    tokio::time::sleep(Duration::from_millis(800)).await;
    ctx.say("too late").await?;
    Ok(())
}

async fn on_component(ctx: &serenity::Context, mci: &ComponentInteraction) -> Result<(), Error> {
    match mci.data.custom_id.as_str() {
        "skip:1" => {
            let update = CreateInteractionResponseMessage::new().content("Skipped today").components(vec![]);
            mci.create_response(ctx, CreateInteractionResponse::UpdateMessage(update)).await?;
        }
        "answer:1" => {
            let data =
                poise::execute_modal_on_component_interaction::<AnswerModal>(ctx, mci.clone(), None, None).await?;
            let text = format!("Saved: {}", data.map(|d| d.answer).unwrap_or_default());
            let followup = CreateInteractionResponseFollowup::new().content(text).ephemeral(true);
            mci.create_followup(ctx, followup).await?;
        }
        _ => {}
    }
    Ok(())
}

async fn on_event(ctx: &serenity::Context, event: &FullEvent) -> Result<(), Error> {
    match event {
        FullEvent::InteractionCreate { interaction: serenity::Interaction::Component(mci) } => {
            on_component(ctx, mci).await
        }
        FullEvent::Message { new_message: m } if m.guild_id.is_none() && !m.author.bot => {
            m.channel_id.say(ctx, format!("Got: {}", m.content)).await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

struct Bot {
    shards: std::sync::Arc<serenity::ShardManager>,
    events: tokio::sync::mpsc::UnboundedReceiver<(String, serenity::Event)>,
}

async fn start(sim: &Sim) -> Bot {
    let guild = serenity::GuildId::new(sim.guild_id());
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ping(), answer(), prompt(), tz(), help(), slow()],
            event_handler: |framework, event| Box::pin(on_event(framework.serenity_context, event)),
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                poise::builtins::register_in_guild(ctx, commands, guild).await?;
                poise::builtins::register_globally(ctx, &[help()]).await?;
                Ok(())
            })
        })
        .build();
    let intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    let (tx, events) = tokio::sync::mpsc::unbounded_channel();
    let mut client = serenity::ClientBuilder::new_with_http(common::http(sim), intents)
        .framework(framework)
        .raw_event_handler(Forward(tx))
        .await
        .unwrap();
    let shards = client.shard_manager.clone();
    tokio::spawn(async move { client.start().await });
    sim.wait_for_command("help", WAIT).await.expect("poise registered its commands in setup");
    Bot { shards, events }
}

impl Bot {
    async fn stop(mut self) {
        while let Ok((name, _)) = self.events.try_recv() {
            assert!(!name.starts_with("UNKNOWN"), "serenity dropped an event: {name}");
        }
        self.shards.shutdown_all().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_defer_modal_autocomplete_and_ephemeral_visibility() {
    let sim = common::sim().await;
    let bot = start(&sim).await;
    let (alex, casey) = (sim.user("alex"), sim.user("casey"));
    let general = sim.channel_id("general");

    let ping = alex.slash(general, "ping", json!({})).unwrap();
    let pong = alex.wait_for_response(ping, |m| m.content == "pong", WAIT).await.unwrap();
    let view = alex.interaction(ping).unwrap();
    assert_eq!(view.callback, Some(5));
    assert_eq!(view.original.unwrap().id, pong.id, "the followup replaced the thinking placeholder");
    assert!(view.followups.is_empty());
    assert!(casey.messages_in(general).unwrap().iter().any(|m| m.content == "pong"));

    let ask = alex.slash(general, "answer", json!({})).unwrap();
    let modal = alex.wait_for_modal(ask, WAIT).await.unwrap();
    assert_eq!((modal.title.as_str(), modal.inputs[0].custom_id.as_str()), ("Your answer", "answer"));
    alex.submit_modal(ask, &[("answer", "We walked by the river")], WAIT).await.unwrap();
    let saved = alex.wait_for_response(ask, |m| m.contains("Saved: We walked"), WAIT).await.unwrap();
    assert!(saved.ephemeral);
    assert!(!casey.messages_in(general).unwrap().iter().any(|m| m.contains("Saved")), "ephemeral");
    assert!(sim.user("sam").interaction(ask).is_err(), "not sam's interaction");

    let choices = alex.autocomplete_choices(general, "tz", json!({"zone": "Europe/"}), "zone", WAIT).await.unwrap();
    let names: Vec<_> = choices.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Europe/Berlin", "Europe/London"]);
    let set = alex.slash(general, "tz", json!({"zone": "Europe/Berlin"})).unwrap();
    alex.wait_for_response(set, |m| m.content == "Timezone set to Europe/Berlin", WAIT).await.unwrap();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_component_modals_and_dms() {
    let sim = common::sim().await;
    let bot = start(&sim).await;
    let (alex, sam) = (sim.user("alex"), sim.user("sam"));
    let general = sim.channel_id("general");

    let ix = alex.slash(general, "prompt", json!({})).unwrap();
    let prompt = alex.wait_for_response(ix, |m| m.contains("what made you smile"), WAIT).await.unwrap();
    assert_eq!(prompt.component("answer:1").unwrap().label.as_deref(), Some("Answer"));

    let click = sam.click(prompt.id, "answer:1").unwrap();
    sam.submit_modal(click, &[("answer", "Your laugh")], WAIT).await.unwrap();
    let saved = sam.wait_for_response(click, |m| m.contains("Saved: Your laugh"), WAIT).await.unwrap();
    assert!(saved.ephemeral);
    let submit = sim.dispatched().into_iter().rev().find(|d| d.t == "INTERACTION_CREATE").unwrap();
    assert_eq!(submit.d["type"], 5);
    assert_eq!(submit.d["message"]["id"], prompt.id.to_string(), "a submit from a component carries the message");

    let skip = alex.click(prompt.id, "skip:1").unwrap();
    alex.wait_for_ack(skip, WAIT).await.unwrap();
    let updated =
        alex.wait_for_message(general, |m| m.id == prompt.id && m.content == "Skipped today", WAIT).await.unwrap();
    assert!(updated.components.is_empty() && updated.edited);
    assert!(alex.click(prompt.id, "skip:1").is_err(), "the buttons are gone");

    alex.dm("hello bot").unwrap();
    let reply = alex.wait_for_dm(|m| m.content == "Got: hello bot", WAIT).await.unwrap();
    assert_eq!(reply.author_id, sim.bot_user_id());

    let help = alex.slash_in_dm("help", json!({})).unwrap();
    let answer = alex.wait_for_response(help, |m| m.contains("not therapy"), WAIT).await.unwrap();
    assert!(answer.ephemeral);
    assert!(alex.slash_in_dm("ping", json!({})).is_err(), "guild commands do not exist in DMs");
    assert_eq!(alex.interaction(help).unwrap().kind, InteractionKind::Command);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_first_response_is_rejected_with_10062() {
    let mut cfg = SimConfig::for_tests();
    cfg.interaction_ack_timeout_ms = 300;
    let sim = Sim::start(cfg).await.unwrap();
    let bot = start(&sim).await;
    let alex = sim.user("alex");
    let ix = alex.slash(sim.channel_id("general"), "slow", json!({})).unwrap();
    let rejected = sim.shared_wait_for_request("POST /interactions/*/*/callback").await;
    assert_eq!(rejected.status, 404);
    assert_eq!(alex.interaction(ix).unwrap().callback, None);
    bot.stop().await;
}

trait WaitRequest {
    async fn shared_wait_for_request(&self, pattern: &str) -> discord_sim::RequestRecord;
}

impl WaitRequest for Sim {
    async fn shared_wait_for_request(&self, pattern: &str) -> discord_sim::RequestRecord {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(r) = self.requests_to(pattern).pop() {
                return r;
            }
            assert!(std::time::Instant::now() < deadline, "no request to {pattern}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
