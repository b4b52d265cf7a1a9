-- Approvals (Freigaben) and the outbox for the core insurance system.
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE approvals (
    id           TEXT    PRIMARY KEY,
    person_id    BIGINT  NOT NULL REFERENCES persons (id),
    action       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    data         BYTEA   NOT NULL,
    content_hash BYTEA   NOT NULL,
    level        TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'expired')),
    not_me       BOOLEAN NOT NULL DEFAULT FALSE,
    device_id    TEXT    NOT NULL DEFAULT '',
    method       TEXT    NOT NULL DEFAULT '',
    number       INTEGER NOT NULL DEFAULT 0,
    choices      TEXT    NOT NULL DEFAULT '',
    client       TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    answered_at  BIGINT  NOT NULL DEFAULT 0,
    used_at      BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX approvals_person ON approvals (person_id, action, created_at);
CREATE INDEX approvals_pending ON approvals (status, expires_at);

-- seq comes from outbox_head, taken under its row lock, so sequence order is
-- commit order and a reader's cursor never skips a later-committed event (an
-- identity column hands out numbers in start order, not commit order).
CREATE TABLE outbox (
    seq        BIGINT PRIMARY KEY,
    id         TEXT   NOT NULL UNIQUE,
    type       TEXT   NOT NULL,
    person_id  BIGINT NOT NULL REFERENCES persons (id),
    payload    BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE outbox_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);
INSERT INTO outbox_head (id, seq) VALUES (1, 0);

-- +goose Down
SELECT 1;
