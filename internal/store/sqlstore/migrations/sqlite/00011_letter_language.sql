-- The language a letter is written in ("de", "en"), decided when it is queued
-- (the person's choice, else the language of the request that caused it), so
-- that a batch exported later prints it in that language. Empty means German:
-- every letter queued before this migration is German.

-- +goose Up
ALTER TABLE letters ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 1;
