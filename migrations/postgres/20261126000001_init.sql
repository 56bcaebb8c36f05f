-- mend's schema on PostgreSQL: the same tables, columns, keys and indexes as
-- migrations/sqlite/ at every version (tests/engine/schema_drift.rs checks it).
-- Every integer is BIGINT, 0/1 flags included, so the same SQL serves both
-- stores. Instants are BIGINT seconds since the Unix epoch (UTC); the clock is
-- always passed in, never read in SQL.

CREATE TABLE couples (
    id               BIGINT  PRIMARY KEY,
    created_at       BIGINT  NOT NULL,
    tz               TEXT    NOT NULL,
    phase            TEXT    NOT NULL CHECK (phase IN ('atone', 'attune', 'attach')),
    phase_changed_at BIGINT  NOT NULL,
    -- Set while paused: the instant prompts resume, or NULL until /resume.
    paused           BIGINT  NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_until     BIGINT,
    ended_at         BIGINT
);

CREATE TABLE partners (
    couple_id  BIGINT  NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    slot       BIGINT  NOT NULL CHECK (slot IN (0, 1)),
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('hurt', 'repairing', 'drifted', 'unsaid')),
    -- Where this partner lives outside mend (a Discord user id), if anywhere.
    external_id TEXT,
    PRIMARY KEY (couple_id, slot)
);

CREATE UNIQUE INDEX partners_external ON partners (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE schedules (
    couple_id    BIGINT  NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('prompt', 'reflection')),
    spec         TEXT    NOT NULL,
    tz           TEXT    NOT NULL,
    -- NULL while the schedule is paused or can never fire again.
    next_fire_at BIGINT,
    PRIMARY KEY (couple_id, kind)
);

-- Claiming reads only what is due: its cost follows what is due, not the number of couples.
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;

-- The outbox: one row per (couple, scheduled occurrence), inserted in the same
-- transaction that advances the schedule.
CREATE TABLE deliveries (
    id         BIGINT  PRIMARY KEY,
    couple_id  BIGINT  NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    occurrence BIGINT  NOT NULL,
    claimed_at BIGINT  NOT NULL,
    -- pending: claimed, not yet sent; sent: reached the couple; missed: too late to send.
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'missed')),
    pillar     TEXT,
    kind       TEXT CHECK (kind IN ('shared', 'journal', 'action')),
    prompt_a   TEXT,
    prompt_b   TEXT,
    -- The couple's repair phase when the prompt was chosen.
    phase      TEXT CHECK (phase IN ('atone', 'attune', 'attach')),
    sent_at    BIGINT,
    -- Where the prompt was posted (a Discord message id), once known.
    message_ref TEXT,
    revealed_at BIGINT,
    UNIQUE (couple_id, occurrence)
);

CREATE INDEX deliveries_pending ON deliveries (claimed_at) WHERE status = 'pending';

-- What each partner did with a delivery.
CREATE TABLE responses (
    delivery_id BIGINT  NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    slot        BIGINT  NOT NULL CHECK (slot IN (0, 1)),
    status      TEXT    NOT NULL CHECK (status IN ('answered', 'skipped', 'space')),
    body        BYTEA, -- sealed bytes (SQLite's column is declared TEXT but has always held them)
    -- For action prompts: 1 done, 0 not today.
    done        BIGINT CHECK (done IN (0, 1)),
    answered_at BIGINT  NOT NULL,
    edited_at   BIGINT,
    -- Set by the other partner, after the reveal.
    meaningful_at BIGINT,
    PRIMARY KEY (delivery_id, slot)
);

CREATE TABLE reflections (
    id          BIGINT  PRIMARY KEY,
    couple_id   BIGINT  NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    occurrence  BIGINT  NOT NULL,
    week_start  BIGINT  NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'missed')),
    sent_at     BIGINT,
    message_ref TEXT,
    UNIQUE (couple_id, occurrence)
);

CREATE INDEX reflections_pending ON reflections (occurrence) WHERE status = 'pending';
