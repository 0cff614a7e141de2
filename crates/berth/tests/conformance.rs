//! A port of the OCI distribution-spec conformance suite (v1.1.1; its four workflows: pull,
//! push, content discovery, content management), run in its order against one repository, with
//! the same requests and the same assertions. The Go suite itself needs modules this machine
//! cannot fetch, so its checks live here.

mod common;
use common::*;
use serde_json::{json, Value};

const NS: &str = "conformance/repo";
const CROSS: &str = "conformance/crossmount";
const CT_OCTET: (&str, &str) = ("Content-Type", "application/octet-stream");
const TYPE_A: &str = "application/vnd.nhl.peanut.butter.bagel";
const TYPE_B: &str = "application/vnd.nba.strawberry.jam.croissant";
const ANNOTATION: &str = "org.opencontainers.conformance.test";

struct Data {
    configs: Vec<Vec<u8>>,
    manifests: Vec<Vec<u8>>,
    layer: Vec<u8>,
    empty_layer_manifest: Vec<u8>,
    blob_a: Vec<u8>,
    blob_b: Vec<u8>,
}

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap()
}

fn data() -> Data {
    let layer = random_bytes(168, 99);
    let configs: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            pretty(&json!({"author": format!("author-{i}-{}", unique("")), "architecture": "amd64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": []}}))
        })
        .collect();
    let manifest_for = |config: &[u8]| {
        pretty(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config),
                       "size": config.len(), "data": "e30=", "newUnspecifiedField": "aGVsbG8gd29ybGQ="},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(&layer),
                        "size": layer.len(), "newUnspecifiedField": null}],
        }))
    };
    let manifests = configs.iter().map(|c| manifest_for(c)).collect();
    let empty_layer_manifest = pretty(&json!({
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&configs[1]),
                   "size": configs[1].len(), "newUnspecifiedField": null},
        "layers": [],
    }));
    Data {
        configs,
        manifests,
        layer,
        empty_layer_manifest,
        blob_a: random_bytes(42, 1),
        blob_b: random_bytes(42, 2),
    }
}

/// POST (status unchecked, as the suite does) then PUT ?digest= with the bytes.
fn upload(c: &Client, name: &str, bytes: &[u8]) -> Resp {
    let post = c.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], None);
    let loc = post
        .header("Location")
        .expect("Location on POST")
        .to_string();
    let sep = if loc.contains('?') { '&' } else { '?' };
    c.req(
        "PUT",
        &format!("{loc}{sep}digest={}", sha256(bytes)),
        &[CT_OCTET],
        Some(bytes),
    )
}

fn is_2xx(s: u16) -> bool {
    (200..300).contains(&s)
}

fn location(r: &Resp) -> String {
    let l = r.header("Location").expect("Location header").to_string();
    assert!(!l.is_empty(), "empty Location");
    l
}

fn with_digest(loc: &str, digest: &str) -> String {
    let sep = if loc.contains('?') { '&' } else { '?' };
    format!("{loc}{sep}digest={digest}")
}

fn pull_workflow(c: &Client, d: &Data) {
    // Setup.
    for bytes in [&d.configs[0], &d.configs[1], &d.layer] {
        assert!(is_2xx(upload(c, NS, bytes).status));
    }
    assert!(is_2xx(
        c.put_manifest(NS, "tagtest0", OCI_MANIFEST, &d.manifests[0])
            .status
    ));
    let m1 = sha256(&d.manifests[1]);
    assert!(is_2xx(
        c.put_manifest(NS, &m1, OCI_MANIFEST, &d.manifests[1])
            .status
    ));

    // Pull blobs.
    let dummy = sha256(b"hello world");
    assert_eq!(
        c.req("HEAD", &format!("/v2/{NS}/blobs/{dummy}"), &[], None)
            .status,
        404
    );
    let c0 = sha256(&d.configs[0]);
    let r = c.req("HEAD", &format!("/v2/{NS}/blobs/{c0}"), &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Docker-Content-Digest"), Some(c0.as_str()));
    assert_eq!(c.get(&format!("/v2/{NS}/blobs/{dummy}")).status, 404);
    let r = c.get(&format!("/v2/{NS}/blobs/{c0}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, d.configs[0]);

    // Pull manifests.
    let accept = [("Accept", OCI_MANIFEST)];
    assert_eq!(
        c.req(
            "HEAD",
            &format!("/v2/{NS}/manifests/.INVALID_MANIFEST_NAME"),
            &[],
            None
        )
        .status,
        404
    );
    for m in [&d.manifests[0], &d.manifests[1]] {
        let r = c.req(
            "HEAD",
            &format!("/v2/{NS}/manifests/{}", sha256(m)),
            &accept,
            None,
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Docker-Content-Digest"), Some(sha256(m).as_str()));
    }
    let r = c.req(
        "HEAD",
        &format!("/v2/{NS}/manifests/tagtest0"),
        &accept,
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(sha256(&d.manifests[0]).as_str())
    );
    assert_eq!(
        c.get(&format!("/v2/{NS}/manifests/.INVALID_MANIFEST_NAME"))
            .status,
        404
    );
    for m in [&d.manifests[0], &d.manifests[1]] {
        let r = c.req(
            "GET",
            &format!("/v2/{NS}/manifests/{}", sha256(m)),
            &accept,
            None,
        );
        assert_eq!(r.status, 200);
        assert_eq!(&r.body, m);
    }
    assert_eq!(
        c.req(
            "GET",
            &format!("/v2/{NS}/manifests/tagtest0"),
            &accept,
            None
        )
        .status,
        200
    );

    // Error codes: a 400 must carry an OCI error body with a known code.
    let r = c.req(
        "GET",
        &format!("/v2/{NS}/manifests/sha256:totallywrong"),
        &[("Content-Type", OCI_MANIFEST)],
        None,
    );
    assert!(r.status == 400 || r.status == 404, "{}", r.status);
    if r.status == 400 {
        let known = [
            "BLOB_UNKNOWN",
            "BLOB_UPLOAD_INVALID",
            "BLOB_UPLOAD_UNKNOWN",
            "DIGEST_INVALID",
            "MANIFEST_BLOB_UNKNOWN",
            "MANIFEST_INVALID",
            "MANIFEST_UNKNOWN",
            "MANIFEST_UNVERIFIED",
            "NAME_INVALID",
            "NAME_UNKNOWN",
            "SIZE_INVALID",
            "TAG_INVALID",
            "UNAUTHORIZED",
            "DENIED",
            "UNSUPPORTED",
        ];
        assert!(known.contains(&r.error_code().as_str()), "{}", r.text());
    }

    // Teardown: manifests first (the suite's default order); 404 is not accepted for them.
    for m in [&d.manifests[0], &d.manifests[1]] {
        let s = c
            .req(
                "DELETE",
                &format!("/v2/{NS}/manifests/{}", sha256(m)),
                &[],
                None,
            )
            .status;
        assert!(is_2xx(s) || s == 405, "{s}");
    }
    for b in [&d.configs[0], &d.configs[1], &d.layer] {
        let s = c
            .req(
                "DELETE",
                &format!("/v2/{NS}/blobs/{}", sha256(b)),
                &[],
                None,
            )
            .status;
        assert!(is_2xx(s) || s == 404 || s == 405, "{s}");
    }
}

fn push_workflow(c: &Client, d: &Data) {
    // Streamed upload: PATCH without Content-Range, then PUT with no body.
    let post = c.req("POST", &format!("/v2/{NS}/blobs/uploads/"), &[], None);
    let loc = location(&post);
    let patch = c.req_stream("PATCH", &loc, &[CT_OCTET], &d.blob_a[..]);
    assert_eq!(patch.status, 202, "{}", patch.text());
    let put = c.req(
        "PUT",
        &with_digest(&location(&patch), &sha256(&d.blob_a)),
        &[CT_OCTET],
        Some(b""),
    );
    assert_eq!(put.status, 201, "{}", put.text());
    location(&put);

    // Monolithic.
    let dummy = sha256(b"hello world");
    assert_eq!(c.get(&format!("/v2/{NS}/blobs/{dummy}")).status, 404);
    let c1 = sha256(&d.configs[1]);
    let r = c.req(
        "POST",
        &format!("/v2/{NS}/blobs/uploads/?digest={c1}"),
        &[CT_OCTET],
        Some(&d.configs[1]),
    );
    location(&r);
    assert!(r.status == 201 || r.status == 202);
    let expect = if r.status == 202 { 404 } else { 200 };
    assert_eq!(c.get(&format!("/v2/{NS}/blobs/{c1}")).status, expect);
    let post = c.req("POST", &format!("/v2/{NS}/blobs/uploads/"), &[], None);
    assert_eq!(post.status, 202);
    let put = c.req(
        "PUT",
        &with_digest(&location(&post), &c1),
        &[CT_OCTET],
        Some(&d.configs[1]),
    );
    assert_eq!(put.status, 201);
    location(&put);
    assert_eq!(c.get(&format!("/v2/{NS}/blobs/{c1}")).status, 200);
    let put = upload(c, NS, &d.layer);
    assert_eq!(put.status, 201);
    location(&put);
    assert_eq!(
        c.get(&format!("/v2/{NS}/blobs/{}", sha256(&d.layer)))
            .status,
        200
    );

    // Chunked: out of order is 416.
    let post = c.req(
        "POST",
        &format!("/v2/{NS}/blobs/uploads/"),
        &[("Content-Length", "0")],
        None,
    );
    let loc = location(&post);
    let (chunk1, chunk2) = d.blob_b.split_at(22);
    let r = c.req(
        "PATCH",
        &loc,
        &[CT_OCTET, ("Content-Range", "22-41")],
        Some(chunk2),
    );
    assert_eq!(r.status, 416, "{}", r.text());
    // First chunk.
    let post = c.req(
        "POST",
        &format!("/v2/{NS}/blobs/uploads/"),
        &[("Content-Length", "0")],
        None,
    );
    let first_loc = location(&post);
    let r = c.req(
        "PATCH",
        &first_loc,
        &[CT_OCTET, ("Content-Range", "0-21")],
        Some(chunk1),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.header("Range"), Some("0-21"));
    // Retrying it through the session's first URL is 416.
    let r = c.req(
        "PATCH",
        &first_loc,
        &[CT_OCTET, ("Content-Range", "0-21")],
        Some(chunk1),
    );
    assert_eq!(r.status, 416);
    // Status of the session.
    let r = c.get(&first_loc);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("Range"), Some("0-21"));
    let loc = location(&r);
    let r = c.req(
        "PATCH",
        &loc,
        &[CT_OCTET, ("Content-Range", "22-41")],
        Some(chunk2),
    );
    assert_eq!(r.status, 202);
    assert_eq!(r.header("Range"), Some("0-41"));
    let r = c.req(
        "PUT",
        &with_digest(&location(&r), &sha256(&d.blob_b)),
        &[CT_OCTET, ("Content-Length", "0")],
        Some(b""),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    location(&r);
    assert_eq!(
        c.get(&format!("/v2/{NS}/blobs/{}", sha256(&d.blob_b))).body,
        d.blob_b
    );

    // Cross-repository mount.
    let r = c.req(
        "POST",
        &format!("/v2/{CROSS}/blobs/uploads/?mount={dummy}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202);
    location(&r);
    let a = sha256(&d.blob_a);
    let r = c.req(
        "POST",
        &format!(
            "/v2/{CROSS}/blobs/uploads/?mount={a}&from={}",
            NS.replace('/', "%2F")
        ),
        &[],
        None,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(location(&r), format!("/v2/{CROSS}/blobs/{a}"));
    assert_eq!(c.get(&format!("/v2/{CROSS}/blobs/{a}")).status, 200);

    // Manifest upload.
    assert_eq!(
        c.get(&format!("/v2/{NS}/manifests/.INVALID_MANIFEST_NAME"))
            .status,
        404
    );
    for tag in ["test0", "test1", "test2", "test3"] {
        let r = c.put_manifest(NS, tag, OCI_MANIFEST, &d.manifests[1]);
        assert_eq!(r.status, 201, "{}", r.text());
        location(&r);
    }
    let r = c.put_manifest(NS, "emptylayer", OCI_MANIFEST, &d.empty_layer_manifest);
    assert_eq!(
        r.status,
        201,
        "a manifest with no layers is accepted: {}",
        r.text()
    );
    location(&r);
    let r = c.req(
        "GET",
        &format!("/v2/{NS}/manifests/{}", sha256(&d.manifests[1])),
        &[("Accept", OCI_MANIFEST)],
        None,
    );
    assert_eq!(r.status, 200);

    // Teardown.
    for m in [&d.manifests[1], &d.empty_layer_manifest] {
        let s = c
            .req(
                "DELETE",
                &format!("/v2/{NS}/manifests/{}", sha256(m)),
                &[],
                None,
            )
            .status;
        assert!(is_2xx(s) || s == 405, "{s}");
    }
    for b in [&d.configs[1], &d.layer] {
        let s = c
            .req(
                "DELETE",
                &format!("/v2/{NS}/blobs/{}", sha256(b)),
                &[],
                None,
            )
            .status;
        assert!(is_2xx(s) || s == 404 || s == 405, "{s}");
    }
}

fn referrer_manifest(
    artifact_type: Option<&str>,
    config: Value,
    layers: Vec<Value>,
    subject: &[u8],
    annotation: Option<&str>,
) -> Vec<u8> {
    let mut m = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers,
        "subject": {"mediaType": OCI_MANIFEST, "size": subject.len(), "digest": sha256(subject)},
    });
    if let Some(t) = artifact_type {
        m["artifactType"] = json!(t);
    }
    if let Some(a) = annotation {
        m["annotations"] = json!({ANNOTATION: a});
    }
    pretty(&m)
}

fn discovery_workflow(c: &Client, d: &Data) {
    assert!(is_2xx(upload(c, NS, &d.configs[2]).status));
    assert!(is_2xx(upload(c, NS, &d.layer).status));
    for tag in ["test0", "test1", "test2", "test3"] {
        assert!(is_2xx(
            c.put_manifest(NS, tag, OCI_MANIFEST, &d.manifests[2])
                .status
        ));
    }

    // Referrers fixtures: five pointing at manifests[4] (pushed before it exists), one at the
    // never-pushed manifests[3].
    let empty = b"{}".to_vec();
    assert_eq!(
        sha256(&empty),
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let ref_a = b"NHL Peanut Butter on my NHL bagel".to_vec();
    let ref_b = b"NBA Strawberry Jam on my NBA croissant".to_vec();
    assert!(is_2xx(upload(c, NS, &empty).status));
    assert!(is_2xx(upload(c, NS, &ref_a).status));
    let empty_desc = json!({"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": sha256(&empty), "newUnspecifiedField": null});
    let desc = |t: &str, b: &[u8]| json!({"mediaType": t, "size": b.len(), "digest": sha256(b), "newUnspecifiedField": null});
    let subject4 = &d.manifests[4];
    let a_config = referrer_manifest(
        None,
        desc(TYPE_A, &ref_a),
        vec![empty_desc.clone()],
        subject4,
        Some("test config a"),
    );
    let a_layer = referrer_manifest(
        Some(TYPE_A),
        empty_desc.clone(),
        vec![desc(TYPE_A, &ref_a)],
        subject4,
        Some("test layer a"),
    );
    let b_config = referrer_manifest(
        None,
        desc(TYPE_B, &ref_b),
        vec![empty_desc.clone()],
        subject4,
        Some("test config b"),
    );
    let b_layer = referrer_manifest(
        Some(TYPE_B),
        empty_desc.clone(),
        vec![desc(TYPE_B, &ref_b)],
        subject4,
        Some("test layer b"),
    );
    let c_layer = referrer_manifest(
        Some(TYPE_B),
        empty_desc.clone(),
        vec![desc(TYPE_B, &ref_b)],
        &d.manifests[3],
        None,
    );
    let index = pretty(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": "application/vnd.food.stand",
        "manifests": [desc(OCI_MANIFEST, &a_config), desc(OCI_MANIFEST, &a_layer)],
        "subject": {"mediaType": OCI_MANIFEST, "size": subject4.len(), "digest": sha256(subject4)},
        "annotations": {ANNOTATION: "test index"},
    }));
    let put_ref = |m: &[u8], ct: &str, subject: &[u8]| {
        let r = c.put_manifest(NS, &sha256(m), ct, m);
        assert!(is_2xx(r.status), "{}", r.text());
        assert_eq!(r.header("OCI-Subject"), Some(sha256(subject).as_str()));
    };
    put_ref(&a_config, OCI_MANIFEST, subject4);
    put_ref(&a_layer, OCI_MANIFEST, subject4);
    put_ref(&index, OCI_INDEX, subject4);
    assert!(is_2xx(upload(c, NS, &d.configs[4]).status));
    assert!(is_2xx(upload(c, NS, &d.layer).status));
    assert!(is_2xx(
        c.put_manifest(NS, "tagtest0", OCI_MANIFEST, subject4)
            .status
    ));
    assert!(is_2xx(upload(c, NS, &ref_b).status));
    put_ref(&b_config, OCI_MANIFEST, subject4);
    put_ref(&b_layer, OCI_MANIFEST, subject4);
    put_ref(&c_layer, OCI_MANIFEST, &d.manifests[3]);

    // Tags.
    let r = c.get(&format!("/v2/{NS}/tags/list"));
    assert_eq!(r.status, 200);
    let tags: Vec<String> = serde_json::from_value(r.json()["tags"].clone()).unwrap();
    let num = tags.len();
    assert!(num >= 5, "{tags:?}");
    let n = num / 2;
    let r = c.get(&format!("/v2/{NS}/tags/list?n={n}"));
    assert_eq!(r.status, 200);
    let first: Vec<String> = serde_json::from_value(r.json()["tags"].clone()).unwrap();
    assert_eq!(first.len(), n);
    let r = c.get(&format!("/v2/{NS}/tags/list?n={n}&last={}", first[n - 1]));
    assert_eq!(r.status, 200);
    let second: Vec<String> = serde_json::from_value(r.json()["tags"].clone()).unwrap();
    assert!(
        second.iter().all(|t| t > &first[n - 1]),
        "{second:?} after {first:?}"
    );

    // Referrers.
    let referrers = |path: String| {
        let r = c.get(&path);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some(OCI_INDEX));
        let v = r.json();
        let list = v["manifests"].as_array().cloned().unwrap_or_default();
        (r, list)
    };
    let (_, list) = referrers(format!("/v2/{NS}/referrers/{}", sha256(b"hello world")));
    assert!(list.is_empty());
    let expected_annotation = |digest: &str| -> &str {
        [
            (&a_config, "test config a"),
            (&a_layer, "test layer a"),
            (&b_config, "test config b"),
            (&b_layer, "test layer b"),
            (&index, "test index"),
        ]
        .iter()
        .find(|(m, _)| sha256(m) == digest)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("unexpected referrer {digest}"))
    };
    let check_annotations = |list: &[Value]| {
        for e in list {
            let ann = e["annotations"].as_object().expect("annotations");
            assert_eq!(ann.len(), 1);
            assert_eq!(
                ann[ANNOTATION],
                expected_annotation(e["digest"].as_str().unwrap())
            );
        }
    };
    let (_, list) = referrers(format!("/v2/{NS}/referrers/{}", sha256(subject4)));
    assert_eq!(list.len(), 5);
    assert_ne!(list[0]["digest"], list[1]["digest"]);
    check_annotations(&list);
    let a_config_entry = list
        .iter()
        .find(|e| e["digest"] == sha256(&a_config))
        .unwrap();
    assert_eq!(
        a_config_entry["artifactType"], TYPE_A,
        "artifactType inferred from config.mediaType"
    );
    let (r, list) = referrers(format!(
        "/v2/{NS}/referrers/{}?artifactType={}",
        sha256(subject4),
        TYPE_A.replace('/', "%2F")
    ));
    assert_eq!(r.header("OCI-Filters-Applied"), Some("artifactType"));
    assert_eq!(list.len(), 2);
    check_annotations(&list);
    let (_, list) = referrers(format!("/v2/{NS}/referrers/{}", sha256(&d.manifests[3])));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["digest"], sha256(&c_layer));

    // Teardown.
    for m in [
        &index,
        &d.manifests[2],
        subject4,
        &a_config,
        &a_layer,
        &b_config,
        &b_layer,
        &c_layer,
    ] {
        let s = c
            .req(
                "DELETE",
                &format!("/v2/{NS}/manifests/{}", sha256(m)),
                &[],
                None,
            )
            .status;
        assert!(is_2xx(s) || s == 404 || s == 405, "{s}");
    }
    for b in [
        &d.configs[2],
        &d.layer,
        &d.configs[4],
        &ref_a,
        &ref_b,
        &empty,
    ] {
        let s = c
            .req(
                "DELETE",
                &format!("/v2/{NS}/blobs/{}", sha256(b)),
                &[],
                None,
            )
            .status;
        assert!(is_2xx(s) || s == 404 || s == 405, "{s}");
    }
}

fn management_workflow(c: &Client, d: &Data) {
    assert!(is_2xx(upload(c, NS, &d.configs[3]).status));
    assert!(is_2xx(upload(c, NS, &d.layer).status));
    assert!(is_2xx(
        c.put_manifest(NS, "tagtest0", OCI_MANIFEST, &d.manifests[3])
            .status
    ));
    let r = c.get(&format!("/v2/{NS}/tags/list"));
    assert_eq!(r.status, 200);
    let num_tags = r.json()["tags"].as_array().unwrap().len();

    // Deleting a tag answers 202 and removes only the tag.
    let r = c.req("DELETE", &format!("/v2/{NS}/manifests/tagtest0"), &[], None);
    assert_eq!(r.status, 202, "{}", r.text());
    let m3 = sha256(&d.manifests[3]);
    assert_eq!(
        c.get(&format!("/v2/{NS}/manifests/{m3}")).status,
        200,
        "the manifest survives its tag"
    );
    let r = c.req("DELETE", &format!("/v2/{NS}/manifests/{m3}"), &[], None);
    assert_eq!(r.status, 202);
    assert_eq!(c.get(&format!("/v2/{NS}/manifests/{m3}")).status, 404);
    let r = c.get(&format!("/v2/{NS}/tags/list"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tags"].as_array().unwrap().len(), num_tags - 1);

    // Blob delete.
    let cfg = sha256(&d.configs[3]);
    assert_eq!(
        c.req("DELETE", &format!("/v2/{NS}/blobs/{cfg}"), &[], None)
            .status,
        202
    );
    assert_eq!(
        c.req(
            "DELETE",
            &format!("/v2/{NS}/blobs/{}", sha256(&d.layer)),
            &[],
            None
        )
        .status,
        202
    );
    assert_eq!(c.get(&format!("/v2/{NS}/blobs/{cfg}")).status, 404);
}

#[test]
fn conformance_pull_push_discovery_management() {
    let s = Server::start();
    let c = s.client();
    let d = data();
    pull_workflow(&c, &d);
    push_workflow(&c, &d);
    discovery_workflow(&c, &d);
    management_workflow(&c, &d);
}
