-- The timezone given when the pairing was started: the couple's from the first day.
ALTER TABLE pairings ADD COLUMN tz TEXT;
