//! Real clients against the real berth binary: skopeo, podman and oras-py push, pull, inspect,
//! list, copy and delete, and what they leave behind is checked both through the clients and
//! over plain HTTP. Every client runs with its own configuration, storage and home inside the
//! test's directory, so nothing on the machine is read or changed.

mod common;
use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// A scratch directory for the clients, inside the server's directory so it goes with it.
fn scratch(s: &Server) -> PathBuf {
    let d = s.dir.join("client");
    fs::create_dir_all(&d).unwrap();
    d
}

/// GET a manifest the way a client does (accepting every manifest type).
fn get_manifest(c: &Client, repo: &str, reference: &str) -> Resp {
    c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", ACCEPT_MANIFESTS)],
        None,
    )
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Reads a blob of an OCI image layout, checking that its content hashes to its file name.
fn layout_blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("not a sha256 digest: {digest}"));
    let path = layout.join("blobs/sha256").join(hex);
    let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        sha256(&data),
        digest,
        "{} does not hash to its name",
        path.display()
    );
    data
}

/// Every blob of an OCI image layout hashes to its file name; returns how many there are.
fn check_all_layout_blobs(layout: &Path) -> usize {
    let mut n = 0;
    for entry in fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        layout_blob(layout, &format!("sha256:{name}"));
        n += 1;
    }
    n
}

/// The descriptors of an OCI layout's index.json.
fn layout_index(layout: &Path) -> Vec<Value> {
    let index = parse(&fs::read_to_string(layout.join("index.json")).unwrap());
    index["manifests"].as_array().unwrap().clone()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {v}"))
}

#[test]
fn skopeo_copies_alpine_in_inspects_lists_copies_out_and_back_and_deletes() {
    let s = Server::start();
    let c = s.client();
    let tmp = scratch(&s);
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&s.host(), "admin", ADMIN_PASSWORD);
    let tar = alpine_tar(&tmp);
    let host = s.host();
    let alpine = format!("docker://{host}/library/alpine:3.10.4");

    // docker-archive -> berth.
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("docker-archive:{}", path_str(&tar)),
        &alpine,
    ]);
    let r = get_manifest(&c, "library/alpine", "3.10.4");
    assert_eq!(r.status, 200, "{}", r.text());
    let digest = sha256(&r.body);
    assert_eq!(r.header("Docker-Content-Digest"), Some(digest.as_str()));
    assert_eq!(r.header("Content-Type"), Some(DOCKER_MANIFEST));
    let manifest = r.json();
    let layers: Vec<String> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| str_of(l, "digest").to_string())
        .collect();
    assert_eq!(layers.len(), 1, "alpine has one layer: {manifest}");
    // The config is the image as docker saved it: its digest is the image ID.
    assert_eq!(
        str_of(&manifest["config"], "digest"),
        "sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e"
    );

    // inspect: digest, tag, platform and layers as berth serves them.
    let inspect = parse(&skopeo.run(&["inspect", "--tls-verify=false", &alpine]));
    assert_eq!(str_of(&inspect, "Digest"), digest, "{inspect}");
    assert_eq!(str_of(&inspect, "Name"), format!("{host}/library/alpine"));
    assert_eq!(inspect["RepoTags"], json!(["3.10.4"]), "{inspect}");
    assert_eq!(str_of(&inspect, "Architecture"), "amd64");
    assert_eq!(str_of(&inspect, "Os"), "linux");
    assert_eq!(inspect["Layers"], json!(layers));
    let raw = skopeo.run(&["inspect", "--raw", "--tls-verify=false", &alpine]);
    assert_eq!(
        raw.as_bytes(),
        r.body.as_slice(),
        "--raw is the stored bytes"
    );

    // list-tags.
    let tags = parse(&skopeo.run(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{host}/library/alpine"),
    ]));
    assert_eq!(tags["Tags"], json!(["3.10.4"]), "{tags}");

    // berth -> OCI layout: every blob is intact and the layers are berth's.
    let layout = tmp.join("layout");
    let oci_ref = format!("oci:{}:3.10.4", path_str(&layout));
    skopeo.run(&["copy", "--src-tls-verify=false", &alpine, &oci_ref]);
    let index = layout_index(&layout);
    assert_eq!(index.len(), 1, "{index:?}");
    assert_eq!(
        index[0]["annotations"]["org.opencontainers.image.ref.name"],
        "3.10.4"
    );
    let oci_digest = str_of(&index[0], "digest").to_string();
    let oci_manifest: Value = serde_json::from_slice(&layout_blob(&layout, &oci_digest)).unwrap();
    assert_eq!(oci_manifest["mediaType"], OCI_MANIFEST);
    let oci_layers: Vec<String> = oci_manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let d = str_of(l, "digest").to_string();
            let blob = layout_blob(&layout, &d);
            assert_eq!(
                blob.len() as u64,
                l["size"].as_u64().unwrap(),
                "size of {d}"
            );
            d
        })
        .collect();
    assert_eq!(
        oci_layers, layers,
        "the layers are copied as berth stored them"
    );
    layout_blob(&layout, str_of(&oci_manifest["config"], "digest"));
    assert_eq!(
        check_all_layout_blobs(&layout),
        3,
        "manifest, config, layer"
    );

    // OCI layout -> berth under another repository, as an OCI manifest.
    let mirror = format!("docker://{host}/mirror/alpine:oci");
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "oci",
        &oci_ref,
        &mirror,
    ]);
    let r = get_manifest(&c, "mirror/alpine", "oci");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some(OCI_MANIFEST));
    assert_eq!(
        sha256(&r.body),
        oci_digest,
        "the layout's manifest, byte for byte"
    );
    assert_eq!(r.header("Docker-Content-Digest"), Some(oci_digest.as_str()));
    // ...and pullable: a real pull gets the same manifest and intact blobs.
    let pulled = tmp.join("pulled");
    skopeo.run(&[
        "copy",
        "--src-tls-verify=false",
        &mirror,
        &format!("dir:{}", path_str(&pulled)),
    ]);
    assert_eq!(fs::read(pulled.join("manifest.json")).unwrap(), r.body);
    for d in oci_layers
        .iter()
        .map(String::as_str)
        .chain([str_of(&oci_manifest["config"], "digest")])
    {
        let data = fs::read(pulled.join(d.strip_prefix("sha256:").unwrap())).unwrap();
        assert_eq!(sha256(&data), d);
    }

    // delete: the manifest is gone by digest and by tag; the other repository is untouched.
    skopeo.run(&["delete", "--tls-verify=false", &mirror]);
    let r = c.get(&format!("/v2/mirror/alpine/manifests/{oci_digest}"));
    assert_eq!(r.status, 404, "deleted manifest still served: {}", r.text());
    assert_eq!(r.error_code(), "MANIFEST_UNKNOWN");
    let r = get_manifest(&c, "mirror/alpine", "oci");
    assert_eq!(r.status, 404, "tag of a deleted manifest still resolves");
    let r = get_manifest(&c, "library/alpine", "3.10.4");
    assert_eq!(r.status, 200);
    assert_eq!(sha256(&r.body), digest);
    let r = c.get(&format!("/v2/library/alpine/blobs/{}", layers[0]));
    assert_eq!(r.status, 200);
    assert_eq!(sha256(&r.body), layers[0]);
}

/// Pushes a config and one layer for `arch` and an OCI image manifest by digest; returns the
/// manifest's digest and bytes.
fn push_platform_image(c: &Client, repo: &str, arch: &str, layer: &[u8]) -> (String, Vec<u8>) {
    let config = serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
    }))
    .unwrap();
    let config_digest = c.push_blob(repo, &config);
    let layer_digest = c.push_blob(repo, layer);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let digest = sha256(&manifest);
    let r = c.put_manifest(repo, &digest, OCI_MANIFEST, &manifest);
    assert_eq!(r.status, 201, "{}", r.text());
    (digest, manifest)
}

#[test]
fn skopeo_copy_all_brings_every_platform_of_an_index() {
    let s = Server::start();
    let c = s.client();
    let tmp = scratch(&s);
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&s.host(), "admin", ADMIN_PASSWORD);
    let repo = "multi/app";
    let platforms = [("amd64", None), ("arm64", Some("v8"))];
    let images: Vec<(String, Vec<u8>, Vec<u8>)> = platforms
        .iter()
        .enumerate()
        .map(|(i, (arch, _))| {
            let layer = random_bytes(50_000 + i * 1000, 10 + i as u64);
            let (d, m) = push_platform_image(&c, repo, arch, &layer);
            (d, m, layer)
        })
        .collect();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": platforms.iter().zip(&images).map(|((arch, variant), (d, m, _))| {
            let mut platform = json!({"architecture": arch, "os": "linux"});
            if let Some(v) = variant {
                platform["variant"] = json!(v);
            }
            json!({"mediaType": OCI_MANIFEST, "digest": d, "size": m.len(), "platform": platform})
        }).collect::<Vec<_>>(),
    }))
    .unwrap();
    let index_digest = sha256(&index);
    let r = c.put_manifest(repo, "latest", OCI_INDEX, &index);
    assert_eq!(r.status, 201, "{}", r.text());

    let layout = tmp.join("layout");
    skopeo.run(&[
        "copy",
        "--all",
        // Byte-for-byte: the OCI layout would otherwise gzip the (uncompressed) layers and
        // so rewrite the manifests and the index.
        "--preserve-digests",
        "--dest-oci-accept-uncompressed-layers",
        "--src-tls-verify=false",
        &format!("docker://{}/{repo}:latest", s.host()),
        &format!("oci:{}:latest", path_str(&layout)),
    ]);
    let top = layout_index(&layout);
    assert_eq!(top.len(), 1, "{top:?}");
    assert_eq!(top[0]["mediaType"], OCI_INDEX);
    assert_eq!(
        str_of(&top[0], "digest"),
        index_digest,
        "the index, unchanged"
    );
    assert_eq!(layout_blob(&layout, &index_digest), index);
    for ((arch, _), (digest, manifest, layer)) in platforms.iter().zip(&images) {
        assert_eq!(
            &layout_blob(&layout, digest),
            manifest,
            "{arch} manifest arrived unchanged"
        );
        let m: Value = serde_json::from_slice(manifest).unwrap();
        let config: Value =
            serde_json::from_slice(&layout_blob(&layout, str_of(&m["config"], "digest"))).unwrap();
        assert_eq!(config["architecture"], *arch);
        assert_eq!(&layout_blob(&layout, &sha256(layer)), layer, "{arch} layer");
    }
    // index + 2 × (manifest, config, layer), nothing else.
    assert_eq!(check_all_layout_blobs(&layout), 7);
}

/// podman with a vfs store, registries.conf, policy, home and runtime directory of its own.
struct Podman {
    bin: PathBuf,
    dir: PathBuf,
    /// podman refuses a runroot longer than 50 characters, so this one lies in /tmp rather than
    /// in the test's directory, and goes when the `Podman` does.
    runroot: PathBuf,
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.runroot);
    }
}

impl Podman {
    fn new(scratch: &Path, registry: &str) -> Podman {
        let bin = require_tool("podman");
        let dir = scratch.join("podman");
        let runroot = PathBuf::from("/tmp").join(unique("bpr"));
        fs::create_dir_all(&runroot).unwrap();
        for d in [
            "root",
            "tmp",
            "runtime",
            "home/.config/containers/registries.d",
        ] {
            fs::create_dir_all(dir.join(d)).unwrap();
        }
        fs::write(
            dir.join("home/.config/containers/policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        fs::write(
            dir.join("registries.conf"),
            format!(
                "unqualified-search-registries = []\n\n\
                 [[registry]]\nlocation = \"{registry}\"\ninsecure = true\n"
            ),
        )
        .unwrap();
        fs::write(
            dir.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                path_str(&dir.join("root")),
                path_str(&runroot),
            ),
        )
        .unwrap();
        fs::write(
            dir.join("containers.conf"),
            format!(
                "[engine]\nevents_logger = \"file\"\nevents_logfile_path = \"{}\"\n",
                path_str(&dir.join("events.log")),
            ),
        )
        .unwrap();
        fs::write(
            dir.join("auth.json"),
            containers_auth(registry, "admin", ADMIN_PASSWORD),
        )
        .unwrap();
        Podman { bin, dir, runroot }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--root")
            .arg(self.dir.join("root"))
            .arg("--runroot")
            .arg(&self.runroot)
            .arg("--tmpdir")
            .arg(self.dir.join("tmp"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env("HOME", self.dir.join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.join("runtime"))
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.dir.join("registries.conf"),
            )
            .env("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf"))
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .env("REGISTRY_AUTH_FILE", self.dir.join("auth.json"))
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        run(&mut self.cmd(args))
    }

    fn image_exists(&self, name: &str) -> bool {
        let status = self.cmd(&["image", "exists", name]).status().unwrap();
        match status.code() {
            Some(0) => true,
            Some(1) => false,
            _ => panic!("podman image exists {name}: {status}"),
        }
    }

    fn inspect(&self, name: &str) -> Value {
        let v = parse(&self.run(&["image", "inspect", name]));
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
        v[0].clone()
    }
}

#[test]
fn podman_pushes_alpine_and_pulls_back_the_same_image() {
    let s = Server::start();
    let c = s.client();
    let tmp = scratch(&s);
    let host = s.host();
    let podman = Podman::new(&tmp, &host);
    let tar = alpine_tar(&tmp);

    let out = podman.run(&["load", "-i", path_str(&tar)]);
    let loaded = out
        .lines()
        .find_map(|l| l.split_once("Loaded image").map(|(_, rest)| rest))
        .and_then(|rest| rest.split_once(": "))
        .map(|(_, names)| names.split(',').next().unwrap().trim().to_string())
        .unwrap_or_else(|| panic!("podman load named no image: {out}"));
    let local = podman.inspect(&loaded);
    let id = str_of(&local, "Id").to_string();
    assert_eq!(
        id, "af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e",
        "the image ID of alpine 3.10.4"
    );

    let remote = format!("{host}/library/alpine:3.10.4");
    podman.run(&["tag", &loaded, &remote]);
    let digest_file = tmp.join("pushed-digest");
    podman.run(&[
        "push",
        "--tls-verify=false",
        "--digestfile",
        path_str(&digest_file),
        &remote,
    ]);
    let pushed = fs::read_to_string(&digest_file).unwrap().trim().to_string();
    assert!(pushed.starts_with("sha256:"), "{pushed:?}");

    // What berth holds is what podman says it pushed, and its config is the image.
    let r = get_manifest(&c, "library/alpine", "3.10.4");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sha256(&r.body), pushed);
    assert_eq!(r.header("Docker-Content-Digest"), Some(pushed.as_str()));
    let manifest = r.json();
    assert_eq!(
        str_of(&manifest["config"], "digest"),
        format!("sha256:{id}")
    );
    for l in manifest["layers"].as_array().unwrap() {
        let r = c.get(&format!("/v2/library/alpine/blobs/{}", str_of(l, "digest")));
        assert_eq!(r.status, 200);
        assert_eq!(sha256(&r.body), str_of(l, "digest"));
    }

    // Forget the image locally, then pull it back from berth.
    podman.run(&["rmi", &remote, &loaded]);
    assert!(!podman.image_exists(&remote));
    assert!(!podman.image_exists(&id), "image still stored locally");
    let out = podman.run(&["pull", "--tls-verify=false", &remote]);
    assert_eq!(
        out.lines().last().map(str::trim),
        Some(id.as_str()),
        "{out}"
    );
    let back = podman.inspect(&remote);
    assert_eq!(str_of(&back, "Id"), id);
    assert_eq!(str_of(&back, "Digest"), pushed);
    assert!(
        back["RepoDigests"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("{host}/library/alpine@{pushed}"))),
        "{}",
        back["RepoDigests"]
    );
    assert_eq!(back["RootFS"], local["RootFS"], "same layers (diff IDs)");
}

/// Drives oras-py (the PyPI `oras` package). oras-py 0.2.43 builds each manifest itself and has
/// no artifactType option, so `upload_manifest` is extended to set the manifest's
/// `artifactType` (when asked) on the manifest oras is about to upload, and to keep the exact
/// JSON oras sends. All blob and manifest uploads, and the pull, are oras's own.
///
/// argv: registry address, repository, mode, result file, pull directory. In mode `explicit`
/// both artifacts carry an `artifactType` and the OCI empty config; in mode `config` they carry
/// none, only a config media type (the form oras-py itself produces).
const ORAS_SCRIPT: &str = r#"
import json, sys
import oras.client, oras.oci

host, repo, mode, result_path, pull_dir = sys.argv[1:6]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY_CONFIG = ":application/vnd.oci.empty.v1+json"


class Client(oras.client.OrasClient):
    artifact_type = None
    sent = None

    def upload_manifest(self, manifest, container):
        if self.artifact_type:
            manifest = dict(manifest, artifactType=self.artifact_type)
        self.sent = json.dumps(manifest)
        return super().upload_manifest(manifest, container)


client = Client(hostname=host, insecure=True)
import os
client.auth.set_basic_auth(os.environ["BERTH_USER"], os.environ["BERTH_PASSWORD"])
result = {}


def push(name, tag, files, config, artifact_type, annotations, subject=None):
    client.artifact_type = artifact_type
    r = client.push(
        target=f"{host}/{repo}:{tag}",
        files=files,
        manifest_config=config,
        manifest_annotations=annotations,
        subject=subject,
    )
    result[name] = {"status": r.status_code, "headers": dict(r.headers), "sent": client.sent}
    return oras.oci.Subject(OCI_MANIFEST, r.headers["Docker-Content-Digest"], len(client.sent.encode()))


def get(path):
    r = client.do_request(f"http://{host}/v2/{repo}/{path}", "GET")
    return {"status": r.status_code, "headers": dict(r.headers), "body": r.text}


if mode == "explicit":
    doc = push("doc", "doc", ["readme.txt:text/plain"], EMPTY_CONFIG,
               "application/vnd.berth.test.doc.v1",
               {"org.opencontainers.image.description": "berth test document"})
    ref = push("referrer", "sbom", ["sbom.spdx.json:application/spdx+json"], EMPTY_CONFIG,
               "application/spdx+json", {"org.example.generator": "oras-py"}, subject=doc)
else:
    doc = push("doc", "doc", ["readme.txt:text/plain"],
               ":application/vnd.berth.test.doc.config.v1+json", None,
               {"org.opencontainers.image.description": "berth test document"})
    ref = push("referrer", "signature", ["signature.sig:application/octet-stream"],
               ":application/vnd.berth.test.signature.v1+json", None,
               {"org.example.signer": "oras-py"}, subject=doc)

result["referrers"] = get(f"referrers/{doc.digest}")
result["referrers_of_referrer"] = get(f"referrers/{ref.digest}")
result["pulled"] = client.pull(target=f"{host}/{repo}:doc", outdir=pull_dir)
with open(result_path, "w") as f:
    json.dump(result, f)
"#;

/// Runs `ORAS_SCRIPT` in `dir` (oras only pushes files below the working directory).
fn run_oras(s: &Server, dir: &Path, repo: &str, mode: &str) -> Value {
    // oras-py asks for a token once per scope it is challenged with; the project must exist
    // before its first pull-scoped request (an admin's push auto-creates it in tests).
    s.client().push_blob(repo, b"project exists");
    let python = require_tool("python3");
    let probe = Command::new(&python)
        .args(["-c", "import oras.client"])
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "the oras Python package is not installed; run scripts/test.sh, which installs it\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    fs::create_dir_all(dir.join("home")).unwrap();
    let result = dir.join("result.json");
    run(Command::new(&python)
        .args(["-c", ORAS_SCRIPT, &s.host(), repo, mode])
        .env("BERTH_USER", "admin")
        .env("BERTH_PASSWORD", ADMIN_PASSWORD)
        .arg(&result)
        .arg(dir.join("pulled"))
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .stdin(Stdio::null()));
    parse(&fs::read_to_string(&result).unwrap())
}

/// A response header as oras-py saw it (its dict keeps the server's spelling).
fn header<'a>(resp: &'a Value, name: &str) -> Option<&'a str> {
    resp["headers"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// Checks a push oras made: accepted, and berth's digest is that of the bytes oras sent.
fn pushed_digest(result: &Value, name: &str) -> (String, String) {
    let push = &result[name];
    assert_eq!(push["status"], 201, "{name}: {push}");
    let sent = str_of(push, "sent").to_string();
    let digest = header(push, "Docker-Content-Digest")
        .unwrap_or_else(|| panic!("{name}: no Docker-Content-Digest: {push}"))
        .to_string();
    assert_eq!(digest, sha256(sent.as_bytes()), "{name}");
    (digest, sent)
}

/// The manifests of a referrers response oras-py fetched, after checking it is an OCI index.
fn referrers_of(result: &Value, key: &str) -> Vec<Value> {
    let r = &result[key];
    assert_eq!(r["status"], 200, "{key}: {r}");
    assert_eq!(header(r, "Content-Type"), Some(OCI_INDEX), "{key}: {r}");
    let body = parse(str_of(r, "body"));
    assert_eq!(body["schemaVersion"], 2, "{body}");
    assert_eq!(body["mediaType"], OCI_INDEX, "{body}");
    body["manifests"].as_array().unwrap().clone()
}

#[test]
fn oras_referrers_list_the_artifact_pushed_with_a_subject_and_its_artifact_type() {
    let s = Server::start();
    let c = s.client();
    let tmp = scratch(&s);
    let readme = b"berth test document\nsecond line\n".to_vec();
    fs::write(tmp.join("readme.txt"), &readme).unwrap();
    fs::write(
        tmp.join("sbom.spdx.json"),
        br#"{"spdxVersion":"SPDX-2.3","name":"berth-test"}"#,
    )
    .unwrap();
    let repo = "artifacts/docs";
    let result = run_oras(&s, &tmp, repo, "explicit");

    let (doc, _) = pushed_digest(&result, "doc");
    assert_eq!(
        header(&result["doc"], "OCI-Subject"),
        None,
        "OCI-Subject on a manifest without subject"
    );
    let (referrer, referrer_json) = pushed_digest(&result, "referrer");
    assert_eq!(
        header(&result["referrer"], "OCI-Subject"),
        Some(doc.as_str()),
        "a manifest with a subject is answered with OCI-Subject: {}",
        result["referrer"]
    );
    let sent: Value = parse(&referrer_json);
    assert_eq!(
        sent["subject"]["digest"],
        doc.as_str(),
        "oras sent the subject"
    );

    let referrers = referrers_of(&result, "referrers");
    assert_eq!(
        referrers,
        vec![json!({
            "mediaType": OCI_MANIFEST,
            "digest": referrer,
            "size": referrer_json.len(),
            "artifactType": "application/spdx+json",
            "annotations": {"org.example.generator": "oras-py"},
        })],
        "the referrers of the first artifact are exactly the second"
    );
    assert_eq!(
        referrers_of(&result, "referrers_of_referrer"),
        Vec::<Value>::new()
    );

    // Filtering by artifactType ('+' must arrive percent-encoded).
    let r = c.get(&format!(
        "/v2/{repo}/referrers/{doc}?artifactType=application%2Fspdx%2Bjson"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("OCI-Filters-Applied"), Some("artifactType"));
    assert_eq!(
        r.json()["manifests"].as_array().unwrap().len(),
        1,
        "{}",
        r.text()
    );
    let r = c.get(&format!(
        "/v2/{repo}/referrers/{doc}?artifactType=application%2Fvnd.other"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("OCI-Filters-Applied"), Some("artifactType"));
    assert_eq!(r.json()["manifests"], json!([]));

    // The referrer is a manifest like any other: served by digest with its subject.
    let r = get_manifest(&c, repo, &referrer);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, referrer_json.as_bytes());

    // oras pulls the first artifact back, file for file.
    let pulled = result["pulled"].as_array().unwrap();
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    let path = PathBuf::from(pulled[0].as_str().unwrap());
    assert_eq!(path.file_name().unwrap(), "readme.txt");
    assert_eq!(fs::read(&path).unwrap(), readme);
}

#[test]
fn oras_referrer_without_artifact_type_is_listed_under_its_config_media_type() {
    let s = Server::start();
    let tmp = scratch(&s);
    let readme = b"plain oras artifact\n".to_vec();
    fs::write(tmp.join("readme.txt"), &readme).unwrap();
    fs::write(tmp.join("signature.sig"), random_bytes(256, 7)).unwrap();
    let result = run_oras(&s, &tmp, "artifacts/signed", "config");

    let (doc, doc_json) = pushed_digest(&result, "doc");
    assert!(
        parse(&doc_json).get("artifactType").is_none(),
        "oras-py sets no artifactType of its own"
    );
    let (referrer, referrer_json) = pushed_digest(&result, "referrer");
    assert_eq!(
        header(&result["referrer"], "OCI-Subject"),
        Some(doc.as_str())
    );
    // The spec: without artifactType, the referrers API reports the config's media type.
    assert_eq!(
        referrers_of(&result, "referrers"),
        vec![json!({
            "mediaType": OCI_MANIFEST,
            "digest": referrer,
            "size": referrer_json.len(),
            "artifactType": "application/vnd.berth.test.signature.v1+json",
            "annotations": {"org.example.signer": "oras-py"},
        })]
    );
    let pulled = result["pulled"].as_array().unwrap();
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    assert_eq!(fs::read(pulled[0].as_str().unwrap()).unwrap(), readme);
}
