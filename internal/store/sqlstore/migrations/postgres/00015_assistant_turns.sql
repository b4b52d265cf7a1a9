-- The assistant's conversations, kept for the configured retention so that a
-- question asked on one node can be handed over to staff on another. The
-- question is masked before it is kept and sealed on top (question_key_id
-- names the data key); masked lists the kinds of data masking removed,
-- comma-separated. seq orders the turns of a conversation. Times are
-- BIGINT microseconds since the Unix epoch (UTC).

-- +goose Up
CREATE TABLE assistant_turns (
    seq             BIGSERIAL PRIMARY KEY,
    conversation    TEXT NOT NULL,
    asker           TEXT NOT NULL,
    at              BIGINT NOT NULL,
    question_key_id TEXT NOT NULL,
    question        BYTEA NOT NULL,
    masked          TEXT NOT NULL,
    entry           TEXT NOT NULL,
    confidence      DOUBLE PRECISION NOT NULL,
    handover        TEXT NOT NULL
);
CREATE INDEX assistant_turns_conversation ON assistant_turns (conversation, seq);
CREATE INDEX assistant_turns_at ON assistant_turns (at);

-- +goose Down
DROP TABLE assistant_turns;
