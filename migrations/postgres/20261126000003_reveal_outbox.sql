-- A reveal is decided in the answer's transaction and posted after it; this marks
-- it posted, so one interrupted by a crash is posted on the next scheduler step.
ALTER TABLE deliveries ADD COLUMN reveal_posted_at BIGINT;

CREATE INDEX deliveries_unposted_reveals ON deliveries (revealed_at)
    WHERE revealed_at IS NOT NULL AND reveal_posted_at IS NULL;
