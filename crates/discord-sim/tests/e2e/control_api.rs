//! The JSON control API over plain HTTP, driven like a test in another
//! language would, with a small serenity bot on the other side.

use crate::common;
use crate::common::start_bot_with;
use serde_json::{Value, json};
use serenity::all::{
    Context, CreateCommand, CreateInteractionResponse, CreateInteractionResponseMessage, EventHandler, GatewayIntents,
    GuildId, Interaction, Message, Ready,
};
use serenity::async_trait;

struct Echo {
    guild: u64,
}

#[async_trait]
impl EventHandler for Echo {
    async fn ready(&self, ctx: Context, _ready: Ready) {
        let cmd = CreateCommand::new("ping").description("Ping");
        GuildId::new(self.guild).set_commands(&ctx.http, vec![cmd]).await.unwrap();
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Command(cmd) = interaction {
            let reply = CreateInteractionResponseMessage::new().content("pong").ephemeral(true);
            cmd.create_response(&ctx.http, CreateInteractionResponse::Message(reply)).await.unwrap();
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.guild_id.is_none() && !msg.author.bot {
            let _ = msg.channel_id.say(&ctx.http, format!("echo: {}", msg.content)).await;
        }
    }
}

struct Control {
    base: String,
    http: reqwest::Client,
}

impl Control {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drive_users_and_faults_through_http() {
    let sim = common::sim().await;
    let c = Control { base: sim.control_url(), http: reqwest::Client::new() };
    let (status, info) = c.get("/info").await;
    assert_eq!(status, 200);
    assert!(info["ca_pem"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(info["gateway_url"], sim.gateway_url());
    let general = sim.channel_id("general");

    let bot =
        start_bot_with(&sim, GatewayIntents::GUILDS | GatewayIntents::DIRECT_MESSAGES, Echo { guild: sim.guild_id() })
            .await;
    assert_eq!(c.post("/wait/ready", json!({"timeout_ms": 10000})).await.0, 200);
    sim.wait_for_command("ping", common::WAIT).await.unwrap();

    let (status, slash) = c.post("/users/alex/slash", json!({"channel_id": general, "command": "ping"})).await;
    assert_eq!(status, 200, "{slash}");
    let id = slash["interaction_id"].as_u64().unwrap();
    let (status, reply) = c
        .post("/users/alex/wait/response", json!({"interaction_id": id, "contains": "pong", "timeout_ms": 5000}))
        .await;
    assert_eq!((status, reply["ephemeral"].as_bool()), (200, Some(true)), "{reply}");
    let (_, seen_by_sam) = c.get(&format!("/users/sam/channels/{general}/messages")).await;
    assert!(seen_by_sam.as_array().unwrap().is_empty(), "the ephemeral reply is alex's alone");
    let (status, _) = c.get(&format!("/users/sam/interactions/{id}")).await;
    assert_eq!(status, 404);

    let (status, _) = c.post("/users/alex/messages", json!({"content": "hi there"})).await;
    assert_eq!(status, 200);
    let (status, echo) =
        c.post("/users/alex/wait/message", json!({"contains": "echo: hi there", "from_bot": true})).await;
    assert_eq!(status, 200, "{echo}");
    let (_, dms) = c.get("/users/alex/dms").await;
    assert_eq!(dms.as_array().unwrap().len(), 2);

    c.post("/faults", json!({"route": "POST /channels/*/messages", "count": 1, "kind": "status", "status": 500})).await;
    c.post("/users/sam/messages", json!({"content": "lost reply"})).await;
    let (status, _) = c.post("/users/sam/wait/message", json!({"contains": "echo", "timeout_ms": 500})).await;
    assert_eq!(status, 408, "the bot's reply hit the injected 500");
    let (_, log) = c.get("/requests?route=POST%20/channels/*/messages").await;
    let statuses: Vec<u64> = log.as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, vec![200, 500]);

    let (_, sent) = c.post("/gateway/reconnect", json!({})).await;
    assert_eq!(sent["sent"], 1);
    c.post("/users/casey/dms-closed", json!({"closed": true})).await;
    assert_eq!(c.post("/users/casey/leave", json!({})).await.0, 200);
    assert_eq!(c.post("/users/casey/leave", json!({})).await.0, 404, "already gone");
    let (status, err) = c.post("/users/casey/slash", json!({"channel_id": general, "command": "ping"})).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(c.call(reqwest::Method::DELETE, &format!("/channels/{general}"), None).await.0, 200);
    let (status, _) = c.get(&format!("/users/alex/channels/{general}/messages")).await;
    assert_eq!(status, 404, "the channel is gone");
    bot.stop().await;
}
