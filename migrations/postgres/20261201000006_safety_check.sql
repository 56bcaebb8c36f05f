-- A private safety check before any shared prompt. Only whether each partner
-- has yet to take it is kept (`checking_a`, `checking_b`: 1 until they have):
-- never an answer. While either has yet to, prompts wait.
ALTER TABLE couples ADD COLUMN checking_a BIGINT NOT NULL DEFAULT 0 CHECK (checking_a IN (0, 1));
ALTER TABLE couples ADD COLUMN checking_b BIGINT NOT NULL DEFAULT 0 CHECK (checking_b IN (0, 1));
