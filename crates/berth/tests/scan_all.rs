//! Scan-all (`/system/scanAll/*`, `/scans/all/metrics`): a manual run scans every image,
//! re-scans pick up advisories imported since, schedules are validated and stored, stop;
//! and `berth vulndb update` downloading from a local HTTP server (bounded, guarded).

mod common;
use common::scanning::*;
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

/// An Alpine 3.10 image whose musl predates the secdb fix of CVE-2019-14697.
fn vulnerable_layer(n: usize) -> Vec<u8> {
    let db = std::fs::read_to_string(fixture("pkgdb/apk/alpine-3.10.4/installed"))
        .unwrap()
        .replace("V:1.1.22-r3", "V:1.1.22-r2");
    tar_layer(&[
        (
            "etc/os-release",
            &std::fs::read(fixture("pkgdb/apk/alpine-3.10.4/os-release")).unwrap(),
        ),
        ("lib/apk/db/installed", db.as_bytes()),
        ("etc/hostname", format!("image-{n}\n").as_bytes()),
    ])
}

fn overview(c: &Client, repo: &str, tag: &str) -> Value {
    let r = c.get(&format!(
        "/api/v2.0/projects/library/repositories/{repo}/artifacts/{tag}?with_scan_overview=true"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["scan_overview"][REPORT_MIME].clone()
}

fn wait_metrics_done(c: &Client) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let m = c.get("/api/v2.0/scans/all/metrics").json();
        if m["ongoing"] == false && m["total"].as_i64().unwrap_or(0) > 0 {
            return m;
        }
        assert!(Instant::now() < deadline, "scan-all did not finish: {m}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn scan_all_rescans_with_new_advisories_and_schedules() {
    let s = Server::start();
    let c = s.client();
    for i in 0..3 {
        c.push_image(&format!("library/app{i}"), "v1", &[&vulnerable_layer(i)]);
    }
    // A non-image artifact is not part of scan-all.
    let cfg = c.push_blob("library/thing", b"{}");
    let art = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.example.thing.v1+json", "digest": cfg, "size": 2},
        "layers": []
    }))
    .unwrap();
    assert_eq!(
        c.put_manifest("library/thing", "x", OCI_MANIFEST, &art)
            .status,
        201
    );

    // Before any advisory: a manual run finds nothing.
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/system/scanAll/schedule",
        &json!({"schedule": {"type": "Manual"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let m = wait_metrics_done(&c);
    assert_eq!(m["total"], 3, "{m}");
    assert_eq!(m["completed"], 3, "{m}");
    assert_eq!(m["metrics"]["Success"], 3, "{m}");
    assert_eq!(m["trigger"], "Manual");
    for i in 0..3 {
        let o = overview(&c, &format!("app{i}"), "v1");
        assert_eq!(o["scan_status"], "Success");
        assert_eq!(o["summary"]["total"], 0, "{o}");
    }

    // New advisories, then scan-all again: the reports now have them.
    let out = s.berth_cli(&[
        "vulndb",
        "import",
        fixture("advisories/alpine-secdb-legacy-yaml/v3.10")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success());
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/system/scanAll/schedule",
        &json!({"schedule": {"type": "Manual"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let m = c.get("/api/v2.0/scans/all/metrics").json();
        if m["ongoing"] == false && m["metrics"]["Success"] == 3 && m["id"] != json!(1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "second scan-all did not finish: {m}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for i in 0..3 {
        let o = overview(&c, &format!("app{i}"), "v1");
        // musl and musl-utils, CVE-2019-14697 each.
        assert_eq!(o["summary"]["total"], 2, "{o}");
    }

    // Schedules: stored, read back with the next fire time, validated, removed.
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/system/scanAll/schedule",
        &json!({"schedule": {"type": "Custom", "cron": "0 0 3 * * *"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let g = c.get("/api/v2.0/system/scanAll/schedule").json();
    assert_eq!(g["schedule"]["type"], "Custom");
    assert_eq!(g["schedule"]["cron"], "0 0 3 * * *");
    assert!(g["schedule"]["next_scheduled_time"].is_string(), "{g}");
    for bad in [
        json!({"schedule": {"type": "Custom", "cron": "0 3 * * *"}}),
        json!({"schedule": {"type": "Sometimes"}}),
        json!({}),
    ] {
        let r = send_json(&c, "PUT", "/api/v2.0/system/scanAll/schedule", &bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    // A schedule every 2 s starts a scheduled run.
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/system/scanAll/schedule",
        &json!({"schedule": {"type": "Custom", "cron": "*/2 * * * * *"}}),
    );
    assert_eq!(r.status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = c.get("/api/v2.0/scans/schedule/metrics").json();
        if m["trigger"] == "Schedule" {
            break;
        }
        assert!(Instant::now() < deadline, "no scheduled run: {m}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let r = send_json(
        &c,
        "PUT",
        "/api/v2.0/system/scanAll/schedule",
        &json!({"schedule": {"type": "None"}}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(c.get("/api/v2.0/system/scanAll/schedule").json(), json!({}));

    // Only admins; stop with nothing running is 400.
    let r = send_json(
        &c,
        "POST",
        "/api/v2.0/users",
        &json!({"username": "ned", "password": "Scan-Test-Pass-1", "email": "ned@example.com", "realname": "ned"}),
    );
    assert_eq!(r.status, 201);
    let ned = s.anon().with_basic("ned", "Scan-Test-Pass-1");
    let r = send_json(
        &ned,
        "POST",
        "/api/v2.0/system/scanAll/schedule",
        &json!({"schedule": {"type": "Manual"}}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(ned.get("/api/v2.0/scans/all/metrics").status, 403);
    std::thread::sleep(Duration::from_secs(3));
    wait_metrics_done(&c);
    let r = c.req("POST", "/api/v2.0/system/scanAll/stop", &[], None);
    assert_eq!(r.status, 400, "{}", r.text());
}

/// A tiny HTTP/1.1 file server on 127.0.0.1: `GET /<name>` answers `files[name]`; `/redirect`
/// redirects to `target`; anything else is 404.
fn serve(
    files: Vec<(String, Vec<u8>)>,
    redirect_to: String,
) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            if path == "/quit" {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            if path == "/redirect" {
                let _ = stream.write_all(
                    format!("HTTP/1.1 302 Found\r\nLocation: {redirect_to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
                );
                continue;
            }
            match files.iter().find(|(n, _)| format!("/{n}") == path) {
                Some((_, body)) => {
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    );
                    let _ = stream.write_all(body);
                }
                None => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    (addr, handle)
}

fn zip_dir(dir: &Path) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                z.start_file(p.file_name().unwrap().to_str().unwrap(), opts)
                    .unwrap();
                let mut data = Vec::new();
                std::fs::File::open(&p)
                    .unwrap()
                    .read_to_end(&mut data)
                    .unwrap();
                z.write_all(&data).unwrap();
            }
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

#[test]
fn vulndb_update_downloads_configured_urls() {
    let s = Server::start();
    let files = vec![
        (
            "v3.10/main.yaml".to_string(),
            std::fs::read(fixture(
                "advisories/alpine-secdb-legacy-yaml/v3.10/main.yaml",
            ))
            .unwrap(),
        ),
        (
            "Go/all.zip".to_string(),
            zip_dir(&fixture("advisories/osv-go-vulndb")),
        ),
        ("big.json".to_string(), vec![b' '; 2 << 20]),
    ];
    let (addr, server) = serve(files, "http://169.254.169.254/latest/meta-data".into());
    let base = format!("http://{addr}");
    let run = |urls: &str, allow: bool, extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(["vulndb", "update"])
            .args(extra)
            .arg("--data-dir")
            .arg(s.data_dir())
            .env("BERTH_VULNDB_URLS", urls)
            .env("BERTH_LOG", "warn");
        if let Some(db) = s.database_url() {
            cmd.arg("--database").arg(db);
        }
        if allow {
            cmd.env("BERTH_OUTBOUND_ALLOW", "127.0.0.1");
        } else {
            cmd.env_remove("BERTH_OUTBOUND_ALLOW");
        }
        cmd.output().unwrap()
    };
    let out = run(
        &format!("{base}/v3.10/main.yaml,{base}/Go/all.zip"),
        true,
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("alpine-secdb-yaml: 1 files"), "{stdout}");
    assert!(stdout.contains("osv-json:"), "{stdout}");
    // Again: nothing changes.
    let out = run(&format!("{base}/v3.10/main.yaml"), true, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(" 0 new, 0 updated"), "{stdout}");

    // Loopback is refused unless the operator allows it.
    let out = run(&format!("{base}/v3.10/main.yaml"), false, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("main.yaml"), "{err}");
    // A redirect to an internal address is refused; 404 and oversize downloads are errors.
    let out = run(&format!("{base}/redirect"), true, &[]);
    assert!(!out.status.success());
    let out = run(&format!("{base}/missing.zip"), true, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));
    let out = run(&format!("{base}/big.json"), true, &["--max-mb", "1"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("limit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run("ftp://example.com/x", true, &[]);
    assert!(!out.status.success());
    let out = run("", true, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BERTH_VULNDB_URLS"));
    let _ = ureq::get(&format!("{base}/quit")).call();
    server.join().unwrap();
}
