-- storeplane metadata store, PostgreSQL flavour. Times are Unix milliseconds (BIGINT) and ids
-- are text on both backends, so one row type decodes from either.

CREATE TABLE users (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the token, hex; the token itself is never stored.
    token_hash    TEXT    NOT NULL UNIQUE,
    label         TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE stores (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL,
    engine         TEXT    NOT NULL,
    plan           TEXT    NOT NULL,
    owner_id       TEXT    NOT NULL REFERENCES users (id),
    status         TEXT    NOT NULL,
    status_reason  TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
-- A name is unique among live stores; a deleted store's name may be taken again.
CREATE UNIQUE INDEX stores_live_name ON stores (name) WHERE status <> 'deleted';
CREATE INDEX stores_owner ON stores (owner_id, id);
CREATE INDEX stores_status ON stores (status, id);

CREATE TABLE store_events (
    seq       BIGSERIAL PRIMARY KEY,
    store_id  TEXT    NOT NULL REFERENCES stores (id),
    at        BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    actor     TEXT    NOT NULL
);
CREATE INDEX store_events_store ON store_events (store_id, seq);

CREATE TABLE jobs (
    id                BIGSERIAL PRIMARY KEY,
    store_id          TEXT    NOT NULL REFERENCES stores (id),
    kind              TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    run_at            BIGINT  NOT NULL,
    lease_holder      TEXT,
    lease_expires_at  BIGINT,
    rerun             BOOLEAN NOT NULL DEFAULT FALSE,
    last_error        TEXT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
-- At most one active job per store: enqueueing a second coalesces into the first.
CREATE UNIQUE INDEX jobs_one_active_per_store ON jobs (store_id) WHERE state IN ('queued', 'leased');
CREATE INDEX jobs_runnable ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE state = 'leased';

CREATE TABLE idempotency_keys (
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           TEXT    NOT NULL,
    -- SHA-256 of the request body, so a reused key with another body is detected.
    request_hash  TEXT    NOT NULL,
    store_id      TEXT    NOT NULL REFERENCES stores (id),
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (user_id, key)
);
