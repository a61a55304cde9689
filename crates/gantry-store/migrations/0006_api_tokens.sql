-- API tokens of `gantry serve`: only the SHA-256 of each secret is kept,
-- so the database never holds a usable token.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL CHECK (role IN ('viewer', 'deployer', 'approver', 'admin')),
    secret_hash TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
