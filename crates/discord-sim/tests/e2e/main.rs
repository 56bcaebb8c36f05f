//! The local Discord driven by real clients (serenity 0.12.5, poise 0.7.1,
//! reqwest) over real sockets, in one test binary: the control API, forged
//! clicks, the gateway, poise's flows, rate limits and REST shapes.

mod common;

mod control_api;
mod forged_clicks;
mod gateway_e2e;
mod poise_e2e;
mod rate_limits;
mod rest_shapes;
mod serenity_e2e;
mod sharding;
