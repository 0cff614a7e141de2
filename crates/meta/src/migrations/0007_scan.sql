-- The vulnerability scanner: advisories (berth vulndb import/update), scans of artifacts
-- and their reports, scan-all runs and CVE allowlists. Timestamps are ms since the epoch.

-- One advisory as the vulndb crate models it (body: its JSON), keyed by where it came from
-- (source: "osv", or a distribution release and package such as "alpine:Alpine:v3.10/openssl")
-- and its id, so importing the same data again updates in place.
CREATE TABLE vuln_advisories (
    id {pk},
    source TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    modified TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    UNIQUE (source, advisory_id)
);

-- Which (ecosystem, package) each advisory affects, for lookup by installed package; the
-- ranges themselves live in the body. ecosystem is canonical (Alpine:v3.10, Debian:12, PyPI),
-- package normalized per ecosystem (PyPI per PEP 503).
CREATE TABLE vuln_affected (
    advisory_id BIGINT NOT NULL REFERENCES vuln_advisories (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    package TEXT NOT NULL
);
CREATE INDEX vuln_affected_package ON vuln_affected (package);
CREATE INDEX vuln_affected_advisory ON vuln_affected (advisory_id);

-- The latest scan of each artifact, and the durable job queue of scans: a row is Pending
-- until a worker claims it (Running, with a heartbeat), then Success, Error or Stopped.
-- summary is JSON (total, fixable, per-severity counts); findings the compact list of
-- [id, severity] pairs the pull policy reads; report Harbor's full report JSON.
CREATE TABLE scans (
    id {pk},
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
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
    UNIQUE (repository_id, digest)
);
CREATE INDEX scans_status ON scans (status, queued_at);

-- Scan-all runs: manual or scheduled (scheduled_for is the cron fire time, unique, so two
-- processes never both start one).
CREATE TABLE scan_all_runs (
    id {pk},
    trigger_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_for BIGINT UNIQUE,
    total BIGINT NOT NULL DEFAULT 0,
    stop_requested BIGINT NOT NULL DEFAULT 0,
    start_time BIGINT NOT NULL,
    end_time BIGINT
);

-- CVE allowlists: scope 0 is the system's, otherwise a project id. items is a JSON list of
-- CVE ids; expires_at (seconds, Harbor's unit) NULL for never.
CREATE TABLE cve_allowlists (
    scope BIGINT PRIMARY KEY,
    expires_at BIGINT,
    items TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
