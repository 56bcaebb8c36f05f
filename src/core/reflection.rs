//! The weekly reflection as data, shaped like a weekly "State of the Union":
//! appreciations first, what went right, the week in numbers without shame, one
//! topic to talk through. Never a streak to break.

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

/// An answer one partner marked as meaningful to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appreciation {
    /// Who wrote it (the other partner marked it).
    pub writer: Slot,
    pub prompt_id: String,
    pub text: String,
}

/// A reflection on one week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reflection {
    pub appreciations: Vec<Appreciation>,
    pub prompts: usize,
    /// Prompts each partner answered.
    pub answered: [usize; 2],
    /// Prompts both answered and saw together.
    pub both_answered: usize,
    /// Small actions each partner did.
    pub actions_done: [usize; 2],
    pub pillars_touched: Vec<String>,
    pub pillars_missed: Vec<String>,
    /// One pillar to talk through, with a short guide.
    pub topic: Option<Topic>,
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
            answered: [0, 0],
            both_answered: 0,
            actions_done: [0, 0],
            pillars_touched: Vec::new(),
            pillars_missed: Vec::new(),
            topic: None,
        };
        let mut touched = BTreeSet::new();
        for item in items {
            for slot in Slot::BOTH {
                let i = slot.index();
                r.answered[i] += usize::from(item.answered[i]);
                r.actions_done[i] += usize::from(item.done[i] == Some(true));
            }
            if item.answered == [true, true] {
                r.both_answered += 1;
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
}
