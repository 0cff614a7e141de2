//! Media types the registry recognises.

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const OCI_EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";

/// Media types we store and serve as manifests.
pub const MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Whether an `Accept` header (possibly several, comma-separated, with parameters) admits
/// `media_type`. No header, or a wildcard, admits everything.
pub fn accepts(accept_values: &[&str], media_type: &str) -> bool {
    let mut any = false;
    for value in accept_values {
        for item in value.split(',') {
            let item = item.split(';').next().unwrap_or("").trim();
            if item.is_empty() {
                continue;
            }
            any = true;
            if item == "*/*" || item == "application/*" || item.eq_ignore_ascii_case(media_type) {
                return true;
            }
            // Clients that only name generic JSON are not negotiating manifest formats.
            if item == "application/json" {
                return true;
            }
        }
    }
    !any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert!(accepts(&[], OCI_INDEX));
        assert!(accepts(&["*/*"], OCI_INDEX));
        assert!(accepts(
            &[&format!("{DOCKER_MANIFEST}, {OCI_INDEX};q=0.5")],
            OCI_INDEX
        ));
        assert!(accepts(&[DOCKER_MANIFEST, OCI_INDEX], OCI_INDEX));
        assert!(!accepts(&[DOCKER_MANIFEST], OCI_INDEX));
    }
}
