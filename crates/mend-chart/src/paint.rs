//! Colours and the few shapes the picture is made of, on a `tiny-skia`
//! pixmap, always anti-aliased.

use tiny_skia::{FillRule, Paint, Path, PathBuilder, Pixmap, Rect, Stroke, Transform};

/// An opaque colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

/// The warm light card everything sits on.
pub(crate) const CARD: Rgb = Rgb(0xF7, 0xF3, 0xEE);
/// Every other column of weeks, a breath darker than the card.
pub(crate) const BAND: Rgb = Rgb(0xF0, 0xEA, 0xE2);
/// Body text and numbers.
pub(crate) const INK: Rgb = Rgb(0x2B, 0x2B, 0x2B);
/// Secondary text: subtitle, axis, week labels.
pub(crate) const MUTED: Rgb = Rgb(0x5C, 0x57, 0x52);
/// Faint guide lines.
pub(crate) const GRID: Rgb = Rgb(0xE4, 0xDC, 0xD2);
/// The base line under the bars.
pub(crate) const AXIS: Rgb = Rgb(0xC9, 0xBF, 0xB3);
/// Evenings answered together.
pub(crate) const TEAL: Rgb = Rgb(0x2F, 0x7F, 0x79);
/// A week's column with no shared evening yet: a small soft stub.
pub(crate) const TEAL_SOFT: Rgb = Rgb(0xBF, 0xD9, 0xD5);
/// Commitments noticed kept.
pub(crate) const AMBER: Rgb = Rgb(0xE3, 0xA2, 0x3B);
/// A pillar the couple touched.
pub(crate) const SAGE: Rgb = Rgb(0x5E, 0x9E, 0x92);
/// The faint outline where nothing was marked.
pub(crate) const FAINT: Rgb = Rgb(0xCF, 0xC5, 0xB9);

fn paint(color: Rgb) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(color.0, color.1, color.2, 255);
    p.anti_alias = true;
    p
}

/// Fills an axis-aligned rectangle.
pub(crate) fn fill_rect(pixmap: &mut Pixmap, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
        pixmap.fill_rect(rect, &paint(color), Transform::identity(), None);
    }
}

/// A rectangle with rounded corners: `top` rounds the upper two, `bottom`
/// the lower two.
fn rounded_path(x: f32, y: f32, w: f32, h: f32, r: f32, top: bool, bottom: bool) -> Option<Path> {
    if w <= 0.0 || h <= 0.0 {
        return None;
    }
    let r = r.min(w / 2.0).min(h / 2.0).max(0.0);
    let (rt, rb) = (if top { r } else { 0.0 }, if bottom { r } else { 0.0 });
    // Cubic control offset for a quarter circle.
    const K: f32 = 0.552_284_8;
    let mut pb = PathBuilder::new();
    pb.move_to(x + rt, y);
    pb.line_to(x + w - rt, y);
    if rt > 0.0 {
        pb.cubic_to(x + w - rt + rt * K, y, x + w, y + rt - rt * K, x + w, y + rt);
    }
    pb.line_to(x + w, y + h - rb);
    if rb > 0.0 {
        pb.cubic_to(x + w, y + h - rb + rb * K, x + w - rb + rb * K, y + h, x + w - rb, y + h);
    }
    pb.line_to(x + rb, y + h);
    if rb > 0.0 {
        pb.cubic_to(x + rb - rb * K, y + h, x, y + h - rb + rb * K, x, y + h - rb);
    }
    pb.line_to(x, y + rt);
    if rt > 0.0 {
        pb.cubic_to(x, y + rt - rt * K, x + rt - rt * K, y, x + rt, y);
    }
    pb.close();
    pb.finish()
}

/// Fills a rounded rectangle (see [`rounded_path`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_rounded(
    pixmap: &mut Pixmap,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    r: f32,
    top: bool,
    bottom: bool,
    color: Rgb,
) {
    if let Some(path) = rounded_path(x, y, w, h, r, top, bottom) {
        pixmap.fill_path(&path, &paint(color), FillRule::Winding, Transform::identity(), None);
    }
}

/// A filled disc.
pub(crate) fn fill_circle(pixmap: &mut Pixmap, cx: f32, cy: f32, r: f32, color: Rgb) {
    if let Some(path) = PathBuilder::from_circle(cx, cy, r) {
        pixmap.fill_path(&path, &paint(color), FillRule::Winding, Transform::identity(), None);
    }
}

/// A thin ring.
pub(crate) fn stroke_circle(pixmap: &mut Pixmap, cx: f32, cy: f32, r: f32, width: f32, color: Rgb) {
    if let Some(path) = PathBuilder::from_circle(cx, cy, r) {
        let stroke = Stroke { width, ..Stroke::default() };
        pixmap.stroke_path(&path, &paint(color), &stroke, Transform::identity(), None);
    }
}

/// A horizontal line `thickness` pixels tall, its top at `y`.
pub(crate) fn hline(pixmap: &mut Pixmap, x0: f32, x1: f32, y: f32, thickness: f32, color: Rgb) {
    fill_rect(pixmap, x0, y, x1 - x0, thickness, color);
}
