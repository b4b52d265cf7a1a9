-- A person's e-mail address for notices, and the durable queue of the mails
-- owed to it. Addresses and link tokens are sealed by package email (key id
-- beside each value); the database holds only their SHA-256 in clear, to
-- find a confirmation or unsubscribe link. A mail row carries no address or
-- text: the sender tells both from the person's record when it sends.
-- Times are INTEGERmicroseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE emails (
    person_id          INTEGER PRIMARY KEY REFERENCES persons (id),
    address_key_id     TEXT    NOT NULL DEFAULT '',
    address            BLOB    NOT NULL,
    confirmed_at       INTEGER NOT NULL DEFAULT 0,
    pending_key_id     TEXT    NOT NULL DEFAULT '',
    pending            BLOB    NOT NULL,
    pending_hash       BLOB,
    pending_token_key  TEXT    NOT NULL DEFAULT '',
    pending_token      BLOB    NOT NULL,
    pending_until      INTEGER NOT NULL DEFAULT 0,
    notify             INTEGER NOT NULL DEFAULT 1,
    unsubscribe_hash   BLOB,
    unsubscribe_key_id TEXT    NOT NULL DEFAULT '',
    unsubscribe        BLOB    NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX emails_pending ON emails (pending_hash);
CREATE UNIQUE INDEX emails_unsubscribe ON emails (unsubscribe_hash);

CREATE TABLE mail_queue (
    id              TEXT    PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('message', 'confirm')),
    ref             TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    done_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_attempt_at);
CREATE INDEX mail_queue_person ON mail_queue (person_id, created_at);

-- +goose Down
SELECT 1;
