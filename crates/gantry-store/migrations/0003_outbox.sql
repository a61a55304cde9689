-- The notification outbox: one row per notification and target, written
-- before anything is sent and marked delivered only after a 2xx, so a
-- restart loses nothing (delivery is at least once).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL,
    target_kind     TEXT    NOT NULL,
    target_url      TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    delivered_at    INTEGER,
    last_http_status INTEGER,
    last_error      TEXT,
    UNIQUE (idempotency_key, target_kind, target_url)
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
