//! Every Discord flow end to end, in one test binary: the real serenity + poise
//! client over real sockets to the project's local Discord, asserting what each
//! person sees and must not see. Each test fails if serenity drops an event.

#[path = "../support/mod.rs"]
mod support;

mod browser;
mod commitments;
mod defects;
mod dm;
mod doctor;
mod health;
mod moments;
mod outages;
mod own_data;
mod phases;
mod privacy;
mod prompts;
mod reflection;
mod refusals;
mod safety;
mod server;
mod shards;
mod space;
mod startup;
