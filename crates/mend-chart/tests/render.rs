//! The picture as a caller sees it: valid PNG bytes, deterministic, close to
//! the checked-in reference, and a description that names the numbers.
//!
//! To re-create `tests/reference.png` after an intended change of look:
//! `MEND_CHART_BLESS=1 cargo test --test render` (then look at the picture).

use std::path::PathBuf;

use mend_chart::{Chart, HEIGHT, MAX_WEEKS, WIDTH, Week, describe, render};

/// Decodes a PNG into (width, height, RGBA pixels).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

const PILLARS: [&str; 7] = ["Honesty", "Atone", "Patience", "Listening", "Repair", "Boundaries", "Tenderness"];

/// The fixed example behind the reference image: six weeks.
fn six_weeks() -> Vec<Week> {
    let rows: [(&str, u8, u16, u16); 6] = [
        ("Oct 26", 2, 0, 0b000_0001),
        ("Nov 2", 3, 1, 0b000_0011),
        ("Nov 9", 5, 0, 0b000_0101),
        ("Nov 16", 4, 2, 0b001_1001),
        ("Nov 23", 6, 1, 0b010_0111),
        ("Nov 30", 7, 3, 0b110_1101),
    ];
    rows.iter().map(|&(label, together, kept, pillars)| Week { label: label.into(), together, kept, pillars }).collect()
}

fn week(i: usize) -> Week {
    Week {
        label: format!("W{i}"),
        together: (i % 8) as u8,
        kept: (i % 4) as u16,
        pillars: (i as u16).wrapping_mul(0x2f1b),
    }
}

#[test]
fn output_is_a_png_of_the_stated_size() {
    let weeks = six_weeks();
    let bytes = render(&Chart { pillars: &PILLARS, weeks: &weeks });
    let (w, h, px) = decode(&bytes);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert_eq!(px.len(), (WIDTH * HEIGHT * 4) as usize);
    const { assert!(WIDTH >= 800) };
}

#[test]
fn same_data_same_bytes_different_data_different_bytes() {
    let weeks = six_weeks();
    let chart = Chart { pillars: &PILLARS, weeks: &weeks };
    let a = render(&chart);
    let b = render(&chart);
    assert!(a == b, "two renders of the same chart differ");

    let mut more = weeks.clone();
    more[3].kept += 1;
    assert!(render(&Chart { pillars: &PILLARS, weeks: &more }) != a, "a changed week drew the same picture");
    let mut touched = weeks.clone();
    touched[0].pillars |= 0b100;
    assert!(render(&Chart { pillars: &PILLARS, weeks: &touched }) != a, "a touched pillar drew the same picture");
    assert!(render(&Chart { pillars: &PILLARS[..3], weeks: &weeks }) != a, "fewer pillars drew the same picture");
}

#[test]
fn matches_the_reference_image() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference.png");
    let weeks = six_weeks();
    let bytes = render(&Chart { pillars: &PILLARS, weeks: &weeks });
    if std::env::var("MEND_CHART_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &bytes).expect("write tests/reference.png");
        eprintln!("blessed {}", path.display());
        return;
    }
    let reference = std::fs::read(&path)
        .expect("tests/reference.png is missing: run with MEND_CHART_BLESS=1 to create it, then look at it");
    let (rw, rh, want) = decode(&reference);
    let (w, h, got) = decode(&bytes);
    assert_eq!((w, h), (rw, rh), "the reference has another size");
    let differing = want
        .chunks_exact(4)
        .zip(got.chunks_exact(4))
        .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 16))
        .count();
    let allowed = (w * h) as usize / 200; // 0.5%
    assert!(
        differing <= allowed,
        "{differing} pixels differ from tests/reference.png by more than 16 (at most {allowed} may); \
         if the change is intended, re-bless with MEND_CHART_BLESS=1 and look at the picture"
    );
}

#[test]
fn describe_names_the_numbers() {
    let weeks = six_weeks();
    let text = describe(&Chart { pillars: &PILLARS, weeks: &weeks });
    assert!(text.starts_with("A chart of your 6 weeks with mend so far"), "{text}");
    assert!(text.contains("from the week of Oct 26 to the week of Nov 30"), "{text}");
    assert!(text.contains("Evenings you both answered: 2, 3, 5, 4, 6 and 7."), "{text}");
    assert!(text.contains("Commitments noticed kept: 0, 1, 0, 2, 1 and 3."), "{text}");
    assert!(
        text.contains(
            "Pillars you touched: Honesty in 6 weeks, Atone in 2, Patience in 3, Listening in 2, \
             Repair in 1, Boundaries in 2, Tenderness in 1."
        ),
        "{text}"
    );
    assert!(!text.contains("left out"), "{text}");
    assert!(!text.to_lowercase().contains("miss"), "{text}");
    assert!(text.chars().count() <= 1000);
}

#[test]
fn describe_says_when_older_weeks_are_left_out() {
    let weeks: Vec<Week> = (0..20).map(week).collect();
    let text = describe(&Chart { pillars: &PILLARS, weeks: &weeks });
    assert!(text.starts_with(&format!("A chart of your last {MAX_WEEKS} weeks with mend")), "{text}");
    assert!(text.contains("Your 8 earlier weeks are left out of the picture"), "{text}");
    assert!(text.contains("from the week of W8 to the week of W19"), "{text}");
    // W8..W19: evenings are i % 8, clamped to 7.
    assert!(text.contains("Evenings you both answered: 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2 and 3."), "{text}");

    let thirteen: Vec<Week> = (0..13).map(week).collect();
    let text = describe(&Chart { pillars: &PILLARS, weeks: &thirteen });
    assert!(text.contains("Your 1 earlier week is left out of the picture."), "{text}");
}

#[test]
fn describe_clamps_evenings_and_handles_one_week() {
    let weeks = vec![Week { label: "Nov 30".into(), together: 200, kept: 4, pillars: 0 }];
    let text = describe(&Chart { pillars: &PILLARS, weeks: &weeks });
    assert_eq!(
        text,
        "A chart of your first week with mend, the week of Nov 30. Evenings you both answered: 7. \
         Commitments noticed kept: 4. The pillar grid has no marks yet."
    );
}

#[test]
fn zero_weeks_draws_and_describes_kindly() {
    for pillars in [&PILLARS[..], &[][..]] {
        let chart = Chart { pillars, weeks: &[] };
        let (w, h, _) = decode(&render(&chart));
        assert_eq!((w, h), (WIDTH, HEIGHT));
        let text = describe(&chart);
        assert!(text.contains("no weeks to show yet"), "{text}");
    }
}

#[test]
fn all_zero_weeks_still_draw() {
    let weeks: Vec<Week> = (0..5).map(|i| Week { label: format!("Week {i}"), ..Week::default() }).collect();
    let chart = Chart { pillars: &PILLARS, weeks: &weeks };
    let (w, h, _) = decode(&render(&chart));
    assert_eq!((w, h), (WIDTH, HEIGHT));
    let text = describe(&chart);
    assert!(text.contains("Evenings you both answered: 0, 0, 0, 0 and 0."), "{text}");
}

#[test]
fn sixty_weeks_and_long_names_do_not_panic() {
    let long = "x".repeat(60);
    let names: Vec<String> = (0..16).map(|i| format!("{i}{}", "Pillar".repeat(10))).collect();
    let pillars: Vec<&str> = names.iter().map(String::as_str).collect();
    let weeks: Vec<Week> = (0..60)
        .map(|i| Week { label: format!("{long}{i}"), together: 255, kept: u16::MAX, pillars: u16::MAX })
        .collect();
    let chart = Chart { pillars: &pillars, weeks: &weeks };
    let (w, h, _) = decode(&render(&chart));
    assert_eq!((w, h), (WIDTH, HEIGHT));
    let text = describe(&chart);
    assert!(text.chars().count() <= 1000, "{} chars", text.chars().count());
    assert!(text.contains("Your 48 earlier weeks are left out"), "{text}");
    assert!(text.contains("65535"), "{text}");
}

#[test]
fn odd_labels_do_not_panic() {
    let labels = ["", " ", "\n\t", "🌙✨ émoji", "\u{202E}rtl", &"é".repeat(60)];
    let weeks: Vec<Week> =
        labels.iter().map(|l| Week { label: (*l).to_string(), together: 3, kept: 1, pillars: 1 }).collect();
    let pillars = ["", "\u{0}", "Honesty"];
    let chart = Chart { pillars: &pillars, weeks: &weeks };
    let (w, h, _) = decode(&render(&chart));
    assert_eq!((w, h), (WIDTH, HEIGHT));
    let text = describe(&chart);
    assert!(text.contains("from week 1 to the week of"), "{text}");
}
