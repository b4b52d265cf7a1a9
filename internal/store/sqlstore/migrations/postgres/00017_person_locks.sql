-- The staff lock of a person's access (Zugangssperre): while a row names the
-- person, no login of any kind starts a session for them, until a staff
-- member releases the lock (the row is deleted). locked_by is the staff
-- member ("staff:<id>"); the reason is in the audit trail. outcome of a
-- four-eyes request says why a confirmed act failed when it was carried out
-- (status failed). Times are BIGINT microseconds since the Unix epoch (UTC).

-- +goose Up
CREATE TABLE person_locks (
    person_id BIGINT PRIMARY KEY REFERENCES persons (id),
    locked_at BIGINT  NOT NULL,
    locked_by TEXT    NOT NULL
);
ALTER TABLE staff_requests ADD COLUMN outcome TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 1;
