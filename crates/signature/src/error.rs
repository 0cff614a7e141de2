//! The two error types: [`SignatureError`] for trust material that cannot be loaded, and
//! [`Failure`] for a signature that does not verify.

/// Trust material (a key or certificate in PEM) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The text is not PEM, or a block's base64 does not decode.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The key is well-formed but of a kind this crate does not verify with.
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
    /// The key's DER does not parse.
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    /// A certificate's DER does not parse, or it uses something this crate refuses.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
}

/// Why a signature was not accepted. Every message names a reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The envelope, payload or certificate cannot be read (bad JSON, CBOR, base64, DER, size).
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// Well-formed, but uses a feature or algorithm this verifier does not implement.
    #[error("unsupported signature: {0}")]
    Unsupported(String),
    /// The signed payload names another artifact.
    #[error("signature is over {signed}, not {expected}")]
    DigestMismatch { signed: String, expected: String },
    /// No trusted key verifies the signature: it was made with a key that is not trusted
    /// (or its payload was changed after signing — with bare keys the two look the same).
    #[error("no trusted key verifies this signature: it was signed with a key that is not in the trust configuration, or its payload was modified")]
    NoTrustedKey,
    /// The signature does not verify with the key that claims to have made it (the payload
    /// or envelope was modified).
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    /// The signing certificate does not chain to a trusted root (or may not sign code).
    #[error("certificate is not trusted: {0}")]
    CertificateUntrusted(String),
    /// A certificate of the chain is not valid at the time that matters.
    #[error("certificate is not valid at the time of signing or verification: {0}")]
    CertificateExpired(String),
    /// The signature's own expiry (Notation `io.cncf.notary.expiry`) has passed.
    #[error("signature has expired: {0}")]
    SignatureExpired(String),
}
