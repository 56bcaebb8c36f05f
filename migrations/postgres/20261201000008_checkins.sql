-- The weekly check-in: before a reflection is posted, each partner may say,
-- privately, one thing they appreciated about the other this week and one
-- thing that would help them feel cared for next week. Both are optional and
-- sealed to their row; one row per partner per reflection (a second submit
-- replaces the first while the reflection waits). They go with the couple, and
-- with the reflection.
CREATE TABLE checkins (
    reflection_id BIGINT NOT NULL REFERENCES reflections (id) ON DELETE CASCADE,
    couple_id     BIGINT NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    slot          BIGINT NOT NULL CHECK (slot IN (0, 1)),
    appreciation  BYTEA,
    cared_for     BYTEA,
    written_at    BIGINT NOT NULL,
    PRIMARY KEY (reflection_id, slot)
);

-- A partner's own check-ins (their export, `/forget`) without a scan.
CREATE INDEX checkins_partner ON checkins (couple_id, slot);
