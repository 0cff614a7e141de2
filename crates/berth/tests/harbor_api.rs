//! Harbor's REST API v2.0 as Harbor clients use it: the unchanged `harborapi` PyPI client with
//! skopeo pushing as the robot it created, Harbor's conventions (paging headers, Location,
//! error body, name-or-id, double-encoded repository names, lenient booleans), the throttling
//! of wrong passwords, secrets kept out of the log, the portal session with its CSRF token,
//! and the first start's admin password. Everything runs against the real binary.

mod common;
use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python side of `harborapi_client_used_unchanged`.
const HARBORAPI_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/harbor/harborapi_flow.py"
);

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

const API: &str = "/api/v2.0";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {v}"))
}

fn array<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not a JSON array: {v}"))
}

fn json_body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// A scratch directory inside the server's directory, so it goes with it.
fn scratch(s: &Server) -> PathBuf {
    let d = s.dir.join("client");
    fs::create_dir_all(&d).unwrap();
    d
}

/// Checks Harbor's error body and returns its message:
/// `{"errors":[{"code":"NOT_FOUND","message":"..."}]}`.
fn assert_error(r: &Resp, status: u16, code: &str, what: &str) -> String {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    let body = r.json();
    let errors = array(&body["errors"], what);
    assert_eq!(errors.len(), 1, "{what}: {body}");
    assert_eq!(errors[0]["code"], code, "{what}: {body}");
    let message = errors[0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {body}"));
    assert!(!message.is_empty(), "{what}: empty message in {body}");
    message.to_string()
}

fn post_json(c: &Client, path: &str, body: &Value) -> Resp {
    c.req(
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(&json_body(body)),
    )
}

/// Creates a project through the API and returns its id.
fn create_project(c: &Client, name: &str, public: bool) -> i64 {
    let r = post_json(
        c,
        &format!("{API}/projects"),
        &json!({"project_name": name, "metadata": {"public": public.to_string()}}),
    );
    assert_eq!(r.status, 201, "create project {name}: {}", r.text());
    let loc = r.header("Location").expect("Location on 201");
    loc.rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("Location {loc} does not end in an id"))
}

/// Creates a local user and returns its id.
fn create_user(c: &Client, name: &str, password: &str) -> i64 {
    let r = post_json(
        c,
        &format!("{API}/users"),
        &json!({"username": name, "email": format!("{name}@example.com"),
                "realname": name, "password": password}),
    );
    assert_eq!(r.status, 201, "create user {name}: {}", r.text());
    let loc = r.header("Location").expect("Location on 201");
    assert!(loc.starts_with(&format!("{API}/users/")), "{loc}");
    loc.rsplit('/').next().unwrap().parse().unwrap()
}

/// Creates a project robot with push and pull; returns (id, name, secret).
fn create_robot(c: &Client, project: &str, name: &str) -> (i64, String, String) {
    let r = post_json(
        c,
        &format!("{API}/robots"),
        &json!({
            "name": name, "level": "project", "duration": -1, "description": "",
            "permissions": [{"kind": "project", "namespace": project, "access": [
                {"resource": "repository", "action": "push"},
                {"resource": "repository", "action": "pull"}]}]
        }),
    );
    assert_eq!(r.status, 201, "create robot: {}", r.text());
    let v = r.json();
    (
        v["id"].as_i64().unwrap(),
        str_of(&v, "name").to_string(),
        str_of(&v, "secret").to_string(),
    )
}

/// The `<url>` of a `Link` header's relation `rel`, if any.
fn link(r: &Resp, rel: &str) -> Option<String> {
    let header = r.header("Link")?;
    header
        .split(',')
        .map(str::trim)
        .find(|part| part.contains(&format!("rel=\"{rel}\"")))
        .map(|part| {
            let start = part.find('<').expect("<url> in Link") + 1;
            let end = part.find('>').expect("<url> in Link");
            part[start..end].to_string()
        })
}

fn names(list: &Value, key: &str) -> Vec<String> {
    array(list, "list")
        .iter()
        .map(|v| str_of(v, key).to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// skopeo and the harborapi script

/// Runs `harborapi_flow.py MODE` as the admin; returns the JSON it printed.
fn harborapi(s: &Server, mode: &str, args: &Value, user_password: &str) -> Value {
    let python = require_tool("python3");
    let probe = Command::new(&python)
        .args(["-c", "import harborapi"])
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "the harborapi Python package is not installed (pip install harborapi); \
         scripts/test.sh installs it\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let home = scratch(s).join("python-home");
    fs::create_dir_all(&home).unwrap();
    let out = run(Command::new(&python)
        .arg(HARBORAPI_SCRIPT)
        .arg(mode)
        .arg(format!("{}{API}", s.url()))
        .arg(args.to_string())
        .env("BERTH_ADMIN_USER", "admin")
        .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BERTH_USER_PASSWORD", user_password)
        .env("HOME", &home)
        .stdin(Stdio::null()));
    parse(out.trim())
}

#[test]
fn harborapi_client_used_unchanged() {
    let s = Server::start();
    let admin = s.client();
    let project = unique("hapi");
    let user = unique("dev");
    let user_password = "Dev-Passw0rd-1";
    let robot = "ci";

    // 1. harborapi: project, user, membership, project robot with push and pull.
    let setup = harborapi(
        &s,
        "setup",
        &json!({"project": project, "user": user, "robot": robot}),
        user_password,
    );
    assert_eq!(setup["health"]["status"], "healthy", "{}", setup["health"]);
    assert_eq!(setup["project_exists_before"], false, "HEAD before create");
    assert_eq!(setup["project_exists_after"], true, "HEAD after create");
    // harborapi asks for the name in Location (X-Resource-Name-In-Location: true).
    assert_eq!(
        setup["create_project"],
        format!("{API}/projects/{project}"),
        "Location of the new project"
    );
    let p = &setup["get_project"];
    assert_eq!(p["name"], project.as_str(), "{p}");
    assert_eq!(p["metadata"]["public"], "false", "{p}");
    assert_eq!(p["owner_name"], "admin", "{p}");
    let project_id = p["project_id"].as_i64().expect("project_id");
    assert_eq!(setup["get_project_by_id"]["name"], project.as_str());
    assert!(
        names(&setup["get_projects"], "name").contains(&project),
        "{}",
        setup["get_projects"]
    );

    let mut paged = names(&setup["get_projects_paged"], "name");
    paged.sort();
    let mut expected = vec!["library".to_string(), project.clone()];
    expected.sort();
    assert_eq!(paged, expected, "harborapi follows Link: rel=\"next\"");
    let found = &setup["get_user_by_username"];
    let user_id = found["user_id"].as_i64().expect("user_id");
    assert_eq!(found["username"], user.as_str());
    assert_eq!(setup["create_user"], format!("{API}/users/{user_id}"));
    assert_eq!(setup["get_user"]["email"], format!("{user}@example.com"));
    assert_eq!(setup["get_user"]["sysadmin_flag"], false);
    let mut users = names(&setup["get_users_paged"], "username");
    users.sort();
    let mut expected = vec!["admin".to_string(), user.clone()];
    expected.sort();
    assert_eq!(users, expected, "users page by page");
    let member_loc = str_of(&setup, "add_member");
    assert!(
        member_loc.starts_with(&format!("{API}/projects/")) && member_loc.contains("/members/"),
        "member Location: {member_loc}"
    );
    let members = array(&setup["get_members"], "members");
    let member_of = |name: &str| {
        members
            .iter()
            .find(|m| m["entity_name"] == name)
            .unwrap_or_else(|| panic!("{name} is not a member: {members:?}"))
    };
    assert_eq!(member_of(&user)["role_id"], 2, "{members:?}");
    assert_eq!(member_of(&user)["role_name"], "developer");
    assert_eq!(member_of(&user)["entity_type"], "u");
    assert_eq!(member_of(&user)["entity_id"], user_id);
    assert_eq!(
        member_of("admin")["role_id"],
        1,
        "the creator is project admin"
    );
    assert_eq!(setup["user_current"]["username"], user.as_str());
    assert_eq!(setup["user_current"]["sysadmin_flag"], false);
    assert_eq!(setup["user_sees_project"]["current_user_role_id"], 2);

    let created = &setup["create_robot"];
    let robot_name = str_of(created, "name").to_string();
    let robot_secret = str_of(created, "secret").to_string();
    assert_eq!(robot_name, format!("robot${project}+{robot}"));
    assert!(robot_secret.len() >= 8, "{created}");
    assert_eq!(created["expires_at"], -1, "{created}");
    let got = &setup["get_robot"];
    assert_eq!(got["id"], created["id"]);
    assert_eq!(got["name"], robot_name.as_str());
    assert_eq!(got["level"], "project");
    assert_eq!(got["secret"], "", "the secret is never shown again: {got}");
    let perm = &got["permissions"][0];
    assert_eq!(perm["kind"], "project", "{got}");
    assert_eq!(perm["namespace"], project.as_str(), "{got}");
    let mut actions: Vec<&str> = array(&perm["access"], "access")
        .iter()
        .map(|a| {
            assert_eq!(a["resource"], "repository", "{got}");
            str_of(a, "action")
        })
        .collect();
    actions.sort();
    assert_eq!(actions, ["pull", "push"], "{got}");
    assert!(
        names(&setup["get_project_robots"], "name").contains(&robot_name),
        "{}",
        setup["get_project_robots"]
    );

    let scanners = setup["get_scanners"].as_array().unwrap();
    assert_eq!(scanners.len(), 1, "{}", setup["get_scanners"]);
    assert_eq!(scanners[0]["name"], "berth");
    assert_eq!(scanners[0]["is_default"], true);
    assert_eq!(
        setup["get_project_scanner"]["uuid"], scanners[0]["uuid"],
        "the project's scans go to the default scanner"
    );

    // 2. skopeo pushes as the robot, with the secret harborapi got.
    let tmp = scratch(&s);
    let skopeo = Skopeo::new(&tmp);
    skopeo.login(&s.host(), &robot_name, &robot_secret);
    let tar = alpine_tar(&tmp);
    let repo = "team/app";
    let image = format!("docker://{}/{project}/{repo}:v1", s.host());
    skopeo.run(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("docker-archive:{}", path_str(&tar)),
        &image,
    ]);
    let r = admin.req(
        "GET",
        &format!("/v2/{project}/{repo}/manifests/v1"),
        &[("Accept", ACCEPT_MANIFESTS)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some(DOCKER_MANIFEST));
    let digest = sha256(&r.body);
    let inspect = parse(&skopeo.run(&["inspect", "--tls-verify=false", &image]));
    assert_eq!(
        str_of(&inspect, "Digest"),
        digest,
        "the robot pulls what it pushed"
    );

    // 3. harborapi lists the repository and artifact, then deletes both.
    let seen = harborapi(
        &s,
        "inspect",
        &json!({"project": project, "repository": repo, "tag": "v1", "digest": digest}),
        user_password,
    );
    let full = format!("{project}/{repo}");
    let repos = array(&seen["get_repositories"], "repositories");
    let listed = repos
        .iter()
        .find(|r| r["name"] == full.as_str())
        .unwrap_or_else(|| panic!("{full} not listed: {repos:?}"));
    assert_eq!(listed["project_id"], project_id, "{listed}");
    assert_eq!(listed["artifact_count"], 1, "{listed}");
    assert!(
        names(&seen["get_all_repositories"], "name").contains(&full),
        "{}",
        seen["get_all_repositories"]
    );
    assert_eq!(seen["get_repository"]["name"], full.as_str());
    let artifacts = array(&seen["get_artifacts"], "artifacts");
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    let a = &artifacts[0];
    assert_eq!(a["digest"], digest.as_str(), "{a}");
    assert_eq!(a["type"], "IMAGE", "{a}");
    assert_eq!(a["manifest_media_type"], DOCKER_MANIFEST, "{a}");
    assert_eq!(a["project_id"], project_id, "{a}");
    assert!(names(&a["tags"], "name").contains(&"v1".to_string()), "{a}");
    assert_eq!(a["extra_attrs"]["architecture"], "amd64", "{a}");
    assert_eq!(a["extra_attrs"]["os"], "linux", "{a}");
    assert_eq!(seen["get_artifact_by_tag"]["digest"], digest.as_str());
    assert_eq!(seen["get_artifact_by_digest"]["digest"], digest.as_str());
    assert_eq!(
        names(&seen["get_artifact_tags"], "name"),
        ["v1"],
        "{}",
        seen["get_artifact_tags"]
    );
    assert_eq!(
        seen["get_artifacts_after_delete"],
        json!([]),
        "artifact deleted"
    );
    assert_eq!(seen["get_artifact_after_delete"]["not_found"], true);
    assert_eq!(
        seen["get_repository_after_artifact_delete"]["artifact_count"], 0,
        "the emptied repository stays until it is deleted"
    );
    assert!(
        !names(&seen["get_repositories_after_delete"], "name").contains(&full),
        "{}",
        seen["get_repositories_after_delete"]
    );
    assert_eq!(seen["get_repository_after_delete"]["not_found"], true);

    // The registry agrees.
    let r = admin.req(
        "GET",
        &format!("/v2/{project}/{repo}/manifests/{digest}"),
        &[("Accept", ACCEPT_MANIFESTS)],
        None,
    );
    assert_eq!(r.status, 404, "manifest after delete: {}", r.text());
}

// ---------------------------------------------------------------------------------------------

#[test]
fn harbor_conventions() {
    let s = Server::start();
    let c = s.client();
    let anon = s.anon();

    // 201 + Location on creates; the Location answers.
    let prefix = unique("conv");
    let mut ids = Vec::new();
    for suffix in ["a", "b", "c"] {
        ids.push(create_project(&c, &format!("{prefix}-{suffix}"), false));
    }
    let r = c.get(&format!("{API}/projects/{}", ids[0]));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], format!("{prefix}-a"));
    let r = c.req(
        "POST",
        &format!("{API}/projects"),
        &[
            ("Content-Type", "application/json"),
            ("X-Resource-Name-In-Location", "true"),
        ],
        Some(&json_body(
            &json!({"project_name": format!("{prefix}byname")}),
        )),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("Location"),
        Some(format!("{API}/projects/{prefix}byname").as_str())
    );

    // Paging: X-Total-Count and Link rel="next" / rel="prev".
    let page1 = c.get(&format!(
        "{API}/projects?name={prefix}-&page=1&page_size=2&sort=name"
    ));
    assert_eq!(page1.status, 200, "{}", page1.text());
    assert_eq!(page1.header("X-Total-Count"), Some("3"), "page 1 total");
    let first = names(&page1.json(), "name");
    assert_eq!(first.len(), 2, "{first:?}");
    let next = link(&page1, "next").unwrap_or_else(|| {
        panic!(
            "no rel=\"next\" on page 1; Link: {:?}",
            page1.header("Link")
        )
    });
    assert!(link(&page1, "prev").is_none(), "no prev on page 1");
    assert!(
        next.starts_with(&format!("{API}/projects?")),
        "Link is the API path: {next}"
    );
    assert!(
        next.contains("page=2") && next.contains("page_size=2"),
        "{next}"
    );
    let page2 = c.get(&next);
    assert_eq!(page2.status, 200, "{}", page2.text());
    assert_eq!(page2.header("X-Total-Count"), Some("3"), "page 2 total");
    let second = names(&page2.json(), "name");
    assert_eq!(second.len(), 1, "{second:?}");
    let prev = link(&page2, "prev").unwrap_or_else(|| {
        panic!(
            "no rel=\"prev\" on page 2; Link: {:?}",
            page2.header("Link")
        )
    });
    assert!(link(&page2, "next").is_none(), "no next on the last page");
    assert!(prev.contains("page=1"), "{prev}");
    let mut all: Vec<String> = first.into_iter().chain(second).collect();
    all.sort();
    assert_eq!(
        all,
        ["a", "b", "c"].map(|x| format!("{prefix}-{x}")),
        "the pages together"
    );

    // A middle page links both ways.
    let middle = c.get(&format!("{API}/projects?name={prefix}-&page=2&page_size=1"));
    assert_eq!(middle.status, 200, "{}", middle.text());
    assert!(
        link(&middle, "prev").is_some() && link(&middle, "next").is_some(),
        "Link: {:?}",
        middle.header("Link")
    );

    // Every response carries X-Request-Id, the caller's if it sent one.
    let r = c.req(
        "GET",
        &format!("{API}/projects/{prefix}-a"),
        &[("X-Request-Id", "conventions-req-1")],
        None,
    );
    assert_eq!(r.header("X-Request-Id"), Some("conventions-req-1"));
    let r = anon.get(&format!("{API}/projects/{prefix}-a"));
    assert!(r.header("X-Request-Id").is_some_and(|v| !v.is_empty()));

    // Unknown query parameters are ignored (and booleans are lenient).
    let r = c.get(&format!(
        "{API}/projects?name={prefix}-&page_size=2&with_detail=True&bogus=1"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("X-Total-Count"), Some("3"));
    for truthy in ["true", "True", "1"] {
        let r = c.get(&format!("{API}/projects?public={truthy}&page_size=100"));
        assert_eq!(r.status, 200, "{}", r.text());
        let listed = names(&r.json(), "name");
        assert!(
            listed.contains(&"library".to_string()),
            "public={truthy}: {listed:?}"
        );
        assert!(
            !listed.iter().any(|n| n.starts_with(&prefix)),
            "public={truthy} lists private projects: {listed:?}"
        );
    }

    // HEAD /projects?project_name=x → 200 / 404.
    let r = c.req(
        "HEAD",
        &format!("{API}/projects?project_name={prefix}-a"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "HEAD of an existing project");
    let r = c.req(
        "HEAD",
        &format!("{API}/projects?project_name={prefix}-nope"),
        &[],
        None,
    );
    assert_eq!(r.status, 404, "HEAD of a missing project");

    // A numeric name is an id unless X-Is-Resource-Name says it is a name; a non-numeric
    // id is a name.
    let numeric = "90210";
    let numeric_id = create_project(&c, numeric, false);
    assert_ne!(numeric_id.to_string(), numeric);
    let r = c.get(&format!("{API}/projects/{numeric}"));
    assert_error(&r, 404, "NOT_FOUND", "numeric name read as an id");
    for flag in ["true", "True", "1"] {
        let r = c.req(
            "GET",
            &format!("{API}/projects/{numeric}"),
            &[("X-Is-Resource-Name", flag)],
            None,
        );
        assert_eq!(r.status, 200, "X-Is-Resource-Name: {flag}: {}", r.text());
        assert_eq!(r.json()["project_id"], numeric_id);
    }
    let r = c.req(
        "GET",
        &format!("{API}/projects/{numeric}"),
        &[("X-Is-Resource-Name", "false")],
        None,
    );
    assert_error(&r, 404, "NOT_FOUND", "X-Is-Resource-Name: false");
    let r = c.get(&format!("{API}/projects/{numeric_id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], numeric);
    let r = c.get(&format!("{API}/projects/{prefix}-b"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["project_id"], ids[1]);

    // Error bodies and codes.
    assert_error(
        &c.get(&format!("{API}/projects/{prefix}-missing")),
        404,
        "NOT_FOUND",
        "missing project",
    );
    assert_error(
        &post_json(
            &c,
            &format!("{API}/projects"),
            &json!({"project_name": format!("{prefix}-a")}),
        ),
        409,
        "CONFLICT",
        "duplicate project",
    );
    assert_error(
        &post_json(
            &c,
            &format!("{API}/projects"),
            &json!({"project_name": "Not A Valid Name"}),
        ),
        400,
        "BAD_REQUEST",
        "invalid project name",
    );
    assert_error(
        &c.req(
            "POST",
            &format!("{API}/projects"),
            &[("Content-Type", "application/json")],
            Some(b"{not json"),
        ),
        400,
        "BAD_REQUEST",
        "malformed JSON",
    );
    assert_error(
        &post_json(
            &anon,
            &format!("{API}/projects"),
            &json!({"project_name": format!("{prefix}-anon")}),
        ),
        401,
        "UNAUTHORIZED",
        "anonymous create",
    );
    assert_error(
        &anon.get(&format!("{API}/projects/{prefix}-a")),
        401,
        "UNAUTHORIZED",
        "anonymous read of a private project",
    );
    assert_error(
        &s.anon()
            .with_basic("admin", "wrong-password")
            .get(&format!("{API}/users/current")),
        401,
        "UNAUTHORIZED",
        "wrong password",
    );
    let password = "Someone-Passw0rd";
    let uname = unique("someone");
    create_user(&c, &uname, password);
    let someone = s.anon().with_basic(&uname, password);
    assert_error(
        &post_json(
            &someone,
            &format!("{API}/users"),
            &json!({"username": unique("x"), "password": password}),
        ),
        403,
        "FORBIDDEN",
        "a non-admin creating a user",
    );
    assert_error(
        &someone.get(&format!("{API}/projects/{prefix}-a")),
        403,
        "FORBIDDEN",
        "a non-member reading a private project",
    );
    assert_error(
        &c.get(&format!("{API}/no-such-endpoint")),
        404,
        "NOT_FOUND",
        "unknown endpoint",
    );

    // Users list pages too.
    let r = c.get(&format!("{API}/users?page_size=1&unknown=x"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("X-Total-Count"), Some("2"), "admin and {uname}");
    assert!(link(&r, "next").is_some(), "Link: {:?}", r.header("Link"));

    // Repositories: the name is relative to the project with '/' encoded twice in the
    // repository path, and once or twice in artifact paths.
    let project = format!("{prefix}-a");
    let (digest, _) = c.push_image(&format!("{project}/a/b"), "v1", &[b"conventions layer"]);
    let repo_base = format!("{API}/projects/{project}/repositories");
    let r = c.get(&format!("{repo_base}?page_size=1&bogus=yes"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("X-Total-Count"), Some("1"));
    assert_eq!(names(&r.json(), "name"), [format!("{project}/a/b")]);
    let r = c.get(&format!("{repo_base}/a%252Fb"));
    assert_eq!(r.status, 200, "double-encoded repository: {}", r.text());
    assert_eq!(r.json()["name"], format!("{project}/a/b"));
    assert_eq!(r.json()["project_id"], ids[0]);
    assert_eq!(r.json()["artifact_count"], 1);
    assert_error(
        &c.get(&format!("{repo_base}/a%252Fnope")),
        404,
        "NOT_FOUND",
        "missing repository",
    );
    for encoded in ["a%252Fb", "a%2Fb"] {
        let r = c.get(&format!("{repo_base}/{encoded}/artifacts?bogus=1"));
        assert_eq!(r.status, 200, "artifacts of {encoded}: {}", r.text());
        assert_eq!(r.header("X-Total-Count"), Some("1"), "{encoded}");
        let list = r.json();
        assert_eq!(list[0]["digest"], digest.as_str(), "{encoded}: {list}");
        for reference in ["v1", digest.as_str()] {
            let r = c.get(&format!("{repo_base}/{encoded}/artifacts/{reference}"));
            assert_eq!(r.status, 200, "{encoded} {reference}: {}", r.text());
            assert_eq!(r.json()["digest"], digest.as_str());
        }
    }
    // with_tag defaults to true; True, true and 1 are true; false leaves tags out.
    for q in ["", "?with_tag=True", "?with_tag=true", "?with_tag=1"] {
        let r = c.get(&format!("{repo_base}/a%252Fb/artifacts{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text());
        let tags = &r.json()[0]["tags"];
        assert_eq!(names(tags, "name"), ["v1"], "{q}: {tags}");
    }
    let r = c.get(&format!("{repo_base}/a%252Fb/artifacts?with_tag=false"));
    assert_eq!(r.status, 200, "{}", r.text());
    let tags = &r.json()[0]["tags"];
    assert!(
        tags.is_null() || tags.as_array().is_some_and(|t| t.is_empty()),
        "with_tag=false: {tags}"
    );
    assert_error(
        &c.get(&format!("{repo_base}/a%252Fb/artifacts/no-such-tag")),
        404,
        "NOT_FOUND",
        "missing artifact",
    );

    // Tag create: 201 + Location; again: 409 CONFLICT.
    let tags_path = format!("{repo_base}/a%252Fb/artifacts/{digest}/tags");
    let r = post_json(&c, &tags_path, &json!({"name": "v2"}));
    assert_eq!(r.status, 201, "create tag: {}", r.text());
    let loc = r.header("Location").expect("Location on tag create");
    assert!(loc.starts_with(&format!("{API}/projects/")), "{loc}");
    assert_error(
        &post_json(&c, &tags_path, &json!({"name": "v2"})),
        409,
        "CONFLICT",
        "duplicate tag",
    );
    let r = c.get(&format!("{tags_path}?page_size=1"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("X-Total-Count"), Some("2"), "v1 and v2");
    assert!(link(&r, "next").is_some(), "Link: {:?}", r.header("Link"));
}

// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_passwords_are_refused_and_slowed() {
    let s = Server::start();
    let c = s.client();
    let (alice, bob) = (unique("alice"), unique("bob"));
    let (alice_pw, bob_pw) = ("Alice-Passw0rd", "Bob-Passw0rd-2");
    create_user(&c, &alice, alice_pw);
    create_user(&c, &bob, bob_pw);
    // Both logins are known to work before anything fails.
    for (u, p) in [(&alice, alice_pw), (&bob, bob_pw)] {
        let r = s
            .anon()
            .with_basic(u, p)
            .get(&format!("{API}/users/current"));
        assert_eq!(r.status, 200, "{u}: {}", r.text());
    }

    // Eight failures for alice, alternating the management API and the registry.
    let wrong = s.anon().with_basic(&alice, "Not-Her-Passw0rd");
    let mut latencies = Vec::new();
    for attempt in 1..=8 {
        let started = Instant::now();
        let path = if attempt % 2 == 1 {
            format!("{API}/users/current")
        } else {
            "/v2/".to_string()
        };
        let r = wrong.get(&path);
        let took = started.elapsed();
        assert_eq!(r.status, 401, "attempt {attempt} on {path}: {}", r.text());
        if path.starts_with(API) {
            assert_error(&r, 401, "UNAUTHORIZED", "wrong password on the API");
        } else {
            assert!(
                r.header("WWW-Authenticate").is_some(),
                "a 401 on /v2/ carries a challenge"
            );
        }
        latencies.push(took);
    }
    let report: Vec<String> = latencies
        .iter()
        .map(|d| format!("{}ms", d.as_millis()))
        .collect();
    eprintln!("latencies of alice's 8 failures: {report:?}");
    assert!(
        latencies[7] >= latencies[0] + Duration::from_millis(200),
        "the 8th failure ({:?}) is not measurably slower than the 1st ({:?}): {report:?}",
        latencies[7],
        latencies[0]
    );
    assert!(
        latencies[7] < Duration::from_secs(10),
        "the delay is capped: {report:?}"
    );

    // The right password still works, for bob (another user, same address) and for alice.
    let started = Instant::now();
    let r = s
        .anon()
        .with_basic(&bob, bob_pw)
        .get(&format!("{API}/users/current"));
    let bob_took = started.elapsed();
    assert_eq!(r.status, 200, "bob after alice's failures: {}", r.text());
    assert_eq!(r.json()["username"], bob.as_str());
    let started = Instant::now();
    let r = s
        .anon()
        .with_basic(&alice, alice_pw)
        .get(&format!("{API}/users/current"));
    let alice_took = started.elapsed();
    assert_eq!(r.status, 200, "alice with her password: {}", r.text());
    let started = Instant::now();
    let r = c.get(&format!("{API}/users/current"));
    let admin_took = started.elapsed();
    assert_eq!(r.status, 200, "admin: {}", r.text());
    eprintln!(
        "after alice's 8 failures from 127.0.0.1: bob's correct login took {}ms, \
         alice's correct login {}ms, the admin's {}ms",
        bob_took.as_millis(),
        alice_took.as_millis(),
        admin_took.as_millis()
    );
    // Only failures wait: someone else's guessing never slows a correct login.
    for (who, took) in [
        ("bob", bob_took),
        ("alice", alice_took),
        ("admin", admin_took),
    ] {
        assert!(
            took < Duration::from_millis(1500),
            "{who}'s correct login was slowed: {took:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------

/// Whether `log` holds "<scheme> " followed by at least `min` characters of `charset`.
fn credential_after(
    log: &str,
    scheme: &str,
    min: usize,
    charset: fn(char) -> bool,
) -> Option<String> {
    let mut rest = log;
    while let Some(i) = rest.find(scheme) {
        let after = &rest[i + scheme.len()..];
        let run: String = after.chars().take_while(|c| charset(*c)).collect();
        if run.len() >= min {
            return Some(format!("{scheme}{run}"));
        }
        rest = after;
    }
    None
}

#[test]
fn no_secret_in_logs() {
    // The most verbose logging an operator could turn on to chase a problem.
    let s = Server::start_with(&[("BERTH_LOG", "trace")]);
    let c = s.client();
    let project = unique("logs");
    create_project(&c, &project, false);
    let user = unique("carol");
    let user_pw = "Carol-Secret-Passw0rd";
    let wrong_pw = "Carol-Secret-Passw0rx";
    create_user(&c, &user, user_pw);
    let r = c.req(
        "POST",
        &format!("{API}/projects/{project}/members"),
        &[("Content-Type", "application/json")],
        Some(&json_body(
            &json!({"role_id": 2, "member_user": {"username": user}}),
        )),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let mut secrets: Vec<(String, String)> = vec![
        ("admin password".into(), ADMIN_PASSWORD.into()),
        ("user password".into(), user_pw.into()),
        ("wrong password".into(), wrong_pw.into()),
    ];

    // Right and wrong passwords on the API and the registry.
    let right = s.anon().with_basic(&user, user_pw);
    let wrong = s.anon().with_basic(&user, wrong_pw);
    assert_eq!(right.get(&format!("{API}/users/current")).status, 200);
    assert_eq!(wrong.get(&format!("{API}/users/current")).status, 401);
    assert_eq!(right.get("/v2/").status, 200);
    assert_eq!(wrong.get("/v2/").status, 401);
    let admin_wrong = s.anon().with_basic("admin", "Admin-Wrong-Passw0rd");
    assert_eq!(admin_wrong.get("/v2/").status, 401);
    secrets.push((
        "admin's wrong password".into(),
        "Admin-Wrong-Passw0rd".into(),
    ));

    // A robot: created, refreshed (generated and given secrets), used with Basic and Bearer.
    let (robot_id, robot_name, secret1) = create_robot(&c, &project, "logbot");
    secrets.push(("robot secret".into(), secret1.clone()));
    let r = c.req(
        "PATCH",
        &format!("{API}/robots/{robot_id}"),
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 200, "refresh: {}", r.text());
    let secret2 = str_of(&r.json(), "secret").to_string();
    assert_ne!(secret2, secret1);
    secrets.push(("refreshed robot secret".into(), secret2.clone()));
    let given = "Given-Robot-Secret-9";
    let r = c.req(
        "PATCH",
        &format!("{API}/robots/{robot_id}"),
        &[("Content-Type", "application/json")],
        Some(&json_body(&json!({"secret": given}))),
    );
    assert_eq!(r.status, 200, "refresh with a given secret: {}", r.text());
    assert_eq!(r.json()["secret"], given);
    secrets.push(("given robot secret".into(), given.into()));
    let old = s.anon().with_basic(&robot_name, &secret1);
    assert_eq!(old.get("/v2/").status, 401, "the old secret is dead");
    let robot = s.anon().with_basic(&robot_name, given);
    assert_eq!(robot.get("/v2/").status, 200);
    let repo = format!("{project}/app");
    robot.push_image(&repo, "v1", &[b"log test layer"]);
    let r = robot.get(&format!(
        "/service/token?service=harbor-registry&scope=repository:{repo}:pull,push"
    ));
    assert_eq!(r.status, 200, "token: {}", r.text());
    let token = str_of(&r.json(), "token").to_string();
    secrets.push(("registry token".into(), token.clone()));
    if let Some(signature) = token.rsplit('.').next() {
        secrets.push(("registry token signature".into(), signature.to_string()));
    }
    let bearer = s.anon().with_bearer(&token);
    let r = bearer.get(&format!("/v2/{repo}/tags/list"));
    assert_eq!(r.status, 200, "Bearer: {}", r.text());
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        s.anon()
            .with_bearer(&forged)
            .get(&format!("/v2/{repo}/tags/list"))
            .status,
        401
    );
    secrets.push(("forged token".into(), forged));
    let r = s
        .anon()
        .with_basic(&user, user_pw)
        .get("/service/token?service=harbor-registry&scope=repository:library/x:pull");
    assert_eq!(r.status, 200, "user token: {}", r.text());
    let user_token = str_of(&r.json(), "token").to_string();
    secrets.push(("user's registry token".into(), user_token));

    // The portal: right and wrong logins, a session used and ended.
    let form = |u: &str, p: &str| format!("principal={u}&password={p}");
    let login = |body: String| {
        s.anon().req(
            "POST",
            "/c/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
        )
    };
    assert_eq!(login(form(&user, wrong_pw)).status, 401);
    let r = login(form(&user, user_pw));
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = session_cookie(&r);
    let csrf = r.header("X-Harbor-CSRF-Token").unwrap().to_string();
    secrets.push(("session id".into(), sid.clone()));
    secrets.push(("CSRF token".into(), csrf.clone()));
    let cookie = format!("sid={sid}");
    let r = s.anon().req(
        "GET",
        &format!("{API}/users/current"),
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s
        .anon()
        .req("GET", "/c/logout", &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = login(form("admin", ADMIN_PASSWORD));
    assert_eq!(r.status, 200, "{}", r.text());
    secrets.push(("admin session id".into(), session_cookie(&r)));

    // What the log holds.
    let log = s.log();
    assert!(
        log.contains("authentication failed") || log.contains("401"),
        "the log records something of the failures (is logging on?):\n{log}"
    );
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        if log.contains(secret.as_str()) {
            leaks.push(format!("{what} ({secret})"));
        }
    }
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for (u, p) in [
        ("admin", ADMIN_PASSWORD),
        (user.as_str(), user_pw),
        (user.as_str(), wrong_pw),
        (robot_name.as_str(), given),
        (robot_name.as_str(), secret1.as_str()),
    ] {
        let encoded = b64(&format!("{u}:{p}"));
        if log.contains(&encoded) {
            leaks.push(format!("base64 credentials of {u}"));
        }
    }
    let base64_char = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
    if let Some(found) = credential_after(&log, "Basic ", 8, base64_char) {
        leaks.push(format!("a Basic credential: {found}"));
    }
    let token_char = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if let Some(found) = credential_after(&log, "Bearer ", 20, token_char) {
        leaks.push(format!("a Bearer token: {found}"));
    }
    assert!(
        leaks.is_empty(),
        "the server log holds secrets: {leaks:?}\nlog:\n{log}"
    );
}

// ---------------------------------------------------------------------------------------------

/// The `sid` value of a login response's `Set-Cookie`.
fn session_cookie(r: &Resp) -> String {
    let set = r
        .header("Set-Cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie on login: {}", r.text()));
    let first = set.split(';').next().unwrap().trim();
    let value = first
        .strip_prefix("sid=")
        .unwrap_or_else(|| panic!("the cookie is not sid: {set}"));
    assert!(!value.is_empty(), "{set}");
    value.to_string()
}

#[test]
fn portal_session_and_csrf() {
    let s = Server::start();
    let login = |body: &str| {
        s.anon().req(
            "POST",
            "/c/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
        )
    };
    let r = login("principal=admin&password=Wrong-Passw0rd");
    assert_eq!(r.status, 401, "wrong password: {}", r.text());
    assert!(r.header("Set-Cookie").is_none(), "no session for a failure");

    let r = login(&format!("principal=admin&password={ADMIN_PASSWORD}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let set_cookie = r.header("Set-Cookie").unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly"),
        "the session cookie is HttpOnly: {set_cookie}"
    );
    let sid = session_cookie(&r);
    let csrf = r
        .header("X-Harbor-CSRF-Token")
        .expect("X-Harbor-CSRF-Token on login")
        .to_string();
    assert!(!csrf.is_empty());
    let cookie = format!("sid={sid}");
    let with_cookie = |method: &str, path: &str, extra: &[(&str, &str)], body: Option<&[u8]>| {
        let mut headers = vec![("Cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        s.anon().req(method, path, &headers, body)
    };

    // The cookie alone authenticates safe requests, which carry the CSRF token back.
    let r = with_cookie("GET", &format!("{API}/users/current"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["username"], "admin");
    assert_eq!(r.json()["sysadmin_flag"], true);
    assert_eq!(
        r.header("X-Harbor-CSRF-Token"),
        Some(csrf.as_str()),
        "responses to session requests carry the token"
    );

    // Unsafe requests with the cookie need the token.
    let name = unique("portal");
    let body = json_body(&json!({"project_name": name}));
    let ct = ("Content-Type", "application/json");
    let r = with_cookie("POST", &format!("{API}/projects"), &[ct], Some(&body));
    assert_error(
        &r,
        403,
        "FORBIDDEN",
        "POST with the cookie and no CSRF token",
    );
    let r = with_cookie(
        "POST",
        &format!("{API}/projects"),
        &[ct, ("X-Harbor-CSRF-Token", "not-the-token")],
        Some(&body),
    );
    assert_error(&r, 403, "FORBIDDEN", "POST with a wrong CSRF token");
    let r = s.client().req(
        "HEAD",
        &format!("{API}/projects?project_name={name}"),
        &[],
        None,
    );
    assert_eq!(r.status, 404, "refused requests created nothing");
    let r = with_cookie(
        "POST",
        &format!("{API}/projects"),
        &[ct, ("X-Harbor-CSRF-Token", &csrf)],
        Some(&body),
    );
    assert_eq!(r.status, 201, "POST with the token: {}", r.text());
    assert!(r.header("Location").is_some());
    let r = s.client().get(&format!("{API}/projects/{name}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["owner_name"], "admin");

    // Basic auth needs no CSRF token.
    let r = post_json(
        &s.client(),
        &format!("{API}/projects"),
        &json!({"project_name": unique("basic")}),
    );
    assert_eq!(r.status, 201, "Basic POST without a token: {}", r.text());

    // A robot can't log in to the portal.
    let project = unique("rob");
    create_project(&s.client(), &project, false);
    let (_, robot_name, robot_secret) = create_robot(&s.client(), &project, "portal");
    let r = login(&format!(
        "principal={}&password={robot_secret}",
        robot_name.replace('$', "%24").replace('+', "%2B")
    ));
    assert_eq!(r.status, 401, "robot portal login: {}", r.text());

    // Logout ends the session.
    let r = with_cookie("GET", "/c/logout", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = with_cookie("GET", &format!("{API}/users/current"), &[], None);
    assert_error(&r, 401, "UNAUTHORIZED", "the cookie after logout");
    let r = with_cookie(
        "POST",
        &format!("{API}/projects"),
        &[ct, ("X-Harbor-CSRF-Token", &csrf)],
        Some(&json_body(&json!({"project_name": unique("late")}))),
    );
    assert!(
        r.status == 401 || r.status == 403,
        "a dead session creates nothing: {} {}",
        r.status,
        r.text()
    );
}

// ---------------------------------------------------------------------------------------------

struct Bootstrapped {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    database: Option<String>,
    runs: u32,
}

impl Bootstrapped {
    fn new() -> Bootstrapped {
        let dir = std::env::temp_dir().join(unique("berth-bootstrap-"));
        fs::create_dir_all(&dir).unwrap();
        let database = postgres().map(|base| {
            let name = unique("berth_test_");
            let status = Command::new("psql")
                .arg(format!("{base}/postgres"))
                .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
                .status()
                .expect("run psql");
            assert!(status.success(), "could not create test database");
            format!("{base}/{name}")
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Bootstrapped {
            child: None,
            dir,
            port,
            database,
            runs: 0,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts berth with no BERTH_ADMIN_PASSWORD; returns what it wrote to stderr so far
    /// once it answers.
    fn start(&mut self) -> PathBuf {
        self.runs += 1;
        let stderr = self.dir.join(format!("stderr-{}.txt", self.runs));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .env_remove("BERTH_ADMIN_PASSWORD")
            .env_remove("BERTH_LISTEN")
            .env_remove("BERTH_DATA_DIR")
            .env_remove("BERTH_DATABASE")
            .env("BERTH_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(fs::File::create(self.dir.join(format!("stdout-{}.txt", self.runs))).unwrap())
            .stderr(fs::File::create(&stderr).unwrap());
        if let Some(db) = &self.database {
            cmd.arg("--database").arg(db);
        }
        let mut child = cmd.spawn().expect("start berth");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = ureq::get(&format!("{}/healthz", self.url())).call() {
                if r.status() == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "berth exited at start ({status}): {}",
                    fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "berth did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
        stderr
    }

    fn stop(&mut self) {
        let mut c = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "berth did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Bootstrapped {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
            if let Some((base, name)) = self.database.as_deref().and_then(|d| d.rsplit_once('/')) {
                let _ = Command::new("psql")
                    .arg(format!("{base}/postgres"))
                    .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {name}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// The password on the line after "generated password", if the text has one.
fn printed_password(text: &str) -> Option<String> {
    let mut lines = text.lines();
    lines.find(|l| l.contains("generated password"))?;
    lines
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

#[test]
fn admin_bootstrap() {
    let mut b = Bootstrapped::new();
    let stderr = b.start();
    // Give the process a moment to flush what it prints at start.
    std::thread::sleep(Duration::from_millis(200));
    let first = fs::read_to_string(&stderr).unwrap();
    let password = printed_password(&first)
        .unwrap_or_else(|| panic!("no generated password on stderr:\n{first}"));
    assert!(password.len() >= 8, "{password:?}");
    assert_eq!(
        first.matches(password.as_str()).count(),
        1,
        "the password is printed exactly once:\n{first}"
    );
    let stdout = fs::read_to_string(b.dir.join("stdout-1.txt")).unwrap();
    assert!(!stdout.contains(&password), "the password is not on stdout");

    let url = b.url();
    let current = format!("{API}/users/current");
    let r = Client::new(&url)
        .with_basic("admin", &password)
        .get(&current);
    assert_eq!(r.status, 200, "the printed password works: {}", r.text());
    assert_eq!(r.json()["username"], "admin");
    assert_eq!(r.json()["sysadmin_flag"], true);
    for default in ["Harbor12345", "admin", "password"] {
        let r = Client::new(&url).with_basic("admin", default).get(&current);
        assert_eq!(r.status, 401, "no default password ({default})");
    }

    // library exists and is public: anonymous callers read it.
    let r = Client::new(&url).get(&format!("{API}/projects/library"));
    assert_eq!(r.status, 200, "anonymous GET library: {}", r.text());
    let library = r.json();
    assert_eq!(library["name"], "library", "{library}");
    assert_eq!(library["metadata"]["public"], "true", "{library}");
    assert_eq!(library["owner_name"], "admin", "{library}");
    let r = Client::new(&url).get(&format!("{API}/projects"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(names(&r.json(), "name").contains(&"library".to_string()));

    // Restarting prints no password again, and the first one still works.
    b.stop();
    let stderr = b.start();
    std::thread::sleep(Duration::from_millis(200));
    let second = fs::read_to_string(&stderr).unwrap();
    assert!(
        printed_password(&second).is_none() && !second.contains(&password),
        "a restart prints no password:\n{second}"
    );
    let r = Client::new(&url)
        .with_basic("admin", &password)
        .get(&current);
    assert_eq!(
        r.status,
        200,
        "the password survives a restart: {}",
        r.text()
    );
    let r = Client::new(&url)
        .with_basic("admin", "Harbor12345")
        .get(&current);
    assert_eq!(r.status, 401);
    let r = Client::new(&url).get(&format!("{API}/projects/library"));
    assert_eq!(r.status, 200, "{}", r.text());
    b.stop();
}
