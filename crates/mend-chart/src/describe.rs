//! The picture in words, for screen readers.

use crate::{Chart, MAX_WEEKS, evenings, shown_pillars, shown_weeks};

/// Longest description [`describe`] returns, in characters.
const MAX_CHARS: usize = 1000;
/// Longest week label or pillar name quoted in the description.
const MAX_NAME: usize = 24;

/// Describes the picture in plain sentences for screen readers (it goes in
/// the Discord embed), at most 1000 characters. It names the same weeks the
/// picture shows, with couple-level figures only, and says when older weeks
/// were left out of the picture.
///
/// For example: "A chart of your 4 weeks with mend so far, from the week of
/// Nov 9 to the week of Nov 30. Evenings you both answered: 3, 5, 4 and 6.
/// Commitments noticed kept: 0, 1, 2 and 2. Pillars you touched: Honesty in
/// 4 weeks, Patience in 2."
pub fn describe(chart: &Chart) -> String {
    let weeks = shown_weeks(chart.weeks);
    let pillars = shown_pillars(chart.pillars);
    let total = chart.weeks.len();
    let n = weeks.len();
    let left_out = total - n;

    let mut sentences: Vec<String> = Vec::new();
    if n == 0 {
        sentences.push("A chart of your weeks with mend. There are no weeks to show yet: your first week together is just beginning.".to_string());
        return sentences.concat();
    }

    let name = |i: usize| week_name(&weeks[i].label, left_out + i + 1);
    let span = if n == 1 { name(0) } else { format!("from {} to {}", name(0), name(n - 1)) };
    sentences.push(match (n, left_out) {
        (1, 0) => format!("A chart of your first week with mend, {span}."),
        (1, _) => format!("A chart of your last week with mend, {span}."),
        (_, 0) => format!("A chart of your {n} weeks with mend so far, {span}."),
        _ => format!("A chart of your last {n} weeks with mend, {span}."),
    });
    if left_out > 0 {
        sentences.push(if left_out == 1 {
            "Your 1 earlier week is left out of the picture.".to_string()
        } else {
            format!("Your {left_out} earlier weeks are left out of the picture, which shows at most {MAX_WEEKS}.")
        });
    }

    let together: Vec<String> = weeks.iter().map(|w| evenings(w).to_string()).collect();
    sentences.push(format!("Evenings you both answered: {}.", list(&together)));
    let kept: Vec<String> = weeks.iter().map(|w| w.kept.to_string()).collect();
    sentences.push(format!("Commitments noticed kept: {}.", list(&kept)));

    let touched: Vec<(String, usize)> = pillars
        .iter()
        .enumerate()
        .map(|(r, p)| (clip(p), weeks.iter().filter(|w| w.pillars & (1 << r) != 0).count()))
        .filter(|(_, count)| *count > 0)
        .collect();
    if !touched.is_empty() {
        let parts: Vec<String> = touched
            .iter()
            .enumerate()
            .map(|(k, (p, count))| {
                let p = if p.is_empty() { "one pillar" } else { p.as_str() };
                match (k, count) {
                    (0, 1) => format!("{p} in 1 week"),
                    (0, c) => format!("{p} in {c} weeks"),
                    (_, c) => format!("{p} in {c}"),
                }
            })
            .collect();
        sentences.push(format!("Pillars you touched: {}.", parts.join(", ")));
    } else if !pillars.is_empty() {
        sentences.push("The pillar grid has no marks yet.".to_string());
    }

    limit(sentences.join(" "))
}

/// "3", "3 and 5", "3, 5 and 4".
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A caller's name made safe to quote: no control characters, trimmed,
/// at most [`MAX_NAME`] characters.
fn clip(s: &str) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= MAX_NAME {
        clean
    } else {
        clean.chars().take(MAX_NAME - 1).collect::<String>().trim_end().to_string() + "\u{2026}"
    }
}

/// "the week of Nov 30", or "week 3" when the week has no label.
fn week_name(label: &str, number: usize) -> String {
    let label = clip(label);
    if label.is_empty() { format!("week {number}") } else { format!("the week of {label}") }
}

/// Cuts `s` to at most [`MAX_CHARS`] characters, ending with an ellipsis.
fn limit(s: String) -> String {
    if s.chars().count() <= MAX_CHARS {
        return s;
    }
    s.chars().take(MAX_CHARS - 1).collect::<String>() + "\u{2026}"
}
