//! Hostile names in every parameter of the management API and the token service are refused
//! cleanly: a 4xx with Harbor's error body, never a 5xx, never a panic, nothing created.

mod common;
use common::*;

// (A bare ".." can't be sent through a URL library, which resolves it; `bad_input.rs` sends
// it raw to /v2. Here it arrives encoded.)
const HOSTILE: &[&str] = &[
    "..%2F..%2Fetc",
    "a%00b",
    "UPPER",
    "white%20space",
    "semi;colon",
    "quote%22",
    "%3Cscript%3E",
    "x%27%20OR%20%271%27%3D%271",
    "%E2%80%AE",
];

fn assert_clean(r: &Resp, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx, got {} {}",
        r.status,
        r.text()
    );
    if !r.body.is_empty() && r.header("Content-Type").is_some_and(|c| c.contains("json")) {
        let v = r.json();
        assert!(v["errors"][0]["code"].is_string(), "{what}: error body {v}");
    }
}

#[test]
fn hostile_names_in_api_parameters_are_refused_cleanly() {
    let s = Server::start();
    let c = s.client();
    c.push_image("library/app", "v1", &[b"layer"]);
    for h in HOSTILE {
        let paths = [
            format!("/api/v2.0/projects/{h}"),
            format!("/api/v2.0/projects/{h}/members"),
            format!("/api/v2.0/projects/{h}/repositories"),
            format!("/api/v2.0/projects/library/repositories/{h}"),
            format!("/api/v2.0/projects/library/repositories/{h}/artifacts"),
            format!("/api/v2.0/projects/library/repositories/app/artifacts/{h}"),
            format!("/api/v2.0/projects/library/repositories/app/artifacts/v1/tags/{h}"),
            format!("/api/v2.0/projects/library/members/{h}"),
            format!("/api/v2.0/users/{h}"),
            format!("/api/v2.0/robots/{h}"),
            format!("/api/v2.0/projects/library/metadatas/{h}"),
        ];
        for p in &paths {
            assert_clean(&c.get(p), p);
        }
        let dels = [
            format!("/api/v2.0/projects/library/repositories/app/artifacts/v1/tags/{h}"),
            format!("/api/v2.0/projects/library/repositories/{h}"),
        ];
        for p in &dels {
            assert_clean(&c.req("DELETE", p, &[], None), p);
        }
        let body = format!(r#"{{"project_name":"{h}"}}"#).replace("%2F", "/");
        assert_clean(
            &c.req("POST", "/api/v2.0/projects", &[], Some(body.as_bytes())),
            "create project",
        );
        let body = format!(r#"{{"username":"{h}/x","password":"Passw0rd-1"}}"#);
        assert_clean(
            &c.req("POST", "/api/v2.0/users", &[], Some(body.as_bytes())),
            "create user",
        );
        let body = format!(r#"{{"name":"{h}"}}"#);
        let valid_tag = h.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid_tag {
            assert_clean(
                &c.req(
                    "POST",
                    "/api/v2.0/projects/library/repositories/app/artifacts/v1/tags",
                    &[],
                    Some(body.as_bytes()),
                ),
                "create tag",
            );
        }
        let r = c.get(&format!(
            "/service/token?service=harbor-registry&scope=repository:{h}:pull"
        ));
        assert!(
            r.status == 200 || r.status == 400,
            "token scope {h}: {}",
            r.status
        );
        if r.status == 200 {
            let token = r.json()["token"].as_str().unwrap().to_string();
            assert!(!token.is_empty());
        }
    }
    // Malformed JSON bodies, wrong types, dot segments, NUL characters.
    let nul_user = r#"{"username":"nul","password":"Passw0rd-1","email":"a\u0000b"}"#;
    assert_clean(
        &c.req("POST", "/api/v2.0/users", &[], Some(nul_user.as_bytes())),
        "NUL in a body",
    );
    assert_clean(
        &c.get("/v2/library/app/tags/list?last=%00"),
        "NUL in a /v2 query",
    );
    for body in [
        "{",
        "[]",
        r#"{"project_name":".."}"#,
        r#"{"project_name":"a/../b"}"#,
        r#"{"project_name": 5}"#,
        r#"{"project_name":"ok","metadata":{"public":"maybe"}}"#,
    ] {
        assert_clean(
            &c.req("POST", "/api/v2.0/projects", &[], Some(body.as_bytes())),
            body,
        );
    }
    // Nothing was created by any of it.
    let projects = c.get("/api/v2.0/projects?page_size=100").json();
    let names: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["library"]);
    let log = s.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("internal error"), "{log}");
}
