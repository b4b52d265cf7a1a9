-- The mailbox (Postfach): threads between the insurer and an insured person,
-- their messages and attachments. Subjects, bodies, attachment names and
-- contents are sealed by the mailbox package (key id beside each value); the
-- database never holds them in clear. A thread that reports a notice names it
-- in notice_id (one thread per notice; its text is told from the notice).
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE mail_threads (
    id             TEXT    PRIMARY KEY,
    person_id      BIGINT  NOT NULL REFERENCES persons (id),
    subject_key_id TEXT    NOT NULL DEFAULT '',
    subject        BYTEA   NOT NULL,
    notice_id      TEXT    NOT NULL DEFAULT '',
    reply_by       BIGINT  NOT NULL DEFAULT 0,
    archived       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT  NOT NULL,
    last_at        BIGINT  NOT NULL
);
CREATE INDEX mail_threads_person ON mail_threads (person_id, archived, last_at, id);
CREATE UNIQUE INDEX mail_threads_notice ON mail_threads (notice_id) WHERE notice_id <> '';

CREATE TABLE mail_messages (
    id          TEXT    PRIMARY KEY,
    thread_id   TEXT    NOT NULL REFERENCES mail_threads (id),
    person_id   BIGINT  NOT NULL REFERENCES persons (id),
    direction   TEXT    NOT NULL CHECK (direction IN ('to_person', 'from_person')),
    author      TEXT    NOT NULL DEFAULT '',
    body_key_id TEXT    NOT NULL DEFAULT '',
    body        BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL,
    read_at     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX mail_messages_thread ON mail_messages (thread_id, created_at);
CREATE INDEX mail_messages_person ON mail_messages (person_id, direction, read_at);
CREATE INDEX mail_messages_recent ON mail_messages (person_id, created_at);
CREATE INDEX mail_messages_unread ON mail_messages (direction, read_at, created_at);

CREATE TABLE mail_attachments (
    id             TEXT    PRIMARY KEY,
    message_id     TEXT    NOT NULL REFERENCES mail_messages (id),
    position       INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    size           BIGINT  NOT NULL,
    name_key_id    TEXT    NOT NULL,
    name           BYTEA   NOT NULL,
    content_key_id TEXT    NOT NULL,
    content        BYTEA   NOT NULL
);
CREATE INDEX mail_attachments_message ON mail_attachments (message_id, position);

-- +goose Down
SELECT 1;
