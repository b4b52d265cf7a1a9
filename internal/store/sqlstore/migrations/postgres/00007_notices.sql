-- Approvals gain the state "withdrawn" (a newer request of the same person and
-- action replaced a pending one); notices get their durable queue.
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
ALTER TABLE approvals DROP CONSTRAINT approvals_status_check;
ALTER TABLE approvals ADD CONSTRAINT approvals_status_check
    CHECK (status IN ('pending', 'approved', 'declined', 'expired', 'withdrawn'));

-- merge_key is unique: a repeated notice of one kind, person, recipient and
-- day adds to count instead of sending a second letter.
CREATE TABLE notices (
    id              TEXT    PRIMARY KEY,
    person_id       BIGINT  NOT NULL REFERENCES persons (id),
    kind            TEXT    NOT NULL,
    merge_key       TEXT    NOT NULL UNIQUE,
    details_key_id  TEXT    NOT NULL,
    details         BYTEA   NOT NULL,
    count           INTEGER NOT NULL DEFAULT 1,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    sent_at         BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX notices_due ON notices (status, next_attempt_at);
CREATE INDEX notices_person ON notices (person_id, created_at);

-- +goose Down
SELECT 1;
