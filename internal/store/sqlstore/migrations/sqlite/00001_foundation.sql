-- Foundation: insured master data, counters, one-time values, audit trail.
-- Times are INTEGER microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE persons (
    id                  INTEGER PRIMARY KEY,
    kvnr                TEXT    NOT NULL UNIQUE,
    family_name         TEXT    NOT NULL,
    given_names         TEXT    NOT NULL,
    title               TEXT    NOT NULL DEFAULT '',
    birth_name          TEXT    NOT NULL DEFAULT '',
    birth_date          TEXT    NOT NULL,
    street              TEXT    NOT NULL,
    house_number        TEXT    NOT NULL DEFAULT '',
    postal_code         TEXT    NOT NULL,
    city                TEXT    NOT NULL,
    address_verified_at INTEGER NOT NULL DEFAULT 0,
    address_verified_by TEXT    NOT NULL DEFAULT '',
    iban_key_id         TEXT    NOT NULL DEFAULT '',
    iban_sealed         BLOB,
    relation            TEXT    NOT NULL CHECK (relation IN ('member', 'dependent')),
    member_kvnr         TEXT    NOT NULL DEFAULT '',
    digest              BLOB    NOT NULL,
    version             INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX persons_member_kvnr ON persons (member_kvnr) WHERE member_kvnr <> '';

CREATE TABLE counters (
    key          TEXT    PRIMARY KEY,
    value        INTEGER NOT NULL,
    window_start INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE one_times (
    kind        TEXT    NOT NULL,
    digest      BLOB    NOT NULL,
    subject     TEXT    NOT NULL,
    data        BLOB,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, digest)
);
CREATE INDEX one_times_subject ON one_times (kind, subject);
CREATE INDEX one_times_expires ON one_times (expires_at);

CREATE TABLE audit_entries (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    event     TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    client_ip TEXT    NOT NULL,
    details   BLOB    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, X'');

-- The trail is append-only for the application; editing it needs someone who
-- can drop these triggers, and `pforte audit verify` still sees the edit.
-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
-- +goose StatementEnd

-- +goose Down
-- Forward-only: there is no way back from the first migration.
SELECT 1;
