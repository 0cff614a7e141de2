mod common;
use common::*;

#[test]
fn base_endpoint_answers_with_api_version() {
    let s = Server::start();
    let r = s.client().get("/v2/");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Docker-Distribution-API-Version"),
        Some("registry/2.0")
    );
}

#[test]
fn push_and_pull_an_image_by_tag_and_digest() {
    let s = Server::start();
    let c = s.client();
    let layer = random_bytes(300_000, 1);
    let (digest, manifest) = c.push_image("library/app", "v1", &[&layer]);
    let r = c.get("/v2/library/app/manifests/v1");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, manifest);
    assert_eq!(r.header("Docker-Content-Digest"), Some(digest.as_str()));
    assert_eq!(r.header("Content-Type"), Some(OCI_MANIFEST));
    let r = c.get(&format!("/v2/library/app/manifests/{digest}"));
    assert_eq!(r.body, manifest);
    let r = c.get(&format!("/v2/library/app/blobs/{}", sha256(&layer)));
    assert_eq!(r.status, 200);
    assert_eq!(sha256(&r.body), sha256(&layer));
}

#[test]
fn push_into_a_missing_project_is_refused_with_a_clear_error() {
    let s = Server::start_with(&[("BERTH_AUTO_CREATE_PROJECTS", "false")]);
    let c = s.client();
    let r = c.req("POST", "/v2/nosuchproject/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.error_code(), "NAME_UNKNOWN");
    assert!(
        r.text().contains("nosuchproject") && r.text().contains("create it first"),
        "{}",
        r.text()
    );
    // The public library project exists from the start and takes pushes from the admin.
    c.push_image("library/app", "v1", &[b"layer"]);
    // Anonymous callers may pull from it but not push.
    assert_eq!(
        s.anon().get("/v2/library/app/manifests/v1").status,
        200,
        "public pull needs no credentials"
    );
    let r = s
        .anon()
        .req("POST", "/v2/library/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 401);
    assert!(r
        .header("WWW-Authenticate")
        .unwrap()
        .contains("/service/token"));
}
