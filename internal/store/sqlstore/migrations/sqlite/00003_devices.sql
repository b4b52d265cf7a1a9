-- Device bindings: the phone's keys, the Freigabe-PIN's attempt counter.
-- Times are INTEGER microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE devices (
    id            TEXT    PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES persons (id),
    device_key    BLOB    NOT NULL,
    pin_key       BLOB    NOT NULL,
    kdf           TEXT    NOT NULL,
    level         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    model         TEXT    NOT NULL DEFAULT '',
    bound_at      INTEGER NOT NULL,
    bound_ip      TEXT    NOT NULL DEFAULT '',
    pin_failures  INTEGER NOT NULL DEFAULT 0,
    pin_locked_at INTEGER NOT NULL DEFAULT 0,
    removed_at    INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX devices_person ON devices (person_id, removed_at);

-- +goose Down
SELECT 1;
