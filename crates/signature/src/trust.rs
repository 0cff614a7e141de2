//! What the verifier trusts.

use crate::encoding::{hex, sha256_hex};
use crate::{PublicKey, TrustedCert};

/// Trusted cosign keys (by name) and trusted root or intermediate certificates.
#[derive(Debug, Clone, Default)]
pub struct TrustConfig {
    pub keys: Vec<(String, PublicKey)>,
    pub roots: Vec<TrustedCert>,
}

impl TrustConfig {
    /// SHA-256 (hex) over the key names, key fingerprints and certificate fingerprints.
    /// Stable across runs and independent of order; it changes whenever a key, a key's name
    /// or a certificate is added, removed or replaced — a cache key for verdicts.
    pub fn fingerprint(&self) -> String {
        let mut lines: Vec<String> = self
            .keys
            .iter()
            .map(|(name, key)| format!("key {} {}", hex(name.as_bytes()), key.fingerprint()))
            .chain(
                self.roots
                    .iter()
                    .map(|root| format!("cert {}", root.fingerprint())),
            )
            .collect();
        lines.sort();
        lines.dedup();
        sha256_hex(format!("berth-trust-v1\n{}", lines.join("\n")).as_bytes())
    }
}
