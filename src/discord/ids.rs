//! The custom ids of mend's buttons and modals: what a click means, parsed back
//! without trusting it (the handler still checks who clicked).

use crate::core::model::{Phase, Role};

/// What a button or modal stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open the answer modal for a delivery.
    Answer(i64),
    /// The answer modal's submit.
    AnswerSubmit(i64),
    Skip(i64),
    Space(i64),
    /// On a personal day: show this partner their own prompt, privately.
    Mine(i64),
    /// The small action's "Done" form (with its optional note) submitted.
    DoneSubmit(i64),
    /// A hard moment: let the partner know; a note just for me (its form, and
    /// the form submitted); nothing more; the partner's "I'm here".
    HardShare(i64),
    HardNote(i64),
    HardNoteSubmit(i64),
    HardQuiet(i64),
    HardHere(i64),
    /// Action prompts: done / not today.
    Done(i64),
    NotToday(i64),
    /// Mark the partner's revealed answer as meaningful.
    Meaningful(i64),
    /// A pairing invitation, accepted or declined.
    Accept(i64),
    Decline(i64),
    /// Open the private "how do you come to this" question.
    AskRole,
    Role(Role),
    /// Ask to move on, or to slow down: each asks to confirm first.
    PhaseForward,
    PhaseBack,
    /// The confirmation: from the phase the person saw, to its neighbour.
    PhaseTo(Phase, Phase),
    ForgetConfirm,
    EndConfirm,
    /// The private safety check: begin it; answer `a` (0..3) to question `q`
    /// (0..3). The answer lives in the click alone: it is never stored.
    SafetyStart,
    Safety(u8, u8),
    /// Leave quietly: asks first; then confirmed.
    LeaveQuietly,
    LeaveQuietlyConfirm,
    /// A private journal prompt, just for the one who asks.
    Journal,
    /// "Did this happen?" answered: check, answer (0 kept, 1 not this time, 2 not sure).
    Noticed(i64, u8),
    /// A commitment revised or retired by its maker (the form, and the form
    /// submitted); marked "this matters most" by the partner it was made to.
    CommitRevise(i64),
    CommitReviseSubmit(i64),
    CommitRetire(i64),
    CommitRetireSubmit(i64),
    CommitMatters(i64),
    /// The weekly check-in before reflection `r`: open its form; the form submitted.
    CheckIn(i64),
    CheckInSubmit(i64),
}

const PREFIX: &str = "mend";

impl Action {
    pub fn custom_id(self) -> String {
        let (verb, arg) = match self {
            Action::Answer(d) => ("answer", d.to_string()),
            Action::AnswerSubmit(d) => ("submit", d.to_string()),
            Action::Skip(d) => ("skip", d.to_string()),
            Action::Space(d) => ("space", d.to_string()),
            Action::Mine(d) => ("mine", d.to_string()),
            Action::DoneSubmit(d) => ("donesubmit", d.to_string()),
            Action::HardShare(m) => ("hardshare", m.to_string()),
            Action::HardNote(m) => ("hardnote", m.to_string()),
            Action::HardNoteSubmit(m) => ("hardnotesubmit", m.to_string()),
            Action::HardQuiet(m) => ("hardquiet", m.to_string()),
            Action::HardHere(m) => ("hardhere", m.to_string()),
            Action::Done(d) => ("done", d.to_string()),
            Action::NotToday(d) => ("nottoday", d.to_string()),
            Action::Meaningful(d) => ("meaningful", d.to_string()),
            Action::Accept(p) => ("accept", p.to_string()),
            Action::Decline(p) => ("decline", p.to_string()),
            Action::AskRole => ("askrole", String::new()),
            Action::Role(r) => ("role", r.as_str().to_string()),
            Action::PhaseForward => ("phase", "forward".into()),
            Action::PhaseBack => ("phase", "back".into()),
            Action::PhaseTo(from, to) => ("phaseto", format!("{from}-{to}")),
            Action::ForgetConfirm => ("forget", String::new()),
            Action::EndConfirm => ("end", String::new()),
            Action::SafetyStart => ("safetystart", String::new()),
            Action::Safety(q, a) => ("safety", format!("{q}-{a}")),
            Action::LeaveQuietly => ("leave", String::new()),
            Action::LeaveQuietlyConfirm => ("leaveconfirm", String::new()),
            Action::Journal => ("journal", String::new()),
            Action::Noticed(k, a) => ("noticed", format!("{k}-{a}")),
            Action::CommitRevise(m) => ("crevise", m.to_string()),
            Action::CommitReviseSubmit(m) => ("crevisesubmit", m.to_string()),
            Action::CommitRetire(m) => ("cretire", m.to_string()),
            Action::CommitRetireSubmit(m) => ("cretiresubmit", m.to_string()),
            Action::CommitMatters(m) => ("cmatters", m.to_string()),
            Action::CheckIn(r) => ("checkin", r.to_string()),
            Action::CheckInSubmit(r) => ("checkinsubmit", r.to_string()),
        };
        format!("{PREFIX}:{verb}:{arg}")
    }

    /// Parses a custom id; anything not made by mend is `None`.
    pub fn parse(custom_id: &str) -> Option<Action> {
        let mut parts = custom_id.splitn(3, ':');
        if parts.next()? != PREFIX {
            return None;
        }
        let verb = parts.next()?;
        let arg = parts.next()?;
        let id = || canonical_id(arg);
        Some(match verb {
            "answer" => Action::Answer(id()?),
            "submit" => Action::AnswerSubmit(id()?),
            "skip" => Action::Skip(id()?),
            "space" => Action::Space(id()?),
            "mine" => Action::Mine(id()?),
            "donesubmit" => Action::DoneSubmit(id()?),
            "hardshare" => Action::HardShare(id()?),
            "hardnote" => Action::HardNote(id()?),
            "hardnotesubmit" => Action::HardNoteSubmit(id()?),
            "hardquiet" => Action::HardQuiet(id()?),
            "hardhere" => Action::HardHere(id()?),
            "done" => Action::Done(id()?),
            "nottoday" => Action::NotToday(id()?),
            "meaningful" => Action::Meaningful(id()?),
            "accept" => Action::Accept(id()?),
            "decline" => Action::Decline(id()?),
            "askrole" if arg.is_empty() => Action::AskRole,
            "role" => Action::Role(arg.parse().ok()?),
            "phase" if arg == "forward" => Action::PhaseForward,
            "phase" if arg == "back" => Action::PhaseBack,
            "phaseto" => {
                let (from, to) = arg.split_once('-')?;
                Action::PhaseTo(from.parse().ok()?, to.parse().ok()?)
            }
            "forget" if arg.is_empty() => Action::ForgetConfirm,
            "end" if arg.is_empty() => Action::EndConfirm,
            "safetystart" if arg.is_empty() => Action::SafetyStart,
            "safety" => {
                let (q, a) = arg.split_once('-')?;
                let small = |s: &str| matches!(s, "0" | "1" | "2").then(|| s.parse().ok()).flatten();
                Action::Safety(small(q)?, small(a)?)
            }
            "leave" if arg.is_empty() => Action::LeaveQuietly,
            "leaveconfirm" if arg.is_empty() => Action::LeaveQuietlyConfirm,
            "journal" if arg.is_empty() => Action::Journal,
            "noticed" => {
                let (k, a) = arg.split_once('-')?;
                let a = matches!(a, "0" | "1" | "2").then(|| a.parse().ok()).flatten()?;
                Action::Noticed(canonical_id(k)?, a)
            }
            "crevise" => Action::CommitRevise(id()?),
            "crevisesubmit" => Action::CommitReviseSubmit(id()?),
            "cretire" => Action::CommitRetire(id()?),
            "cretiresubmit" => Action::CommitRetireSubmit(id()?),
            "cmatters" => Action::CommitMatters(id()?),
            "checkin" => Action::CheckIn(id()?),
            "checkinsubmit" => Action::CheckInSubmit(id()?),
            _ => return None,
        })
    }
}

/// A row id spelled exactly as `custom_id` writes it, so that one action has one
/// id: `01`, `+1` and ` 1` would all parse as 1 with `str::parse`.
fn canonical_id(arg: &str) -> Option<i64> {
    let mut digits = arg.bytes();
    let canonical = matches!(digits.next(), Some(b'1'..=b'9')) && digits.all(|b| b.is_ascii_digit());
    // A leading 1-9 makes it positive; past i64::MAX, parse fails.
    canonical.then(|| arg.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_action() -> impl Strategy<Value = Action> {
        let id = 1i64..i64::MAX;
        prop_oneof![
            id.clone().prop_map(Action::Answer),
            id.clone().prop_map(Action::AnswerSubmit),
            id.clone().prop_map(Action::Skip),
            id.clone().prop_map(Action::Space),
            id.clone().prop_map(Action::Mine),
            id.clone().prop_map(Action::DoneSubmit),
            id.clone().prop_map(Action::HardShare),
            id.clone().prop_map(Action::HardNote),
            id.clone().prop_map(Action::HardNoteSubmit),
            id.clone().prop_map(Action::HardQuiet),
            id.clone().prop_map(Action::HardHere),
            id.clone().prop_map(Action::Done),
            id.clone().prop_map(Action::NotToday),
            id.clone().prop_map(Action::Meaningful),
            id.clone().prop_map(Action::Accept),
            id.clone().prop_map(Action::Decline),
            Just(Action::AskRole),
            prop::sample::select(Role::ALL.to_vec()).prop_map(Action::Role),
            Just(Action::PhaseForward),
            Just(Action::PhaseBack),
            (prop::sample::select(Phase::ALL.to_vec()), prop::sample::select(Phase::ALL.to_vec()))
                .prop_map(|(a, b)| Action::PhaseTo(a, b)),
            Just(Action::ForgetConfirm),
            Just(Action::EndConfirm),
            Just(Action::SafetyStart),
            (0u8..3, 0u8..3).prop_map(|(q, a)| Action::Safety(q, a)),
            Just(Action::LeaveQuietly),
            Just(Action::LeaveQuietlyConfirm),
            Just(Action::Journal),
            (id.clone(), 0u8..3).prop_map(|(k, a)| Action::Noticed(k, a)),
            id.clone().prop_map(Action::CommitRevise),
            id.clone().prop_map(Action::CommitReviseSubmit),
            id.clone().prop_map(Action::CommitRetire),
            id.clone().prop_map(Action::CommitRetireSubmit),
            id.prop_map(Action::CommitMatters),
            (1i64..i64::MAX).prop_map(Action::CheckIn),
            (1i64..i64::MAX).prop_map(Action::CheckInSubmit),
        ]
    }

    proptest! {
        #[test]
        fn every_action_round_trips_within_discords_limit(a in any_action()) {
            let id = a.custom_id();
            prop_assert!(id.len() <= 100);
            prop_assert_eq!(Action::parse(&id), Some(a));
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,120}") {
            let _ = Action::parse(&s);
        }
    }

    #[test]
    fn foreign_or_malformed_ids_are_refused() {
        for id in [
            "",
            "mend",
            "mend:answer",
            "mend:answer:",
            "mend:answer:-3",
            "mend:answer:0",
            "x:answer:1",
            "mend:role:boss",
            "mend:phase:sideways",
            "mend:answer:1:2",
            "mend:safety:3-0",
            "mend:safety:0-01",
            "mend:safety:0",
            "mend:noticed:1-3",
            "mend:noticed:01-0",
        ] {
            assert_eq!(Action::parse(id), None, "{id}");
        }
    }

    #[test]
    fn only_the_canonical_spelling_of_an_id_is_accepted() {
        assert_eq!(Action::parse("mend:skip:1"), Some(Action::Skip(1)));
        assert_eq!(Action::parse("mend:skip:9223372036854775807"), Some(Action::Skip(i64::MAX)));
        for arg in [
            "01",
            "+1",
            "-1",
            "0",
            "00",
            " 1",
            "1 ",
            "1e3",
            "0x1",
            "1_000",
            "1.0",
            "١",  // Arabic-Indic one
            "1١", // and a one followed by it
            "１", // fullwidth one
            "9223372036854775808",
            "99999999999999999999",
        ] {
            for verb in ["answer", "submit", "skip", "space", "done", "nottoday", "meaningful", "accept", "decline"] {
                let id = format!("mend:{verb}:{arg}");
                assert_eq!(Action::parse(&id), None, "{id:?}");
            }
        }
    }
}
