-- 0001: run history, blobs, caches and artifacts.
-- Times are milliseconds since the Unix epoch (UTC). A NULL conclusion
-- means "still running". Log paths are relative to $GANTRY_HOME.

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    workflow_path TEXT    NOT NULL,
    workflow_name TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    git_ref       TEXT,
    commit_sha    TEXT,
    inputs_json   TEXT    NOT NULL,
    conclusion    TEXT,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    -- The recording process, and the token of the lock file it holds
    -- while it lives (locks/<token>.lock): how a crash is recognised.
    pid           INTEGER NOT NULL,
    owner_token   TEXT    NOT NULL
);
CREATE INDEX runs_unfinished ON runs (owner_token) WHERE conclusion IS NULL;

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    matrix_json TEXT,
    conclusion  TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    log_path    TEXT    NOT NULL
);
CREATE INDEX jobs_run ON jobs (run_id);

CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    job_row_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    step_id     TEXT,
    name        TEXT    NOT NULL,
    outcome     TEXT,
    conclusion  TEXT,
    exit_code   INTEGER,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    log_path    TEXT    NOT NULL
);
CREATE INDEX steps_job ON steps (job_row_id);

-- Job outputs (step_row_id NULL) and step outputs.
CREATE TABLE outputs (
    id          INTEGER PRIMARY KEY,
    job_row_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    step_row_id INTEGER REFERENCES steps (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    value       TEXT    NOT NULL
);
CREATE INDEX outputs_job ON outputs (job_row_id);

CREATE TABLE cache_events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('hit', 'miss', 'saved')),
    matched_key TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX cache_events_run ON cache_events (run_id);

-- Blob files under blobs/blake3/, by the BLAKE3 hash of their uncompressed
-- bytes. A blob no cache or artifact refers to is deleted by pruning.
CREATE TABLE blobs (
    digest      TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    stored_size INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Caches are immutable: one entry per (version, key), never replaced.
CREATE TABLE caches (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    digest       TEXT    NOT NULL REFERENCES blobs (digest),
    files        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    UNIQUE (version, key)
);
CREATE INDEX caches_last_used ON caches (last_used_at);
CREATE INDEX caches_digest ON caches (digest);

CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    digest     TEXT    NOT NULL REFERENCES blobs (digest),
    files      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (run_id, name)
);
CREATE INDEX artifacts_expiry ON artifacts (expires_at);
CREATE INDEX artifacts_digest ON artifacts (digest);
