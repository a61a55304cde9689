-- 0002: rollouts that `gantry rollout run` drives, and the commands
-- (`promote`, `abort`) other terminals leave for them. The status is the
-- controller's own JSON document; the store keeps it as text.

CREATE TABLE rollouts (
    name        TEXT    PRIMARY KEY,
    phase       TEXT    NOT NULL,
    status_json TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE rollout_commands (
    id         INTEGER PRIMARY KEY,
    rollout    TEXT    NOT NULL REFERENCES rollouts (name) ON DELETE CASCADE,
    command    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    taken_at   INTEGER
);
CREATE INDEX rollout_commands_waiting ON rollout_commands (rollout, id) WHERE taken_at IS NULL;
