-- Store revisions: every change to what a store should be is a numbered, immutable record.
-- Forward-only: stores of earlier releases get no revision here; the binary records their
-- revision 1 at start (it renders; the database cannot), with no change to the cluster.

-- The spec's release and title (NULL: the engine's default release / the store's name),
-- the revision the store runs (NULL until its first is recorded), and the last drift pass.
ALTER TABLE stores ADD COLUMN release TEXT;
ALTER TABLE stores ADD COLUMN title TEXT;
ALTER TABLE stores ADD COLUMN deployed_revision INTEGER;
ALTER TABLE stores ADD COLUMN last_checked_at BIGINT;

CREATE TABLE store_revisions (
    store_id         TEXT    NOT NULL REFERENCES stores (id),
    number           INTEGER NOT NULL,
    -- The full StoreSpec as JSON.
    spec             TEXT    NOT NULL,
    platform_digest  TEXT    NOT NULL,
    -- The rendered YAML (Secrets as placeholders), zlib-compressed; NULL once pruned.
    manifest         BYTEA,
    manifest_digest  TEXT    NOT NULL,
    actor            TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    failure          TEXT,
    created_at       BIGINT  NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    -- The checkpoint taken before it was applied, as JSON.
    checkpoint       TEXT,
    rollback_of      INTEGER,
    -- The revision whose checkpoint is restored before this one is applied.
    restores         INTEGER,
    migrates_data    BOOLEAN NOT NULL,
    PRIMARY KEY (store_id, number)
);
-- At most one revision in flight and one deployed per store.
CREATE UNIQUE INDEX store_revisions_one_in_flight ON store_revisions (store_id) WHERE status IN ('pending', 'applying');
CREATE UNIQUE INDEX store_revisions_one_deployed ON store_revisions (store_id) WHERE status = 'deployed';
