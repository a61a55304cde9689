-- Test reports collected from jobs (JUnit XML), and their test cases.
CREATE TABLE test_reports (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_row_id  INTEGER REFERENCES jobs (id) ON DELETE CASCADE,
    -- The report's path in the job's workspace (or artifact).
    path        TEXT    NOT NULL,
    -- Why the report could not be read; NULL when it was.
    error       TEXT,
    -- What was read past, as a JSON array of {line, message}.
    warnings    TEXT    NOT NULL DEFAULT '[]',
    recorded_at INTEGER NOT NULL
);
CREATE INDEX test_reports_run ON test_reports (run_id);

CREATE TABLE test_cases (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES test_reports (id) ON DELETE CASCADE,
    -- classname.name: what views, flake detection and quarantine use.
    test        TEXT    NOT NULL,
    suite       TEXT    NOT NULL,
    classname   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    file        TEXT,
    duration    REAL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('passed', 'failed', 'errored', 'skipped')),
    retries     INTEGER NOT NULL,
    flaky       INTEGER NOT NULL,
    message     TEXT,
    line        INTEGER NOT NULL
);
CREATE INDEX test_cases_report ON test_cases (report_id);
CREATE INDEX test_cases_test ON test_cases (test);
