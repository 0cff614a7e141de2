//! Notation: the real JWS fixture (RSA, PS256), and generated JWS and COSE envelopes.

mod common;

use common::*;
use signature::{verify, Envelope, Failure, Scheme, TrustConfig, TrustedCert};

const ALPINE_DIGEST: &str =
    "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
const ALPINE_SUBJECT: &str = "C=US, ST=WA, L=Seattle, O=Notary, CN=alpine";
/// 2023-03-14T16:10:02+08:00
const ALPINE_SIGNED: i64 = 1_678_781_402_000;

fn alpine_jws() -> Vec<u8> {
    fixture("notation/jws_signature.sig")
}

/// The certificates of the envelope's x5c (leaf first), DER.
fn alpine_x5c() -> Vec<Vec<u8>> {
    let jws: serde_json::Value = serde_json::from_slice(&alpine_jws()).unwrap();
    jws["header"]["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(c.as_str().unwrap())
                .unwrap()
        })
        .collect()
}

fn alpine_trust() -> TrustConfig {
    let x5c = alpine_x5c();
    // The chain's last certificate: its root (here the chain is one self-signed certificate).
    trust_certs(&[x5c.last().unwrap()])
}

fn jws_env(envelope: Vec<u8>) -> Envelope {
    Envelope::NotationJws { envelope }
}

fn cose_env(envelope: Vec<u8>) -> Envelope {
    Envelope::NotationCose { envelope }
}

/// The fixture with its JSON fields replaced.
fn alpine_with(edit: impl FnOnce(&mut serde_json::Value)) -> Envelope {
    let mut jws: serde_json::Value = serde_json::from_slice(&alpine_jws()).unwrap();
    edit(&mut jws);
    jws_env(jws.to_string().into_bytes())
}

// ---- the real fixture ----

#[test]
fn real_notation_jws_verifies_when_its_root_cert_is_trusted() {
    let x5c = alpine_x5c();
    assert_eq!(x5c.len(), 1);
    let verified = verify(&jws_env(alpine_jws()), ALPINE_DIGEST, &alpine_trust(), NOW).unwrap();
    assert_eq!(verified.scheme, Scheme::Notation);
    assert_eq!(verified.signer, ALPINE_SUBJECT);
    assert_eq!(verified.signed_at_ms, Some(ALPINE_SIGNED));
}

#[test]
fn real_notation_jws_verifies_when_its_leaf_cert_is_trusted_from_pem() {
    let leaf_pem = pem("CERTIFICATE", &alpine_x5c()[0]);
    let roots = TrustedCert::from_pem(&leaf_pem).unwrap();
    assert_eq!(roots[0].subject(), ALPINE_SUBJECT);
    let trust = TrustConfig {
        keys: Vec::new(),
        roots,
    };
    verify(&jws_env(alpine_jws()), ALPINE_DIGEST, &trust, NOW).unwrap();
}

#[test]
fn real_notation_jws_with_only_an_unrelated_cert_trusted_is_certificate_untrusted() {
    let unrelated = TrustedCert::from_pem(&data("rsa/root.pem")).unwrap();
    let trust = TrustConfig {
        keys: Vec::new(),
        roots: unrelated,
    };
    let err = verify(&jws_env(alpine_jws()), ALPINE_DIGEST, &trust, NOW).unwrap_err();
    assert!(
        matches!(&err, Failure::CertificateUntrusted(msg) if msg.contains("CN=alpine")),
        "{err:?}"
    );
    // No roots at all, or only keys: untrusted as well.
    let key = Key::generate(Kind::P256);
    for trust in [TrustConfig::default(), trust_keys(&[("k", &key)])] {
        assert!(matches!(
            verify(&jws_env(alpine_jws()), ALPINE_DIGEST, &trust, NOW),
            Err(Failure::CertificateUntrusted(_))
        ));
    }
}

#[test]
fn real_notation_jws_for_another_digest_is_digest_mismatch() {
    assert_eq!(
        verify(&jws_env(alpine_jws()), DIGEST, &alpine_trust(), NOW),
        Err(Failure::DigestMismatch {
            signed: ALPINE_DIGEST.to_string(),
            expected: DIGEST.to_string()
        })
    );
}

/// Swapping the payload for one naming another digest breaks the signature.
#[test]
fn real_notation_jws_with_its_payload_digest_swapped_fails() {
    let env = alpine_with(|jws| jws["payload"] = b64url(&notation_payload(DIGEST)).into());
    assert!(matches!(
        verify(&env, DIGEST, &alpine_trust(), NOW),
        Err(Failure::BadSignature(_))
    ));
    assert!(matches!(
        verify(&env, ALPINE_DIGEST, &alpine_trust(), NOW),
        Err(Failure::DigestMismatch { .. })
    ));
}

#[test]
fn real_notation_jws_with_its_protected_header_changed_is_bad_signature() {
    let env = alpine_with(|jws| {
        let header = serde_json::json!({
            "alg": "PS256",
            "crit": ["io.cncf.notary.signingScheme"],
            "cty": "application/vnd.cncf.notary.payload.v1+json",
            "io.cncf.notary.signingScheme": "notary.x509",
            "io.cncf.notary.signingTime": "2024-03-14T16:10:02+08:00"
        });
        jws["protected"] = b64url(header.to_string().as_bytes()).into();
    });
    assert!(matches!(
        verify(&env, ALPINE_DIGEST, &alpine_trust(), NOW),
        Err(Failure::BadSignature(_))
    ));
    let env = alpine_with(|jws| jws["signature"] = b64url(&[7u8; 256]).into());
    assert!(matches!(
        verify(&env, ALPINE_DIGEST, &alpine_trust(), NOW),
        Err(Failure::BadSignature(_))
    ));
}

/// notary.x509 without a timestamp countersignature: the chain must be valid now. The
/// fixture's certificate is valid 2000-08-29 to 2123-08-29.
#[test]
fn real_notation_jws_outside_its_certificate_validity_is_certificate_expired() {
    let after = 4_900_000_000_000; // 2125
    let err = verify(
        &jws_env(alpine_jws()),
        ALPINE_DIGEST,
        &alpine_trust(),
        after,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Failure::CertificateExpired(msg) if msg.contains("2123-08-29T13:50:00Z")),
        "{err:?}"
    );
    let before = 900_000_000_000; // 1998
    assert!(matches!(
        verify(
            &jws_env(alpine_jws()),
            ALPINE_DIGEST,
            &alpine_trust(),
            before
        ),
        Err(Failure::CertificateExpired(_))
    ));
}

#[test]
fn real_notation_jws_with_its_x5c_replaced_fails() {
    let pki = Pki::new(Kind::P256);
    let env = alpine_with(|jws| jws["header"]["x5c"] = serde_json::json!([b64(&pki.leaf)]));
    // The RSA signature against an ECDSA leaf: alg does not fit.
    assert!(matches!(
        verify(&env, ALPINE_DIGEST, &pki.trust_root(), NOW),
        Err(Failure::BadSignature(_))
    ));
    let env = alpine_with(|jws| jws["header"]["x5c"] = serde_json::json!([]));
    assert!(matches!(
        verify(&env, ALPINE_DIGEST, &alpine_trust(), NOW),
        Err(Failure::Malformed(_))
    ));
}

// ---- generated JWS ----

fn gen_jws(pki: &Pki, chain: &[&[u8]], protected: serde_json::Value, digest: &str) -> Envelope {
    jws_env(jws(
        &pki.leaf_key,
        chain,
        &protected,
        &notation_payload(digest),
    ))
}

#[test]
fn generated_jws_es256_and_es384_verify_through_a_chain() {
    for kind in [Kind::P256, Kind::P384] {
        let pki = Pki::new(kind);
        let signed = NOW - DAY;
        let env = gen_jws(
            &pki,
            &[&pki.leaf, &pki.inter, &pki.root],
            jws_protected(pki.leaf_key.jose_alg(), signed, None),
            DIGEST,
        );
        let verified = verify(&env, DIGEST, &pki.trust_root(), NOW).unwrap();
        assert_eq!(verified.signer, "CN=Test Signer");
        assert_eq!(verified.signed_at_ms, Some(signed));
        // Chain without the root, root trusted; or only the leaf trusted.
        let env = gen_jws(
            &pki,
            &[&pki.leaf, &pki.inter],
            jws_protected(pki.leaf_key.jose_alg(), signed, None),
            DIGEST,
        );
        verify(&env, DIGEST, &pki.trust_root(), NOW).unwrap();
        verify(&env, DIGEST, &trust_certs(&[&pki.leaf]), NOW).unwrap();
        // An unrelated root.
        let other = Pki::new(kind);
        assert!(matches!(
            verify(&env, DIGEST, &other.trust_root(), NOW),
            Err(Failure::CertificateUntrusted(_))
        ));
    }
}

#[test]
fn generated_jws_past_its_expiry_is_signature_expired() {
    let pki = Pki::new(Kind::P256);
    let env = gen_jws(
        &pki,
        &[&pki.leaf, &pki.inter],
        jws_protected("ES256", NOW - 2 * DAY, Some(NOW - DAY)),
        DIGEST,
    );
    assert!(matches!(
        verify(&env, DIGEST, &pki.trust_root(), NOW),
        Err(Failure::SignatureExpired(_))
    ));
    verify(&env, DIGEST, &pki.trust_root(), NOW - 2 * DAY + 1).unwrap();
}

#[test]
fn generated_jws_with_an_expired_leaf_is_certificate_expired() {
    let pki = Pki::with_leaf_validity(Kind::P256, NOW - 2 * YEAR, NOW - YEAR);
    // Signed while the certificate was valid; verified after it expired.
    let env = gen_jws(
        &pki,
        &[&pki.leaf, &pki.inter],
        jws_protected("ES256", NOW - 18 * 30 * DAY, None),
        DIGEST,
    );
    assert!(matches!(
        verify(&env, DIGEST, &pki.trust_root(), NOW),
        Err(Failure::CertificateExpired(msg)) if msg.contains("Test Signer")
    ));
    verify(&env, DIGEST, &pki.trust_root(), NOW - 18 * 30 * DAY).unwrap();
}

#[test]
fn generated_jws_header_rules() {
    let pki = Pki::new(Kind::P256);
    let chain: [&[u8]; 2] = [&pki.leaf, &pki.inter];
    let trust = pki.trust_root();
    let check = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut protected = jws_protected("ES256", NOW - DAY, None);
        edit(&mut protected);
        verify(
            &gen_jws(&pki, &chain, protected, DIGEST),
            DIGEST,
            &trust,
            NOW,
        )
    };
    check(&|_| {}).unwrap();
    assert!(matches!(
        check(&|h| {
            h["crit"] = serde_json::json!(["io.cncf.notary.signingScheme", "io.cncf.notary.verificationPlugin"]);
            h["io.cncf.notary.verificationPlugin"] = "x".into();
        }),
        Err(Failure::Unsupported(msg)) if msg.contains("verificationPlugin")
    ));
    assert!(matches!(
        check(&|h| h["crit"] =
            serde_json::json!(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"])),
        Err(Failure::Malformed(_))
    ));
    assert!(matches!(
        check(&|h| {
            h.as_object_mut().unwrap().remove("crit");
        }),
        Err(Failure::Malformed(_))
    ));
    assert!(matches!(
        check(&|h| h["io.cncf.notary.signingScheme"] = "notary.x509.signingAuthority".into()),
        Err(Failure::Unsupported(_))
    ));
    assert!(matches!(
        check(&|h| h["cty"] = "application/json".into()),
        Err(Failure::Malformed(_))
    ));
    assert!(matches!(
        check(&|h| h["alg"] = "RS256".into()),
        Err(Failure::Unsupported(_))
    ));
    assert!(matches!(
        check(&|h| h["alg"] = "ES512".into()),
        Err(Failure::Unsupported(_))
    ));
    assert!(matches!(
        check(&|h| h["alg"] = "PS256".into()),
        Err(Failure::BadSignature(_))
    ));
    assert!(matches!(
        check(&|h| h["io.cncf.notary.signingTime"] = "yesterday".into()),
        Err(Failure::Malformed(_))
    ));
}

// ---- generated COSE ----

fn gen_cose(
    pki: &Pki,
    chain: &[&[u8]],
    signed: i64,
    expiry: Option<i64>,
    digest: &str,
) -> Envelope {
    cose_env(cose(
        &pki.leaf_key,
        chain,
        cose_protected(pki.leaf_key.cose_alg(), signed, expiry),
        &notation_payload(digest),
    ))
}

#[test]
fn generated_cose_es256_and_es384_verify() {
    for kind in [Kind::P256, Kind::P384] {
        let pki = Pki::new(kind);
        let signed = NOW - DAY;
        let env = gen_cose(
            &pki,
            &[&pki.leaf, &pki.inter, &pki.root],
            signed,
            None,
            DIGEST,
        );
        let verified = verify(&env, DIGEST, &pki.trust_root(), NOW).unwrap();
        assert_eq!(verified.scheme, Scheme::Notation);
        assert_eq!(verified.signer, "CN=Test Signer");
        assert_eq!(verified.signed_at_ms, Some(signed));
    }
}

#[test]
fn generated_cose_untagged_is_accepted() {
    let pki = Pki::new(Kind::P256);
    let Envelope::NotationCose { envelope } =
        gen_cose(&pki, &[&pki.leaf, &pki.inter], NOW - DAY, None, DIGEST)
    else {
        unreachable!()
    };
    assert_eq!(envelope[0], 0xd2); // tag 18
    verify(
        &cose_env(envelope[1..].to_vec()),
        DIGEST,
        &pki.trust_root(),
        NOW,
    )
    .unwrap();
}

#[test]
fn generated_cose_failures() {
    let pki = Pki::new(Kind::P256);
    let chain: [&[u8]; 2] = [&pki.leaf, &pki.inter];
    let trust = pki.trust_root();

    // Another digest.
    let env = gen_cose(&pki, &chain, NOW - DAY, None, OTHER_DIGEST);
    assert!(matches!(
        verify(&env, DIGEST, &trust, NOW),
        Err(Failure::DigestMismatch { .. })
    ));

    // Payload swapped after signing.
    let good = cose(
        &pki.leaf_key,
        &chain,
        cose_protected(-7, NOW - DAY, None),
        &notation_payload(DIGEST),
    );
    let swapped = {
        let needle = &DIGEST.as_bytes()[7..];
        let at = good
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        let mut out = good.clone();
        out[at..at + needle.len()].copy_from_slice(&OTHER_DIGEST.as_bytes()[7..]);
        out
    };
    assert!(matches!(
        verify(&cose_env(swapped), OTHER_DIGEST, &trust, NOW),
        Err(Failure::BadSignature(_))
    ));

    // Expired signature, expired certificate, untrusted chain.
    let env = gen_cose(&pki, &chain, NOW - 2 * DAY, Some(NOW - DAY), DIGEST);
    assert!(matches!(
        verify(&env, DIGEST, &trust, NOW),
        Err(Failure::SignatureExpired(_))
    ));
    assert!(matches!(
        verify(&env, DIGEST, &trust, NOW + 10 * YEAR),
        Err(Failure::CertificateExpired(_))
    ));
    assert!(matches!(
        verify(&env, DIGEST, &Pki::new(Kind::P256).trust_root(), NOW),
        Err(Failure::CertificateUntrusted(_))
    ));

    // Unknown critical header, unsupported alg, missing signing time.
    let mut protected = cose_protected(-7, NOW - DAY, None);
    protected[1] = (
        C::Int(2),
        C::Array(vec![text("io.cncf.notary.signingScheme"), C::Int(99)]),
    );
    protected.push((C::Int(99), C::Int(1)));
    let env = cose_env(cose(
        &pki.leaf_key,
        &chain,
        protected,
        &notation_payload(DIGEST),
    ));
    assert!(matches!(
        verify(&env, DIGEST, &trust, NOW),
        Err(Failure::Unsupported(msg)) if msg.contains("99")
    ));
    let mut protected = cose_protected(-7, NOW - DAY, None);
    protected[0] = (C::Int(1), C::Int(-8));
    let env = cose_env(cose(
        &pki.leaf_key,
        &chain,
        protected,
        &notation_payload(DIGEST),
    ));
    assert!(matches!(
        verify(&env, DIGEST, &trust, NOW),
        Err(Failure::Unsupported(_))
    ));
    let mut protected = cose_protected(-7, NOW - DAY, None);
    protected.retain(|(k, _)| !matches!(k, C::Text(t) if t == "io.cncf.notary.signingTime"));
    let env = cose_env(cose(
        &pki.leaf_key,
        &chain,
        protected,
        &notation_payload(DIGEST),
    ));
    assert!(matches!(
        verify(&env, DIGEST, &trust, NOW),
        Err(Failure::Malformed(_))
    ));

    // Detached payload.
    let detached = cbor(&C::Tag(
        18,
        Box::new(C::Array(vec![
            C::Bytes(cbor(&C::Map(cose_protected(-7, NOW, None)))),
            C::Map(vec![(C::Int(33), C::Bytes(pki.leaf.clone()))]),
            C::Null,
            C::Bytes(vec![0; 64]),
        ])),
    ));
    assert!(matches!(
        verify(&cose_env(detached), DIGEST, &trust, NOW),
        Err(Failure::Unsupported(_))
    ));
}
