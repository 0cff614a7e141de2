//! cosign: simple signing (payload layer + annotations) and Sigstore bundles.

use serde_json::Value;

use crate::cert::{verify_chain, Cert, MAX_CHAIN};
use crate::encoding::{b64, hex, parse_pem};
use crate::{Failure, Scheme, TrustConfig, Verified};

/// The in-toto predicate type of a cosign (v3) image signature.
pub(crate) const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const IN_TOTO: &str = "application/vnd.in-toto+json";
const BUNDLE_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

pub(crate) struct SimpleSigning<'a> {
    pub payload: &'a [u8],
    pub signature_b64: &'a str,
    pub certificate_pem: Option<&'a str>,
    pub chain_pem: Option<&'a str>,
    pub bundle_json: Option<&'a str>,
}

/// What vouches for the signature: trusted keys, or a certificate chain (leaf first).
enum Material {
    Keys,
    Certs(Vec<Cert>),
}

pub(crate) fn verify_simple_signing(
    s: SimpleSigning,
    subject: &str,
    trust: &TrustConfig,
    now_ms: i64,
) -> Result<Verified, Failure> {
    let payload: Value = serde_json::from_slice(s.payload)
        .map_err(|e| Failure::Malformed(format!("the simple-signing payload is not JSON: {e}")))?;
    let signed = payload
        .pointer("/critical/image/docker-manifest-digest")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::Malformed(
                "the simple-signing payload has no critical.image.docker-manifest-digest"
                    .to_string(),
            )
        })?;
    if signed != subject {
        return Err(Failure::DigestMismatch {
            signed: signed.to_string(),
            expected: subject.to_string(),
        });
    }
    let signature = b64(s.signature_b64)
        .filter(|sig| !sig.is_empty())
        .ok_or_else(|| {
            Failure::Malformed(format!(
                "the {} annotation is not base64",
                crate::COSIGN_SIGNATURE_ANNOTATION
            ))
        })?;
    let signed_at = s.bundle_json.map(rekor_integrated_time).transpose()?;
    let material = match s.certificate_pem.filter(|p| !p.trim().is_empty()) {
        Some(pem) => Material::Certs(certs_from_pem(pem, s.chain_pem)?),
        None => Material::Keys,
    };
    let signer = verify_signer(s.payload, &[signature], material, trust, signed_at, now_ms)?;
    Ok(Verified {
        scheme: Scheme::Cosign,
        signer,
        signed_at_ms: signed_at,
    })
}

/// `Payload.integratedTime` of the Rekor bundle annotation, in milliseconds. The bundle's
/// SignedEntryTimestamp is not verified (the trust configuration holds no Rekor key).
fn rekor_integrated_time(bundle: &str) -> Result<i64, Failure> {
    let value: Value = serde_json::from_str(bundle).map_err(|e| {
        Failure::Malformed(format!(
            "the {} annotation is not JSON: {e}",
            crate::COSIGN_BUNDLE_ANNOTATION
        ))
    })?;
    value
        .pointer("/Payload/integratedTime")
        .and_then(seconds_to_ms)
        .ok_or_else(|| {
            Failure::Malformed(format!(
                "the {} annotation has no valid Payload.integratedTime",
                crate::COSIGN_BUNDLE_ANNOTATION
            ))
        })
}

/// Positive Unix seconds, as a JSON number or (protobuf JSON's int64) a string.
fn seconds_to_ms(value: &Value) -> Option<i64> {
    let secs = match value {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()?
        }
        _ => return None,
    };
    if secs <= 0 {
        return None;
    }
    secs.checked_mul(1000)
}

fn certs_from_pem(cert_pem: &str, chain_pem: Option<&str>) -> Result<Vec<Cert>, Failure> {
    let mut ders: Vec<Vec<u8>> = Vec::new();
    for (what, pem) in [
        (crate::COSIGN_CERT_ANNOTATION, Some(cert_pem)),
        (crate::COSIGN_CHAIN_ANNOTATION, chain_pem),
    ] {
        let Some(pem) = pem else { continue };
        let blocks = parse_pem(pem)
            .map_err(|e| Failure::Malformed(format!("the {what} annotation: {e}")))?;
        for block in blocks.into_iter().filter(|b| b.label == "CERTIFICATE") {
            if !ders.contains(&block.der) {
                ders.push(block.der);
            }
        }
        if ders.is_empty() {
            return Err(Failure::Malformed(format!(
                "the {what} annotation holds no CERTIFICATE"
            )));
        }
    }
    if ders.len() > MAX_CHAIN {
        return Err(Failure::Malformed(format!(
            "certificate chain of {} certificates (at most {MAX_CHAIN})",
            ders.len()
        )));
    }
    ders.iter()
        .map(|der| Cert::from_der(der).map_err(|e| Failure::Malformed(format!("certificate: {e}"))))
        .collect()
}

/// Which trusted party vouches for one of `signatures` over `message`: the name of a trusted
/// key, or the identity of a certificate chaining to a trusted root.
fn verify_signer(
    message: &[u8],
    signatures: &[Vec<u8>],
    material: Material,
    trust: &TrustConfig,
    signed_at_ms: Option<i64>,
    now_ms: i64,
) -> Result<String, Failure> {
    match material {
        Material::Keys => trust
            .keys
            .iter()
            .find(|(_, key)| signatures.iter().any(|s| key.verify_cosign(message, s)))
            .map(|(name, _)| name.clone())
            .ok_or(Failure::NoTrustedKey),
        Material::Certs(chain) => {
            let Some(leaf) = chain.first() else {
                return Err(Failure::Malformed("no certificate".to_string()));
            };
            let key = leaf.key.as_ref().map_err(|e| {
                Failure::Unsupported(format!("the key of the signing certificate: {e}"))
            })?;
            if !signatures.iter().any(|s| key.verify_cosign(message, s)) {
                return Err(Failure::BadSignature(format!(
                    "it does not verify with the key of its certificate '{}': the payload was modified, or the certificate is not the signer's",
                    leaf.identity()
                )));
            }
            if let Some((name, _)) = trust.keys.iter().find(|(_, k)| k.same_key(key)) {
                return Ok(name.clone());
            }
            if trust.roots.is_empty() {
                return Err(Failure::CertificateUntrusted(format!(
                    "signed with the certificate '{}', but no trusted root certificates are configured and no trusted key is that certificate's key",
                    leaf.identity()
                )));
            }
            let (at, when) = match signed_at_ms {
                Some(t) => (t, "the signing time (Rekor integratedTime)"),
                None => (now_ms, "now (no signing time is known)"),
            };
            verify_chain(&chain, &trust.roots, at, when)?;
            Ok(leaf.identity())
        }
    }
}

fn field<'a>(value: &'a Value, name: &str, within: &str) -> Result<&'a Value, Failure> {
    value
        .get(name)
        .ok_or_else(|| Failure::Malformed(format!("the bundle's {within} has no {name}")))
}

fn b64_field(value: &Value, name: &str, within: &str) -> Result<Vec<u8>, Failure> {
    field(value, name, within)?
        .as_str()
        .and_then(b64)
        .ok_or_else(|| Failure::Malformed(format!("the bundle's {within}.{name} is not base64")))
}

fn raw_cert(value: &Value, within: &str) -> Result<Cert, Failure> {
    let der = b64_field(value, "rawBytes", within)?;
    Cert::from_der(&der).map_err(|e| Failure::Malformed(format!("the bundle's {within}: {e}")))
}

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

pub(crate) fn verify_bundle(
    json: &[u8],
    subject: &str,
    trust: &TrustConfig,
    now_ms: i64,
) -> Result<Verified, Failure> {
    let bundle: Value = serde_json::from_slice(json)
        .map_err(|e| Failure::Malformed(format!("the Sigstore bundle is not JSON: {e}")))?;
    let media_type = field(&bundle, "mediaType", "top level")?
        .as_str()
        .unwrap_or_default();
    if !BUNDLE_MEDIA_TYPES.contains(&media_type) {
        return Err(Failure::Unsupported(format!(
            "Sigstore bundle media type '{media_type}' (v0.1 to v0.3 are supported)"
        )));
    }
    let material = field(&bundle, "verificationMaterial", "top level")?;
    let signed_at = match material.get("tlogEntries") {
        None | Some(Value::Null) => None,
        Some(Value::Array(entries)) => entries
            .iter()
            .find_map(|e| e.get("integratedTime"))
            .map(|t| {
                seconds_to_ms(t).ok_or_else(|| {
                    Failure::Malformed("a tlog entry's integratedTime is not a time".to_string())
                })
            })
            .transpose()?,
        Some(_) => {
            return Err(Failure::Malformed(
                "the bundle's tlogEntries is not a list".to_string(),
            ))
        }
    };
    let material = if let Some(cert) = material.get("certificate") {
        Material::Certs(vec![raw_cert(cert, "certificate")?])
    } else if let Some(chain) = material.get("x509CertificateChain") {
        let certs = field(chain, "certificates", "x509CertificateChain")?
            .as_array()
            .filter(|c| !c.is_empty() && c.len() <= MAX_CHAIN)
            .ok_or_else(|| {
                Failure::Malformed(format!(
                    "the bundle's x509CertificateChain must hold 1 to {MAX_CHAIN} certificates"
                ))
            })?;
        Material::Certs(
            certs
                .iter()
                .map(|c| raw_cert(c, "x509CertificateChain"))
                .collect::<Result<_, _>>()?,
        )
    } else if material.get("publicKey").is_some() {
        Material::Keys
    } else {
        return Err(Failure::Malformed(
            "the bundle's verificationMaterial has no publicKey, certificate or x509CertificateChain"
                .to_string(),
        ));
    };
    let (alg, expected_hex) = subject.split_once(':').unwrap_or(("", subject));

    if let Some(message) = bundle.get("messageSignature") {
        let digest = field(message, "messageDigest", "messageSignature")?;
        let hash = b64_field(digest, "digest", "messageSignature.messageDigest")?;
        let algorithm = digest
            .get("algorithm")
            .and_then(Value::as_str)
            .unwrap_or("");
        let signed = match algorithm {
            "SHA2_256" => format!("sha256:{}", hex(&hash)),
            "SHA2_512" => format!("sha512:{}", hex(&hash)),
            other => format!("{other}:{}", hex(&hash)),
        };
        if signed != subject {
            return Err(Failure::DigestMismatch {
                signed,
                expected: subject.to_string(),
            });
        }
        return Err(Failure::Unsupported(
            "a Sigstore bundle with a messageSignature signs the artifact's own bytes, which this verifier is not given; sign images with a DSSE bundle (cosign's format for images) or simple signing".to_string(),
        ));
    }

    let dsse = bundle.get("dsseEnvelope").ok_or_else(|| {
        Failure::Malformed("the bundle has neither messageSignature nor dsseEnvelope".to_string())
    })?;
    let payload_type = field(dsse, "payloadType", "dsseEnvelope")?
        .as_str()
        .unwrap_or_default();
    if payload_type != IN_TOTO {
        return Err(Failure::Unsupported(format!(
            "DSSE payload type '{payload_type}' (only {IN_TOTO})"
        )));
    }
    let payload = b64_field(dsse, "payload", "dsseEnvelope")?;
    let statement: Value = serde_json::from_slice(&payload).map_err(|e| {
        Failure::Malformed(format!("the DSSE payload is not an in-toto statement: {e}"))
    })?;
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if predicate_type != SIGN_PREDICATE {
        return Err(Failure::Unsupported(format!(
            "an in-toto attestation with predicateType '{predicate_type}' is not an image signature (that is {SIGN_PREDICATE})"
        )));
    }
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::Malformed("the in-toto statement has no subject list".into()))?;
    let names = |s: &Value| -> Option<String> {
        s.get("digest")?
            .get(alg)?
            .as_str()
            .map(|h| format!("{alg}:{h}"))
    };
    if !subjects
        .iter()
        .any(|s| names(s).as_deref() == Some(subject) && !expected_hex.is_empty())
    {
        let signed = subjects
            .iter()
            .find_map(|s| {
                let digests = s.get("digest")?.as_object()?;
                digests
                    .iter()
                    .find_map(|(a, h)| h.as_str().map(|h| format!("{a}:{h}")))
            })
            .unwrap_or_else(|| "no digest".to_string());
        return Err(Failure::DigestMismatch {
            signed,
            expected: subject.to_string(),
        });
    }
    let signatures = field(dsse, "signatures", "dsseEnvelope")?
        .as_array()
        .filter(|s| !s.is_empty() && s.len() <= 16)
        .ok_or_else(|| {
            Failure::Malformed("the DSSE envelope must hold 1 to 16 signatures".to_string())
        })?
        .iter()
        .map(|s| b64_field(s, "sig", "dsseEnvelope.signatures"))
        .collect::<Result<Vec<_>, _>>()?;
    let signer = verify_signer(
        &pae(payload_type, &payload),
        &signatures,
        material,
        trust,
        signed_at,
        now_ms,
    )?;
    Ok(Verified {
        scheme: Scheme::Cosign,
        signer,
        signed_at_ms: signed_at,
    })
}
