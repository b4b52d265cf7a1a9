-- OpenID provider: authorization requests, issued tokens, CIBA requests.
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".
-- String lists (scopes, acr_values, prompt, amr, audience) are JSON arrays of
-- strings. person_id is 0 until a person is known (a pending authorization
-- request, a CIBA request for an unknown login_hint), so it has no foreign key.

-- +goose Up
-- code_hash is NULL until a code is issued; NULLs do not collide.
CREATE TABLE auth_requests (
    id              TEXT    PRIMARY KEY,
    client_id       TEXT    NOT NULL,
    redirect_uri    TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    nonce           TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    response_type   TEXT    NOT NULL,
    response_mode   TEXT    NOT NULL,
    code_challenge  TEXT    NOT NULL,
    acr_values      TEXT    NOT NULL,
    prompt          TEXT    NOT NULL,
    max_age         BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    person_id       BIGINT  NOT NULL DEFAULT 0,
    session_hash    BYTEA,
    auth_time       BIGINT  NOT NULL DEFAULT 0,
    acr             TEXT    NOT NULL DEFAULT '',
    amr             TEXT    NOT NULL,
    done_at         BIGINT  NOT NULL DEFAULT 0,
    code_hash       BYTEA   UNIQUE,
    code_expires_at BIGINT  NOT NULL DEFAULT 0,
    code_used_at    BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

-- hash is the SHA-256 of a refresh token's value, NULL for access tokens.
CREATE TABLE tokens (
    id                    TEXT    PRIMARY KEY,
    kind                  TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    hash                  BYTEA   UNIQUE,
    family                TEXT    NOT NULL,
    client_id             TEXT    NOT NULL,
    person_id             BIGINT  NOT NULL,
    subject               TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    audience              TEXT    NOT NULL,
    auth_time             BIGINT  NOT NULL,
    acr                   TEXT    NOT NULL,
    amr                   TEXT    NOT NULL,
    authorization_details BYTEA,
    created_at            BIGINT  NOT NULL,
    expires_at            BIGINT  NOT NULL,
    family_expires_at     BIGINT  NOT NULL,
    used_at               BIGINT  NOT NULL DEFAULT 0,
    revoked_at            BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX tokens_family ON tokens (family);
CREATE INDEX tokens_person_client ON tokens (person_id, client_id);
CREATE INDEX tokens_expires ON tokens (expires_at);

-- hash is the SHA-256 of the auth_req_id; interval_us is the polling interval
-- in microseconds.
CREATE TABLE ciba_requests (
    hash                  BYTEA   PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    client_id             TEXT    NOT NULL,
    person_id             BIGINT  NOT NULL,
    approval_id           TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    acr                   TEXT    NOT NULL,
    binding_message       TEXT    NOT NULL,
    authorization_details BYTEA,
    interval_us           BIGINT  NOT NULL,
    created_at            BIGINT  NOT NULL,
    expires_at            BIGINT  NOT NULL,
    last_poll_at          BIGINT  NOT NULL DEFAULT 0,
    issued_at             BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX ciba_requests_expires ON ciba_requests (expires_at);

-- +goose Down
SELECT 1;
