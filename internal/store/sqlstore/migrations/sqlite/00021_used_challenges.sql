-- +goose Up
-- The app's challenges are self-contained (package device): issuing one
-- writes nothing. Answering one records its digest here, in the transaction
-- that decides the answer; the primary key refuses a second use. Rows stay
-- until the challenge expired (expires_at, microseconds since the Unix
-- epoch, UTC) and are then removed with the expired one-time values.
CREATE TABLE used_challenges (
    digest     BLOB  PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX used_challenges_expires ON used_challenges (expires_at);

-- +goose Down
SELECT 1;
