//! Software bills of materials: SPDX 2.3 JSON and CycloneDX 1.5 JSON documents describing
//! an image from what the scanner's catalogers found ([`scan::Catalog`]).
//!
//! Pure: no I/O, no clock (the caller passes the creation time), no database.

use scan::package::purl_escape;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

mod cyclonedx;
pub mod license;
mod spdx_json;

/// SPDX JSON's media type.
pub const SPDX_MIME: &str = "application/spdx+json";
/// CycloneDX JSON's media type.
pub const CYCLONEDX_MIME: &str = "application/vnd.cyclonedx+json";

/// The document formats berth writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Spdx,
    CycloneDx,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Spdx, Format::CycloneDx];

    pub fn mime(self) -> &'static str {
        match self {
            Format::Spdx => SPDX_MIME,
            Format::CycloneDx => CYCLONEDX_MIME,
        }
    }

    /// The format of a media type (parameters such as `; version=…` ignored).
    pub fn from_mime(mime: &str) -> Option<Format> {
        match mime.split(';').next().unwrap_or("").trim() {
            SPDX_MIME => Some(Format::Spdx),
            CYCLONEDX_MIME => Some(Format::CycloneDx),
            _ => None,
        }
    }

    /// The file name the document carries (OCI layer title annotation, downloads).
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Spdx => "sbom.spdx.json",
            Format::CycloneDx => "sbom.cdx.json",
        }
    }

    /// The specification version written.
    pub fn spec_version(self) -> &'static str {
        match self {
            Format::Spdx => "SPDX-2.3",
            Format::CycloneDx => "1.5",
        }
    }
}

/// The image a document describes.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// The repository, e.g. `library/alpine` (no registry host).
    pub repository: &'a str,
    /// The image manifest's digest, `sha256:…`.
    pub digest: &'a str,
    /// A tag naming the image, when the caller knows one.
    pub tag: Option<&'a str>,
    /// The registry's host name as clients address it (`registry.example.com:5000`), for
    /// the image's purl `repository_url` qualifier; empty when unknown.
    pub registry_host: &'a str,
}

/// The tool named as the document's creator.
#[derive(Debug, Clone)]
pub struct Tool<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

/// Writes the document of `format` for `catalog`, found in the image `subject`, created at
/// `created` (RFC 3339, UTC, e.g. `2026-11-28T12:00:00Z`).
///
/// Every package of the catalog is one package (SPDX) or component (CycloneDX) of the
/// document, in the catalog's order, with an id unique in the document; the image and its
/// operating system (when known) are described besides them.
pub fn generate(
    format: Format,
    catalog: &scan::Catalog,
    subject: &Subject<'_>,
    tool: &Tool<'_>,
    created: &str,
) -> Value {
    let doc = Doc::new(catalog, subject, tool, created);
    match format {
        Format::Spdx => spdx_json::document(&doc),
        Format::CycloneDx => cyclonedx::document(&doc),
    }
}

/// What both formats say about the image and its packages.
pub(crate) struct Doc<'a> {
    pub catalog: &'a scan::Catalog,
    pub subject: &'a Subject<'a>,
    pub tool: &'a Tool<'a>,
    pub created: &'a str,
    /// The image's package URL.
    pub image_purl: String,
    /// Per package: a unique id (`[A-Za-z0-9.-]+`), its purl and its licence parts.
    pub packages: Vec<Entry<'a>>,
    /// sha256 over the inputs: the seed of the document's namespace and serial number.
    pub seed: [u8; 32],
}

pub(crate) struct Entry<'a> {
    pub package: &'a scan::Package,
    pub id: String,
    pub purl: String,
    pub licenses: Vec<license::Part>,
}

impl<'a> Doc<'a> {
    fn new(
        catalog: &'a scan::Catalog,
        subject: &'a Subject<'a>,
        tool: &'a Tool<'a>,
        created: &'a str,
    ) -> Doc<'a> {
        let mut used = std::collections::HashSet::new();
        let packages = catalog
            .packages
            .iter()
            .map(|p| {
                let base = format!(
                    "{}-{}-{}",
                    ecosystem_word(p.ecosystem),
                    id_chars(&p.name),
                    id_chars(&p.version)
                );
                let mut id = base.clone();
                let mut n = 1;
                while !used.insert(id.clone()) {
                    n += 1;
                    id = format!("{base}-{n}");
                }
                Entry {
                    package: p,
                    id,
                    purl: p.purl(catalog.os.as_ref()),
                    licenses: license::parts(&p.licenses, p.ecosystem == scan::Ecosystem::Alpine),
                }
            })
            .collect();
        let mut h = Sha256::new();
        for part in [
            subject.repository,
            subject.digest,
            subject.tag.unwrap_or(""),
            subject.registry_host,
            tool.name,
            tool.version,
            created,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update((catalog.packages.len() as u64).to_be_bytes());
        Doc {
            catalog,
            subject,
            tool,
            created,
            image_purl: image_purl(subject),
            packages,
            seed: h.finalize().into(),
        }
    }

    /// The image's name and version as the documents give them: the repository, and the
    /// digest (the tag when there is no digest).
    pub fn image_version(&self) -> &str {
        if self.subject.digest.is_empty() {
            self.subject.tag.unwrap_or("")
        } else {
            self.subject.digest
        }
    }

    /// A UUID-shaped value (version nibble 4, RFC 4122 variant) from the seed and `salt`:
    /// deterministic for the same inputs, different when anything (the time included) differs.
    pub fn uuid(&self, salt: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(salt.as_bytes());
        let d: [u8; 32] = h.finalize().into();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

/// The image's package URL: `pkg:oci/<last path segment>@<digest>?repository_url=<host/repo>`
/// (plus `tag=` when a tag is known; no version without a digest); every part
/// percent-encoded but the `/` of the repository URL.
pub fn image_purl(subject: &Subject<'_>) -> String {
    let name = subject
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(subject.repository)
        .to_ascii_lowercase();
    let mut out = format!("pkg:oci/{}", purl_escape(&name));
    if !subject.digest.is_empty() {
        out.push('@');
        out.push_str(&purl_escape(subject.digest));
    }
    let repo = if subject.registry_host.is_empty() {
        subject.repository.to_owned()
    } else {
        format!("{}/{}", subject.registry_host, subject.repository)
    };
    let repo: Vec<String> = repo.split('/').map(purl_escape).collect();
    out.push_str("?repository_url=");
    out.push_str(&repo.join("/"));
    if let Some(tag) = subject.tag.filter(|t| !t.is_empty()) {
        out.push_str("&tag=");
        out.push_str(&purl_escape(tag));
    }
    out
}

/// Letters, digits, `.` and `-` (what SPDX ids allow); anything else becomes `-`.
pub(crate) fn id_chars(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() {
        "x".to_owned()
    } else {
        out
    }
}

fn ecosystem_word(e: scan::Ecosystem) -> &'static str {
    use scan::Ecosystem::*;
    match e {
        Debian => "deb",
        Alpine => "apk",
        Rpm => "rpm",
        PyPI => "pypi",
        Npm => "npm",
        CratesIo => "cargo",
        Go => "golang",
        Maven => "maven",
    }
}

/// What kind of file a package was found in, for the documents' provenance notes.
pub(crate) fn source_kind(p: &scan::Package) -> &'static str {
    use scan::Ecosystem::*;
    match p.ecosystem {
        Debian => "installed dpkg status",
        Alpine => "installed apk DB",
        Rpm => "installed rpm DB",
        PyPI => "Python package metadata",
        Npm if p.path.ends_with("package.json") && !p.path.ends_with("-lock.json") => {
            "npm package.json"
        }
        Npm => "npm lockfile",
        CratesIo if p.path.ends_with("Cargo.lock") => "Cargo.lock",
        CratesIo => "Rust binary (cargo-auditable)",
        Go => "Go binary build info",
        Maven => "Java archive",
    }
}

/// The file a package was found in, as an absolute path in the image (`/lib/apk/db/installed`).
pub(crate) fn location(p: &scan::Package) -> String {
    if p.path.starts_with('/') {
        p.path.clone()
    } else {
        format!("/{}", p.path)
    }
}

#[cfg(test)]
mod tests;
