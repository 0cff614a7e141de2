//! berth's signature trust API (keys and certificates per project, who may change them) and
//! the real signature fixtures against the real binary: the Notation-signed Alpine 3.17.2
//! image with its JWS envelope pushed as a referrer, pulled under `enable_content_trust` only
//! while its certificate is trusted; and the sigstore-rs cosign fixture, whose key is accepted
//! and whose signature (over a busybox digest) is reported as signing another digest.

mod common;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

const API: &str = "/api/v2.0";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// An image of its own (distinct layer), tagged; returns its digest and manifest bytes.
fn image(c: &Client, repo: &str, tag: &str, seed: u64) -> (String, Vec<u8>) {
    c.push_image(repo, tag, &[&random_bytes(1024, seed)])
}

#[test]
fn trust_api_lists_keys_and_certificates_and_refuses_bad_pem_duplicates_and_non_admins() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigtrust");
    assert_eq!(
        trust_list(&c, &p),
        json!({"public_keys": [], "certificates": []})
    );

    // A key made here and the real cosign fixture key: both ECDSA P-256.
    let a = Signer::new();
    let r = send_json(
        &c,
        "POST",
        &format!("{}/keys", trust_path(&p)),
        &json!({"name": "ci", "pem": a.public_pem}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let loc = r.header("Location").unwrap_or_default().to_string();
    let ci = location_id(&r, &format!("{}/", trust_path(&p)));
    assert_eq!(loc, format!("{}/{ci}", trust_path(&p)));
    let fixture_pem =
        String::from_utf8(signature_fixture("cosign-sigstore-rs/cosign.pub")).unwrap();
    let fx = trust(&c, &p, "keys", "sigstore-rs", &fixture_pem);

    // The Notation fixture's certificate.
    let cert_pems = notation_chain_pems();
    let cert = trust(&c, &p, "certificates", "notary", &cert_pems.concat());

    let list = trust_list(&c, &p);
    let keys = list["public_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{list}");
    for (id, name, pem) in [
        (ci, "ci", a.public_pem.as_str()),
        (fx, "sigstore-rs", fixture_pem.as_str()),
    ] {
        let k = keys
            .iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("key {id}: {list}"));
        assert_eq!(k["name"], name, "{k}");
        assert_eq!(k["algorithm"], "ecdsa-p256", "{k}");
        assert_eq!(k["pem"].as_str().map(str::trim), Some(pem.trim()), "{k}");
        assert!(
            k["fingerprint"].as_str().is_some_and(|f| !f.is_empty()),
            "{k}"
        );
        assert!(k["creation_time"].is_string(), "{k}");
    }
    assert_ne!(keys[0]["fingerprint"], keys[1]["fingerprint"]);
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "{list}");
    let ct = &certs[0];
    assert_eq!(ct["id"], cert, "{ct}");
    assert_eq!(ct["name"], "notary", "{ct}");
    assert!(
        ct["subject"].as_str().is_some_and(|s| s.contains("alpine")),
        "{ct}"
    );
    assert!(
        ct["not_after"]
            .as_str()
            .is_some_and(|t| t.starts_with("2123-")),
        "{ct}"
    );
    assert_eq!(ct["count"], cert_pems.len(), "{ct}");
    for k in ["fingerprint", "pem", "creation_time"] {
        assert!(ct[k].is_string(), "certificate without {k}: {ct}");
    }

    // Bad PEM, a certificate as a key, and the same key again are refused.
    for (kind, pem, what) in [
        (
            "keys",
            "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n",
            "garbage key",
        ),
        ("keys", "hello", "no PEM at all"),
        (
            "certificates",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "garbage certificate",
        ),
        (
            "certificates",
            a.public_pem.as_str(),
            "a key as a certificate",
        ),
    ] {
        let r = send_json(
            &c,
            "POST",
            &format!("{}/{kind}", trust_path(&p)),
            &json!({"name": "x", "pem": pem}),
        );
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        assert!(
            r.json()["errors"][0]["message"].is_string(),
            "{what}: Harbor's error body: {}",
            r.text()
        );
    }
    let r = send_json(
        &c,
        "POST",
        &format!("{}/keys", trust_path(&p)),
        &json!({"name": "again", "pem": a.public_pem}),
    );
    assert_eq!(r.status, 409, "the same key twice: {}", r.text());
    assert_eq!(
        trust_list(&c, &p)["public_keys"].as_array().unwrap().len(),
        2
    );

    // Maintainers and developers read but may not change trust; guests read.
    const PW: &str = "Sig-Test-Pw1";
    let mut members = Vec::new();
    for (role, role_id) in [("maintainer", 4), ("developer", 2), ("guest", 3)] {
        let user = unique(role);
        let r = send_json(
            &c,
            "POST",
            &format!("{API}/users"),
            &json!({"username": user, "password": PW, "email": format!("{user}@example.com"), "realname": user}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let r = send_json(
            &c,
            "POST",
            &format!("{API}/projects/{p}/members"),
            &json!({"role_id": role_id, "member_user": {"username": user}}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        members.push((role, Client::new(&s.url()).with_basic(&user, PW)));
    }
    let b = Signer::new();
    for (role, m) in &members {
        let r = m.get(&trust_path(&p));
        assert_eq!(r.status, 200, "{role} reads trust: {}", r.text());
        assert_eq!(
            r.json()["public_keys"].as_array().unwrap().len(),
            2,
            "{role}"
        );
        let r = send_json(
            m,
            "POST",
            &format!("{}/keys", trust_path(&p)),
            &json!({"name": "m", "pem": b.public_pem}),
        );
        assert_eq!(r.status, 403, "{role} adds a key: {}", r.text());
        let r = send_json(
            m,
            "POST",
            &format!("{}/certificates", trust_path(&p)),
            &json!({"name": "m", "pem": cert_pems.concat()}),
        );
        assert_eq!(r.status, 403, "{role} adds a certificate: {}", r.text());
        let r = m.req("DELETE", &format!("{}/{ci}", trust_path(&p)), &[], None);
        assert_eq!(r.status, 403, "{role} deletes a key: {}", r.text());
    }

    // The admin deletes: gone from the list.
    untrust(&c, &p, ci);
    untrust(&c, &p, cert);
    let list = trust_list(&c, &p);
    assert_eq!(list["public_keys"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["public_keys"][0]["id"], fx, "{list}");
    assert_eq!(list["certificates"], json!([]), "{list}");
}

/// The certificates of the Notation fixture's `x5c` (leaf first), as PEM.
fn notation_chain_pems() -> Vec<String> {
    let envelope: Value =
        serde_json::from_slice(&signature_fixture("notation/jws_signature.sig")).unwrap();
    let x5c = envelope["header"]["x5c"]
        .as_array()
        .expect("header.x5c")
        .clone();
    assert!(!x5c.is_empty());
    x5c.iter()
        .map(|c| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(c.as_str().unwrap())
                .expect("x5c entries are base64 DER");
            let body = b64(&der);
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|l| std::str::from_utf8(l).unwrap())
                .collect();
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            )
        })
        .collect()
}

#[test]
fn notation_signed_alpine_pulls_only_while_its_certificate_is_trusted() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "signotary");
    let repo = format!("{p}/alpine");

    // The real image: config, layer, manifest by digest and a tag.
    let layout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/signatures/notation/oci-layout");
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(digest.starts_with("sha256:19dbd2e4"), "{digest}");
    let blob = |d: &str| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let manifest = blob(&digest);
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    for d in std::iter::once(&m["config"]).chain(m["layers"].as_array().unwrap()) {
        let d = d["digest"].as_str().unwrap();
        assert_eq!(c.push_blob(&repo, &blob(d)), d);
    }
    assert_eq!(push_by_digest(&c, &repo, &manifest), digest);
    let r = c.put_manifest(&repo, "3.17.2", OCI_MANIFEST, &manifest);
    assert_eq!(r.status, 201, "{}", r.text());

    // The JWS envelope as a referrer, as `notation sign` pushes it.
    let empty = c.push_blob(&repo, b"{}");
    assert_eq!(
        empty,
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let jws = signature_fixture("notation/jws_signature.sig");
    c.push_blob(&repo, &jws);
    let sig_manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": NOTATION_ARTIFACT_TYPE,
        "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
        "layers": [descriptor("application/jose+json", &jws)],
        "subject": descriptor(OCI_MANIFEST, &manifest),
    }))
    .unwrap();
    let sig = push_by_digest(&c, &repo, &sig_manifest);

    set_project_flag(&c, &p, TRUST_NOTATION, true);
    // Nothing trusted.
    let m = pull_refused(&c, &repo, "3.17.2", "Notation signature, nothing trusted");
    assert_refusal_message(&m, &repo, &digest, &p, "notation");
    let res = result_of(&signature_results(&c, &p, "alpine", &digest), &sig);
    assert_eq!(res["type"], "signature.notation", "{res}");
    assert_eq!(res["verified"], false, "{res}");
    let reason = res["reason"].as_str().unwrap().to_string();
    assert!(
        contains_any(&reason, &["not trusted", "untrusted", "no trusted"]),
        "{res}"
    );
    assert!(m.contains(&format!("{sig} (notation): {reason}")), "{m}");
    assert_pulls(&c, &repo, &sig, "the Notation signature itself");

    // Another party trusted (the cosign fixture key): still refused.
    trust(
        &c,
        &p,
        "keys",
        "other",
        &String::from_utf8(signature_fixture("cosign-sigstore-rs/cosign.pub")).unwrap(),
    );
    pull_refused(
        &c,
        &repo,
        "3.17.2",
        "Notation signature, another key trusted",
    );

    // Its certificate trusted (the root: the last of x5c; here the chain is one self-signed
    // certificate): it verifies.
    let chain = notation_chain_pems();
    let root = trust(&c, &p, "certificates", "notary", chain.last().unwrap());
    assert_pulls(
        &c,
        &repo,
        "3.17.2",
        "Notation signature, its certificate trusted",
    );
    assert_pulls(&c, &repo, &digest, "by digest");
    let res = result_of(&signature_results(&c, &p, "alpine", &digest), &sig);
    assert_eq!(res["verified"], true, "{res}");
    assert!(
        res["signer"].as_str().is_some_and(|s| s.contains("alpine")),
        "{res}"
    );
    assert!(
        res["signed_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("2023-03-14")),
        "{res}"
    );
    let acc = api_artifact(&c, &p, "alpine", &digest)["accessories"].clone();
    assert_eq!(acc[0]["type"], "signature.notation", "{acc}");
    assert_eq!(acc[0]["digest"], sig.as_str(), "{acc}");
    let r = c.get(&format!("/v2/{repo}/referrers/{digest}"));
    assert!(
        r.json()["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["artifactType"] == NOTATION_ARTIFACT_TYPE),
        "{}",
        r.text()
    );

    // Requiring cosign as well: refused for the cosign signature it lacks.
    set_project_flag(&c, &p, TRUST_COSIGN, true);
    let m = pull_refused(&c, &repo, "3.17.2", "both schemes required, Notation only");
    assert_refusal_message(&m, &repo, &digest, &p, "cosign");
    set_project_flag(&c, &p, TRUST_COSIGN, false);

    // The certificate removed: refused again.
    untrust(&c, &p, root);
    pull_refused(&c, &repo, "3.17.2", "certificate no longer trusted");
}

#[test]
fn cosign_fixture_key_is_accepted_and_its_signature_over_another_digest_is_reported() {
    let s = Server::start();
    let c = s.client();
    let p = private_project(&c, "sigfixture");
    let repo = format!("{p}/app");
    let (digest, _) = image(&c, &repo, "v1", 6);

    let pem = String::from_utf8(signature_fixture("cosign-sigstore-rs/cosign.pub")).unwrap();
    trust(&c, &p, "keys", "sigstore-rs", &pem);
    assert_eq!(
        trust_list(&c, &p)["public_keys"][0]["algorithm"],
        "ecdsa-p256"
    );

    let payload = signature_fixture("cosign-sigstore-rs/busybox.payload.json");
    let signature = String::from_utf8(signature_fixture(
        "cosign-sigstore-rs/busybox.payload.sig.b64",
    ))
    .unwrap();
    let signed = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
    let layer = SigLayer {
        payload,
        signature: signature.trim().to_string(),
        certificate: None,
    };
    let sig = push_sig_tag(
        &c,
        &repo,
        &digest,
        &signature_manifest(&c, &repo, &[&layer], None),
    );

    let res = result_of(&signature_results(&c, &p, "app", &digest), &sig);
    assert_eq!(res["verified"], false, "{res}");
    let reason = res["reason"].as_str().unwrap().to_string();
    assert!(
        reason.contains(signed) && reason.contains(&digest),
        "the reason names both digests: {res}"
    );

    set_project_flag(&c, &p, TRUST_COSIGN, true);
    let m = pull_refused(&c, &repo, "v1", "fixture signature over busybox");
    assert!(m.contains(&format!("{sig} (cosign): {reason}")), "{m}");
}
