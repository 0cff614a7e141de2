//! X.509 certificates: parsing (x509-parser), issuer signatures (ring), chains to trusted
//! roots, validity windows.

use ring::signature::{self as sig, VerificationAlgorithm};
use x509_parser::asn1_rs::Any;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::signature_algorithm::RsaSsaPssParams;

use crate::encoding::{parse_pem, sha256_hex};
use crate::keys::{KeyAlg, PublicKey};
use crate::time::format_ms;
use crate::{Failure, SignatureError};

/// Longest chain accepted (leaf, intermediates, root).
pub(crate) const MAX_CHAIN: usize = 10;

const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";
const OID_MGF1: &str = "1.2.840.113549.1.1.8";

/// Extensions that may be critical: the ones this crate reads, plus certificate policies
/// (which, like Go's verifier, it does not enforce).
const HANDLED_CRITICAL: &[&str] = &[
    "2.5.29.15", // key usage
    "2.5.29.37", // extended key usage
    "2.5.29.19", // basic constraints
    "2.5.29.17", // subject alternative name
    "2.5.29.32", // certificate policies
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &str) -> Option<Hash> {
        match oid {
            OID_SHA256 => Some(Hash::Sha256),
            OID_SHA384 => Some(Hash::Sha384),
            OID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn len(self) -> u32 {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// How a certificate is signed by its issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SigAlg {
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ecdsa(Hash),
    Ed25519,
    Unsupported(String),
}

fn sig_alg(oid: &str, params: Option<&Any>) -> SigAlg {
    match oid {
        "1.2.840.113549.1.1.11" => SigAlg::RsaPkcs1(Hash::Sha256),
        "1.2.840.113549.1.1.12" => SigAlg::RsaPkcs1(Hash::Sha384),
        "1.2.840.113549.1.1.13" => SigAlg::RsaPkcs1(Hash::Sha512),
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" => {
            SigAlg::Unsupported("SHA-1 certificate signatures are not accepted".to_string())
        }
        "1.2.840.113549.1.1.10" => {
            let Some(params) = params.and_then(|p| RsaSsaPssParams::try_from(p).ok()) else {
                return SigAlg::Unsupported("RSASSA-PSS without readable parameters".to_string());
            };
            let Some(hash) = Hash::from_oid(&params.hash_algorithm_oid().to_id_string()) else {
                return SigAlg::Unsupported("RSASSA-PSS with SHA-1".to_string());
            };
            let mgf_ok = params.mask_gen_algorithm().is_ok_and(|m| {
                m.mgf.to_id_string() == OID_MGF1
                    && Hash::from_oid(&m.hash.to_id_string()) == Some(hash)
            });
            if !mgf_ok || params.salt_length() != hash.len() || params.trailer_field() != 1 {
                return SigAlg::Unsupported(
                    "RSASSA-PSS parameters other than MGF1 with the same hash and a salt as long as the hash"
                        .to_string(),
                );
            }
            SigAlg::RsaPss(hash)
        }
        "1.2.840.10045.4.3.2" => SigAlg::Ecdsa(Hash::Sha256),
        "1.2.840.10045.4.3.3" => SigAlg::Ecdsa(Hash::Sha384),
        "1.2.840.10045.4.3.4" => {
            SigAlg::Unsupported("ecdsa-with-SHA512 (ring has no ECDSA with SHA-512)".to_string())
        }
        "1.3.101.112" => SigAlg::Ed25519,
        other => SigAlg::Unsupported(format!("certificate signature algorithm {other}")),
    }
}

/// A parsed certificate, owning what verification needs.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    tbs: Vec<u8>,
    sig_alg: SigAlg,
    signature: Vec<u8>,
    /// The subject as text (`C=US, O=Notary, CN=alpine`).
    pub subject: String,
    subject_raw: Vec<u8>,
    issuer_raw: Vec<u8>,
    issuer: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    /// The certificate's key, or why it cannot verify anything.
    pub key: Result<PublicKey, String>,
    /// Basic constraints: `Some(ca)` when present.
    basic_ca: Option<bool>,
    /// Key usage: `Some((digitalSignature, keyCertSign))` when present.
    key_usage: Option<(bool, bool)>,
    /// Extended key usage: `Some(codeSigning or anyExtendedKeyUsage)` when present.
    code_signing: Option<bool>,
    /// A critical extension this crate does not process.
    unhandled_critical: Option<String>,
    /// The first email or URI subject alternative name (Fulcio certificates have no subject).
    san: Option<String>,
}

impl Cert {
    pub(crate) fn from_der(der: &[u8]) -> Result<Cert, String> {
        let (rest, x509) = X509Certificate::from_der(der).map_err(|e| format!("X.509: {e}"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the certificate".to_string());
        }
        let outer = &x509.signature_algorithm;
        let inner = &x509.tbs_certificate.signature;
        if outer.algorithm != inner.algorithm || outer.parameters != inner.parameters {
            return Err("the two signature algorithm fields differ".to_string());
        }
        if x509.signature_value.unused_bits != 0 {
            return Err("the signature BIT STRING has unused bits".to_string());
        }
        let mut cert = Cert {
            der: der.to_vec(),
            tbs: x509.tbs_certificate.as_ref().to_vec(),
            sig_alg: sig_alg(&outer.algorithm.to_id_string(), outer.parameters.as_ref()),
            signature: x509.signature_value.data.to_vec(),
            subject: x509.subject().to_string(),
            subject_raw: x509.subject().as_raw().to_vec(),
            issuer_raw: x509.issuer().as_raw().to_vec(),
            issuer: x509.issuer().to_string(),
            not_before_ms: x509.validity().not_before.timestamp().saturating_mul(1000),
            not_after_ms: x509.validity().not_after.timestamp().saturating_mul(1000),
            key: PublicKey::from_spki(x509.public_key()).map_err(|e| e.to_string()),
            basic_ca: None,
            key_usage: None,
            code_signing: None,
            unhandled_critical: None,
            san: None,
        };
        let mut seen = Vec::new();
        for ext in x509.extensions() {
            let oid = ext.oid.to_id_string();
            if seen.contains(&oid) {
                return Err(format!("extension {oid} appears twice"));
            }
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => cert.basic_ca = Some(bc.ca),
                ParsedExtension::KeyUsage(ku) => {
                    cert.key_usage = Some((ku.digital_signature(), ku.key_cert_sign()))
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    cert.code_signing = Some(eku.code_signing || eku.any)
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    cert.san = san.general_names.iter().find_map(|name| match name {
                        GeneralName::RFC822Name(s) | GeneralName::URI(s) => Some(s.to_string()),
                        _ => None,
                    });
                }
                ParsedExtension::ParseError { .. } if ext.critical => {
                    return Err(format!("critical extension {oid} does not parse"));
                }
                _ => {}
            }
            if ext.critical
                && !HANDLED_CRITICAL.contains(&oid.as_str())
                && cert.unhandled_critical.is_none()
            {
                cert.unhandled_critical = Some(oid.clone());
            }
            seen.push(oid);
        }
        Ok(cert)
    }

    /// The subject, or — when empty, as in Fulcio certificates — the first email or URI
    /// subject alternative name.
    pub(crate) fn identity(&self) -> String {
        match (&self.san, self.subject.is_empty()) {
            (Some(san), true) => san.clone(),
            _ => self.subject.clone(),
        }
    }

    pub(crate) fn fingerprint(&self) -> String {
        sha256_hex(&self.der)
    }

    /// Whether `issuer` signed this certificate (names chain and the signature verifies).
    pub(crate) fn issued_by(&self, issuer: &Cert) -> Result<(), String> {
        if self.issuer_raw != issuer.subject_raw && self.issuer != issuer.subject {
            return Err(format!(
                "'{}' is issued by '{}', not by '{}'",
                self.subject, self.issuer, issuer.subject
            ));
        }
        let key = issuer
            .key
            .as_ref()
            .map_err(|e| format!("the key of '{}': {e}", issuer.subject))?;
        let alg: &'static dyn VerificationAlgorithm = match (&self.sig_alg, key.alg()) {
            (SigAlg::RsaPkcs1(Hash::Sha256), KeyAlg::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA256,
            (SigAlg::RsaPkcs1(Hash::Sha384), KeyAlg::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA384,
            (SigAlg::RsaPkcs1(Hash::Sha512), KeyAlg::Rsa) => &sig::RSA_PKCS1_2048_8192_SHA512,
            (SigAlg::RsaPss(Hash::Sha256), KeyAlg::Rsa) => &sig::RSA_PSS_2048_8192_SHA256,
            (SigAlg::RsaPss(Hash::Sha384), KeyAlg::Rsa) => &sig::RSA_PSS_2048_8192_SHA384,
            (SigAlg::RsaPss(Hash::Sha512), KeyAlg::Rsa) => &sig::RSA_PSS_2048_8192_SHA512,
            (SigAlg::Ecdsa(Hash::Sha256), KeyAlg::EcdsaP256) => &sig::ECDSA_P256_SHA256_ASN1,
            (SigAlg::Ecdsa(Hash::Sha384), KeyAlg::EcdsaP256) => &sig::ECDSA_P256_SHA384_ASN1,
            (SigAlg::Ecdsa(Hash::Sha256), KeyAlg::EcdsaP384) => &sig::ECDSA_P384_SHA256_ASN1,
            (SigAlg::Ecdsa(Hash::Sha384), KeyAlg::EcdsaP384) => &sig::ECDSA_P384_SHA384_ASN1,
            (SigAlg::Ed25519, KeyAlg::Ed25519) => &sig::ED25519,
            (SigAlg::Unsupported(what), _) => {
                return Err(format!("'{}' is signed with {what}", self.subject))
            }
            (alg, _) => {
                return Err(format!(
                    "'{}' is signed with {alg:?}, which does not fit the {} key of '{}'",
                    self.subject,
                    key.algorithm(),
                    issuer.subject
                ))
            }
        };
        if key.verify_with(alg, &self.tbs, &self.signature) {
            Ok(())
        } else {
            Err(format!(
                "the signature on '{}' does not verify with the key of '{}'",
                self.subject, issuer.subject
            ))
        }
    }

    /// May this certificate, found in a chain, sign others? It must say it is a CA.
    fn may_issue_in_chain(&self) -> Result<(), String> {
        if self.basic_ca != Some(true) {
            return Err(format!(
                "'{}' signs another certificate of the chain but is not a CA (basic constraints)",
                self.subject
            ));
        }
        self.key_usage_allows_issuing()
    }

    /// May this trusted certificate sign others? Explicit trust suffices, unless the
    /// certificate itself says it is not a CA or may not sign certificates.
    fn may_issue_as_anchor(&self) -> Result<(), String> {
        if self.basic_ca == Some(false) {
            return Err(format!(
                "the trusted certificate '{}' is not a CA (basic constraints)",
                self.subject
            ));
        }
        self.key_usage_allows_issuing()
    }

    fn key_usage_allows_issuing(&self) -> Result<(), String> {
        match self.key_usage {
            Some((_, false)) => Err(format!(
                "'{}' may not sign certificates (key usage lacks keyCertSign)",
                self.subject
            )),
            _ => Ok(()),
        }
    }

    /// May this certificate sign code? Key usage, when present, must allow digital
    /// signatures; extended key usage, when present, must include code signing.
    fn may_sign_code(&self) -> Result<(), String> {
        if let Some((false, _)) = self.key_usage {
            return Err(format!(
                "'{}' may not make signatures (key usage lacks digitalSignature)",
                self.subject
            ));
        }
        if self.code_signing == Some(false) {
            return Err(format!(
                "'{}' is not for code signing (extended key usage)",
                self.subject
            ));
        }
        Ok(())
    }

    fn handles_critical(&self) -> Result<(), String> {
        match &self.unhandled_critical {
            Some(oid) => Err(format!(
                "'{}' has a critical extension this verifier does not process ({oid})",
                self.subject
            )),
            None => Ok(()),
        }
    }
}

/// Whether `cert` is valid at `at_ms`; `when` says what that time is ("the signing time").
pub(crate) fn check_validity(cert: &Cert, at_ms: i64, when: &str) -> Result<(), Failure> {
    if at_ms < cert.not_before_ms || at_ms > cert.not_after_ms {
        return Err(Failure::CertificateExpired(format!(
            "'{}' is valid from {} to {}, and {when} is {}",
            cert.subject,
            format_ms(cert.not_before_ms),
            format_ms(cert.not_after_ms),
            format_ms(at_ms)
        )));
    }
    Ok(())
}

/// A trusted root or intermediate certificate.
#[derive(Debug, Clone)]
pub struct TrustedCert {
    pub(crate) cert: Cert,
}

impl TrustedCert {
    /// Every `CERTIFICATE` block of a PEM bundle (other blocks are ignored). None, or one
    /// that does not parse, is an error.
    pub fn from_pem(pem: &str) -> Result<Vec<TrustedCert>, SignatureError> {
        let blocks = parse_pem(pem).map_err(SignatureError::Pem)?;
        let certs = blocks
            .iter()
            .filter(|b| b.label == "CERTIFICATE")
            .map(|b| TrustedCert::from_der(&b.der))
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(SignatureError::Pem(
                "no CERTIFICATE block found".to_string(),
            ));
        }
        Ok(certs)
    }

    /// One DER certificate.
    pub fn from_der(der: &[u8]) -> Result<TrustedCert, SignatureError> {
        let cert = Cert::from_der(der).map_err(SignatureError::InvalidCertificate)?;
        cert.handles_critical()
            .map_err(SignatureError::InvalidCertificate)?;
        Ok(TrustedCert { cert })
    }

    /// The subject (`C=US, ST=WA, L=Seattle, O=Notary, CN=alpine`).
    pub fn subject(&self) -> String {
        self.cert.subject.clone()
    }

    /// Start of validity, Unix milliseconds.
    pub fn not_before_ms(&self) -> i64 {
        self.cert.not_before_ms
    }

    /// End of validity, Unix milliseconds.
    pub fn not_after_ms(&self) -> i64 {
        self.cert.not_after_ms
    }

    /// SHA-256 (lowercase hex) of the DER.
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint()
    }

    /// The DER.
    pub fn der(&self) -> &[u8] {
        &self.cert.der
    }
}

/// Checks that `chain` (leaf first) may sign code and leads to one of `roots`, and that every
/// certificate on the path is valid at `at_ms` (`when` names that time in messages).
///
/// The path ends at the first chain certificate that either equals a trusted certificate (DER)
/// or is signed by one; certificates after it are ignored. Each chain certificate before that
/// point must be signed by the next one, which must be a CA.
pub(crate) fn verify_chain(
    chain: &[Cert],
    roots: &[TrustedCert],
    at_ms: i64,
    when: &str,
) -> Result<(), Failure> {
    let Some(leaf) = chain.first() else {
        return Err(Failure::Malformed("no certificate".to_string()));
    };
    if chain.len() > MAX_CHAIN {
        return Err(Failure::Malformed(format!(
            "certificate chain of {} certificates (at most {MAX_CHAIN})",
            chain.len()
        )));
    }
    if roots.is_empty() {
        return Err(Failure::CertificateUntrusted(
            "no trusted root certificates are configured".to_string(),
        ));
    }
    leaf.may_sign_code()
        .map_err(Failure::CertificateUntrusted)?;
    let mut path: Vec<&Cert> = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        cert.handles_critical()
            .map_err(Failure::CertificateUntrusted)?;
        path.push(cert);
        if roots.iter().any(|r| r.cert.der == cert.der) {
            break;
        }
        let mut why_not = Vec::new();
        let anchor = roots.iter().find(|r| {
            match r
                .cert
                .may_issue_as_anchor()
                .and_then(|()| cert.issued_by(&r.cert))
            {
                Ok(()) => true,
                Err(e) => {
                    if r.cert.subject_raw == cert.issuer_raw {
                        why_not.push(e);
                    }
                    false
                }
            }
        });
        if let Some(root) = anchor {
            path.push(&root.cert);
            break;
        }
        let Some(next) = chain.get(i + 1) else {
            let mut msg = format!(
                "the chain ends at '{}', issued by '{}', which is not a trusted certificate",
                cert.subject, cert.issuer
            );
            if !why_not.is_empty() {
                msg = format!("{msg} ({})", why_not.join("; "));
            }
            return Err(Failure::CertificateUntrusted(msg));
        };
        next.may_issue_in_chain()
            .and_then(|()| cert.issued_by(next))
            .map_err(Failure::CertificateUntrusted)?;
    }
    for cert in path {
        check_validity(cert, at_ms, when)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_leaf() -> Cert {
        let jws: serde_json::Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures/signatures/notation/jws_signature.sig"
            ))
            .unwrap(),
        )
        .unwrap();
        let der = crate::encoding::b64(jws["header"]["x5c"][0].as_str().unwrap()).unwrap();
        Cert::from_der(&der).unwrap()
    }

    #[test]
    fn reads_the_notation_fixture_certificate() {
        let cert = fixture_leaf();
        assert_eq!(cert.subject, "C=US, ST=WA, L=Seattle, O=Notary, CN=alpine");
        assert_eq!(cert.identity(), cert.subject);
        assert_eq!(cert.sig_alg, SigAlg::RsaPkcs1(Hash::Sha256));
        assert_eq!(cert.key.as_ref().unwrap().algorithm(), "rsa");
        // Aug 29 13:50:00 2000 GMT .. Aug 29 13:50:00 2123 GMT
        assert_eq!(cert.not_before_ms, 967_557_000_000);
        assert_eq!(cert.not_after_ms, 4_848_990_600_000);
        assert_eq!(cert.key_usage, Some((true, false)));
        assert_eq!(cert.code_signing, Some(true));
        cert.may_sign_code().unwrap();
    }

    /// RSA PKCS#1 v1.5 with SHA-256: the fixture is self-signed.
    #[test]
    fn self_signature_of_the_rsa_fixture_verifies() {
        let cert = fixture_leaf();
        cert.issued_by(&cert).unwrap();
        let mut broken = cert.clone();
        broken.tbs[40] ^= 1;
        assert!(broken.issued_by(&cert).is_err());
        // It may not act as an issuer: its key usage lacks keyCertSign.
        assert!(cert.may_issue_as_anchor().is_err());
        assert!(cert.may_issue_in_chain().is_err());
    }

    #[test]
    fn validity_window_is_checked_at_the_given_time() {
        let cert = fixture_leaf();
        check_validity(&cert, cert.not_before_ms, "now").unwrap();
        check_validity(&cert, cert.not_after_ms, "now").unwrap();
        check_validity(&cert, 1_678_781_402_000, "the signing time").unwrap();
        let before = check_validity(&cert, cert.not_before_ms - 1, "the signing time");
        match before {
            Err(Failure::CertificateExpired(msg)) => {
                assert!(msg.contains("2000-08-29T13:50:00Z"), "{msg}");
                assert!(msg.contains("the signing time"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_validity(&cert, cert.not_after_ms + 1, "now"),
            Err(Failure::CertificateExpired(_))
        ));
    }

    #[test]
    fn chain_of_the_trusted_leaf_itself() {
        let chain = [fixture_leaf()];
        let roots = [TrustedCert::from_der(&chain[0].der).unwrap()];
        verify_chain(&chain, &roots, 1_678_781_402_000, "now").unwrap();
        assert!(matches!(
            verify_chain(&chain, &roots, 5_000_000_000_000, "now"),
            Err(Failure::CertificateExpired(_))
        ));
        assert!(matches!(
            verify_chain(&chain, &[], 1_678_781_402_000, "now"),
            Err(Failure::CertificateUntrusted(_))
        ));
    }
}
