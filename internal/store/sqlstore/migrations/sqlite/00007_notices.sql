-- Approvals gain the state "withdrawn" (a newer request of the same person and
-- action replaced a pending one); notices get their durable queue.
-- Times are INTEGER microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
-- SQLite cannot change a CHECK constraint in place: rebuild the table (nothing
-- references approvals).
CREATE TABLE approvals_new (
    id           TEXT    PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    action       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    content_hash BLOB    NOT NULL,
    level        TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'expired', 'withdrawn')),
    not_me       INTEGER NOT NULL DEFAULT 0,
    device_id    TEXT    NOT NULL DEFAULT '',
    method       TEXT    NOT NULL DEFAULT '',
    number       INTEGER NOT NULL DEFAULT 0,
    choices      TEXT    NOT NULL DEFAULT '',
    client       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    answered_at  INTEGER NOT NULL DEFAULT 0,
    used_at      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO approvals_new SELECT id, person_id, action, text, data, content_hash, level, status, not_me, device_id,
    method, number, choices, client, created_at, expires_at, answered_at, used_at FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_new RENAME TO approvals;
CREATE INDEX approvals_person ON approvals (person_id, action, created_at);
CREATE INDEX approvals_pending ON approvals (status, expires_at);

-- merge_key is unique: a repeated notice of one kind, person, recipient and
-- day adds to count instead of sending a second letter.
CREATE TABLE notices (
    id              TEXT    PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES persons (id),
    kind            TEXT    NOT NULL,
    merge_key       TEXT    NOT NULL UNIQUE,
    details_key_id  TEXT    NOT NULL,
    details         BLOB    NOT NULL,
    count           INTEGER NOT NULL DEFAULT 1,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_due ON notices (status, next_attempt_at);
CREATE INDEX notices_person ON notices (person_id, created_at);

-- +goose Down
SELECT 1;
