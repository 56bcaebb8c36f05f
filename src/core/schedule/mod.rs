//! When prompts and reflections fire: a spec (friendly form or crontab(5)) in an
//! IANA timezone, turned into UTC instants.
//!
//! Each scheduled local day fires once per scheduled wall time. A wall time that a
//! spring-forward gap skips fires shifted later by the gap (02:30 → 03:30); one that
//! a fall-back repeats fires at its first occurrence.
//!
//! The spec grammar is in `spec`; the floor on how often a schedule may fire, in
//! `floor`.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

mod floor;
mod spec;
#[cfg(test)]
mod tests;

pub use spec::Spec;

/// How far ahead `next_after` looks before concluding a spec never fires again
/// (covers `29 2` on leap days across a skipped century leap year).
const HORIZON_DAYS: i64 = 366 * 9;

/// A parse or validation failure, worded for the person who typed the spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "{0} — try something like `daily 8pm`, `weekdays 21:00`, `mon,wed,fri 07:15`, `every day at 9`, \
         or a crontab line like `30 8 * * 1-5`"
    )]
    Spec(String),
    #[error("unknown timezone `{0}` — use an IANA name such as `Europe/Paris` or `America/New_York`")]
    Zone(String),
    /// An unknown zone name close to one or two real ones.
    #[error("unknown timezone `{name}` — did you mean {}?", or_list(suggestions))]
    ZoneTypo { name: String, suggestions: Vec<&'static str> },
    /// An abbreviation (`EST`, `IST`), a legacy rule (`PST8PDT`), a fixed offset
    /// (`UTC+2`) or a name several places share: it cannot follow one place's
    /// clock through its summer time.
    #[error(
        "`{name}` doesn't name one place's clock, so it can't follow that place's summer time — \
         use an IANA name instead: {}",
        or_list(use_instead)
    )]
    ZoneNotAPlace { name: String, use_instead: Vec<&'static str> },
    /// Two fires would come closer together than this mend allows.
    #[error("{}", floor::too_frequent(*floor_minutes))]
    TooFrequent { floor_minutes: i64 },
}

/// A spec in a timezone: the thing that knows its next fire instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    spec: Spec,
    tz: Tz,
}

impl Schedule {
    /// Parses a spec and a zone as people type them (see [`Spec`] and
    /// [`parse_zone`]), with an error the user can act on.
    pub fn parse(spec: &str, tz: &str) -> Result<Self, ScheduleError> {
        let spec = spec.parse()?;
        let tz = parse_zone(tz)?;
        Ok(Schedule { spec, tz })
    }

    /// Parses a schedule read back from the store: the zone may be one mend
    /// stored before it refused abbreviations (see [`parse_stored_zone`]).
    pub fn parse_stored(spec: &str, tz: &str) -> Result<Self, ScheduleError> {
        let spec = spec.parse()?;
        let tz = parse_stored_zone(tz).ok_or_else(|| ScheduleError::Zone(tz.trim().to_string()))?;
        Ok(Schedule { spec, tz })
    }

    /// The spec's source: canonical for a friendly spec (`daily 20:00`), as typed
    /// for a crontab line.
    pub fn spec(&self) -> &str {
        self.spec.source()
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first fire instant strictly after `after`, or `None` if there is none
    /// within the horizon (only possible for specs naming rare days).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Start a day early: a fire on the previous local date can still be after
        // `after` once gaps shift it.
        let first = after.with_timezone(&self.tz).date_naive() - Duration::days(1);
        let day_candidates = |date: NaiveDate| {
            self.spec
                .day_matches(date)
                .then(|| {
                    self.spec
                        .wall_times()
                        .map(|t| self.resolve(date.and_time(t)))
                        .filter(|instant| *instant > after)
                        .min()
                })
                .flatten()
        };
        let (offset, found) =
            (0..HORIZON_DAYS).find_map(|d| day_candidates(first + Duration::days(d)).map(|t| (d, t)))?;
        // Gap shifts can move a wall time of the next day before this one's; look
        // one day further and keep the earlier.
        let next_day = day_candidates(first + Duration::days(offset + 1));
        Some(next_day.map_or(found, |t| t.min(found)))
    }

    /// The wall times scheduled on a local date and the instants they fire at
    /// (none when the date is not a scheduled day).
    pub fn fires_on(&self, date: NaiveDate) -> Vec<(NaiveDateTime, DateTime<Utc>)> {
        if !self.spec.day_matches(date) {
            return Vec::new();
        }
        self.spec
            .wall_times()
            .map(|t| {
                let local = date.and_time(t);
                (local, self.resolve(local))
            })
            .collect()
    }

    /// The next `count` fire instants strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        std::iter::successors(self.next_after(after), |t| self.next_after(*t)).take(count).collect()
    }

    /// The fire instants in `(after, until]`, in order, read a local day at a time.
    fn fires_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        // The same margins as `next_after`: a day either side of the local dates.
        let mut date = after.with_timezone(&self.tz).date_naive() - Duration::days(1);
        let last = until.with_timezone(&self.tz).date_naive() + Duration::days(1);
        let mut pending = BTreeSet::new();
        std::iter::from_fn(move || {
            loop {
                // A gap can put a day's fire before the previous day's, but a wall
                // time on `date` or later fires no earlier than the clock first
                // reads `date` 00:00; what comes before that is final.
                let settled = (date <= last).then(|| self.first_reading(date));
                if let Some(&first) = pending.first()
                    && settled.is_none_or(|s| first < s)
                {
                    return pending.pop_first();
                }
                if date > last {
                    return None;
                }
                pending.extend(self.fires_on(date).into_iter().map(|(_, t)| t).filter(|t| *t > after && *t <= until));
                date += Duration::days(1);
            }
        })
    }

    /// The first instant the zone's clock reads `date` 00:00 or later, or one
    /// before it when midnight falls in a gap (no offset reaches 24 hours).
    fn first_reading(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN);
        match self.tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => (midnight - Duration::days(1)).and_utc(),
        }
    }

    /// The instant a local wall time names in this zone (see the module docs).
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        resolve_local(self.tz, local)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.spec.source(), self.tz.name())
    }
}

/// Parses a timezone the way people type it: an IANA name in any case, with
/// spaces for underscores (`america/new york`), `UTC` or `GMT`, or a bare city
/// when one zone ends with it (`paris`, `new york`, `tokyo`).
///
/// Refuses abbreviations and fixed offsets (`EST`, `IST`, `CET`, `PST8PDT`,
/// `UTC+2`): they do not say which place's clock to follow, and chrono_tz reads
/// some of them (`EST`) as an offset that never changes for summer. The refusal
/// names the zones to use; an unknown name gets the closest real ones.
pub fn parse_zone(name: &str) -> Result<Tz, ScheduleError> {
    let typed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let key = zone_key(&typed);
    if let Some(use_instead) = not_a_place(&key) {
        return Err(ScheduleError::ZoneNotAPlace { name: typed, use_instead });
    }
    match fixed_offset_minutes(&typed) {
        Some(0) | None => {}
        Some(minutes) => {
            return Err(ScheduleError::ZoneNotAPlace { name: typed, use_instead: zones_at_offset(minutes) });
        }
    }
    // The exact name first, so every zone mend stores reads back as itself.
    if let Ok(tz) = typed.parse::<Tz>() {
        return Ok(tz);
    }
    if let Some(tz) = TZ_VARIANTS.iter().copied().find(|tz| zone_key(tz.name()) == key) {
        return Ok(tz);
    }
    if fixed_offset_minutes(&typed) == Some(0) {
        return Ok(Tz::UTC);
    }
    let ends_with = |tz: &Tz| zone_key(tz.name()).strip_suffix(key.as_str()).is_some_and(|rest| rest.ends_with('/'));
    let matches: Vec<Tz> = TZ_VARIANTS.iter().copied().filter(|tz| is_place(*tz) && ends_with(tz)).collect();
    if let Some(&first) = matches.first() {
        if matches.iter().all(|tz| same_clock(first, *tz)) {
            // Aliases of one zone (`America/Indianapolis`, `America/Indiana/Indianapolis`):
            // the longest is tzdb's own name.
            return Ok(matches
                .into_iter()
                .max_by_key(|tz| (tz.name().matches('/').count(), tz.name()))
                .unwrap_or(first));
        }
        return Err(ScheduleError::ZoneNotAPlace {
            name: typed,
            use_instead: matches.iter().take(3).map(|tz| tz.name()).collect(),
        });
    }
    match closest_zones(&key).as_slice() {
        [] => Err(ScheduleError::Zone(typed)),
        close => Err(ScheduleError::ZoneTypo { name: typed, suggestions: close.to_vec() }),
    }
}

/// A zone read back from the store: what [`parse_zone`] takes, or any name
/// chrono_tz knows exactly. Zones stored before mend refused abbreviations
/// (`EST`) keep the clock they had until the couple names a place.
pub fn parse_stored_zone(name: &str) -> Option<Tz> {
    parse_zone(name).ok().or_else(|| name.trim().parse().ok())
}

/// Zone names for Discord's autocomplete as `partial` is typed: at most 25, in
/// any case and with spaces for underscores, those whose city starts with the
/// text first (`par` → `Europe/Paris`), then the zones an abbreviation stands
/// for (`est` → `America/New_York`), then names with a part starting with the
/// text, then any containing it; for a typo, the closest names. Never a
/// refused name.
pub fn zone_suggestions(partial: &str) -> Vec<&'static str> {
    const MAX: usize = 25;
    let mut key = zone_key(partial);
    if key.is_empty() {
        return POPULAR_ZONES.to_vec();
    }
    // A space typed after a word is the start of the next (`new ` → `New_York`).
    if partial.ends_with(char::is_whitespace) {
        key.push('_');
    }
    // The places an abbreviation or offset stands for (`est` → `America/New_York`),
    // and for a word begun that names no one place (`samo`, `pacif`).
    let mut instead: Vec<&'static str> = not_a_place(&key).unwrap_or_default();
    if let Some(minutes) = fixed_offset_minutes(partial).filter(|m| *m != 0) {
        instead.extend(zones_at_offset(minutes));
    }
    if key.len() >= 3 {
        for (names, zones) in NOT_A_PLACE {
            if names.iter().any(|n| n.len() >= 5 && n.starts_with(key.as_str())) {
                instead.extend(zones.iter().copied());
            }
        }
    }
    let mut ranked: Vec<(u8, bool, usize, &'static str)> = suggestable()
        .filter_map(|name| {
            let k = zone_key(name);
            let city = k.rsplit('/').next().unwrap_or(&k);
            let tier = if city.starts_with(&key) {
                0
            } else if k.starts_with(&key) || k.split('/').any(|part| part.starts_with(&key)) {
                1
            } else if k.contains(&key) {
                2
            } else {
                return None;
            };
            Some((tier, !is_main_area(name), city.len(), name))
        })
        .collect();
    ranked.sort();
    // Cities starting with the text, then the places an abbreviation means, then the rest.
    let cities = ranked.iter().take_while(|(tier, ..)| *tier == 0).count();
    let mut out: Vec<&'static str> = ranked[..cities].iter().map(|(.., name)| *name).collect();
    out.extend(instead);
    out.extend(ranked[cities..].iter().map(|(.., name)| *name));
    if out.is_empty() {
        out = closest_zones(&key);
    }
    let mut seen = BTreeSet::new();
    out.retain(|name| seen.insert(*name));
    out.truncate(MAX);
    out
}

/// The zones shown before anything is typed, west to east.
const POPULAR_ZONES: [&str; 25] = [
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Halifax",
    "America/Sao_Paulo",
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Europe/Athens",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// More places people live, for naming the zones near a fixed offset.
const MORE_ZONES: [&str; 24] = [
    "Pacific/Pago_Pago",
    "America/Vancouver",
    "America/Edmonton",
    "America/Bogota",
    "America/Lima",
    "America/Argentina/Buenos_Aires",
    "America/St_Johns",
    "America/Noronha",
    "Atlantic/Azores",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Asia/Tehran",
    "Asia/Karachi",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Pacific/Kiritimati",
];

/// Abbreviations and legacy rule names that do not say which place's clock to
/// follow (lowercase), with the zones to use instead.
const NOT_A_PLACE: &[(&[&str], &[&str])] = &[
    (&["est", "edt", "et", "eastern", "est5edt"], &["America/New_York", "America/Toronto"]),
    (&["cst"], &["America/Chicago", "America/Mexico_City", "Asia/Shanghai"]),
    (&["cdt", "ct", "central", "cst6cdt"], &["America/Chicago", "America/Winnipeg"]),
    (&["mst"], &["America/Denver", "America/Phoenix", "America/Edmonton"]),
    (&["mdt", "mt", "mountain", "mst7mdt"], &["America/Denver", "America/Edmonton"]),
    (&["pst", "pdt", "pt", "pacific", "pst8pdt"], &["America/Los_Angeles", "America/Vancouver"]),
    (&["hst", "hdt"], &["Pacific/Honolulu"]),
    (&["akst", "akdt"], &["America/Anchorage"]),
    (&["ast", "adt", "atlantic"], &["America/Halifax", "America/Puerto_Rico", "Asia/Riyadh"]),
    (&["nst", "ndt"], &["America/St_Johns"]),
    (&["bst"], &["Europe/London", "Asia/Dhaka"]),
    (&["ist"], &["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"]),
    (&["idt"], &["Asia/Jerusalem"]),
    (&["cet", "cest", "met", "mest"], &["Europe/Paris", "Europe/Berlin", "Europe/Rome"]),
    (&["eet", "eest"], &["Europe/Athens", "Europe/Helsinki", "Africa/Cairo"]),
    (&["wet", "west"], &["Europe/Lisbon", "Atlantic/Canary"]),
    (&["msk"], &["Europe/Moscow"]),
    (&["aest", "aedt"], &["Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"]),
    (&["acst", "acdt"], &["Australia/Adelaide", "Australia/Darwin"]),
    (&["awst"], &["Australia/Perth"]),
    (&["nzst", "nzdt"], &["Pacific/Auckland"]),
    (&["jst"], &["Asia/Tokyo"]),
    (&["kst"], &["Asia/Seoul"]),
    (&["hkt"], &["Asia/Hong_Kong"]),
    (&["sgt"], &["Asia/Singapore"]),
    (&["pht"], &["Asia/Manila"]),
    (&["wib"], &["Asia/Jakarta"]),
    (&["pkt"], &["Asia/Karachi"]),
    (&["npt"], &["Asia/Kathmandu"]),
    (&["ict"], &["Asia/Bangkok", "Asia/Ho_Chi_Minh"]),
    (&["sast"], &["Africa/Johannesburg"]),
    (&["cat"], &["Africa/Maputo", "Africa/Harare"]),
    (&["eat"], &["Africa/Nairobi"]),
    (&["wat"], &["Africa/Lagos"]),
    (&["brt"], &["America/Sao_Paulo"]),
    (&["art"], &["America/Argentina/Buenos_Aires"]),
    (&["samoa"], &["Pacific/Apia", "Pacific/Pago_Pago"]),
];

fn not_a_place(key: &str) -> Option<Vec<&'static str>> {
    NOT_A_PLACE.iter().find(|(names, _)| names.contains(&key)).map(|(_, zones)| zones.to_vec())
}

/// How a zone name is compared: lowercase, spaces, dashes and underscores alike,
/// no spaces around `/`.
fn zone_key(name: &str) -> String {
    let words = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    words.replace(" /", "/").replace("/ ", "/").replace([' ', '-'], "_")
}

/// The offset a fixed-offset name says, in minutes east of UTC: `UTC+2`,
/// `GMT-05:00`, `+0530`, `Etc/GMT+5` (whose sign is the other way round).
fn fixed_offset_minutes(name: &str) -> Option<i32> {
    let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    let (rest, flip) = [("etc/gmt", -1), ("etc/utc", 1), ("utc", 1), ("gmt", 1), ("", 1)]
        .into_iter()
        .find_map(|(prefix, flip)| compact.strip_prefix(prefix).map(|r| (r, flip)))?;
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        '−' => (-1, &rest['−'.len_utf8()..]),
        _ => return None,
    };
    let all_digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.chars().all(|c| c.is_ascii_digit());
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) if all_digits(h) && m.len() == 2 && all_digits(m) => (h, m),
        Some(_) => return None,
        None if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()) => digits.split_at(2),
        None if all_digits(digits) => (digits, "0"),
        None => return None,
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * flip * (h * 60 + m))
}

/// Up to three places whose clock reads `minutes` east of UTC, in winter first
/// (January), then in summer (July).
fn zones_at_offset(minutes: i32) -> Vec<&'static str> {
    let reads = |name: &str, month: u32| {
        let tz: Tz = name.parse().expect("a listed zone");
        let t = NaiveDate::from_ymd_opt(2025, month, 15).expect("valid date").and_time(NaiveTime::MIN);
        tz.offset_from_utc_datetime(&t).fix().local_minus_utc() == minutes * 60
    };
    let listed = || POPULAR_ZONES.iter().chain(MORE_ZONES.iter()).copied();
    let found: Vec<&'static str> =
        listed().filter(|z| reads(z, 1)).chain(listed().filter(|z| reads(z, 7) && !reads(z, 1))).take(3).collect();
    if found.is_empty() { vec!["Europe/Paris", "America/New_York"] } else { found }
}

/// Areas of tzdb names that are places; the first ten hold tzdb's own names.
const AREAS: [&str; 15] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "US",
    "Canada",
    "Mexico",
    "Brazil",
    "Chile",
];

fn is_main_area(name: &str) -> bool {
    name.split_once('/').is_some_and(|(area, _)| AREAS[..10].contains(&area))
}

/// A zone under a place area, whose last part is a place rather than a
/// direction or an abbreviation (`Australia/North`, `Brazil/East`, `Australia/ACT`).
fn is_place(tz: Tz) -> bool {
    const VAGUE: [&str; 12] = [
        "north",
        "south",
        "east",
        "west",
        "act",
        "nsw",
        "lhi",
        "general",
        "continental",
        "eastern",
        "central",
        "pacific",
    ];
    let name = tz.name();
    let city = zone_key(name.rsplit('/').next().unwrap_or(name));
    name.split_once('/').is_some_and(|(area, _)| AREAS.contains(&area))
        && !VAGUE.contains(&city.as_str())
        && not_a_place(&city).is_none()
}

/// Every name suggestions may offer: places, `UTC` and `GMT`.
fn suggestable() -> impl Iterator<Item = &'static str> {
    ["UTC", "GMT"].into_iter().chain(TZ_VARIANTS.iter().copied().filter(|tz| is_place(*tz)).map(|tz| tz.name()))
}

/// Two names for one clock: the same offset from 1970 to 2037.
fn same_clock(a: Tz, b: Tz) -> bool {
    let start = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date").and_time(NaiveTime::MIN);
    (0..(68 * 365 / 5))
        .map(|i| start + Duration::days(5 * i))
        .all(|t| a.offset_from_utc_datetime(&t).fix() == b.offset_from_utc_datetime(&t).fix())
}

/// The one or two names closest to an unknown one, by edit distance on the
/// whole name or its last part, when any is close enough to be a typo.
fn closest_zones(key: &str) -> Vec<&'static str> {
    let limit = |s: &str| match s.chars().count() {
        0..=2 => 0,
        3..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let city = key.rsplit('/').next().unwrap_or(key);
    let mut scored: Vec<(usize, bool, &'static str)> = suggestable()
        .filter_map(|name| {
            let k = zone_key(name);
            let whole = Some(edit_distance(key, &k)).filter(|d| *d <= limit(key));
            let last = Some(edit_distance(city, k.rsplit('/').next().unwrap_or(&k))).filter(|d| *d <= limit(city));
            whole.into_iter().chain(last).min().map(|d| (d, !is_main_area(name), name))
        })
        .collect();
    scored.sort();
    let best = scored.first().map(|(d, ..)| *d);
    scored.into_iter().filter(|(d, ..)| Some(*d) == best).map(|(.., name)| name).take(2).collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// `a`, `a` or `b`, `a`, `b` or `c`: zone names in backticks, as a message lists them.
fn or_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Local wall time → UTC: the earlier instant of a repeated hour, and for a time
/// inside a gap, the same wall time read with the offset in force before the gap.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Walk back to the last wall time that exists; its offset is the one
            // in force before the gap.
            let before = (1..=48 * 60)
                .map(|m| local - Duration::minutes(m))
                .find_map(|t| tz.from_local_datetime(&t).earliest())
                .expect("no timezone gap lasts 48 hours");
            let offset = before.offset().fix().local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(offset.into())))
        }
    }
}
