//! Restarts and crashes: an upload session survives a restart; kill -9 during concurrent
//! pushes loses nothing that was acknowledged, and interrupted uploads resume or fail cleanly.

mod common;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn resume_after(restart: impl FnOnce(&mut Server)) {
    let mut s = Server::start();
    let data = random_bytes(300_000, 11);
    let digest = sha256(&data);
    let c = s.client();
    let loc = c
        .req("POST", "/v2/library/a/blobs/uploads/", &[], None)
        .header("Location")
        .unwrap()
        .to_string();
    let r = c.req(
        "PATCH",
        &loc,
        &[("Content-Range", "0-99999")],
        Some(&data[..100_000]),
    );
    assert_eq!(r.status, 202);
    restart(&mut s);
    let c = s.client();
    let r = c.get(&loc);
    assert_eq!(r.status, 204, "the session survived the restart");
    assert_eq!(r.header("Range"), Some("0-99999"));
    let r = c.req(
        "PATCH",
        &loc,
        &[("Content-Range", "100000-299999")],
        Some(&data[100_000..]),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let r = c.req("PUT", &format!("{loc}?digest={digest}"), &[], Some(b""));
    assert_eq!(
        r.status,
        201,
        "digest verified across the restart: {}",
        r.text()
    );
    assert_eq!(
        sha256(&c.get(&format!("/v2/library/a/blobs/{digest}")).body),
        digest
    );
}

#[test]
fn upload_session_resumes_after_graceful_restart() {
    resume_after(|s| s.restart());
}

#[test]
fn upload_session_resumes_after_kill9() {
    resume_after(|s| s.restart_after_kill9());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut s = Server::start();
    let status = s.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(s.log().contains("shutting down"));
}

struct Pushed {
    repo: String,
    tag: String,
    digest: String,
    manifest: Vec<u8>,
    blobs: Vec<String>,
}

struct OpenUpload {
    repo: String,
    location: String,
    data: Vec<u8>,
}

/// One client's loop: push images (chunked uploads) until the server goes away.
fn pusher(
    base: String,
    worker: usize,
    pushed: Arc<Mutex<Vec<Pushed>>>,
    open: Arc<Mutex<Vec<OpenUpload>>>,
) {
    let c = Client::new(&base).with_basic("admin", ADMIN_PASSWORD);
    let shared = random_bytes(256 * 1024, 1000);
    let deadline = Instant::now() + Duration::from_secs(30);
    let repo = format!("crash/w{worker}");
    for round in 0.. {
        if Instant::now() > deadline {
            return;
        }
        let mut blobs = Vec::new();
        let mut descs = Vec::new();
        let unique_layer = random_bytes(1024 * 1024 + round * 7, (worker * 10_000 + round) as u64);
        let config = format!(r#"{{"worker":{worker},"round":{round}}}"#).into_bytes();
        for (i, data) in [config.clone(), shared.clone(), unique_layer]
            .into_iter()
            .enumerate()
        {
            let Ok(post) = c.try_req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None)
            else {
                return;
            };
            let Some(loc) = post.header("Location").map(str::to_string) else {
                return;
            };
            let slot = {
                let mut o = open.lock().unwrap();
                o.push(OpenUpload {
                    repo: repo.clone(),
                    location: loc.clone(),
                    data: data.clone(),
                });
                o.len() - 1
            };
            for (n, chunk) in data.chunks(128 * 1024).enumerate() {
                let start = n * 128 * 1024;
                let range = format!("{start}-{}", start + chunk.len() - 1);
                match c.try_req("PATCH", &loc, &[("Content-Range", &range)], Some(chunk)) {
                    Ok(r) if r.status == 202 => {}
                    _ => return,
                }
            }
            let digest = sha256(&data);
            match c.try_req("PUT", &format!("{loc}?digest={digest}"), &[], Some(b"")) {
                Ok(r) if r.status == 201 => {}
                _ => return,
            }
            open.lock().unwrap()[slot].location.clear();
            let media = if i == 0 {
                "application/vnd.oci.image.config.v1+json"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            descs.push(
                serde_json::json!({"mediaType": media, "digest": digest, "size": data.len()}),
            );
            blobs.push(digest);
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descs[0], "layers": descs[1..],
        }))
        .unwrap();
        let tag = format!("r{round}");
        match c.try_req(
            "PUT",
            &format!("/v2/{repo}/manifests/{tag}"),
            &[("Content-Type", OCI_MANIFEST)],
            Some(&manifest),
        ) {
            Ok(r) if r.status == 201 => pushed.lock().unwrap().push(Pushed {
                repo: repo.clone(),
                tag,
                digest: sha256(&manifest),
                manifest,
                blobs,
            }),
            _ => return,
        }
    }
}

#[test]
fn kill9_during_eight_concurrent_pushes_loses_nothing_acknowledged() {
    let mut s = Server::start();
    let pushed = Arc::new(Mutex::new(Vec::new()));
    let open = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (base, p, o) = (s.url(), pushed.clone(), open.clone());
            std::thread::spawn(move || pusher(base, w, p, o))
        })
        .collect();
    // Let pushes complete and others be in flight, then pull the plug.
    let started = Instant::now();
    while pushed.lock().unwrap().len() < 8 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(150));
    s.kill9();
    for w in workers {
        w.join().unwrap();
    }
    let pushed = pushed.lock().unwrap();
    assert!(
        pushed.len() >= 8,
        "pushes completed before the kill: {}",
        pushed.len()
    );

    s.launch_again();
    let c = s.client();
    for p in pushed.iter() {
        let r = c.get(&format!("/v2/{}/manifests/{}", p.repo, p.tag));
        assert_eq!(r.status, 200, "acknowledged push {}:{} lost", p.repo, p.tag);
        assert_eq!(r.body, p.manifest);
        assert_eq!(
            c.get(&format!("/v2/{}/manifests/{}", p.repo, p.digest))
                .status,
            200
        );
        for b in &p.blobs {
            let r = c.get(&format!("/v2/{}/blobs/{b}", p.repo));
            assert_eq!(r.status, 200);
            assert_eq!(&sha256(&r.body), b, "blob content verified");
        }
    }
    // Interrupted uploads: each either resumes to a verified blob or is cleanly unknown.
    let mut resumed = 0;
    for u in open
        .lock()
        .unwrap()
        .iter()
        .filter(|u| !u.location.is_empty())
    {
        let r = c.get(&u.location);
        match r.status {
            404 => assert_eq!(r.error_code(), "BLOB_UPLOAD_UNKNOWN"),
            204 => {
                let end: usize = r
                    .header("Range")
                    .unwrap()
                    .split('-')
                    .nth(1)
                    .unwrap()
                    .parse()
                    .unwrap();
                let have = if end == 0 { 0 } else { end + 1 };
                assert!(have <= u.data.len());
                if have < u.data.len() {
                    let range = format!("{have}-{}", u.data.len() - 1);
                    let r = c.req(
                        "PATCH",
                        &u.location,
                        &[("Content-Range", &range)],
                        Some(&u.data[have..]),
                    );
                    assert_eq!(r.status, 202, "{}", r.text());
                }
                let digest = sha256(&u.data);
                let r = c.req(
                    "PUT",
                    &format!("{}?digest={digest}", u.location),
                    &[],
                    Some(b""),
                );
                assert_eq!(r.status, 201, "resumed upload commits: {}", r.text());
                let r = c.get(&format!("/v2/{}/blobs/{digest}", u.repo));
                assert_eq!(sha256(&r.body), digest);
                resumed += 1;
            }
            other => panic!("interrupted upload answered {other}: {}", r.text()),
        }
    }
    eprintln!(
        "{} pushes acknowledged before kill -9; {resumed} interrupted uploads resumed",
        pushed.len()
    );
    assert!(!s.log().contains("panicked"));
}

#[test]
fn concurrent_uploads_of_the_same_blob_never_corrupt_it() {
    let s = Server::start();
    let data = Arc::new(random_bytes(3 * 1024 * 1024, 77));
    let digest = sha256(&data);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (base, data) = (s.url(), data.clone());
            std::thread::spawn(move || {
                let c = Client::new(&base).with_basic("admin", ADMIN_PASSWORD);
                let repo = format!("same/r{}", i % 3);
                c.push_blob(&repo, &data)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), digest);
    }
    let c = s.client();
    for i in 0..3 {
        assert_eq!(
            sha256(&c.get(&format!("/v2/same/r{i}/blobs/{digest}")).body),
            digest
        );
    }
}

#[test]
fn concurrent_pushes_of_one_image_into_a_new_project_all_succeed() {
    let s = Server::start();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let base = s.url();
            std::thread::spawn(move || {
                let c = Client::new(&base).with_basic("admin", ADMIN_PASSWORD);
                // Same project (auto-created by whichever push comes first), same repository,
                // same manifest, same tag.
                c.push_image("racing/app", "v1", &[b"shared layer"]).0
            })
        })
        .collect();
    let digests: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(digests.windows(2).all(|w| w[0] == w[1]));
    let r = s.client().get("/v2/racing/app/manifests/v1");
    assert_eq!(r.status, 200);
    assert_eq!(sha256(&r.body), digests[0]);
    assert!(!s.log().contains("internal error"), "{}", s.log());
}
