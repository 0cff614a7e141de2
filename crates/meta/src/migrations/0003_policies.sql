-- Policies: storage quotas, tag immutability, tag retention, system settings and the event
-- outbox. Timestamps are milliseconds since the Unix epoch.

-- Which project a repository belongs to (its first path segment), so quota questions are
-- answered by index instead of by name prefix. NULL when no such project exists.
ALTER TABLE repositories ADD COLUMN project_id BIGINT REFERENCES projects (id) ON DELETE SET NULL;
UPDATE repositories SET project_id = (
    SELECT p.id FROM projects p WHERE substr(repositories.name, 1, length(p.name) + 1) = p.name || '/'
);
CREATE INDEX repositories_project ON repositories (project_id);
CREATE INDEX manifests_digest ON manifests (digest);

-- One quota per project. hard = -1 means unlimited; used is the sum of project_blobs.size.
CREATE TABLE quotas (
    id {pk},
    project_id BIGINT NOT NULL UNIQUE REFERENCES projects (id) ON DELETE CASCADE,
    hard BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every blob and manifest a project is charged for: each digest once per project, however
-- many manifests or repositories reference it.
CREATE TABLE project_blobs (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (project_id, digest)
);

INSERT INTO quotas (project_id, hard, used, created_at, updated_at)
    SELECT id, -1, 0, created_at, created_at FROM projects;
INSERT INTO project_blobs (project_id, digest, size)
    SELECT DISTINCT r.project_id, mb.digest, b.size FROM manifest_blobs mb
    JOIN manifests m ON m.id = mb.manifest_id
    JOIN repositories r ON r.id = m.repository_id
    JOIN blobs b ON b.digest = mb.digest
    WHERE r.project_id IS NOT NULL
    UNION
    SELECT DISTINCT r.project_id, m.digest, m.size FROM manifests m
    JOIN repositories r ON r.id = m.repository_id
    WHERE r.project_id IS NOT NULL;
UPDATE quotas SET used = (
    SELECT CAST(COALESCE(SUM(pb.size), 0) AS BIGINT) FROM project_blobs pb WHERE pb.project_id = quotas.project_id
);

-- System-wide settings changed at run time (Harbor's /configurations): name -> text value.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Tag immutability rules; selectors are stored as JSON in the policy crate's form.
CREATE TABLE immutable_rules (
    id {pk},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    priority BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    selectors TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX immutable_rules_project ON immutable_rules (project_id);

-- One retention policy per project; rules are JSON in the policy crate's form. cron is
-- Harbor's six-field expression, '' for manual runs only.
CREATE TABLE retention_policies (
    id {pk},
    project_id BIGINT NOT NULL UNIQUE REFERENCES projects (id) ON DELETE CASCADE,
    rules TEXT NOT NULL,
    cron TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- scheduled_for is the cron fire time of a scheduled run: unique per policy, so two berth
-- processes sharing a database never both start the same run.
CREATE TABLE retention_executions (
    id {pk},
    policy_id BIGINT NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    dry_run BIGINT NOT NULL,
    scheduled_for BIGINT,
    stop_requested BIGINT NOT NULL DEFAULT 0,
    heartbeat_at BIGINT NOT NULL,
    start_time BIGINT NOT NULL,
    end_time BIGINT,
    total BIGINT NOT NULL DEFAULT 0,
    retained BIGINT NOT NULL DEFAULT 0,
    UNIQUE (policy_id, scheduled_for)
);

CREATE TABLE retention_tasks (
    id {pk},
    execution_id BIGINT NOT NULL REFERENCES retention_executions (id) ON DELETE CASCADE,
    repository TEXT NOT NULL,
    status TEXT NOT NULL,
    status_code BIGINT NOT NULL DEFAULT 0,
    start_time BIGINT NOT NULL,
    end_time BIGINT,
    total BIGINT NOT NULL DEFAULT 0,
    retained BIGINT NOT NULL DEFAULT 0,
    log TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retention_tasks_execution ON retention_tasks (execution_id);

-- The event outbox: written in the same transaction as the change it reports (or, for a
-- refusal, right after it), read by deliverers such as webhooks. details is JSON.
CREATE TABLE events (
    id {pk},
    kind TEXT NOT NULL,
    occur_at BIGINT NOT NULL,
    operator TEXT NOT NULL DEFAULT '',
    project_id BIGINT,
    repository TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'
);
