-- Scans of two kinds (vulnerability, sbom) through the built-in scanner or a registered
-- external one (Harbor's pluggable scanner adapters), and those registrations.

-- scans gains scan_type and scanner (the registration uuid that ran it); the latest scan is
-- now one per artifact and kind. Rebuilt (SQLite cannot change a UNIQUE constraint); ids
-- are not carried over, so PostgreSQL's sequence stays right, and nothing refers to them.
CREATE TABLE scans_new (
    id {pk},
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    scan_type TEXT NOT NULL DEFAULT 'vulnerability',
    scanner TEXT NOT NULL DEFAULT '',
    report_id TEXT NOT NULL,
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    operator TEXT NOT NULL DEFAULT '',
    scan_all_id BIGINT,
    stop_requested BIGINT NOT NULL DEFAULT 0,
    queued_at BIGINT NOT NULL,
    heartbeat_at BIGINT,
    start_time BIGINT,
    end_time BIGINT,
    severity TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    findings TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL DEFAULT '',
    log TEXT NOT NULL DEFAULT '',
    UNIQUE (repository_id, digest, scan_type)
);
INSERT INTO scans_new (repository_id, digest, report_id, status, trigger_kind, operator,
    scan_all_id, stop_requested, queued_at, heartbeat_at, start_time, end_time, severity,
    summary, findings, report, log)
SELECT repository_id, digest, report_id, status, trigger_kind, operator, scan_all_id,
    stop_requested, queued_at, heartbeat_at, start_time, end_time, severity, summary,
    findings, report, log FROM scans;
DROP TABLE scans;
ALTER TABLE scans_new RENAME TO scans;
CREATE INDEX scans_status ON scans (status, queued_at);

-- External scanners registered through Harbor's /scanners API. access_credential is sent
-- to the adapter, so it is kept as given (never returned by the API). metadata: the
-- adapter's last answer to GET /api/v1/metadata (JSON), '' before the first.
CREATE TABLE scanners (
    id {pk},
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL,
    auth TEXT NOT NULL DEFAULT '',
    access_credential TEXT NOT NULL DEFAULT '',
    skip_cert_verify BIGINT NOT NULL DEFAULT 0,
    use_internal_addr BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    is_default BIGINT NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A project's chosen scanner (a registration uuid, or the built-in's); none: the default.
CREATE TABLE project_scanners (
    project_id BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    scanner_uuid TEXT NOT NULL
);
