//! Finding signatures: cosign's tag, `envelopes()` and `signature_kind()`.

mod common;

use std::collections::HashMap;

use common::*;
use signature::{
    cosign_signature_tag, envelopes, signature_kind, verify, Envelope, PublicKey, Scheme,
    TrustConfig, COSIGN_BUNDLE_ANNOTATION, COSIGN_CERT_ANNOTATION, COSIGN_SIGNATURE_ANNOTATION,
    COSIGN_SIMPLESIGNING, JWS_MEDIA_TYPE, NOTATION_ARTIFACT_TYPE,
};

fn sha256(data: &[u8]) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, data);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A blob store: digest → bytes.
#[derive(Default)]
struct Blobs(HashMap<String, Vec<u8>>);

impl Blobs {
    fn put(&mut self, data: &[u8]) -> serde_json::Value {
        let digest = sha256(data);
        self.0.insert(digest.clone(), data.to_vec());
        serde_json::json!({"digest": digest, "size": data.len()})
    }

    fn fetch(&self) -> impl FnMut(&str) -> Option<Vec<u8>> + '_ {
        |digest| self.0.get(digest).cloned()
    }
}

fn layer(
    mut descriptor: serde_json::Value,
    media_type: &str,
    annotations: serde_json::Value,
) -> serde_json::Value {
    descriptor["mediaType"] = media_type.into();
    if !annotations.is_null() {
        descriptor["annotations"] = annotations;
    }
    descriptor
}

fn image_manifest(
    config_media_type: &str,
    artifact_type: Option<&str>,
    layers: Vec<serde_json::Value>,
) -> Vec<u8> {
    let mut manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": config_media_type, "digest": sha256(b"{}"), "size": 2},
        "layers": layers,
    });
    if let Some(t) = artifact_type {
        manifest["artifactType"] = t.into();
    }
    manifest.to_string().into_bytes()
}

#[test]
fn cosign_signature_tag_of_a_digest() {
    let hex = "f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
    assert_eq!(
        cosign_signature_tag(&format!("sha256:{hex}")).as_deref(),
        Some(format!("sha256-{hex}.sig").as_str())
    );
    let long = "ab".repeat(64);
    assert_eq!(
        cosign_signature_tag(&format!("sha512:{long}")),
        Some(format!("sha512-{long}.sig"))
    );
    for bad in [
        "",
        "sha256",
        "sha256:",
        "sha256:abc",
        &format!("sha256:{}", hex.to_uppercase()),
        &format!("md5:{hex}"),
        &format!("sha256:{hex}0"),
        &format!("sha256:{}/..", &hex[..61]),
    ] {
        assert_eq!(cosign_signature_tag(bad), None, "{bad}");
    }
}

#[test]
fn cosign_manifest_with_two_layers_gives_two_envelopes() {
    let mut blobs = Blobs::default();
    let first = Key::generate(Kind::P256);
    let second = Key::generate(Kind::Ed25519);
    let payload = cosign_payload(DIGEST);
    // Re-signing with another key appends a layer with the same payload blob.
    let l1 = layer(
        blobs.put(&payload),
        COSIGN_SIMPLESIGNING,
        serde_json::json!({COSIGN_SIGNATURE_ANNOTATION: b64(&first.sign(&payload))}),
    );
    let l2 = layer(
        blobs.put(&payload),
        COSIGN_SIMPLESIGNING,
        serde_json::json!({
            COSIGN_SIGNATURE_ANNOTATION: b64(&second.sign(&payload)),
            COSIGN_BUNDLE_ANNOTATION: rekor_bundle(1_700_000_000),
        }),
    );
    let manifest = image_manifest(
        "application/vnd.oci.image.config.v1+json",
        None,
        vec![l1, l2],
    );
    let found = envelopes(&manifest, &mut blobs.fetch());
    assert_eq!(found.len(), 2);
    let Envelope::CosignSimpleSigning {
        bundle_json,
        certificate_pem,
        ..
    } = &found[1]
    else {
        panic!("{:?}", found[1]);
    };
    assert!(bundle_json.is_some());
    assert!(certificate_pem.is_none());

    let trust = TrustConfig {
        keys: vec![
            ("first".into(), first.public_key()),
            ("second".into(), second.public_key()),
        ],
        roots: Vec::new(),
    };
    let signers: Vec<String> = found
        .iter()
        .map(|e| verify(e, DIGEST, &trust, NOW).unwrap().signer)
        .collect();
    assert_eq!(signers, ["first", "second"]);
    assert_eq!(signature_kind(&manifest), Some(Scheme::Cosign));
}

#[test]
fn real_cosign_fixture_through_a_manifest() {
    let mut blobs = Blobs::default();
    let payload = fixture("cosign-sigstore-rs/busybox.payload.json");
    let signature =
        String::from_utf8(fixture("cosign-sigstore-rs/busybox.payload.sig.b64")).unwrap();
    let manifest = image_manifest(
        "application/vnd.oci.image.config.v1+json",
        None,
        vec![layer(
            blobs.put(&payload),
            COSIGN_SIMPLESIGNING,
            serde_json::json!({COSIGN_SIGNATURE_ANNOTATION: signature}),
        )],
    );
    let found = envelopes(&manifest, &mut blobs.fetch());
    let key =
        PublicKey::from_pem(&String::from_utf8(fixture("cosign-sigstore-rs/cosign.pub")).unwrap())
            .unwrap();
    let trust = TrustConfig {
        keys: vec![("busybox".into(), key)],
        roots: Vec::new(),
    };
    let digest = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
    assert_eq!(
        verify(&found[0], digest, &trust, NOW).unwrap().signer,
        "busybox"
    );
}

#[test]
fn layers_without_signature_or_with_bad_blobs_are_skipped() {
    let mut blobs = Blobs::default();
    let payload = cosign_payload(DIGEST);
    let good = blobs.put(&payload);
    let mut wrong_size = good.clone();
    wrong_size["size"] = 1.into();
    let mut missing = good.clone();
    missing["digest"] = sha256(b"nothing").into();
    let sig = serde_json::json!({COSIGN_SIGNATURE_ANNOTATION: "MEUCIQ=="});
    // A store that returns other bytes than asked for.
    let mut lying = |_: &str| Some(b"other bytes".to_vec());
    let manifest = image_manifest(
        "application/vnd.oci.image.config.v1+json",
        None,
        vec![
            layer(good.clone(), COSIGN_SIMPLESIGNING, serde_json::Value::Null),
            layer(wrong_size, COSIGN_SIMPLESIGNING, sig.clone()),
            layer(missing, COSIGN_SIMPLESIGNING, sig.clone()),
            layer(good.clone(), "application/octet-stream", sig.clone()),
            layer(good, COSIGN_SIMPLESIGNING, sig),
        ],
    );
    assert_eq!(envelopes(&manifest, &mut blobs.fetch()).len(), 1);
    assert!(envelopes(&manifest, &mut lying).is_empty());
}

#[test]
fn cosign_certificate_annotations_are_carried() {
    let mut blobs = Blobs::default();
    let payload = cosign_payload(DIGEST);
    let manifest = image_manifest(
        "application/vnd.oci.image.config.v1+json",
        None,
        vec![layer(
            blobs.put(&payload),
            COSIGN_SIMPLESIGNING,
            serde_json::json!({
                COSIGN_SIGNATURE_ANNOTATION: "MEUCIQ==",
                COSIGN_CERT_ANNOTATION: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
                "dev.sigstore.cosign/chain": "chain",
            }),
        )],
    );
    let found = envelopes(&manifest, &mut blobs.fetch());
    let Envelope::CosignSimpleSigning {
        certificate_pem,
        chain_pem,
        ..
    } = &found[0]
    else {
        panic!()
    };
    assert!(certificate_pem.as_deref().unwrap().contains("CERTIFICATE"));
    assert_eq!(chain_pem.as_deref(), Some("chain"));
}

#[test]
fn real_notation_signature_manifest_gives_its_jws_envelope() {
    let mut blobs = Blobs::default();
    let jws = fixture("notation/jws_signature.sig");
    for (config, artifact_type) in [
        (
            "application/vnd.oci.empty.v1+json",
            Some(NOTATION_ARTIFACT_TYPE),
        ),
        (NOTATION_ARTIFACT_TYPE, None),
    ] {
        let manifest = image_manifest(
            config,
            artifact_type,
            vec![layer(
                blobs.put(&jws),
                JWS_MEDIA_TYPE,
                serde_json::Value::Null,
            )],
        );
        assert_eq!(signature_kind(&manifest), Some(Scheme::Notation));
        let found = envelopes(&manifest, &mut blobs.fetch());
        assert_eq!(
            found,
            vec![Envelope::NotationJws {
                envelope: jws.clone()
            }]
        );
        assert_eq!(found[0].scheme(), Scheme::Notation);
    }
    // A JWS layer in a manifest that is not a Notation signature is not one.
    let manifest = image_manifest(
        "application/vnd.oci.image.config.v1+json",
        None,
        vec![layer(
            blobs.put(&jws),
            JWS_MEDIA_TYPE,
            serde_json::Value::Null,
        )],
    );
    assert!(envelopes(&manifest, &mut blobs.fetch()).is_empty());
    assert_eq!(signature_kind(&manifest), None);
}

#[test]
fn sigstore_bundle_manifest() {
    let mut blobs = Blobs::default();
    let key = Key::generate(Kind::P256);
    let bundle = dsse_bundle(
        &key,
        &in_toto(DIGEST, SIGN_PREDICATE),
        serde_json::json!({"publicKey": {"hint": "k"}}),
        BUNDLE_V03,
    );
    let mut manifest: serde_json::Value = serde_json::from_slice(&image_manifest(
        "application/vnd.oci.empty.v1+json",
        Some(BUNDLE_V03),
        vec![layer(
            blobs.put(&bundle),
            BUNDLE_V03,
            serde_json::Value::Null,
        )],
    ))
    .unwrap();
    // Without cosign's annotations the bundle could be an attestation.
    assert_eq!(signature_kind(manifest.to_string().as_bytes()), None);
    manifest["annotations"] = serde_json::json!({
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": SIGN_PREDICATE,
    });
    let bytes = manifest.to_string().into_bytes();
    assert_eq!(signature_kind(&bytes), Some(Scheme::Cosign));
    manifest["annotations"]["dev.sigstore.bundle.predicateType"] =
        "https://slsa.dev/provenance/v1".into();
    assert_eq!(signature_kind(manifest.to_string().as_bytes()), None);

    let found = envelopes(&bytes, &mut blobs.fetch());
    assert_eq!(found, vec![Envelope::SigstoreBundle { json: bundle }]);
    verify(&found[0], DIGEST, &trust_keys(&[("k", &key)]), NOW).unwrap();
}

#[test]
fn signature_kind_of_other_things() {
    let image = image_manifest(
        "application/vnd.oci.image.config.v1+json",
        None,
        vec![layer(
            serde_json::json!({"digest": sha256(b"x"), "size": 1}),
            "application/vnd.oci.image.layer.v1.tar+gzip",
            serde_json::Value::Null,
        )],
    );
    assert_eq!(signature_kind(&image), None);
    for junk in [
        &b""[..],
        b"null",
        b"[]",
        b"{\"layers\": 5}",
        b"{\"artifactType\": 7}",
    ] {
        assert_eq!(signature_kind(junk), None);
        assert!(envelopes(junk, &mut |_| None).is_empty());
    }
    assert_eq!(Scheme::Cosign.accessory_type(), "signature.cosign");
    assert_eq!(Scheme::Notation.as_str(), "notation");
}
