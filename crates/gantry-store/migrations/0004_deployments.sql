-- 0002: deployments to environments, their statuses, and the signed
-- approvals a run's job waits for before it deploys. Times are
-- milliseconds since the Unix epoch (UTC). Run ids are not foreign keys:
-- a deployment outlives the pruning of the run that made it.

CREATE TABLE deployments (
    id            INTEGER PRIMARY KEY,
    environment   TEXT    NOT NULL,
    git_ref       TEXT,
    commit_sha    TEXT,
    run_id        INTEGER,
    job_id        TEXT    NOT NULL,
    job_name      TEXT    NOT NULL,
    workflow_path TEXT    NOT NULL,
    url           TEXT,
    creator       TEXT    NOT NULL,
    -- queued, in_progress, success, failure, error, inactive (GitHub's names)
    state         TEXT    NOT NULL,
    description   TEXT,
    -- The deployment this one rolled back from, for rollbacks.
    rollback_of   INTEGER REFERENCES deployments (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX deployments_environment ON deployments (environment, id);
CREATE INDEX deployments_run ON deployments (run_id);

CREATE TABLE deployment_statuses (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    state         TEXT    NOT NULL,
    description   TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX deployment_statuses_deployment ON deployment_statuses (deployment_id);

-- One signed approval of one reviewer for a run's jobs in one environment.
CREATE TABLE environment_approvals (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL,
    environment TEXT    NOT NULL,
    reviewer    TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    -- The DSSE envelope (JSON) the reviewer signed.
    envelope    TEXT    NOT NULL,
    comment     TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (run_id, environment, reviewer)
);
