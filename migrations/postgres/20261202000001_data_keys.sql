-- Each partner's texts are sealed under a data key of their own. The keys
-- live in the keystore (MEND_KEYSTORE), a store apart from this database and
-- its backups, each sealed under the host key; `/forget` and `/couple end`
-- destroy them there, so no copy of this database can be read for those
-- texts afterwards. This database only names which key is whose.
ALTER TABLE partners ADD COLUMN key_id BIGINT;

-- The keystore this database's texts are sealed with (its random id), and
-- whether every text written before data keys has been resealed under one.
CREATE TABLE keystore_link (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    keystore TEXT NOT NULL,
    upgraded BIGINT NOT NULL DEFAULT 0 CHECK (upgraded IN (0, 1))
);

-- Keys whose texts are deleted and that are yet to be destroyed in the
-- keystore: written in the forgetting's own transaction, so a crash before the
-- keystore hears of it still destroys them (at the next start).
CREATE TABLE keys_to_destroy (
    key_id BIGINT PRIMARY KEY
);
