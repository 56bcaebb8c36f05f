//! `/couple start|join|end`: pairing with consent, in a server or in DMs.

use poise::serenity_prelude as serenity;
use serenity::{
    ChannelType, ComponentInteraction, Context as SerenityContext, CreateActionRow, CreateButton, CreateChannel,
    CreateInteractionResponse, CreateInteractionResponseMessage, GuildId, PermissionOverwrite, PermissionOverwriteType,
    Permissions, RoleId, UserId,
};

use super::super::ids::Action;
use super::super::{BotError, Context, Data, text};
use super::private;
use crate::core::entities::Home;
use crate::core::model::Slot;
use crate::engine::{Invitation, Place};

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

/// Invite your partner (in a server), or get a one-time pairing code (in DMs).
#[poise::command(slash_command)]
pub async fn start(
    ctx: Context<'_>,
    #[description = "Your partner (in a server)"] partner: Option<serenity::User>,
    #[description = "The timezone you live in, e.g. Europe/Paris"]
    #[autocomplete = "super::schedule::zones"]
    timezone: Option<String>,
) -> Result<(), BotError> {
    let data = ctx.data();
    let engine = &data.engine;
    let Some(guild) = ctx.guild_id() else {
        let (code, minutes) = engine.pairing_code(ctx.author().id.get(), timezone.as_deref()).await?;
        return private(ctx, text::pairing_code(&code, minutes)).await;
    };
    let Some(partner) = partner else {
        return Err(BotError::user("Choose your partner in the `partner` option, so I can ask them."));
    };
    if partner.bot {
        return Err(BotError::user(text::NOT_A_BOT));
    }
    // Nothing here is said in the open: the invitation goes to the partner's
    // DMs from the outbox, and only the one inviting sees this reply.
    let place = Place { guild: guild.get(), channel: ctx.channel_id().get() };
    engine.invite(&invitation(ctx.author()), partner.id.get(), place, timezone.as_deref()).await?;
    data.wake.notify_one();
    private(ctx, text::invitation_sent(partner.display_name())).await
}

/// The invitation, as the invited partner reads it in their DMs.
pub fn invitation_buttons(pairing: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::Accept(pairing).custom_id()).label("Accept").style(serenity::ButtonStyle::Success),
        CreateButton::new(Action::Decline(pairing).custom_id())
            .label("Not now")
            .style(serenity::ButtonStyle::Secondary),
    ])]
}

fn invitation(user: &serenity::User) -> Invitation {
    Invitation { user: user.id.get(), name: user.display_name().to_string() }
}

/// Join your partner with the code they got from `/couple start` in DMs.
#[poise::command(slash_command)]
pub async fn join(ctx: Context<'_>, #[description = "The pairing code"] code: String) -> Result<(), BotError> {
    let data = ctx.data();
    let pairing = data.engine.code_for(&code, ctx.author().id.get()).await?;
    let initiator = UserId::new(pairing.initiator).to_user(ctx.http()).await?;
    // One transaction: the couple, their schedules, and the welcome for the
    // partner who invited, in the outbox (a failure to DM them is retried there).
    let paired = data.engine.accept(pairing.id, invitation(&initiator), invitation(ctx.author()), None).await?;
    data.wake.notify_one();
    let welcome = text::welcome(
        initiator.display_name(),
        ctx.author().display_name(),
        &super::schedule::prompt_words(&data.engine, paired.couple).await,
        false,
    );
    ctx.send(poise::CreateReply::default().content(welcome).components(role_row()).ephemeral(true)).await?;
    tracing::info!(couple_id = paired.couple, "couple paired in DMs");
    Ok(())
}

/// End mend for both of you, deleting everything it holds (asks first).
#[poise::command(slash_command)]
pub async fn end(ctx: Context<'_>) -> Result<(), BotError> {
    let (couple, slot) = super::couple_here(ctx).await?;
    let c = ctx.data().engine.couple(couple).await?;
    let button = CreateButton::new(Action::EndConfirm.custom_id())
        .label("Yes, send our copies and end")
        .style(serenity::ButtonStyle::Danger);
    ctx.send(
        poise::CreateReply::default()
            .content(text::end_ask(&c.partner(slot.other()).name))
            .components(vec![CreateActionRow::Buttons(vec![button])])
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// `by` ends their couple: first each partner gets, by DM, a copy of what they
/// can see; then the engine deletes the couple's data (and tells both, the
/// other partner by whom, from the outbox); its private channel, which holds
/// the revealed answers, goes with `delete_home`. Returns whether each copy was
/// sent, and where they lived.
pub async fn end_couple(
    ctx: &SerenityContext,
    data: &Data,
    couple: i64,
    by: Slot,
) -> Result<([bool; 2], Option<Home>), BotError> {
    let c = data.engine.couple(couple).await?;
    let mut sent = [false; 2];
    for slot in Slot::BOTH {
        let note = if slot == by {
            "Here is a copy of everything you could see on mend, before it is deleted.".to_string()
        } else {
            format!(
                "{} is ending mend for the two of you. Before anything is deleted, here is a copy of everything you \
                 could see on mend, to keep if you want it.",
                c.partner(by).name
            )
        };
        sent[slot.index()] = super::data::send_export(&ctx.http, &data.engine, couple, slot, &note).await?;
    }
    // What quoted their commitments, in DMs as well as in their channel.
    let quoted = data.engine.take_commitment_messages(couple).await?;
    super::super::components::delete_messages(ctx, couple, &quoted).await;
    let home = data.engine.end_couple(couple, Some(by)).await?;
    data.wake.notify_one();
    Ok((sent, home))
}

/// Deletes an ended couple's private channel (after the one who ended it was
/// answered there).
pub async fn delete_home(ctx: &SerenityContext, couple: i64, home: Option<Home>) {
    if let Some(Home { channel_id: Some(channel), .. }) = home
        && let Err(e) = serenity::ChannelId::new(channel).delete(&ctx.http).await
    {
        tracing::warn!(couple_id = couple, error = %e, "could not delete the couple's channel");
    }
}

/// The private question of how each partner comes to this.
pub fn role_row() -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::AskRole.custom_id())
            .label("Tell mend privately")
            .style(serenity::ButtonStyle::Primary),
    ])]
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

/// The partner answers an invitation. Only the invited partner can (checked
/// by the engine); nothing is created unless they accept.
pub async fn answer_invitation(
    ctx: &SerenityContext,
    c: &ComponentInteraction,
    data: &Data,
    pairing_id: i64,
    accept: bool,
) -> Result<(), BotError> {
    let engine = &data.engine;
    if !accept {
        engine.decline(pairing_id, &invitation(&c.user)).await?;
        data.wake.notify_one();
        c.create_response(
            &ctx.http,
            CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new().content(text::DECLINED_FOR_YOU).components(vec![]),
            ),
        )
        .await?;
        return Ok(());
    }
    let pairing = engine.invitation_for(pairing_id, c.user.id.get()).await?;
    // Creating a channel can take a moment: acknowledge first.
    c.create_response(&ctx.http, CreateInteractionResponse::Acknowledge).await?;
    let initiator = UserId::new(pairing.initiator).to_user(&ctx.http).await?;
    let guild = GuildId::new(pairing.guild_id.unwrap_or_default());
    let channel = match create_private_channel(ctx, guild, &initiator, &c.user).await {
        Ok(channel) => channel,
        Err(e) => {
            tracing::warn!(error = %e, "could not create a couple's private channel");
            // Nothing was created: the invitation stays open for after an admin fixed it.
            c.edit_response(
                &ctx.http,
                serenity::EditInteractionResponse::new()
                    .content(format!("{} {}", text::ACCEPTED_BUT_NO_CHANNEL, text::CANT_CREATE_CHANNEL))
                    .components(vec![]),
            )
            .await?;
            engine.tell_no_channel(&pairing).await?;
            data.wake.notify_one();
            return Ok(());
        }
    };
    let home = Some((guild.get(), channel.id.get()));
    let paired = match engine.accept(pairing.id, invitation(&initiator), invitation(&c.user), home).await {
        Ok(paired) => paired,
        Err(e) => {
            // Someone was quicker (a double click): the channel made for this attempt goes.
            let _ = channel.id.delete(&ctx.http).await;
            return Err(e.into());
        }
    };
    data.wake.notify_one();
    // The pairing is made: from here on nothing may tell them to try again. The
    // welcome is in the outbox; these replies are a courtesy.
    let edited = c
        .edit_response(
            &ctx.http,
            serenity::EditInteractionResponse::new()
                .content(format!("You accepted. Your private channel is <#{}>.", channel.id))
                .components(vec![]),
        )
        .await;
    if let Err(e) = edited {
        tracing::info!(couple_id = paired.couple, error = %e, "could not update the invitation");
    }
    tracing::info!(couple_id = paired.couple, "couple paired in a server");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_keep_only_what_discord_allows() {
        assert_eq!(channel_name("Alex 🌿", "Sam-O'Neil"), "mend-alex-samoneil");
        assert_eq!(channel_name("🌿", "Sam"), "mend-private");
    }
}
