-- Commitments: small, concrete things the partner rebuilding trust says they
-- will do, once (`spec` NULL) or on a schedule in the couple's timezone. The
-- text, and any note on revising or retiring one, is sealed to its row. The
-- partner it was made to is asked privately, after each occurrence, whether it
-- happened (`next_ask_at`: when next to ask; NULL once nothing is left to ask).
CREATE TABLE commitments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    couple_id     INTEGER NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    slot          INTEGER NOT NULL CHECK (slot IN (0, 1)),
    body          BLOB NOT NULL,
    spec          TEXT,
    created_at    INTEGER NOT NULL,
    revised_at    INTEGER,
    note          BLOB,
    retired_at    INTEGER,
    matters_at    INTEGER,
    next_occurrence INTEGER,
    next_ask_at   INTEGER
);
CREATE INDEX commitments_couple ON commitments (couple_id, created_at);
CREATE INDEX commitments_due ON commitments (next_ask_at) WHERE next_ask_at IS NOT NULL;

-- Each time the partner was asked "Did this happen?", at most once per
-- occurrence. `kept` is 1 only for "Yes, I noticed": what else they answered
-- stays with them (`answer`), never posted, counted or charted.
CREATE TABLE commitment_checks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    commitment_id  INTEGER NOT NULL REFERENCES commitments (id) ON DELETE CASCADE,
    couple_id      INTEGER NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    occurrence     INTEGER NOT NULL,
    asked_at       INTEGER NOT NULL,
    answer         TEXT CHECK (answer IN ('kept', 'not_this_time', 'not_sure')),
    answered_at    INTEGER,
    UNIQUE (commitment_id, occurrence)
);
CREATE INDEX commitment_checks_couple ON commitment_checks (couple_id, answered_at);
