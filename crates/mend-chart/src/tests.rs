//! Tests that need the layout: text lands where the layout puts it.

use super::*;

/// Decodes a PNG into (width, height, RGBA pixels).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(px: &[u8], x: u32, y: u32) -> [u8; 4] {
    let i = (y * WIDTH + x) as usize * 4;
    [px[i], px[i + 1], px[i + 2], px[i + 3]]
}

/// Pixels in the box that are dark like text ink.
fn dark_pixels(px: &[u8], x0: f32, y0: f32, x1: f32, y1: f32) -> usize {
    let mut n = 0;
    for y in y0 as u32..y1 as u32 {
        for x in x0 as u32..x1 as u32 {
            let [r, g, b, a] = pixel(px, x, y);
            if a == 255 && r < 110 && g < 110 && b < 110 {
                n += 1;
            }
        }
    }
    n
}

/// Pixels in the box that differ between two images.
fn changed_pixels(a: &[u8], b: &[u8], x0: f32, y0: f32, x1: f32, y1: f32) -> usize {
    let mut n = 0;
    for y in y0 as u32..y1 as u32 {
        for x in x0 as u32..x1 as u32 {
            if pixel(a, x, y) != pixel(b, x, y) {
                n += 1;
            }
        }
    }
    n
}

fn sample_weeks() -> Vec<Week> {
    (0..4)
        .map(|i| Week { label: format!("Nov {}", 9 + 7 * i), together: 3 + i as u8, kept: i as u16, pillars: 0b101 })
        .collect()
}

const PILLARS: [&str; 3] = ["Honesty", "Atone", "Patience"];

#[test]
fn title_is_drawn_in_ink_and_plain_card_stays_plain() {
    let weeks = sample_weeks();
    let (_, _, px) = decode(&render(&Chart { pillars: &PILLARS, weeks: &weeks }));
    // "Your weeks together", bold, left of the card's top.
    let title = dark_pixels(&px, PAD, TITLE_BASELINE - 30.0, PAD + 340.0, TITLE_BASELINE + 8.0);
    assert!(title > 1500, "title region has only {title} ink pixels");
    // Right of the title and subtitle there is only card.
    let x0 = WIDTH as f32 - 300.0;
    assert_eq!(dark_pixels(&px, x0, 20.0, WIDTH as f32 - PAD, SUBTITLE_BASELINE + 6.0), 0);
    let [r, g, b, a] = pixel(&px, WIDTH - 100, 50);
    assert_eq!((r, g, b, a), (paint::CARD.0, paint::CARD.1, paint::CARD.2, 255));
    // The corners are outside the rounded card.
    assert_eq!(pixel(&px, 0, 0)[3], 0);
    assert_eq!(pixel(&px, WIDTH - 1, HEIGHT - 1)[3], 0);
}

#[test]
fn pillar_names_and_legend_are_drawn() {
    let weeks = sample_weeks();
    let (_, _, px) = decode(&render(&Chart { pillars: &PILLARS, weeks: &weeks }));
    let legend = dark_pixels(&px, PAD, LEGEND_BASELINE - 20.0, WIDTH as f32 - PAD, LEGEND_BASELINE + 6.0);
    assert!(legend > 1500, "legend has only {legend} ink pixels");
    let names = dark_pixels(&px, PAD, GRID_TOP, PLOT_LEFT - 10.0, GRID_BOTTOM);
    assert!(names > 600, "pillar names have only {names} ink pixels");
}

#[test]
fn changing_a_week_label_changes_the_label_row() {
    let weeks = sample_weeks();
    let mut other = weeks.clone();
    other[2].label = "Dec 1".into();
    let (_, _, a) = decode(&render(&Chart { pillars: &PILLARS, weeks: &weeks }));
    let (_, _, b) = decode(&render(&Chart { pillars: &PILLARS, weeks: &other }));
    let label_row = changed_pixels(&a, &b, 0.0, GRID_BOTTOM, WIDTH as f32, HEIGHT as f32);
    assert!(label_row > 50, "only {label_row} pixels changed in the label row");
    // And nothing above it moved.
    assert_eq!(changed_pixels(&a, &b, 0.0, 0.0, WIDTH as f32, GRID_BOTTOM), 0);
}

#[test]
fn bars_follow_the_evenings() {
    let mut weeks = sample_weeks();
    let (_, _, before) = decode(&render(&Chart { pillars: &PILLARS, weeks: &weeks }));
    weeks[0].together = 7;
    let (_, _, after) = decode(&render(&Chart { pillars: &PILLARS, weeks: &weeks }));
    let changed = changed_pixels(&before, &after, PLOT_LEFT, BARS_TOP - 30.0, PLOT_RIGHT, BARS_BOTTOM + 2.0);
    assert!(changed > 500, "only {changed} pixels changed in the bars");
    // A 7 reaches the top line: the bar's middle is teal there.
    let cx = PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) / MIN_COLUMNS as f32 / 2.0;
    let [r, g, b, _] = pixel(&after, cx as u32, BARS_TOP as u32 + 3);
    assert_eq!((r, g, b), (paint::TEAL.0, paint::TEAL.1, paint::TEAL.2));
}

#[test]
fn long_labels_are_trimmed_to_fit() {
    let fonts = Fonts::load();
    let long = "A".repeat(60);
    let fitted = fonts.fit(Face::Regular, TEXT_SIZE, &long, 100.0);
    assert!(fitted.ends_with('\u{2026}'));
    assert!(fonts.measure(Face::Regular, TEXT_SIZE, &fitted) <= 100.0);
    assert_eq!(fonts.fit(Face::Regular, TEXT_SIZE, "Nov 30", 100.0), "Nov 30");
    assert_eq!(fonts.fit(Face::Regular, TEXT_SIZE, "line\nbreak", 500.0), "line break");
    assert_eq!(fonts.fit(Face::Regular, TEXT_SIZE, "Nov 30", 1.0), "");
}
