//! cosign: simple signing (the real sigstore-rs fixture, generated keys, RSA data, certificate
//! chains) and Sigstore bundles.

mod common;

use common::*;
use signature::{verify, Envelope, Failure, PublicKey, Scheme, SignatureError, TrustConfig};

const BUSYBOX_DIGEST: &str =
    "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

fn busybox_payload() -> Vec<u8> {
    fixture("cosign-sigstore-rs/busybox.payload.json")
}

fn busybox_signature() -> String {
    String::from_utf8(fixture("cosign-sigstore-rs/busybox.payload.sig.b64")).unwrap()
}

fn busybox_trust() -> TrustConfig {
    let pem = String::from_utf8(fixture("cosign-sigstore-rs/cosign.pub")).unwrap();
    TrustConfig {
        keys: vec![(
            "busybox-key".to_string(),
            PublicKey::from_pem(&pem).unwrap(),
        )],
        roots: Vec::new(),
    }
}

fn simple(payload: Vec<u8>, signature_b64: String) -> Envelope {
    Envelope::CosignSimpleSigning {
        payload,
        signature_b64,
        certificate_pem: None,
        chain_pem: None,
        bundle_json: None,
    }
}

fn with_cert(
    payload: Vec<u8>,
    signature: &[u8],
    cert: &[u8],
    chain: &[&[u8]],
    bundle: Option<String>,
) -> Envelope {
    Envelope::CosignSimpleSigning {
        payload,
        signature_b64: b64(signature),
        certificate_pem: Some(pem("CERTIFICATE", cert)),
        chain_pem: (!chain.is_empty())
            .then(|| chain.iter().map(|c| pem("CERTIFICATE", c)).collect()),
        bundle_json: bundle,
    }
}

// ---- the real fixture ----

#[test]
fn real_cosign_fixture_verifies_with_its_key_for_its_digest() {
    let key = busybox_trust();
    assert_eq!(key.keys[0].1.algorithm(), "ecdsa-p256");
    let verified = verify(
        &simple(busybox_payload(), busybox_signature()),
        BUSYBOX_DIGEST,
        &key,
        NOW,
    )
    .unwrap();
    assert_eq!(verified.scheme, Scheme::Cosign);
    assert_eq!(verified.signer, "busybox-key");
    assert_eq!(verified.signed_at_ms, None);
}

#[test]
fn real_cosign_fixture_for_another_digest_is_digest_mismatch() {
    let err = verify(
        &simple(busybox_payload(), busybox_signature()),
        DIGEST,
        &busybox_trust(),
        NOW,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Failure::DigestMismatch {
            signed: BUSYBOX_DIGEST.to_string(),
            expected: DIGEST.to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        format!("signature is over {BUSYBOX_DIGEST}, not {DIGEST}")
    );
}

/// With bare keys a changed payload cannot be told from a foreign key: `NoTrustedKey`.
#[test]
fn real_cosign_fixture_with_one_payload_byte_modified_is_no_trusted_key() {
    let mut payload = busybox_payload();
    let at = payload.windows(7).position(|w| w == b"busybox").unwrap();
    payload[at] = b'B';
    let err = verify(
        &simple(payload, busybox_signature()),
        BUSYBOX_DIGEST,
        &busybox_trust(),
        NOW,
    )
    .unwrap_err();
    assert_eq!(err, Failure::NoTrustedKey);
}

/// A payload changed to name another digest is reported as what it now names.
#[test]
fn real_cosign_fixture_with_its_digest_rewritten_fails() {
    let payload = String::from_utf8(busybox_payload())
        .unwrap()
        .replace(&BUSYBOX_DIGEST[7..], &DIGEST[7..]);
    let trust = busybox_trust();
    let env = simple(payload.into_bytes(), busybox_signature());
    assert_eq!(
        verify(&env, DIGEST, &trust, NOW),
        Err(Failure::NoTrustedKey)
    );
    assert!(matches!(
        verify(&env, BUSYBOX_DIGEST, &trust, NOW),
        Err(Failure::DigestMismatch { .. })
    ));
}

#[test]
fn real_cosign_fixture_with_another_key_trusted_is_no_trusted_key() {
    let other = Key::generate(Kind::P256);
    let trust = trust_keys(&[("other", &other)]);
    assert_eq!(
        verify(
            &simple(busybox_payload(), busybox_signature()),
            BUSYBOX_DIGEST,
            &trust,
            NOW
        ),
        Err(Failure::NoTrustedKey)
    );
    assert_eq!(
        verify(
            &simple(busybox_payload(), busybox_signature()),
            BUSYBOX_DIGEST,
            &TrustConfig::default(),
            NOW
        ),
        Err(Failure::NoTrustedKey)
    );
}

#[test]
fn real_cosign_fixture_names_the_trusted_key_that_verifies() {
    let mut trust = busybox_trust();
    let other = Key::generate(Kind::Ed25519);
    trust
        .keys
        .insert(0, ("first".to_string(), other.public_key()));
    trust
        .keys
        .push(("last".to_string(), Key::generate(Kind::P384).public_key()));
    let verified = verify(
        &simple(busybox_payload(), busybox_signature()),
        BUSYBOX_DIGEST,
        &trust,
        NOW,
    )
    .unwrap();
    assert_eq!(verified.signer, "busybox-key");
}

#[test]
fn real_cosign_fixture_with_a_bad_signature_annotation_is_malformed() {
    for bad in [
        "",
        "%%%",
        "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnl",
    ] {
        let result = verify(
            &simple(busybox_payload(), bad.to_string()),
            BUSYBOX_DIGEST,
            &busybox_trust(),
            NOW,
        );
        assert!(
            matches!(
                result,
                Err(Failure::Malformed(_)) | Err(Failure::NoTrustedKey)
            ),
            "{bad}: {result:?}"
        );
    }
}

#[test]
fn payload_without_the_manifest_digest_is_malformed() {
    for payload in [
        &b"not json"[..],
        b"{}",
        br#"{"critical":{"image":{"docker-manifest-digest":5}}}"#,
    ] {
        assert!(matches!(
            verify(
                &simple(payload.to_vec(), busybox_signature()),
                BUSYBOX_DIGEST,
                &busybox_trust(),
                NOW
            ),
            Err(Failure::Malformed(_))
        ));
    }
}

#[test]
fn rekor_bundle_annotation_gives_the_signing_time() {
    let env = Envelope::CosignSimpleSigning {
        payload: busybox_payload(),
        signature_b64: busybox_signature(),
        certificate_pem: None,
        chain_pem: None,
        bundle_json: Some(rekor_bundle(1_661_794_812)),
    };
    let verified = verify(&env, BUSYBOX_DIGEST, &busybox_trust(), NOW).unwrap();
    assert_eq!(verified.signed_at_ms, Some(1_661_794_812_000));
}

// ---- generated keys ----

#[test]
fn generated_keys_verify_their_own_signatures_and_not_each_others() {
    let keys: Vec<Key> = [Kind::P256, Kind::P384, Kind::Ed25519, Kind::P256]
        .into_iter()
        .map(Key::generate)
        .collect();
    let payload = cosign_payload(DIGEST);
    for (i, signer) in keys.iter().enumerate() {
        let env = simple(payload.clone(), b64(&signer.sign(&payload)));
        for (j, trusted) in keys.iter().enumerate() {
            let trust = trust_keys(&[("k", trusted)]);
            let result = verify(&env, DIGEST, &trust, NOW);
            if i == j {
                assert_eq!(result.unwrap().signer, "k", "{:?}", signer.kind);
            } else {
                assert_eq!(
                    result,
                    Err(Failure::NoTrustedKey),
                    "{:?} signed, {:?} trusted",
                    signer.kind,
                    trusted.kind
                );
            }
        }
    }
}

#[test]
fn generated_key_algorithms_and_fingerprints() {
    for (kind, name) in [
        (Kind::P256, "ecdsa-p256"),
        (Kind::P384, "ecdsa-p384"),
        (Kind::Ed25519, "ed25519"),
    ] {
        let key = Key::generate(kind);
        let public = key.public_key();
        assert_eq!(public.algorithm(), name);
        let expected: String = ring::digest::digest(&ring::digest::SHA256, &key.spki_der())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(public.fingerprint(), expected);
    }
}

// ---- RSA (openssl-made data in tests/data/rsa) ----

#[test]
fn rsa_pkcs1_and_pss_signatures_verify() {
    let trust = TrustConfig {
        keys: vec![(
            "rsa".to_string(),
            PublicKey::from_pem(&data("rsa/leaf.pub")).unwrap(),
        )],
        roots: Vec::new(),
    };
    assert_eq!(trust.keys[0].1.algorithm(), "rsa");
    let payload = data("rsa/payload.json").into_bytes();
    let digest = "sha256:4a1dd8b4c3f7e2a9d1b0c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5";
    for sig in ["rsa/payload.pkcs1.sig.b64", "rsa/payload.pss.sig.b64"] {
        let env = simple(payload.clone(), data(sig));
        assert_eq!(
            verify(&env, digest, &trust, NOW).unwrap().signer,
            "rsa",
            "{sig}"
        );
        let mut tampered = payload.clone();
        tampered[20] ^= 1;
        assert_eq!(
            verify(&simple(tampered, data(sig)), digest, &trust, NOW),
            Err(Failure::NoTrustedKey)
        );
    }
}

/// The root and the leaf are signed with RSASSA-PSS (SHA-256, salt 32).
#[test]
fn rsa_certificate_chain_with_pss_certificate_signatures_verifies() {
    let trust = TrustConfig {
        keys: Vec::new(),
        roots: signature::TrustedCert::from_pem(&data("rsa/root.pem")).unwrap(),
    };
    let payload = data("rsa/payload.json").into_bytes();
    let digest = "sha256:4a1dd8b4c3f7e2a9d1b0c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5";
    let env = Envelope::CosignSimpleSigning {
        payload,
        signature_b64: data("rsa/payload.pss.sig.b64"),
        certificate_pem: Some(data("rsa/leaf.pem")),
        chain_pem: Some(data("rsa/root.pem")),
        bundle_json: None,
    };
    let verified = verify(&env, digest, &trust, NOW).unwrap();
    assert_eq!(verified.signer, "CN=berth test RSA leaf");
    // The data was made on 2026-11-28; before that the leaf was not yet valid.
    assert!(matches!(
        verify(&env, digest, &trust, 1_700_000_000_000),
        Err(Failure::CertificateExpired(_))
    ));
}

#[test]
fn small_rsa_and_p521_keys_are_refused() {
    assert!(matches!(
        PublicKey::from_pem(&data("rsa/rsa1024.pub")),
        Err(SignatureError::UnsupportedKey(msg)) if msg.contains("1024")
    ));
    assert!(matches!(
        PublicKey::from_pem(&data("rsa/p521.pub")),
        Err(SignatureError::UnsupportedKey(msg)) if msg.contains("P-521")
    ));
}

// ---- certificates ----

#[test]
fn certificate_chaining_to_a_trusted_root_verifies() {
    for kind in [Kind::P256, Kind::P384, Kind::Ed25519] {
        let pki = Pki::new(kind);
        let payload = cosign_payload(DIGEST);
        let sig = pki.leaf_key.sign(&payload);
        // The chain annotation: intermediate, then root (as cosign writes it).
        let env = with_cert(payload, &sig, &pki.leaf, &[&pki.inter, &pki.root], None);
        let verified = verify(&env, DIGEST, &pki.trust_root(), NOW).unwrap();
        assert_eq!(verified.signer, "CN=Test Signer", "{kind:?}");
        // Trusting the intermediate suffices too.
        verify(&env, DIGEST, &trust_certs(&[&pki.inter]), NOW).unwrap();
    }
}

#[test]
fn certificate_without_its_intermediate_is_untrusted() {
    let pki = Pki::new(Kind::P256);
    let payload = cosign_payload(DIGEST);
    let env = with_cert(
        payload.clone(),
        &pki.leaf_key.sign(&payload),
        &pki.leaf,
        &[],
        None,
    );
    assert!(matches!(
        verify(&env, DIGEST, &pki.trust_root(), NOW),
        Err(Failure::CertificateUntrusted(msg)) if msg.contains("Test Intermediate")
    ));
}

#[test]
fn certificate_with_no_roots_configured_is_untrusted() {
    let pki = Pki::new(Kind::P256);
    let payload = cosign_payload(DIGEST);
    let env = with_cert(
        payload.clone(),
        &pki.leaf_key.sign(&payload),
        &pki.leaf,
        &[&pki.inter],
        None,
    );
    assert!(matches!(
        verify(&env, DIGEST, &TrustConfig::default(), NOW),
        Err(Failure::CertificateUntrusted(_))
    ));
    // An unrelated root does not help either.
    let other = Pki::new(Kind::P256);
    assert!(matches!(
        verify(&env, DIGEST, &other.trust_root(), NOW),
        Err(Failure::CertificateUntrusted(_))
    ));
}

#[test]
fn trusted_key_accepts_a_certificate_with_that_key() {
    let pki = Pki::new(Kind::P256);
    let payload = cosign_payload(DIGEST);
    let env = with_cert(
        payload.clone(),
        &pki.leaf_key.sign(&payload),
        &pki.leaf,
        &[],
        None,
    );
    let trust = trust_keys(&[("team", &pki.leaf_key)]);
    assert_eq!(verify(&env, DIGEST, &trust, NOW).unwrap().signer, "team");
}

#[test]
fn certificate_whose_key_did_not_sign_is_bad_signature() {
    let pki = Pki::new(Kind::P256);
    let payload = cosign_payload(DIGEST);
    let stranger = Key::generate(Kind::P256);
    let env = with_cert(
        payload.clone(),
        &stranger.sign(&payload),
        &pki.leaf,
        &[&pki.inter],
        None,
    );
    assert!(matches!(
        verify(&env, DIGEST, &pki.trust_root(), NOW),
        Err(Failure::BadSignature(_))
    ));
    // With a certificate, a modified payload is a BadSignature (the key is known).
    let mut tampered = payload.clone();
    tampered[30] ^= 1;
    let env = with_cert(
        tampered,
        &pki.leaf_key.sign(&payload),
        &pki.leaf,
        &[&pki.inter],
        None,
    );
    assert!(matches!(
        verify(&env, DIGEST, &pki.trust_root(), NOW),
        Err(Failure::BadSignature(_))
    ));
}

/// Validity is checked at the Rekor integratedTime when there is one, else at now.
#[test]
fn short_lived_certificate_is_valid_at_the_signing_time_not_now() {
    // A Fulcio-like certificate: ten minutes, a year ago.
    let signed = NOW - YEAR;
    let pki = Pki::with_leaf_validity(Kind::P256, signed - 60_000, signed + 540_000);
    let payload = cosign_payload(DIGEST);
    let sig = pki.leaf_key.sign(&payload);
    let trust = pki.trust_root();

    let without_time = with_cert(payload.clone(), &sig, &pki.leaf, &[&pki.inter], None);
    assert!(matches!(
        verify(&without_time, DIGEST, &trust, NOW),
        Err(Failure::CertificateExpired(msg)) if msg.contains("now")
    ));

    let in_window = with_cert(
        payload.clone(),
        &sig,
        &pki.leaf,
        &[&pki.inter],
        Some(rekor_bundle(signed / 1000)),
    );
    let verified = verify(&in_window, DIGEST, &trust, NOW).unwrap();
    assert_eq!(verified.signed_at_ms, Some(signed));

    let after_window = with_cert(
        payload,
        &sig,
        &pki.leaf,
        &[&pki.inter],
        Some(rekor_bundle(signed / 1000 + 3600)),
    );
    assert!(matches!(
        verify(&after_window, DIGEST, &trust, NOW),
        Err(Failure::CertificateExpired(msg)) if msg.contains("signing time")
    ));
}

#[test]
fn intermediate_that_is_not_a_ca_is_untrusted() {
    let root_key = Key::generate(Kind::P256);
    let root = ca_cert("Root", &root_key, "Root", &root_key);
    let inter_key = Key::generate(Kind::P256);
    // A leaf-like certificate (CA:false) used as an issuer.
    let inter = leaf_cert(
        "Not A CA",
        &inter_key,
        "Root",
        &root_key,
        NOW - YEAR,
        NOW + YEAR,
    );
    let leaf_key = Key::generate(Kind::P256);
    let leaf = leaf_cert(
        "Signer",
        &leaf_key,
        "Not A CA",
        &inter_key,
        NOW - YEAR,
        NOW + YEAR,
    );
    let payload = cosign_payload(DIGEST);
    let env = with_cert(
        payload.clone(),
        &leaf_key.sign(&payload),
        &leaf,
        &[&inter, &root],
        None,
    );
    assert!(matches!(
        verify(&env, DIGEST, &trust_certs(&[&root]), NOW),
        Err(Failure::CertificateUntrusted(msg)) if msg.contains("not a CA")
    ));
}

#[test]
fn certificate_not_for_code_signing_is_untrusted() {
    let root_key = Key::generate(Kind::P256);
    let root = ca_cert("Root", &root_key, "Root", &root_key);
    let leaf_key = Key::generate(Kind::P256);
    let leaf = build_cert(&CertSpec {
        subject: "web server",
        key: &leaf_key,
        issuer: "Root",
        issuer_key: &root_key,
        not_before: NOW - YEAR,
        not_after: NOW + YEAR,
        serial: 9,
        extensions: vec![key_usage_digital_signature(), eku(SERVER_AUTH)],
    });
    let payload = cosign_payload(DIGEST);
    let env = with_cert(payload.clone(), &leaf_key.sign(&payload), &leaf, &[], None);
    assert!(matches!(
        verify(&env, DIGEST, &trust_certs(&[&root]), NOW),
        Err(Failure::CertificateUntrusted(msg)) if msg.contains("code signing")
    ));
}

#[test]
fn unknown_critical_extension_is_untrusted() {
    let root_key = Key::generate(Kind::P256);
    let root = ca_cert("Root", &root_key, "Root", &root_key);
    let leaf_key = Key::generate(Kind::P256);
    let leaf = build_cert(&CertSpec {
        subject: "Signer",
        key: &leaf_key,
        issuer: "Root",
        issuer_key: &root_key,
        not_before: NOW - YEAR,
        not_after: NOW + YEAR,
        serial: 9,
        extensions: vec![ext("1.3.6.1.4.1.99999.1", true, vec![0x05, 0x00])],
    });
    let payload = cosign_payload(DIGEST);
    let env = with_cert(payload.clone(), &leaf_key.sign(&payload), &leaf, &[], None);
    assert!(matches!(
        verify(&env, DIGEST, &trust_certs(&[&root]), NOW),
        Err(Failure::CertificateUntrusted(msg)) if msg.contains("1.3.6.1.4.1.99999.1")
    ));
}

/// Fulcio certificates have an empty subject; the signer is their email/URI identity.
#[test]
fn certificate_without_subject_is_named_by_its_email() {
    let root_key = Key::generate(Kind::P256);
    let root = ca_cert("Root", &root_key, "Root", &root_key);
    let leaf_key = Key::generate(Kind::P256);
    let leaf = build_cert(&CertSpec {
        subject: "",
        key: &leaf_key,
        issuer: "Root",
        issuer_key: &root_key,
        not_before: NOW - YEAR,
        not_after: NOW + YEAR,
        serial: 9,
        extensions: vec![
            key_usage_digital_signature(),
            eku(CODE_SIGNING),
            san_email("dev@example.com"),
        ],
    });
    let payload = cosign_payload(DIGEST);
    let env = with_cert(payload.clone(), &leaf_key.sign(&payload), &leaf, &[], None);
    assert_eq!(
        verify(&env, DIGEST, &trust_certs(&[&root]), NOW)
            .unwrap()
            .signer,
        "dev@example.com"
    );
}

// ---- Sigstore bundles ----

fn key_material() -> serde_json::Value {
    serde_json::json!({"publicKey": {"hint": "abc"}, "tlogEntries": [{"logIndex": "1", "integratedTime": "1700000000"}]})
}

#[test]
fn dsse_bundle_with_a_public_key_verifies() {
    let key = Key::generate(Kind::P256);
    let json = dsse_bundle(
        &key,
        &in_toto(DIGEST, SIGN_PREDICATE),
        key_material(),
        BUNDLE_V03,
    );
    let env = Envelope::SigstoreBundle { json };
    let verified = verify(&env, DIGEST, &trust_keys(&[("ci", &key)]), NOW).unwrap();
    assert_eq!(verified.scheme, Scheme::Cosign);
    assert_eq!(verified.signer, "ci");
    assert_eq!(verified.signed_at_ms, Some(1_700_000_000_000));
    let other = Key::generate(Kind::P256);
    assert_eq!(
        verify(&env, DIGEST, &trust_keys(&[("other", &other)]), NOW),
        Err(Failure::NoTrustedKey)
    );
    assert!(matches!(
        verify(&env, OTHER_DIGEST, &trust_keys(&[("ci", &key)]), NOW),
        Err(Failure::DigestMismatch { signed, .. }) if signed == DIGEST
    ));
}

#[test]
fn dsse_bundle_with_certificates_verifies() {
    let pki = Pki::new(Kind::P384);
    let statement = in_toto(DIGEST, SIGN_PREDICATE);
    let v03 = serde_json::json!({"certificate": {"rawBytes": b64(&pki.leaf)}});
    let json = dsse_bundle(&pki.leaf_key, &statement, v03, BUNDLE_V03);
    // v0.3 carries only the leaf: trusting the intermediate is needed.
    verify(
        &Envelope::SigstoreBundle { json: json.clone() },
        DIGEST,
        &trust_certs(&[&pki.inter]),
        NOW,
    )
    .unwrap();
    assert!(matches!(
        verify(
            &Envelope::SigstoreBundle { json },
            DIGEST,
            &pki.trust_root(),
            NOW
        ),
        Err(Failure::CertificateUntrusted(_))
    ));
    let v01 = serde_json::json!({"x509CertificateChain": {"certificates": [
        {"rawBytes": b64(&pki.leaf)}, {"rawBytes": b64(&pki.inter)}
    ]}});
    let json = dsse_bundle(&pki.leaf_key, &statement, v01, BUNDLE_V01);
    let verified = verify(
        &Envelope::SigstoreBundle { json },
        DIGEST,
        &pki.trust_root(),
        NOW,
    )
    .unwrap();
    assert_eq!(verified.signer, "CN=Test Signer");
}

#[test]
fn dsse_bundle_with_a_modified_statement_fails() {
    let key = Key::generate(Kind::Ed25519);
    let json = dsse_bundle(
        &key,
        &in_toto(DIGEST, SIGN_PREDICATE),
        key_material(),
        BUNDLE_V03,
    );
    let mut bundle: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let forged = in_toto(OTHER_DIGEST, SIGN_PREDICATE);
    bundle["dsseEnvelope"]["payload"] = b64(&forged).into();
    let env = Envelope::SigstoreBundle {
        json: bundle.to_string().into_bytes(),
    };
    assert_eq!(
        verify(&env, OTHER_DIGEST, &trust_keys(&[("k", &key)]), NOW),
        Err(Failure::NoTrustedKey)
    );
}

#[test]
fn dsse_attestation_is_not_a_signature() {
    let key = Key::generate(Kind::P256);
    let json = dsse_bundle(
        &key,
        &in_toto(DIGEST, "https://slsa.dev/provenance/v1"),
        key_material(),
        BUNDLE_V03,
    );
    assert!(matches!(
        verify(&Envelope::SigstoreBundle { json }, DIGEST, &trust_keys(&[("k", &key)]), NOW),
        Err(Failure::Unsupported(msg)) if msg.contains("slsa")
    ));
}

#[test]
fn message_signature_bundle_is_unsupported_or_mismatched() {
    let digest_bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(7)).collect();
    let hex: String = digest_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let json = serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": "x"}},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&digest_bytes)},
            "signature": "MEUCIQ=="
        }
    })
    .to_string()
    .into_bytes();
    let env = Envelope::SigstoreBundle { json };
    assert!(matches!(
        verify(&env, &format!("sha256:{hex}"), &TrustConfig::default(), NOW),
        Err(Failure::Unsupported(_))
    ));
    assert!(matches!(
        verify(&env, DIGEST, &TrustConfig::default(), NOW),
        Err(Failure::DigestMismatch { signed, .. }) if signed == format!("sha256:{hex}")
    ));
}

#[test]
fn unknown_bundle_version_is_unsupported() {
    let key = Key::generate(Kind::P256);
    let json = dsse_bundle(
        &key,
        &in_toto(DIGEST, SIGN_PREDICATE),
        key_material(),
        "application/vnd.dev.sigstore.bundle.v9.9+json",
    );
    assert!(matches!(
        verify(
            &Envelope::SigstoreBundle { json },
            DIGEST,
            &trust_keys(&[("k", &key)]),
            NOW
        ),
        Err(Failure::Unsupported(_))
    ));
}

#[test]
fn sha1_certificate_signature_is_refused() {
    let root_key = Key::generate(Kind::P256);
    let root = ca_cert("Root", &root_key, "Root", &root_key);
    let leaf_key = Key::generate(Kind::P256);
    let spec = CertSpec {
        subject: "Signer",
        key: &leaf_key,
        issuer: "Root",
        issuer_key: &root_key,
        not_before: NOW - YEAR,
        not_after: NOW + YEAR,
        serial: 9,
        extensions: vec![key_usage_digital_signature(), eku(CODE_SIGNING)],
    };
    // ecdsa-with-SHA1
    let leaf = build_cert_with_alg(&spec, seq(&[oid("1.2.840.10045.4.1")]));
    let payload = cosign_payload(DIGEST);
    let env = with_cert(payload.clone(), &leaf_key.sign(&payload), &leaf, &[], None);
    assert!(matches!(
        verify(&env, DIGEST, &trust_certs(&[&root]), NOW),
        Err(Failure::CertificateUntrusted(msg)) if msg.contains("SHA-1")
    ));
}
