-- One outbox for everything mend posts: prompts, reveals, nudges, reflections
-- and notices. A row is inserted in the transaction that makes it due; a worker
-- leases it, posts it, and records the outcome; a failure is retried with
-- backoff until the item's deadline, and never holds up another row.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL only for a notice to people whose couple no longer exists.
    couple_id       INTEGER REFERENCES couples (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('prompt', 'reveal', 'nudge', 'reflection', 'notice')),
    delivery_id     INTEGER REFERENCES deliveries (id) ON DELETE CASCADE,
    reflection_id   INTEGER REFERENCES reflections (id) ON DELETE CASCADE,
    -- A nudge: the partner it is for.
    slot            INTEGER CHECK (slot IN (0, 1)),
    -- A notice: what to say and to whom (JSON, mend's own facts, never a partner's words).
    payload         TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'dropped', 'failed')),
    -- How many times a worker has taken it, and how many of those failed (the
    -- backoff follows failures, not takes a crash interrupted).
    attempts        INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- Past this instant a failing item is given up.
    deadline        INTEGER NOT NULL,
    -- Who is posting it, and until when; another worker may take it after.
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    done_at         INTEGER,
    last_error      TEXT
);

-- What is due: the only rows a worker's claim reads.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
-- Items another worker holds: when their leases end, they may be taken again.
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE status = 'pending' AND lease_until IS NOT NULL;
-- Each prompt, reveal, nudge and reflection is posted by one item only.
CREATE UNIQUE INDEX outbox_once ON outbox (kind, COALESCE(delivery_id, 0), COALESCE(reflection_id, 0), COALESCE(slot, -1))
    WHERE kind <> 'notice';
-- Deleting a couple (or a delivery) finds its items without a scan.
CREATE INDEX outbox_couple ON outbox (couple_id);
CREATE INDEX outbox_delivery ON outbox (delivery_id);
CREATE INDEX outbox_reflection ON outbox (reflection_id);

-- The messages an item was posted as, one per part (the channel post, each
-- partner's DM, a reveal's thread and its messages), recorded as each is
-- posted: a retry never posts again what already reached someone.
CREATE TABLE outbox_parts (
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    part       TEXT    NOT NULL,
    channel_id TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, part)
) WITHOUT ROWID;

-- What was waiting when this migration ran keeps waiting, now in the outbox.
INSERT INTO outbox (couple_id, kind, delivery_id, status, attempts, next_attempt_at, deadline, created_at)
    SELECT couple_id, 'prompt', id, 'pending', CASE WHEN pillar IS NULL THEN 0 ELSE 1 END,
           claimed_at, occurrence + 21600, claimed_at
    FROM deliveries WHERE status = 'pending';

INSERT INTO outbox (couple_id, kind, delivery_id, status, next_attempt_at, deadline, created_at)
    SELECT couple_id, 'reveal', id, 'pending', revealed_at, revealed_at + 604800, revealed_at
    FROM deliveries WHERE revealed_at IS NOT NULL AND reveal_posted_at IS NULL;

INSERT INTO outbox (couple_id, kind, reflection_id, status, next_attempt_at, deadline, created_at)
    SELECT couple_id, 'reflection', id, 'pending', occurrence, occurrence + 21600, occurrence
    FROM reflections WHERE status = 'pending';

-- Reveals waiting to be posted are outbox items now.
DROP INDEX deliveries_unposted_reveals;

-- The direct-message channel of each user mend writes to, so a DM does not cost
-- a channel lookup each time (Discord limits those, and asks bots to reuse them).
CREATE TABLE dm_channels (
    user_id    TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL
) WITHOUT ROWID;
