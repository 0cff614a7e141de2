-- Webhook policies and their deliveries. Timestamps are milliseconds since the Unix epoch.

-- targets: JSON list of {type, address, auth_header, skip_cert_verify, payload_format};
-- event_types: JSON list of Harbor event type names. secret is the HMAC key for the body
-- signature: it must be usable to sign, so it is stored as given (never returned by the API).
CREATE TABLE webhook_policies (
    id {pk},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    enabled BIGINT NOT NULL DEFAULT 1,
    targets TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL DEFAULT '',
    creator TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

-- One delivery of one event to one target of one policy, with its attempts. The unique key
-- makes fan-out idempotent: a dispatcher that crashes after inserting and before moving its
-- cursor inserts nothing twice.
CREATE TABLE webhook_jobs (
    id {pk},
    policy_id BIGINT NOT NULL REFERENCES webhook_policies (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    target_index BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT NOT NULL DEFAULT 0,
    log TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (policy_id, event_id, target_index)
);
CREATE INDEX webhook_jobs_due ON webhook_jobs (status, next_attempt_at);
CREATE INDEX webhook_jobs_policy ON webhook_jobs (policy_id, id);
