-- A hard moment a partner met with `/hard-moment`: when, whether they let their
-- partner know (and when the partner answered "I'm here"), and an optional note
-- just for them, sealed to its row. Never counted against anyone.
CREATE TABLE hard_moments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    couple_id   INTEGER NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    slot        INTEGER NOT NULL CHECK (slot IN (0, 1)),
    created_at  INTEGER NOT NULL,
    shared_at   INTEGER,
    met_at      INTEGER,
    note        BLOB
);
CREATE INDEX hard_moments_couple ON hard_moments (couple_id, created_at);
