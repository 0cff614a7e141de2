//! `TrustConfig::fingerprint`, `TrustedCert` and `PublicKey` loading.

mod common;

use common::*;
use signature::{PublicKey, SignatureError, TrustConfig, TrustedCert};

fn cosign_pub() -> PublicKey {
    PublicKey::from_pem(&String::from_utf8(fixture("cosign-sigstore-rs/cosign.pub")).unwrap())
        .unwrap()
}

fn rsa_root() -> Vec<TrustedCert> {
    TrustedCert::from_pem(&data("rsa/root.pem")).unwrap()
}

#[test]
fn trust_fingerprint_is_stable_across_runs() {
    // Fixed inputs give a fixed value: nothing random or process-dependent goes in. The
    // pinned values were computed independently: `openssl pkey -pubin -outform DER | sha256sum`
    // and sha256 of "berth-trust-v1\nkey <hex name> <key fingerprint>".
    assert_eq!(
        TrustConfig::default().fingerprint(),
        TrustConfig::default().fingerprint()
    );
    let trust = TrustConfig {
        keys: vec![("busybox".into(), cosign_pub())],
        roots: Vec::new(),
    };
    assert_eq!(
        trust.fingerprint(),
        "01f5b5d10324fc65688fab74c5474b5bd97b9442fb90fe70df35643fc8147fc6"
    );
    assert_eq!(
        cosign_pub().fingerprint(),
        "622601a9e498c09004d82cfb8879122e780c0813a0ba350edd3eefa73097605a"
    );
}

#[test]
fn trust_fingerprint_changes_with_keys_names_and_roots_but_not_order() {
    let other = Key::generate(Kind::P256).public_key();
    let base = TrustConfig {
        keys: vec![("a".into(), cosign_pub()), ("b".into(), other.clone())],
        roots: rsa_root(),
    };
    let reordered = TrustConfig {
        keys: vec![("b".into(), other.clone()), ("a".into(), cosign_pub())],
        roots: rsa_root(),
    };
    assert_eq!(base.fingerprint(), reordered.fingerprint());

    let mut renamed = base.clone();
    renamed.keys[0].0 = "c".into();
    let mut fewer_keys = base.clone();
    fewer_keys.keys.pop();
    let mut no_roots = base.clone();
    no_roots.roots.clear();
    let mut new_key = base.clone();
    new_key.keys[1].1 = Key::generate(Kind::P256).public_key();
    let all = [
        base.fingerprint(),
        renamed.fingerprint(),
        fewer_keys.fingerprint(),
        no_roots.fingerprint(),
        new_key.fingerprint(),
        TrustConfig::default().fingerprint(),
    ];
    for (i, a) in all.iter().enumerate() {
        assert_eq!(a.len(), 64);
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn trusted_cert_bundle_holds_several() {
    let bundle = format!(
        "{}\n# comment\n{}",
        data("rsa/root.pem"),
        data("rsa/leaf.pem")
    );
    let certs = TrustedCert::from_pem(&bundle).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0].subject(), "CN=berth test RSA-PSS root");
    assert_eq!(certs[1].subject(), "CN=berth test RSA leaf");
    assert!(certs[0].not_after_ms() > certs[0].not_before_ms());
    let expected: String = ring::digest::digest(&ring::digest::SHA256, certs[0].der())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(certs[0].fingerprint(), expected);
}

#[test]
fn trusted_cert_refusals() {
    assert!(matches!(
        TrustedCert::from_pem(""),
        Err(SignatureError::Pem(_))
    ));
    assert!(matches!(
        TrustedCert::from_pem(
            &String::from_utf8(fixture("cosign-sigstore-rs/cosign.pub")).unwrap()
        ),
        Err(SignatureError::Pem(_))
    ));
    assert!(matches!(
        TrustedCert::from_pem("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"),
        Err(SignatureError::InvalidCertificate(_))
    ));
    // One bad certificate spoils the bundle.
    let bundle = format!(
        "{}-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        data("rsa/root.pem")
    );
    assert!(TrustedCert::from_pem(&bundle).is_err());
}
