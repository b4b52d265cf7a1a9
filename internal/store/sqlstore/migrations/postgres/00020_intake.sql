-- +goose Up
-- The intake (Eingangsspeicher): anonymous requests answered at once and
-- handled by a worker that claims them with a lease. The request is sealed.
CREATE TABLE intake (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    data        BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL,
    lease_until BIGINT  NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX intake_due ON intake (lease_until, created_at);

-- +goose Down
SELECT 1;
