-- Online garbage collection. Timestamps are milliseconds since the Unix epoch.

-- touched_at: the last time a push relied on the blob (an upload of it began or committed, a
-- mount linked it). GC only takes blobs untouched since its cutoff (run start minus the
-- review delay). state: 0 live (bytes committed; only live blobs are linked to
-- repositories), 1 pending (an upload is committing it; bytes not yet confirmed),
-- 2 deleting (GC has unlinked it and is removing the bytes; uploads of it wait).
ALTER TABLE blobs ADD COLUMN touched_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN state BIGINT NOT NULL DEFAULT 0;
UPDATE blobs SET touched_at = created_at;
CREATE INDEX blobs_state ON blobs (state);
CREATE INDEX uploads_updated ON uploads (updated_at);

-- One row per GC run. scheduled_for is the cron fire time of a scheduled run: unique, so two
-- berth processes sharing a database never both start it.
CREATE TABLE gc_executions (
    id {pk},
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    parameters TEXT NOT NULL,
    dry_run BIGINT NOT NULL DEFAULT 0,
    scheduled_for BIGINT UNIQUE,
    stop_requested BIGINT NOT NULL DEFAULT 0,
    manifests_deleted BIGINT NOT NULL DEFAULT 0,
    blobs_deleted BIGINT NOT NULL DEFAULT 0,
    uploads_purged BIGINT NOT NULL DEFAULT 0,
    bytes_freed BIGINT NOT NULL DEFAULT 0,
    log TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
