//! `mend-chart` draws the picture in mend's weekly reflection: the couple's
//! weeks so far, as a PNG.
//!
//! The picture is a warm light card that reads the same in Discord's dark and
//! light themes. Its top panel shows, for each week, a teal bar of the
//! evenings both partners answered and saw each other's words (0 to 7), and
//! an amber pill with the number of commitments one partner noticed kept.
//! Its lower panel is a grid of the pillars the couple touched: pillars as
//! rows, weeks as columns, a filled dot where touched and a faint ring
//! otherwise. It shows couple-level figures only: nothing counts against
//! one partner, and nothing is marked as missed.
//!
//! Rendering is pure Rust and deterministic: the same [`Chart`] always gives
//! the same bytes. The DejaVu Sans fonts are bundled in the crate
//! (`fonts/`, with their licence), so no system font is read at run time.
//!
//! ```
//! use mend_chart::{Chart, Week, render, describe};
//!
//! let pillars = ["Honesty", "Patience"];
//! let weeks = vec![
//!     Week { label: "Nov 23".into(), together: 4, kept: 1, pillars: 0b01 },
//!     Week { label: "Nov 30".into(), together: 6, kept: 2, pillars: 0b11 },
//! ];
//! let chart = Chart { pillars: &pillars, weeks: &weeks };
//! let png = render(&chart);
//! assert_eq!(&png[1..4], b"PNG");
//! assert!(describe(&chart).contains("4 and 6"));
//! ```

mod describe;
mod paint;
mod text;

pub use describe::describe;

use paint::{
    AMBER, AXIS, BAND, CARD, FAINT, GRID, INK, MUTED, SAGE, TEAL, TEAL_SOFT, fill_circle, fill_rounded, hline,
    stroke_circle,
};
use text::{Align, Face, Fonts};
use tiny_skia::Pixmap;

/// One week of the couple's time with mend. Never holds anything that
/// counts against one partner: no misses, no per-person numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Week {
    /// What the week is called under its column, e.g. `"Nov 30"`; the
    /// caller formats it. Labels too wide for their column are trimmed
    /// with an ellipsis.
    pub label: String,
    /// Evenings both partners answered and saw each other's words, 0..=7.
    /// Higher values are drawn (and described) as 7.
    pub together: u8,
    /// Commitments one partner noticed kept that week.
    pub kept: u16,
    /// Bit `i` set means the couple touched `Chart::pillars[i]` that week.
    /// Bits without a pillar name are ignored.
    pub pillars: u16,
}

/// Everything the picture shows.
#[derive(Clone, Copy, Debug)]
pub struct Chart<'a> {
    /// Short pillar names, in order (e.g. `"Honesty"`, `"Atone"`, ...). Up to
    /// [`MAX_PILLARS`] are shown; names too wide for the row are trimmed.
    pub pillars: &'a [&'a str],
    /// The couple's weeks, oldest first. Any number is fine; the picture
    /// shows the last [`MAX_WEEKS`].
    pub weeks: &'a [Week],
}

/// Width of the PNG, in pixels.
pub const WIDTH: u32 = 1000;
/// Height of the PNG, in pixels.
pub const HEIGHT: u32 = 700;
/// The picture shows at most this many weeks: the most recent ones.
/// [`describe`] says so when older weeks are left out.
pub const MAX_WEEKS: usize = 12;
/// At most this many pillars (the first ones) get a row in the grid.
pub const MAX_PILLARS: usize = 10;

/// The evenings axis runs from 0 to this.
const EVENINGS: u8 = 7;

// Layout, in pixels. The card fills the whole image; its corners are
// rounded and transparent, so it sits as a card in either Discord theme.
const CARD_RADIUS: f32 = 28.0;
const PAD: f32 = 40.0;
const TITLE_SIZE: f32 = 34.0;
const TEXT_SIZE: f32 = 20.0;
const TITLE_BASELINE: f32 = 72.0;
const SUBTITLE_BASELINE: f32 = 104.0;
const LEGEND_BASELINE: f32 = 146.0;
/// Where the week columns start and end.
const PLOT_LEFT: f32 = 200.0;
const PLOT_RIGHT: f32 = WIDTH as f32 - PAD;
/// The line for 7 evenings, and the base line.
const BARS_TOP: f32 = 190.0;
const BARS_BOTTOM: f32 = 318.0;
/// Centre of the row of commitments kept.
const KEPT_CY: f32 = 350.0;
/// The pillar grid fills this band.
const GRID_TOP: f32 = 376.0;
const GRID_BOTTOM: f32 = 624.0;
/// Week labels: one row, or two staggered rows when they are crowded.
const LABEL_BASELINE_SINGLE: f32 = 660.0;
const LABEL_BASELINE_1: f32 = 650.0;
const LABEL_BASELINE_2: f32 = 676.0;
/// Columns are never wider than this share of the plot, so one or two
/// weeks look like the start of a row rather than a poster.
const MIN_COLUMNS: usize = 6;

/// The weeks the picture shows: the last [`MAX_WEEKS`].
pub(crate) fn shown_weeks(weeks: &[Week]) -> &[Week] {
    &weeks[weeks.len().saturating_sub(MAX_WEEKS)..]
}

/// The pillars that get a row.
pub(crate) fn shown_pillars<'a>(pillars: &'a [&'a str]) -> &'a [&'a str] {
    &pillars[..pillars.len().min(MAX_PILLARS)]
}

/// Evenings together, clamped to the axis.
pub(crate) fn evenings(week: &Week) -> u8 {
    week.together.min(EVENINGS)
}

/// Renders the chart as PNG bytes: [`WIDTH`] × [`HEIGHT`], 8-bit RGBA
/// (opaque card, transparent rounded corners). Deterministic: the same
/// chart gives the same bytes. Never panics on any input.
pub fn render(chart: &Chart) -> Vec<u8> {
    let pixmap = draw(chart);
    encode(&pixmap)
}

/// Paints the whole picture.
fn draw(chart: &Chart) -> Pixmap {
    let fonts = Fonts::load();
    let mut pm = Pixmap::new(WIDTH, HEIGHT).expect("the canvas size is a valid, non-zero constant");
    let weeks = shown_weeks(chart.weeks);
    let pillars = shown_pillars(chart.pillars);

    fill_rounded(&mut pm, 0.0, 0.0, WIDTH as f32, HEIGHT as f32, CARD_RADIUS, true, true, CARD);

    let columns = weeks.len().max(MIN_COLUMNS);
    let col_w = (PLOT_RIGHT - PLOT_LEFT) / columns as f32;
    let col_x = |i: usize| PLOT_LEFT + col_w * i as f32;
    let col_cx = |i: usize| col_x(i) + col_w / 2.0;

    // Soft bands behind every other week, so the eye can follow a week from
    // its bar down through the pillars to its label.
    for i in (1..weeks.len()).step_by(2) {
        let x = col_x(i).round();
        let w = (col_x(i + 1).round() - x).max(0.0);
        fill_rounded(
            &mut pm,
            x,
            BARS_TOP - 30.0,
            w,
            LABEL_BASELINE_2 + 10.0 - (BARS_TOP - 30.0),
            10.0,
            true,
            true,
            BAND,
        );
    }

    draw_header(&mut pm, &fonts, chart, weeks.len());
    draw_bars(&mut pm, &fonts, weeks, col_w, &col_cx);
    draw_kept(&mut pm, &fonts, weeks, col_w, &col_cx);
    draw_pillars(&mut pm, &fonts, pillars, weeks, &col_cx);
    draw_labels(&mut pm, &fonts, weeks, col_w, &col_cx);
    pm
}

/// Title, subtitle and legend.
fn draw_header(pm: &mut Pixmap, fonts: &Fonts, chart: &Chart, shown: usize) {
    fonts.draw(pm, Face::Bold, TITLE_SIZE, "Your weeks together", PAD, TITLE_BASELINE, Align::Left, INK);
    let total = chart.weeks.len();
    let subtitle = match (shown, total) {
        (0, _) => "Your first week with mend is just beginning".to_string(),
        (1, 1) => "Your first week with mend".to_string(),
        (n, t) if t > n => format!("The last {n} weeks of your time with mend"),
        (n, _) => format!("Your {n} weeks with mend so far"),
    };
    fonts.draw(pm, Face::Regular, TEXT_SIZE, &subtitle, PAD, SUBTITLE_BASELINE, Align::Left, MUTED);

    // Legend: each colour also has its own shape.
    let mid = LEGEND_BASELINE - 7.0;
    let mut x = PAD;
    fill_rounded(pm, x, mid - 10.0, 14.0, 20.0, 4.0, true, false, TEAL);
    x += 14.0 + 10.0;
    x += fonts.draw(pm, Face::Regular, TEXT_SIZE, "Evenings you both answered", x, LEGEND_BASELINE, Align::Left, INK);
    x += 30.0;
    fill_rounded(pm, x, mid - 10.0, 30.0, 20.0, 10.0, true, true, AMBER);
    x += 30.0 + 10.0;
    x += fonts.draw(pm, Face::Regular, TEXT_SIZE, "Commitments noticed kept", x, LEGEND_BASELINE, Align::Left, INK);
    x += 30.0;
    let last = "Pillars you touched";
    if x + 20.0 + fonts.measure(Face::Regular, TEXT_SIZE, last) <= WIDTH as f32 - PAD {
        fill_circle(pm, x + 7.0, mid, 7.0, SAGE);
        fonts.draw(pm, Face::Regular, TEXT_SIZE, last, x + 24.0, LEGEND_BASELINE, Align::Left, INK);
    }
}

/// The top panel: one bar per week of evenings answered together.
fn draw_bars(pm: &mut Pixmap, fonts: &Fonts, weeks: &[Week], col_w: f32, col_cx: &dyn Fn(usize) -> f32) {
    let unit = (BARS_BOTTOM - BARS_TOP) / f32::from(EVENINGS);
    for v in 1..=EVENINGS {
        hline(pm, PLOT_LEFT - 4.0, PLOT_RIGHT, (BARS_BOTTOM - unit * f32::from(v)).round(), 1.0, GRID);
    }
    hline(pm, PLOT_LEFT - 4.0, PLOT_RIGHT, BARS_BOTTOM, 2.0, AXIS);
    let axis_x = PLOT_LEFT - 14.0;
    fonts.draw(pm, Face::Regular, TEXT_SIZE, "0", axis_x, BARS_BOTTOM + 7.0, Align::Right, MUTED);
    fonts.draw(pm, Face::Regular, TEXT_SIZE, "7", axis_x, BARS_TOP + 7.0, Align::Right, MUTED);
    fonts.draw(pm, Face::Regular, TEXT_SIZE, "Evenings", PAD, (BARS_TOP + BARS_BOTTOM) / 2.0 + 7.0, Align::Left, MUTED);

    if weeks.is_empty() {
        let cx = (PLOT_LEFT + PLOT_RIGHT) / 2.0;
        let msg = "Your first week will show here";
        let w = fonts.measure(Face::Regular, TEXT_SIZE, msg) + 32.0;
        let mid = (BARS_TOP + BARS_BOTTOM) / 2.0;
        fill_rounded(pm, (cx - w / 2.0).round(), mid - 20.0, w.round(), 40.0, 20.0, true, true, CARD);
        fonts.draw(pm, Face::Regular, TEXT_SIZE, msg, cx, (BARS_TOP + BARS_BOTTOM) / 2.0 + 7.0, Align::Center, MUTED);
        return;
    }
    let bar_w = (col_w * 0.5).clamp(8.0, 44.0).round();
    for (i, week) in weeks.iter().enumerate() {
        let v = evenings(week);
        let x = (col_cx(i) - bar_w / 2.0).round();
        if v == 0 {
            fill_rounded(pm, x, BARS_BOTTOM - 4.0, bar_w, 4.0, 2.0, true, false, TEAL_SOFT);
            continue;
        }
        let top = (BARS_BOTTOM - unit * f32::from(v)).round();
        fill_rounded(pm, x, top, bar_w, BARS_BOTTOM - top, 6.0, true, false, TEAL);
        fonts.draw(pm, Face::Bold, TEXT_SIZE, &v.to_string(), col_cx(i), top - 7.0, Align::Center, INK);
    }
}

/// The row under the bars: commitments noticed kept, as amber pills.
fn draw_kept(pm: &mut Pixmap, fonts: &Fonts, weeks: &[Week], col_w: f32, col_cx: &dyn Fn(usize) -> f32) {
    fonts.draw(pm, Face::Regular, TEXT_SIZE, "Kept", PAD, KEPT_CY + 7.0, Align::Left, INK);
    let h = 28.0;
    for (i, week) in weeks.iter().enumerate() {
        let cx = col_cx(i);
        if week.kept == 0 {
            stroke_circle(pm, cx, KEPT_CY, 5.0, 1.5, FAINT);
            continue;
        }
        let label = if week.kept > 99 { "99+".to_string() } else { week.kept.to_string() };
        let tw = fonts.measure(Face::Bold, TEXT_SIZE, &label);
        let w = (tw + 16.0).max(h).min(col_w - 4.0).round();
        fill_rounded(pm, (cx - w / 2.0).round(), KEPT_CY - h / 2.0, w, h, h / 2.0, true, true, AMBER);
        fonts.draw(pm, Face::Bold, TEXT_SIZE, &label, cx, KEPT_CY + 7.0, Align::Center, INK);
    }
}

/// The lower panel: pillars as rows, weeks as columns.
fn draw_pillars(pm: &mut Pixmap, fonts: &Fonts, pillars: &[&str], weeks: &[Week], col_cx: &dyn Fn(usize) -> f32) {
    if pillars.is_empty() {
        return;
    }
    let row_h = ((GRID_BOTTOM - GRID_TOP) / pillars.len() as f32).min(34.0);
    let name_w = PLOT_LEFT - PAD - 16.0;
    let dot_r = (row_h * 0.32).min(9.0);
    for (r, name) in pillars.iter().enumerate() {
        let cy = GRID_TOP + row_h * (r as f32 + 0.5);
        let fitted = fonts.fit(Face::Regular, TEXT_SIZE, name, name_w);
        fonts.draw(pm, Face::Regular, TEXT_SIZE, &fitted, PAD, cy + 7.0, Align::Left, INK);
        for (i, week) in weeks.iter().enumerate() {
            if week.pillars & (1 << r) != 0 {
                fill_circle(pm, col_cx(i), cy, dot_r, SAGE);
            } else {
                stroke_circle(pm, col_cx(i), cy, 4.0, 1.5, FAINT);
            }
        }
    }
}

/// Week labels along the bottom, trimmed to fit; staggered over two rows
/// when one row would be too crowded.
fn draw_labels(pm: &mut Pixmap, fonts: &Fonts, weeks: &[Week], col_w: f32, col_cx: &dyn Fn(usize) -> f32) {
    let single_w = col_w - 8.0;
    let crowded = weeks.iter().any(|w| fonts.measure(Face::Regular, TEXT_SIZE, w.label.trim()) > single_w);
    for (i, week) in weeks.iter().enumerate() {
        let (max_w, baseline) = if !crowded {
            (single_w, LABEL_BASELINE_SINGLE)
        } else if i % 2 == 0 {
            (col_w * 2.0 - 10.0, LABEL_BASELINE_1)
        } else {
            (col_w * 2.0 - 10.0, LABEL_BASELINE_2)
        };
        // Never let the first or last label run past the card's edge.
        let cx = col_cx(i);
        let edge = 2.0 * (cx - PAD).min(WIDTH as f32 - PAD / 2.0 - cx);
        let label = fonts.fit(Face::Regular, TEXT_SIZE, &week.label, max_w.min(edge));
        fonts.draw(pm, Face::Regular, TEXT_SIZE, &label, cx, baseline, Align::Center, MUTED);
    }
}

/// Encodes the (premultiplied) pixmap as a straight-alpha RGBA PNG.
fn encode(pm: &Pixmap) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(pm.data().len());
    for px in pm.data().chunks_exact(4) {
        let a = px[3];
        match a {
            0 => rgba.extend_from_slice(&[0, 0, 0, 0]),
            255 => rgba.extend_from_slice(px),
            _ => {
                let un = |c: u8| ((u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8;
                rgba.extend_from_slice(&[un(px[0]), un(px[1]), un(px[2]), a]);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pm.width(), pm.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().expect("writing a PNG header to memory cannot fail");
    writer.write_image_data(&rgba).expect("the buffer matches the header's size");
    writer.finish().expect("finishing a PNG in memory cannot fail");
    out
}

#[cfg(test)]
mod tests;
