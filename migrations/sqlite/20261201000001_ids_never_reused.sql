-- no-transaction
-- Ids are never reused: without AUTOINCREMENT SQLite hands out max(id) + 1, so
-- after `/couple end` deletes the newest couple a new couple (and its deliveries)
-- would take the old ids, and an old button `mend:answer:42` or a Discord nonce
-- made from an id would point at someone else's row.
--
-- A column cannot become AUTOINCREMENT in place, so each table is rebuilt by
-- SQLite's twelve-step procedure (https://www.sqlite.org/lang_altertable.html):
-- foreign keys off, because dropping a table with them on deletes its children
-- through ON DELETE CASCADE; the pragma is a no-op inside a transaction, hence
-- the first line, which tells sqlx to run this file outside one. The rows keep
-- their ids (answers are sealed to their delivery id), and copying them into an
-- AUTOINCREMENT table sets sqlite_sequence to the highest, so new ids go on
-- from there. The new table is renamed to the old name, never the old table
-- away: renaming it would rewrite the children's REFERENCES to follow it.

PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE couples_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at       INTEGER NOT NULL,
    tz               TEXT    NOT NULL,
    phase            TEXT    NOT NULL CHECK (phase IN ('atone', 'attune', 'attach')),
    phase_changed_at INTEGER NOT NULL,
    -- Set while paused: the instant prompts resume, or NULL until /resume.
    paused           INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_until     INTEGER,
    ended_at         INTEGER
);

INSERT INTO couples_new (id, created_at, tz, phase, phase_changed_at, paused, paused_until, ended_at)
    SELECT id, created_at, tz, phase, phase_changed_at, paused, paused_until, ended_at FROM couples;

DROP TABLE couples;
ALTER TABLE couples_new RENAME TO couples;

-- The outbox: one row per (couple, scheduled occurrence), inserted in the same
-- transaction that advances the schedule.
CREATE TABLE deliveries_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    couple_id  INTEGER NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    occurrence INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL,
    -- pending: claimed, not yet sent; sent: reached the couple; missed: too late to send.
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'missed')),
    pillar     TEXT,
    kind       TEXT CHECK (kind IN ('shared', 'journal', 'action')),
    prompt_a   TEXT,
    prompt_b   TEXT,
    -- The couple's repair phase when the prompt was chosen.
    phase      TEXT CHECK (phase IN ('atone', 'attune', 'attach')),
    sent_at    INTEGER,
    -- Where the prompt was posted (a Discord message id), once known.
    message_ref TEXT,
    revealed_at INTEGER,
    reveal_posted_at INTEGER,
    UNIQUE (couple_id, occurrence)
);

INSERT INTO deliveries_new (id, couple_id, occurrence, claimed_at, status, pillar, kind, prompt_a, prompt_b,
        phase, sent_at, message_ref, revealed_at, reveal_posted_at)
    SELECT id, couple_id, occurrence, claimed_at, status, pillar, kind, prompt_a, prompt_b,
        phase, sent_at, message_ref, revealed_at, reveal_posted_at FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;

CREATE INDEX deliveries_pending ON deliveries (claimed_at) WHERE status = 'pending';

CREATE INDEX deliveries_unposted_reveals ON deliveries (revealed_at)
    WHERE revealed_at IS NOT NULL AND reveal_posted_at IS NULL;

CREATE TABLE reflections_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    couple_id   INTEGER NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    occurrence  INTEGER NOT NULL,
    week_start  INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'missed')),
    sent_at     INTEGER,
    message_ref TEXT,
    UNIQUE (couple_id, occurrence)
);

INSERT INTO reflections_new (id, couple_id, occurrence, week_start, status, sent_at, message_ref)
    SELECT id, couple_id, occurrence, week_start, status, sent_at, message_ref FROM reflections;

DROP TABLE reflections;
ALTER TABLE reflections_new RENAME TO reflections;

CREATE INDEX reflections_pending ON reflections (occurrence) WHERE status = 'pending';

-- An invitation to pair, waiting for the partner's consent (a button in a server,
-- a one-time code in DMs). Nothing else exists until it is accepted.
CREATE TABLE pairings_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    initiator    TEXT    NOT NULL,
    partner      TEXT,
    guild_id     TEXT,
    code         TEXT UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired'))
);

INSERT INTO pairings_new (id, initiator, partner, guild_id, code, created_at, expires_at, status)
    SELECT id, initiator, partner, guild_id, code, created_at, expires_at, status FROM pairings;

DROP TABLE pairings;
ALTER TABLE pairings_new RENAME TO pairings;

-- `PRAGMA foreign_key_check` only lists violations; counting them into a CHECK
-- makes one fail the migration, which then commits nothing.
CREATE TEMP TABLE ids_never_reused_check (violations INTEGER NOT NULL CHECK (violations = 0));
INSERT INTO ids_never_reused_check (violations) SELECT count(*) FROM pragma_foreign_key_check;
DROP TABLE ids_never_reused_check;

COMMIT;

PRAGMA foreign_keys = ON;
