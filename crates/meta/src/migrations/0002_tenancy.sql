-- Users, projects, memberships, robot accounts and the audit log.
CREATE TABLE users (
    id {pk},
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    realname TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    sysadmin BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id {pk},
    name TEXT NOT NULL UNIQUE,
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Harbor's project metadata: string values keyed by name (public, auto_scan, ...).
CREATE TABLE project_metadata (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE project_members (
    id {pk},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, user_id)
);

-- Robot accounts. name is the full name (robot$name or robot$project+name); permissions is
-- Harbor's JSON list of {kind, namespace, access}.
CREATE TABLE robots (
    id {pk},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL,
    project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    duration BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    creator TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE audit_logs (
    id {pk},
    project_id BIGINT NOT NULL DEFAULT 0,
    username TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    op_time BIGINT NOT NULL
);
CREATE INDEX audit_logs_project ON audit_logs (project_id, op_time);

-- Portal sessions: only a hash of the cookie value is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
