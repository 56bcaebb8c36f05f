//! Turning engine values into Discord messages: embeds in pillar colours,
//! buttons, and text split to Discord's limits.

use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter};

use super::ids::Action;
use super::text;
use crate::core::entities::{Couple, Delivery};
use crate::core::model::{Kind, Slot};
use crate::core::prompts::{Library, Pillar};
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

/// The name of the reflection's picture of the weeks, attached to its message.
pub const PICTURE_FILE: &str = "weeks.png";
const EMBED_TOTAL_LIMIT: usize = 6000;
const EMBED_FIELDS_LIMIT: usize = 25;
/// How long a partner's quoted words may be in the reflection, tried in turn
/// until everything fits Discord's 6000 characters an embed may hold.
const QUOTE_LENGTHS: [usize; 6] = [1000, 700, 500, 350, 220, 120];
/// A field that continues the one above it (Discord needs a name).
const CONTINUED: &str = "\u{200B}";

/// The weekly reflection: an embed with its sections (about the couple, never
/// one partner against the other; a partner's own words only under their
/// name), the picture of the weeks shown in it and described in words, and the
/// host's referral as the footer; and the picture itself, as PNG bytes to
/// attach as [`PICTURE_FILE`]. The same reflection always gives the same bytes.
pub fn reflection(
    library: &Library,
    r: &Reflection,
    couple: &Couple,
    referral: Option<&str>,
) -> (CreateEmbed, Vec<u8>) {
    let names = [couple.partners[0].name.as_str(), couple.partners[1].name.as_str()];
    let (chart_pillars, weeks) = chart_data(library, r, couple.zone());
    let pillars: Vec<&str> = chart_pillars.iter().map(String::as_str).collect();
    let chart = mend_chart::Chart { pillars: &pillars, weeks: &weeks };
    let picture = mend_chart::render(&chart);
    let described = clip(&mend_chart::describe(&chart), FIELD_LIMIT);
    let footer = referral.map(|text| clip(&format!("When you're ready: {text}"), 2048));
    let fixed = text::REFLECTION_TITLE.chars().count()
        + text::PICTURE_IN_WORDS.chars().count()
        + described.chars().count()
        + footer.as_ref().map_or(0, |f| f.chars().count());
    let size = |fields: &[(String, String)]| -> usize {
        fixed + fields.iter().map(|(n, v)| n.chars().count() + v.chars().count()).sum::<usize>()
    };
    let mut fields = Vec::new();
    for max in QUOTE_LENGTHS {
        fields = reflection_fields(library, r, names, max);
        if size(&fields) <= EMBED_TOTAL_LIMIT {
            break;
        }
    }
    // Still too long (a week of many long answers): the longest fields give way.
    while size(&fields) > EMBED_TOTAL_LIMIT {
        let over = size(&fields) - EMBED_TOTAL_LIMIT;
        let Some(longest) = fields.iter_mut().max_by_key(|(_, v)| v.chars().count()) else { break };
        let keep = longest.1.chars().count().saturating_sub(over).max(100);
        if keep >= longest.1.chars().count() {
            break;
        }
        longest.1 = clip(&longest.1, keep);
    }
    let mut e = CreateEmbed::new().title(text::REFLECTION_TITLE).colour(0x8e7cc3);
    for (name, value) in fields {
        e = e.field(name, value, false);
    }
    e = e.field(text::PICTURE_IN_WORDS, described, false).image(format!("attachment://{PICTURE_FILE}"));
    if let Some(footer) = footer {
        e = e.footer(CreateEmbedFooter::new(footer));
    }
    (e, picture)
}

/// The reflection's sections as embed fields (name, value), each within
/// Discord's limits: a long section goes on in the fields under it, split
/// between one person's words and the next, never inside them.
fn reflection_fields(library: &Library, r: &Reflection, names: [&str; 2], max_quote: usize) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for (heading, value) in r.sections(library, names, |words| quote(&clip(words, max_quote))) {
        let mut chunk = String::new();
        let mut first = true;
        for entry in value.split("\n\n").map(|e| clip(e, FIELD_LIMIT)) {
            if !chunk.is_empty() && chunk.chars().count() + 2 + entry.chars().count() > FIELD_LIMIT {
                let name = if first { heading } else { CONTINUED };
                fields.push((name.to_string(), std::mem::take(&mut chunk)));
                first = false;
            }
            if !chunk.is_empty() {
                chunk.push_str("\n\n");
            }
            chunk.push_str(&entry);
        }
        let name = if first { heading } else { CONTINUED };
        fields.push((name.to_string(), chunk));
    }
    // Room for the picture's own field.
    fields.truncate(EMBED_FIELDS_LIMIT - 1);
    fields
}

/// The picture's data: each pillar's short name, in the library's order, and
/// one column per week, labelled with the day it began in the couple's
/// timezone. Only what was done together is charted: never a miss.
pub fn chart_data(library: &Library, r: &Reflection, zone: chrono_tz::Tz) -> (Vec<String>, Vec<mend_chart::Week>) {
    let pillars = library.pillars();
    let names = pillars.iter().map(short_pillar_name).collect();
    let weeks = r
        .weeks
        .iter()
        .map(|w| mend_chart::Week {
            label: crate::engine::instant(w.start).with_timezone(&zone).format("%b %-d").to_string(),
            together: w.together.min(u8::MAX as usize) as u8,
            kept: w.kept.min(u16::MAX as usize) as u16,
            pillars: pillars
                .iter()
                .take(16)
                .enumerate()
                .filter(|(_, p)| w.pillars.contains(&p.id))
                .fold(0u16, |bits, (i, _)| bits | (1 << i)),
        })
        .collect();
    (names, weeks)
}

/// A pillar's name short enough for a row of the picture (at most 12
/// characters): chosen for the built-in pillars, else the first words of its
/// name that fit.
pub fn short_pillar_name(pillar: &Pillar) -> String {
    let chosen = match pillar.id.as_str() {
        "taking-responsibility" => Some("Ownership"),
        "openness-transparency" => Some("Openness"),
        "emotional-repair" => Some("Repair"),
        "patience-time" => Some("Patience"),
        "guided-support" => Some("Support"),
        "turning-toward" => Some("Turn toward"),
        "honest-communication" => Some("Honest talk"),
        "consistency-follow-through" => Some("Consistency"),
        "reconnection" => Some("Reconnection"),
        "being-present" => Some("Presence"),
        _ => None,
    };
    if let Some(name) = chosen {
        return name.to_string();
    }
    let mut short = String::new();
    for word in pillar.name.split_whitespace() {
        let longer = if short.is_empty() { word.to_string() } else { format!("{short} {word}") };
        if longer.chars().count() > 12 {
            break;
        }
        short = longer;
    }
    if short.is_empty() { clip(pillar.name.trim(), 12) } else { short }
}

/// A check-in's words, given back to their writer (when they could not be
/// kept), so nothing they wrote is lost; `None` when they wrote nothing.
pub fn check_in_words(appreciation: &str, cared_for: &str) -> Option<CreateEmbed> {
    let parts: Vec<String> = [("One thing you appreciated", appreciation), (text::CHECK_IN_CARED_LABEL, cared_for)]
        .into_iter()
        .filter(|(_, words)| !words.trim().is_empty())
        .map(|(label, words)| format!("**{label}**\n{}", quote(&clip(words, 1900))))
        .collect();
    (!parts.is_empty())
        .then(|| CreateEmbed::new().title("What you wrote").colour(0x8e7cc3).description(parts.join("\n\n")))
}

/// A partner's own check-ins, for their export.
pub fn check_ins_json(check_ins: &[crate::store::checkins::StoredCheckIn]) -> serde_json::Value {
    check_ins
        .iter()
        .map(|c| {
            serde_json::json!({
                "written_at": crate::engine::instant(c.written_at).to_rfc3339(),
                "appreciated": c.check_in.appreciation,
                "would_help_you_feel_cared_for": c.check_in.cared_for,
            })
        })
        .collect()
}

/// The reflections posted to a couple, as they read (both partners may see
/// every one), for an export.
pub fn reflections_json(
    library: &Library,
    posted: &[crate::engine::PostedReflection],
    couple: &Couple,
) -> serde_json::Value {
    let names = [couple.partners[0].name.as_str(), couple.partners[1].name.as_str()];
    posted
        .iter()
        .map(|p| {
            let sections: Vec<serde_json::Value> = p
                .reflection
                .sections(library, names, quote)
                .into_iter()
                .map(|(heading, text)| serde_json::json!({"heading": heading, "text": text}))
                .collect();
            serde_json::json!({
                "week_of": crate::engine::instant(p.week_start).to_rfc3339(),
                "posted_at": crate::engine::instant(p.posted_at).to_rfc3339(),
                "sections": sections,
            })
        })
        .collect()
}

/// The button under a partner's weekly check-in.
pub fn check_in_button(reflection: i64) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(Action::CheckIn(reflection).custom_id())
            .label(text::CHECK_IN_BUTTON)
            .style(ButtonStyle::Primary),
    ])]
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

    fn couple() -> Couple {
        use crate::core::entities::{Holds, Partner};
        use crate::core::model::{Phase, Role};
        let partner = |name: &str| Partner { name: name.into(), role: Role::Drifted, external_id: None };
        Couple {
            id: 1,
            created_at: 0,
            tz: "Europe/Paris".into(),
            phase: Phase::Attune,
            phase_changed_at: 0,
            paused: false,
            paused_until: None,
            holds: Holds::default(),
            ended_at: None,
            partners: [partner("Alex"), partner("Sam")],
        }
    }

    fn library() -> Library {
        Library::builtin_with(&[]).expect("the built-in prompts")
    }

    /// A week with everything at once, every text as long as it may be.
    fn full_week(library: &Library) -> Reflection {
        use crate::core::reflection::{CheckIn, Week, WeekItem};
        let long = |c: char| std::iter::repeat_n(c, crate::core::reflection::MAX_CHECK_IN_CHARS).collect::<String>();
        let items: Vec<WeekItem> = library
            .pillars()
            .iter()
            .take(7)
            .map(|p| WeekItem {
                pillar: p.id.clone(),
                kind: Kind::Shared,
                prompts: ["a".into(), "b".into()],
                answered: [true, true],
                done: [None, None],
                meaningful: vec![(Slot::A, long('m')), (Slot::B, long('n'))],
                revealed: true,
            })
            .collect();
        let mut r = Reflection::build(library, &items);
        r.kept = 4;
        r.met_together = 1;
        r.add_check_ins(&[
            CheckIn::new(Slot::A, Some(&long('a')), Some(&long('c'))),
            CheckIn::new(Slot::B, Some(&long('b')), Some(&long('d'))),
        ]);
        let ids: Vec<String> = library.pillars().iter().map(|p| p.id.clone()).collect();
        r.weeks = (0..20)
            .map(|k| Week { start: 1_767_553_200 + k * 604_800, together: 5, kept: 1, pillars: ids[..3].to_vec() })
            .collect();
        r
    }

    #[test]
    fn a_full_week_fits_discords_embed_limits() {
        let library = library();
        let (embed, _) = reflection(&library, &full_week(&library), &couple(), Some("Dr. Rivera, 555-0100"));
        let e = serde_json::to_value(&embed).unwrap();
        let fields = e["fields"].as_array().unwrap();
        assert!(fields.len() <= EMBED_FIELDS_LIMIT);
        let chars = |v: &serde_json::Value| v.as_str().unwrap_or("").chars().count();
        let mut total = chars(&e["title"]) + chars(&e["footer"]["text"]);
        for f in fields {
            assert!(chars(&f["name"]) <= 256 && chars(&f["value"]) <= FIELD_LIMIT, "{f}");
            assert!(chars(&f["name"]) > 0 && chars(&f["value"]) > 0, "{f}");
            total += chars(&f["name"]) + chars(&f["value"]);
        }
        assert!(total <= EMBED_TOTAL_LIMIT, "{total}");
        // Every partner's words still show, each under their own name.
        let all = e.to_string();
        for words in ["**Alex** appreciated", "**Sam** appreciated", "What would help Alex", "What would help Sam"] {
            assert!(all.contains(words), "{words}");
        }
        assert_eq!(e["image"]["url"], "attachment://weeks.png");
        let last = fields.last().unwrap();
        assert_eq!(last["name"], text::PICTURE_IN_WORDS);
        assert!(last["value"].as_str().unwrap().contains("earlier weeks are left out"), "{last}");
    }

    #[test]
    fn the_picture_is_the_same_for_the_same_weeks_and_charts_only_what_was_done() {
        let library = library();
        let r = full_week(&library);
        let (_, once) = reflection(&library, &r, &couple(), None);
        let (_, again) = reflection(&library, &r, &couple(), None);
        assert_eq!(once, again, "same data, same bytes");
        assert_eq!(&once[1..4], b"PNG");
        let (names, weeks) = chart_data(&library, &r, chrono_tz::Europe::Paris);
        assert_eq!(names.len(), library.pillars().len());
        assert_eq!(weeks.len(), 20);
        assert_eq!(weeks[0].label, "Jan 4", "the week's first day, in the couple's timezone");
        assert!(weeks.iter().all(|w| w.pillars == 0b111 && w.together == 5 && w.kept == 1));
    }

    #[test]
    fn pillar_names_are_short_and_distinct() {
        let library = library();
        let names: Vec<String> = library.pillars().iter().map(short_pillar_name).collect();
        for n in &names {
            assert!(!n.is_empty() && n.chars().count() <= 12, "{n}");
        }
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len(), "{names:?}");
        let other = Pillar {
            id: "x".into(),
            name: "Gentle Curiosity Together".into(),
            group: String::new(),
            colour: 0,
            blurb: String::new(),
        };
        assert_eq!(short_pillar_name(&other), "Gentle");
    }

    #[test]
    fn quotes_cannot_ping_anyone() {
        let q = quote("hi @everyone\n@here and <@123>");
        assert!(!q.contains("@everyone") && !q.contains("@here"));
        assert!(q.lines().all(|l| l.starts_with("> ")));
    }
}
