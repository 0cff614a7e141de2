//! Bad input gets the spec's status and error code, never a 500 or a panic, and leaves
//! nothing half-written.

mod common;
use common::*;
use std::io::{Read, Write};

fn assert_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.error_code(), code, "{}", r.text());
    let message = r.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        !message.is_empty(),
        "error has a message a person can act on"
    );
}

fn assert_no_panic(s: &Server) {
    let log = s.log();
    assert!(!log.contains("panicked"), "server panicked:\n{log}");
    assert!(
        !log.contains("internal error"),
        "server had an internal error:\n{log}"
    );
}

#[test]
fn malformed_and_schema1_manifests_are_manifest_invalid() {
    let s = Server::start();
    let c = s.client();
    assert_error(
        &c.put_manifest("library/a", "v1", OCI_MANIFEST, b"{not json"),
        400,
        "MANIFEST_INVALID",
    );
    assert_error(
        &c.put_manifest("library/a", "v1", OCI_MANIFEST, br#"{"schemaVersion":2}"#),
        400,
        "MANIFEST_INVALID",
    );
    let schema1 = br#"{"schemaVersion":1,"name":"a","tag":"v1","fsLayers":[],"history":[]}"#;
    let r = c.put_manifest(
        "library/a",
        "v1",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        schema1,
    );
    assert_error(&r, 400, "MANIFEST_INVALID");
    assert!(r.text().contains("schema 1"), "{}", r.text());
    assert_eq!(
        c.get("/v2/library/a/manifests/v1").status,
        404,
        "nothing was stored"
    );
    assert_no_panic(&s);
}

#[test]
fn manifest_referencing_missing_blob_or_child_is_refused() {
    let s = Server::start();
    let c = s.client();
    let config = c.push_blob("library/a", b"{}");
    let missing = sha256(b"never pushed");
    let m = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": missing, "size": 12}],
    }))
    .unwrap();
    let r = c.put_manifest("library/a", "v1", OCI_MANIFEST, &m);
    assert_error(&r, 400, "MANIFEST_BLOB_UNKNOWN");
    assert!(
        r.text().contains(&missing),
        "the message names the missing blob"
    );
    // A blob in another repository does not count.
    let other_layer = c.push_blob("library/other", b"layer in other repo");
    let m2 = String::from_utf8(m.clone())
        .unwrap()
        .replace(&missing, &other_layer);
    assert_error(
        &c.put_manifest("library/a", "v1", OCI_MANIFEST, m2.as_bytes()),
        400,
        "MANIFEST_BLOB_UNKNOWN",
    );
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": missing, "size": 10}],
    }))
    .unwrap();
    assert_error(
        &c.put_manifest("library/a", "idx", OCI_INDEX, &index),
        400,
        "MANIFEST_BLOB_UNKNOWN",
    );
    let tags = c.get("/v2/library/a/tags/list");
    assert_eq!(
        tags.json()["tags"],
        serde_json::json!([]),
        "no tag was created"
    );
    assert_no_panic(&s);
}

#[test]
fn digest_mismatch_is_digest_invalid_and_stores_nothing() {
    let s = Server::start();
    let c = s.client();
    let wrong = sha256(b"something else");
    let r = c.req(
        "POST",
        &format!("/v2/library/a/blobs/uploads/?digest={wrong}"),
        &[],
        Some(b"actual bytes"),
    );
    assert_error(&r, 400, "DIGEST_INVALID");
    assert_eq!(
        c.req("HEAD", &format!("/v2/library/a/blobs/{wrong}"), &[], None)
            .status,
        404
    );
    assert_eq!(
        c.req(
            "HEAD",
            &format!("/v2/library/a/blobs/{}", sha256(b"actual bytes")),
            &[],
            None
        )
        .status,
        404
    );
    // Chunked session: the session is discarded on mismatch.
    let post = c.req("POST", "/v2/library/a/blobs/uploads/", &[], None);
    let loc = post.header("Location").unwrap().to_string();
    assert_eq!(
        c.req("PATCH", &loc, &[("Content-Range", "0-4")], Some(b"hello"))
            .status,
        202
    );
    assert_error(
        &c.req("PUT", &format!("{loc}?digest={wrong}"), &[], Some(b"")),
        400,
        "DIGEST_INVALID",
    );
    assert_error(&c.get(&loc), 404, "BLOB_UPLOAD_UNKNOWN");
    // Manifest pushed by a digest that is not its own.
    let cfg = c.push_blob("library/a", b"{}");
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cfg}","size":2}},"layers":[]}}"#
    );
    assert_error(
        &c.put_manifest("library/a", &wrong, OCI_MANIFEST, m.as_bytes()),
        400,
        "DIGEST_INVALID",
    );
    // Malformed and unsupported digests.
    assert_error(
        &c.req(
            "POST",
            "/v2/library/a/blobs/uploads/?digest=sha256:xyz",
            &[],
            Some(b"x"),
        ),
        400,
        "DIGEST_INVALID",
    );
    assert_error(
        &c.req(
            "POST",
            "/v2/library/a/blobs/uploads/?digest=md5:0123",
            &[],
            Some(b"x"),
        ),
        400,
        "DIGEST_INVALID",
    );
    assert_error(
        &c.get("/v2/library/a/blobs/sha256:nothex"),
        400,
        "DIGEST_INVALID",
    );
    assert_no_panic(&s);
}

#[test]
fn hostile_names_are_name_invalid() {
    let s = Server::start();
    let c = s.client();
    for name in [
        "library/../etc",
        "library/./a",
        "library/%2e%2e/a",
        "library%2Fa",
    ] {
        let head = format!(
            "GET /v2/{name}/manifests/latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        let (status, text) = raw_request(&s.host(), &head, b"");
        assert_eq!(status, 400, "{name}: {text}");
        assert!(text.contains("NAME_INVALID"), "{text}");
    }
    for name in [
        "Library/a",
        "library/A",
        "library//a",
        "a/-b",
        "a/b_",
        &format!("a/{}", "x".repeat(300)),
    ] {
        let r = c.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], None);
        assert_error(&r, 400, "NAME_INVALID");
        let r = c.get(&format!("/v2/{name}/manifests/latest"));
        assert_error(&r, 400, "NAME_INVALID");
    }
    let r = c.put_manifest("library/a", "-bad-tag", OCI_MANIFEST, b"{}");
    assert_error(&r, 400, "TAG_INVALID");
    assert_no_panic(&s);
}

#[test]
fn invalid_content_range_is_416_and_keeps_the_session() {
    let s = Server::start();
    let c = s.client();
    let post = c.req("POST", "/v2/library/a/blobs/uploads/", &[], None);
    let loc = post.header("Location").unwrap().to_string();
    let r = c.req(
        "PATCH",
        &loc,
        &[("Content-Range", "garbage")],
        Some(b"hello"),
    );
    assert_eq!(r.status, 416);
    assert_eq!(r.header("Range"), Some("0-0"));
    assert_eq!(r.header("Location"), Some(loc.as_str()));
    assert_eq!(
        c.req("PATCH", &loc, &[("Content-Range", "5-1")], Some(b"hello"))
            .status,
        416
    );
    assert_eq!(
        c.req("PATCH", &loc, &[("Content-Range", "3-7")], Some(b"hello"))
            .status,
        416
    );
    // Content-Length disagreeing with Content-Range.
    assert_error(
        &c.req("PATCH", &loc, &[("Content-Range", "0-9")], Some(b"hello")),
        400,
        "SIZE_INVALID",
    );
    let r = c.req("PATCH", &loc, &[("Content-Range", "0-4")], Some(b"hello"));
    assert_eq!(r.status, 202);
    assert_eq!(r.header("Range"), Some("0-4"));
    let r = c.req(
        "PUT",
        &format!("{loc}?digest={}", sha256(b"hello")),
        &[],
        Some(b""),
    );
    assert_eq!(r.status, 201);
    assert_no_panic(&s);
}

#[test]
fn oversized_manifest_is_refused_with_413() {
    let s = Server::start();
    let c = s.client();
    let mut big = b"{\"schemaVersion\":2,\"annotations\":{\"x\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 5 * 1024 * 1024));
    big.extend_from_slice(b"\"}}");
    // Refused from the declared length, before the body is read...
    let head = format!("PUT /v2/library/a/manifests/big HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", basic_header("admin", ADMIN_PASSWORD), big.len());
    let (status, text) = raw_request(&s.host(), &head, b"");
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains("SIZE_INVALID") && text.contains("limit"),
        "{text}"
    );
    // ...and, without a declared length, once 4 MiB have been read.
    let head = format!("PUT /v2/library/a/manifests/big HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: {OCI_MANIFEST}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", basic_header("admin", ADMIN_PASSWORD));
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(&big);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, text) = raw_request(&s.host(), &head, &chunked);
    assert_eq!(status, 413, "{text}");
    assert_eq!(c.get("/v2/library/a/manifests/big").status, 404);
    assert_no_panic(&s);
}

#[test]
fn unknown_upload_ids_are_blob_upload_unknown() {
    let s = Server::start();
    let c = s.client();
    let loc = "/v2/library/a/blobs/uploads/0123456789abcdef0123456789abcdef";
    assert_error(&c.get(loc), 404, "BLOB_UPLOAD_UNKNOWN");
    assert_error(
        &c.req("PATCH", loc, &[], Some(b"x")),
        404,
        "BLOB_UPLOAD_UNKNOWN",
    );
    assert_error(
        &c.req(
            "PUT",
            &format!("{loc}?digest={}", sha256(b"x")),
            &[],
            Some(b"x"),
        ),
        404,
        "BLOB_UPLOAD_UNKNOWN",
    );
    assert_error(&c.req("DELETE", loc, &[], None), 404, "BLOB_UPLOAD_UNKNOWN");
    assert_error(
        &c.get("/v2/library/a/blobs/uploads/..%2F..%2Fmeta.db"),
        404,
        "BLOB_UPLOAD_UNKNOWN",
    );
    // A session of repository b is unknown in repository a.
    let post = c.req("POST", "/v2/library/b/blobs/uploads/", &[], None);
    let id = post.header("Docker-Upload-UUID").unwrap().to_string();
    assert_error(
        &c.get(&format!("/v2/library/a/blobs/uploads/{id}")),
        404,
        "BLOB_UPLOAD_UNKNOWN",
    );
    assert_eq!(
        c.req(
            "DELETE",
            &format!("/v2/library/b/blobs/uploads/{id}"),
            &[],
            None
        )
        .status,
        204
    );
    assert_error(
        &c.get(&format!("/v2/library/b/blobs/uploads/{id}")),
        404,
        "BLOB_UPLOAD_UNKNOWN",
    );
    assert_no_panic(&s);
}

/// Sends a request whose body is cut short, then closes the write side.
fn send_truncated(s: &Server, path: &str, declared: usize, sent: &[u8]) -> String {
    let mut sock = std::net::TcpStream::connect(s.host()).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(sock, "PUT {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Length: {declared}\r\nContent-Type: application/octet-stream\r\n\r\n", s.host(), basic_header("admin", ADMIN_PASSWORD)).unwrap();
    sock.write_all(sent).unwrap();
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    let _ = sock.read_to_string(&mut out);
    out
}

#[test]
fn truncated_body_commits_nothing_and_the_upload_resumes() {
    let s = Server::start();
    let c = s.client();
    let data = random_bytes(200_000, 7);
    let digest = sha256(&data);
    let post = c.req("POST", "/v2/library/a/blobs/uploads/", &[], None);
    let loc = post.header("Location").unwrap().to_string();
    let answer = send_truncated(
        &s,
        &format!("{loc}?digest={digest}"),
        data.len(),
        &data[..50_000],
    );
    assert!(
        !answer.starts_with("HTTP/1.1 201"),
        "a truncated upload must not commit: {answer}"
    );
    assert!(
        !answer.starts_with("HTTP/1.1 5"),
        "no server error: {answer}"
    );
    assert_eq!(
        c.req("HEAD", &format!("/v2/library/a/blobs/{digest}"), &[], None)
            .status,
        404
    );
    // What arrived is kept; the client resumes from the reported offset.
    let status = c.get(&loc);
    assert_eq!(status.status, 204);
    let end: usize = status
        .header("Range")
        .unwrap()
        .split('-')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let have = if end == 0 { 0 } else { end + 1 };
    assert!(have <= 50_000);
    let r = c.req(
        "PATCH",
        &loc,
        &[("Content-Range", &format!("{have}-{}", data.len() - 1))],
        Some(&data[have..]),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let r = c.req("PUT", &format!("{loc}?digest={digest}"), &[], Some(b""));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(c.get(&format!("/v2/library/a/blobs/{digest}")).body, data);
    assert_no_panic(&s);
}

#[test]
fn range_requests_on_blobs() {
    let s = Server::start();
    let c = s.client();
    let data = random_bytes(10_000, 3);
    let digest = c.push_blob("library/a", &data);
    let path = format!("/v2/library/a/blobs/{digest}");
    let r = c.req("GET", &path, &[("Range", "bytes=100-199")], None);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &data[100..200]);
    assert_eq!(r.header("Content-Range"), Some("bytes 100-199/10000"));
    let r = c.req("GET", &path, &[("Range", "bytes=-10")], None);
    assert_eq!(r.body, &data[9990..]);
    let r = c.req("GET", &path, &[("Range", "bytes=20000-")], None);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("Content-Range"), Some("bytes */10000"));
    let r = c.req("HEAD", &path, &[], None);
    assert_eq!(r.header("Content-Length"), Some("10000"));
    assert_no_panic(&s);
}

#[test]
fn sha512_blobs_and_manifests() {
    let s = Server::start();
    let c = s.client();
    use sha2::Digest as _;
    let data = b"sha512 content".to_vec();
    let d512 = format!("sha512:{:x}", sha2::Sha512::digest(&data));
    let r = c.req(
        "POST",
        &format!("/v2/library/a/blobs/uploads/?digest={d512}"),
        &[],
        Some(&data),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(c.get(&format!("/v2/library/a/blobs/{d512}")).body, data);
    // Chunked upload finishing with a sha512 digest.
    let post = c.req("POST", "/v2/library/a/blobs/uploads/", &[], None);
    let loc = post.header("Location").unwrap().to_string();
    let other = b"another sha512 blob".to_vec();
    let d512b = format!("sha512:{:x}", sha2::Sha512::digest(&other));
    assert_eq!(c.req("PATCH", &loc, &[], Some(&other)).status, 202);
    assert_eq!(
        c.req("PUT", &format!("{loc}?digest={d512b}"), &[], Some(b""))
            .status,
        201
    );
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{d512}","size":{}}},"layers":[{{"mediaType":"x","digest":"{d512b}","size":{}}}]}}"#,
        data.len(),
        other.len()
    );
    let md = format!("sha512:{:x}", sha2::Sha512::digest(m.as_bytes()));
    let r = c.put_manifest("library/a", &md, OCI_MANIFEST, m.as_bytes());
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("Docker-Content-Digest"), Some(md.as_str()));
    assert_eq!(
        c.get(&format!("/v2/library/a/manifests/{md}")).body,
        m.as_bytes()
    );
    assert_no_panic(&s);
}

#[test]
fn accept_negotiation_and_media_types() {
    let s = Server::start();
    let c = s.client();
    let (child, _) = c.push_image("library/a", "amd64", &[b"layer"]);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": c.get(&format!("/v2/library/a/manifests/{child}")).body.len(),
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    }))
    .unwrap();
    assert_eq!(
        c.put_manifest("library/a", "multi", OCI_INDEX, &index)
            .status,
        201
    );
    let docker_only = [(
        "Accept",
        "application/vnd.docker.distribution.manifest.v2+json",
    )];
    assert_error(
        &c.req("GET", "/v2/library/a/manifests/multi", &docker_only, None),
        404,
        "MANIFEST_UNKNOWN",
    );
    let r = c.req(
        "GET",
        "/v2/library/a/manifests/multi",
        &[("Accept", &format!("{OCI_MANIFEST}, {OCI_INDEX}"))],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some(OCI_INDEX));
    assert_eq!(r.body, index);
    let r = c.get("/v2/library/a/manifests/multi");
    assert_eq!(r.status, 200, "no Accept header: served as stored");
    // Mismatch between Content-Type and the body's mediaType.
    assert_error(
        &c.put_manifest("library/a", "bad", OCI_MANIFEST, &index),
        400,
        "MANIFEST_INVALID",
    );
    assert_no_panic(&s);
}

#[test]
fn tags_and_catalog_paginate_with_link_headers() {
    let s = Server::start();
    let c = s.client();
    for repo in ["p/a", "p/b", "p/c"] {
        c.push_image(repo, "t", &[b"l"]);
    }
    for t in ["b", "a", "d", "c", "e"] {
        c.push_image("p/a", t, &[b"l"]);
    }
    let r = c.get("/v2/p/a/tags/list");
    assert_eq!(
        r.json()["tags"],
        serde_json::json!(["a", "b", "c", "d", "e", "t"])
    );
    assert_eq!(r.json()["name"], "p/a");
    let r = c.get("/v2/p/a/tags/list?n=2");
    assert_eq!(r.json()["tags"], serde_json::json!(["a", "b"]));
    let link = r
        .header("Link")
        .expect("Link header when more tags follow")
        .to_string();
    assert_eq!(link, "</v2/p/a/tags/list?n=2&last=b>; rel=\"next\"");
    let r = c.get("/v2/p/a/tags/list?n=2&last=d");
    assert_eq!(r.json()["tags"], serde_json::json!(["e", "t"]));
    assert!(r.header("Link").is_none());
    assert_eq!(
        c.get("/v2/p/a/tags/list?n=0").json()["tags"],
        serde_json::json!([])
    );
    assert_error(&c.get("/v2/p/a/tags/list?n=-1"), 405, "UNSUPPORTED");
    assert_error(&c.get("/v2/p/nope/tags/list"), 404, "NAME_UNKNOWN");
    let r = c.get("/v2/_catalog?n=2");
    assert_eq!(r.json()["repositories"], serde_json::json!(["p/a", "p/b"]));
    assert_eq!(
        r.header("Link"),
        Some("</v2/_catalog?n=2&last=p%2Fb>; rel=\"next\"")
    );
    let r = c.get("/v2/_catalog?n=2&last=p%2Fb");
    assert_eq!(r.json()["repositories"], serde_json::json!(["p/c"]));
    assert_no_panic(&s);
}

#[test]
fn delete_by_tag_removes_only_the_tag() {
    let s = Server::start();
    let c = s.client();
    let (digest, _) = c.push_image("library/a", "one", &[b"x"]);
    let r = c.put_manifest(
        "library/a",
        "two",
        OCI_MANIFEST,
        &c.get("/v2/library/a/manifests/one").body,
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        c.req("DELETE", "/v2/library/a/manifests/one", &[], None)
            .status,
        202
    );
    assert_eq!(c.get("/v2/library/a/manifests/one").status, 404);
    assert_eq!(c.get("/v2/library/a/manifests/two").status, 200);
    assert_eq!(
        c.get(&format!("/v2/library/a/manifests/{digest}")).status,
        200
    );
    assert_eq!(
        c.req(
            "DELETE",
            &format!("/v2/library/a/manifests/{digest}"),
            &[],
            None
        )
        .status,
        202
    );
    assert_eq!(
        c.get("/v2/library/a/manifests/two").status,
        404,
        "deleting the manifest deletes its tags"
    );
    assert_error(
        &c.req(
            "DELETE",
            &format!("/v2/library/a/manifests/{digest}"),
            &[],
            None,
        ),
        404,
        "MANIFEST_UNKNOWN",
    );
    assert_no_panic(&s);
}

#[test]
fn mount_from_a_repository_without_the_blob_opens_a_session() {
    let s = Server::start();
    let c = s.client();
    let d = c.push_blob("library/src", b"mount me");
    let r = c.req(
        "POST",
        &format!("/v2/library/dst/blobs/uploads/?mount={d}&from=library/empty"),
        &[],
        None,
    );
    assert_eq!(r.status, 202);
    assert!(r
        .header("Location")
        .unwrap()
        .starts_with("/v2/library/dst/blobs/uploads/"));
    assert_eq!(
        c.req("HEAD", &format!("/v2/library/dst/blobs/{d}"), &[], None)
            .status,
        404
    );
    let r = c.req(
        "POST",
        &format!("/v2/library/dst/blobs/uploads/?mount={d}&from=library/src"),
        &[],
        None,
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        c.req("HEAD", &format!("/v2/library/dst/blobs/{d}"), &[], None)
            .status,
        200
    );
    assert_no_panic(&s);
}
