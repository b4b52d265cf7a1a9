-- The back office: staff accounts with their second factor, their sessions (a
-- table apart from the insured persons' sessions), acts waiting for a second
-- staff member (four-eyes rule), and the indexes the back office searches by.
-- Times are INTEGER microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    login          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    totp_key_id    TEXT    NOT NULL,
    totp_secret    BLOB    NOT NULL,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER NOT NULL DEFAULT 0,
    disabled_at    INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash      BLOB    PRIMARY KEY,
    staff_id        INTEGER NOT NULL REFERENCES staff (id),
    client_ip       TEXT    NOT NULL,
    user_agent      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);

CREATE TABLE staff_requests (
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    target       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES staff (id),
    decided_by   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX staff_requests_pending ON staff_requests (status, person_id, created_at);

CREATE INDEX persons_birth_date ON persons (birth_date);
CREATE INDEX audit_entries_actor ON audit_entries (actor, seq);
CREATE INDEX audit_entries_subject ON audit_entries (subject, seq);
CREATE INDEX audit_entries_event ON audit_entries (event, seq);
CREATE INDEX audit_entries_at ON audit_entries (at);

-- +goose Down
SELECT 1;
