-- Token signing keys (package signkey rotates them).
-- Times are INTEGER microseconds since the Unix epoch (UTC).

-- +goose Up
-- The private key is sealed (private_key_id names the sealing key); the public
-- key is SubjectPublicKeyInfo DER in the clear.
CREATE TABLE signing_keys (
    id             TEXT    PRIMARY KEY,
    algorithm      TEXT    NOT NULL,
    private_key_id TEXT    NOT NULL,
    private_sealed BLOB    NOT NULL,
    public_key     BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    activate_at    INTEGER NOT NULL,
    retire_at      INTEGER NOT NULL,
    delete_after   INTEGER NOT NULL
);
CREATE INDEX signing_keys_activate ON signing_keys (activate_at);

-- The one row every rotation locks. SQLite's IMMEDIATE transactions already
-- serialise rotations; the row keeps the SQL the same on both engines.
CREATE TABLE signing_key_head (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO signing_key_head (id) VALUES (1);

-- +goose Down
SELECT 1;
