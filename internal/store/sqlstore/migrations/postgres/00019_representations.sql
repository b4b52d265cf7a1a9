-- Appointed representations (Bevollmächtigte, Betreuer/innen) as staff
-- record them: who may act for whom, in which actions (scope, a
-- space-separated list of action names), until when. Parents of young
-- family-insured children need no row: that follows from the master data.
-- Times are BIGINT microseconds since the Unix epoch (UTC); 0 means "not set".

-- +goose Up
CREATE TABLE representations (
    id          BIGSERIAL PRIMARY KEY,
    actor_id    BIGINT  NOT NULL REFERENCES persons (id),
    subject_id  BIGINT  NOT NULL REFERENCES persons (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('bevollmaechtigt', 'betreuer')),
    scope       TEXT    NOT NULL,
    valid_until BIGINT  NOT NULL,
    recorded_by TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    ended_at    BIGINT  NOT NULL DEFAULT 0,
    ended_by    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX representations_actor ON representations (actor_id, subject_id);
CREATE INDEX representations_subject ON representations (subject_id);

-- +goose Down
SELECT 1;
