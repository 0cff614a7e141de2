//! Tag immutability (Harbor's `/projects/{p}/immutabletagrules`) against the real binary: the
//! rule API in Harbor's shape, and what a rule does to pushes and deletes — through skopeo, the
//! registry API and Harbor's API — until it is disabled.

mod common;
use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

const API: &str = "/api/v2.0";
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// A scratch directory inside the server's directory, so it goes with it.
fn scratch(s: &Server) -> PathBuf {
    let d = s.dir.join("client");
    fs::create_dir_all(&d).unwrap();
    d
}

/// A rule body in Harbor's shape: one repository selector and one tag selector.
fn rule(kind: &str, tag_pattern: &str, repo_pattern: &str, disabled: bool) -> Value {
    json!({
        "disabled": disabled,
        "action": "immutable",
        "template": "immutable_template",
        "scope_selectors": {"repository": [
            {"kind": "doublestar", "decoration": "repoMatches", "pattern": repo_pattern}
        ]},
        "tag_selectors": [{"kind": kind, "decoration": "matches", "pattern": tag_pattern}],
    })
}

fn rules_path(project: &str) -> String {
    format!("{API}/projects/{project}/immutabletagrules")
}

/// The rule id of a 201's Location, `/api/v2.0/projects/{name or id}/immutabletagrules/{id}`.
fn rule_location(c: &Client, r: &Resp, project: &str) -> i64 {
    let loc = r
        .header("Location")
        .unwrap_or_else(|| panic!("no Location: {}", r.text()));
    let pid = c.get(&format!("{API}/projects/{project}")).json()["project_id"].clone();
    let (prefix, id) = loc
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("Location {loc:?}"));
    assert!(
        prefix == rules_path(project)
            || prefix == format!("{API}/projects/{pid}/immutabletagrules"),
        "Location {loc:?} is not under {project}'s (or project {pid}'s) immutabletagrules"
    );
    id.parse()
        .unwrap_or_else(|_| panic!("Location {loc:?} does not end in an id"))
}

/// Creates a rule and returns its id (from the Location header).
fn add_rule(c: &Client, project: &str, body: &Value) -> i64 {
    let r = send_json(c, "POST", &rules_path(project), body);
    assert_eq!(r.status, 201, "create rule {body}: {}", r.text());
    rule_location(c, &r, project)
}

fn list_rules(c: &Client, project: &str) -> Vec<Value> {
    let r = c.get(&rules_path(project));
    assert_eq!(r.status, 200, "list rules of {project}: {}", r.text());
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("rule list is not an array: {}", r.text()))
        .clone()
}

fn get_manifest(c: &Client, repo: &str, reference: &str) -> Resp {
    c.req(
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", ACCEPT_MANIFESTS)],
        None,
    )
}

/// The digest `reference` resolves to.
fn resolve(c: &Client, repo: &str, reference: &str) -> String {
    let r = get_manifest(c, repo, reference);
    assert_eq!(r.status, 200, "{repo}:{reference}: {}", r.text());
    sha256(&r.body)
}

/// Asserts an OCI `DENIED` refusal on `/v2` and returns its message.
fn assert_denied(r: &Resp, what: &str) -> String {
    assert_eq!(r.status, 403, "{what}: {}", r.text());
    assert_eq!(r.error_code(), "DENIED", "{what}: {}", r.text());
    r.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {}", r.text()))
        .to_string()
}

/// Asserts Harbor's `412 PRECONDITION` refusal.
fn assert_precondition(r: &Resp, what: &str) {
    assert_eq!(r.status, 412, "{what}: {}", r.text());
    assert_eq!(r.error_code(), "PRECONDITION", "{what}: {}", r.text());
}

/// Every file of a directory, by name, with its bytes.
fn dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// An image of its own: distinct config and a small distinct layer.
fn image(c: &Client, repo: &str, tag: &str, seed: u64) -> (String, Vec<u8>) {
    c.push_image(repo, tag, &[&random_bytes(2048, seed)])
}

#[test]
fn skopeo_cannot_overwrite_or_delete_an_immutable_tag_but_latest_still_moves() {
    let s = Server::start();
    let c = s.client();
    let host = s.host();
    let tmp = scratch(&s);
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&host, "admin", ADMIN_PASSWORD);
    let project = unique("imm");
    api_create_project(&c, &json!({"project_name": project, "public": false}));
    add_rule(&c, &project, &rule("doublestar", "v*", "**", false));
    let app = format!("{project}/app");
    let v1 = format!("docker://{host}/{app}:v1");
    let latest = format!("docker://{host}/{app}:latest");

    // A new tag matching the rule can be pushed once: real Alpine from its docker archive.
    let tar = alpine_tar(&tmp);
    let archive = format!("docker-archive:{}", path_str(&tar));
    skopeo.run(&["copy", "--dest-tls-verify=false", &archive, &v1]);
    let original = get_manifest(&c, &app, "v1");
    assert_eq!(original.status, 200, "{}", original.text());
    let original = original.body;
    let pulled_before = tmp.join("v1-before");
    skopeo.run(&[
        "copy",
        "--src-tls-verify=false",
        &v1,
        &format!("dir:{}", path_str(&pulled_before)),
    ]);
    assert_eq!(
        fs::read(pulled_before.join("manifest.json")).unwrap(),
        original,
        "skopeo pulls the stored manifest"
    );

    // Different content to v1: skopeo fails and says why.
    let (other_digest, _) = image(&c, &format!("{project}/src"), "b", 1);
    let other = format!("docker://{host}/{project}/src:b");
    let out = skopeo.try_run(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &other,
        &v1,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        !out.status.success(),
        "skopeo overwrote an immutable tag: {stderr}"
    );
    assert!(
        stderr.contains("denied") && stderr.contains("immutable"),
        "skopeo's error does not say the push was denied as immutable: {stderr}"
    );
    let after = get_manifest(&c, &app, "v1");
    assert_eq!(after.status, 200, "{}", after.text());
    assert_eq!(after.body, original, "v1 changed after a refused overwrite");
    let raw = skopeo.run(&["inspect", "--raw", "--tls-verify=false", &v1]);
    assert_eq!(
        raw.as_bytes(),
        original.as_slice(),
        "skopeo sees the original v1"
    );

    // The same content again is accepted.
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("dir:{}", path_str(&pulled_before)),
        &v1,
    ]);
    assert_eq!(get_manifest(&c, &app, "v1").body, original);

    // Deleting v1 is refused; it still resolves.
    let out = skopeo.try_run(&["delete", "--tls-verify=false", &v1]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        !out.status.success(),
        "skopeo deleted an immutable tag: {stderr}"
    );
    assert!(
        stderr.contains("denied") && stderr.contains("immutable"),
        "skopeo's error does not say the delete was denied as immutable: {stderr}"
    );

    // `latest` is not matched by `v*`: it moves from Alpine to the other image.
    skopeo.run(&["copy", "--dest-tls-verify=false", &archive, &latest]);
    assert_eq!(resolve(&c, &app, "latest"), sha256(&original));
    skopeo.run(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &other,
        &latest,
    ]);
    assert_eq!(
        resolve(&c, &app, "latest"),
        other_digest,
        "latest did not move"
    );

    // After all this, v1 still pulls byte-identical: manifest, config and layers.
    let pulled_after = tmp.join("v1-after");
    skopeo.run(&[
        "copy",
        "--src-tls-verify=false",
        &v1,
        &format!("dir:{}", path_str(&pulled_after)),
    ]);
    let before_files = dir_files(&pulled_before);
    assert!(
        before_files.len() >= 3,
        "manifest, config, layer: {:?}",
        before_files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(
        before_files == dir_files(&pulled_after),
        "v1 pulls differently after the refused overwrite and delete"
    );
}

#[test]
fn immutable_rule_api_creates_lists_updates_and_deletes_rules_in_harbors_shape() {
    let s = Server::start();
    let c = s.client();
    let project = unique("immapi");
    let pid = api_create_project(&c, &json!({"project_name": project, "public": false}));
    assert!(list_rules(&c, &project).is_empty());

    let body = rule("doublestar", "v*", "**", false);
    let r = send_json(&c, "POST", &rules_path(&project), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = rule_location(&c, &r, &project);

    // Listed in Harbor's shape, by name and by id.
    for key in [project.clone(), pid.to_string()] {
        let rules = list_rules(&c, &key);
        assert_eq!(rules.len(), 1, "{rules:?}");
        let r0 = &rules[0];
        assert_eq!(r0["id"], id, "{r0}");
        assert_eq!(r0["project_id"], pid, "{r0}");
        assert!(r0["priority"].is_i64(), "priority: {r0}");
        assert_eq!(r0["disabled"], false, "{r0}");
        assert_eq!(r0["action"], "immutable", "{r0}");
        assert_eq!(r0["template"], "immutable_template", "{r0}");
        assert_eq!(r0["params"], json!({}), "{r0}");
        let repo = &r0["scope_selectors"]["repository"][0];
        assert_eq!(repo["kind"], "doublestar", "{r0}");
        assert_eq!(repo["decoration"], "repoMatches", "{r0}");
        assert_eq!(repo["pattern"], "**", "{r0}");
        let tag = &r0["tag_selectors"][0];
        assert_eq!(tag["kind"], "doublestar", "{r0}");
        assert_eq!(tag["decoration"], "matches", "{r0}");
        assert_eq!(tag["pattern"], "v*", "{r0}");
    }

    // A regex rule (berth's extension) is accepted too.
    let regex_id = add_rule(&c, &project, &rule("regex", "v[0-9]+", "**", false));
    assert_ne!(regex_id, id);
    assert_eq!(list_rules(&c, &project).len(), 2);

    // PUT disables; the list shows it.
    let r = send_json(
        &c,
        "PUT",
        &format!("{}/{id}", rules_path(&project)),
        &rule("doublestar", "v*", "**", true),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rules = list_rules(&c, &project);
    let updated = rules.iter().find(|r| r["id"] == id).expect("rule listed");
    assert_eq!(updated["disabled"], true, "{updated}");
    let untouched = rules.iter().find(|r| r["id"] == regex_id).unwrap();
    assert_eq!(untouched["disabled"], false, "{untouched}");
    assert_eq!(untouched["tag_selectors"][0]["kind"], "regex");

    // DELETE removes exactly that rule.
    let r = c.req(
        "DELETE",
        &format!("{}/{id}", rules_path(&project)),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rules = list_rules(&c, &project);
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0]["id"], regex_id);
}

#[test]
fn immutable_rules_with_bad_patterns_or_decorations_or_beyond_fifteen_are_refused() {
    let s = Server::start();
    let c = s.client();
    let project = unique("immbad");
    api_create_project(&c, &json!({"project_name": project, "public": false}));

    let bad_decoration = {
        let mut b = rule("doublestar", "v*", "**", false);
        b["tag_selectors"][0]["decoration"] = json!("sizeMatches");
        b
    };
    let bad_repo_decoration = {
        let mut b = rule("doublestar", "v*", "**", false);
        b["scope_selectors"]["repository"][0]["decoration"] = json!("bogus");
        b
    };
    for (what, body) in [
        ("unclosed regex group", rule("regex", "(v1", "**", false)),
        (
            "unclosed glob class",
            rule("doublestar", "v[1", "**", false),
        ),
        ("unknown tag decoration", bad_decoration),
        ("unknown repository decoration", bad_repo_decoration),
    ] {
        let r = send_json(&c, "POST", &rules_path(&project), &body);
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        assert!(
            r.json()["errors"][0]["message"].is_string(),
            "{what}: {}",
            r.text()
        );
    }
    assert!(
        list_rules(&c, &project).is_empty(),
        "a refused rule was stored"
    );

    for i in 0..15 {
        add_rule(
            &c,
            &project,
            &rule("doublestar", &format!("r{i}-*"), "**", false),
        );
    }
    let r = send_json(
        &c,
        "POST",
        &rules_path(&project),
        &rule("doublestar", "r15-*", "**", false),
    );
    assert_eq!(r.status, 400, "16th rule: {}", r.text());
    assert_eq!(list_rules(&c, &project).len(), 15);
}

#[test]
fn immutable_tag_refuses_overwrite_and_every_delete_path_until_the_rule_is_disabled() {
    let s = Server::start();
    let c = s.client();
    let project = unique("immhttp");
    api_create_project(&c, &json!({"project_name": project, "public": false}));
    let rule_id = add_rule(&c, &project, &rule("doublestar", "v*", "**", false));
    let repo = format!("{project}/app");
    let (a, a_bytes) = image(&c, &repo, "v1", 1);
    let b_bytes = push_image_blobs(&c, &repo, "b", &[&random_bytes(2048, 2)]);
    let b = sha256(&b_bytes);

    // Different content to v1: 403 DENIED naming the rule.
    let r = c.put_manifest(&repo, "v1", OCI_MANIFEST, &b_bytes);
    let message = assert_denied(&r, "overwrite v1");
    assert!(message.contains("immutable"), "{message}");
    assert!(
        message.contains("v*"),
        "the message names the rule's pattern: {message}"
    );
    assert_eq!(resolve(&c, &repo, "v1"), a);

    // The same content again succeeds.
    let r = c.put_manifest(&repo, "v1", OCI_MANIFEST, &a_bytes);
    assert_eq!(r.status, 201, "same content to v1: {}", r.text());

    // A new matching tag: once, then it is fixed too.
    let r = c.put_manifest(&repo, "v2", OCI_MANIFEST, &b_bytes);
    assert_eq!(r.status, 201, "new tag v2: {}", r.text());
    assert_denied(
        &c.put_manifest(&repo, "v2", OCI_MANIFEST, &a_bytes),
        "overwrite v2",
    );
    assert_eq!(resolve(&c, &repo, "v2"), b);

    // `latest` is not matched: it moves freely.
    for (bytes, digest) in [(&a_bytes, &a), (&b_bytes, &b), (&a_bytes, &a)] {
        let r = c.put_manifest(&repo, "latest", OCI_MANIFEST, bytes);
        assert_eq!(r.status, 201, "latest: {}", r.text());
        assert_eq!(&resolve(&c, &repo, "latest"), digest);
    }

    // Every way of deleting v1 is refused.
    let api_repo = format!("{API}/projects/{project}/repositories/app");
    assert_denied(
        &c.req("DELETE", &format!("/v2/{repo}/manifests/v1"), &[], None),
        "DELETE /v2 manifests/v1",
    );
    assert_precondition(
        &c.req(
            "DELETE",
            &format!("{api_repo}/artifacts/{a}/tags/v1"),
            &[],
            None,
        ),
        "DELETE tag v1 via the API",
    );
    assert_denied(
        &c.req("DELETE", &format!("/v2/{repo}/manifests/{a}"), &[], None),
        "DELETE /v2 manifests/<digest of v1>",
    );
    assert_precondition(
        &c.req("DELETE", &format!("{api_repo}/artifacts/{a}"), &[], None),
        "DELETE the artifact of v1 via the API",
    );
    assert_precondition(
        &c.req("DELETE", &api_repo, &[], None),
        "DELETE the repository via the API",
    );
    assert_eq!(resolve(&c, &repo, "v1"), a);
    assert_eq!(resolve(&c, &repo, "v2"), b);

    // An unmatched tag can still be deleted.
    let r = c.req("DELETE", &format!("/v2/{repo}/manifests/latest"), &[], None);
    assert_eq!(r.status, 202, "delete latest: {}", r.text());

    // Disabling the rule lifts all of it.
    let r = send_json(
        &c,
        "PUT",
        &format!("{}/{rule_id}", rules_path(&project)),
        &rule("doublestar", "v*", "**", true),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.put_manifest(&repo, "v1", OCI_MANIFEST, &b_bytes);
    assert_eq!(
        r.status,
        201,
        "overwrite v1 under a disabled rule: {}",
        r.text()
    );
    assert_eq!(resolve(&c, &repo, "v1"), b);
    let r = c.req(
        "DELETE",
        &format!("{api_repo}/artifacts/{b}/tags/v2"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "delete tag v2: {}", r.text());
    let r = c.req("DELETE", &format!("/v2/{repo}/manifests/{a}"), &[], None);
    assert_eq!(r.status, 202, "delete the former v1 artifact: {}", r.text());
    let r = c.req("DELETE", &api_repo, &[], None);
    assert_eq!(r.status, 200, "delete the repository: {}", r.text());
    assert_eq!(get_manifest(&c, &repo, "v1").status, 404);
}

#[test]
fn deleting_an_immutable_rule_lifts_it_and_the_next_rule_still_applies() {
    let s = Server::start();
    let c = s.client();
    let project = unique("immdel");
    api_create_project(&c, &json!({"project_name": project, "public": false}));
    let release = add_rule(&c, &project, &rule("doublestar", "release-*", "**", false));
    add_rule(&c, &project, &rule("doublestar", "prod", "**", false));
    let repo = format!("{project}/app");
    let (a, a_bytes) = image(&c, &repo, "release-1", 1);
    let r = c.put_manifest(&repo, "prod", OCI_MANIFEST, &a_bytes);
    assert_eq!(r.status, 201, "{}", r.text());
    let b_bytes = push_image_blobs(&c, &repo, "b", &[&random_bytes(2048, 2)]);

    let message = assert_denied(
        &c.put_manifest(&repo, "release-1", OCI_MANIFEST, &b_bytes),
        "overwrite release-1",
    );
    assert!(message.contains("release-*"), "{message}");
    let message = assert_denied(
        &c.put_manifest(&repo, "prod", OCI_MANIFEST, &b_bytes),
        "overwrite prod",
    );
    assert!(message.contains("prod"), "{message}");

    let r = c.req(
        "DELETE",
        &format!("{}/{release}", rules_path(&project)),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.put_manifest(&repo, "release-1", OCI_MANIFEST, &b_bytes);
    assert_eq!(
        r.status,
        201,
        "release-1 after its rule was deleted: {}",
        r.text()
    );
    assert_denied(
        &c.put_manifest(&repo, "prod", OCI_MANIFEST, &b_bytes),
        "prod is still protected by its own rule",
    );
    assert_eq!(resolve(&c, &repo, "prod"), a);
}

#[test]
fn regex_rules_match_whole_tag_names_and_repository_selectors_scope_rules() {
    let s = Server::start();
    let c = s.client();
    let project = unique("immre");
    api_create_project(&c, &json!({"project_name": project, "public": false}));
    // Only repository `app` (names are relative to the project, as in Harbor).
    add_rule(&c, &project, &rule("regex", "v[0-9]+", "app", false));
    let app = format!("{project}/app");
    let other = format!("{project}/other");
    let b_bytes = push_image_blobs(&c, &app, "b", &[&random_bytes(2048, 2)]);
    push_image_blobs(&c, &other, "b", &[&random_bytes(2048, 2)]);

    for tag in ["v1", "v12", "v1-rc", "xv1", "V1"] {
        image(&c, &app, tag, 1);
        image(&c, &other, tag, 1);
    }
    for tag in ["v1", "v12"] {
        assert_denied(
            &c.put_manifest(&app, tag, OCI_MANIFEST, &b_bytes),
            &format!("{app}:{tag} matches v[0-9]+"),
        );
    }
    for tag in ["v1-rc", "xv1", "V1"] {
        let r = c.put_manifest(&app, tag, OCI_MANIFEST, &b_bytes);
        assert_eq!(
            r.status,
            201,
            "{app}:{tag} does not match the whole of v[0-9]+: {}",
            r.text()
        );
    }
    for tag in ["v1", "v12"] {
        let r = c.put_manifest(&other, tag, OCI_MANIFEST, &b_bytes);
        assert_eq!(
            r.status,
            201,
            "{other} is outside the rule's repositories: {}",
            r.text()
        );
    }
}

#[test]
fn cosign_signature_tags_are_never_immutable_even_under_a_match_all_rule() {
    let s = Server::start();
    let c = s.client();
    let project = unique("immsig");
    api_create_project(&c, &json!({"project_name": project, "public": false}));
    add_rule(&c, &project, &rule("doublestar", "**", "**", false));
    let repo = format!("{project}/app");
    let (subject, _) = image(&c, &repo, "v1", 1);
    let sig_tag = format!("{}.sig", subject.replace(':', "-"));

    // cosign rewrites the .sig tag each time it adds a signature.
    let first = push_image_blobs(&c, &repo, "sig-1", &[b"signature one"]);
    let second = push_image_blobs(&c, &repo, "sig-2", &[b"signature two"]);
    let r = c.put_manifest(&repo, &sig_tag, OCI_MANIFEST, &first);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = c.put_manifest(&repo, &sig_tag, OCI_MANIFEST, &second);
    assert_eq!(
        r.status,
        201,
        "a second signature replaces the .sig tag: {}",
        r.text()
    );
    assert_eq!(resolve(&c, &repo, &sig_tag), sha256(&second));
    let r = c.req(
        "DELETE",
        &format!("/v2/{repo}/manifests/{sig_tag}"),
        &[],
        None,
    );
    assert_eq!(r.status, 202, "delete the .sig tag: {}", r.text());

    // The match-all rule is in force for every other tag, even look-alikes.
    for tag in [
        "v1".to_string(),
        format!("{}.sif", subject.replace(':', "-")),
    ] {
        if tag != "v1" {
            let r = c.put_manifest(&repo, &tag, OCI_MANIFEST, &first);
            assert_eq!(r.status, 201, "{}", r.text());
        }
        assert_denied(
            &c.put_manifest(&repo, &tag, OCI_MANIFEST, &second),
            &format!("overwrite {tag} under **"),
        );
    }
}

#[test]
fn immutable_rules_need_project_admin_rights() {
    let s = Server::start();
    let admin = s.client();
    let project = unique("immrbac");
    api_create_project(&admin, &json!({"project_name": project, "public": false}));
    const PW: &str = "Policy-Test-Pw1";
    let user = unique("dev");
    let r = send_json(
        &admin,
        "POST",
        &format!("{API}/users"),
        &json!({"username": user, "password": PW, "email": format!("{user}@example.com"), "realname": user}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send_json(
        &admin,
        "POST",
        &format!("{API}/projects/{project}/members"),
        &json!({"role_id": 2, "member_user": {"username": user}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let developer = Client::new(&s.url()).with_basic(&user, PW);

    // Harbor: only project admins and maintainers manage immutability rules.
    let r = send_json(
        &developer,
        "POST",
        &rules_path(&project),
        &rule("doublestar", "v*", "**", false),
    );
    assert_eq!(r.status, 403, "developer creates a rule: {}", r.text());
    let id = add_rule(&admin, &project, &rule("doublestar", "v*", "**", false));
    let r = send_json(
        &developer,
        "PUT",
        &format!("{}/{id}", rules_path(&project)),
        &rule("doublestar", "v*", "**", true),
    );
    assert_eq!(r.status, 403, "developer disables a rule: {}", r.text());
    let r = developer.req(
        "DELETE",
        &format!("{}/{id}", rules_path(&project)),
        &[],
        None,
    );
    assert_eq!(r.status, 403, "developer deletes a rule: {}", r.text());
    let rules = list_rules(&admin, &project);
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["disabled"], false);

    // And the rule binds the developer's pushes.
    let repo = format!("{project}/app");
    image(&developer, &repo, "v1", 1);
    let b = push_image_blobs(&developer, &repo, "b", &[&random_bytes(2048, 2)]);
    assert_denied(
        &developer.put_manifest(&repo, "v1", OCI_MANIFEST, &b),
        "developer overwrites v1",
    );
}
