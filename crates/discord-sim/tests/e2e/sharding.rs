//! Sharding as Discord does it, with real serenity clients holding one shard
//! each: every shard gets its own READY listing its guilds, and the
//! GUILD_CREATEs of those guilds (`(guild_id >> 22) % num_shards`); direct
//! messages reach shard 0 only; and `GET /gateway/bot` recommends a shard
//! count.

use std::collections::BTreeSet;

use discord_sim::{GuildSpec, Sim, SimConfig};
use serenity::all::{ClientBuilder, Event, GatewayIntents};

use crate::common::{self, Bot, Forward, NoHandler};

const INTENTS: GatewayIntents =
    GatewayIntents::GUILDS.union(GatewayIntents::GUILD_MESSAGES).union(GatewayIntents::DIRECT_MESSAGES);

/// A sim with four guilds (made a millisecond apart, so two per shard of two).
async fn four_guilds() -> Sim {
    let mut config = SimConfig::for_tests();
    config.world.more_guilds =
        (1..=3).map(|i| GuildSpec::new(&format!("Guild {i}"), &["alex"], &[&format!("room-{i}")])).collect();
    Sim::start(config).await.expect("sim starts")
}

/// A client holding shard `shard` of `total`.
async fn shard_bot(sim: &Sim, shard: u32, total: u32) -> Bot {
    let (tx, events) = tokio::sync::mpsc::unbounded_channel();
    let mut client = ClientBuilder::new_with_http(common::http(sim), INTENTS)
        .raw_event_handler(Forward(tx))
        .event_handler(NoHandler)
        .await
        .expect("client builds");
    let (http, shards) = (client.http.clone(), client.shard_manager.clone());
    let task = tokio::spawn(async move { client.start_shard(shard, total).await });
    Bot { http, shards, events, task }
}

/// Events until (and with) the first `until`, failing on an unreadable one.
async fn events_until(bot: &mut Bot, until: &str) -> Vec<(String, Event)> {
    let mut seen = vec![];
    let found = tokio::time::timeout(common::WAIT, async {
        while let Some((name, event)) = bot.events.recv().await {
            assert!(!name.starts_with("UNKNOWN"), "serenity could not parse: {name}");
            let last = name == until;
            seen.push((name, event));
            if last {
                return;
            }
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "no {until} within {:?}; saw {:?}",
        common::WAIT,
        seen.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    seen
}

fn guilds_created(events: &[(String, Event)]) -> BTreeSet<u64> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::GuildCreate(g) => Some(g.guild.id.get()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shard_gets_its_ready_its_guilds_and_only_shard_0_the_dms() {
    let sim = four_guilds().await;
    let guilds: Vec<u64> = sim.world().guilds.iter().map(|(_, id)| *id).collect();
    let of_shard = |s: u64| guilds.iter().copied().filter(|g| (g >> 22) % 2 == s).collect::<BTreeSet<_>>();
    assert_eq!((of_shard(0).len(), of_shard(1).len()), (2, 2), "{guilds:?}");

    // Shard 1 first: its READY must reach it although it is not shard 0.
    let mut one = shard_bot(&sim, 1, 2).await;
    let mut zero = shard_bot(&sim, 0, 2).await;
    for (bot, shard) in [(&mut one, 1u64), (&mut zero, 0)] {
        let mut events = events_until(bot, "READY").await;
        let Event::Ready(ready) = &events.last().unwrap().1 else { unreachable!() };
        assert_eq!(ready.ready.shard.map(|s| (s.id.0 as u64, s.total)), Some((shard, 2)));
        let listed: BTreeSet<u64> = ready.ready.guilds.iter().map(|g| g.id.get()).collect();
        assert_eq!(listed, of_shard(shard), "shard {shard}: READY lists its own guilds");
        while guilds_created(&events).len() < 2 {
            events.extend(events_until(bot, "GUILD_CREATE").await);
        }
        assert_eq!(guilds_created(&events), of_shard(shard), "shard {shard}: the GUILD_CREATEs of its guilds");
    }

    // A DM reaches shard 0; a message in a guild of shard 1 reaches shard 1.
    let alex = sim.user("alex");
    alex.dm("hello").unwrap();
    let Event::MessageCreate(dm) = zero.next("MESSAGE_CREATE").await else { unreachable!() };
    assert!(dm.message.guild_id.is_none());
    let room = ["room-1", "room-2", "room-3"]
        .into_iter()
        .map(|r| sim.channel_id(r))
        .find(|c| sim.channels().iter().any(|v| v.id == *c && v.guild_id.is_some_and(|g| (g >> 22) % 2 == 1)))
        .expect("a room on shard 1");
    alex.say(room, "in a server").unwrap();
    let Event::MessageCreate(there) = one.next("MESSAGE_CREATE").await else { unreachable!() };
    assert_eq!(there.message.channel_id.get(), room, "shard 1 got no DM before its guild's message");
    // Shard 0 gets the next DM, and nothing of shard 1's guild before it.
    alex.dm("again").unwrap();
    let Event::MessageCreate(next) = zero.next("MESSAGE_CREATE").await else { unreachable!() };
    assert!(next.message.guild_id.is_none(), "shard 0 saw {:?}", next.message.channel_id);

    // Both resume after op 7: RESUMED reaches shard 1 as well.
    assert_eq!(sim.request_reconnect(), 2);
    one.next("RESUMED").await;
    zero.next("RESUMED").await;
    one.stop().await;
    zero.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_bot_recommends_one_shard_for_a_few_guilds() {
    let sim = four_guilds().await;
    let gateway = common::http(&sim).get_bot_gateway().await.unwrap();
    assert_eq!(gateway.shards, 1);
    assert_eq!(gateway.url, sim.gateway_url());
}
