//! Notation (Notary Project) signatures, `notary.x509` signing scheme, in JWS or COSE
//! envelopes.

use ring::signature::{self as sig, VerificationAlgorithm};
use serde_json::{Map, Value};

use crate::cbor::{self, Value as Cbor};
use crate::cert::{verify_chain, Cert, MAX_CHAIN};
use crate::encoding::{b64, b64url};
use crate::keys::KeyAlg;
use crate::time::{format_ms, parse_rfc3339};
use crate::{Failure, Scheme, TrustConfig, Verified};

const PAYLOAD_CTY: &str = "application/vnd.cncf.notary.payload.v1+json";
const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const EXPIRY: &str = "io.cncf.notary.expiry";
/// Critical headers this verifier understands.
const UNDERSTOOD: &[&str] = &[SIGNING_SCHEME, SIGNING_TIME, EXPIRY];

/// The signature algorithms Notation allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

impl Alg {
    fn name(self) -> &'static str {
        match self {
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
            Alg::Es512 => "ES512",
        }
    }

    fn from_jose(name: &str) -> Option<Alg> {
        [
            Alg::Ps256,
            Alg::Ps384,
            Alg::Ps512,
            Alg::Es256,
            Alg::Es384,
            Alg::Es512,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }

    fn from_cose(label: i64) -> Option<Alg> {
        Some(match label {
            -37 => Alg::Ps256,
            -38 => Alg::Ps384,
            -39 => Alg::Ps512,
            -7 => Alg::Es256,
            -35 => Alg::Es384,
            -36 => Alg::Es512,
            _ => return None,
        })
    }

    /// ring's algorithm for this `alg` and key; ECDSA signatures are raw `r || s`.
    fn ring(self, key: KeyAlg) -> Result<&'static dyn VerificationAlgorithm, Failure> {
        Ok(match (self, key) {
            (Alg::Ps256, KeyAlg::Rsa) => &sig::RSA_PSS_2048_8192_SHA256,
            (Alg::Ps384, KeyAlg::Rsa) => &sig::RSA_PSS_2048_8192_SHA384,
            (Alg::Ps512, KeyAlg::Rsa) => &sig::RSA_PSS_2048_8192_SHA512,
            (Alg::Es256, KeyAlg::EcdsaP256) => &sig::ECDSA_P256_SHA256_FIXED,
            (Alg::Es384, KeyAlg::EcdsaP384) => &sig::ECDSA_P384_SHA384_FIXED,
            (Alg::Es512, _) => {
                return Err(Failure::Unsupported(
                    "ES512 (ECDSA P-521): ring, the verifier used, has no P-521".to_string(),
                ))
            }
            (alg, key) => {
                return Err(Failure::BadSignature(format!(
                    "the envelope's alg {} does not fit the signing certificate's {} key",
                    alg.name(),
                    key.name()
                )))
            }
        })
    }
}

/// What both envelope formats yield.
struct Parts {
    alg: Alg,
    signing_time_ms: i64,
    expiry_ms: Option<i64>,
    /// Leaf first.
    chain: Vec<Cert>,
    payload: Vec<u8>,
    signed_bytes: Vec<u8>,
    signature: Vec<u8>,
}

fn malformed(msg: impl Into<String>) -> Failure {
    Failure::Malformed(msg.into())
}

/// Checks the protected header's scheme, content type and critical list (labels as text;
/// COSE integer labels in `crit` are reported by number).
fn check_common_headers(
    scheme: Option<&str>,
    cty: Option<&str>,
    crit: &[String],
    present: &dyn Fn(&str) -> bool,
) -> Result<(), Failure> {
    match scheme {
        Some("notary.x509") => {}
        Some("notary.x509.signingAuthority") => {
            return Err(Failure::Unsupported(
                "Notation signing scheme notary.x509.signingAuthority (only notary.x509)"
                    .to_string(),
            ))
        }
        Some(other) => {
            return Err(Failure::Unsupported(format!(
                "Notation signing scheme '{other}' (only notary.x509)"
            )))
        }
        None => {
            return Err(malformed(format!(
                "the protected header has no {SIGNING_SCHEME}"
            )))
        }
    }
    if cty != Some(PAYLOAD_CTY) {
        return Err(malformed(format!(
            "the content type is {}, not {PAYLOAD_CTY}",
            cty.unwrap_or("missing")
        )));
    }
    if !crit.iter().any(|c| c == SIGNING_SCHEME) {
        return Err(malformed(format!("crit does not list {SIGNING_SCHEME}")));
    }
    for label in crit {
        if !UNDERSTOOD.contains(&label.as_str()) {
            return Err(Failure::Unsupported(format!(
                "critical header '{label}' is not understood by this verifier"
            )));
        }
        if !present(label) {
            return Err(malformed(format!(
                "crit lists '{label}', which the protected header lacks"
            )));
        }
    }
    Ok(())
}

fn verify_parts(
    parts: Parts,
    subject: &str,
    trust: &TrustConfig,
    now_ms: i64,
) -> Result<Verified, Failure> {
    let payload: Value = serde_json::from_slice(&parts.payload)
        .map_err(|e| malformed(format!("the Notation payload is not JSON: {e}")))?;
    let signed = payload
        .pointer("/targetArtifact/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the Notation payload has no targetArtifact.digest"))?;
    if signed != subject {
        return Err(Failure::DigestMismatch {
            signed: signed.to_string(),
            expected: subject.to_string(),
        });
    }
    let Some(leaf) = parts.chain.first() else {
        return Err(malformed("the envelope carries no certificate"));
    };
    let key = leaf
        .key
        .as_ref()
        .map_err(|e| Failure::Unsupported(format!("the signing certificate's key: {e}")))?;
    if !key.verify_with(
        parts.alg.ring(key.alg())?,
        &parts.signed_bytes,
        &parts.signature,
    ) {
        return Err(Failure::BadSignature(format!(
            "it does not verify with the key of the signing certificate '{}': the envelope was modified",
            leaf.identity()
        )));
    }
    // notary.x509 without a (verified) timestamp countersignature: the signing time is only
    // the signer's claim, so the chain must be valid now (Notary Project signing-scheme spec).
    verify_chain(&parts.chain, &trust.roots, now_ms, "now")?;
    if let Some(expiry) = parts.expiry_ms {
        if now_ms > expiry {
            return Err(Failure::SignatureExpired(format!(
                "it expired at {} ({EXPIRY}); it is now {}",
                format_ms(expiry),
                format_ms(now_ms)
            )));
        }
    }
    Ok(Verified {
        scheme: Scheme::Notation,
        signer: leaf.identity(),
        signed_at_ms: Some(parts.signing_time_ms),
    })
}

fn parse_chain(ders: Vec<Vec<u8>>) -> Result<Vec<Cert>, Failure> {
    if ders.is_empty() || ders.len() > MAX_CHAIN {
        return Err(malformed(format!(
            "the certificate chain must hold 1 to {MAX_CHAIN} certificates"
        )));
    }
    ders.iter()
        .map(|der| Cert::from_der(der).map_err(|e| malformed(format!("certificate: {e}"))))
        .collect()
}

// ---- JWS ----

pub(crate) fn verify_jws(
    envelope: &[u8],
    subject: &str,
    trust: &TrustConfig,
    now_ms: i64,
) -> Result<Verified, Failure> {
    verify_parts(parse_jws(envelope)?, subject, trust, now_ms)
}

fn str_field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, Failure> {
    map.get(name)
        .ok_or_else(|| malformed(format!("the JWS envelope has no {name}")))?
        .as_str()
        .ok_or_else(|| malformed(format!("the JWS envelope's {name} is not a string")))
}

fn parse_jws(envelope: &[u8]) -> Result<Parts, Failure> {
    let jws: Map<String, Value> = serde_json::from_slice(envelope)
        .map_err(|e| malformed(format!("the JWS envelope is not a JSON object: {e}")))?;
    if jws.contains_key("signatures") {
        return Err(Failure::Unsupported(
            "general JWS JSON serialization (Notation uses the flattened form)".to_string(),
        ));
    }
    let protected_b64 = str_field(&jws, "protected")?;
    let payload_b64 = str_field(&jws, "payload")?;
    let signature = b64url(str_field(&jws, "signature")?)
        .ok_or_else(|| malformed("the JWS signature is not base64url"))?;
    let protected: Map<String, Value> = b64url(protected_b64)
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or_else(|| malformed("the JWS protected header is not base64url of a JSON object"))?;
    let payload =
        b64url(payload_b64).ok_or_else(|| malformed("the JWS payload is not base64url"))?;

    let alg_name = protected
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the JWS protected header has no alg"))?;
    let alg = Alg::from_jose(alg_name).ok_or_else(|| {
        Failure::Unsupported(format!(
            "JWS alg '{alg_name}' (Notation allows PS256/384/512 and ES256/384/512)"
        ))
    })?;
    let crit: Vec<String> = match protected.get("crit") {
        None => Vec::new(),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| malformed("the JWS crit list holds a non-string"))?,
        Some(_) => return Err(malformed("the JWS crit is not a non-empty list")),
    };
    check_common_headers(
        protected.get(SIGNING_SCHEME).and_then(Value::as_str),
        protected.get("cty").and_then(Value::as_str),
        &crit,
        &|label| protected.contains_key(label),
    )?;
    let time = |name: &str| -> Result<Option<i64>, Failure> {
        match protected.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(parse_rfc3339)
                .map(Some)
                .ok_or_else(|| malformed(format!("{name} is not an RFC 3339 time"))),
        }
    };
    let signing_time_ms =
        time(SIGNING_TIME)?.ok_or_else(|| malformed(format!("the JWS has no {SIGNING_TIME}")))?;
    let expiry_ms = time(EXPIRY)?;

    let x5c = jws
        .get("header")
        .and_then(|h| h.get("x5c"))
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the JWS unprotected header has no x5c certificate chain"))?;
    if x5c.len() > MAX_CHAIN {
        return Err(malformed(format!(
            "x5c holds more than {MAX_CHAIN} certificates"
        )));
    }
    let ders = x5c
        .iter()
        .map(|c| c.as_str().and_then(b64))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed("an x5c entry is not base64"))?;

    Ok(Parts {
        alg,
        signing_time_ms,
        expiry_ms,
        chain: parse_chain(ders)?,
        payload,
        signed_bytes: format!("{protected_b64}.{payload_b64}").into_bytes(),
        signature,
    })
}

// ---- COSE ----

pub(crate) fn verify_cose(
    envelope: &[u8],
    subject: &str,
    trust: &TrustConfig,
    now_ms: i64,
) -> Result<Verified, Failure> {
    verify_parts(parse_cose(envelope)?, subject, trust, now_ms)
}

fn cose_err(e: String) -> Failure {
    malformed(format!("the COSE envelope: {e}"))
}

fn label_text(label: &Cbor) -> String {
    match label {
        Cbor::Text(t) => t.clone(),
        other => match other.as_i64() {
            Some(n) => n.to_string(),
            None => format!("{other:?}"),
        },
    }
}

fn map_get<'a>(map: &'a [(Cbor, Cbor)], label: &Cbor) -> Option<&'a Cbor> {
    map.iter().find(|(k, _)| k == label).map(|(_, v)| v)
}

/// A CBOR `tdate` as Notation writes it: tag 1 around integer epoch seconds.
fn tdate_ms(value: &Cbor, name: &str) -> Result<i64, Failure> {
    match value {
        Cbor::Tag(1, inner) => inner
            .as_i64()
            .and_then(|s| s.checked_mul(1000))
            .ok_or_else(|| malformed(format!("{name} is not integer epoch seconds"))),
        _ => Err(malformed(format!("{name} is not a tag-1 date"))),
    }
}

fn parse_cose(envelope: &[u8]) -> Result<Parts, Failure> {
    let value = cbor::decode(envelope).map_err(cose_err)?;
    let value = match value {
        Cbor::Tag(18, inner) => *inner,
        Cbor::Tag(tag, _) => {
            return Err(malformed(format!("CBOR tag {tag} is not COSE_Sign1 (18)")))
        }
        untagged => untagged,
    };
    let Cbor::Array(items) = value else {
        return Err(malformed("COSE_Sign1 is not an array"));
    };
    let [protected_raw, unprotected, payload, signature] = <[Cbor; 4]>::try_from(items)
        .map_err(|_| malformed("COSE_Sign1 does not have four elements"))?;
    let Cbor::Bytes(protected_raw) = protected_raw else {
        return Err(malformed("the COSE protected header is not a byte string"));
    };
    let protected = if protected_raw.is_empty() {
        Vec::new()
    } else {
        match cbor::decode(&protected_raw).map_err(cose_err)? {
            Cbor::Map(m) => m,
            _ => return Err(malformed("the COSE protected header is not a map")),
        }
    };
    let Cbor::Map(unprotected) = unprotected else {
        return Err(malformed("the COSE unprotected header is not a map"));
    };
    let payload = match payload {
        Cbor::Bytes(p) => p,
        Cbor::Null => return Err(Failure::Unsupported("a detached COSE payload".to_string())),
        _ => return Err(malformed("the COSE payload is not a byte string")),
    };
    let Cbor::Bytes(signature) = signature else {
        return Err(malformed("the COSE signature is not a byte string"));
    };

    let alg_label = map_get(&protected, &Cbor::Uint(1))
        .ok_or_else(|| malformed("the COSE protected header has no alg (1)"))?;
    let alg = alg_label.as_i64().and_then(Alg::from_cose).ok_or_else(|| {
        Failure::Unsupported(format!(
            "COSE alg {} (Notation allows PS256/384/512 = -37/-38/-39 and ES256/384/512 = -7/-35/-36)",
            label_text(alg_label)
        ))
    })?;
    let crit: Vec<String> = match map_get(&protected, &Cbor::Uint(2)) {
        None => Vec::new(),
        Some(Cbor::Array(labels)) if !labels.is_empty() => labels.iter().map(label_text).collect(),
        Some(_) => return Err(malformed("the COSE crit (2) is not a non-empty list")),
    };
    let text = |name: &str| map_get(&protected, &Cbor::Text(name.to_string()));
    let as_text = |v: Option<&Cbor>| match v {
        Some(Cbor::Text(t)) => Some(t.clone()),
        _ => None,
    };
    check_common_headers(
        as_text(text(SIGNING_SCHEME)).as_deref(),
        as_text(map_get(&protected, &Cbor::Uint(3))).as_deref(),
        &crit,
        &|label| text(label).is_some(),
    )?;
    let signing_time_ms = tdate_ms(
        text(SIGNING_TIME)
            .ok_or_else(|| malformed(format!("the COSE envelope has no {SIGNING_TIME}")))?,
        SIGNING_TIME,
    )?;
    let expiry_ms = text(EXPIRY).map(|v| tdate_ms(v, EXPIRY)).transpose()?;

    let ders = match map_get(&unprotected, &Cbor::Uint(33)) {
        Some(Cbor::Bytes(one)) => vec![one.clone()],
        Some(Cbor::Array(many)) => many
            .iter()
            .map(|c| match c {
                Cbor::Bytes(der) => Some(der.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed("an x5chain (33) entry is not a byte string"))?,
        Some(_) => return Err(malformed("x5chain (33) is neither bytes nor a list")),
        None => return Err(malformed("the COSE unprotected header has no x5chain (33)")),
    };

    Ok(Parts {
        alg,
        signing_time_ms,
        expiry_ms,
        chain: parse_chain(ders)?,
        signed_bytes: cbor::sig_structure1(&protected_raw, &payload),
        payload,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/signatures/notation/jws_signature.sig"
        ))
        .unwrap()
    }

    #[test]
    fn parses_the_fixture_envelope() {
        let parts = parse_jws(&fixture()).unwrap();
        assert_eq!(parts.alg, Alg::Ps256);
        assert_eq!(parts.signing_time_ms, 1_678_781_402_000);
        assert_eq!(parts.expiry_ms, None);
        assert_eq!(parts.chain.len(), 1);
    }

    /// RSA-PSS with SHA-256 (the fixture's PS256) through the cosign key path too: an RSA
    /// key tries PKCS#1 v1.5, then PSS.
    #[test]
    fn rsa_pss_signature_of_the_fixture_verifies() {
        let parts = parse_jws(&fixture()).unwrap();
        let key = parts.chain[0].key.clone().unwrap();
        assert!(key.verify_with(
            &sig::RSA_PSS_2048_8192_SHA256,
            &parts.signed_bytes,
            &parts.signature
        ));
        assert!(key.verify_cosign(&parts.signed_bytes, &parts.signature));
        let mut tampered = parts.signed_bytes.clone();
        tampered[0] ^= 1;
        assert!(!key.verify_cosign(&tampered, &parts.signature));
        // The wrong PSS hash fails.
        assert!(!key.verify_with(
            &sig::RSA_PSS_2048_8192_SHA384,
            &parts.signed_bytes,
            &parts.signature
        ));
    }

    #[test]
    fn alg_must_fit_the_key() {
        assert!(Alg::Ps256.ring(KeyAlg::Rsa).is_ok());
        assert!(matches!(
            Alg::Es256.ring(KeyAlg::Rsa),
            Err(Failure::BadSignature(_))
        ));
        assert!(matches!(
            Alg::Es512.ring(KeyAlg::EcdsaP256),
            Err(Failure::Unsupported(_))
        ));
        assert_eq!(Alg::from_cose(-37), Some(Alg::Ps256));
        assert_eq!(Alg::from_cose(-8), None);
        assert_eq!(Alg::from_jose("RS256"), None);
    }
}
