-- Every session records its origin: what proof started it (password, letter,
-- eid, device, egk) and when that proof was made (package session).
-- Times are BIGINT microseconds since the Unix epoch (UTC).

-- +goose Up
ALTER TABLE sessions ADD COLUMN origin TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN origin_at BIGINT NOT NULL DEFAULT 0;
-- Sessions from before: a hardware key took part when the amr names one (the
-- phone; also the ID card of an eID login, which cannot be told apart for
-- sure); a forced password change means the letter's initial password. None
-- becomes eid: a right that an eID origin grants is never granted by a guess
-- (an eID session is at most 15 minutes fresh anyway; the person identifies
-- again).
UPDATE sessions SET origin = CASE
        WHEN amr LIKE '%hwk%' THEN 'device'
        WHEN must_change_password THEN 'letter'
        ELSE 'password' END,
    origin_at = created_at;

-- +goose Down
SELECT 1;
