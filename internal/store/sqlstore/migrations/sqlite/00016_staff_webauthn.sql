-- Security keys and passkeys (WebAuthn) as a staff member's second factor, and
-- the WebAuthn challenges between a ceremony's two steps (server-side, so that
-- any node can finish what another began; single-use, short-lived), and the
-- external id of staff members who sign in through the insurer's corporate
-- OpenID provider ("issuer subject"; '' for staff with a password).
-- Times are INTEGER microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
ALTER TABLE staff ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX staff_external_id ON staff (external_id) WHERE external_id <> '';

CREATE TABLE staff_keys (
    id           BLOB    PRIMARY KEY,
    staff_id     INTEGER NOT NULL REFERENCES staff (id),
    name         TEXT    NOT NULL,
    credential   BLOB    NOT NULL,
    sign_count   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX staff_keys_staff ON staff_keys (staff_id, created_at);

CREATE TABLE staff_challenges (
    handle_hash BLOB    PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff (id),
    kind        TEXT    NOT NULL,
    data        BLOB    NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX staff_challenges_expiry ON staff_challenges (expires_at);

-- +goose Down
SELECT 1;
