//! The days and wall times a spec names, parsed from the friendly form
//! (`weekdays 21:00`) or a crontab(5) line, before a timezone is applied.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use cron::TimeUnitSpec;

use super::{HORIZON_DAYS, ScheduleError};

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
    /// The text the spec was parsed from, trimmed.
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
        let source = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if source.is_empty() {
            return Err(ScheduleError::Spec("the schedule is empty".into()));
        }
        let fields: Vec<&str> = source.split(' ').collect();
        let spec = match fields.as_slice() {
            [days, time] => friendly(days, time)?,
            [m, h, dom, mon, dow] => crontab(m, h, dom, mon, dow)?,
            _ => {
                return Err(ScheduleError::Spec(format!(
                    "`{source}` is neither a day list with a time nor five crontab fields"
                )));
            }
        };
        let spec = Spec { source, ..spec };
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

fn friendly(days: &str, time: &str) -> Result<Spec, ScheduleError> {
    let (hour, minute) = parse_hh_mm(time)?;
    let days_of_week: BTreeSet<u32> = match days.to_ascii_lowercase().as_str() {
        "daily" | "everyday" => (0..7).collect(),
        "weekdays" => (1..6).collect(),
        "weekends" => [0, 6].into(),
        list => list
            .split(',')
            .map(|name| {
                day_name(name).ok_or_else(|| {
                    ScheduleError::Spec(format!(
                        "`{name}` is not a day: use daily, weekdays, weekends or three-letter days like mon,wed,fri"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let all_days = days_of_week.len() == 7;
    Ok(Spec {
        source: String::new(),
        minutes: [minute].into(),
        hours: [hour].into(),
        days_of_month: (1..=31).collect(),
        months: (1..=12).collect(),
        days_of_week,
        dom_restricted: false,
        dow_restricted: !all_days,
    })
}

fn parse_hh_mm(time: &str) -> Result<(u32, u32), ScheduleError> {
    let bad = || ScheduleError::Spec(format!("`{time}` is not a time of day in 24-hour HH:MM"));
    let (h, m) = time.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    if hour > 23 || minute > 59 {
        return Err(bad());
    }
    Ok((hour, minute))
}

fn day_name(name: &str) -> Option<u32> {
    const NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let lower = name.to_ascii_lowercase();
    NAMES.iter().position(|n| *n == lower).map(|i| i as u32)
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
