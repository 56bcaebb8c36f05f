//! The days and wall times a spec names, parsed from what people type
//! (`8pm`, `weekdays 21:00`, `every monday at 7am`, `mon-fri 9:15am`) or a
//! crontab(5) line, before a timezone is applied.
//!
//! Friendly specs are stored in one canonical form, `<days> HH:MM` with days
//! `daily`, `weekdays`, `weekends` or three-letter names Monday first
//! (`mon,wed,fri 07:15`); it parses back to the same spec. Crontab lines keep
//! their own text.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use cron::TimeUnitSpec;

use super::{HORIZON_DAYS, ScheduleError, edit_distance};

/// The days and wall times a spec names, before a timezone is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    source: String,
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    days_of_month: BTreeSet<u32>,
    months: BTreeSet<u32>,
    /// 0 = Sunday … 6 = Saturday, as in crontab(5).
    days_of_week: BTreeSet<u32>,
    /// crontab(5): when both day fields are restricted, a day matching either fires.
    dom_restricted: bool,
    dow_restricted: bool,
}

impl Spec {
    /// The canonical text of a friendly spec (`daily 20:00`, `mon,wed,fri 07:15`),
    /// or a crontab line as typed, with its spacing collapsed.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub(super) fn day_matches(&self, date: NaiveDate) -> bool {
        if !self.months.contains(&date.month()) {
            return false;
        }
        let dom = self.days_of_month.contains(&date.day());
        let dow = self.days_of_week.contains(&date.weekday().num_days_from_sunday());
        match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }

    pub(super) fn wall_times(&self) -> impl Iterator<Item = NaiveTime> + '_ {
        self.hours.iter().flat_map(move |&h| {
            self.minutes.iter().map(move |&m| NaiveTime::from_hms_opt(h, m, 0).expect("validated hour and minute"))
        })
    }
}

impl FromStr for Spec {
    type Err = ScheduleError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(ScheduleError::Spec("the schedule is empty".into()));
        }
        let fields: Vec<&str> = text.split(' ').collect();
        let spec = match fields.as_slice() {
            [m, h, dom, mon, dow] if looks_like_crontab(m) && looks_like_crontab(h) => {
                Spec { source: text.clone(), ..crontab(m, h, dom, mon, dow)? }
            }
            _ if fields.len() > 1 && text.contains('*') && fields.iter().all(|f| looks_like_crontab(f)) => {
                return Err(ScheduleError::Spec(format!(
                    "`{text}` has {} fields, but a crontab line has five (minute hour day month weekday), \
                     like `30 8 * * 1-5`",
                    fields.len()
                )));
            }
            _ => friendly(&text)?,
        };
        if !spec.fires_at_all() {
            return Err(ScheduleError::Spec(format!("`{}` names no day that exists", spec.source)));
        }
        Ok(spec)
    }
}

impl Spec {
    /// A spec like `31 2` (31 February) never fires; reject it at once rather than
    /// leave a couple silently without prompts.
    fn fires_at_all(&self) -> bool {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
        (0..HORIZON_DAYS).any(|d| self.day_matches(start + Duration::days(d)))
    }
}

/// A field a crontab minute or hour could be: digits, `*`, `,`, `-`, `/`, and the
/// syntax of other crons that mend refuses with its own message.
fn looks_like_crontab(field: &str) -> bool {
    field.chars().all(|c| c.is_ascii_digit() || "*,-/?#LWlw".contains(c))
}

/// Days of the week in the canonical order, Monday first (0 = Sunday).
const MONDAY_FIRST: [u32; 7] = [1, 2, 3, 4, 5, 6, 0];
const SHORT_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FULL_NAMES: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/// The canonical days of a friendly spec: `daily`, `weekdays`, `weekends` or
/// three-letter names, Monday first.
fn canonical_days(days: &BTreeSet<u32>) -> String {
    let weekdays: BTreeSet<u32> = (1..=5).collect();
    let weekends: BTreeSet<u32> = [0, 6].into();
    match days {
        d if d.len() == 7 => "daily".into(),
        d if *d == weekdays => "weekdays".into(),
        d if *d == weekends => "weekends".into(),
        d => MONDAY_FIRST
            .iter()
            .filter(|n| d.contains(n))
            .map(|&n| SHORT_NAMES[n as usize])
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// What one word of a friendly spec says.
enum Word {
    /// `at`, `every`, `on`, `and`: read past.
    Filler,
    /// `-`, `to`, `through`: joins two days into a range.
    Through,
    /// One day of the week (0 = Sunday).
    Day(u32),
    /// Several days at once: `daily`, `weekdays`, `weekends`.
    Days(BTreeSet<u32>),
    /// `morning`, `evening`, `night`: which half of the clock a plain hour is on.
    Part(Part),
    /// A wall time; `plain` when it has no am/pm and an hour up to 12, so a part
    /// of the day can say which half it is on.
    Time { hour: u32, minute: u32, plain: bool },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Morning => "morning",
            Part::Afternoon => "afternoon",
            Part::Evening => "evening",
            Part::Night => "night",
        }
    }

    /// An hour that reads well with this part, for examples.
    fn example_hour(self) -> u32 {
        match self {
            Part::Morning | Part::Evening => 7,
            Part::Afternoon => 3,
            Part::Night => 9,
        }
    }

    /// The 24-hour hour a plain hour (0 to 12) means in this part of the day, if
    /// it can be read in it (12 in the morning or evening cannot).
    fn read(self, hour: u32) -> Option<u32> {
        match (self, hour) {
            (Part::Morning, 1..=11) | (Part::Night, 0..=4) => Some(hour),
            (Part::Afternoon, 12) => Some(12),
            (Part::Night, 12) => Some(0),
            (Part::Afternoon | Part::Evening | Part::Night, 1..=11) => Some(hour + 12),
            _ => None,
        }
    }

    /// Whether a 24-hour hour falls in this part of the day.
    fn holds(self, hour: u32) -> bool {
        match self {
            Part::Morning => (1..12).contains(&hour),
            Part::Afternoon => (12..19).contains(&hour),
            Part::Evening => (16..24).contains(&hour),
            Part::Night => !(5..18).contains(&hour),
        }
    }
}

/// A friendly spec: any mix of day words and one time, in any order, with
/// fillers (`every monday at 7am`, `at 9pm every day`, `mon-fri 21:00`,
/// `weekday evenings at 7`); no day word means every day.
fn friendly(text: &str) -> Result<Spec, ScheduleError> {
    let words = words(text);
    let fail = |why: String| Err(ScheduleError::Spec(why));
    let joins_days =
        |joiner: &str| format!("`{joiner}` in `{text}` joins two days, like `mon-fri` or `monday to friday`");
    let mut days = BTreeSet::new();
    let mut named_days = false;
    let mut part: Option<Part> = None;
    let mut times: Vec<(&str, (u32, u32), bool)> = Vec::new();
    // What the word before was, for ranges: a single day, a time, or neither.
    let mut last_day: Option<u32> = None;
    let mut last_was_time = false;
    let mut range_from: Option<(u32, &str)> = None;
    for (i, word) in words.iter().enumerate() {
        if interval_ahead(&words, i) {
            return fail(format!(
                "`{text}` counts an interval, but a schedule names days and a time, like `mon,wed,fri 8pm` \
                 or `every day at 9`"
            ));
        }
        let read = read_word(word)?;
        if let Some((from, joiner)) = range_from.take() {
            let Word::Day(to) = read else { return fail(joins_days(joiner)) };
            days.extend((0..7).map(|k| (from + k) % 7).take(((to + 7 - from) % 7 + 1) as usize));
            last_day = None;
            continue;
        }
        let (day, time) = (last_day.take(), std::mem::take(&mut last_was_time));
        match read {
            Word::Filler => {}
            Word::Through => match day {
                Some(from) => range_from = Some((from, word)),
                None if time => {
                    return fail(format!(
                        "`{text}` names a stretch of time, but a schedule fires at one time, like `weekdays 9am`"
                    ));
                }
                None => return fail(joins_days(word)),
            },
            Word::Day(d) => {
                days.insert(d);
                named_days = true;
                last_day = Some(d);
            }
            Word::Days(set) => {
                days.extend(set);
                named_days = true;
            }
            Word::Part(p) => match part {
                Some(q) if q != p => {
                    return fail(format!(
                        "`{text}` names both the {} and the {}: a schedule has one time, like `daily 8pm`",
                        q.name(),
                        p.name()
                    ));
                }
                _ => part = Some(p),
            },
            Word::Time { hour, minute, plain } => {
                times.push((word, (hour, minute), plain));
                last_was_time = true;
            }
        }
    }
    if let Some((_, joiner)) = range_from {
        return fail(joins_days(joiner));
    }
    times.sort_by_key(|(_, t, _)| *t);
    times.dedup_by_key(|(_, t, _)| *t);
    let (word, (hour, minute), plain) = match times.as_slice() {
        [only] => *only,
        [] => {
            let example = |time: &str| format!("`{text} at {time}`");
            return fail(match part {
                Some(p) => format!("`{text}` has no time: add one, e.g. {}", example(&p.example_hour().to_string())),
                None if named_days => {
                    format!("`{text}` has no time: add a time, e.g. `{text} 07:15` or `{text} 7pm`")
                }
                None => format!("`{text}` names no day or time"),
            });
        }
        [(a, ..), (b, ..), ..] => {
            return fail(format!(
                "`{text}` has more than one time (`{a}` and `{b}`): a schedule has one, like `daily {a}`"
            ));
        }
    };
    let hour = match part {
        None => hour,
        Some(p) => {
            let read = if plain { p.read(hour) } else { Some(hour) };
            match read.filter(|h| p.holds(*h)) {
                Some(h) => h,
                None => {
                    return fail(format!(
                        "`{word}` does not fall in the {}: give the time with am/pm or on the 24-hour clock, \
                         like `8pm` or `20:00`",
                        p.name()
                    ));
                }
            }
        }
    };
    if !named_days {
        days = (0..7).collect();
    }
    let all_days = days.len() == 7;
    Ok(Spec {
        source: format!("{} {hour:02}:{minute:02}", canonical_days(&days)),
        minutes: [minute].into(),
        hours: [hour].into(),
        days_of_month: (1..=31).collect(),
        months: (1..=12).collect(),
        days_of_week: days,
        dom_restricted: false,
        dow_restricted: !all_days,
    })
}

/// The words of a friendly spec, lowercased: commas, slashes and `&` separate,
/// a dash stands alone, and `8 pm`, `9 o'clock`, `12 noon` and `week days` are
/// read as one word.
fn words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut spaced = String::with_capacity(lower.len() + 8);
    for c in lower.trim_end_matches(['.', '!']).chars() {
        match c {
            ',' | ';' | '/' => spaced.push(' '),
            '&' => spaced.push_str(" and "),
            '@' => spaced.push_str(" @ "),
            '-' | '–' | '—' => spaced.push_str(" - "),
            '’' => spaced.push('\''),
            c => spaced.push(c),
        }
    }
    let mut out: Vec<String> = Vec::new();
    for w in spaced.split_whitespace() {
        let prev = out.last().map(String::as_str);
        let after_number = prev.is_some_and(|p| p.chars().all(|c| c.is_ascii_digit() || c == ':' || c == '.'));
        let merged = match (prev, w) {
            (Some(_), "am" | "pm" | "a.m." | "p.m." | "a.m" | "p.m" | "a" | "p") if after_number => {
                Some(format!("{}{w}", prev.unwrap_or_default()))
            }
            (Some(_), "o'clock" | "oclock") if after_number => prev.map(str::to_string),
            (Some("12"), "noon" | "midnight") => Some(w.to_string()),
            (Some("week"), "day" | "days") => Some("weekdays".into()),
            (Some("week"), "end" | "ends") => Some("weekends".into()),
            _ => None,
        };
        match merged {
            Some(m) => *out.last_mut().expect("a previous word") = m,
            None => out.push(w.to_string()),
        }
    }
    out
}

/// `every 2 days`, `every other day`, `3 hours`: an interval, which a friendly
/// spec cannot say (and must not misread as a time).
fn interval_ahead(words: &[String], i: usize) -> bool {
    let is_count = |w: &str| w == "other" || (!w.is_empty() && w.chars().all(|c| c.is_ascii_digit()));
    let unit = |w: &str| {
        matches!(
            w,
            "day"
                | "days"
                | "hour"
                | "hours"
                | "hr"
                | "hrs"
                | "h"
                | "minute"
                | "minutes"
                | "min"
                | "mins"
                | "week"
                | "weeks"
        )
    };
    let w = words[i].as_str();
    let next = words.get(i + 1).map(String::as_str);
    (matches!(w, "every" | "each") && next.is_some_and(is_count)) || (is_count(w) && next.is_some_and(unit))
}

fn read_word(word: &str) -> Result<Word, ScheduleError> {
    let every_day = || Word::Days((0..7).collect());
    Ok(match word {
        "at" | "@" | "every" | "each" | "on" | "and" | "from" | "the" | "in" => Word::Filler,
        "-" | "to" | "through" | "thru" | "till" | "until" => Word::Through,
        "daily" | "everyday" | "day" | "days" => every_day(),
        "weekday" | "weekdays" => Word::Days((1..=5).collect()),
        "weekend" | "weekends" => Word::Days([0, 6].into()),
        "morning" | "mornings" => Word::Part(Part::Morning),
        "afternoon" | "afternoons" => Word::Part(Part::Afternoon),
        "evening" | "evenings" => Word::Part(Part::Evening),
        "night" | "nights" | "nightly" => Word::Part(Part::Night),
        "noon" | "midday" => Word::Time { hour: 12, minute: 0, plain: false },
        "midnight" => Word::Time { hour: 0, minute: 0, plain: false },
        w if w.starts_with(|c: char| c.is_ascii_digit()) => {
            let (hour, minute, meridiem) = parse_time(w).map_err(ScheduleError::Spec)?;
            Word::Time { hour, minute, plain: !meridiem && hour <= 12 }
        }
        w => match one_day(w) {
            Some(d) => Word::Day(d),
            None => return Err(ScheduleError::Spec(not_a_day(w))),
        },
    })
}

/// A day of the week from its full name, a prefix of it of two letters or more
/// (`mon`, `tues`, `thurs`, `sat`), or either with a plural `s` (`mondays`, `weds`).
fn one_day(word: &str) -> Option<u32> {
    let find = |w: &str| {
        (w.len() >= 2).then(|| FULL_NAMES.iter().position(|full| full.starts_with(w))).flatten().map(|i| i as u32)
    };
    find(word).or_else(|| word.strip_suffix('s').and_then(find))
}

/// The refusal for a word that is neither a day nor a time, with the closest
/// day word when one is near.
fn not_a_day(word: &str) -> String {
    match word {
        "weekly" => return "`weekly` needs a day: try `sundays at 8pm` or `sun 20:00`".into(),
        "monthly" => return "`monthly` needs a day of the month: try a crontab line like `0 20 1 * *`".into(),
        _ => {}
    }
    const KNOWN: [&str; 13] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "daily",
        "weekdays",
        "weekends",
        "every",
        "noon",
        "midnight",
    ];
    let limit = match word.chars().count() {
        0..=2 => 0,
        3..=4 => 1,
        5..=7 => 2,
        _ => 3,
    };
    let scored: Vec<(usize, &str)> =
        KNOWN.iter().map(|k| (edit_distance(word, k), *k)).filter(|(d, _)| *d <= limit).collect();
    let best = scored.iter().map(|(d, _)| *d).min();
    let close: Vec<&str> = scored.iter().filter(|(d, _)| Some(*d) == best).map(|(_, k)| *k).take(2).collect();
    match close.as_slice() {
        [one] => format!("`{word}` is not a day: did you mean `{one}`?"),
        [one, two] => format!("`{word}` is not a day: did you mean `{one}` or `{two}`?"),
        _ => format!(
            "`{word}` is not a day or a time: use `daily`, `weekdays`, `weekends` or day names like `mon,wed,fri`"
        ),
    }
}

/// A wall time as people write it: `9`, `21`, `8:30`, `8.30`, `0830`, `930pm`,
/// `8pm`, `8:30 p.m.`, `12am` (00:00), `12pm` (12:00), and whether it had am/pm.
/// A bare hour is on the 24-hour clock. The error says how to write it.
fn parse_time(word: &str) -> Result<(u32, u32, bool), String> {
    let w = word.trim_end_matches('.');
    let (digits, pm) = match ["a.m", "p.m", "am", "pm", "a", "p"].iter().find(|s| w.ends_with(*s)) {
        Some(s) => (w[..w.len() - s.len()].trim_end_matches('.'), Some(s.starts_with('p'))),
        None => (w, None),
    };
    let not_a_time = || format!("`{word}` is not a time of day: write it like `9pm`, `21:00` or `9:30am`");
    let number =
        |s: &str| (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten();
    let (hour, minute) = match digits.split_once([':', '.']) {
        Some((h, m)) => {
            let hour = number(h).filter(|_| h.len() <= 2).ok_or_else(not_a_time)?;
            let minute = number(m).ok_or_else(not_a_time)?;
            if m.len() == 1 {
                return Err(format!(
                    "`{word}` is not a time of day: write minutes with two digits, like `{h}:0{m}` or `{h}:{m}0`"
                ));
            }
            if m.len() != 2 {
                return Err(not_a_time());
            }
            (hour, minute)
        }
        None => match digits.len() {
            1..=2 => (number(digits).ok_or_else(not_a_time)?, 0),
            3..=4 => {
                let n = number(digits).ok_or_else(not_a_time)?;
                (n / 100, n % 100)
            }
            _ => return Err(not_a_time()),
        },
    };
    if minute > 59 {
        return Err(format!("`{word}` is not a time of day: minutes go from 00 to 59, like `{hour}:45`"));
    }
    let mm = if minute == 0 { String::new() } else { format!(":{minute:02}") };
    match pm {
        None if hour == 24 && minute == 0 => {
            Err(format!("`{word}` is not a time of day: hours go from 0 to 23, so midnight is `00:00` or `midnight`"))
        }
        None if hour > 23 => {
            Err(format!("`{word}` is not a time of day: hours go from 0 to 23, like `21:00` or `9pm`"))
        }
        None => Ok((hour, minute, false)),
        Some(pm) if hour == 0 => Err(if pm {
            format!(
                "`{word}` is not a time of day: with am/pm hours go from 1 to 12, so noon is `12{mm}pm` or `12:{minute:02}`"
            )
        } else {
            format!(
                "`{word}` is not a time of day: with am/pm hours go from 1 to 12, so midnight is `12{mm}am` or `00:{minute:02}`"
            )
        }),
        Some(_) if (13..=23).contains(&hour) => Err(format!(
            "`{word}` mixes the 24-hour clock with am/pm: write `{hour}:{minute:02}` or `{}{mm}pm`",
            hour - 12
        )),
        Some(_) if hour > 23 => {
            Err(format!("`{word}` is not a time of day: with am/pm hours go from 1 to 12, like `9pm`"))
        }
        Some(pm) => Ok((hour % 12 + if pm { 12 } else { 0 }, minute, true)),
    }
}

/// A three-letter day name, as crontab(5) spells them.
fn day_name(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    SHORT_NAMES.iter().position(|n| *n == lower).map(|i| i as u32)
}

/// Minute, hour, day-of-month and month fields go through the `cron` crate, whose
/// numbering matches crontab(5) for them. Day of week does not (cron counts
/// 1 = Sunday, crontab 0 or 7 = Sunday), so that field is read here.
fn crontab(m: &str, h: &str, dom: &str, mon: &str, dow: &str) -> Result<Spec, ScheduleError> {
    for (name, field) in [("minute", m), ("hour", h), ("day-of-month", dom), ("month", mon)] {
        if field.contains(['?', 'L', 'W', '#']) {
            return Err(ScheduleError::Spec(format!(
                "the {name} field `{field}` uses syntax crontab(5) does not have"
            )));
        }
    }
    let parsed = cron::Schedule::from_str(&format!("0 {m} {h} {dom} {mon} *")).map_err(|e| {
        // cron's message points at the column over several lines; keep its last, the reason.
        let text = e.to_string();
        let reason = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        ScheduleError::Spec(format!("`{m} {h} {dom} {mon} {dow}` is not a valid crontab line ({reason})"))
    })?;
    let collect = |spec: &dyn Fn(u32) -> bool, range: std::ops::RangeInclusive<u32>| -> BTreeSet<u32> {
        range.filter(|&v| spec(v)).collect()
    };
    Ok(Spec {
        source: String::new(),
        minutes: collect(&|v| parsed.minutes().includes(v), 0..=59),
        hours: collect(&|v| parsed.hours().includes(v), 0..=23),
        days_of_month: collect(&|v| parsed.days_of_month().includes(v), 1..=31),
        months: collect(&|v| parsed.months().includes(v), 1..=12),
        days_of_week: day_of_week_field(dow)?,
        dom_restricted: !dom.starts_with('*'),
        dow_restricted: !dow.starts_with('*'),
    })
}

fn day_of_week_field(field: &str) -> Result<BTreeSet<u32>, ScheduleError> {
    let bad = |why: &str| ScheduleError::Spec(format!("the day-of-week field `{field}` {why}"));
    let value = |s: &str| -> Result<u32, ScheduleError> {
        let v = match s.parse::<u32>() {
            Ok(n) if n <= 7 => n,
            Ok(_) => return Err(bad("goes past 7 (0 and 7 are Sunday)")),
            Err(_) => day_name(s).ok_or_else(|| bad("has a name that is not a day"))?,
        };
        Ok(v)
    };
    let mut days = BTreeSet::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| bad("has a step that is not a number"))?;
                if step == 0 {
                    return Err(bad("has a step of 0"));
                }
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = match range {
            "*" => (0, 7),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // crontab(5): `N/S` means from N to the end of the range.
                None if step > 1 => (value(r)?, 7),
                None => (value(r)?, value(r)?),
            },
        };
        if lo > hi {
            return Err(bad("has a range that runs backwards"));
        }
        days.extend((lo..=hi).step_by(step as usize).map(|d| d % 7));
    }
    Ok(days)
}
