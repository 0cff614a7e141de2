//! Parsing and validating manifests as the registry needs them: which media type a manifest
//! is, and which blobs, child manifests and subject it references. The raw bytes are never
//! re-serialised; parsing only reads them.

use crate::digest::{Digest, DigestError};
use crate::media;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest manifest accepted (bytes).
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestKind {
    Image,
    Index,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: i64,
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

/// What the registry knows about a manifest after parsing it.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    pub kind: ManifestKind,
    pub config: Option<Descriptor>,
    /// Layers (image) or child manifests (index).
    pub references: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    /// `artifactType`, or for an image manifest without one, the config media type — the value
    /// the referrers API reports.
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is larger than the {MAX_MANIFEST_SIZE}-byte limit")]
    TooLarge,
    #[error("manifest is not valid JSON: {0}")]
    Json(String),
    #[error("Docker schema 1 manifests are not supported; push a schema 2 or OCI manifest")]
    Schema1,
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("manifest mediaType {body:?} does not match Content-Type {header:?}")]
    MediaTypeMismatch { body: String, header: String },
    #[error("manifest is invalid: {0}")]
    Invalid(String),
    #[error("manifest references an invalid digest: {0}")]
    Digest(#[from] DigestError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<serde_json::Value>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    // Schema 1 markers.
    fs_layers: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: Option<String>,
    size: Option<i64>,
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl RawDescriptor {
    fn into_descriptor(self, what: &str) -> Result<Descriptor, ManifestError> {
        let digest = self
            .digest
            .ok_or_else(|| ManifestError::Invalid(format!("{what} has no digest")))?;
        let size = self
            .size
            .ok_or_else(|| ManifestError::Invalid(format!("{what} has no size")))?;
        if size < 0 {
            return Err(ManifestError::Invalid(format!(
                "{what} has a negative size"
            )));
        }
        let media_type = self
            .media_type
            .ok_or_else(|| ManifestError::Invalid(format!("{what} has no mediaType")))?;
        Ok(Descriptor {
            media_type,
            digest: digest.parse()?,
            size,
            artifact_type: self.artifact_type,
            annotations: self.annotations.unwrap_or_default(),
        })
    }
}

/// Content types that say nothing about the manifest format.
fn is_generic(content_type: &str) -> bool {
    content_type.is_empty()
        || content_type == "application/json"
        || content_type == "application/octet-stream"
}

impl Manifest {
    /// Parses `bytes` pushed with `content_type` (the request's Content-Type, parameters removed).
    pub fn parse(bytes: &[u8], content_type: &str) -> Result<Manifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_SIZE {
            return Err(ManifestError::TooLarge);
        }
        let header = content_type.split(';').next().unwrap_or("").trim();
        if header == media::DOCKER_SCHEMA1 || header == media::DOCKER_SCHEMA1_SIGNED {
            return Err(ManifestError::Schema1);
        }
        let raw: RawManifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
        if raw.fs_layers.is_some()
            || raw.schema_version.as_ref().and_then(|v| v.as_i64()) == Some(1)
        {
            return Err(ManifestError::Schema1);
        }
        match raw.schema_version.as_ref().and_then(|v| v.as_i64()) {
            Some(2) => {}
            _ => return Err(ManifestError::Invalid("schemaVersion must be 2".into())),
        }
        let media_type = match (&raw.media_type, is_generic(header)) {
            (Some(body), false) if body != header => {
                return Err(ManifestError::MediaTypeMismatch {
                    body: body.clone(),
                    header: header.to_string(),
                })
            }
            (Some(body), _) => body.clone(),
            (None, false) => header.to_string(),
            // Neither says: an OCI document is recognisable by its shape.
            (None, true) if raw.manifests.is_some() => media::OCI_INDEX.to_string(),
            (None, true) if raw.config.is_some() => media::OCI_MANIFEST.to_string(),
            (None, true) => {
                return Err(ManifestError::Invalid(
                    "no mediaType given and the document is neither a manifest nor an index".into(),
                ))
            }
        };
        if media_type == media::DOCKER_SCHEMA1 || media_type == media::DOCKER_SCHEMA1_SIGNED {
            return Err(ManifestError::Schema1);
        }
        if !media::MANIFEST_TYPES.contains(&media_type.as_str()) {
            return Err(ManifestError::UnsupportedMediaType(media_type));
        }
        let subject = raw
            .subject
            .map(|s| s.into_descriptor("subject"))
            .transpose()?;
        let annotations = raw.annotations.unwrap_or_default();
        if media::is_index(&media_type) {
            if raw.layers.is_some() || raw.config.is_some() {
                return Err(ManifestError::Invalid(
                    "an index has \"manifests\", not \"config\" or \"layers\"".into(),
                ));
            }
            let references = raw
                .manifests
                .ok_or_else(|| ManifestError::Invalid("index has no \"manifests\" array".into()))?
                .into_iter()
                .enumerate()
                .map(|(i, d)| d.into_descriptor(&format!("manifests[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Manifest {
                media_type,
                kind: ManifestKind::Index,
                config: None,
                references,
                subject,
                artifact_type: raw.artifact_type,
                annotations,
            })
        } else {
            if raw.manifests.is_some() {
                return Err(ManifestError::Invalid(
                    "an image manifest has \"config\" and \"layers\", not \"manifests\"".into(),
                ));
            }
            let config = raw
                .config
                .ok_or_else(|| ManifestError::Invalid("manifest has no \"config\"".into()))?
                .into_descriptor("config")?;
            let layers = raw
                .layers
                .ok_or_else(|| ManifestError::Invalid("manifest has no \"layers\" array".into()))?
                .into_iter()
                .enumerate()
                .map(|(i, d)| d.into_descriptor(&format!("layers[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let artifact_type = raw
                .artifact_type
                .clone()
                .or_else(|| Some(config.media_type.clone()));
            Ok(Manifest {
                media_type,
                kind: ManifestKind::Image,
                config: Some(config),
                references: layers,
                subject,
                artifact_type,
                annotations,
            })
        }
    }

    /// Blobs this manifest needs in its repository: config and layers (none for an index).
    pub fn blobs(&self) -> impl Iterator<Item = &Descriptor> {
        let layers = match self.kind {
            ManifestKind::Image => self.references.as_slice(),
            ManifestKind::Index => &[],
        };
        self.config.iter().chain(layers.iter())
    }

    /// Child manifests an index needs in its repository.
    pub fn children(&self) -> &[Descriptor] {
        match self.kind {
            ManifestKind::Index => &self.references,
            ManifestKind::Image => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(b: &[u8]) -> String {
        Digest::sha256_of(b).to_string()
    }

    #[test]
    fn image_manifest_with_subject() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/x","digest":"{}","size":1}},
            "layers":[{{"mediaType":"l","digest":"{}","size":2}}],"subject":{{"mediaType":"{}","digest":"{}","size":3}}}}"#,
            media::OCI_MANIFEST,
            d(b"c"),
            d(b"l"),
            media::OCI_MANIFEST,
            d(b"s")
        );
        let m = Manifest::parse(body.as_bytes(), media::OCI_MANIFEST).unwrap();
        assert_eq!(m.kind, ManifestKind::Image);
        assert_eq!(m.blobs().count(), 2);
        assert_eq!(m.artifact_type.as_deref(), Some("application/x"));
        assert_eq!(m.subject.unwrap().digest.to_string(), d(b"s"));
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            Manifest::parse(b"{not json", media::OCI_MANIFEST),
            Err(ManifestError::Json(_))
        ));
        assert!(matches!(
            Manifest::parse(br#"{"schemaVersion":1,"fsLayers":[]}"#, ""),
            Err(ManifestError::Schema1)
        ));
        assert!(matches!(
            Manifest::parse(
                br#"{"schemaVersion":2,"mediaType":"a/b","manifests":[]}"#,
                ""
            ),
            Err(ManifestError::UnsupportedMediaType(_))
        ));
        let idx = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[]}}"#,
            media::OCI_INDEX
        );
        assert!(matches!(
            Manifest::parse(idx.as_bytes(), media::OCI_MANIFEST),
            Err(ManifestError::MediaTypeMismatch { .. })
        ));
        assert_eq!(
            Manifest::parse(idx.as_bytes(), media::OCI_INDEX)
                .unwrap()
                .kind,
            ManifestKind::Index
        );
        let big = vec![b' '; MAX_MANIFEST_SIZE + 1];
        assert!(matches!(
            Manifest::parse(&big, ""),
            Err(ManifestError::TooLarge)
        ));
        let bad_digest = r#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:00","size":1},"layers":[]}"#;
        assert!(matches!(
            Manifest::parse(bad_digest.as_bytes(), media::OCI_MANIFEST),
            Err(ManifestError::Digest(_))
        ));
    }
}
