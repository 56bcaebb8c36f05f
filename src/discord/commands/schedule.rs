//! `/schedule set|show|reflection`: when prompts and reflections come.

use poise::serenity_prelude as serenity;

use super::super::{BotError, Context};
use super::{couple_here, private};
use crate::core::model::ScheduleKind;

/// Timezone names matching what the user has typed so far.
pub(crate) async fn zones(_ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices =
        crate::core::schedule::zone_suggestions(partial).into_iter().map(serenity::AutocompleteChoice::from).collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// "`daily 08:30` (Europe/Paris time)": when a couple's prompts come, in words.
pub(crate) async fn prompt_words(engine: &crate::engine::Engine, couple: i64) -> String {
    let prompt =
        engine.schedules(couple).await.ok().and_then(|all| all.into_iter().find(|s| s.kind == ScheduleKind::Prompt));
    match prompt {
        Some(s) => format!("`{}` ({} time)", s.schedule.spec(), s.schedule.tz().name()),
        None => "on no schedule yet (`/schedule set`)".to_string(),
    }
}

/// When the couple's next prompt comes, in their timezone ("on Wednesday 7
/// January at 08:30"), if one is scheduled.
pub(crate) async fn next_prompt_words(engine: &crate::engine::Engine, couple: i64) -> Option<String> {
    let all = engine.schedules(couple).await.ok()?;
    let prompt = all.into_iter().find(|s| s.kind == ScheduleKind::Prompt)?;
    // The stored next fire knows about pauses and space.
    let next = prompt.next?;
    Some(next.with_timezone(&prompt.schedule.tz()).format("on %A %-d %B at %H:%M").to_string())
}

/// When prompts and reflections come.
#[poise::command(
    slash_command,
    subcommands("set", "show", "reflection"),
    subcommand_required,
    install_context = "Guild|User",
    interaction_context = "Guild|BotDm|PrivateChannel"
)]
pub async fn schedule(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

async fn set_kind(ctx: Context<'_>, kind: ScheduleKind, when: String, tz: Option<String>) -> Result<(), BotError> {
    let (couple, _) = couple_here(ctx).await?;
    let engine = &ctx.data().engine;
    let schedule = engine.set_schedule(couple, kind, &when, tz.as_deref()).await?;
    ctx.data().wake.notify_one();
    let next = schedule.next_after(engine.now());
    let what = match kind {
        ScheduleKind::Prompt => "Prompts",
        ScheduleKind::Reflection => "Weekly reflections",
    };
    let next = next.map_or(String::new(), |t| {
        format!(" The next one: {}.", t.with_timezone(&schedule.tz()).format("%A %-d %B at %H:%M"))
    });
    ctx.say(format!("{what} will come `{}` ({}).{next}", schedule.spec(), schedule.tz().name())).await?;
    Ok(())
}

/// Set when daily prompts come.
#[poise::command(slash_command)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "e.g. daily 08:30, weekdays 21:00, mon,wed,fri 07:15, or a crontab line"] when: String,
    #[description = "Your timezone, e.g. Europe/Paris"]
    #[autocomplete = "zones"]
    timezone: Option<String>,
) -> Result<(), BotError> {
    set_kind(ctx, ScheduleKind::Prompt, when, timezone).await
}

/// Set when the weekly reflection comes.
#[poise::command(slash_command)]
pub async fn reflection(
    ctx: Context<'_>,
    #[description = "e.g. sun 19:00"] when: String,
    #[description = "Your timezone, e.g. Europe/Paris"]
    #[autocomplete = "zones"]
    timezone: Option<String>,
) -> Result<(), BotError> {
    set_kind(ctx, ScheduleKind::Reflection, when, timezone).await
}

/// Show when the next prompts and reflection come, in your local time.
#[poise::command(slash_command)]
pub async fn show(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, _) = couple_here(ctx).await?;
    let engine = &ctx.data().engine;
    let c = engine.couple(couple).await?;
    let mut lines = Vec::new();
    if c.is_paused_at(engine.now().timestamp()) {
        lines.push("Prompts are paused right now.".to_string());
    }
    for s in engine.schedules(couple).await? {
        let tz = s.schedule.tz();
        let from = s.next.map(|t| t - chrono::Duration::seconds(1));
        let upcoming: Vec<String> = from
            .map(|f| s.schedule.upcoming(f, 5))
            .unwrap_or_default()
            .iter()
            .map(|t| t.with_timezone(&tz).format("%a %-d %b %H:%M").to_string())
            .collect();
        let label = match s.kind {
            ScheduleKind::Prompt => "Prompts",
            ScheduleKind::Reflection => "Reflection",
        };
        let next = if upcoming.is_empty() { "none until you resume".to_string() } else { upcoming.join(" · ") };
        lines.push(format!("**{label}** `{}` ({}): {next}", s.schedule.spec(), tz.name()));
    }
    private(ctx, lines.join("\n")).await
}
