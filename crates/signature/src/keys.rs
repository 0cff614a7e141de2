//! Public keys: what cosign keys and certificates carry, and the signature algorithms
//! tried with each.

use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};
use x509_parser::public_key::PublicKey as ParsedKey;

use crate::encoding::{parse_pem, sha256_hex};
use crate::SignatureError;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_ED25519: &str = "1.3.101.112";

/// The kind of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    EcdsaP256,
    EcdsaP384,
    Rsa,
    Ed25519,
}

impl KeyAlg {
    pub(crate) fn name(self) -> &'static str {
        match self {
            KeyAlg::EcdsaP256 => "ecdsa-p256",
            KeyAlg::EcdsaP384 => "ecdsa-p384",
            KeyAlg::Rsa => "rsa",
            KeyAlg::Ed25519 => "ed25519",
        }
    }
}

/// A public key: ECDSA P-256 or P-384, RSA of 2048 to 8192 bits, or Ed25519.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    alg: KeyAlg,
    /// What ring takes: the EC point, the RSAPublicKey DER, or the 32 Ed25519 bytes.
    raw: Vec<u8>,
    /// The SubjectPublicKeyInfo DER.
    spki: Vec<u8>,
}

impl PublicKey {
    /// Reads one PEM `PUBLIC KEY` block (SubjectPublicKeyInfo), as `cosign.pub` holds.
    pub fn from_pem(pem: &str) -> Result<PublicKey, SignatureError> {
        let blocks = parse_pem(pem).map_err(SignatureError::Pem)?;
        let mut keys = blocks.iter().filter(|b| b.label == "PUBLIC KEY");
        let Some(block) = keys.next() else {
            let found: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
            return Err(SignatureError::Pem(if found.is_empty() {
                "no PEM block found".to_string()
            } else {
                format!(
                    "expected a PUBLIC KEY block, found {} (keys in PKCS#1 or private keys are not accepted)",
                    found.join(", ")
                )
            }));
        };
        if keys.next().is_some() {
            return Err(SignatureError::Pem(
                "more than one PUBLIC KEY block: give each key its own name".to_string(),
            ));
        }
        PublicKey::from_spki_der(&block.der)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, SignatureError> {
        let (rest, spki) = SubjectPublicKeyInfo::from_der(der)
            .map_err(|e| SignatureError::InvalidKey(format!("SubjectPublicKeyInfo: {e}")))?;
        if !rest.is_empty() {
            return Err(SignatureError::InvalidKey(
                "trailing bytes after the SubjectPublicKeyInfo".to_string(),
            ));
        }
        PublicKey::from_spki(&spki)
    }

    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo) -> Result<PublicKey, SignatureError> {
        let oid = spki.algorithm.algorithm.to_id_string();
        if spki.subject_public_key.unused_bits != 0 {
            return Err(SignatureError::InvalidKey(
                "the key's BIT STRING has unused bits".to_string(),
            ));
        }
        let raw: &[u8] = &spki.subject_public_key.data;
        let alg = match oid.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string())
                    .ok_or_else(|| {
                        SignatureError::InvalidKey("EC key without a named curve".to_string())
                    })?;
                let (alg, len) = match curve.as_str() {
                    OID_P256 => (KeyAlg::EcdsaP256, 65),
                    OID_P384 => (KeyAlg::EcdsaP384, 97),
                    OID_P521 => {
                        return Err(SignatureError::UnsupportedKey(
                            "ECDSA P-521 (ring, the verifier used, has no P-521)".to_string(),
                        ))
                    }
                    other => {
                        return Err(SignatureError::UnsupportedKey(format!(
                            "EC curve {other} (P-256 and P-384 are supported)"
                        )))
                    }
                };
                if raw.len() != len || raw[0] != 4 {
                    return Err(SignatureError::UnsupportedKey(
                        "EC point is not in uncompressed form".to_string(),
                    ));
                }
                alg
            }
            OID_RSA => {
                let Ok(ParsedKey::RSA(rsa)) = spki.parsed() else {
                    return Err(SignatureError::InvalidKey(
                        "RSA key does not parse".to_string(),
                    ));
                };
                let modulus = rsa.modulus;
                let significant = modulus
                    .iter()
                    .position(|b| *b != 0)
                    .unwrap_or(modulus.len());
                let modulus = &modulus[significant..];
                let bits = match modulus.first() {
                    Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
                    None => 0,
                };
                if !(2048..=8192).contains(&bits) {
                    return Err(SignatureError::UnsupportedKey(format!(
                        "RSA key of {bits} bits (2048 to 8192 are accepted)"
                    )));
                }
                KeyAlg::Rsa
            }
            OID_ED25519 => {
                if raw.len() != 32 {
                    return Err(SignatureError::InvalidKey(
                        "Ed25519 key is not 32 bytes".to_string(),
                    ));
                }
                KeyAlg::Ed25519
            }
            OID_RSA_PSS => {
                return Err(SignatureError::UnsupportedKey(
                    "RSASSA-PSS-only key (id-RSASSA-PSS); use an rsaEncryption key".to_string(),
                ))
            }
            other => {
                return Err(SignatureError::UnsupportedKey(format!(
                    "key algorithm {other} (ECDSA P-256/P-384, RSA and Ed25519 are supported)"
                )))
            }
        };
        Ok(PublicKey {
            alg,
            raw: raw.to_vec(),
            spki: spki.raw.to_vec(),
        })
    }

    /// `"ecdsa-p256"`, `"ecdsa-p384"`, `"rsa"` or `"ed25519"`.
    pub fn algorithm(&self) -> &'static str {
        self.alg.name()
    }

    /// SHA-256 (lowercase hex) of the SubjectPublicKeyInfo DER.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.spki)
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    pub(crate) fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The same key, however its SPKI happens to be encoded.
    pub(crate) fn same_key(&self, other: &PublicKey) -> bool {
        self.alg == other.alg && self.raw == other.raw
    }

    pub(crate) fn verify_with(
        &self,
        alg: &'static dyn VerificationAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        UnparsedPublicKey::new(alg, &self.raw)
            .verify(message, signature)
            .is_ok()
    }

    /// Verifies a cosign (or DSSE) signature: the encodings cosign produces for this kind of
    /// key. ECDSA signatures are ASN.1 DER; P-256 uses SHA-256; P-384 SHA-384, then SHA-256;
    /// RSA PKCS#1 v1.5 with SHA-256, then PSS with SHA-256; Ed25519 is pure.
    pub(crate) fn verify_cosign(&self, message: &[u8], signature: &[u8]) -> bool {
        let algs: &[&'static dyn VerificationAlgorithm] = match self.alg {
            KeyAlg::EcdsaP256 => &[&sig::ECDSA_P256_SHA256_ASN1],
            KeyAlg::EcdsaP384 => &[&sig::ECDSA_P384_SHA384_ASN1, &sig::ECDSA_P384_SHA256_ASN1],
            KeyAlg::Rsa => &[
                &sig::RSA_PKCS1_2048_8192_SHA256,
                &sig::RSA_PSS_2048_8192_SHA256,
            ],
            KeyAlg::Ed25519 => &[&sig::ED25519],
        };
        algs.iter()
            .any(|alg| self.verify_with(*alg, message, signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COSIGN_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----
";

    #[test]
    fn reads_a_p256_key() {
        let key = PublicKey::from_pem(COSIGN_PUB).unwrap();
        assert_eq!(key.algorithm(), "ecdsa-p256");
        assert_eq!(key.fingerprint().len(), 64);
        assert!(key.same_key(&PublicKey::from_spki_der(key.spki_der()).unwrap()));
    }

    #[test]
    fn refuses_other_pem() {
        assert!(matches!(
            PublicKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            Err(SignatureError::Pem(_))
        ));
        assert!(matches!(
            PublicKey::from_pem("hello"),
            Err(SignatureError::Pem(_))
        ));
        let two = format!("{COSIGN_PUB}{COSIGN_PUB}");
        assert!(PublicKey::from_pem(&two).is_err());
        assert!(matches!(
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
            Err(SignatureError::InvalidKey(_))
        ));
    }
}
