//! Everything mend says on Discord, in one place: it speaks to people in pain,
//! so every sentence here is written with care.

use crate::core::entities::Couple;
use crate::core::model::{Kind, Phase, Role};
use crate::core::outbox::Notice;
use crate::engine::UserError;

pub const APOLOGY: &str =
    "Something went wrong on my side, and I'm sorry. Nothing you already saved is lost. Please try again in a moment.";

pub const NOT_IN_A_COUPLE: &str =
    "You're not paired with anyone on mend yet. Start with `/couple start` and invite your partner.";

pub const NOT_YOURS: &str = "This belongs to another couple, so I can't act on it for you.";

pub const ANSWER_SAVED_WAITING: &str =
    "Saved. Only you can see it for now: I'll share both answers together once your partner has answered too.";
pub const ANSWER_EDITED: &str = "Updated. Your partner still can't see it until they've answered too.";
pub const JOURNAL_SAVED: &str = "Saved, just for you. Your partner will never see this one.";
/// After "Skip today": `next` is when the couple's next prompt comes, in words.
pub fn skipped(next: Option<&str>) -> String {
    match next {
        Some(when) => format!("Skipped. No need to explain — the next one comes {when}."),
        None => "Skipped. No need to explain.".to_string(),
    }
}
pub const MARKED_MEANINGFUL: &str = "Noted. It will be in this week's reflection, among the things that mattered.";
pub const ACTION_DONE: &str = "Lovely. Noted as done.";
pub const ACTION_NOT_TODAY: &str = "That's okay. Noted as not today — there is no score here.";

pub const HELP: &str = "**mend** gives the two of you one small prompt a day, keeps each answer private until you've both written, \
then shows them to you together. Every week it reflects on how the week went.\n\n\
**mend is not therapy**, and it is not a crisis service. If you or your partner are in danger or thinking of harming yourself, \
please contact your local emergency number now, or a crisis line: in the US call or text **988**; in the UK and Ireland call \
Samaritans on **116 123**; elsewhere, findahelpline.com lists free, confidential lines in your country.\n\n\
**Commands**\n\
`/couple start` invite your partner · `/couple join` pair by code in DMs · `/couple end`\n\
`/schedule set` when prompts come · `/schedule show` · `/pause` · `/resume` · `/phase`\n\
`/space` take some space (only you can lift it) · `/hard-moment` · `/history` your answers · `/export` a copy of your data · \
`/forget` delete what you wrote\n\
`/commit` one small thing you'll do · `/commitments` · `/journal` a private prompt just for you · \
`/safety` a private check, or leave quietly";

pub fn referral(text: &str) -> String {
    format!("\n\nWhen you're ready: {text}")
}

/// The invitation, in the invited partner's DMs: only they read it.
pub fn invitation(initiator: &str) -> String {
    format!(
        "{initiator} would like to use mend with you: one small prompt a day, answered privately \
         and shared only when you've both written. Nothing is set up unless you accept, and no one else is told \
         either way. If you'd rather not, that's okay: I'll let {initiator} know privately, and nothing is kept. \
         There's no hurry: this stays open for a week."
    )
}

/// Asks someone whose DMs are closed to open them, in the channel where the
/// invitation was started: it names nothing of what it is, or who sent it.
pub fn open_your_dms(mention: &str) -> String {
    format!(
        "{mention}, I have a private message for you, but I can't reach you by direct message. \
         If you'd like to read it, allow direct messages from this server's members (Privacy Settings); \
         it can then be sent again."
    )
}

pub fn invitation_sent(partner: &str) -> String {
    format!(
        "I've sent {partner} your invitation privately, by direct message; nothing about it is posted here. \
         If they accept, I'll open a private channel for just the two of you, and if they'd rather not, I'll tell you \
         privately."
    )
}

pub fn declined(partner: &str) -> String {
    format!("{partner} would rather not for now. That's okay — nothing was created, and nothing is kept.")
}

pub const INVITATION_NOT_REACHED: &str = "Your partner's direct messages are closed to me, so your invitation \
     couldn't reach them. I asked them in the channel — without saying what for, or from whom — to open them. Once \
     they have, run `/couple start` again and it will reach them privately.";

pub const DECLINED_FOR_YOU: &str =
    "Okay. Nothing was created, and nothing is kept. I'll let them know privately, without any reason.";

/// Who can read what, said plainly wherever a couple starts and in `/help`.
pub const WHO_CAN_READ: &str = "**Who can read what.** Your answers stay private to each of you until you've both \
     written; then only the two of you see them. In a server, the server's owner and admins can read every channel \
     in it, including your private channel and its threads — Discord works that way, and mend can't change it. \
     Direct messages are only you, your partner's copy, and mend. Whoever hosts mend holds the key that seals what \
     is stored. If that matters to you, use mend in direct messages (`/couple start` in a DM with me), or in a server \
     of your own. Therapists: we recommend DM mode, or one server per couple.";

/// The welcome, where the couple will meet mend: their private channel in a
/// server (`in_server`), or each partner's DMs.
pub fn welcome(a: &str, b: &str, schedule: &str, in_server: bool) -> String {
    let place = if in_server {
        "This channel is for the two of you and me — with one thing to know first: the server's owner and admins can \
         read any channel here, this one included. If you'd rather no one else could, you can use mend in direct \
         messages instead (`/couple end` here, then `/couple start` in a DM with me)."
    } else {
        "We'll meet here, in direct messages: what you share reaches only the two of you and me."
    };
    format!(
        "Welcome, {a} and {b}. {place}\n\n\
         Prompts will come {schedule}. Change that any time with `/schedule set`.\n\n\
         One thing first, for each of you on your own: a few private questions about how things are for you, and how \
         you come to mend (that one shapes how prompts are worded for you, never to blame). Press **Tell mend \
         privately** when you're on your own, each on your own device. Your partner won't see your answers. Prompts \
         begin once you've both answered."
    )
}

pub fn pairing_code(code: &str, minutes: i64) -> String {
    format!(
        "Your pairing code is **{code}**. Send it to your partner: they can DM me `/couple join code:{code}`. \
         It works once, for the next {minutes} minutes."
    )
}

pub const CODE_UNKNOWN: &str =
    "That code doesn't match an invitation. Check for typos, or ask your partner for a fresh one.";
pub const CODE_EXPIRED: &str = "That code has expired. Ask your partner to run `/couple start` again for a new one.";
pub const CODE_OWN: &str = "That's your own code — send it to your partner so they can join.";
pub const ALREADY_PAIRED: &str = "You're already paired on mend. If you'd like to start over, `/couple end` first.";
pub const PARTNER_ALREADY_PAIRED: &str = "They're already paired with someone on mend, so I can't invite them.";
pub const NOT_YOURSELF: &str = "You can't pair with yourself — invite your partner instead.";
pub const NOT_A_BOT: &str = "Bots can't be partners. Invite the person you'd like to do this with.";
pub const NOT_FOR_YOU: &str = "This invitation is for someone else.";
pub const INVITATION_GONE: &str = "This invitation was already answered or has expired.";
pub const OUTSIDE_CHANNEL: &str =
    "Let's keep this in your private channel — use this command there, so it stays between the two of you.";
pub const CANT_CREATE_CHANNEL: &str = "I don't have permission to create channels here, so I couldn't open your private space. \
     A server admin can give me the **Manage Channels** permission, and then you can run `/couple start` again.";
pub const ACCEPTED_BUT_NO_CHANNEL: &str = "I couldn't create your private channel, so nothing was set up. \
     I've told whoever invited you what a server admin can do.";

pub fn role_question() -> &'static str {
    "How do you come to mend? Only you will see this, and you can change it later."
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Hurt => "I was hurt",
        Role::Repairing => "I broke trust",
        Role::Drifted => "We drifted apart",
        Role::Unsaid => "I'd rather not say",
    }
}

pub fn role_saved(role: Role) -> String {
    let what = match role {
        Role::Hurt => {
            "Thank you for telling me. Prompts will be worded for you, and moving on to the next phase will always be your call."
        }
        Role::Repairing => "Thank you for telling me. Prompts will help you show up with care, at your partner's pace.",
        Role::Drifted => "Thank you. Prompts will focus on finding your way back to each other.",
        Role::Unsaid => "That's completely fine. Prompts will be worded for you both.",
    };
    what.to_string()
}

pub fn has_answered(name: &str) -> String {
    format!("{name} has answered.")
}

pub fn reveal_heading() -> &'static str {
    "You've both answered. Here's what you wrote:"
}

/// The reveal of a day when each partner had a question of their own.
pub const REVEAL_HEADING_PERSONAL: &str =
    "You've both answered. Each of you had a question of your own today; here's what you wrote:";

/// The reveal of a small action: what was done together, never who did not.
pub fn action_reveal_heading(both_done: bool, notes: bool) -> &'static str {
    match (both_done, notes) {
        (true, true) => "You both took today's small action. What you noticed:",
        (true, false) => "You both took today's small action.",
        (false, true) => "Today's small action, and what you noticed:",
        (false, false) => {
            "You've both checked in on today's small action. However it went, there's always another day."
        }
    }
}

/// In the channel, on a day when each partner has a prompt worded for them.
pub const PERSONAL_PROMPT: &str = "Today each of you has a question of your own. Press **Read mine** to see yours — \
     only you will. Your answers are shared with each other once you've both written.";
pub const PERSONAL_FOOTER: &str = "Each of you reads your own prompt, privately.";

pub fn reveal_thread_name(day: &str) -> String {
    format!("Your answers · {day}")
}

pub fn kind_footer(kind: Kind) -> &'static str {
    match kind {
        Kind::Shared => "Answer privately. You'll see each other's answers once you've both written.",
        Kind::Journal => "Just for you: your partner will never see what you write here.",
        Kind::Action => "A small thing for today. Done or not today — both are fine.",
    }
}

pub fn modal_title(kind: Kind) -> &'static str {
    match kind {
        Kind::Journal => "Just for you",
        Kind::Action => "Today's small action",
        Kind::Shared => "Your answer",
    }
}

/// The label above the question in the answer form (Discord: 45 characters).
pub const MODAL_QUESTION_LABEL: &str = "The question (no need to change it)";
pub const ACTION_NOTE_LABEL: &str = "A note, if you like";

pub fn cannot_save(reason: &str, text: &str) -> String {
    let shown: String = text.chars().take(1500).collect();
    format!(
        "{reason}\n\nSo nothing is lost, here is what you wrote — copy it and try again:\n```\n{}\n```",
        shown.replace("```", "'''")
    )
}

pub fn nudge(name: &str) -> String {
    format!(
        "Hi {name} — today's prompt is waiting whenever you're ready. No pressure: you can also skip it, and nothing is lost."
    )
}

pub fn nudge_in_channel(mention: &str, question: Option<&str>) -> String {
    match question {
        Some(q) => format!("{mention}, a gentle reminder: today's prompt is here whenever you're ready.\n\n> {q}"),
        None => format!(
            "{mention}, a gentle reminder: your prompt for today is here whenever you're ready (**Read mine**)."
        ),
    }
}

pub fn paused(until: Option<&str>) -> String {
    match until {
        Some(u) => format!("Prompts are paused until {u}. Take the time you need."),
        None => "Prompts are paused. `/resume` whenever you're ready — there's no hurry.".into(),
    }
}

pub const RESUMED: &str = "Welcome back. Prompts will come again on your schedule.";

/// Where to find help in a crisis, in every message that may meet someone at a hard moment.
pub const CRISIS_LINES: &str = "If you're in danger or thinking of harming yourself, contact your local emergency number now, \
     or a crisis line: in the US call or text **988**; in the UK and Ireland, Samaritans on **116 123**; elsewhere, \
     findahelpline.com lists free, confidential lines in your country.";

/// To the partner who asked for space (only they see it).
pub fn space_for_you(until: Option<&str>, referral: Option<&str>) -> String {
    let when = match until {
        Some(u) => format!("Prompts are paused until {u}."),
        None => "Prompts are paused until you say you're ready.".to_string(),
    };
    let mut out = format!(
        "Take the time you need. {when} This space is yours: your partner can't lift it, and you can end it \
         sooner with `/resume`, or make it longer with `/space`. I've let your partner know, without any reason.\n\n{CRISIS_LINES}"
    );
    if let Some(r) = referral {
        out.push_str(&self::referral(r));
    }
    out
}

pub fn space_taken(name: &str, until: Option<&str>) -> String {
    match until {
        Some(u) => format!(
            "{name} is taking a little space. Prompts pause until {u}. Nothing is wrong with needing that; it's a way of caring for this."
        ),
        None => format!(
            "{name} is taking a little space, for as long as they need. Prompts pause until they're ready. \
             Nothing is wrong with needing that; it's a way of caring for this."
        ),
    }
}

pub fn space_ended(name: &str, still_paused: bool) -> String {
    if still_paused {
        format!("{name}'s time of space has come to its end. Prompts stay paused for now, for what else holds them.")
    } else {
        format!("{name}'s time of space has come to its end. Prompts pick up again with the next one on your schedule.")
    }
}

/// To whoever resumed while the other partner's space still holds prompts.
pub fn resumed_but_held(name: &str) -> String {
    format!(
        "Your part is lifted. Prompts stay paused a little longer, for {name}'s space; they come back when it ends, \
         or when {name} is ready."
    )
}

/// To whoever runs `/hard-moment`, privately, at once.
pub fn hard_moment_for_you(referral: Option<&str>) -> String {
    let mut out = format!(
        "I'm glad you reached for this. Hard moments are a normal part of healing — not a step back, and not a failure.\n\n\
         If you can, let your feet rest on the floor and breathe out slowly, a little longer than you breathe in. \
         Name three things you can see around you. Whatever you feel right now is allowed, and it will pass.\n\n\
         {CRISIS_LINES}"
    );
    if let Some(r) = referral {
        out.push_str(&self::referral(r));
    }
    out.push_str(
        "\n\nWould you like your partner to know? They would see only that you are having a hard moment — never why, \
         and never anything you write here.",
    );
    out
}

/// To the partner, privately: nothing but that it is a hard moment, and how to
/// show up well.
pub fn hard_moment_for_partner(name: &str) -> String {
    format!(
        "{name} is having a hard moment, and wanted you to know. You don't need to know why.\n\n\
         Showing up well: come close if they want you near, and let them set the pace. Reassure, don't defend or \
         explain; listen more than you speak. \"I'm here\" is often enough. If you'd like to, let them know you saw this:"
    )
}

pub const HARD_MOMENT_SHARED: &str =
    "I've let your partner know, and only that: not why, and nothing you wrote. Be gentle with yourself.";
pub const HARD_MOMENT_KEPT: &str = "Kept just for you. Your partner will never see it. Be gentle with yourself.";
pub const HARD_MOMENT_QUIET: &str =
    "That's all right. I'm here whenever you need `/hard-moment` again. Be gentle with yourself.";
pub const IM_HERE_SENT: &str = "I've told them you're here. That matters more than any words.";

/// Why a partner's `/resume` (or `/pause`) waits: the space is the other's.
pub fn space_held(name: &str, until: Option<&str>) -> String {
    let when = until.map_or("until they're ready".to_string(), |u| format!("until {u}"));
    format!(
        "{name} asked for some space, so prompts stay paused {when}. Only {name} can end it sooner. \
         Giving that space is a kind thing to do; `/space` is there for you too, whenever you need it."
    )
}

pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Atone => "Atone — honesty and responsibility",
        Phase::Attune => "Attune — understanding each other",
        Phase::Attach => "Attach — rebuilding closeness",
    }
}

/// The confirmation asked before a phase change: the button's label, and the question.
pub fn phase_ask(to: Phase, forward: bool) -> (&'static str, String) {
    if forward {
        (
            "Yes, move on",
            format!(
                "Move on to **{}**? There's no rush, and no wrong answer. Your partner will be told that a new phase \
                 has begun; either of you can slow down again later.",
                phase_name(to)
            ),
        )
    } else {
        (
            "Yes, slow down",
            format!(
                "Go back to **{}** for a while? Slowing down is always all right. Your partner will be told, \
                 without any reason given.",
                phase_name(to)
            ),
        )
    }
}

/// After a confirmed phase change (once, however many times it was clicked).
pub fn phase_moved_for_you(now: Phase) -> String {
    format!("You're in **{}** now. I've let your partner know.", phase_name(now))
}

pub const FORGET_ASK: &str = "This deletes, for good, every answer you've written on mend, and the messages in Discord \
     where mend shared your words with your partner (the answer threads, or their DMs and yours) and any weekly reflection \
     that quoted you. Your partner's own answers stay theirs. Are you sure?";

/// What `/forget` removed, exactly.
pub fn forgotten(answers: usize, messages: usize, reflections: usize, left: usize) -> String {
    let plural = |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let mut out = format!(
        "Done. I deleted {} you wrote on mend (with your skips, private journal entries and hard moments), and {} in Discord that held your words",
        plural(answers, "answer", "answers"),
        plural(messages, "message", "messages"),
    );
    if reflections > 0 {
        out.push_str(&format!(
            ", including {} that quoted you",
            plural(reflections, "weekly reflection", "weekly reflections")
        ));
    }
    out.push('.');
    if left > 0 {
        out.push_str(&format!(
            " {} I could not delete (I may no longer have access); you, or a server admin, can delete {} by hand.",
            plural(left, "message", "messages"),
            if left == 1 { "it" } else { "them" }
        ));
    }
    out.push_str(
        " Your partner's own answers stay theirs. What I can't reach: anything already copied, forwarded or \
         screenshotted, and what Discord itself keeps under its own policy.",
    );
    out
}
pub fn end_ask(partner: &str) -> String {
    format!(
        "This ends mend for both of you. First, I'll send each of you by direct message a copy of what you can see \
         on mend, to keep if you want it. Then everything mend holds for your couple is deleted: prompts, answers, \
         schedules, and your private channel. I'll tell {partner}, privately. Are you sure?"
    )
}
pub const ENDED: &str = "Your couple has ended on mend, and everything was deleted. Take care of yourself.";

pub fn ended_by(name: &str) -> String {
    format!(
        "{name} has ended mend for the two of you, and everything mend held for your couple was deleted. \
         Before that, I sent you a copy of what you could see, if your DMs were open to me: it's yours to keep or delete. \
         However you feel about this, please be gentle with yourself. If you're struggling, findahelpline.com lists \
         free, confidential lines in your country."
    )
}

/// To the partner who ended it: how the copies went.
pub fn ended_here(yours_sent: bool, partner: &str, theirs_sent: bool) -> String {
    let mut out = "Done. Your couple has ended on mend, and everything was deleted.".to_string();
    out.push_str(match yours_sent {
        true => " Your copy is in your DMs.",
        false => " I couldn't send you your copy: your DMs are closed to me.",
    });
    if !theirs_sent {
        out.push_str(&format!(" I couldn't send {partner} their copy: their DMs are closed to me."));
    }
    out.push_str(" I've told them privately. Take care of yourself.");
    out
}
pub const EXPORT_SENT: &str = "I've sent you a file in your DMs with everything you can see on mend.";
pub const EXPORT_DMS_CLOSED: &str =
    "I couldn't DM you the file — your DMs seem closed to me. Allow DMs from this server's members and try again.";

pub const CHANNEL_GONE: &str = "Your private channel on the server was deleted, so I've moved the two of you to direct messages \
     and paused prompts. Everything you wrote is still here. Whenever you're ready, `/resume` here and prompts will come to your DMs.";
pub const CHANNEL_NO_ACCESS: &str = "I can no longer see or post in your private channel, so I've paused prompts rather than miss you every day. \
     A server admin can give me back **View Channel** and **Send Messages** there; then `/resume` and prompts come again.";

pub fn partner_left(name: &str) -> String {
    format!(
        "{name} is no longer in this server, so I've paused prompts. Nothing is lost. If they come back, either of you can `/resume`."
    )
}

pub fn resumed(name: &str) -> String {
    format!("{name} resumed prompts. They'll come again on your schedule.")
}

pub fn dm_closed(name: &str) -> String {
    format!(
        "I can't reach {name} by direct message any more, so I've paused prompts rather than leave them out. \
         They can allow DMs from me (Privacy Settings, Direct Messages), and then either of you can `/resume`."
    )
}

/// The words of a notice mend posts on its own. `words` is what it needs read
/// from the store: the schedule for the welcome, the next prompt for "ready",
/// a commitment's words (quoted) for a commitment notice. `when` formats an
/// instant in the couple's timezone.
pub fn notice(
    notice: &Notice,
    couple: Option<&Couple>,
    schedule: &str,
    in_server: bool,
    when: impl Fn(i64) -> String,
) -> String {
    let name =
        |slot: crate::core::model::Slot| couple.map_or("Your partner", |c| c.partner(slot).name.as_str()).to_string();
    match notice {
        Notice::Answered { slot } => has_answered(&name(*slot)),
        Notice::SpaceTaken { slot, until } => space_taken(&name(*slot), until.map(&when).as_deref()),
        Notice::SpaceEnded { slot, until } => {
            // Something else may hold prompts beyond this space's end.
            let held = couple.is_some_and(|c| c.paused && c.paused_until.is_none_or(|u| u > *until));
            space_ended(&name(*slot), held)
        }
        Notice::Paused { slot, until } => {
            format!("{} paused prompts. {}", name(*slot), paused(until.map(&when).as_deref()))
        }
        Notice::Resumed { slot } => resumed(&name(*slot)),
        Notice::HardMoment { slot, .. } => hard_moment_for_partner(&name(*slot)),
        Notice::ImHere { slot } => format!(
            "{} is here for you. You don't have to explain anything; take the time you need together, or alone.",
            name(*slot)
        ),
        Notice::StillHeld { slot, by } => format!(
            "{} is ready to pick up again. Prompts wait a little longer, for the rest of {}'s space.",
            name(*slot),
            name(*by)
        ),
        Notice::PhaseMoved { phase, forward: true } => format!(
            "A new phase begins for you both: **{}**. Prompts will follow it from the next one. \
             Either of you can slow down any time with `/phase`.",
            phase_name(*phase)
        ),
        Notice::PhaseMoved { phase, forward: false } => format!(
            "Taking it more slowly: you're back in **{}**. There's no hurry here; prompts will follow it from the next one.",
            phase_name(*phase)
        ),
        Notice::Welcome => match couple {
            Some(c) => welcome(&c.partners[0].name, &c.partners[1].name, schedule, in_server),
            None => String::new(),
        },
        Notice::ChannelGone => CHANNEL_GONE.into(),
        Notice::ChannelNoAccess => CHANNEL_NO_ACCESS.into(),
        Notice::DmClosed { slot } => dm_closed(&name(*slot)),
        Notice::PartnerLeft { slot } => partner_left(&name(*slot)),
        Notice::Ended { by: None } => ENDED.into(),
        Notice::Ended { by: Some(name) } => ended_by(name),
        Notice::NoChannel => CANT_CREATE_CHANNEL.into(),
        Notice::Invitation { from, .. } => invitation(from),
        Notice::Declined { name } => declined(name),
        Notice::InvitationNotReached => INVITATION_NOT_REACHED.into(),
        Notice::Ready => ready((!schedule.is_empty()).then_some(schedule)),
        Notice::Committed { slot, .. } => committed(&name(*slot), schedule),
        Notice::CommitmentAsk { slot, .. } => commitment_ask(&name(*slot), schedule),
        Notice::Kept { slot, .. } => {
            format!("{} noticed {} keeping this commitment:\n{schedule}", name(*slot), name(slot.other()))
        }
        Notice::CommitmentRevised { .. } => format!("A commitment was revised. It now reads:\n{schedule}"),
        Notice::CommitmentRetired { .. } => {
            format!("A commitment has been retired, so no one will be asked about it again:\n{schedule}")
        }
        Notice::MattersMost { slot, .. } => {
            format!("{} marked this commitment as the one that matters most to them:\n{schedule}", name(*slot))
        }
        Notice::CheckIn { slot, .. } => check_in_ask(&name(slot.other())),
    }
}

/// What a person is told when the engine refuses what they asked.
pub fn user_error(e: &UserError) -> String {
    match e {
        UserError::Answer(e) => e.to_string(),
        UserError::Schedule(e) => e.to_string(),
        UserError::UnknownCouple => {
            "I can't find that couple. If you ended it, you can start again with `/couple start`.".into()
        }
        UserError::NotInACouple => NOT_IN_A_COUPLE.into(),
        UserError::NotYours => NOT_YOURS.into(),
        UserError::NotSent => "That prompt was never sent, so there is nothing to answer yet.".into(),
        UserError::AlreadyRevealed => {
            "Your answers to this prompt have already been shared with each other, so it can't be changed now. \
             The next prompt will come on your schedule."
                .into()
        }
        UserError::ActionNeedsDone => "This is a small action for today: answer with done or not today.".into(),
        UserError::TextNeeded => "This prompt asks for a few words rather than done or not today.".into(),
        UserError::NotRevealed => {
            "There is nothing revealed to mark yet: it becomes possible once you have both answered.".into()
        }
        UserError::NotTheirsToMove => {
            "Moving on to the next phase is for the partner who was hurt to decide, when they feel ready.".into()
        }
        UserError::LastPhase => "You're already in the last phase, building closeness together.".into(),
        UserError::FirstPhase => "You're already at the gentlest pace, the first phase.".into(),
        UserError::AlreadyPaused => "Prompts are already paused.".into(),
        UserError::NotPaused => "Prompts aren't paused.".into(),
        UserError::NotStarted => NOT_STARTED.into(),
        UserError::CommitmentEmpty => "A commitment needs a few words: what you'll do, small and concrete.".into(),
        UserError::CommitmentTooLong { max } => format!(
            "That's longer than a commitment here can be ({max} characters). Small and concrete works best: \
             one thing you'll do, like \"I'll put my phone away at dinner and ask about your day\"."
        ),
        UserError::TooManyCommitments { max } => format!(
            "You already have {max} commitments open, and a few, done with care, mean more than many. To make room, \
             retire one in `/commitments`; one-off ones stay open until you do."
        ),
        UserError::NotTheirsToCommit => "Commitments here are made by the partner rebuilding trust, so nothing is \
             asked of you. If you'd like to say what would help you feel cared for, the weekly check-in is the place, \
             and in `/commitments` you can mark one of theirs as the one that matters most."
            .into(),
        UserError::CommitmentsHeld => "While one of you is taking space or prompts are paused, commitments rest too: \
             nothing new is made or marked, and no one is asked about them. They wait for when you pick up again."
            .into(),
        UserError::CommitmentsNotStarted => COMMITMENTS_NOT_STARTED.into(),
        UserError::NotYourCommitment => "Only the one who made a commitment can change it.".into(),
        UserError::CommitmentGone => "That commitment was retired, so there's nothing more to do with it.".into(),
        UserError::SpaceHeld { name, until } => {
            space_held(name, until.map(|u| u.format("%A %-d %B, %H:%M").to_string()).as_deref())
        }
        UserError::PhaseMoved { now } => format!(
            "Your couple has moved since this was shown: you're in **{}** now. Run `/phase` again to see where you are.",
            phase_name(*now)
        ),
        UserError::PauseInPast => "That date is already in the past; pick a moment still ahead.".into(),
        UserError::AlreadyPaired => ALREADY_PAIRED.into(),
        UserError::PartnerAlreadyPaired => PARTNER_ALREADY_PAIRED.into(),
        UserError::NotYourself => NOT_YOURSELF.into(),
        UserError::InvitationGone => INVITATION_GONE.into(),
        UserError::NotForYou => NOT_FOR_YOU.into(),
        UserError::CodeUnknown => CODE_UNKNOWN.into(),
        UserError::CodeOwn => CODE_OWN.into(),
        UserError::CodeExpired => CODE_EXPIRED.into(),
    }
}

// ---- The private safety check -------------------------------------------------

/// Domestic-violence lines, for whoever says they may not be safe.
pub const SAFETY_LINES: &str = "If you'd like to talk to someone, free and confidential:\n\
     • anywhere: **findahelpline.com** lists lines in your country\n\
     • US: the National Domestic Violence Hotline, **1-800-799-7233**, or text **START** to **88788**\n\
     • UK: the National Domestic Abuse Helpline, **0808 2000 247** (for women); the Men's Advice Line, \
     **0808 801 0327**; Galop (LGBT+), **0800 999 5428**; in Scotland, **0800 027 1234**\n\
     If you are in danger right now, call your local emergency number. Calls and texts can show in your phone's history.";

/// Before the first question: what it is, and who sees it (no one).
pub const SAFETY_INTRO: &str = "Before anything shared, three questions just for you. Your answers are not saved, \
     and your partner never sees them. If someone could be looking at your screen, you can close this and come back \
     any time with `/safety`. There are no wrong answers.";

/// The three questions, in our own words, each with its three answers; an
/// answer is `true` where it signals the person may not be safe.
pub const SAFETY_QUESTIONS: [(&str, [(&str, bool); 3]); 3] = [
    ("Are you ever afraid of your partner?", [("No", false), ("Sometimes", true), ("I'm not sure", true)]),
    (
        "In the past year, has your partner hurt you, threatened or frightened you, pressured you into anything sexual, \
         or tried to control where you go or whom you see?",
        [("No", false), ("Yes", true), ("I'm not sure", true)],
    ),
    (
        "Do you feel free to say no to your partner, without being afraid of what happens next?",
        [("Yes", false), ("No", true), ("I'm not sure", true)],
    ),
];

/// Question `n` (0-based), with the intro before the first.
pub fn safety_question(n: usize) -> String {
    let (question, _) = SAFETY_QUESTIONS[n];
    let intro = if n == 0 { format!("{SAFETY_INTRO}\n\n") } else { String::new() };
    format!("{intro}**{} of 3.** {question}", n + 1)
}

/// Every answer was safe: thanks, then (at pairing) the role question.
pub fn safety_clear(partner_pending: Option<&str>) -> String {
    let wait = match partner_pending {
        Some(name) => format!(
            " Prompts begin once {name} has answered their own questions too, in their own time; there's no need to \
             remind them."
        ),
        None => String::new(),
    };
    format!("Thank you. Nothing you answered was saved, and `/safety` is here any time.{wait}")
}

/// An answer signalled danger: to that person only.
pub fn safety_concern(referral: Option<&str>) -> String {
    let mut out = format!(
        "Thank you for telling me. What you said matters, and you deserve to feel safe.\n\n\
         Couples exercises aren't recommended while someone isn't sure they're safe with their partner, so I've stopped \
         shared prompts. Your partner is told only that you're taking some space, in the words any space uses, and \
         nothing of what you answered, which was not saved. Because this comes just after the questions, they may \
         still guess: if that could make things less safe, the lines below can help you plan. Only you can see this \
         message; **Dismiss message** removes it.\n\n{SAFETY_LINES}"
    );
    if let Some(r) = referral {
        out.push_str(&self::referral(r));
    }
    out.push_str(
        "\n\nIf it helps, `/journal` gives you private prompts, just for you. Only you can start shared prompts again \
         (`/resume`), if and when you choose; if anyone presses you to, you don't have to, and you never owe a reason. \
         `/safety` also lets you leave mend quietly.",
    );
    out
}

/// `/safety`: the check again, or leaving quietly.
pub fn safety_menu(referral: Option<&str>) -> String {
    let mut out = format!(
        "This is just for you; your partner never sees it.\n\n\
         You can answer the three safety questions again (nothing is saved). Or you can **leave quietly**: mend ends for \
         you both, your partner gets a plain goodbye that doesn't say why (though they'll know it wasn't them), and \
         everything you wrote is deleted.\n\n{SAFETY_LINES}"
    );
    if let Some(r) = referral {
        out.push_str(&self::referral(r));
    }
    out
}

pub const LEAVE_QUIETLY_ASK: &str = "Leave quietly? mend ends for you both. Your partner is told only that mend has \
     ended, never why, and gets a copy of their own words, though they will know they didn't end it. If leaving could \
     make things less safe, a helpline (above) can help you plan first. Everything you wrote is deleted, here and in \
     Discord, and your private channel closes. This can't be undone.";

pub fn left_quietly(referral: Option<&str>) -> String {
    let mut out = format!(
        "It's done: mend has ended, and everything you wrote is gone from mend. If it's safe to, you can also close \
         this DM or leave the server, so mend no longer shows. Take care of yourself.\n\n{SAFETY_LINES}"
    );
    if let Some(r) = referral {
        out.push_str(&self::referral(r));
    }
    out
}

/// To the partner who stays, with their copy, when the other left quietly.
pub const ENDED_QUIETLY_COPY: &str = "mend has ended for the two of you. Before it is deleted, here is a copy of what \
     you wrote, to keep if you want it.";

/// `/safety` from someone not in a couple.
pub fn safety_alone(referral: Option<&str>) -> String {
    let mut out = format!(
        "You're not paired on mend, so there's nothing to stop or leave. If you don't feel safe:\n\n{SAFETY_LINES}"
    );
    if let Some(r) = referral {
        out.push_str(&self::referral(r));
    }
    out
}

pub const READY: &str = "You've both answered mend's private questions. Thank you.";

pub fn ready(next: Option<&str>) -> String {
    match next {
        Some(when) => format!("{READY} Your first prompt comes {when}."),
        None => format!("{READY} Prompts will come on your schedule."),
    }
}

pub const COMMITMENTS_NOT_STARTED: &str = "Commitments begin with the prompts, once you've both answered mend's \
     private questions (the **Tell mend privately** button in the welcome, or `/safety`). What you'd like to commit to \
     can wait until then.";

pub const NOT_STARTED: &str = "Prompts haven't started yet: they begin once you've both answered mend's private \
     questions (the **Tell mend privately** button in the welcome, or `/safety`).";

// ---- Private journal prompts --------------------------------------------------

/// Prompts about oneself, never about the partner or the relationship: for
/// anyone, and above all for someone who does not feel safe.
pub const JOURNAL_FOR_YOU: [&str; 12] = [
    "What helps you feel steady on a hard day? Name one small thing you could do for yourself today.",
    "Where do you feel most like yourself: a place, a person, an activity? What is it about it?",
    "Write down three things you did this week that took strength, however small they seem.",
    "Who in your life makes you feel safe and heard? What would you like to tell them?",
    "What are you feeling in your body right now? Describe it without judging it.",
    "What would you say to a close friend who was feeling what you feel today?",
    "What do you need more of in your days, and what do you need less of?",
    "Think of a moment recently when you felt calm, even briefly. What was around you?",
    "What is one boundary you would like to keep for yourself, and who or what could help you keep it safely?",
    "What are you looking forward to, in the next week or the next year?",
    "Which of your own qualities are you glad to have? Write about one of them.",
    "If today had a kinder ending, what would it look like? Is any part of it within reach?",
];

pub fn journal_for_you(prompt: &str) -> String {
    format!(
        "**Just for you.** {prompt}\n\n*This is for thinking, or for writing somewhere that feels safe to you. mend \
         doesn't keep it, and your partner never sees it.*"
    )
}

// ---- Commitments --------------------------------------------------------------

/// A commitment's words, quoted safely, with how often it comes.
pub fn commitment_words(text: &str, spec: Option<&str>, note: Option<&str>) -> String {
    let when = match spec {
        Some(spec) => format!("*({spec})*"),
        None => "*(once)*".to_string(),
    };
    let mut out = format!("{}\n{when}", super::render::quote(text));
    if let Some(note) = note {
        out.push_str(&format!("\nTheir note:\n{}", super::render::quote(note)));
    }
    out
}

pub fn committed(name: &str, words: &str) -> String {
    format!(
        "{name} made a commitment:\n{words}\nAfter each time, the partner it's made to will be asked privately whether \
         they noticed it. Only a \"yes\" is ever shared here; any other answer, or none, stays with them, and isn't \
         something to ask about."
    )
}

pub fn commitment_ask(name: &str, words: &str) -> String {
    format!(
        "{name} made this commitment to you:\n{words}\n**Did you notice it?** Only you see this question, and you don't \
         have to answer. If you noticed it, {name} will hear that you did. If not, or you're not sure, that stays with \
         you: it is never posted or counted."
    )
}

pub const NOTICED_KEPT_QUIETLY: &str = "Thank you for noticing. While one of you is taking space, nothing is posted \
     about it; it stays here, and still counts in your week together.";
pub const NOTICED_KEPT: &str = "Thank you for noticing. I've shared that you saw it, where you both can read it.";
pub const NOTICED_OTHERWISE: &str = "Thank you. This stays with you: nothing is posted, counted or shown to your \
     partner. You don't owe anyone a reason. If it's on your mind, you can talk about it when and if it feels right to \
     you, or let it be.";
pub const ALREADY_NOTICED: &str = "You already answered this one. Thank you.";

pub fn no_commitments(may_commit: bool) -> String {
    if may_commit {
        "No commitments open. When you're ready, `/commit` one small, concrete thing you'll do — like \"I'll put my \
         phone away at dinner and ask about your day\" — once or on a schedule (`when: daily 18:00`)."
            .into()
    } else {
        "No commitments open yet. When your partner makes one, it shows here, and you can mark the one that matters \
         most to you."
            .into()
    }
}

/// To the one who committed, privately.
pub fn committed_for_you(partner: &str, when: &str) -> String {
    format!(
        "Committed. {partner} will be asked privately, {when}, whether they noticed it. Only a \"yes\" is shared with \
         you; anything else stays with them. If you hear nothing, please don't ask: what counts is the doing, not the \
         mark. `/commitments` lets you revise or retire it."
    )
}

pub fn matters_most(name: &str, now: bool) -> String {
    if now {
        format!("Marked as the one that matters most to you. {name} will be told, privately.")
    } else {
        "Unmarked. You can mark another any time.".into()
    }
}

pub const COMMITMENT_REVISED: &str = "Revised. Your partner will see the new words, and your note if you wrote one.";
pub const COMMITMENT_RETIRED: &str = "Retired. No one will be asked about it again. Your partner will see it was retired, and your note if you wrote one.";

/// The weekly check-in, to each partner privately before the reflection: who
/// will read what they write, and when, said before they write it.
pub fn check_in_ask(partner: &str) -> String {
    format!(
        "Before this week's reflection, a gentle check-in, just two questions: **one thing you appreciated about \
         {partner} this week**, and **one thing that would help you feel cared for next week**. Both are optional; a \
         few words, or none at all, is fine.\n\n\
         What you write stays between us until the reflection: {partner} will read it there, under your name, and not \
         before. The reflection comes once you've both checked in, or within a day either way."
    )
}

pub const CHECK_IN_BUTTON: &str = "Check in";
pub const CHECK_IN_TITLE: &str = "Your check-in for this week";
pub const CHECK_IN_CARED_LABEL: &str = "One thing that would help you feel cared for";

/// The first question's label (at most 45 characters, as Discord allows).
pub fn check_in_appreciation_label(partner: &str) -> String {
    [
        format!("One thing you appreciated about {partner} this week"),
        format!("One thing you appreciated about {partner}"),
    ]
    .into_iter()
    .find(|l| l.chars().count() <= 45)
    .unwrap_or_else(|| "One thing you appreciated this week".into())
}

/// Placeholders (at most 100 characters) that say who will read it.
pub fn check_in_placeholders(partner: &str) -> [String; 2] {
    let fit = |s: String, short: &str| if s.chars().count() <= 100 { s } else { short.to_string() };
    [
        fit(
            format!("Something they did, said or were. {partner} reads it in the reflection."),
            "Something they did, said or were. Your partner reads it in the reflection.",
        ),
        fit(
            format!("Next week: something small {partner} could do. Shown in the reflection."),
            "Next week: something small your partner could do. Shown in the reflection.",
        ),
    ]
}

pub fn check_in_saved(partner: &str) -> String {
    format!(
        "Thank you. It's kept for this week's reflection, where {partner} will read it under your name, and not \
         before. You can change it until the reflection goes out."
    )
}

pub const CHECK_IN_COMPLETE: &str = "Thank you. This week's reflection is on its way to you both now.";

pub const CHECK_IN_CLOSED: &str =
    "This week's reflection has already gone out, so this check-in has closed. There will be a new one next week.";

/// A check-in that came after the reflection went out: its words, given back.
pub const CHECK_IN_TOO_LATE: &str = "This week's reflection had already gone out, so I couldn't add this to it. \
     I'm sorry. Here is what you wrote, so nothing is lost: you could share it with your partner yourself, or keep \
     it for next week's check-in.";

/// The reflection's title, and its picture's field.
pub const REFLECTION_TITLE: &str = "Your week together";
pub const PICTURE_IN_WORDS: &str = "The picture, in words";
