//! The weekly reflection as data, shaped like a weekly "State of the Union":
//! appreciations first, what went right, the week in numbers about the couple,
//! one topic to talk through. Never a streak to break, never a scoreboard.
//!
//! What each partner did comes in (`WeekItem`) but never goes out: a
//! `Reflection` holds only what the two of you did together, so nothing in it
//! (or in what it renders) can tell who answered more. Nor does it count what
//! was skipped: a quiet week is a rest, not a failure.

use std::collections::BTreeSet;

use super::model::{Kind, Slot};
use super::prompts::Library;

/// A delivery of the week with what each partner did, as the reflection needs it.
#[derive(Debug, Clone)]
pub struct WeekItem {
    pub pillar: String,
    pub kind: Kind,
    /// The prompt each partner got.
    pub prompts: [String; 2],
    /// Whether each partner answered (for actions: answered at all).
    pub answered: [bool; 2],
    /// For actions: whether each partner did it.
    pub done: [Option<bool>; 2],
    /// Answers a partner marked as meaningful: the writer's slot and text.
    pub meaningful: Vec<(Slot, String)>,
    pub revealed: bool,
}

/// An answer one partner marked as meaningful to them: a gift, quoted with its
/// writer's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appreciation {
    /// Who wrote it (the other partner marked it).
    pub writer: Slot,
    pub prompt_id: String,
    pub text: String,
}

/// A reflection on one week, about the couple: no count here belongs to one
/// partner, and none counts what was missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reflection {
    pub appreciations: Vec<Appreciation>,
    /// Prompts that reached the couple (never shown as an "out of").
    pub prompts: usize,
    /// Prompts you both answered and saw each other's words on.
    pub shared: usize,
    /// Small actions taken this week, never said by whom.
    pub actions_taken: usize,
    pub pillars_touched: Vec<String>,
    /// Pillars this week did not reach, waiting for another one.
    pub pillars_missed: Vec<String>,
    /// One pillar to talk through, with a short guide.
    pub topic: Option<Topic>,
    /// Hard moments one partner shared and the other answered "I'm here" to:
    /// only ever said as met together, never whose.
    pub met_together: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub pillar: String,
    pub guide: String,
}

impl Reflection {
    pub fn build(library: &Library, items: &[WeekItem]) -> Reflection {
        let mut r = Reflection {
            appreciations: Vec::new(),
            prompts: items.len(),
            shared: 0,
            actions_taken: 0,
            pillars_touched: Vec::new(),
            pillars_missed: Vec::new(),
            topic: None,
            met_together: 0,
        };
        let mut touched = BTreeSet::new();
        for item in items {
            // A reveal needs both answers; journals are never revealed.
            if item.revealed && item.kind != Kind::Journal {
                r.shared += 1;
            }
            // One action, whoever took it (or both): a count per partner is
            // exactly the scoreboard this must never become.
            if item.kind == Kind::Action && item.done.contains(&Some(true)) {
                r.actions_taken += 1;
            }
            if item.answered.contains(&true) {
                touched.insert(item.pillar.clone());
            }
            for (writer, text) in &item.meaningful {
                r.appreciations.push(Appreciation {
                    writer: *writer,
                    prompt_id: item.prompts[writer.index()].clone(),
                    text: text.clone(),
                });
            }
        }
        for pillar in library.pillars() {
            if touched.contains(&pillar.id) {
                r.pillars_touched.push(pillar.id.clone());
            } else {
                r.pillars_missed.push(pillar.id.clone());
            }
        }
        // Talk through a pillar the week reached but did not get to, else the
        // one touched last: something alive, never a list of failures.
        let unanswered = items.iter().rev().find(|i| !i.answered.contains(&true)).map(|i| i.pillar.clone());
        let last_touched = items.iter().rev().find(|i| i.answered.contains(&true)).map(|i| i.pillar.clone());
        r.topic = unanswered.or(last_touched).and_then(|id| {
            library.pillar(&id).map(|p| Topic {
                guide: format!(
                    "Take ten unhurried minutes on {}. {} Each of you says one thing you noticed this week, the other says back what they heard, and you stop while it still feels kind.",
                    p.name, p.blurb
                ),
                pillar: id,
            })
        });
        r
    }

    /// Whether neither of you answered anything this week.
    pub fn is_quiet(&self) -> bool {
        self.pillars_touched.is_empty() && self.shared == 0 && self.actions_taken == 0
    }

    /// The reflection's words, as (heading, text) in the order they are shown.
    /// `names` are the partners' names (only ever next to their own words, in
    /// the appreciations) and `quote` sets a partner's words apart safely.
    pub fn sections(
        &self,
        library: &Library,
        names: [&str; 2],
        quote: impl Fn(&str) -> String,
    ) -> Vec<(&'static str, String)> {
        let pillar_names = |ids: &[String]| -> String {
            ids.iter().filter_map(|id| library.pillar(id)).map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
        };
        let mut out = Vec::new();
        if !self.appreciations.is_empty() {
            let list: Vec<String> = self
                .appreciations
                .iter()
                .map(|a| format!("**{}** wrote:\n{}", names[a.writer.index()], quote(&a.text)))
                .collect();
            out.push(("What mattered to you", list.join("\n\n")));
        }
        let right = if self.shared > 0 {
            "You made room for each other this week: you wrote, and you let each other's words in."
        } else if self.actions_taken > 0 {
            "You took small steps toward each other this week. Small steps are how trust comes back."
        } else if !self.is_quiet() {
            "You kept showing up this week, and that counts."
        } else {
            "A quiet week, and that's all right. Rest is part of rebuilding too. Showing up at all counts, and I'm here whenever you're ready."
        };
        let mut right = right.to_string();
        if self.met_together > 0 {
            right.push_str(" When a moment was hard, you met it together.");
        }
        out.push(("What went right", right));
        // Only what happened, never an "out of": a 0 or a tally of skipped days
        // would read as failure.
        let mut numbers = Vec::new();
        if self.shared > 0 {
            numbers
                .push(format!("{} you both answered and saw each other's words", plural(self.shared, "time", "times")));
        }
        if self.actions_taken > 0 {
            numbers.push(format!("{} you took this week", plural(self.actions_taken, "small action", "small actions")));
        }
        if !self.pillars_touched.is_empty() {
            numbers.push(format!(
                "{} you touched: {}",
                plural(self.pillars_touched.len(), "pillar", "pillars"),
                pillar_names(&self.pillars_touched)
            ));
        }
        if !numbers.is_empty() {
            out.push(("The week in numbers", numbers.join("\n")));
        }
        // After a quiet week, a list of everything not reached would only weigh.
        if !self.is_quiet() && !self.pillars_missed.is_empty() {
            out.push(("Waiting for another week", pillar_names(&self.pillars_missed)));
        }
        if let Some(t) = &self.topic {
            out.push(("One thing to talk through", t.guide.clone()));
        }
        out
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 2] = ["Alex", "Sam"];

    fn library() -> Library {
        Library::builtin_with(&[]).expect("the built-in prompts")
    }

    fn item(library: &Library, day: usize, kind: Kind, answered: [bool; 2]) -> WeekItem {
        let pillars = library.pillars();
        let done = match kind {
            Kind::Action => answered.map(|a| a.then_some(true)),
            _ => [None, None],
        };
        WeekItem {
            pillar: pillars[day % pillars.len()].id.clone(),
            kind,
            prompts: [format!("a.{day}"), format!("b.{day}")],
            answered,
            done,
            meaningful: Vec::new(),
            revealed: kind != Kind::Journal && answered == [true, true],
        }
    }

    /// A week where the partner in `more` answered three prompts and the other
    /// one: an action and a shared prompt together, two more on their own.
    fn lopsided(library: &Library, more: Slot) -> Vec<WeekItem> {
        let one = |day, kind| {
            let mut answered = [false, false];
            answered[more.index()] = true;
            item(library, day, kind, answered)
        };
        vec![
            item(library, 0, Kind::Shared, [true, true]),
            one(1, Kind::Action),
            one(2, Kind::Shared),
            item(library, 3, Kind::Shared, [false, false]),
        ]
    }

    fn text(library: &Library, r: &Reflection) -> Vec<(&'static str, String)> {
        r.sections(library, NAMES, |s| format!("> {s}"))
    }

    #[test]
    fn a_lopsided_week_does_not_say_who_answered_more() {
        let library = library();
        let alex_more = Reflection::build(&library, &lopsided(&library, Slot::A));
        let sam_more = Reflection::build(&library, &lopsided(&library, Slot::B));
        // The data cannot tell the two weeks apart, so it cannot tell who did more.
        assert_eq!(alex_more, sam_more);
        assert_eq!((alex_more.shared, alex_more.actions_taken), (1, 1));
        let sections = text(&library, &alex_more);
        assert_eq!(sections, text(&library, &sam_more));
        let all: String = sections.iter().map(|(h, v)| format!("{h}\n{v}\n")).collect();
        for name in NAMES {
            assert!(!all.contains(name), "no name without an appreciation: {all}");
        }
        assert!(all.contains("1 time you both answered and saw each other's words"), "{all}");
        assert!(all.contains("1 small action you took this week"), "{all}");
        assert!(!all.contains('0'), "nothing reads as a zero: {all}");
        for word in ["missed", "skipped", "only", "didn't", "answered 3", "answered 1"] {
            assert!(!all.contains(word), "`{word}` in {all}");
        }
    }

    #[test]
    fn names_appear_only_with_their_own_words_never_with_a_count() {
        let library = library();
        let mut week = lopsided(&library, Slot::A);
        week[0].meaningful = vec![(Slot::B, "When you made tea without asking".into())];
        let r = Reflection::build(&library, &week);
        assert_eq!(
            r.appreciations,
            [Appreciation {
                writer: Slot::B,
                prompt_id: "b.0".into(),
                text: "When you made tea without asking".into()
            }]
        );
        let sections = text(&library, &r);
        assert_eq!(sections[0].0, "What mattered to you", "appreciations come first");
        assert!(sections[0].1.contains("**Sam** wrote:\n> When you made tea"));
        for (heading, value) in &sections[1..] {
            assert!(NAMES.iter().all(|n| !value.contains(n)), "{heading}: {value}");
        }
        for line in sections.iter().flat_map(|(_, v)| v.lines()) {
            if NAMES.iter().any(|n| line.contains(n)) {
                assert!(!line.chars().any(|c| c.is_ascii_digit()), "a name next to a count: {line}");
            }
        }
    }

    #[test]
    fn a_quiet_week_reads_warmly() {
        let library = library();
        let quiet =
            vec![item(&library, 0, Kind::Shared, [false, false]), item(&library, 1, Kind::Action, [false, false])];
        for week in [quiet, Vec::new()] {
            let r = Reflection::build(&library, &week);
            assert!(r.is_quiet());
            let sections = text(&library, &r);
            let right = &sections.iter().find(|(h, _)| *h == "What went right").unwrap().1;
            assert!(right.contains("that's all right") && right.contains("Showing up at all counts"), "{right}");
            let all: String = sections.iter().map(|(h, v)| format!("{h}\n{v}\n")).collect();
            assert!(!all.chars().any(|c| c.is_ascii_digit()), "no numbers in a quiet week: {all}");
            assert!(sections.iter().all(|(h, _)| *h != "The week in numbers" && *h != "Waiting for another week"));
        }
    }

    #[test]
    fn an_action_both_took_is_one_action_and_journals_are_never_shared() {
        let library = library();
        let week = vec![item(&library, 0, Kind::Action, [true, true]), item(&library, 1, Kind::Journal, [true, true])];
        let r = Reflection::build(&library, &week);
        assert_eq!((r.shared, r.actions_taken, r.pillars_touched.len()), (1, 1, 2));
        let numbers = text(&library, &r).into_iter().find(|(h, _)| *h == "The week in numbers").unwrap().1;
        assert!(numbers.contains("2 pillars you touched: "), "{numbers}");
    }
}
