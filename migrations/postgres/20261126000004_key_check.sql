-- A value sealed with the encryption key when the database is first opened, so a
-- different key is refused at start-up instead of failing on the first answer.
-- Its one row is always written with id 1: an id never generated, so no identity.
CREATE TABLE key_check (
    id     BIGINT  PRIMARY KEY CHECK (id = 1),
    sealed BYTEA   NOT NULL
);
