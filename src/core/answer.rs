//! What a partner writes, checked before it is saved.

/// The longest answer mend keeps; a Discord modal text input allows up to 4000,
/// and the reveal must fit both answers in messages of 2000.
pub const MAX_ANSWER_CHARS: usize = 1000;

/// A partner's answer to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A written answer to a shared or journal prompt.
    Text(String),
    /// An action prompt: done or not today, with an optional note.
    Action { done: bool, note: Option<String> },
}

/// Why an answer could not be taken, worded for its writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("Your answer looks empty. Write a few words, even just one, and send it again.")]
    Empty,
    #[error("Your answer is {0} characters; mend keeps up to {MAX_ANSWER_CHARS}. Could you shorten it a little?")]
    TooLong(usize),
}

/// Characters that take no space: text made only of them is empty to a reader.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl Answer {
    /// Checks a written answer; the text is kept as written apart from the
    /// surrounding blank space.
    pub fn text(raw: &str) -> Result<Answer, AnswerError> {
        Ok(Answer::Text(clean(raw)?.ok_or(AnswerError::Empty)?))
    }

    /// Checks an action answer; the note is optional.
    pub fn action(done: bool, note: Option<&str>) -> Result<Answer, AnswerError> {
        let note = match note {
            Some(n) => clean(n)?,
            None => None,
        };
        Ok(Answer::Action { done, note })
    }

    pub fn body(&self) -> Option<&str> {
        match self {
            Answer::Text(t) => Some(t),
            Answer::Action { note, .. } => note.as_deref(),
        }
    }

    pub fn done(&self) -> Option<bool> {
        match self {
            Answer::Text(_) => None,
            Answer::Action { done, .. } => Some(*done),
        }
    }
}

fn clean(raw: &str) -> Result<Option<String>, AnswerError> {
    let trimmed = raw.trim();
    if trimmed.chars().all(is_invisible) {
        return Ok(None);
    }
    let chars = trimmed.chars().count();
    if chars > MAX_ANSWER_CHARS {
        return Err(AnswerError::TooLong(chars));
    }
    Ok(Some(trimmed.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_invisible_answers_are_refused_kindly() {
        for raw in ["", "   ", "\n\t", "\u{200B}\u{200B}", " \u{FEFF} "] {
            assert_eq!(Answer::text(raw), Err(AnswerError::Empty), "{raw:?}");
        }
    }

    #[test]
    fn over_long_answers_say_how_long() {
        let long = "é".repeat(MAX_ANSWER_CHARS + 1);
        let err = Answer::text(&long).unwrap_err();
        assert_eq!(err, AnswerError::TooLong(MAX_ANSWER_CHARS + 1));
        assert!(err.to_string().contains("1001"));
        assert!(Answer::text(&"é".repeat(MAX_ANSWER_CHARS)).is_ok());
    }

    #[test]
    fn text_is_kept_as_written_inside() {
        assert_eq!(Answer::text("  we walked,\n  and talked  "), Ok(Answer::Text("we walked,\n  and talked".into())));
    }

    #[test]
    fn action_notes_are_optional() {
        assert_eq!(Answer::action(true, Some("  ")), Ok(Answer::Action { done: true, note: None }));
        assert_eq!(Answer::action(false, None).unwrap().done(), Some(false));
    }
}
