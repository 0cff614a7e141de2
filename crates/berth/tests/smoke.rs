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

#[test]
fn push_and_pull_times_are_recorded_per_artifact_and_per_tag() {
    let s = Server::start();
    let c = s.client();
    c.push_image("library/timed", "v1", &[b"layer"]);
    let artifact = || {
        c.get("/api/v2.0/projects/library/repositories/timed/artifacts/v1?with_tag=true")
            .json()
    };
    let before = artifact();
    assert!(
        before["push_time"].as_str().unwrap().starts_with("20"),
        "{before}"
    );
    assert!(
        before["pull_time"].as_str().unwrap().starts_with("0001"),
        "never pulled yet: {before}"
    );
    assert_eq!(c.get("/v2/library/timed/manifests/v1").status, 200);
    // Pull times are written in batches every 2 s, off the request path.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let a = artifact();
        let tag = &a["tags"][0];
        if a["pull_time"].as_str().unwrap().starts_with("20")
            && tag["pull_time"].as_str().unwrap_or("").starts_with("20")
        {
            assert!(tag["push_time"].as_str().unwrap().starts_with("20"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pull time never recorded: {a}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
