-- 0007: incidents recorded against deployments (`gantry incident
-- open|resolve`), and the time of each deployment's commit, so DORA's
-- change lead time (commit to successful deployment) comes from records.
-- Times are milliseconds since the Unix epoch (UTC).

-- The committer time of `commit_sha`, when git could say; NULL for
-- deployments recorded before this migration or outside git.
ALTER TABLE deployments ADD COLUMN commit_time INTEGER;

CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    title         TEXT    NOT NULL,
    opened_at     INTEGER NOT NULL,
    -- NULL while open.
    resolved_at   INTEGER
);
CREATE INDEX incidents_deployment ON incidents (deployment_id);
