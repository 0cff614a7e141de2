//! Test harness: starts the real `berth` binary on 127.0.0.1 with its own data directory
//! (and, when `BERTH_TEST_PG` names a PostgreSQL server, its own fresh database there) and
//! offers a small HTTP client. No part of berth is mocked.
#![allow(dead_code)]

pub mod scanning;

use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub dir: PathBuf,
    pub port: u16,
    pub database: Option<String>,
    child: Option<Child>,
    extra_env: Vec<(String, String)>,
    /// Shares another server's data and database (which that server cleans up).
    shared: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}{}x{}x{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The PostgreSQL server tests run against, if any (`postgres://user@host:port`).
pub fn postgres() -> Option<String> {
    std::env::var("BERTH_TEST_PG")
        .ok()
        .filter(|s| !s.is_empty())
}

fn create_pg_database(base: &str) -> String {
    let name = unique("berth_test_");
    let status = Command::new("psql")
        .arg(format!("{base}/postgres"))
        .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("run psql");
    assert!(status.success(), "could not create test database");
    format!("{base}/{name}")
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Server {
        let dir = std::env::temp_dir().join(unique("berth-test-"));
        std::fs::create_dir_all(&dir).unwrap();
        let database = postgres().map(|base| create_pg_database(&base));
        let mut s = Server {
            dir,
            port: free_port(),
            database,
            child: None,
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            shared: false,
        };
        s.launch();
        s
    }

    /// A second berth process on `other`'s data directory and database (scale-out).
    pub fn start_sharing(other: &Server, env: &[(&str, &str)]) -> Server {
        let dir = std::env::temp_dir().join(unique("berth-test-"));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(other.data_dir(), dir.join("data")).unwrap();
        let mut s = Server {
            dir,
            port: free_port(),
            database: other.database.clone(),
            child: None,
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            shared: true,
        };
        s.launch();
        s
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BERTH_AUTO_CREATE_PROJECTS", "true");
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .env("BERTH_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(db) = &self.database {
            cmd.arg("--database").arg(db);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("start berth"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = ureq::get(&format!("{}/healthz", self.url())).call() {
                if r.status() == 200 {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("berth exited at start ({status}); log:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "berth did not start; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, as image references want it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("server running");
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "berth did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.terminate();
        }
        self.launch();
    }

    /// Sets (or replaces) an environment variable for the next launch.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != key);
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// Starts the server again on the same data after it was stopped or killed.
    pub fn launch_again(&mut self) {
        assert!(self.child.is_none(), "server still running");
        self.launch();
    }

    pub fn restart_after_kill9(&mut self) {
        self.kill9();
        self.launch();
    }

    /// A client logged in as the system administrator (Basic auth).
    pub fn client(&self) -> Client {
        Client::new(&self.url()).with_basic("admin", ADMIN_PASSWORD)
    }

    /// A client without credentials.
    pub fn anon(&self) -> Client {
        Client::new(&self.url())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
            if self.shared {
                return;
            }
            if let Some((base, name)) = self.database.as_deref().and_then(|d| d.rsplit_once('/')) {
                let _ = Command::new("psql")
                    .arg(format!("{base}/postgres"))
                    .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {name}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        } else {
            eprintln!("berth log:\n{}", self.log());
        }
    }
}

/// A response, whatever its status.
pub struct Resp {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    /// The OCI error code of an error body.
    pub fn error_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "no OCI error code in {}",
                    String::from_utf8_lossy(&self.body)
                )
            })
            .to_string()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
    authorization: Option<String>,
}

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "Berth-Test-Admin-1";

pub fn basic_header(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                // A server may close a connection after refusing a request early; a fresh
                // connection per request keeps one refusal from failing the next request.
                .max_idle_connections(0)
                .timeout(Duration::from_secs(60))
                .build(),
            authorization: None,
        }
    }

    pub fn with_basic(mut self, user: &str, password: &str) -> Client {
        self.authorization = Some(basic_header(user, password));
        self
    }

    pub fn with_bearer(mut self, token: &str) -> Client {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    /// Sends a request; `path` may be absolute or start with `/`.
    pub fn req(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        self.try_req(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: transport error {e}"))
    }

    /// Like `req`, but a transport error (server gone) is returned, not a panic.
    pub fn try_req(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Resp, String> {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut r = self.agent.request(method, &url);
        if let Some(a) = &self.authorization {
            r = r.set("Authorization", a);
        }
        for (k, v) in headers {
            r = r.set(k, v);
        }
        let result = match body {
            Some(b) => r.send_bytes(b),
            None => r.call(),
        };
        match result {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => Ok(Self::collect(resp)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Sends a body of unknown length (chunked transfer encoding).
    pub fn req_stream(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Read,
    ) -> Resp {
        let mut r = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        if let Some(a) = &self.authorization {
            r = r.set("Authorization", a);
        }
        for (k, v) in headers {
            r = r.set(k, v);
        }
        match r.send(body) {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => Self::collect(resp),
            Err(e) => panic!("{method} {path}: transport error {e}"),
        }
    }

    fn collect(resp: ureq::Response) -> Resp {
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let mut body = Vec::new();
        resp.into_reader().read_to_end(&mut body).unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[], None)
    }

    /// Uploads a blob monolithically (POST then PUT) and returns its digest.
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let r = self.req("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], None);
        assert_eq!(r.status, 202, "{}", r.text());
        let loc = r.header("Location").unwrap().to_string();
        let sep = if loc.contains('?') { '&' } else { '?' };
        let r = self.req(
            "PUT",
            &format!("{loc}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            Some(data),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        digest
    }

    /// Pushes a manifest and returns the response.
    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> Resp {
        self.req(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            Some(body),
        )
    }

    /// Pushes config + layers and an OCI image manifest tagged `tag`; returns the manifest's
    /// digest and bytes.
    pub fn push_image(&self, repo: &str, tag: &str, layers: &[&[u8]]) -> (String, Vec<u8>) {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
        let config_digest = self.push_blob(repo, config.as_bytes());
        let layer_descs: Vec<serde_json::Value> = layers
            .iter()
            .map(|l| {
                let d = self.push_blob(repo, l);
                serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": l.len()})
            })
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": layer_descs,
        }))
        .unwrap();
        let r = self.put_manifest(repo, tag, OCI_MANIFEST, &manifest);
        assert_eq!(r.status, 201, "{}", r.text());
        (sha256(&manifest), manifest)
    }
}

/// Sends raw bytes (for requests a URL library would normalise, like `..` paths) and returns
/// the status code and the response text. Write errors are ignored: the server may answer and
/// close before reading everything.
pub fn raw_request(host: &str, head: &str, body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = sock.write_all(head.as_bytes());
    let _ = sock.write_all(body);
    let mut out = Vec::new();
    let _ = sock.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    (status, text)
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no rand crate.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Whether an external client is installed; tests that need it fail loudly when it is not,
/// because the test command installs them.
pub fn require_tool(name: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .unwrap();
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !path.is_empty(),
        "{name} is not installed; run scripts/test.sh, which installs it"
    );
    PathBuf::from(path)
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The real Alpine 3.10.4 image from `../shared/fixtures` (docker save format, gzipped).
pub const ALPINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/images/alpine-3.10.4.docker-save.tar.gz"
);

/// A containers auth file (skopeo, podman) holding `user`'s credentials for `host`.
pub fn containers_auth(host: &str, user: &str, secret: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    serde_json::json!({"auths": {host: {"auth": token}}}).to_string()
}

/// skopeo with a policy, registries.conf, home and auth file of its own.
pub struct Skopeo {
    bin: PathBuf,
    dir: PathBuf,
}

impl Skopeo {
    pub fn new(scratch: &Path) -> Skopeo {
        let bin = require_tool("skopeo");
        let dir = scratch.join("skopeo");
        for d in ["home", "runtime", "registries.d"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        std::fs::write(
            dir.join("policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("registries.conf"),
            "unqualified-search-registries = []\n",
        )
        .unwrap();
        std::fs::write(dir.join("auth.json"), r#"{"auths":{}}"#).unwrap();
        Skopeo { bin, dir }
    }

    /// Writes the auth file skopeo reads, as `skopeo login` would.
    pub fn login(&self, host: &str, user: &str, secret: &str) {
        std::fs::write(
            self.dir.join("auth.json"),
            containers_auth(host, user, secret),
        )
        .unwrap();
    }

    pub fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--policy")
            .arg(self.dir.join("policy.json"))
            .arg("--registries.d")
            .arg(self.dir.join("registries.d"))
            .args(args)
            .env("HOME", self.dir.join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.join("runtime"))
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.dir.join("registries.conf"),
            )
            .env("REGISTRY_AUTH_FILE", self.dir.join("auth.json"))
            .stdin(Stdio::null());
        run(&mut cmd)
    }
}

/// The Alpine fixture gunzipped into `dir` (skopeo's docker-archive reader wants the plain tar).
pub fn alpine_tar(dir: &Path) -> PathBuf {
    let src = Path::new(ALPINE);
    assert!(src.is_file(), "fixture {} is missing", src.display());
    let dst = dir.join("alpine-3.10.4.tar");
    let out = std::fs::File::create(&dst).unwrap();
    let status = Command::new(require_tool("gzip"))
        .arg("-dc")
        .arg(src)
        .stdout(out)
        .status()
        .unwrap();
    assert!(status.success(), "gunzip {}", src.display());
    dst
}

// ---- Helpers of the policy tests (tag immutability, retention, quotas) ----

impl Skopeo {
    /// Runs skopeo like `run` but returns its output whatever the exit status, for pushes and
    /// deletes the registry is expected to refuse.
    pub fn try_run(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.bin)
            .arg("--policy")
            .arg(self.dir.join("policy.json"))
            .arg("--registries.d")
            .arg(self.dir.join("registries.d"))
            .args(args)
            .env("HOME", self.dir.join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.join("runtime"))
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.dir.join("registries.conf"),
            )
            .env("REGISTRY_AUTH_FILE", self.dir.join("auth.json"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run skopeo {args:?}: {e}"))
    }
}

impl Server {
    /// The database URL the server was started with (`None`: the default SQLite database in
    /// its data directory).
    pub fn database_url(&self) -> Option<String> {
        self.database.clone()
    }

    /// Runs `berth <args> --data-dir <this server's> [--database <this server's>]`: an
    /// operator command on the same metadata as the running server.
    pub fn berth_cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(args).arg("--data-dir").arg(self.data_dir());
        if let Some(db) = &self.database {
            cmd.arg("--database").arg(db);
        }
        cmd.env("BERTH_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run berth {args:?}: {e}"))
    }
}

/// Sends `body` as JSON.
pub fn send_json(c: &Client, method: &str, path: &str, body: &serde_json::Value) -> Resp {
    c.req(
        method,
        path,
        &[("Content-Type", "application/json")],
        Some(&serde_json::to_vec(body).unwrap()),
    )
}

/// The trailing numeric id of a `Location` header.
pub fn location_id(r: &Resp, prefix: &str) -> i64 {
    let loc = r
        .header("Location")
        .unwrap_or_else(|| panic!("no Location in a {} answer: {}", r.status, r.text()));
    let rest = loc
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("Location {loc:?} does not start with {prefix:?}"));
    rest.parse()
        .unwrap_or_else(|_| panic!("Location {loc:?} does not end in an id after {prefix:?}"))
}

/// Creates a project through `/api/v2.0/projects` with `body` and returns its id.
pub fn api_create_project(c: &Client, body: &serde_json::Value) -> i64 {
    let r = send_json(c, "POST", "/api/v2.0/projects", body);
    assert_eq!(r.status, 201, "create project {body}: {}", r.text());
    location_id(&r, "/api/v2.0/projects/")
}

/// Pushes the config and layers `Client::push_image` would push for `tag` and returns the
/// manifest bytes without putting the manifest (same bytes as `push_image(repo, tag, layers)`).
pub fn push_image_blobs(c: &Client, repo: &str, tag: &str, layers: &[&[u8]]) -> Vec<u8> {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
    let config_digest = c.push_blob(repo, config.as_bytes());
    let layer_descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let d = c.push_blob(repo, l);
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": l.len()})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    }))
    .unwrap()
}

// ---- Helpers of the webhook tests: a local HTTP receiver, HMAC-SHA256, the webhook API ----

/// One HTTP request a [`Receiver`] got.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "delivered body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct ReceiverShared {
    got: std::sync::Mutex<Vec<Received>>,
    /// Statuses for the next requests, one each, before `status` applies again.
    first: std::sync::Mutex<std::collections::VecDeque<u16>>,
    status: std::sync::atomic::AtomicU16,
}

/// A real HTTP/1.1 server on 127.0.0.1 that records every request and answers with an empty
/// body and a configurable status (200 by default), closing each connection. `down()` drops the
/// listener (connections are refused); `up()` listens again on the same port.
pub struct Receiver {
    port: u16,
    shared: std::sync::Arc<ReceiverShared>,
    running: Option<(
        std::sync::Arc<std::sync::atomic::AtomicBool>,
        std::thread::JoinHandle<()>,
    )>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut r = Receiver {
            port: listener.local_addr().unwrap().port(),
            shared: std::sync::Arc::new(ReceiverShared {
                got: Default::default(),
                first: Default::default(),
                status: std::sync::atomic::AtomicU16::new(200),
            }),
            running: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: TcpListener) {
        use std::sync::atomic::{AtomicBool, Ordering};
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (stop2, shared) = (stop.clone(), self.shared.clone());
        let handle = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let shared = shared.clone();
                        std::thread::spawn(move || receiver_connection(sock, &shared));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // The listener is dropped here: new connections are refused.
        });
        self.running = Some((stop, handle));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops listening: the port refuses connections until `up()`.
    pub fn down(&mut self) {
        if let Some((stop, handle)) = self.running.take() {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            handle.join().unwrap();
        }
    }

    /// Listens again on the same port (std sets SO_REUSEADDR; retried for up to 10 s).
    pub fn up(&mut self) {
        assert!(self.running.is_none(), "receiver already up");
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "cannot listen on 127.0.0.1:{} again: {e}",
                        self.port
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        self.serve(listener);
    }

    /// The status every later request gets.
    pub fn respond_with(&self, status: u16) {
        self.shared
            .status
            .store(status, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next requests get these statuses, one each, before the usual one applies again.
    pub fn respond_first(&self, statuses: &[u16]) {
        self.shared
            .first
            .lock()
            .unwrap()
            .extend(statuses.iter().copied());
    }

    /// Everything received so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits (at most `secs`) until `done` holds for what was received; returns it. Panics
    /// naming `what` and listing what arrived when the time is up.
    pub fn wait_for(
        &self,
        what: &str,
        secs: u64,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.requests();
            if done(&got) {
                return got;
            }
            if Instant::now() >= deadline {
                let list: Vec<String> = got
                    .iter()
                    .map(|r| format!("{} {} {}", r.method, r.path, r.text()))
                    .collect();
                panic!(
                    "{what}: not received within {secs} s; got {} request(s):\n{}",
                    got.len(),
                    list.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a complete chunked body; None while incomplete.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = find_bytes(b, b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn receiver_connection(mut sock: std::net::TcpStream, shared: &ReceiverShared) {
    use std::io::Write;
    let _ = sock.set_nonblocking(false);
    let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = find_bytes(&buf, b"\r\n\r\n") {
            break i;
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let value = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let chunked = value("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length: usize = value("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut rest = buf[head_end + 4..].to_vec();
    let body = loop {
        if chunked {
            if let Some(b) = dechunk(&rest) {
                break b;
            }
        } else if rest.len() >= length {
            rest.truncate(length);
            break rest;
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => rest.extend_from_slice(&chunk[..n]),
        }
    };
    shared.got.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
    });
    let status = shared
        .first
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| shared.status.load(std::sync::atomic::Ordering::SeqCst));
    let reason = match status {
        200 => "OK",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let _ = sock.write_all(
        format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    let _ = sock.flush();
    let _ = sock.shutdown(std::net::Shutdown::Write);
}

/// HMAC-SHA256 (RFC 2104) built on sha2: 64-byte block, ipad 0x36, opad 0x5c.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Env of a server whose webhooks may reach this host and retry within 2 s.
pub const WEBHOOK_ENV: &[(&str, &str)] = &[
    ("BERTH_OUTBOUND_ALLOW", "127.0.0.1/32,::1"),
    ("BERTH_WEBHOOK_RETRY_MAX", "2"),
];

/// An http target in Harbor's shape with `Authorization: Bearer abc`.
pub fn webhook_target(address: &str, format: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "http", "address": address, "auth_header": "Bearer abc",
        "skip_cert_verify": false, "payload_format": format,
    })
}

/// A policy body: enabled, the given targets and event types, secret `s3cret`.
pub fn webhook_policy(
    name: &str,
    targets: Vec<serde_json::Value>,
    events: &[&str],
) -> serde_json::Value {
    serde_json::json!({
        "name": name, "description": "", "enabled": true, "targets": targets,
        "event_types": events, "secret": "s3cret",
    })
}

/// Creates a webhook policy in `project` (name or id) and returns its id (from `Location`,
/// which names the project as the request did, by name or by id).
pub fn create_webhook(c: &Client, project: &str, body: &serde_json::Value) -> i64 {
    let r = send_json(
        c,
        "POST",
        &format!("/api/v2.0/projects/{project}/webhook/policies"),
        body,
    );
    assert_eq!(r.status, 201, "create webhook policy {body}: {}", r.text());
    let loc = r
        .header("Location")
        .unwrap_or_else(|| panic!("no Location creating a webhook policy: {}", r.text()))
        .to_string();
    let (prefix, id) = loc
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("Location {loc:?}"));
    assert!(
        prefix.starts_with("/api/v2.0/projects/") && prefix.ends_with("/webhook/policies"),
        "Location {loc:?} is not /api/v2.0/projects/{{p}}/webhook/policies/{{id}}"
    );
    id.parse()
        .unwrap_or_else(|_| panic!("Location {loc:?} does not end in an id"))
}

/// `GET …/webhook/policies/{id}/executions` (newest first).
pub fn webhook_executions(c: &Client, project: &str, policy: i64) -> Vec<serde_json::Value> {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/webhook/policies/{policy}/executions"
    ));
    assert_eq!(r.status, 200, "executions of policy {policy}: {}", r.text());
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("executions are not an array: {}", r.text()))
        .clone()
}

pub fn webhook_tasks(c: &Client, project: &str, policy: i64, eid: i64) -> Vec<serde_json::Value> {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/webhook/policies/{policy}/executions/{eid}/tasks"
    ));
    assert_eq!(r.status, 200, "tasks of execution {eid}: {}", r.text());
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("tasks are not an array: {}", r.text()))
        .clone()
}

/// The text/plain log of a delivery task.
pub fn webhook_task_log(c: &Client, project: &str, policy: i64, eid: i64, tid: i64) -> String {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/webhook/policies/{policy}/executions/{eid}/tasks/{tid}/log"
    ));
    assert_eq!(r.status, 200, "log of task {tid}: {}", r.text());
    let ct = r.header("Content-Type").unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "log Content-Type {ct:?}");
    r.text()
}

/// Waits (at most `secs`) for an execution of `policy` for which `done` holds.
pub fn wait_webhook_execution(
    c: &Client,
    project: &str,
    policy: i64,
    secs: u64,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let list = webhook_executions(c, project, policy);
        if let Some(e) = list.iter().find(|e| done(e)) {
            return e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{what}: no such execution of policy {policy} within {secs} s: {list:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

// ---- Helpers of the signature tests: a cosign signer (the sigstore crate), cosign's
// signature manifests, the trust API, enforcement and pull refusals ----

pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";
pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const COSIGN_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
pub const NOTATION_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// Project metadata requiring a verified cosign signature on pull.
pub const TRUST_COSIGN: &str = "enable_content_trust_cosign";
/// Project metadata requiring a verified Notation signature on pull.
pub const TRUST_NOTATION: &str = "enable_content_trust";
const SIGNER_KEY_PASSWORD: &[u8] = b"berth-test-key-password";

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `../shared/fixtures/signatures/<rel>`.
pub fn signature_fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/signatures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A cosign ECDSA P-256 key pair, made as `cosign generate-key-pair` makes one, by the
/// sigstore crate.
pub struct Signer {
    signer: sigstore::crypto::SigStoreSigner,
    pub pair: sigstore::crypto::signing_key::SigStoreKeyPair,
    pub public_pem: String,
}

impl Signer {
    /// Generates a key, exports it as cosign's encrypted PEM ("ENCRYPTED SIGSTORE PRIVATE
    /// KEY", scrypt + secretbox) and signs with the key read back from that PEM, so every
    /// signature went through the key file format.
    pub fn new() -> Signer {
        use sigstore::crypto::signing_key::SigStoreKeyPair;
        let scheme = sigstore::crypto::SigningScheme::ECDSA_P256_SHA256_ASN1;
        let generated = scheme
            .create_signer()
            .and_then(|s| s.to_sigstore_keypair())
            .expect("generate a P-256 key pair");
        let encrypted = generated
            .private_key_to_encrypted_pem(SIGNER_KEY_PASSWORD)
            .expect("export the private key encrypted");
        assert!(
            encrypted.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
            "not cosign's encrypted key format: {}",
            encrypted.lines().next().unwrap_or_default()
        );
        assert!(
            SigStoreKeyPair::from_encrypted_pem(encrypted.as_bytes(), b"wrong password").is_err(),
            "the encrypted key opened with a wrong password"
        );
        let pair = SigStoreKeyPair::from_encrypted_pem(encrypted.as_bytes(), SIGNER_KEY_PASSWORD)
            .expect("read the encrypted private key back");
        let public_pem = pair.public_key_to_pem().expect("public key PEM");
        assert_eq!(
            public_pem,
            generated.public_key_to_pem().unwrap(),
            "the key read back is another key"
        );
        assert!(
            public_pem.starts_with("-----BEGIN PUBLIC KEY-----"),
            "{public_pem}"
        );
        let signer = pair.to_sigstore_signer(&scheme).expect("signer");
        Signer {
            signer,
            pair,
            public_pem,
        }
    }

    /// cosign's signature of `payload`: ECDSA P-256 over SHA-256, ASN.1 DER, base64 —
    /// checked with sigstore's own verifier.
    pub fn sign(&self, payload: &[u8]) -> String {
        let sig = self.signer.sign(payload).expect("sign");
        self.signer
            .to_verification_key()
            .unwrap()
            .verify_signature(sigstore::crypto::Signature::Raw(&sig), payload)
            .expect("sigstore verifies its own signature");
        b64(&sig)
    }

    /// A simple-signing layer signing `digest` as `reference` (`host/project/repo`).
    pub fn layer(&self, reference: &str, digest: &str) -> SigLayer {
        let payload = simple_signing_payload(reference, digest);
        let signature = self.sign(&payload);
        SigLayer {
            payload,
            signature,
            certificate: None,
        }
    }
}

/// cosign's simple-signing payload.
pub fn simple_signing_payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": null,
    }))
    .unwrap()
}

/// One layer of a cosign signature manifest.
pub struct SigLayer {
    pub payload: Vec<u8>,
    /// base64 (`dev.cosignproject.cosign/signature`).
    pub signature: String,
    /// PEM of the signing certificate (`dev.sigstore.cosign/certificate`).
    pub certificate: Option<String>,
}

/// Pushes the payload blobs and cosign's config and returns a signature manifest: an OCI
/// image manifest with one simple-signing layer per `layers` (re-signing appends layers) and,
/// for the OCI 1.1 referrers form, `subject` and cosign's artifact type.
pub fn signature_manifest(
    c: &Client,
    repo: &str,
    layers: &[&SigLayer],
    subject: Option<&serde_json::Value>,
) -> Vec<u8> {
    use serde_json::json;
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    let mut history = Vec::new();
    for l in layers {
        let digest = c.push_blob(repo, &l.payload);
        let mut annotations = json!({"dev.cosignproject.cosign/signature": l.signature});
        if let Some(pem) = &l.certificate {
            annotations["dev.sigstore.cosign/certificate"] = json!(pem);
        }
        descriptors.push(json!({
            "mediaType": COSIGN_SIMPLESIGNING, "digest": digest, "size": l.payload.len(),
            "annotations": annotations,
        }));
        diff_ids.push(json!(digest));
        history.push(json!({"created": "0001-01-01T00:00:00Z"}));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z",
        "history": history, "os": "", "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_digest = c.push_blob(repo, &config);
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    });
    if let Some(subject) = subject {
        m["artifactType"] = json!(COSIGN_ARTIFACT_TYPE);
        m["subject"] = subject.clone();
    }
    serde_json::to_vec(&m).unwrap()
}

/// cosign's signature tag of `digest`: `sha256-<hex>.sig`.
pub fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// Pushes a signature manifest under the `.sig` tag of `subject`; returns its digest.
pub fn push_sig_tag(c: &Client, repo: &str, subject: &str, manifest: &[u8]) -> String {
    let r = c.put_manifest(repo, &sig_tag(subject), OCI_MANIFEST, manifest);
    assert_eq!(r.status, 201, "push {}: {}", sig_tag(subject), r.text());
    sha256(manifest)
}

/// Pushes an OCI image manifest by digest; returns the digest.
pub fn push_by_digest(c: &Client, repo: &str, manifest: &[u8]) -> String {
    let digest = sha256(manifest);
    let r = c.put_manifest(repo, &digest, OCI_MANIFEST, manifest);
    assert_eq!(r.status, 201, "push {digest}: {}", r.text());
    digest
}

/// Signs `digest` as cosign does by default (the `.sig` tag) as `host/repo`; returns the
/// signature manifest's digest.
pub fn cosign_sign(s: &Server, c: &Client, repo: &str, signer: &Signer, digest: &str) -> String {
    let layer = signer.layer(&format!("{}/{repo}", s.host()), digest);
    let m = signature_manifest(c, repo, &[&layer], None);
    push_sig_tag(c, repo, digest, &m)
}

/// An OCI descriptor of `bytes`.
pub fn descriptor(media_type: &str, bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({"mediaType": media_type, "digest": sha256(bytes), "size": bytes.len()})
}

pub fn trust_path(project: &str) -> String {
    format!("/api/v2.0/projects/{project}/signature/trust")
}

/// Trusts a public key (`kind` "keys") or certificates ("certificates"); returns the id
/// (from Location, `/api/v2.0/projects/{project}/signature/trust/{id}`).
pub fn trust(c: &Client, project: &str, kind: &str, name: &str, pem: &str) -> i64 {
    let r = send_json(
        c,
        "POST",
        &format!("{}/{kind}", trust_path(project)),
        &serde_json::json!({"name": name, "pem": pem}),
    );
    assert_eq!(r.status, 201, "trust {kind} {name}: {}", r.text());
    location_id(&r, &format!("{}/", trust_path(project)))
}

pub fn untrust(c: &Client, project: &str, id: i64) {
    let r = c.req(
        "DELETE",
        &format!("{}/{id}", trust_path(project)),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "delete trust entry {id}: {}", r.text());
}

pub fn trust_list(c: &Client, project: &str) -> serde_json::Value {
    let r = c.get(&trust_path(project));
    assert_eq!(r.status, 200, "trust of {project}: {}", r.text());
    r.json()
}

/// Sets one boolean project metadata through Harbor's project update.
pub fn set_project_flag(c: &Client, project: &str, key: &str, value: bool) {
    let r = send_json(
        c,
        "PUT",
        &format!("/api/v2.0/projects/{project}"),
        &serde_json::json!({"metadata": {key: value.to_string()}}),
    );
    assert_eq!(r.status, 200, "set {key}={value}: {}", r.text());
}

/// A private project named `prefix…`; returns its name.
pub fn private_project(c: &Client, prefix: &str) -> String {
    let name = unique(prefix);
    api_create_project(
        c,
        &serde_json::json!({"project_name": name, "public": false}),
    );
    name
}

/// `GET /api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}/signatures`.
pub fn signature_results(
    c: &Client,
    project: &str,
    repo: &str,
    reference: &str,
) -> Vec<serde_json::Value> {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}/signatures"
    ));
    assert_eq!(
        r.status,
        200,
        "signatures of {repo}@{reference}: {}",
        r.text()
    );
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("signatures are not an array: {}", r.text()))
        .clone()
}

/// The one result of signature manifest `sig` among `results`.
pub fn result_of(results: &[serde_json::Value], sig: &str) -> serde_json::Value {
    let of: Vec<&serde_json::Value> = results.iter().filter(|r| r["digest"] == sig).collect();
    assert_eq!(of.len(), 1, "one result of {sig} expected: {results:?}");
    of[0].clone()
}

/// Harbor's artifact JSON.
pub fn api_artifact(c: &Client, project: &str, repo: &str, reference: &str) -> serde_json::Value {
    let r = c.get(&format!(
        "/api/v2.0/projects/{project}/repositories/{repo}/artifacts/{reference}"
    ));
    assert_eq!(r.status, 200, "artifact {repo}@{reference}: {}", r.text());
    r.json()
}

/// `GET /v2/<repo>/manifests/<reference>` accepting every manifest type.
pub fn pull_manifest(c: &Client, repo: &str, reference: &str) -> Resp {
    c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", ACCEPT_MANIFESTS)],
        None,
    )
}

/// Asserts the pull succeeds; returns the manifest.
pub fn assert_pulls(c: &Client, repo: &str, reference: &str, what: &str) -> Vec<u8> {
    let r = pull_manifest(c, repo, reference);
    assert_eq!(
        r.status,
        200,
        "{what}: GET {repo}:{reference}: {}",
        r.text()
    );
    r.body
}

/// Asserts a refused pull (403 `DENIED`) and returns its message.
pub fn pull_refused(c: &Client, repo: &str, reference: &str, what: &str) -> String {
    let r = pull_manifest(c, repo, reference);
    assert_eq!(
        r.status,
        403,
        "{what}: GET {repo}:{reference} was not refused: {}",
        r.text()
    );
    assert_eq!(r.error_code(), "DENIED", "{what}: {}", r.text());
    r.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {}", r.text()))
        .to_string()
}

/// Asserts the refusal of `repo@digest` names it, the project and the required scheme.
pub fn assert_refusal_message(
    message: &str,
    repo: &str,
    digest: &str,
    project: &str,
    scheme: &str,
) {
    let head = format!(
        "{repo}@{digest} cannot be pulled: project {project} requires a {scheme} signature"
    );
    assert!(
        message.starts_with(&head),
        "expected {head:?}…, got {message:?}"
    );
    assert!(
        message.contains("that verifies against its trusted keys and certificates, and "),
        "{message}"
    );
}

/// Waits (≤ 5 s) for a `pull_denied` entry about `resource` in the project's audit log.
pub fn wait_pull_denied(c: &Client, project: &str, resource: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = c.get(&format!("/api/v2.0/projects/{project}/logs?page_size=100"));
        assert_eq!(r.status, 200, "{}", r.text());
        let logs = r.json().as_array().cloned().unwrap_or_default();
        if let Some(e) = logs
            .iter()
            .find(|e| e["operation"] == "pull_denied" && e["resource"].as_str() == Some(resource))
        {
            return e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no pull_denied entry for {resource} in the audit log: {logs:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `text` (lower-cased) contains one of `words`.
pub fn contains_any(text: &str, words: &[&str]) -> bool {
    let t = text.to_lowercase();
    words.iter().any(|w| t.contains(w))
}
