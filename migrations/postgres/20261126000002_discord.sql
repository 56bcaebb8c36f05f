-- Where each couple lives on Discord, pairing requests, prompt messages and nudges.
-- Discord ids (u64 snowflakes) are kept as decimal text.

CREATE TABLE discord_couples (
    couple_id  BIGINT PRIMARY KEY REFERENCES couples (id) ON DELETE CASCADE,
    -- NULL for a couple that meets mend only in direct messages.
    guild_id   TEXT,
    channel_id TEXT
);

CREATE UNIQUE INDEX discord_couples_channel ON discord_couples (channel_id) WHERE channel_id IS NOT NULL;

-- An invitation to pair, waiting for the partner's consent (a button in a server,
-- a one-time code in DMs). Nothing else exists until it is accepted.
CREATE TABLE pairings (
    id           BIGINT  PRIMARY KEY,
    initiator    TEXT    NOT NULL,
    partner      TEXT,
    guild_id     TEXT,
    code         TEXT UNIQUE,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired'))
);

-- The messages a delivery was posted as: one in the couple's channel, or one per
-- partner in their DMs (slot set).
CREATE TABLE delivery_messages (
    delivery_id BIGINT  NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    slot        BIGINT  NOT NULL CHECK (slot IN (-1, 0, 1)),
    channel_id  TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    PRIMARY KEY (delivery_id, slot)
);

-- One gentle nudge per partner per delivery, at most.
CREATE TABLE nudges (
    delivery_id BIGINT  NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    slot        BIGINT  NOT NULL CHECK (slot IN (0, 1)),
    sent_at     BIGINT  NOT NULL,
    via         TEXT    NOT NULL CHECK (via IN ('dm', 'channel')),
    PRIMARY KEY (delivery_id, slot)
);
