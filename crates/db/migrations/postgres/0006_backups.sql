-- Backups: one row per backup of a store (scheduled, manual, or a checkpoint before an
-- upgrade), kept after the store is deleted until `expires_at`. The snapshot itself lives
-- in the store's backup repository, outside the cluster's store namespace; this row holds
-- only what restic reported of it, never a key or a credential. Forward-only; stores of
-- earlier releases start with no backups and are backed up by the schedule.
CREATE TABLE backups (
    id           TEXT    PRIMARY KEY,
    store_id     TEXT    NOT NULL REFERENCES stores (id),
    kind         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    -- The store's deployed revision when the backup was requested.
    revision     INTEGER,
    snapshot     TEXT,
    size_bytes   BIGINT,
    added_bytes  BIGINT,
    duration_ms  BIGINT,
    failure      TEXT,
    created_at   BIGINT  NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    expires_at   BIGINT
);
-- A store takes one backup at a time.
CREATE UNIQUE INDEX backups_one_active ON backups (store_id) WHERE status IN ('pending', 'running');
CREATE INDEX backups_by_store ON backups (store_id, created_at);
-- The backup a revision restores before it is applied (a restore in place); NULL for
-- every other revision, those of earlier releases included.
ALTER TABLE store_revisions ADD COLUMN restores_backup TEXT;
-- The backup a store is created from (a copy of another store, or of a deleted one):
-- its first provisioning restores it. NULL for every other store.
ALTER TABLE stores ADD COLUMN restore_from TEXT;
