-- Token signing keys (package signkey rotates them).
-- Times are BIGINT microseconds since the Unix epoch (UTC).

-- +goose Up
-- The private key is sealed (private_key_id names the sealing key); the public
-- key is SubjectPublicKeyInfo DER in the clear.
CREATE TABLE signing_keys (
    id             TEXT   PRIMARY KEY,
    algorithm      TEXT   NOT NULL,
    private_key_id TEXT   NOT NULL,
    private_sealed BYTEA  NOT NULL,
    public_key     BYTEA  NOT NULL,
    created_at     BIGINT NOT NULL,
    activate_at    BIGINT NOT NULL,
    retire_at      BIGINT NOT NULL,
    delete_after   BIGINT NOT NULL
);
CREATE INDEX signing_keys_activate ON signing_keys (activate_at);

-- The one row every rotation locks, so that nodes rotating at the same time
-- take turns and each sees the keys the one before it added.
CREATE TABLE signing_key_head (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO signing_key_head (id) VALUES (1);

-- +goose Down
SELECT 1;
