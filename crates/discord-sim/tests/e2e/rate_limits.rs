//! serenity's own rate limiter against the sim's buckets, global limit and
//! injected 429/5xx responses.

use crate::common;
use std::time::{Duration, Instant};

use discord_sim::{BucketLimit, Fault, Sim, SimConfig};
use serenity::all::{ChannelId, UserId};
use serenity::http::HttpError;

async fn sim_with(bucket: BucketLimit, global: Option<u32>) -> Sim {
    let mut cfg = SimConfig::for_tests();
    cfg.rate_limits.default_bucket = bucket;
    cfg.rate_limits.global_per_second = global;
    Sim::start(cfg).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_429_is_retried_by_serenity_after_retry_after() {
    let sim = common::sim().await;
    let http = common::http(&sim);
    let general = ChannelId::new(sim.channel_id("general"));
    sim.inject_fault(Fault::rate_limit("POST /channels/*/messages", 1, 0.3));
    let started = Instant::now();
    general.say(&http, "after a 429").await.expect("serenity retries on its own");
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    let statuses: Vec<u16> = sim.requests_to("POST /channels/*/messages").iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);

    sim.inject_fault(Fault::global_rate_limit("POST /channels/*/messages", 1, 0.2));
    general.say(&http, "after a global 429").await.unwrap();
    assert_eq!(sim.requests_to("POST /channels/*/messages").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_surface_as_errors() {
    let sim = common::sim().await;
    let http = common::http(&sim);
    let general = ChannelId::new(sim.channel_id("general"));
    sim.inject_fault(Fault::server_error("POST /channels/*/messages", 1, 502));
    let err = general.say(&http, "lost").await.unwrap_err();
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = err else { panic!("{err:?}") };
    assert_eq!(r.status_code.as_u16(), 502);
    general.say(&http, "next one works").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_bucket_makes_serenity_wait_for_the_reset() {
    let sim = sim_with(BucketLimit { limit: 2, window_ms: 700 }, Some(50)).await;
    let http = common::http(&sim);
    let general = ChannelId::new(sim.channel_id("general"));
    let started = Instant::now();
    for i in 0..5 {
        general.say(&http, format!("message {i}")).await.unwrap();
    }
    // Two per window: the fifth waits for the second reset.
    assert!(started.elapsed() >= Duration::from_millis(1300), "{:?}", started.elapsed());
    assert_eq!(sim.user("alex").messages_in(general.get()).unwrap().len(), 5);
    let limited = sim.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(limited, 0, "serenity waits pre-emptively on remaining=0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_limit_429s_are_absorbed_by_serenity() {
    let sim = sim_with(BucketLimit { limit: 1000, window_ms: 1000 }, Some(50)).await;
    let http = std::sync::Arc::new(common::http(&sim));
    let calls: Vec<_> = (1..=70u64)
        .map(|i| {
            let http = http.clone();
            // Distinct users are distinct buckets; only the global limit binds.
            tokio::spawn(async move { http.get_user(UserId::new(i)).await })
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = err else { panic!("{err:?}") };
        assert_eq!(r.error.code, 10013, "every call ends in Unknown User, none in a 429");
    }
    let log = sim.requests_to("GET /users/*");
    assert!(log.iter().any(|r| r.status == 429), "more than 50 in a second hit the global limit");
    assert_eq!(log.iter().filter(|r| r.status == 404).count(), 70);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_limit_is_one_per_token_across_clients() {
    let sim = sim_with(BucketLimit { limit: 1000, window_ms: 1000 }, Some(50)).await;
    // Two processes' clients (their own connections, the same token): 35 each
    // in a second is within 50 alone, over it together.
    let clients = [std::sync::Arc::new(common::http(&sim)), std::sync::Arc::new(common::http(&sim))];
    let calls: Vec<_> = (1..=70u64)
        .map(|i| {
            let http = clients[(i % 2) as usize].clone();
            tokio::spawn(async move { http.get_user(UserId::new(i)).await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().is_err(), "there is no such user");
    }
    let log = sim.requests_to("GET /users/*");
    assert!(log.iter().any(|r| r.status == 429), "70 in a second from two clients hit the one global limit");
    assert_eq!(log.iter().filter(|r| r.status == 404).count(), 70, "each client waited out its 429s and retried");
}
