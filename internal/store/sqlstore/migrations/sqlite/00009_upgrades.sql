-- Data upgrades that need the keys (re-sealing values bound to their place):
-- Go code runs them after the schema migrations and records each here once
-- it is done, so it runs once per database.

-- +goose Up
CREATE TABLE data_upgrades (
    name    TEXT    PRIMARY KEY,
    done_at INTEGER NOT NULL
);

-- +goose Down
SELECT 1;
