//! Text on the picture: the bundled DejaVu fonts, measured and drawn with
//! `ab_glyph` straight into the pixmap. Nothing here touches system fonts.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use tiny_skia::Pixmap;

use crate::paint::Rgb;

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The two faces the picture uses.
pub(crate) struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

/// Which face a run of text is set in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

/// Where `x` sits relative to the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// The ellipsis that ends a trimmed label.
const ELLIPSIS: char = '\u{2026}';

impl Fonts {
    /// Parses the bundled fonts. They are part of the crate, so failing to
    /// parse them is a build defect, not a run-time condition.
    pub(crate) fn load() -> Self {
        Fonts {
            regular: FontRef::try_from_slice(REGULAR_TTF).expect("bundled DejaVuSans.ttf parses"),
            bold: FontRef::try_from_slice(BOLD_TTF).expect("bundled DejaVuSans-Bold.ttf parses"),
        }
    }

    fn font(&self, face: Face) -> &FontRef<'static> {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    /// `ab_glyph` scales by line height; callers speak in pixels per em, as
    /// CSS `font-size` does.
    fn scale(&self, face: Face, px_per_em: f32) -> PxScale {
        let font = self.font(face);
        let upem = font.units_per_em().unwrap_or(2048.0);
        PxScale::from(px_per_em * font.height_unscaled() / upem)
    }

    /// Width in pixels of `text` set at `size` px.
    pub(crate) fn measure(&self, face: Face, size: f32, text: &str) -> f32 {
        let font = self.font(face).as_scaled(self.scale(face, size));
        let mut caret = 0.0;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                caret += font.kern(p, id);
            }
            caret += font.h_advance(id);
            prev = Some(id);
        }
        caret
    }

    /// `text` as it is, or cut short with an ellipsis so that it is at most
    /// `max_width` pixels wide. Control characters become spaces, so a
    /// caller's stray newline can never break the layout.
    pub(crate) fn fit(&self, face: Face, size: f32, text: &str, max_width: f32) -> String {
        let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let clean = clean.trim().to_string();
        if self.measure(face, size, &clean) <= max_width {
            return clean;
        }
        let chars: Vec<char> = clean.chars().collect();
        // Longest prefix that fits with the ellipsis; a binary search keeps
        // even a very long label cheap.
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let candidate: String = chars[..mid].iter().collect::<String>().trim_end().to_string() + "\u{2026}";
            if self.measure(face, size, &candidate) <= max_width {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == 0 {
            let lone = ELLIPSIS.to_string();
            return if self.measure(face, size, &lone) <= max_width { lone } else { String::new() };
        }
        chars[..lo].iter().collect::<String>().trim_end().to_string() + "\u{2026}"
    }

    /// Draws `text` with its baseline at `baseline`, placed at `x` per
    /// `align`. Returns the text's width.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn draw(
        &self,
        pixmap: &mut Pixmap,
        face: Face,
        size: f32,
        text: &str,
        x: f32,
        baseline: f32,
        align: Align,
        color: Rgb,
    ) -> f32 {
        let width = self.measure(face, size, text);
        let start = match align {
            Align::Left => x,
            Align::Center => x - width / 2.0,
            Align::Right => x - width,
        };
        // Whole-pixel starts keep stems crisp and output stable.
        let start = start.round();
        let baseline = baseline.round();
        let font = self.font(face);
        let scale = self.scale(face, size);
        let scaled = font.as_scaled(scale);
        let mut caret = 0.0;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(start + caret, baseline));
            caret += scaled.h_advance(id);
            prev = Some(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let (ox, oy) = (bounds.min.x as i32, bounds.min.y as i32);
                outline.draw(|gx, gy, coverage| {
                    blend(pixmap, ox + gx as i32, oy + gy as i32, color, coverage);
                });
            }
        }
        width
    }
}

/// Lays `color` over one pixel with the given coverage (0..=1).
fn blend(pixmap: &mut Pixmap, x: i32, y: i32, color: Rgb, coverage: f32) {
    if x < 0 || y < 0 || x >= pixmap.width() as i32 || y >= pixmap.height() as i32 {
        return;
    }
    let a = coverage.clamp(0.0, 1.0);
    if a <= 0.0 {
        return;
    }
    let i = (y as usize * pixmap.width() as usize + x as usize) * 4;
    let data = pixmap.data_mut();
    // The pixmap is premultiplied: out = src·a + dst·(1 − a), alpha alike.
    let src = [color.0, color.1, color.2, 255];
    for (k, s) in src.iter().enumerate() {
        let d = f32::from(data[i + k]);
        data[i + k] = (f32::from(*s) * a + d * (1.0 - a)).round().clamp(0.0, 255.0) as u8;
    }
}
