-- Space belongs to whoever asked for it: one bit per partner (1: slot 0, 2: slot 1),
-- meaningful while the couple's pause lasts. Only a holder (or the pause's end)
-- lifts it.
ALTER TABLE couples ADD COLUMN space_by INTEGER NOT NULL DEFAULT 0 CHECK (space_by BETWEEN 0 AND 3);
