//! Verification of container image signatures — cosign (simple signing and Sigstore
//! bundles) and Notation (JWS and COSE envelopes) — against a [`TrustConfig`].
//!
//! Pure and synchronous: no network, no database, no clock (the caller passes `now_ms`).
//! The registry finds signature artifacts ([`envelopes`], [`signature_kind`],
//! [`cosign_signature_tag`]) and hands each [`Envelope`] to [`verify`] with the digest of the
//! artifact it should sign. All signature math is ring's; certificates are parsed by
//! x509-parser; COSE is read by a small CBOR reader of this crate.
//!
//! # Rules
//!
//! - **Binding first.** The signed payload must name exactly the subject digest (cosign:
//!   `critical.image.docker-manifest-digest`; DSSE: an in-toto `subject[].digest`; Notation:
//!   `targetArtifact.digest`), else [`Failure::DigestMismatch`] — checked before any
//!   signature, so a signature for another artifact says so.
//! - **cosign with keys.** Some trusted key must verify the signature, else
//!   [`Failure::NoTrustedKey`] — also for a modified payload, which bare keys cannot tell
//!   from a foreign key.
//! - **cosign with a certificate.** The certificate's key must verify the signature (else
//!   [`Failure::BadSignature`]); a trusted key equal to that key accepts it outright;
//!   otherwise the certificate must chain (through the chain annotation or bundle) to a
//!   trusted certificate, every certificate valid at the Rekor `integratedTime` when there is
//!   one, else now. That time is read, not proven: the Rekor SignedEntryTimestamp is not
//!   verified (the trust configuration holds no Rekor key).
//! - **Notation** (`notary.x509` only). `alg`, `cty`, `crit` and the signing scheme are
//!   checked, the signature verified with the leaf of the `x5c`/`x5chain`, the chain led to a
//!   trusted certificate, and — as the Notary Project spec requires when no timestamp
//!   countersignature is verified — every certificate must be valid **now**; then
//!   `io.cncf.notary.expiry` ([`Failure::SignatureExpired`]).
//! - **Chains.** A path ends at the first chain certificate that equals a trusted
//!   certificate, or that a trusted certificate signed. Certificates that sign others inside
//!   the chain must be CAs; a trusted certificate may sign unless it says it is not a CA or
//!   lacks `keyCertSign`. The leaf's key usage (if present) must allow signatures and its
//!   extended key usage (if present) code signing. Unknown critical extensions, SHA-1 and
//!   chains over 10 certificates are refused. Not checked: revocation, path length and name
//!   constraints (a critical name-constraints extension is refused as unknown), policies.
//! - **Limits.** Envelopes over [`MAX_ENVELOPE_BYTES`] are refused; nothing panics on hostile
//!   input.

mod cbor;
mod cert;
mod cosign;
mod discover;
mod encoding;
mod error;
mod keys;
mod notation;
mod time;
mod trust;

pub use cert::TrustedCert;
pub use discover::{cosign_signature_tag, envelopes, signature_kind};
pub use error::{Failure, SignatureError};
pub use keys::PublicKey;
pub use trust::TrustConfig;

/// Media type of a cosign simple-signing layer.
pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature of a simple-signing payload.
pub const COSIGN_SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the signing certificate (PEM).
pub const COSIGN_CERT_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation holding the certificate chain (PEM: intermediates, then root).
pub const COSIGN_CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation holding the Rekor bundle (JSON).
pub const COSIGN_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Prefix of Sigstore bundle media types (v0.1 and v0.2 `…bundle+json;version=0.x`, v0.3
/// `…bundle.v0.3+json`).
pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// Artifact type of a Notation signature manifest.
pub const NOTATION_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// Media type of a Notation JWS envelope.
pub const JWS_MEDIA_TYPE: &str = "application/jose+json";
/// Media type of a Notation COSE envelope.
pub const COSE_MEDIA_TYPE: &str = "application/cose";

/// Largest envelope accepted, all of its parts together.
pub const MAX_ENVELOPE_BYTES: usize = 4 << 20;

/// A signature as the registry found it for an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// cosign "simple signing": the layer blob is the payload; annotations carry the rest.
    CosignSimpleSigning {
        payload: Vec<u8>,
        signature_b64: String,
        certificate_pem: Option<String>,
        chain_pem: Option<String>,
        /// The `dev.sigstore.cosign/bundle` annotation (Rekor bundle); its
        /// `Payload.integratedTime` is taken as the signing time.
        bundle_json: Option<String>,
    },
    /// A Sigstore bundle layer (v0.1, v0.2 or v0.3).
    SigstoreBundle { json: Vec<u8> },
    /// A Notation JWS envelope (`application/jose+json`).
    NotationJws { envelope: Vec<u8> },
    /// A Notation COSE envelope (`application/cose`).
    NotationCose { envelope: Vec<u8> },
}

impl Envelope {
    /// The scheme this envelope belongs to.
    pub fn scheme(&self) -> Scheme {
        match self {
            Envelope::CosignSimpleSigning { .. } | Envelope::SigstoreBundle { .. } => {
                Scheme::Cosign
            }
            Envelope::NotationJws { .. } | Envelope::NotationCose { .. } => Scheme::Notation,
        }
    }

    fn size(&self) -> usize {
        match self {
            Envelope::CosignSimpleSigning {
                payload,
                signature_b64,
                certificate_pem,
                chain_pem,
                bundle_json,
            } => {
                let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
                payload.len()
                    + signature_b64.len()
                    + opt(certificate_pem)
                    + opt(chain_pem)
                    + opt(bundle_json)
            }
            Envelope::SigstoreBundle { json } => json.len(),
            Envelope::NotationJws { envelope } | Envelope::NotationCose { envelope } => {
                envelope.len()
            }
        }
    }
}

/// The signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Cosign,
    Notation,
}

impl Scheme {
    /// `"cosign"` or `"notation"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Cosign => "cosign",
            Scheme::Notation => "notation",
        }
    }

    /// Harbor's accessory type: `"signature.cosign"` or `"signature.notation"`.
    pub fn accessory_type(&self) -> &'static str {
        match self {
            Scheme::Cosign => "signature.cosign",
            Scheme::Notation => "signature.notation",
        }
    }
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub scheme: Scheme,
    /// The trusted key's name, or the signing certificate's subject (its first email or URI
    /// alternative name when the subject is empty, as with Fulcio).
    pub signer: String,
    /// When it was signed, Unix milliseconds, when known: Notation's signing time, or the
    /// Rekor `integratedTime` of a cosign signature.
    pub signed_at_ms: Option<i64>,
}

/// Verifies one envelope for `subject_digest` (`"sha256:…"`) at time `now_ms` (Unix ms).
pub fn verify(
    envelope: &Envelope,
    subject_digest: &str,
    trust: &TrustConfig,
    now_ms: i64,
) -> Result<Verified, Failure> {
    if envelope.size() > MAX_ENVELOPE_BYTES {
        return Err(Failure::Malformed(format!(
            "envelope of {} bytes (at most {MAX_ENVELOPE_BYTES})",
            envelope.size()
        )));
    }
    match envelope {
        Envelope::CosignSimpleSigning {
            payload,
            signature_b64,
            certificate_pem,
            chain_pem,
            bundle_json,
        } => cosign::verify_simple_signing(
            cosign::SimpleSigning {
                payload,
                signature_b64,
                certificate_pem: certificate_pem.as_deref(),
                chain_pem: chain_pem.as_deref(),
                bundle_json: bundle_json.as_deref(),
            },
            subject_digest,
            trust,
            now_ms,
        ),
        Envelope::SigstoreBundle { json } => {
            cosign::verify_bundle(json, subject_digest, trust, now_ms)
        }
        Envelope::NotationJws { envelope } => {
            notation::verify_jws(envelope, subject_digest, trust, now_ms)
        }
        Envelope::NotationCose { envelope } => {
            notation::verify_cose(envelope, subject_digest, trust, now_ms)
        }
    }
}
