-- Device bindings: the phone's keys, the Freigabe-PIN's attempt counter.
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE devices (
    id            TEXT    PRIMARY KEY,
    person_id     BIGINT  NOT NULL REFERENCES persons (id),
    device_key    BYTEA   NOT NULL,
    pin_key       BYTEA   NOT NULL,
    kdf           TEXT    NOT NULL,
    level         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    model         TEXT    NOT NULL DEFAULT '',
    bound_at      BIGINT  NOT NULL,
    bound_ip      TEXT    NOT NULL DEFAULT '',
    pin_failures  INTEGER NOT NULL DEFAULT 0,
    pin_locked_at BIGINT  NOT NULL DEFAULT 0,
    removed_at    BIGINT  NOT NULL DEFAULT 0,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX devices_person ON devices (person_id, removed_at);

-- +goose Down
SELECT 1;
