//! Hostile input never panics: truncations, bit flips, wrong JSON types, huge numbers,
//! oversized envelopes, CBOR bombs, garbage PEM.

mod common;

use common::*;
use signature::{
    envelopes, signature_kind, verify, Envelope, Failure, PublicKey, TrustConfig, TrustedCert,
    MAX_ENVELOPE_BYTES,
};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `verify` on truncations and random byte changes of `bytes`, wrapped by `wrap`.
fn mutate(bytes: &[u8], wrap: &dyn Fn(Vec<u8>) -> Envelope, trust: &TrustConfig, digest: &str) {
    let step = (bytes.len() / 300).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let _ = verify(&wrap(bytes[..cut].to_vec()), digest, trust, NOW);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let mut copy = bytes.to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(copy.len());
            copy[at] = match rng.below(4) {
                0 => copy[at] ^ (1 << rng.below(8)),
                1 => 0xff,
                2 => b'"',
                _ => rng.next() as u8,
            };
        }
        let _ = verify(&wrap(copy), digest, trust, NOW);
    }
}

#[test]
fn mutated_notation_jws_never_panics() {
    let jws = fixture("notation/jws_signature.sig");
    let x5c: serde_json::Value = serde_json::from_slice(&jws).unwrap();
    let der = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(x5c["header"]["x5c"][0].as_str().unwrap())
            .unwrap()
    };
    let trust = trust_certs(&[&der]);
    let digest = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
    verify(
        &Envelope::NotationJws {
            envelope: jws.clone(),
        },
        digest,
        &trust,
        NOW,
    )
    .unwrap();
    mutate(
        &jws,
        &|envelope| Envelope::NotationJws { envelope },
        &trust,
        digest,
    );
    // The certificate itself, mutated inside the envelope.
    let mut rng = Rng(42);
    for _ in 0..500 {
        let mut cert = der.clone();
        let at = rng.below(cert.len());
        cert[at] ^= 1 << rng.below(8);
        let mut doc = x5c.clone();
        doc["header"]["x5c"][0] = b64(&cert).into();
        let env = Envelope::NotationJws {
            envelope: doc.to_string().into_bytes(),
        };
        assert!(verify(&env, digest, &trust, NOW).is_err());
        let _ = TrustedCert::from_der(&cert);
        let _ = TrustedCert::from_der(&cert[..at]);
    }
}

#[test]
fn mutated_notation_cose_never_panics() {
    let pki = Pki::new(Kind::P256);
    let envelope = cose(
        &pki.leaf_key,
        &[&pki.leaf, &pki.inter],
        cose_protected(-7, NOW - DAY, Some(NOW + DAY)),
        &notation_payload(DIGEST),
    );
    let trust = pki.trust_root();
    verify(
        &Envelope::NotationCose {
            envelope: envelope.clone(),
        },
        DIGEST,
        &trust,
        NOW,
    )
    .unwrap();
    mutate(
        &envelope,
        &|envelope| Envelope::NotationCose { envelope },
        &trust,
        DIGEST,
    );
}

#[test]
fn mutated_cosign_payloads_and_bundles_never_panic() {
    let pki = Pki::new(Kind::P256);
    let payload = cosign_payload(DIGEST);
    let sig = b64(&pki.leaf_key.sign(&payload));
    let trust = TrustConfig {
        keys: vec![("k".into(), pki.leaf_key.public_key())],
        roots: pki.trust_root().roots,
    };
    mutate(
        &payload,
        &|payload| Envelope::CosignSimpleSigning {
            payload,
            signature_b64: sig.clone(),
            certificate_pem: None,
            chain_pem: None,
            bundle_json: None,
        },
        &trust,
        DIGEST,
    );
    let cert_pem = pem("CERTIFICATE", &pki.leaf);
    mutate(
        cert_pem.as_bytes(),
        &|cert| Envelope::CosignSimpleSigning {
            payload: payload.clone(),
            signature_b64: sig.clone(),
            certificate_pem: Some(String::from_utf8_lossy(&cert).into_owned()),
            chain_pem: Some(pem("CERTIFICATE", &pki.inter)),
            bundle_json: Some(rekor_bundle(1_700_000_000)),
        },
        &trust,
        DIGEST,
    );
    let bundle = dsse_bundle(
        &pki.leaf_key,
        &in_toto(DIGEST, SIGN_PREDICATE),
        serde_json::json!({"certificate": {"rawBytes": b64(&pki.leaf)}, "tlogEntries": [{"integratedTime": "1700000000"}]}),
        BUNDLE_V03,
    );
    mutate(
        &bundle,
        &|json| Envelope::SigstoreBundle { json },
        &trust,
        DIGEST,
    );
}

#[test]
fn wrong_json_types_and_huge_numbers_are_malformed() {
    let trust = TrustConfig::default();
    let jws_cases = [
        r#"{"payload": 1, "protected": "e30", "signature": "", "header": {}}"#,
        r#"{"payload": "e30", "protected": ["x"], "signature": "", "header": {}}"#,
        r#"{"payload": "e30", "protected": "e30", "signature": "", "header": {"x5c": "abc"}}"#,
        r#"{"payload": "e30", "protected": "e30", "signature": "", "header": {"x5c": [1]}}"#,
        r#"{"payload": "@@", "protected": "e30", "signature": "$$"}"#,
        r#"[]"#,
        r#"{"signatures": []}"#,
        "",
    ];
    for case in jws_cases {
        let result = verify(
            &Envelope::NotationJws {
                envelope: case.as_bytes().to_vec(),
            },
            DIGEST,
            &trust,
            NOW,
        );
        assert!(
            matches!(
                result,
                Err(Failure::Malformed(_)) | Err(Failure::Unsupported(_))
            ),
            "{case}: {result:?}"
        );
    }
    // A protected header with hostile values.
    for header in [
        serde_json::json!({"alg": 5}),
        serde_json::json!({"alg": "ES256", "crit": "x"}),
        serde_json::json!({"alg": "ES256", "crit": [1, 2]}),
        serde_json::json!({"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"], "cty": "application/vnd.cncf.notary.payload.v1+json", "io.cncf.notary.signingScheme": "notary.x509", "io.cncf.notary.signingTime": 1e300}),
        serde_json::json!({"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"], "cty": "application/vnd.cncf.notary.payload.v1+json", "io.cncf.notary.signingScheme": "notary.x509", "io.cncf.notary.signingTime": "99999-01-01T00:00:00Z"}),
    ] {
        let doc = serde_json::json!({
            "payload": b64url(&notation_payload(DIGEST)),
            "protected": b64url(header.to_string().as_bytes()),
            "signature": "AAAA",
            "header": {"x5c": []}
        });
        let result = verify(
            &Envelope::NotationJws {
                envelope: doc.to_string().into_bytes(),
            },
            DIGEST,
            &trust,
            NOW,
        );
        assert!(result.is_err(), "{header}");
    }

    let key = Key::generate(Kind::P256);
    let payload = cosign_payload(DIGEST);
    for bundle in [
        r#"{"Payload": {"integratedTime": 1e300}}"#,
        r#"{"Payload": {"integratedTime": 99999999999999999999}}"#,
        r#"{"Payload": {"integratedTime": -5}}"#,
        r#"{"Payload": {"integratedTime": "12x"}}"#,
        r#"{"Payload": []}"#,
        r#"not json"#,
    ] {
        let env = Envelope::CosignSimpleSigning {
            payload: payload.clone(),
            signature_b64: b64(&key.sign(&payload)),
            certificate_pem: None,
            chain_pem: None,
            bundle_json: Some(bundle.to_string()),
        };
        assert!(
            matches!(
                verify(&env, DIGEST, &trust_keys(&[("k", &key)]), NOW),
                Err(Failure::Malformed(_))
            ),
            "{bundle}"
        );
    }
    // integratedTime that overflows milliseconds.
    let env = Envelope::CosignSimpleSigning {
        payload: payload.clone(),
        signature_b64: b64(&key.sign(&payload)),
        certificate_pem: None,
        chain_pem: None,
        bundle_json: Some(rekor_bundle(i64::MAX)),
    };
    assert!(matches!(
        verify(&env, DIGEST, &trust_keys(&[("k", &key)]), NOW),
        Err(Failure::Malformed(_))
    ));

    for bundle in [
        serde_json::json!({"mediaType": 3}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": []}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {"publicKey": {}}, "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": 7, "signatures": []}}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {"publicKey": {}}, "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": [{"sig": 1}]}}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {"publicKey": {}, "tlogEntries": [{"integratedTime": {}}]}}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {"x509CertificateChain": {"certificates": []}}}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {"certificate": {"rawBytes": "AAAA"}}}),
        serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {"publicKey": {}}, "messageSignature": {"messageDigest": "x"}}),
    ] {
        let env = Envelope::SigstoreBundle {
            json: bundle.to_string().into_bytes(),
        };
        assert!(verify(&env, DIGEST, &trust, NOW).is_err(), "{bundle}");
    }
}

#[test]
fn cose_with_huge_values_is_refused() {
    let pki = Pki::new(Kind::P256);
    let trust = pki.trust_root();
    let mut protected = cose_protected(-7, NOW, None);
    protected[3] = (
        text("io.cncf.notary.signingTime"),
        C::Tag(1, Box::new(C::Int(i64::MAX))),
    );
    let env = cose(
        &pki.leaf_key,
        &[&pki.leaf],
        protected,
        &notation_payload(DIGEST),
    );
    assert!(matches!(
        verify(
            &Envelope::NotationCose { envelope: env },
            DIGEST,
            &trust,
            NOW
        ),
        Err(Failure::Malformed(_))
    ));
    for bomb in [
        vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![
            0xd2, 0x84, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        vec![0x81; 10_000],
        vec![0xc1; 10_000],
        vec![0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40],
        vec![0xd2, 0x84, 0x41, 0xa0, 0xa0, 0x40, 0x40],
    ] {
        assert!(verify(
            &Envelope::NotationCose { envelope: bomb },
            DIGEST,
            &trust,
            NOW
        )
        .is_err());
    }
    // A protected map of many entries.
    let mut many = vec![0xb9, 0xff, 0xff];
    for i in 0..0xffffu32 {
        many.push(0x1a);
        many.extend(i.to_be_bytes());
        many.push(0x00);
    }
    let env = cbor(&C::Array(vec![
        C::Bytes(many),
        C::Map(vec![]),
        C::Bytes(vec![]),
        C::Bytes(vec![]),
    ]));
    assert!(matches!(
        verify(
            &Envelope::NotationCose { envelope: env },
            DIGEST,
            &trust,
            NOW
        ),
        Err(Failure::Malformed(_))
    ));
}

#[test]
fn envelopes_over_4_mib_are_refused() {
    let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
    let trust = TrustConfig::default();
    for env in [
        Envelope::NotationJws {
            envelope: big.clone(),
        },
        Envelope::NotationCose {
            envelope: big.clone(),
        },
        Envelope::SigstoreBundle { json: big.clone() },
        Envelope::CosignSimpleSigning {
            payload: vec![b' '; MAX_ENVELOPE_BYTES / 2],
            signature_b64: String::new(),
            certificate_pem: Some(" ".repeat(MAX_ENVELOPE_BYTES / 2 + 1)),
            chain_pem: None,
            bundle_json: None,
        },
    ] {
        assert!(matches!(
            verify(&env, DIGEST, &trust, NOW),
            Err(Failure::Malformed(msg)) if msg.contains("4194304")
        ));
    }
    assert!(envelopes(&big, &mut |_| None).is_empty());
    assert_eq!(signature_kind(&big), None);
}

#[test]
fn hostile_manifests_never_panic() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases = [
        deep.as_str(),
        r#"{"layers": [1, null, {"mediaType": 5}, {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": 5, "annotations": {"dev.cosignproject.cosign/signature": 7}}]}"#,
        r#"{"layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": "sha256:x", "size": -1, "annotations": {"dev.cosignproject.cosign/signature": "x"}}]}"#,
        r#"{"artifactType": "application/vnd.cncf.notary.signature", "layers": [{"mediaType": "application/jose+json", "digest": "md5:abc"}]}"#,
        r#"{"config": [], "layers": {}}"#,
    ];
    for case in cases {
        let mut calls = 0;
        let found = envelopes(case.as_bytes(), &mut |_| {
            calls += 1;
            Some(b"x".to_vec())
        });
        assert!(found.is_empty(), "{case}");
        let _ = signature_kind(case.as_bytes());
    }
}

#[test]
fn garbage_pem_never_panics() {
    let mut rng = Rng(7);
    let key_pem = Key::generate(Kind::P384).pem();
    let cert_pem = data("rsa/root.pem");
    for source in [key_pem.as_bytes(), cert_pem.as_bytes()] {
        for _ in 0..1000 {
            let mut copy = source.to_vec();
            let at = rng.below(copy.len());
            copy[at] = rng.next() as u8;
            let text = String::from_utf8_lossy(&copy[..rng.below(copy.len() + 1)]).into_owned();
            let _ = PublicKey::from_pem(&text);
            let _ = TrustedCert::from_pem(&text);
        }
    }
    for junk in [
        "",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
        "\u{0}\u{ffff}",
    ] {
        assert!(PublicKey::from_pem(junk).is_err());
        assert!(TrustedCert::from_pem(junk).is_err());
    }
}
