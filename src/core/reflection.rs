//! The weekly reflection as data, shaped like a weekly "State of the Union":
//! appreciations first, what went right, the week in numbers about the couple,
//! one topic to talk through as speaker and listener, and what each partner
//! said would help them feel cared for. Never a streak to break, never a
//! scoreboard.
//!
//! What each partner did comes in (`WeekItem`) but never goes out: a
//! `Reflection` holds only what the two of you did together, so nothing in it
//! (or in what it renders) can tell who answered more. Nor does it count what
//! was skipped: a quiet week is a rest, not a failure. The only words tied to a
//! name are that partner's own: answers a partner marked as meaningful, and the
//! private check-in each may write before it (one who doesn't is simply left
//! out, never named).

use std::collections::BTreeSet;

use super::model::{Kind, Slot};
use super::prompts::Library;

/// How long after the reflection's slot the partners' check-ins may come in:
/// it is posted when both have checked in, or when this window closes.
pub const CHECK_IN_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// The longest text a check-in answer may hold, in characters.
pub const MAX_CHECK_IN_CHARS: usize = super::answer::MAX_ANSWER_CHARS;

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

/// One partner's private check-in before the reflection: both answers optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    pub writer: Slot,
    /// One thing they appreciated about their partner this week.
    pub appreciation: Option<String>,
    /// One thing that would help them feel cared for next week.
    pub cared_for: Option<String>,
}

impl CheckIn {
    /// A check-in from what was typed: blank answers are no answer.
    pub fn new(writer: Slot, appreciation: Option<&str>, cared_for: Option<&str>) -> CheckIn {
        let clean = |t: Option<&str>| t.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
        CheckIn { writer, appreciation: clean(appreciation), cared_for: clean(cared_for) }
    }

    /// Whether it holds any words at all.
    pub fn has_words(&self) -> bool {
        self.appreciation.is_some() || self.cared_for.is_some()
    }
}

/// A partner's own words, shown under their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub writer: Slot,
    pub text: String,
}

/// One week in the picture of the weeks so far: what the couple did together,
/// never what was missed, never who did what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// When the week began.
    pub start: i64,
    /// Prompts you both answered and saw each other's words on.
    pub together: usize,
    /// Commitments noticed kept.
    pub kept: usize,
    /// The pillars you touched, by id.
    pub pillars: Vec<String>,
}

/// A reflection on one week, about the couple: no count here belongs to one
/// partner, and none counts what was missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reflection {
    pub appreciations: Vec<Appreciation>,
    /// What each partner who checked in appreciated about the other.
    pub appreciated: Vec<Words>,
    /// What would help each partner who checked in feel cared for next week.
    pub cared_for: Vec<Words>,
    /// Prompts that reached the couple (never shown as an "out of").
    pub prompts: usize,
    /// Prompts you both answered and saw each other's words on.
    pub shared: usize,
    /// Small actions taken this week, never said by whom.
    pub actions_taken: usize,
    /// Commitments noticed kept this week (what was not is never counted).
    pub kept: usize,
    pub pillars_touched: Vec<String>,
    /// Pillars this week did not reach, waiting for another one.
    pub pillars_missed: Vec<String>,
    /// One pillar to talk through, with a short guide.
    pub topic: Option<Topic>,
    /// Hard moments one partner shared and the other answered "I'm here" to:
    /// only ever said as met together, never whose.
    pub met_together: usize,
    /// The weeks so far, oldest first, this one last (the picture).
    pub weeks: Vec<Week>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub pillar: String,
    pub guide: String,
}

/// How to talk a topic through: one speaks, one listens, then swap.
pub const SPEAKER_LISTENER: &str = "One of you speaks, about your own feelings rather than the other's faults: \
     \"I feel… about… I need…\". The other listens and says back what they heard, without defending or fixing, \
     until the speaker feels understood. Then swap. Stop while it still feels kind.";

impl Reflection {
    pub fn build(library: &Library, items: &[WeekItem]) -> Reflection {
        let mut r = Reflection {
            appreciations: Vec::new(),
            appreciated: Vec::new(),
            cared_for: Vec::new(),
            prompts: items.len(),
            shared: 0,
            actions_taken: 0,
            kept: 0,
            pillars_touched: Vec::new(),
            pillars_missed: Vec::new(),
            topic: None,
            met_together: 0,
            weeks: Vec::new(),
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
                guide: format!("Take some unhurried time together on {}. {}\n{SPEAKER_LISTENER}", p.name, p.blurb),
                pillar: id,
            })
        });
        r
    }

    /// Adds the partners' check-ins: each one's words, under their own name.
    /// A partner who did not check in adds nothing, and is never mentioned.
    pub fn add_check_ins(&mut self, check_ins: &[CheckIn]) {
        let mut check_ins = check_ins.to_vec();
        check_ins.sort_by_key(|c| c.writer.index());
        for c in check_ins {
            if let Some(text) = c.appreciation {
                self.appreciated.push(Words { writer: c.writer, text });
            }
            if let Some(text) = c.cared_for {
                self.cared_for.push(Words { writer: c.writer, text });
            }
        }
    }

    /// This week as one column of the picture of the weeks.
    pub fn as_week(&self, start: i64) -> Week {
        Week { start, together: self.shared, kept: self.kept, pillars: self.pillars_touched.clone() }
    }

    /// Whether neither of you answered anything this week.
    pub fn is_quiet(&self) -> bool {
        self.pillars_touched.is_empty() && self.shared == 0 && self.actions_taken == 0
    }

    /// The reflection's words, as (heading, text) in the order they are shown.
    /// `names` are the partners' names (only ever next to their own words) and
    /// `quote` sets a partner's words apart safely.
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
        // Appreciations first: what each checked in to say, then answers that
        // meant something to the one who read them.
        let mut thanks: Vec<String> = self
            .appreciated
            .iter()
            .map(|w| format!("**{}** appreciated:\n{}", names[w.writer.index()], quote(&w.text)))
            .collect();
        thanks.extend(
            self.appreciations.iter().map(|a| format!("**{}** wrote:\n{}", names[a.writer.index()], quote(&a.text))),
        );
        if !thanks.is_empty() {
            out.push(("Appreciations", thanks.join("\n\n")));
        }
        out.push(("What went right", self.went_right()));
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
        if self.kept > 0 {
            numbers.push(format!("{} kept, and noticed", plural(self.kept, "commitment", "commitments")));
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
        if !self.cared_for.is_empty() {
            let asks: Vec<String> = self
                .cared_for
                .iter()
                .map(|w| format!("**What would help {} feel cared for**\n{}", names[w.writer.index()], quote(&w.text)))
                .collect();
            out.push(("One thing I can do for you", asks.join("\n\n")));
        }
        out
    }

    /// What went right, in words: what you shared, the steps you took, what was
    /// kept, the hard moments you met together. A quiet week is a rest.
    fn went_right(&self) -> String {
        let mut right = Vec::new();
        if self.shared > 0 {
            right.push("You made room for each other this week: you wrote, and you let each other's words in.");
        }
        if self.actions_taken > 0 {
            right.push("You took small steps toward each other. Small steps are how trust comes back.");
        }
        if self.kept > 0 {
            right.push("What was promised was done, and it was noticed.");
        }
        if right.is_empty() {
            right.push(if self.is_quiet() {
                "A quiet week, and that's all right. Rest is part of rebuilding too. Showing up at all counts, and I'm here whenever you're ready."
            } else {
                "You kept showing up this week, and that counts."
            });
        }
        if self.met_together > 0 {
            right.push("When a moment was hard, you met it together.");
        }
        right.join(" ")
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

    fn headings(sections: &[(&'static str, String)]) -> Vec<&'static str> {
        sections.iter().map(|(h, _)| *h).collect()
    }

    /// The sections holding a partner's own words, under their name.
    const WORDS: [&str; 2] = ["Appreciations", "One thing I can do for you"];

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
            assert!(!all.contains(name), "no name without their own words: {all}");
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
        let mut r = Reflection::build(&library, &week);
        r.kept = 2;
        r.add_check_ins(&[CheckIn::new(Slot::A, Some("The note in my coat"), Some("A walk, just us"))]);
        assert_eq!(
            r.appreciations,
            [Appreciation {
                writer: Slot::B,
                prompt_id: "b.0".into(),
                text: "When you made tea without asking".into()
            }]
        );
        let sections = text(&library, &r);
        assert_eq!(sections[0].0, "Appreciations", "appreciations come first");
        assert!(sections[0].1.contains("**Alex** appreciated:\n> The note in my coat"), "{}", sections[0].1);
        assert!(sections[0].1.contains("**Sam** wrote:\n> When you made tea"), "{}", sections[0].1);
        for (heading, value) in sections.iter().filter(|(h, _)| !WORDS.contains(h)) {
            assert!(NAMES.iter().all(|n| !value.contains(n)), "{heading}: {value}");
        }
        for line in sections.iter().flat_map(|(_, v)| v.lines()) {
            if NAMES.iter().any(|n| line.contains(n)) {
                assert!(!line.chars().any(|c| c.is_ascii_digit()), "a name next to a count: {line}");
            }
        }
    }

    #[test]
    fn the_state_of_the_union_comes_in_its_order() {
        let library = library();
        let mut week = lopsided(&library, Slot::B);
        week[0].meaningful = vec![(Slot::A, "Your laugh at dinner".into())];
        let mut r = Reflection::build(&library, &week);
        r.kept = 1;
        r.met_together = 1;
        r.add_check_ins(&[
            CheckIn::new(Slot::B, Some("You listened"), Some("Ask how my day went")),
            CheckIn::new(Slot::A, Some("The flowers"), Some("Ten minutes, phones away")),
        ]);
        let sections = text(&library, &r);
        assert_eq!(
            headings(&sections),
            [
                "Appreciations",
                "What went right",
                "The week in numbers",
                "Waiting for another week",
                "One thing to talk through",
                "One thing I can do for you",
            ]
        );
        // Check-in appreciations first, each under its writer's name, in the
        // partners' order; then the answers that mattered.
        let thanks = &sections[0].1;
        let order = ["**Alex** appreciated:\n> The flowers", "**Sam** appreciated:\n> You listened", "**Alex** wrote:"];
        let at: Vec<usize> =
            order.iter().map(|s| thanks.find(s).unwrap_or_else(|| panic!("{s} in {thanks}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{thanks}");
        // What went right: together, the small steps, what was kept, the hard moment met.
        let right = &sections[1].1;
        for words in ["let each other's words in", "small steps", "promised was done", "met it together"] {
            assert!(right.contains(words), "{words:?} in {right}");
        }
        assert!(sections[2].1.contains("1 commitment kept, and noticed"), "{}", sections[2].1);
        // Speaker and listener, then swap.
        let talk = &sections[4].1;
        assert!(talk.contains("\"I feel… about… I need…\"") && talk.contains("without defending"), "{talk}");
        assert!(talk.contains("Then swap"), "{talk}");
        // Each one's "one thing I can do for you", under their own name.
        let care = &sections[5].1;
        assert!(care.contains("**What would help Alex feel cared for**\n> Ten minutes, phones away"), "{care}");
        assert!(care.contains("**What would help Sam feel cared for**\n> Ask how my day went"), "{care}");
        assert!(care.find("Alex").unwrap() < care.find("Sam").unwrap());
    }

    #[test]
    fn a_partner_who_did_not_check_in_is_never_named() {
        let library = library();
        let week = lopsided(&library, Slot::A);
        for (writer, other) in [(Slot::A, "Sam"), (Slot::B, "Alex")] {
            let mut r = Reflection::build(&library, &week);
            r.add_check_ins(&[CheckIn::new(writer, Some("the morning coffee"), Some("a slow Sunday"))]);
            let all: String = text(&library, &r).iter().map(|(h, v)| format!("{h}\n{v}\n")).collect();
            assert!(!all.contains(other), "{other} is not named: {all}");
            for word in ["check in", "checked in", "didn't", "did not", "missing", "waiting for you"] {
                assert!(!all.contains(word), "`{word}` in {all}");
            }
            assert_eq!(r.appreciated.len(), 1);
            assert_eq!(r.cared_for.len(), 1);
        }
        // Blank answers are no answers: nothing to show, no empty heading.
        let mut r = Reflection::build(&library, &week);
        r.add_check_ins(&[CheckIn::new(Slot::A, Some("  "), None)]);
        let sections = text(&library, &r);
        assert!(headings(&sections).iter().all(|h| !WORDS.contains(h)), "{sections:?}");
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

    #[test]
    fn a_week_in_the_picture_holds_what_was_done_together() {
        let library = library();
        let mut r = Reflection::build(&library, &lopsided(&library, Slot::A));
        r.kept = 3;
        let week = r.as_week(100);
        assert_eq!((week.start, week.together, week.kept), (100, 1, 3));
        assert_eq!(week.pillars, r.pillars_touched, "touched pillars only: nothing missed is charted");
        assert_eq!(week, Reflection::build(&library, &lopsided(&library, Slot::B)).tap_kept(3).as_week(100));
    }

    impl Reflection {
        fn tap_kept(mut self, kept: usize) -> Self {
            self.kept = kept;
            self
        }
    }
}
