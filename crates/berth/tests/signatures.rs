//! cosign signatures made here and enforced on pulls by the real binary: a key pair generated
//! with the `sigstore` crate (exported as cosign's encrypted PEM and read back), cosign's
//! simple-signing payload signed and pushed as cosign pushes it — under the
//! `sha256-<hex>.sig` tag and as an OCI 1.1 referrer — and pulls refused or allowed by
//! `enable_content_trust_cosign` and the project's trusted keys and certificates: re-signing
//! (also under a `**` immutability rule), multi-arch indexes, tampering, certificates that
//! expired, deletes and retention. The trust API and the real fixtures (Notation, the
//! sigstore-rs cosign signature) are in `signatures_trust.rs`.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

const API: &str = "/api/v2.0";

/// An image of its own (distinct layer), tagged; returns its digest and manifest bytes.
fn image(c: &Client, repo: &str, tag: &str, seed: u64) -> (String, Vec<u8>) {
    c.push_image(repo, tag, &[&random_bytes(1024, seed)])
}

/// The signer's private key as a p256 signing key (to issue a certificate for it).
fn p256_key(signer: &Signer) -> p256::ecdsa::SigningKey {
    use p256::pkcs8::DecodePrivateKey;
    let der = signer.pair.private_key_to_der().expect("private key DER");
    p256::ecdsa::SigningKey::from_pkcs8_der(&der).expect("a P-256 PKCS#8 key")
}

#[test]
fn cosign_tag_signature_pulls_only_while_the_signers_key_is_trusted() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigtag");
    let repo = format!("{p}/app");
    let (digest, _) = image(&c, &repo, "v1", 1);
    let (a, b) = (Signer::new(), Signer::new());

    // Enforcement off: unsigned pulls.
    assert_pulls(&c, &repo, "v1", "no enforcement");
    set_project_flag(&c, &p, TRUST_COSIGN, true);

    // No signature: refused by tag and by digest, with the reason; HEAD is not refused.
    for reference in ["v1", digest.as_str()] {
        let m = pull_refused(&c, &repo, reference, "unsigned");
        assert_refusal_message(&m, &repo, &digest, &p, "cosign");
        assert!(m.ends_with("no cosign signature was found for it"), "{m}");
    }
    let r = c.req(
        "HEAD",
        &format!("/v2/{repo}/manifests/v1"),
        &[("Accept", ACCEPT_MANIFESTS)],
        None,
    );
    assert_eq!(r.status, 200, "HEAD is not refused: {}", r.text());
    let entry = wait_pull_denied(&c, &p, &format!("{repo}:v1"));
    assert_eq!(entry["username"], "admin", "{entry}");

    // skopeo is refused too, and says so.
    let tmp = s.dir.join("client");
    std::fs::create_dir_all(&tmp).unwrap();
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&s.host(), "admin", ADMIN_PASSWORD);
    let image_ref = format!("docker://{}/{repo}:v1", s.host());
    let out = skopeo.try_run(&["inspect", "--tls-verify=false", &image_ref]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(!out.status.success(), "skopeo inspected an unsigned image");
    assert!(stderr.contains("denied"), "skopeo's error: {stderr}");

    // Signed by A while only B is trusted: refused, naming the signature and why.
    let b_id = trust(&c, &p, "keys", "b", &b.public_pem);
    let sig = cosign_sign(&s, &c, &repo, &a, &digest);
    let m = pull_refused(&c, &repo, "v1", "signed by an untrusted key");
    assert_refusal_message(&m, &repo, &digest, &p, "cosign");
    let results = signature_results(&c, &p, "app", &digest);
    let res = result_of(&results, &sig);
    assert_eq!(res["type"], "signature.cosign", "{res}");
    assert_eq!(res["verified"], false, "{res}");
    let reason = res["reason"].as_str().unwrap().to_string();
    assert!(!reason.is_empty(), "{res}");
    assert!(
        m.contains(&format!(
            "its cosign signatures do not verify: {sig} (cosign): {reason}"
        )),
        "the refusal names the signature and the API's reason {reason:?}: {m}"
    );

    // The signature artifact itself stays pullable.
    let sig_bytes = assert_pulls(&c, &repo, &sig_tag(&digest), "the .sig manifest");
    assert_eq!(sha256(&sig_bytes), sig);

    // Trusting A: the very next pull succeeds, by tag, by digest, and with skopeo.
    let a_id = trust(&c, &p, "keys", "a", &a.public_pem);
    assert_pulls(&c, &repo, "v1", "signed by a trusted key");
    assert_pulls(&c, &repo, &digest, "signed by a trusted key, by digest");
    let res = result_of(&signature_results(&c, &p, "app", "v1"), &sig);
    assert_eq!(res["verified"], true, "{res}");
    assert_eq!(
        res["signer"], "a",
        "the signer is the trusted key's name: {res}"
    );
    assert_eq!(res["reason"], "", "{res}");
    let inspected: Value =
        serde_json::from_str(&skopeo.run(&["inspect", "--tls-verify=false", &image_ref])).unwrap();
    assert_eq!(inspected["Digest"], digest.as_str(), "{inspected}");
    let dir = tmp.join("pulled");
    skopeo.run(&[
        "copy",
        "--src-tls-verify=false",
        &image_ref,
        &format!("dir:{}", path_str(&dir)),
    ]);
    assert_eq!(
        sha256(&std::fs::read(dir.join("manifest.json")).unwrap()),
        digest
    );

    // Harbor's artifact JSON lists the signature as an accessory.
    let art = api_artifact(&c, &p, "app", &digest);
    let acc = art["accessories"]
        .as_array()
        .unwrap_or_else(|| panic!("no accessories: {art}"));
    assert_eq!(acc.len(), 1, "{art}");
    assert_eq!(acc[0]["type"], "signature.cosign", "{art}");
    assert_eq!(acc[0]["digest"], sig.as_str(), "{art}");
    assert_eq!(acc[0]["subject_artifact_digest"], digest.as_str(), "{art}");
    assert_eq!(acc[0]["subject_artifact_id"], art["id"], "{art}");
    assert_eq!(acc[0]["subject_artifact_repo"], repo.as_str(), "{art}");
    for k in ["id", "artifact_id", "size", "icon", "creation_time"] {
        assert!(acc[0].get(k).is_some(), "accessory without {k}: {art}");
    }

    // Removing B changes nothing; removing A refuses again at once (the verdict is per trust).
    untrust(&c, &p, b_id);
    assert_pulls(&c, &repo, "v1", "A still trusted");
    untrust(&c, &p, a_id);
    pull_refused(&c, &repo, "v1", "nothing trusted");

    // Enforcement off again: pulls.
    set_project_flag(&c, &p, TRUST_COSIGN, false);
    assert_pulls(&c, &repo, "v1", "enforcement off");
}

#[test]
fn cosign_referrer_signature_verifies_and_is_listed_as_a_referrer() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigref");
    let repo = format!("{p}/app");
    let (digest, bytes) = image(&c, &repo, "v1", 2);
    let (a, b) = (Signer::new(), Signer::new());
    set_project_flag(&c, &p, TRUST_COSIGN, true);
    trust(&c, &p, "keys", "b", &b.public_pem);

    let subject = descriptor(OCI_MANIFEST, &bytes);
    let layer = a.layer(&format!("{}/{repo}", s.host()), &digest);
    let sig = push_by_digest(
        &c,
        &repo,
        &signature_manifest(&c, &repo, &[&layer], Some(&subject)),
    );
    let r = c.get(&format!("/v2/{repo}/referrers/{digest}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let listed = r.json()["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        listed
            .iter()
            .any(|m| m["digest"] == sig.as_str() && m["artifactType"] == COSIGN_ARTIFACT_TYPE),
        "the signature is not listed as a referrer: {listed:?}"
    );

    let m = pull_refused(&c, &repo, "v1", "referrer signed by an untrusted key");
    assert_refusal_message(&m, &repo, &digest, &p, "cosign");
    assert!(m.contains(&format!("{sig} (cosign): ")), "{m}");
    assert_pulls(&c, &repo, &sig, "the referrer itself");

    trust(&c, &p, "keys", "a", &a.public_pem);
    assert_pulls(&c, &repo, "v1", "referrer signed by a trusted key");
    let res = result_of(&signature_results(&c, &p, "app", &digest), &sig);
    assert_eq!(
        (res["verified"].clone(), res["signer"].clone()),
        (json!(true), json!("a")),
        "{res}"
    );
    let acc = api_artifact(&c, &p, "app", &digest)["accessories"].clone();
    assert!(
        acc.as_array()
            .unwrap()
            .iter()
            .any(|x| x["digest"] == sig.as_str() && x["type"] == "signature.cosign"),
        "{acc}"
    );
}

#[test]
fn re_signing_appends_a_layer_and_the_second_key_alone_verifies() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigresign");
    let repo = format!("{p}/app");
    let (digest, _) = image(&c, &repo, "v1", 3);
    let (a, b) = (Signer::new(), Signer::new());
    set_project_flag(&c, &p, TRUST_COSIGN, true);
    trust(&c, &p, "keys", "b", &b.public_pem);

    let reference = format!("{}/{repo}", s.host());
    let first = a.layer(&reference, &digest);
    push_sig_tag(
        &c,
        &repo,
        &digest,
        &signature_manifest(&c, &repo, &[&first], None),
    );
    pull_refused(&c, &repo, "v1", "signed by A only, B trusted");

    // cosign's re-signing: the same tag, the old layer and a new one.
    let second = b.layer(&reference, &digest);
    let resigned = push_sig_tag(
        &c,
        &repo,
        &digest,
        &signature_manifest(&c, &repo, &[&first, &second], None),
    );
    assert_pulls(&c, &repo, "v1", "re-signed by B, B trusted");
    let results = signature_results(&c, &p, "app", &digest);
    assert_eq!(
        results.len(),
        2,
        "one result per signature layer: {results:?}"
    );
    assert!(
        results.iter().all(|r| r["digest"] == resigned.as_str()),
        "{results:?}"
    );
    let ok: Vec<&Value> = results.iter().filter(|r| r["verified"] == true).collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert_eq!(ok[0]["signer"], "b", "{results:?}");
}

#[test]
fn re_signing_works_under_an_immutability_rule_for_every_tag() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigimm");
    let rule = json!({
        "disabled": false, "action": "immutable", "template": "immutable_template",
        "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
    });
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/projects/{p}/immutabletagrules"),
        &rule,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let repo = format!("{p}/app");
    let (digest, _) = image(&c, &repo, "v1", 4);
    let (a, b) = (Signer::new(), Signer::new());
    let reference = format!("{}/{repo}", s.host());

    // The rule is in force: v1 cannot move.
    let other = push_image_blobs(&c, &repo, "other", &[&random_bytes(1024, 5)]);
    let r = c.put_manifest(&repo, "v1", OCI_MANIFEST, &other);
    assert_eq!(r.status, 403, "the ** rule lets v1 move: {}", r.text());

    let first = a.layer(&reference, &digest);
    push_sig_tag(
        &c,
        &repo,
        &digest,
        &signature_manifest(&c, &repo, &[&first], None),
    );
    let second = b.layer(&reference, &digest);
    let resigned = signature_manifest(&c, &repo, &[&first, &second], None);
    let r = c.put_manifest(&repo, &sig_tag(&digest), OCI_MANIFEST, &resigned);
    assert_eq!(
        r.status,
        201,
        "re-signing under a ** immutability rule: {}",
        r.text()
    );
    assert_eq!(
        sha256(&assert_pulls(&c, &repo, &sig_tag(&digest), "the .sig tag")),
        sha256(&resigned)
    );

    set_project_flag(&c, &p, TRUST_COSIGN, true);
    trust(&c, &p, "keys", "b", &b.public_pem);
    assert_pulls(&c, &repo, "v1", "re-signed by the trusted key");
}

#[test]
fn multi_arch_index_and_its_platforms_pull_when_signed_and_an_unlisted_platform_does_not() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigmulti");
    let repo = format!("{p}/app");
    let a = Signer::new();

    // Platform manifests by digest, an index over each pair.
    let platform = |tag: &str, seed: u64| -> (String, Value) {
        let bytes = push_image_blobs(&c, &repo, tag, &[&random_bytes(1024, seed)]);
        let digest = push_by_digest(&c, &repo, &bytes);
        (digest, descriptor(OCI_MANIFEST, &bytes))
    };
    let index = |tag: &str, children: &[&Value]| -> String {
        let manifests: Vec<Value> = children
            .iter()
            .zip(["amd64", "arm64"])
            .map(|(d, arch)| {
                let mut d = (*d).clone();
                d["platform"] = json!({"architecture": arch, "os": "linux"});
                d
            })
            .collect();
        let bytes = serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}),
        )
        .unwrap();
        let r = c.put_manifest(&repo, tag, OCI_INDEX, &bytes);
        assert_eq!(r.status, 201, "{}", r.text());
        sha256(&bytes)
    };
    let (amd, amd_d) = platform("amd64", 10);
    let (arm, arm_d) = platform("arm64", 11);
    let multi = index("multi", &[&amd_d, &arm_d]);
    // A second index whose platform manifests carry no signature of their own.
    let (amd2, amd2_d) = platform("amd64-2", 12);
    let (arm2, arm2_d) = platform("arm64-2", 13);
    let multi2 = index("multi2", &[&amd2_d, &arm2_d]);
    // A platform manifest in no index.
    let (extra, _) = platform("extra", 14);

    for d in [&amd, &arm, &multi, &multi2] {
        cosign_sign(&s, &c, &repo, &a, d);
    }
    set_project_flag(&c, &p, TRUST_COSIGN, true);
    trust(&c, &p, "keys", "a", &a.public_pem);

    for (reference, what) in [
        ("multi", "the signed index by tag"),
        (multi.as_str(), "the signed index by digest"),
        (amd.as_str(), "a signed platform manifest"),
        (arm.as_str(), "the other signed platform manifest"),
        ("multi2", "the second signed index"),
        (amd2.as_str(), "an unsigned platform of a signed index"),
        (
            arm2.as_str(),
            "the other unsigned platform of a signed index",
        ),
    ] {
        assert_pulls(&c, &repo, reference, what);
    }
    let m = pull_refused(
        &c,
        &repo,
        &extra,
        "an unsigned platform manifest in no index",
    );
    assert_refusal_message(&m, &repo, &extra, &p, "cosign");
    assert!(m.ends_with("no cosign signature was found for it"), "{m}");

    // Without the index's signature, its unsigned children are refused too.
    let r = c.req(
        "DELETE",
        &format!("/v2/{repo}/manifests/{}", sig_tag(&multi2)),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "untag the index's signature: {}", r.text());
    pull_refused(
        &c,
        &repo,
        &amd2,
        "an unsigned platform of an unsigned index",
    );
    assert_pulls(&c, &repo, &amd, "a platform signed itself");
}

#[test]
fn tampered_signatures_are_refused_with_the_reason_in_the_api_and_the_refusal() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigtamper");
    let repo = format!("{p}/app");
    let reference = format!("{}/{repo}", s.host());
    let (a, b) = (Signer::new(), Signer::new());
    trust(&c, &p, "keys", "a", &a.public_pem);
    set_project_flag(&c, &p, TRUST_COSIGN, true);
    let (d1, _) = image(&c, &repo, "other-digest", 20);
    let (d2, _) = image(&c, &repo, "modified", 21);
    let (d3, _) = image(&c, &repo, "untrusted", 22);
    let (d4, _) = image(&c, &repo, "good", 23);

    // A's valid signature of d2, filed as d1's signature.
    let over_other = a.layer(&reference, &d2);
    let s1 = push_sig_tag(
        &c,
        &repo,
        &d1,
        &signature_manifest(&c, &repo, &[&over_other], None),
    );
    // A's signature of d2 with one byte of the payload changed afterwards.
    let mut modified = a.layer(&reference, &d2);
    let at = modified
        .payload
        .windows(6)
        .position(|w| w == b"cosign")
        .unwrap();
    modified.payload[at] ^= 0x20; // "cosign" → "Cosign": still JSON, still over d2
    let s2 = push_sig_tag(
        &c,
        &repo,
        &d2,
        &signature_manifest(&c, &repo, &[&modified], None),
    );
    // B (not trusted) signs d3.
    let s3 = cosign_sign(&s, &c, &repo, &b, &d3);
    // Control: A signs d4.
    cosign_sign(&s, &c, &repo, &a, &d4);
    assert_pulls(&c, &repo, "good", "the untampered control");

    for (tag, digest, sig, words, what) in [
        (
            "other-digest",
            &d1,
            &s1,
            vec![d2.as_str()],
            "a signature over another digest",
        ),
        (
            "modified",
            &d2,
            &s2,
            vec!["does not verify", "bad signature", "modified"],
            "a modified payload",
        ),
        (
            "untrusted",
            &d3,
            &s3,
            vec![
                "not trusted",
                "untrusted",
                "no trusted key",
                "not in the trust",
            ],
            "an untrusted key",
        ),
    ] {
        let res = result_of(&signature_results(&c, &p, "app", digest), sig);
        assert_eq!(res["verified"], false, "{what}: {res}");
        let reason = res["reason"].as_str().unwrap().to_string();
        assert!(
            contains_any(&reason, &words),
            "{what}: the reason {reason:?} says none of {words:?}"
        );
        let m = pull_refused(&c, &repo, tag, what);
        assert_refusal_message(&m, &repo, digest, &p, "cosign");
        assert!(
            m.contains(&format!(
                "its cosign signatures do not verify: {sig} (cosign): {reason}"
            )),
            "{what}: {m}"
        );
        wait_pull_denied(&c, &p, &format!("{repo}:{tag}"));
    }
}

/// A self-issued end-entity certificate for `key`, valid from `not_before` to `not_after`.
fn certificate(
    key: &p256::ecdsa::SigningKey,
    cn: &str,
    not_before: SystemTime,
    not_after: SystemTime,
) -> String {
    use std::str::FromStr;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::EncodePem;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    let name = x509_cert::name::Name::from_str(&format!("CN={cn},O=berth tests")).unwrap();
    let validity = x509_cert::time::Validity {
        not_before: x509_cert::time::Time::try_from(not_before).unwrap(),
        not_after: x509_cert::time::Time::try_from(not_after).unwrap(),
    };
    let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap();
    let profile = Profile::Leaf {
        issuer: name.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
    };
    let serial = x509_cert::serial_number::SerialNumber::from(
        u32::from_le_bytes(random_bytes(4, 7).try_into().unwrap()) | 1,
    );
    let builder = CertificateBuilder::new(profile, serial, validity, name, spki, key).unwrap();
    let cert = builder.build::<p256::ecdsa::DerSignature>().unwrap();
    cert.to_pem(x509_cert::der::pem::LineEnding::LF).unwrap()
}

#[test]
fn certificate_signatures_verify_until_the_certificate_expires() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigcert");
    let repo = format!("{p}/app");
    let reference = format!("{}/{repo}", s.host());
    let day = Duration::from_secs(86_400);
    let now = SystemTime::now();
    let (valid, expired) = (Signer::new(), Signer::new());
    let valid_pem = certificate(
        &p256_key(&valid),
        "valid signer",
        now - day,
        now + 365 * day,
    );
    let expired_pem = certificate(
        &p256_key(&expired),
        "second signer",
        now - 730 * day,
        now - 365 * day,
    );
    trust(&c, &p, "certificates", "valid", &valid_pem);
    trust(&c, &p, "certificates", "expired", &expired_pem);
    set_project_flag(&c, &p, TRUST_COSIGN, true);

    let (good, _) = image(&c, &repo, "good", 30);
    let (old, _) = image(&c, &repo, "old", 31);
    let (modified, _) = image(&c, &repo, "modified", 32);
    for (signer, pem, digest) in [
        (&valid, &valid_pem, &good),
        (&expired, &expired_pem, &old),
        (&valid, &valid_pem, &modified),
    ] {
        let mut layer = signer.layer(&reference, digest);
        layer.certificate = Some(pem.clone());
        if digest == &modified {
            // One byte of the payload changed after signing: "cosign" → "Cosign".
            let at = layer
                .payload
                .windows(6)
                .position(|w| w == b"cosign")
                .unwrap();
            layer.payload[at] ^= 0x20;
        }
        push_sig_tag(
            &c,
            &repo,
            digest,
            &signature_manifest(&c, &repo, &[&layer], None),
        );
    }

    assert_pulls(
        &c,
        &repo,
        "good",
        "signed with a trusted, valid certificate",
    );
    let res = &signature_results(&c, &p, "app", &good)[0];
    assert_eq!(res["verified"], true, "{res}");
    assert!(
        res["signer"]
            .as_str()
            .is_some_and(|s| s.contains("valid signer")),
        "{res}"
    );

    let res = signature_results(&c, &p, "app", &old)[0].clone();
    assert_eq!(res["verified"], false, "{res}");
    let reason = res["reason"].as_str().unwrap().to_string();
    assert!(
        contains_any(&reason, &["expired", "not valid at", "no longer valid"]),
        "the reason says the certificate is no longer valid: {res}"
    );
    let m = pull_refused(&c, &repo, "old", "signed with an expired certificate");
    assert!(m.contains(&reason), "{m}");

    // With a certificate the verifier knows the signer's key: a modified payload is a bad
    // signature, not an unknown key.
    let res = signature_results(&c, &p, "app", &modified)[0].clone();
    assert_eq!(res["verified"], false, "{res}");
    let reason = res["reason"].as_str().unwrap().to_string();
    assert!(
        contains_any(&reason, &["does not verify", "bad signature"]),
        "{res}"
    );
    let m = pull_refused(
        &c,
        &repo,
        "modified",
        "modified payload, certificate signature",
    );
    assert!(m.contains(&reason), "{m}");
}

#[test]
fn deleting_a_signed_image_deletes_its_signatures() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigdel");
    let repo = format!("{p}/app");
    let a = Signer::new();
    let (digest, bytes) = image(&c, &repo, "v1", 40);
    let (kept, _) = image(&c, &repo, "v2", 41);
    let tag_sig = cosign_sign(&s, &c, &repo, &a, &digest);
    let layer = a.layer(&format!("{}/{repo}", s.host()), &digest);
    let subject = descriptor(OCI_MANIFEST, &bytes);
    let referrer = push_by_digest(
        &c,
        &repo,
        &signature_manifest(&c, &repo, &[&layer], Some(&subject)),
    );
    let kept_sig = cosign_sign(&s, &c, &repo, &a, &kept);
    let acc = api_artifact(&c, &p, "app", &digest)["accessories"].clone();
    assert_eq!(acc.as_array().unwrap().len(), 2, "{acc}");

    let r = c.req(
        "DELETE",
        &format!("{API}/projects/{p}/repositories/app/artifacts/{digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for (reference, what) in [
        (digest.clone(), "the image"),
        (sig_tag(&digest), "its .sig tag"),
        (tag_sig.clone(), "its tag-scheme signature manifest"),
        (referrer.clone(), "its referrer signature"),
    ] {
        let r = pull_manifest(&c, &repo, &reference);
        assert_eq!(
            r.status,
            404,
            "{what} after deleting the image: {}",
            r.text()
        );
    }
    let r = c.get(&format!("/v2/{repo}/referrers/{digest}"));
    let listed = if r.status == 200 {
        r.json()["manifests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    } else {
        vec![]
    };
    assert!(
        listed.is_empty(),
        "referrers of a deleted image: {}",
        r.text()
    );
    // The other image keeps its signature.
    assert_eq!(
        sha256(&assert_pulls(
            &c,
            &repo,
            &sig_tag(&kept),
            "another image's signature"
        )),
        kept_sig
    );
}

#[test]
fn retention_does_not_count_signature_tags() {
    let s = Server::start();
    let c = s.client();
    let p = unique("sigret");
    let pid = api_create_project(&c, &json!({"project_name": p, "public": false}));
    let repo = format!("{p}/app");
    let a = Signer::new();
    let (old, _) = image(&c, &repo, "v1", 50);
    let old_sig = cosign_sign(&s, &c, &repo, &a, &old);
    std::thread::sleep(Duration::from_millis(1100));
    let (new, _) = image(&c, &repo, "v2", 51);
    std::thread::sleep(Duration::from_millis(1100));
    // The newest push of all is v2's signature.
    let new_sig = cosign_sign(&s, &c, &repo, &a, &new);

    let policy = json!({
        "algorithm": "or",
        "scope": {"level": "project", "ref": pid},
        "trigger": {"kind": "Schedule", "settings": {"cron": ""}, "references": {}},
        "rules": [{
            "disabled": false, "action": "retain", "template": "latestPushedK",
            "params": {"latestPushedK": 1},
            "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]},
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**", "extras": "{\"untagged\":false}"}],
        }],
    });
    let r = send_json(&c, "POST", &format!("{API}/retentions"), &policy);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = location_id(&r, &format!("{API}/retentions/"));
    let r = send_json(
        &c,
        "POST",
        &format!("{API}/retentions/{id}/executions"),
        &json!({"dry_run": false}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = c.get(&format!("{API}/retentions/{id}/executions")).json();
        let status = list[0]["status"].as_str().unwrap_or_default().to_string();
        if ["Success", "Error", "Stopped"].contains(&status.as_str()) {
            assert_eq!(status, "Success", "{list}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "retention still {status}: {list}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // v2 is the latest image: kept with its signature; v1 and its signature are gone.
    assert_pulls(&c, &repo, "v2", "the latest image");
    assert_eq!(
        sha256(&assert_pulls(&c, &repo, &sig_tag(&new), "its signature")),
        new_sig
    );
    assert_eq!(
        pull_manifest(&c, &repo, "v1").status,
        404,
        "v1 survived latestPushedK=1"
    );
    assert_eq!(
        pull_manifest(&c, &repo, &old_sig).status,
        404,
        "v1's signature survived its image"
    );
}
