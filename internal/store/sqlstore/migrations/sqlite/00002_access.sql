-- Access: accounts with passwords, sessions, letters, identification records.
-- Times are INTEGER microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE accounts (
    person_id           INTEGER PRIMARY KEY REFERENCES persons (id),
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_initial    INTEGER NOT NULL DEFAULT 0,
    password_expires_at INTEGER NOT NULL DEFAULT 0,
    password_changed_at INTEGER NOT NULL DEFAULT 0,
    version             INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash           BLOB    PRIMARY KEY,
    person_id            INTEGER NOT NULL REFERENCES persons (id),
    kind                 TEXT    NOT NULL,
    level                TEXT    NOT NULL,
    amr                  TEXT    NOT NULL DEFAULT '',
    must_change_password INTEGER NOT NULL DEFAULT 0,
    client_ip            TEXT    NOT NULL DEFAULT '',
    user_agent           TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    last_seen_at         INTEGER NOT NULL,
    idle_expires_at      INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE letters (
    id              TEXT    PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons (id),
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    secrets_key_id  TEXT    NOT NULL DEFAULT '',
    secrets_sealed  BLOB,
    batch_id        TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX letters_person ON letters (person_id, created_at);
CREATE INDEX letters_status ON letters (status, created_at);

CREATE TABLE identifications (
    id                 TEXT    PRIMARY KEY,
    person_id          INTEGER NOT NULL REFERENCES persons (id),
    method             TEXT    NOT NULL,
    level              TEXT    NOT NULL,
    partner            TEXT    NOT NULL,
    partner_txn        TEXT    NOT NULL,
    subject_link       TEXT    NOT NULL,
    matched_hash       BLOB    NOT NULL,
    at                 INTEGER NOT NULL
);
CREATE INDEX identifications_person ON identifications (person_id, at);

-- +goose StatementBegin
CREATE TRIGGER identifications_immutable_update BEFORE UPDATE ON identifications
BEGIN
    SELECT RAISE(ABORT, 'identification records are immutable');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER identifications_immutable_delete BEFORE DELETE ON identifications
BEGIN
    SELECT RAISE(ABORT, 'identification records are immutable');
END;
-- +goose StatementEnd

-- +goose Down
SELECT 1;
