-- What a person sees of their own account: the salutation the register knows
-- (letters greet "Guten Tag Frau …"), the language the person chose (pages and
-- letters), why a request was declined (a wrong number tapped is no "this was
-- not me"), and the sign-in history of the last days.
-- Times are INTEGER microseconds since the Unix epoch (UTC).

-- +goose Up
ALTER TABLE persons ADD COLUMN salutation TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN decline_reason TEXT NOT NULL DEFAULT '';
UPDATE approvals SET decline_reason = CASE WHEN not_me THEN 'not_me' ELSE 'declined' END WHERE status = 'declined';

CREATE TABLE login_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,  -- browser or app
    method      TEXT    NOT NULL,  -- password, letter, eid, device, egk
    outcome     TEXT    NOT NULL,  -- ok, failed, locked
    user_agent  TEXT    NOT NULL,
    device_name TEXT    NOT NULL,
    place       TEXT    NOT NULL
);
CREATE INDEX login_events_person ON login_events (person_id, at);
CREATE INDEX login_events_at ON login_events (at);

-- +goose Down
SELECT 1;
