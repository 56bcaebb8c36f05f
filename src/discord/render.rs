//! Turning engine values into Discord messages: embeds in pillar colours,
//! buttons, and text split to Discord's limits.

use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter};

use super::ids::Action;
use super::text;
use crate::core::entities::Delivery;
use crate::core::model::{Kind, Slot};
use crate::core::prompts::Library;
use crate::core::reflection::Reflection;
use crate::engine::Prepared;

/// Discord's limit for message content.
pub const MESSAGE_LIMIT: usize = 2000;
const FIELD_LIMIT: usize = 1024;
const DESCRIPTION_LIMIT: usize = 4096;

/// Cuts text to `max` characters (not bytes), marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits text into pieces of at most `max` characters, at line or word breaks
/// where possible.
pub fn split(s: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in s.split_inclusive([' ', '\n']) {
        if current.chars().count() + word.chars().count() > max && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        if word.chars().count() > max {
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(max) {
                parts.push(chunk.iter().collect());
            }
            continue;
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Quotes a partner's words so that nothing in them can ping, format a heading
/// or break out of the quote.
pub fn quote(s: &str) -> String {
    s.lines().map(|l| format!("> {}", l.replace('@', "@\u{200B}"))).collect::<Vec<_>>().join("\n")
}

/// Whether a delivery's prompts are each partner's own (see
/// `select::is_personal`): then where both look, neither prompt is shown.
pub fn is_personal(library: &Library, delivery: &Delivery) -> bool {
    delivery.chosen.as_ref().is_some_and(|c| crate::core::select::is_personal(library, &c.prompts))
}

/// The daily prompt: an embed in the pillar's colour, for one reader (DMs) or
/// for both (the couple's channel). On a day when each has their own prompt,
/// the channel's embed shows neither: each reads theirs privately.
pub fn prompt_embed(library: &Library, p: &Prepared, reader: Option<Slot>) -> CreateEmbed {
    let text = match reader {
        Some(slot) => p.prompts[slot.index()].text.as_str(),
        None if is_personal(library, &p.delivery) => text::PERSONAL_PROMPT,
        None => p.prompts[0].text.as_str(),
    };
    let footer = match reader {
        None if is_personal(library, &p.delivery) => text::PERSONAL_FOOTER,
        _ => text::kind_footer(p.kind),
    };
    prompt_card(library, &p.delivery, text, footer)
}

/// One partner's own prompt of `delivery`, as only they see it.
pub fn own_prompt_embed(library: &Library, delivery: &Delivery, prompt: &str) -> CreateEmbed {
    prompt_card(library, delivery, prompt, text::kind_footer(delivery.kind()))
}

fn prompt_card(library: &Library, delivery: &Delivery, description: &str, footer: &str) -> CreateEmbed {
    let chosen = delivery.chosen.as_ref();
    let pillar_id = chosen.map_or("", |c| c.pillar.as_str());
    let pillar = library.pillar(pillar_id);
    let mut embed = CreateEmbed::new()
        .title(pillar.map_or(pillar_id.to_string(), |p| p.name.clone()))
        .colour(pillar.map_or(0x7f8c8d, |p| p.colour))
        .description(clip(description, DESCRIPTION_LIMIT))
        .footer(CreateEmbedFooter::new(footer));
    if let Some(c) = chosen.filter(|c| c.kind != Kind::Action)
        && let Some(action) = crate::core::select::small_action(library, &c.pillar, c.phase, delivery.id as u64)
    {
        embed = embed.field("Today's small action", clip(&action.text, FIELD_LIMIT), false);
    }
    embed
}

/// Under the channel's prompt on a personal day: each reads their own.
pub fn personal_buttons(delivery: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::Mine(delivery).custom_id()).label("Read mine").style(ButtonStyle::Primary),
        CreateButton::new(Action::Space(delivery).custom_id()).label("I need space").style(ButtonStyle::Secondary),
    ])]
}

/// The buttons under a prompt.
pub fn prompt_buttons(delivery: i64, kind: Kind) -> Vec<CreateActionRow> {
    let first = match kind {
        Kind::Action => vec![
            CreateButton::new(Action::Done(delivery).custom_id()).label("Done").style(ButtonStyle::Success),
            CreateButton::new(Action::NotToday(delivery).custom_id()).label("Not today").style(ButtonStyle::Secondary),
        ],
        Kind::Shared | Kind::Journal => {
            vec![CreateButton::new(Action::Answer(delivery).custom_id()).label("Answer").style(ButtonStyle::Primary)]
        }
    };
    let mut row = first;
    if kind != Kind::Action {
        row.push(
            CreateButton::new(Action::Skip(delivery).custom_id()).label("Skip today").style(ButtonStyle::Secondary),
        );
    }
    row.push(
        CreateButton::new(Action::Space(delivery).custom_id()).label("I need space").style(ButtonStyle::Secondary),
    );
    vec![CreateActionRow::Buttons(row)]
}

/// One partner's revealed words, split to fit messages. Only the words: never
/// the question (on a personal day it would tell a private role), never
/// whether a small action was done (no tally of who did not).
pub fn revealed_answer(name: &str, body: &str) -> Vec<String> {
    split(&format!("**{name}**\n{}", quote(body)), MESSAGE_LIMIT)
}

/// The weekly reflection as an embed: its sections (about the couple, never one
/// partner against the other) as fields, the host's referral as the footer.
pub fn reflection_embed(library: &Library, r: &Reflection, names: [&str; 2], referral: Option<&str>) -> CreateEmbed {
    let mut e = CreateEmbed::new().title("Your week together").colour(0x8e7cc3);
    for (heading, value) in r.sections(library, names, |words| quote(&clip(words, 300))) {
        e = e.field(heading, clip(&value, FIELD_LIMIT), false);
    }
    if let Some(text) = referral {
        e = e.footer(CreateEmbedFooter::new(clip(&format!("When you're ready: {text}"), 2048)));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_character_within_the_limit() {
        let s = "word ".repeat(900) + &"x".repeat(2500);
        let parts = split(&s, MESSAGE_LIMIT);
        assert!(parts.iter().all(|p| p.chars().count() <= MESSAGE_LIMIT));
        assert_eq!(parts.concat(), s);
    }

    #[test]
    fn quotes_cannot_ping_anyone() {
        let q = quote("hi @everyone\n@here and <@123>");
        assert!(!q.contains("@everyone") && !q.contains("@here"));
        assert!(q.lines().all(|l| l.starts_with("> ")));
    }
}
