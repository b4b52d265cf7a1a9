-- Access: accounts with passwords, sessions, letters, identification records.
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE accounts (
    person_id           BIGINT  PRIMARY KEY REFERENCES persons (id),
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_initial    BOOLEAN NOT NULL DEFAULT FALSE,
    password_expires_at BIGINT  NOT NULL DEFAULT 0,
    password_changed_at BIGINT  NOT NULL DEFAULT 0,
    version             BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash           BYTEA   PRIMARY KEY,
    person_id            BIGINT  NOT NULL REFERENCES persons (id),
    kind                 TEXT    NOT NULL,
    level                TEXT    NOT NULL,
    amr                  TEXT    NOT NULL DEFAULT '',
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    client_ip            TEXT    NOT NULL DEFAULT '',
    user_agent           TEXT    NOT NULL DEFAULT '',
    created_at           BIGINT  NOT NULL,
    last_seen_at         BIGINT  NOT NULL,
    idle_expires_at      BIGINT  NOT NULL,
    expires_at           BIGINT  NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE letters (
    id              TEXT    PRIMARY KEY,
    person_id       BIGINT  NOT NULL REFERENCES persons (id),
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    secrets_key_id  TEXT    NOT NULL DEFAULT '',
    secrets_sealed  BYTEA,
    batch_id        TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL DEFAULT 0,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX letters_person ON letters (person_id, created_at);
CREATE INDEX letters_status ON letters (status, created_at);

CREATE TABLE identifications (
    id                 TEXT    PRIMARY KEY,
    person_id          BIGINT  NOT NULL REFERENCES persons (id),
    method             TEXT    NOT NULL,
    level              TEXT    NOT NULL,
    partner            TEXT    NOT NULL,
    partner_txn        TEXT    NOT NULL,
    subject_link       TEXT    NOT NULL,
    matched_hash       BYTEA   NOT NULL,
    at                 BIGINT  NOT NULL
);
CREATE INDEX identifications_person ON identifications (person_id, at);

-- +goose StatementBegin
CREATE FUNCTION identifications_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'identification records are immutable';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER identifications_immutable BEFORE UPDATE OR DELETE ON identifications
    FOR EACH ROW EXECUTE FUNCTION identifications_immutable();

-- +goose Down
SELECT 1;
