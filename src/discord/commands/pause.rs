//! `/pause`, `/resume` and `/phase`: slowing down is always allowed.

use chrono::{Duration, NaiveDate, TimeZone};
use poise::serenity_prelude as serenity;
use serenity::{CreateActionRow, CreateButton};

use super::super::ids::Action;
use super::super::{BotError, Context, text};
use super::{couple_here, private};

/// Parses `3d`, `2w` or a date `2026-12-01` into an instant in the couple's zone.
fn parse_until(
    input: &str,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = input.trim().to_ascii_lowercase();
    if let Some(days) = s.strip_suffix('d').and_then(|n| n.trim().parse::<i64>().ok()) {
        return (1..=365).contains(&days).then(|| now + Duration::days(days));
    }
    if let Some(weeks) = s.strip_suffix('w').and_then(|n| n.trim().parse::<i64>().ok()) {
        return (1..=52).contains(&weeks).then(|| now + Duration::weeks(weeks));
    }
    let date = NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest().map(|t| t.with_timezone(&chrono::Utc))
}

/// Pause prompts for a while, or until you resume.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn pause(
    ctx: Context<'_>,
    #[description = "Until when: a number of days like 3d, weeks like 2w, or a date like 2026-12-24"] until: Option<
        String,
    >,
) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let engine = &ctx.data().engine;
    let tz = engine.couple(couple).await?.zone();
    let until = match until.as_deref() {
        None => None,
        Some(s) => Some(parse_until(s, tz, engine.now()).ok_or_else(|| {
            BotError::user(format!(
                "I couldn't read `{s}` as a time to pause until. Try `3d`, `2w` or a date like `2026-12-24`."
            ))
        })?),
    };
    engine.pause(couple, slot, until).await?;
    ctx.data().wake.notify_one();
    let when = until.map(|u| u.with_timezone(&tz).format("%A %-d %B").to_string());
    private(ctx, text::paused(when.as_deref())).await
}

/// How long "I need space" lasts.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum SpaceLength {
    #[name = "a day"]
    Day,
    #[name = "two days"]
    TwoDays,
    #[name = "a week"]
    Week,
    #[name = "until I'm ready"]
    UntilReady,
}

impl SpaceLength {
    fn duration(self) -> Option<Duration> {
        match self {
            SpaceLength::Day => Some(Duration::days(1)),
            SpaceLength::TwoDays => Some(Duration::days(2)),
            SpaceLength::Week => Some(Duration::weeks(1)),
            SpaceLength::UntilReady => None,
        }
    }
}

/// Take some space: prompts pause, and only you can lift it.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn space(
    ctx: Context<'_>,
    #[rename = "for"]
    #[description = "How long (two days if you don't say)"]
    length: Option<SpaceLength>,
) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let data = ctx.data();
    let length = length.map_or(Some(data.engine.settings().space), SpaceLength::duration);
    let until = data.engine.need_space(couple, slot, None, length).await?;
    data.wake.notify_one();
    let zone = data.engine.couple(couple).await?.zone();
    let when = until.map(|u| u.with_timezone(&zone).format("%A %-d %B, %H:%M").to_string());
    private(ctx, text::space_for_you(when.as_deref(), data.settings.referral.as_deref())).await
}

/// A hard moment: a few steadying words, help, and the choice to tell your partner.
#[poise::command(
    slash_command,
    rename = "hard-moment",
    install_context = "Guild|User",
    interaction_context = "Guild|BotDm|PrivateChannel"
)]
pub async fn hard_moment(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let data = ctx.data();
    let id = data.engine.hard_moment(couple, slot).await?;
    let buttons = vec![
        CreateButton::new(Action::HardShare(id).custom_id())
            .label("Let my partner know")
            .style(serenity::ButtonStyle::Primary),
        CreateButton::new(Action::HardNote(id).custom_id())
            .label("Just for me")
            .style(serenity::ButtonStyle::Secondary),
        CreateButton::new(Action::HardQuiet(id).custom_id())
            .label("Nothing more")
            .style(serenity::ButtonStyle::Secondary),
    ];
    ctx.send(
        poise::CreateReply::default()
            .content(text::hard_moment_for_you(data.settings.referral.as_deref()))
            .components(vec![CreateActionRow::Buttons(buttons)])
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// Start receiving prompts again.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn resume(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let engine = &ctx.data().engine;
    let still_held = engine.resume(couple, slot).await?;
    ctx.data().wake.notify_one();
    match still_held {
        None => private(ctx, text::RESUMED).await,
        Some(holder) => {
            let name = engine.couple(couple).await?.partner(holder).name.clone();
            private(ctx, text::resumed_but_held(&name)).await
        }
    }
}

/// Where you are in repair, and, privately, the choice to move on or slow down.
#[poise::command(slash_command, install_context = "Guild|User", interaction_context = "Guild|BotDm|PrivateChannel")]
pub async fn phase(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = couple_here(ctx).await?;
    let c = ctx.data().engine.couple(couple).await?;
    let mut buttons = Vec::new();
    // Moving on is offered only to whoever may decide it (the partner who was
    // hurt; in a couple without one, either).
    if c.phase.next().is_some() && crate::engine::may_move_on(&c, slot) {
        buttons.push(
            CreateButton::new(Action::PhaseForward.custom_id())
                .label("I'm ready to move on")
                .style(serenity::ButtonStyle::Primary),
        );
    }
    if c.phase.previous().is_some() {
        buttons.push(
            CreateButton::new(Action::PhaseBack.custom_id())
                .label("Let's slow down")
                .style(serenity::ButtonStyle::Secondary),
        );
    }
    let mut reply = poise::CreateReply::default()
        .content(format!(
            "You're in **{}**. Moving on is for the partner who was hurt to decide; either of you can slow down.",
            text::phase_name(c.phase)
        ))
        .ephemeral(true);
    if !buttons.is_empty() {
        reply = reply.components(vec![CreateActionRow::Buttons(buttons)]);
    }
    ctx.send(reply).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_lengths_and_dates() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(parse_until("3d", tz, now), Some(now + Duration::days(3)));
        assert_eq!(parse_until(" 2W ", tz, now), Some(now + Duration::weeks(2)));
        assert_eq!(
            parse_until("2026-12-24", tz, now),
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 23, 23, 0, 0).unwrap())
        );
        for bad in ["", "0d", "tomorrow", "999d", "24/12/2026"] {
            assert_eq!(parse_until(bad, tz, now), None, "{bad}");
        }
    }
}
