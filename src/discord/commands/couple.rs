//! `/couple start|join|end`: pairing with consent, in a server or in DMs.

use poise::serenity_prelude as serenity;
use rand::Rng;
use serenity::{
    ChannelType, ComponentInteraction, Context as SerenityContext, CreateActionRow, CreateAllowedMentions,
    CreateButton, CreateChannel, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, GuildId, PermissionOverwrite, PermissionOverwriteType,
    Permissions, RoleId, UserId,
};

use super::super::ids::Action;
use super::super::{BotError, Context, Data, text};
use super::private;
use crate::core::model::{Role, ScheduleKind};
use crate::engine::NewCouple;
use crate::store::couples::Partner;
use crate::store::discord::{self as links, Home};

/// Pair with your partner on mend.
#[poise::command(
    slash_command,
    subcommands("start", "join", "end"),
    subcommand_required,
    install_context = "Guild|User",
    interaction_context = "Guild|BotDm|PrivateChannel"
)]
pub async fn couple(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

async fn already_paired(data: &Data, user: UserId) -> Result<bool, BotError> {
    Ok(data.engine.couple_of(&user.get().to_string()).await?.is_some())
}

/// A short code without letters that look alike.
fn pairing_code(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Invite your partner (in a server), or get a one-time pairing code (in DMs).
#[poise::command(slash_command)]
pub async fn start(
    ctx: Context<'_>,
    #[description = "Your partner (in a server)"] partner: Option<serenity::User>,
) -> Result<(), BotError> {
    let data = ctx.data();
    let now = data.engine.now();
    let expires = (now + data.settings.pairing_ttl).timestamp();
    if already_paired(data, ctx.author().id).await? {
        return Err(BotError::user(text::ALREADY_PAIRED));
    }
    let Some(guild) = ctx.guild_id() else {
        let code = pairing_code(&mut rand::rng());
        links::insert_pairing(
            data.engine.pool(),
            ctx.author().id.get(),
            None,
            None,
            Some(&code),
            now.timestamp(),
            expires,
        )
        .await?;
        return private(ctx, text::pairing_code(&code, data.settings.pairing_ttl.num_minutes())).await;
    };
    let Some(partner) = partner else {
        return Err(BotError::user("Choose your partner in the `partner` option, so I can ask them."));
    };
    if partner.id == ctx.author().id {
        return Err(BotError::user(text::NOT_YOURSELF));
    }
    if partner.bot {
        return Err(BotError::user(text::NOT_A_BOT));
    }
    if already_paired(data, partner.id).await? {
        return Err(BotError::user(text::PARTNER_ALREADY_PAIRED));
    }
    let id = links::insert_pairing(
        data.engine.pool(),
        ctx.author().id.get(),
        Some(partner.id.get()),
        Some(guild.get()),
        None,
        now.timestamp(),
        expires,
    )
    .await?;
    let buttons = vec![
        CreateButton::new(Action::Accept(id).custom_id()).label("Accept").style(serenity::ButtonStyle::Success),
        CreateButton::new(Action::Decline(id).custom_id()).label("Not now").style(serenity::ButtonStyle::Secondary),
    ];
    let author = ctx.author().display_name().to_string();
    ctx.send(
        poise::CreateReply::default()
            .content(text::invitation(&author, &super::user_mention(partner.id)))
            .components(vec![CreateActionRow::Buttons(buttons)])
            .allowed_mentions(CreateAllowedMentions::new().users([partner.id])),
    )
    .await?;
    Ok(())
}

/// Join your partner with the code they got from `/couple start` in DMs.
#[poise::command(slash_command)]
pub async fn join(ctx: Context<'_>, #[description = "The pairing code"] code: String) -> Result<(), BotError> {
    let data = ctx.data();
    let engine = &data.engine;
    let code = code.trim().to_ascii_uppercase();
    let pairing =
        links::pairing_by_code(engine.pool(), &code).await?.ok_or_else(|| BotError::user(text::CODE_UNKNOWN))?;
    if pairing.initiator == ctx.author().id.get() {
        return Err(BotError::user(text::CODE_OWN));
    }
    if pairing.status != "pending" || pairing.expires_at < engine.now().timestamp() {
        return Err(BotError::user(text::CODE_EXPIRED));
    }
    if already_paired(data, ctx.author().id).await? {
        return Err(BotError::user(text::ALREADY_PAIRED));
    }
    let http = ctx.serenity_context().http.clone();
    let initiator = UserId::new(pairing.initiator).to_user(&http).await?;
    if already_paired(data, initiator.id).await? {
        return Err(BotError::user(text::PARTNER_ALREADY_PAIRED));
    }
    if !links::settle_pairing(engine.pool(), pairing.id, "accepted").await? {
        return Err(BotError::user(text::CODE_EXPIRED));
    }
    let couple = create_couple(data, &initiator, ctx.author(), None).await?;
    let welcome = text::welcome(initiator.display_name(), ctx.author().display_name(), &data.settings.default_schedule);
    ctx.send(poise::CreateReply::default().content(welcome.clone()).components(role_row()).ephemeral(true)).await?;
    let dm = initiator.create_dm_channel(&http).await?;
    dm.send_message(&http, CreateMessage::new().content(welcome).components(role_row())).await?;
    tracing::info!(couple_id = couple, "couple paired in DMs");
    Ok(())
}

/// End mend for both of you, deleting everything it holds (asks first).
#[poise::command(slash_command)]
pub async fn end(ctx: Context<'_>) -> Result<(), BotError> {
    super::couple_here(ctx).await?;
    let button = CreateButton::new(Action::EndConfirm.custom_id())
        .label("Yes, end and delete")
        .style(serenity::ButtonStyle::Danger);
    ctx.send(
        poise::CreateReply::default()
            .content(text::END_ASK)
            .components(vec![CreateActionRow::Buttons(vec![button])])
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// Ends a couple: the engine deletes its data; its private channel, which holds
/// the revealed answers, is deleted too.
pub async fn end_couple(ctx: &SerenityContext, data: &Data, couple: i64) -> Result<(), BotError> {
    let home = links::home(data.engine.pool(), couple).await?;
    let c = data.engine.couple(couple).await?;
    for p in &c.partners {
        if let Some(user) = p.external_id.as_deref().and_then(|s| s.parse().ok()) {
            links::delete_pairings_of(data.engine.pool(), user).await?;
        }
    }
    data.engine.end_couple(couple).await?;
    match home {
        Some(Home { channel_id: Some(channel), .. }) => {
            if let Err(e) = serenity::ChannelId::new(channel).delete(&ctx.http).await {
                tracing::warn!(couple_id = couple, error = %e, "could not delete the couple's channel");
            }
        }
        _ => {
            for p in &c.partners {
                if let Some(user) = p.external_id.as_deref().and_then(|s| s.parse().ok())
                    && let Ok(dm) = UserId::new(user).create_dm_channel(&ctx.http).await
                {
                    let _ = dm.send_message(&ctx.http, CreateMessage::new().content(text::ENDED)).await;
                }
            }
        }
    }
    tracing::info!(couple_id = couple, "couple ended and deleted");
    Ok(())
}

fn role_row() -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::AskRole.custom_id())
            .label("Tell mend privately")
            .style(serenity::ButtonStyle::Primary),
    ])]
}

async fn create_couple(
    data: &Data,
    initiator: &serenity::User,
    partner: &serenity::User,
    home: Option<(GuildId, serenity::ChannelId)>,
) -> Result<i64, BotError> {
    let engine = &data.engine;
    let partners = [initiator, partner].map(|u| Partner {
        name: u.display_name().to_string(),
        role: Role::Unsaid,
        external_id: Some(u.id.get().to_string()),
    });
    let tz = data.settings.default_tz.clone();
    let couple = engine.create_couple(NewCouple { tz: tz.clone(), partners }).await?;
    engine.set_schedule(couple, ScheduleKind::Prompt, &data.settings.default_schedule, &tz).await?;
    engine.set_schedule(couple, ScheduleKind::Reflection, &data.settings.default_reflection, &tz).await?;
    links::set_home(
        engine.pool(),
        &Home { couple_id: couple, guild_id: home.map(|h| h.0.get()), channel_id: home.map(|h| h.1.get()) },
    )
    .await?;
    data.wake.notify_one();
    Ok(couple)
}

/// The name of a couple's channel: their names, as Discord allows.
fn channel_name(a: &str, b: &str) -> String {
    let clean =
        |s: &str| -> String { s.to_lowercase().chars().filter(|c| c.is_alphanumeric()).take(20).collect::<String>() };
    let (a, b) = (clean(a), clean(b));
    if a.is_empty() || b.is_empty() { "mend-private".into() } else { format!("mend-{a}-{b}") }
}

/// A private channel: invisible to everyone but the two partners and mend itself
/// (which must allow itself, or it could not post there).
async fn create_private_channel(
    ctx: &SerenityContext,
    guild: GuildId,
    a: &serenity::User,
    b: &serenity::User,
) -> serenity::Result<serenity::GuildChannel> {
    let partner = Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::SEND_MESSAGES_IN_THREADS
        | Permissions::USE_APPLICATION_COMMANDS;
    let bot = Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::EMBED_LINKS
        | Permissions::ATTACH_FILES
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::CREATE_PUBLIC_THREADS
        | Permissions::SEND_MESSAGES_IN_THREADS;
    let me = ctx.cache.current_user().id;
    let overwrites = vec![
        PermissionOverwrite {
            allow: Permissions::empty(),
            deny: Permissions::VIEW_CHANNEL,
            kind: PermissionOverwriteType::Role(RoleId::new(guild.get())),
        },
        PermissionOverwrite { allow: partner, deny: Permissions::empty(), kind: PermissionOverwriteType::Member(a.id) },
        PermissionOverwrite { allow: partner, deny: Permissions::empty(), kind: PermissionOverwriteType::Member(b.id) },
        PermissionOverwrite { allow: bot, deny: Permissions::empty(), kind: PermissionOverwriteType::Member(me) },
    ];
    guild
        .create_channel(
            &ctx.http,
            CreateChannel::new(channel_name(a.display_name(), b.display_name()))
                .kind(ChannelType::Text)
                .topic("A private space for the two of you, with mend.")
                .permissions(overwrites),
        )
        .await
}

/// The partner answers an invitation. Only the invited partner can; nothing is
/// created unless they accept.
pub async fn answer_invitation(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    pairing_id: i64,
    accept: bool,
) -> Result<(), BotError> {
    let engine = &data.engine;
    let pairing =
        links::pairing_by_id(engine.pool(), pairing_id).await?.ok_or_else(|| BotError::user(text::INVITATION_GONE))?;
    if pairing.partner != Some(c.user.id.get()) {
        return Err(BotError::user(text::NOT_FOR_YOU));
    }
    if pairing.status != "pending" || pairing.expires_at < engine.now().timestamp() {
        return Err(BotError::user(text::INVITATION_GONE));
    }
    let initiator = UserId::new(pairing.initiator).to_user(&ctx.http).await?;
    if !accept {
        links::settle_pairing(engine.pool(), pairing.id, "declined").await?;
        c.create_response(
            &ctx.http,
            CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new()
                    .content(text::declined(c.user.display_name()))
                    .components(vec![]),
            ),
        )
        .await?;
        return Ok(());
    }
    if already_paired(data, c.user.id).await? {
        return Err(BotError::user(text::ALREADY_PAIRED));
    }
    if already_paired(data, initiator.id).await? {
        return Err(BotError::user(text::PARTNER_ALREADY_PAIRED));
    }
    if !links::settle_pairing(engine.pool(), pairing.id, "accepted").await? {
        return Err(BotError::user(text::INVITATION_GONE));
    }
    // Creating a channel can take a moment: acknowledge first.
    c.create_response(&ctx.http, CreateInteractionResponse::Acknowledge).await?;
    let guild = GuildId::new(pairing.guild_id.unwrap_or_default());
    let channel = match create_private_channel(ctx, guild, &initiator, &c.user).await {
        Ok(channel) => channel,
        Err(e) => {
            tracing::warn!(error = %e, "could not create a couple's private channel");
            // Nothing was created; let them try again once an admin has fixed it.
            links::settle_pairing_back(engine.pool(), pairing.id).await?;
            c.edit_response(
                &ctx.http,
                serenity::EditInteractionResponse::new()
                    .content(format!("{} {}", text::ACCEPTED_BUT_NO_CHANNEL, text::CANT_CREATE_CHANNEL))
                    .components(vec![]),
            )
            .await?;
            if let Ok(dm) = initiator.create_dm_channel(&ctx.http).await {
                let _ = dm.send_message(&ctx.http, CreateMessage::new().content(text::CANT_CREATE_CHANNEL)).await;
            }
            return Ok(());
        }
    };
    let couple = create_couple(data, &initiator, &c.user, Some((guild, channel.id))).await?;
    c.edit_response(
        &ctx.http,
        serenity::EditInteractionResponse::new()
            .content(format!("{} accepted. Your private channel is <#{}>.", c.user.display_name(), channel.id))
            .components(vec![]),
    )
    .await?;
    channel
        .id
        .send_message(
            &ctx.http,
            CreateMessage::new()
                .content(text::welcome(
                    initiator.display_name(),
                    c.user.display_name(),
                    &data.settings.default_schedule,
                ))
                .components(role_row())
                .allowed_mentions(CreateAllowedMentions::new()),
        )
        .await?;
    let _ = c
        .create_followup(
            &ctx.http,
            CreateInteractionResponseFollowup::new()
                .content(format!("You're paired. Head to <#{}>.", channel.id))
                .ephemeral(true),
        )
        .await;
    tracing::info!(couple_id = couple, "couple paired in a server");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn channel_names_keep_only_what_discord_allows() {
        assert_eq!(channel_name("Alex 🌿", "Sam-O'Neil"), "mend-alex-samoneil");
        assert_eq!(channel_name("🌿", "Sam"), "mend-private");
    }

    #[test]
    fn pairing_codes_avoid_look_alike_characters() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let code = pairing_code(&mut rng);
            assert_eq!(code.len(), 8);
            assert!(!code.contains(['O', '0', 'I', '1', 'L']));
        }
    }
}
