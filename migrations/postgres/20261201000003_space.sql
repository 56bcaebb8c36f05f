-- What holds a couple's prompts, each on its own: a pause either partner may
-- lift (`pause_hold`: its end), and each partner's space, which only they (or
-- its end) lift (`space_a`, `space_b`: its end). NULL: no such hold; the
-- largest integer: until lifted. `paused`/`paused_until` stay the combined
-- pause the scheduler follows.
ALTER TABLE couples ADD COLUMN pause_hold BIGINT;
ALTER TABLE couples ADD COLUMN space_a BIGINT;
ALTER TABLE couples ADD COLUMN space_b BIGINT;
UPDATE couples SET pause_hold = COALESCE(paused_until, 9223372036854775807) WHERE paused = 1;
