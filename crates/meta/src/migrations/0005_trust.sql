-- What each project trusts to sign its images: cosign public keys and certificate roots
-- (cosign certificates, Notation chains), as PEM. fingerprint is the SHA-256 of the DER.
CREATE TABLE trust_material (
    id {pk},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    pem TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, fingerprint)
);
