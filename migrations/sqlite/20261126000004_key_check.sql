-- A value sealed with the encryption key when the database is first opened, so a
-- different key is refused at start-up instead of failing on the first answer.
CREATE TABLE key_check (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    sealed BLOB    NOT NULL
);
