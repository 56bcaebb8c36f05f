//! Writes a few sample pictures to a folder and times a render:
//! `cargo run --release --example preview -- /tmp/mend-chart`.

use std::time::Instant;

use mend_chart::{Chart, Week, describe, render};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "mend-chart-preview".into());
    std::fs::create_dir_all(&dir).expect("create the output folder");
    let pillars = [
        "Honesty",
        "Atone",
        "Patience",
        "Listening",
        "Repair",
        "Boundaries",
        "Tenderness",
        "Trust",
        "Play",
        "Forgiveness",
    ];
    let labels = [
        "Sep 14", "Sep 21", "Sep 28", "Oct 5", "Oct 12", "Oct 19", "Oct 26", "Nov 2", "Nov 9", "Nov 16", "Nov 23",
        "Nov 30", "Dec 7", "Dec 14",
    ];
    let weeks: Vec<Week> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| Week {
            label: (*l).to_string(),
            together: [2, 3, 5, 4, 6, 7, 1, 0, 4, 5, 6, 7, 3, 5][i],
            kept: [0, 1, 0, 2, 1, 3, 0, 0, 2, 4, 1, 12][i % 12],
            pillars: (i as u16 * 0x2f1b) ^ 0x155,
        })
        .collect();
    let long_names: Vec<String> = (0..12).map(|i| format!("{i} {}", "Gentleness".repeat(6))).collect();
    let long_pillars: Vec<&str> = long_names.iter().map(String::as_str).collect();
    let long_weeks: Vec<Week> = (0..60)
        .map(|i| Week {
            label: format!("Week of {i} {}", "x".repeat(50)),
            together: 255,
            kept: u16::MAX,
            pillars: u16::MAX,
        })
        .collect();
    let cases: Vec<(&str, Chart)> = vec![
        ("full", Chart { pillars: &pillars, weeks: &weeks }),
        ("one", Chart { pillars: &pillars[..4], weeks: &weeks[..1] }),
        ("empty", Chart { pillars: &pillars[..5], weeks: &[] }),
        ("long", Chart { pillars: &long_pillars, weeks: &long_weeks }),
    ];
    for (name, chart) in &cases {
        let png = render(chart);
        std::fs::write(format!("{dir}/{name}.png"), &png).expect("write a preview");
        println!("{name}: {} bytes\n  {}", png.len(), describe(chart));
    }
    let chart = &cases[0].1;
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(render(std::hint::black_box(chart)));
    }
    println!("render: {:.2} ms on average over {runs} runs", start.elapsed().as_secs_f64() * 1000.0 / runs as f64);
}
