//! Harbor's RBAC, end to end against the real binary: who may do what in a project, through
//! the registry (`/v2`, Basic and the token flow) and the management API (`/api/v2.0`).
//!
//! Expectations are derived from Harbor's role table (`RBAC.md` §5; a small copy is below) and
//! its per-operation checks (§7): an operation is allowed exactly when the caller holds the
//! `(resource, action)` pair Harbor checks; a denied anonymous caller gets 401, a denied
//! authenticated caller 403. Tests collect every mismatch before failing, so one run shows all.

mod common;
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const PW: &str = "Passw0rd-1";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

// ---------------------------------------------------------------------------------------------
// Harbor's project role table (RBAC.md §5, from src/common/rbac/project/rbac_role.go).
// Columns: projectAdmin (1), maintainer (4), developer (2), guest (3), limitedGuest (5).
// C=create R=read U=update D=delete L=list op=operate; other words are literal actions.
// ---------------------------------------------------------------------------------------------

const ROLE_TABLE: &[(&str, [&str; 5])] = &[
    ("project", ["R U D", "R", "R", "R", "R"]),
    ("member", ["C R U D L", "R L", "R L", "R L", ""]),
    ("metadata", ["C R U D", "R", "", "", ""]),
    ("log", ["L", "", "", "", ""]),
    ("label", ["C R U D L", "C R U D L", "R L", "R L", ""]),
    ("quota", ["R", "R", "R", "R", "R"]),
    (
        "repository",
        [
            "C R U D L pull push",
            "C R U D L push pull",
            "C R U L push pull",
            "R L pull",
            "L R pull",
        ],
    ),
    (
        "tag-retention",
        ["C R U D L op", "C R U D L op", "C R U D L op", "", ""],
    ),
    ("immutable-tag", ["C U D L", "C U D L", "", "", ""]),
    ("configuration", ["R U", "R", "R", "R", "R"]),
    ("robot", ["C R U D L", "R L", "R L", "R L", ""]),
    ("notification-policy", ["C U D L R", "R L", "", "", ""]),
    ("scan", ["C R stop", "C R stop", "R", "R", "R"]),
    ("sbom", ["C stop R", "C stop R", "R", "R", "R"]),
    ("scanner", ["R C", "R", "R", "R", "R"]),
    ("artifact", ["C R D L", "C R D L", "C R L", "R L", "R L"]),
    ("artifact-addition", ["R", "R", "R", "R", "R"]),
    ("tag", ["L C D", "L C D", "L C", "L", "L"]),
    ("accessory", ["L", "L", "L", "L", "L"]),
    ("artifact-label", ["C D", "C D", "C D", "", ""]),
    ("preheat-policy", ["C R U D L", "", "", "", ""]),
    ("export-cve", ["C R L", "C R L", "C R L", "", ""]),
];

fn expand(abbrev: &str) -> &str {
    match abbrev {
        "C" => "create",
        "R" => "read",
        "U" => "update",
        "D" => "delete",
        "L" => "list",
        "op" => "operate",
        other => other,
    }
}

fn column(role_id: i64) -> usize {
    match role_id {
        1 => 0,
        4 => 1,
        2 => 2,
        3 => 3,
        5 => 4,
        _ => panic!("no role {role_id}"),
    }
}

fn role_can(role_id: i64, resource: &str, action: &str) -> bool {
    ROLE_TABLE.iter().any(|(r, cols)| {
        *r == resource
            && cols[column(role_id)]
                .split_whitespace()
                .any(|a| expand(a) == action)
    })
}

/// Who is calling, as far as permissions go.
#[derive(Clone, Debug)]
enum Kind {
    Anonymous,
    NonMember,
    Role(i64),
    SysAdmin,
    /// A project robot with exactly these (resource, action) grants in the project.
    Robot(&'static [(&'static str, &'static str)]),
}

/// Harbor's evaluator for a *private* project: sysadmin passes all but `scanner-pull`,
/// members get their role's set, robots exactly their grants (push implies pull),
/// everyone else nothing.
fn can(kind: &Kind, resource: &str, action: &str) -> bool {
    match kind {
        Kind::Anonymous | Kind::NonMember => false,
        Kind::SysAdmin => action != "scanner-pull",
        Kind::Role(id) => role_can(*id, resource, action),
        Kind::Robot(grants) => grants.iter().any(|(r, a)| {
            *r == resource
                && (*a == action || (resource == "repository" && action == "pull" && *a == "push"))
        }),
    }
}

#[test]
fn role_table_copy_matches_harbors_policy_counts() {
    // RBAC.md: projectAdmin 75, maintainer 53, developer 36, guest 20, limitedGuest 14.
    let count = |role: i64| -> usize {
        ROLE_TABLE
            .iter()
            .map(|(_, cols)| cols[column(role)].split_whitespace().count())
            .sum()
    };
    assert_eq!(
        [count(1), count(4), count(2), count(3), count(5)],
        [75, 53, 36, 20, 14]
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn send(c: &Client, method: &str, path: &str, body: Option<&Value>) -> Resp {
    match body {
        Some(b) => c.req(
            method,
            path,
            &[("Content-Type", "application/json")],
            Some(&serde_json::to_vec(b).unwrap()),
        ),
        None => c.req(method, path, &[], None),
    }
}

/// Sends and returns "METHOD path" with the response, for reports.
fn call(c: &Client, method: &str, path: &str, body: Option<Value>) -> (String, Resp) {
    let r = send(c, method, path, body.as_ref());
    (format!("{method} {path}"), r)
}

fn ok(r: &Resp) -> bool {
    (200..300).contains(&r.status)
}

fn short(r: &Resp) -> String {
    let t = r.text();
    let t = t.trim();
    if t.len() > 240 {
        format!("{}…", &t[..240])
    } else {
        t.to_string()
    }
}

/// The error code of a Harbor or OCI error body, if any.
fn code(r: &Resp) -> Option<String> {
    serde_json::from_slice::<Value>(&r.body)
        .ok()?
        .get("errors")?
        .get(0)?
        .get("code")?
        .as_str()
        .map(str::to_string)
}

fn create_project(admin: &Client, name: &str, public: bool) -> i64 {
    let r = send(
        admin,
        "POST",
        "/api/v2.0/projects",
        Some(&json!({"project_name": name, "metadata": {"public": public.to_string()}})),
    );
    assert_eq!(r.status, 201, "create project {name}: {}", r.text());
    let r = admin.get(&format!("/api/v2.0/projects/{name}"));
    assert_eq!(r.status, 200, "get project {name}: {}", r.text());
    r.json()["project_id"].as_i64().expect("project_id")
}

fn create_user(admin: &Client, name: &str) {
    let r = send(
        admin,
        "POST",
        "/api/v2.0/users",
        Some(
            &json!({"username": name, "password": PW, "email": format!("{name}@example.com"), "realname": name}),
        ),
    );
    assert_eq!(r.status, 201, "create user {name}: {}", r.text());
}

fn add_member(admin: &Client, project: &str, user: &str, role_id: i64) {
    let r = send(
        admin,
        "POST",
        &format!("/api/v2.0/projects/{project}/members"),
        Some(&json!({"role_id": role_id, "member_user": {"username": user}})),
    );
    assert_eq!(r.status, 201, "add {user} to {project}: {}", r.text());
}

/// The membership id of `user` in `project`.
fn member_id(admin: &Client, project: &str, user: &str) -> i64 {
    let r = admin.get(&format!(
        "/api/v2.0/projects/{project}/members?entityname={user}"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["entity_name"] == user)
        .and_then(|m| m["id"].as_i64())
        .unwrap_or_else(|| panic!("{user} is not a member of {project}: {}", r.text()))
}

struct Robot {
    id: i64,
    name: String,
    secret: String,
}

fn robot_body(project: &str, name: &str, actions: &[&str]) -> Value {
    json!({
        "name": name,
        "description": "",
        "level": "project",
        "duration": -1,
        "disable": false,
        "permissions": [{
            "kind": "project",
            "namespace": project,
            "access": actions.iter().map(|a| json!({"resource": "repository", "action": a})).collect::<Vec<_>>(),
        }],
    })
}

fn create_robot(admin: &Client, project: &str, name: &str, actions: &[&str]) -> Robot {
    let r = send(
        admin,
        "POST",
        "/api/v2.0/robots",
        Some(&robot_body(project, name, actions)),
    );
    assert_eq!(r.status, 201, "create robot {name}: {}", r.text());
    let v = r.json();
    let robot = Robot {
        id: v["id"].as_i64().expect("robot id"),
        name: v["name"].as_str().expect("robot name").to_string(),
        secret: v["secret"].as_str().expect("robot secret").to_string(),
    };
    assert_eq!(robot.name, format!("robot${project}+{name}"));
    robot
}

fn user(s: &Server, name: &str) -> Client {
    Client::new(&s.url()).with_basic(name, PW)
}

fn robot_client(s: &Server, r: &Robot) -> Client {
    Client::new(&s.url()).with_basic(&r.name, &r.secret)
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn token_path(scopes: &[&str]) -> String {
    let mut p = "/service/token?service=harbor-registry".to_string();
    for s in scopes {
        p.push_str("&scope=");
        p.push_str(&enc(s));
    }
    p
}

/// Header and payload of a JWT, decoded without verification.
fn jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {token}");
    let dec = |s: &str| -> Value {
        serde_json::from_slice(&B64.decode(s.trim_end_matches('=')).expect("base64url"))
            .expect("JSON")
    };
    (dec(parts[0]), dec(parts[1]))
}

fn token_of(r: &Resp) -> String {
    r.json()["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {}", r.text()))
        .to_string()
}

/// The actions a token's claims grant on a repository (empty if the repository is absent).
fn granted(payload: &Value, repo: &str) -> BTreeSet<String> {
    payload["access"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|a| a["type"] == "repository" && a["name"] == repo)
                .flat_map(|a| a["actions"].as_array().cloned().unwrap_or_default())
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every action granted for any resource in a token.
fn all_granted(payload: &Value) -> Vec<String> {
    payload["access"]
        .as_array()
        .map(|list| {
            list.iter()
                .flat_map(|a| {
                    let name = a["name"].as_str().unwrap_or("").to_string();
                    a["actions"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |x| format!("{name}:{}", x.as_str().unwrap_or("?")))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A challenge header's `key="value"` parameter.
fn challenge_param(h: &str, key: &str) -> Option<String> {
    let start = h.find(&format!("{key}=\""))? + key.len() + 2;
    let end = h[start..].find('"')? + start;
    Some(h[start..end].to_string())
}

/// Problems with a 401 challenge on /v2 (Harbor: `Bearer realm=…/service/token,
/// service="harbor-registry"[,scope=…]`).
fn challenge_problems(r: &Resp, scope_prefix: Option<&str>) -> Vec<String> {
    let mut p = Vec::new();
    match r.header("WWW-Authenticate") {
        None => p.push("no WWW-Authenticate challenge".to_string()),
        Some(h) => {
            if !h.starts_with("Bearer ") {
                p.push(format!("challenge is not Bearer: {h}"));
            }
            if !challenge_param(h, "realm").is_some_and(|r| r.ends_with("/service/token")) {
                p.push(format!("challenge realm is not …/service/token: {h}"));
            }
            if challenge_param(h, "service").as_deref() != Some("harbor-registry") {
                p.push(format!("challenge service is not harbor-registry: {h}"));
            }
            if let Some(prefix) = scope_prefix {
                if !challenge_param(h, "scope").is_some_and(|s| s.starts_with(prefix)) {
                    p.push(format!("challenge scope does not start with {prefix}: {h}"));
                }
            }
        }
    }
    p
}

/// An OCI image manifest with the given config and layer descriptors.
fn manifest(config: &Value, layers: &[Value], annotations: Option<Value>) -> Vec<u8> {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    });
    if let Some(a) = annotations {
        m["annotations"] = a;
    }
    serde_json::to_vec(&m).unwrap()
}

fn config_desc(data: &[u8]) -> Value {
    json!({"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(data), "size": data.len()})
}

fn layer_desc(data: &[u8]) -> Value {
    json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(data), "size": data.len()})
}

// ---------------------------------------------------------------------------------------------
// 1. The permission matrix
// ---------------------------------------------------------------------------------------------

struct Caller {
    label: &'static str,
    kind: Kind,
    client: Client,
}

/// The object names a caller's operations use (so no two callers touch the same thing).
fn slug(label: &str) -> String {
    label.to_ascii_lowercase()
}

type Run<'a> = Box<dyn Fn(&Caller) -> (String, Resp) + 'a>;

struct Op<'a> {
    name: &'static str,
    resource: &'static str,
    action: &'static str,
    /// A `/v2` operation (error codes DENIED/UNAUTHORIZED with a Bearer challenge) rather
    /// than a management API one (FORBIDDEN/UNAUTHORIZED).
    registry: bool,
    run: Run<'a>,
}

const PULL: &[(&str, &str)] = &[("repository", "pull")];
const PULL_PUSH: &[(&str, &str)] = &[("repository", "pull"), ("repository", "push")];
const PULL_PUSH_DELETE: &[(&str, &str)] = &[
    ("repository", "pull"),
    ("repository", "push"),
    ("repository", "delete"),
];

#[test]
fn every_caller_gets_exactly_what_harbors_role_table_grants_on_a_private_project() {
    let s = Server::start();
    let admin = s.client();
    let pid = create_project(&admin, "p1", false);

    // Members, a non-member, robots.
    let roles: [(&str, i64); 5] = [
        ("projectAdmin", 1),
        ("maintainer", 4),
        ("developer", 2),
        ("guest", 3),
        ("limitedGuest", 5),
    ];
    for (label, role) in roles {
        let name = format!("u-{}", slug(label));
        create_user(&admin, &name);
        add_member(&admin, "p1", &name, role);
    }
    create_user(&admin, "u-nonmember");
    let rb_pull = create_robot(&admin, "p1", "pull", &["pull"]);
    let rb_push = create_robot(&admin, "p1", "push", &["pull", "push"]);
    let rb_delete = create_robot(&admin, "p1", "delete", &["pull", "push", "delete"]);

    let mut callers = vec![
        Caller {
            label: "anonymous",
            kind: Kind::Anonymous,
            client: s.anon(),
        },
        Caller {
            label: "nonMember",
            kind: Kind::NonMember,
            client: user(&s, "u-nonmember"),
        },
    ];
    for (label, role) in roles {
        callers.push(Caller {
            label,
            kind: Kind::Role(role),
            client: user(&s, &format!("u-{}", slug(label))),
        });
    }
    callers.push(Caller {
        label: "sysAdmin",
        kind: Kind::SysAdmin,
        client: s.client(),
    });
    callers.push(Caller {
        label: "robotPull",
        kind: Kind::Robot(PULL),
        client: robot_client(&s, &rb_pull),
    });
    callers.push(Caller {
        label: "robotPush",
        kind: Kind::Robot(PULL_PUSH),
        client: robot_client(&s, &rb_push),
    });
    callers.push(Caller {
        label: "robotDelete",
        kind: Kind::Robot(PULL_PUSH_DELETE),
        client: robot_client(&s, &rb_delete),
    });

    // The image everyone reads, and per-caller objects for the destructive operations.
    let layer = random_bytes(2048, 11);
    let (_v1_digest, v1_manifest) = admin.push_image("p1/app", "v1", &[&layer]);
    let v1: Value = serde_json::from_slice(&v1_manifest).unwrap();
    let v1_config = v1["config"].clone();
    let v1_layer = v1["layers"][0].clone();
    let mut registry_delete_digest: HashMap<&str, String> = HashMap::new();
    let mut artifact_delete_digest: HashMap<&str, String> = HashMap::new();
    for c in &callers {
        let l = slug(c.label);
        let (d, _) = admin.push_image("p1/app", &format!("rd-{l}"), &[]);
        registry_delete_digest.insert(c.label, d);
        let (d, _) = admin.push_image("p1/app", &format!("ad-{l}"), &[]);
        artifact_delete_digest.insert(c.label, d);
        // A second tag on v1, for the tag-delete operation.
        let r = admin.put_manifest("p1/app", &format!("d-{l}"), OCI_MANIFEST, &v1_manifest);
        assert_eq!(r.status, 201, "{}", r.text());
        create_user(&admin, &format!("m-{l}"));
    }

    let ops: Vec<Op> = vec![
        Op {
            name: "registry pull manifest",
            resource: "repository",
            action: "pull",
            registry: true,
            run: Box::new(|c| call(&c.client, "GET", "/v2/p1/app/manifests/v1", None)),
        },
        Op {
            name: "registry pull blob",
            resource: "repository",
            action: "pull",
            registry: true,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "GET",
                    &format!("/v2/p1/app/blobs/{}", v1_layer["digest"].as_str().unwrap()),
                    None,
                )
            }),
        },
        Op {
            name: "registry tags list",
            resource: "repository",
            action: "pull",
            registry: true,
            run: Box::new(|c| call(&c.client, "GET", "/v2/p1/app/tags/list", None)),
        },
        Op {
            name: "registry push blob+manifest",
            resource: "repository",
            action: "push",
            registry: true,
            run: Box::new(|c| {
                let l = slug(c.label);
                let desc = format!(
                    "POST /v2/p1/app/blobs/uploads/, PUT <session>?digest=…, PUT /v2/p1/app/manifests/new-{l}"
                );
                let r = c.client.req("POST", "/v2/p1/app/blobs/uploads/", &[], None);
                if r.status != 202 {
                    return (desc, r);
                }
                let cfg = format!(r#"{{"architecture":"amd64","os":"linux","pushed_by":"{l}"}}"#);
                let loc = r.header("Location").unwrap_or_default().to_string();
                let sep = if loc.contains('?') { '&' } else { '?' };
                let r = c.client.req(
                    "PUT",
                    &format!("{loc}{sep}digest={}", sha256(cfg.as_bytes())),
                    &[("Content-Type", "application/octet-stream")],
                    Some(cfg.as_bytes()),
                );
                if r.status != 201 {
                    return (desc, r);
                }
                let m = manifest(
                    &config_desc(cfg.as_bytes()),
                    std::slice::from_ref(&v1_layer),
                    None,
                );
                let r = c
                    .client
                    .put_manifest("p1/app", &format!("new-{l}"), OCI_MANIFEST, &m);
                (desc, r)
            }),
        },
        Op {
            name: "registry push manifest",
            resource: "repository",
            action: "push",
            registry: true,
            run: Box::new(|c| {
                let l = slug(c.label);
                let m = manifest(
                    &v1_config,
                    std::slice::from_ref(&v1_layer),
                    Some(json!({"pushed.by": l})),
                );
                let path = format!("/v2/p1/app/manifests/m-{l}");
                let r = c
                    .client
                    .req("PUT", &path, &[("Content-Type", OCI_MANIFEST)], Some(&m));
                (format!("PUT {path}"), r)
            }),
        },
        Op {
            name: "registry delete manifest",
            resource: "repository",
            action: "delete",
            registry: true,
            run: Box::new(|c| {
                let d = &registry_delete_digest[c.label];
                call(
                    &c.client,
                    "DELETE",
                    &format!("/v2/p1/app/manifests/{d}"),
                    None,
                )
            }),
        },
        Op {
            name: "api get project",
            resource: "project",
            action: "read",
            registry: false,
            run: Box::new(|c| call(&c.client, "GET", "/api/v2.0/projects/p1", None)),
        },
        Op {
            name: "api get project by id",
            resource: "project",
            action: "read",
            registry: false,
            run: Box::new(move |c| {
                call(&c.client, "GET", &format!("/api/v2.0/projects/{pid}"), None)
            }),
        },
        Op {
            name: "api update project",
            resource: "project",
            action: "update",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "PUT",
                    "/api/v2.0/projects/p1",
                    Some(json!({"metadata": {"auto_scan": "true"}})),
                )
            }),
        },
        Op {
            name: "api list members",
            resource: "member",
            action: "list",
            registry: false,
            run: Box::new(|c| call(&c.client, "GET", "/api/v2.0/projects/p1/members", None)),
        },
        Op {
            name: "api create member",
            resource: "member",
            action: "create",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "POST",
                    "/api/v2.0/projects/p1/members",
                    Some(
                        json!({"role_id": 3, "member_user": {"username": format!("m-{}", slug(c.label))}}),
                    ),
                )
            }),
        },
        Op {
            name: "api list metadata",
            resource: "metadata",
            action: "list",
            registry: false,
            run: Box::new(|c| call(&c.client, "GET", "/api/v2.0/projects/p1/metadatas/", None)),
        },
        Op {
            name: "api get metadata",
            resource: "metadata",
            action: "read",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "GET",
                    "/api/v2.0/projects/p1/metadatas/public",
                    None,
                )
            }),
        },
        Op {
            name: "api list repositories",
            resource: "repository",
            action: "list",
            registry: false,
            run: Box::new(|c| call(&c.client, "GET", "/api/v2.0/projects/p1/repositories", None)),
        },
        Op {
            name: "api get repository",
            resource: "repository",
            action: "read",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "GET",
                    "/api/v2.0/projects/p1/repositories/app",
                    None,
                )
            }),
        },
        Op {
            name: "api list artifacts",
            resource: "artifact",
            action: "list",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "GET",
                    "/api/v2.0/projects/p1/repositories/app/artifacts",
                    None,
                )
            }),
        },
        Op {
            name: "api get artifact",
            resource: "artifact",
            action: "read",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "GET",
                    "/api/v2.0/projects/p1/repositories/app/artifacts/v1",
                    None,
                )
            }),
        },
        Op {
            name: "api delete artifact",
            resource: "artifact",
            action: "delete",
            registry: false,
            run: Box::new(|c| {
                let d = &artifact_delete_digest[c.label];
                call(
                    &c.client,
                    "DELETE",
                    &format!("/api/v2.0/projects/p1/repositories/app/artifacts/{d}"),
                    None,
                )
            }),
        },
        Op {
            name: "api list tags",
            resource: "tag",
            action: "list",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "GET",
                    "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags",
                    None,
                )
            }),
        },
        Op {
            name: "api create tag",
            resource: "tag",
            action: "create",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "POST",
                    "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags",
                    Some(json!({"name": format!("t-{}", slug(c.label))})),
                )
            }),
        },
        Op {
            name: "api delete tag",
            resource: "tag",
            action: "delete",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "DELETE",
                    &format!(
                        "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags/d-{}",
                        slug(c.label)
                    ),
                    None,
                )
            }),
        },
        Op {
            name: "api list project robots",
            resource: "robot",
            action: "list",
            registry: false,
            run: Box::new(|c| call(&c.client, "GET", "/api/v2.0/projects/p1/robots", None)),
        },
        Op {
            name: "api list robots ?q=ProjectID",
            resource: "robot",
            action: "list",
            registry: false,
            run: Box::new(move |c| {
                call(
                    &c.client,
                    "GET",
                    &format!(
                        "/api/v2.0/robots?q={}",
                        enc(&format!("Level=project,ProjectID={pid}"))
                    ),
                    None,
                )
            }),
        },
        Op {
            name: "api create robot",
            resource: "robot",
            action: "create",
            registry: false,
            run: Box::new(|c| {
                call(
                    &c.client,
                    "POST",
                    "/api/v2.0/robots",
                    Some(robot_body("p1", &format!("r-{}", slug(c.label)), &["pull"])),
                )
            }),
        },
        Op {
            name: "api list logs",
            resource: "log",
            action: "list",
            registry: false,
            run: Box::new(|c| call(&c.client, "GET", "/api/v2.0/projects/p1/logs", None)),
        },
    ];

    let started = std::time::Instant::now();
    let mut mismatches: Vec<String> = Vec::new();
    let mut grid: Vec<String> = Vec::new();
    for c in &callers {
        let anonymous = matches!(c.kind, Kind::Anonymous);
        let mut row = format!("{:<13}", c.label);
        for op in &ops {
            let allowed = can(&c.kind, op.resource, op.action);
            let (desc, r) = (op.run)(c);
            row.push_str(&format!(" {}", r.status));
            let mut problems = Vec::new();
            if allowed {
                if !ok(&r) {
                    problems.push("expected 2xx (allowed)".to_string());
                }
            } else {
                let want = if anonymous { 401 } else { 403 };
                if r.status != want {
                    problems.push(format!("expected {want} (denied)"));
                } else {
                    let want_code = match (op.registry, anonymous) {
                        (_, true) => "UNAUTHORIZED",
                        (true, false) => "DENIED",
                        (false, false) => "FORBIDDEN",
                    };
                    if code(&r).as_deref() != Some(want_code) {
                        problems.push(format!("error code {:?}, expected {want_code}", code(&r)));
                    }
                    if op.registry && anonymous {
                        problems.extend(challenge_problems(&r, Some("repository:p1/app:")));
                    }
                }
            }
            if !problems.is_empty() {
                mismatches.push(format!(
                    "{:<13} {:<30} needs {}:{} ({}): {desc} -> {}: {}; body: {}",
                    c.label,
                    op.name,
                    op.resource,
                    op.action,
                    if allowed { "allowed" } else { "denied" },
                    r.status,
                    problems.join("; "),
                    short(&r)
                ));
            }
        }

        // The token service grants every registry action the caller holds (Harbor does not
        // intersect with what was asked for).
        let (desc, r) = call(
            &c.client,
            "GET",
            &token_path(&["repository:p1/app:pull"]),
            None,
        );
        let want: BTreeSet<String> = ["pull", "push", "delete"]
            .into_iter()
            .filter(|a| can(&c.kind, "repository", a))
            .map(str::to_string)
            .collect();
        if r.status != 200 {
            mismatches.push(format!(
                "{:<13} {:<30} {desc} -> {}, expected 200 with actions {want:?}; body: {}",
                c.label,
                "token grant",
                r.status,
                short(&r)
            ));
        } else {
            let got = granted(&jwt(&token_of(&r)).1, "p1/app");
            if got != want {
                mismatches.push(format!(
                    "{:<13} {:<30} {desc} -> token grants {got:?} on p1/app, expected {want:?}",
                    c.label, "token grant"
                ));
            }
        }
        grid.push(row);
    }
    // What the writes left behind: an allowed write took effect, a refused one changed nothing.
    let exists = |reference: &str| -> bool {
        let r = admin.get(&format!("/v2/p1/app/manifests/{reference}"));
        assert!(
            r.status == 200 || r.status == 404,
            "GET manifest {reference}: {} {}",
            r.status,
            r.text()
        );
        r.status == 200
    };
    let members = admin
        .get("/api/v2.0/projects/p1/members?page_size=100")
        .text();
    let robots = admin
        .get(&format!(
            "/api/v2.0/robots?page_size=100&q={}",
            enc(&format!("Level=project,ProjectID={pid}"))
        ))
        .text();
    for c in &callers {
        let l = slug(c.label);
        let k = &c.kind;
        let effects: Vec<(&str, bool, bool)> = vec![
            // (what, should exist afterwards, does exist)
            (
                "manifest rd-* deleted by registry delete",
                !can(k, "repository", "delete"),
                exists(&registry_delete_digest[c.label]),
            ),
            (
                "artifact ad-* deleted by api delete artifact",
                !can(k, "artifact", "delete"),
                exists(&artifact_delete_digest[c.label]),
            ),
            (
                "tag d-* deleted by api delete tag",
                !can(k, "tag", "delete"),
                exists(&format!("d-{l}")),
            ),
            (
                "tag t-* created by api create tag",
                can(k, "tag", "create"),
                exists(&format!("t-{l}")),
            ),
            (
                "tag new-* pushed by registry push",
                can(k, "repository", "push"),
                exists(&format!("new-{l}")),
            ),
            (
                "tag m-* pushed by registry push manifest",
                can(k, "repository", "push"),
                exists(&format!("m-{l}")),
            ),
            (
                "member m-* added by api create member",
                can(k, "member", "create"),
                members.contains(&format!("\"m-{l}\"")),
            ),
            (
                "robot r-* created by api create robot",
                can(k, "robot", "create"),
                robots.contains(&format!("robot$p1+r-{l}\"")),
            ),
        ];
        for (what, want, got) in effects {
            if want != got {
                mismatches.push(format!(
                    "{:<13} afterwards: {what}: expected {} but it {}",
                    c.label,
                    if want { "present" } else { "absent" },
                    if got { "is present" } else { "is absent" }
                ));
            }
        }
    }
    assert!(exists("v1"), "v1 survived");

    eprintln!(
        "observed statuses (ops: {}):\n{}",
        ops.iter().map(|o| o.name).collect::<Vec<_>>().join(" | "),
        grid.join("\n")
    );
    eprintln!("matrix ran in {:?}", started.elapsed());
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es) between the server and Harbor's role table:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Isolation between private projects
// ---------------------------------------------------------------------------------------------

struct Checks {
    failures: Vec<String>,
}

impl Checks {
    fn new() -> Checks {
        Checks {
            failures: Vec::new(),
        }
    }
    fn check(&mut self, cond: bool, what: impl Into<String>) {
        if !cond {
            self.failures.push(what.into());
        }
    }
    /// `r` must have one of `statuses`.
    fn status(&mut self, who: &str, desc: &str, r: &Resp, statuses: &[u16]) {
        self.check(
            statuses.contains(&r.status),
            format!(
                "{who}: {desc} -> {}, expected {statuses:?}; body: {}",
                r.status,
                short(r)
            ),
        );
    }
    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} failure(s):\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

#[test]
fn a_user_or_robot_of_one_private_project_cannot_read_list_mount_or_write_another() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "alpha", false);
    let bravo_id = create_project(&admin, "bravo", false);
    create_user(&admin, "ua");
    add_member(&admin, "alpha", "ua", 1); // project admin of alpha: the most a member can be
    create_user(&admin, "ub");
    add_member(&admin, "bravo", "ub", 2);
    let ub_mid = member_id(&admin, "bravo", "ub");
    let robot_a = create_robot(&admin, "alpha", "ci", &["pull", "push", "delete"]);
    let robot_b = create_robot(&admin, "bravo", "ci", &["pull"]);

    // bravo's content: an image, a referrer of it, and a secret layer.
    let secret_layer = random_bytes(4096, 77);
    let secret_digest = sha256(&secret_layer);
    let (bravo_digest, bravo_manifest) = admin.push_image("bravo/x", "v1", &[&secret_layer]);
    let bravo_v: Value = serde_json::from_slice(&bravo_manifest).unwrap();
    let bravo_config = bravo_v["config"].clone();
    let referrer = {
        let mut m: Value = serde_json::from_slice(&manifest(&bravo_config, &[], None)).unwrap();
        m["artifactType"] = json!("application/vnd.example.sbom");
        m["subject"] = json!({"mediaType": OCI_MANIFEST, "digest": bravo_digest, "size": bravo_manifest.len()});
        serde_json::to_vec(&m).unwrap()
    };
    let r = admin.put_manifest("bravo/x", &sha256(&referrer), OCI_MANIFEST, &referrer);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = admin.get(&format!("/v2/bravo/x/referrers/{bravo_digest}"));
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains(&sha256(&referrer)),
        "referrer listed for admin"
    );
    admin.push_image("alpha/r", "v1", &[&random_bytes(2048, 78)]);

    let mut ck = Checks::new();
    let outsiders: Vec<(&str, Client)> = vec![
        ("ua (alpha projectAdmin)", user(&s, "ua")),
        (
            "robot$alpha+ci (pull,push,delete)",
            robot_client(&s, &robot_a),
        ),
    ];

    for (who, c) in &outsiders {
        // --- /v2 reads: refused, and refused the same way as for a project that doesn't exist.
        let reads: Vec<(&str, String)> = vec![
            ("GET", "/v2/{p}/x/manifests/v1".into()),
            ("HEAD", "/v2/{p}/x/manifests/v1".into()),
            ("GET", format!("/v2/{{p}}/x/manifests/{bravo_digest}")),
            ("GET", "/v2/{p}/x/tags/list".into()),
            ("GET", format!("/v2/{{p}}/x/referrers/{bravo_digest}")),
            ("GET", format!("/v2/{{p}}/x/blobs/{secret_digest}")),
            ("HEAD", format!("/v2/{{p}}/x/blobs/{secret_digest}")),
        ];
        for (method, tmpl) in &reads {
            let path_b = tmpl.replace("{p}", "bravo");
            let path_c = tmpl.replace("{p}", "charlie");
            let rb = c.req(method, &path_b, &[], None);
            let rc = c.req(method, &path_c, &[], None);
            ck.status(who, &format!("{method} {path_b}"), &rb, &[403, 401]);
            if *method == "GET" && rb.status == 403 {
                ck.check(
                    code(&rb).as_deref() == Some("DENIED"),
                    format!(
                        "{who}: {method} {path_b} -> 403 with code {:?}, expected DENIED",
                        code(&rb)
                    ),
                );
            }
            ck.check(
                rb.status == rc.status,
                format!(
                    "{who}: {method} {path_b} -> {} but {method} {path_c} (no such project) -> {}: existence leaks",
                    rb.status, rc.status
                ),
            );
            ck.check(
                !rb.text()
                    .contains(&bravo_config["digest"].as_str().unwrap().to_string())
                    && rb.header("Docker-Content-Digest").is_none(),
                format!("{who}: {method} {path_b} leaks content: {}", short(&rb)),
            );
        }

        // --- /v2 writes into bravo.
        let r = c.req("POST", "/v2/bravo/x/blobs/uploads/", &[], None);
        ck.status(who, "POST /v2/bravo/x/blobs/uploads/", &r, &[403, 401]);
        let r = c.req(
            "POST",
            &format!("/v2/bravo/x/blobs/uploads/?digest={}", sha256(b"evil")),
            &[("Content-Type", "application/octet-stream")],
            Some(b"evil"),
        );
        ck.status(
            who,
            "POST /v2/bravo/x/blobs/uploads/?digest= (monolithic)",
            &r,
            &[403, 401],
        );
        let evil = manifest(&bravo_config, &[], Some(json!({"evil": "yes"})));
        let r = c.put_manifest("bravo/x", "evil", OCI_MANIFEST, &evil);
        ck.status(who, "PUT /v2/bravo/x/manifests/evil", &r, &[403, 401]);
        let r = c.req(
            "DELETE",
            &format!("/v2/bravo/x/manifests/{bravo_digest}"),
            &[],
            None,
        );
        ck.status(
            who,
            "DELETE /v2/bravo/x/manifests/<digest>",
            &r,
            &[403, 401],
        );
        let r = c.req(
            "DELETE",
            &format!("/v2/bravo/x/blobs/{secret_digest}"),
            &[],
            None,
        );
        ck.status(who, "DELETE /v2/bravo/x/blobs/<digest>", &r, &[403, 401]);

        // --- Cross-repository mount from bravo into alpha: a new session (202), never 201.
        let path = format!("/v2/alpha/r/blobs/uploads/?mount={secret_digest}&from=bravo/x");
        let r = c.req("POST", &path, &[], None);
        ck.status(who, &format!("POST {path}"), &r, &[202]);
        ck.check(
            r.header("Location")
                .is_some_and(|l| l.contains("/blobs/uploads/")),
            format!(
                "{who}: POST {path} -> Location {:?} is not an upload session",
                r.header("Location")
            ),
        );
        let path = format!("/v2/alpha/r/blobs/uploads/?mount={secret_digest}");
        let r = c.req("POST", &path, &[], None);
        ck.status(who, &format!("POST {path} (no from)"), &r, &[202]);
        // A manifest in alpha naming bravo's blobs must not make them alpha's.
        let steal = manifest(
            &bravo_config,
            &[layer_desc(&secret_layer)],
            Some(json!({"steal": who.to_string()})),
        );
        let r = c.put_manifest("alpha/r", "steal", OCI_MANIFEST, &steal);
        ck.status(
            who,
            "PUT /v2/alpha/r/manifests/steal (naming bravo's blobs)",
            &r,
            &[400],
        );
        // A monolithic upload claiming bravo's digest with no bytes.
        let path = format!("/v2/alpha/r/blobs/uploads/?digest={secret_digest}");
        let r = c.req(
            "POST",
            &path,
            &[("Content-Type", "application/octet-stream")],
            Some(b""),
        );
        ck.check(
            r.status != 201,
            format!("{who}: POST {path} with an empty body -> 201: bravo's blob claimed without its bytes"),
        );
        for method in ["GET", "HEAD"] {
            let path = format!("/v2/alpha/r/blobs/{secret_digest}");
            let r = c.req(method, &path, &[], None);
            ck.status(
                who,
                &format!("{method} {path} after the mount attempts"),
                &r,
                &[404],
            );
            let r = admin.req(method, &path, &[], None);
            ck.status(
                "admin",
                &format!("{method} {path} after {who}'s mount attempts"),
                &r,
                &[404],
            );
        }

        // --- Catalog.
        let r = c.get("/v2/_catalog");
        ck.check(
            (r.status == 200 && !r.text().contains("bravo")) || [401, 403].contains(&r.status),
            format!(
                "{who}: GET /v2/_catalog -> {} {}: must list no bravo repository",
                r.status,
                short(&r)
            ),
        );
        if r.status == 200 {
            ck.check(
                r.text().contains("alpha/r"),
                format!(
                    "{who}: GET /v2/_catalog lists not even alpha/r: {}",
                    short(&r)
                ),
            );
        }

        // --- Token service: crafted scopes grant nothing in bravo.
        let crafted: Vec<Vec<&str>> = vec![
            vec!["repository:bravo/x:pull,push"],
            vec!["repository:bravo/x:pull,push,delete,*"],
            vec!["repository:bravo/x:*"],
            vec!["repository:bravo/x:pull repository:alpha/r:pull"],
            vec!["repository:alpha/r:pull,push", "repository:bravo/x:pull"],
            vec!["repository:alpha/../bravo/x:pull"],
            vec!["repository:alpha/r/../../bravo/x:pull"],
            vec!["repository:bravo/x:pull,push:extra"],
            vec!["registry:catalog:*"],
        ];
        for scopes in &crafted {
            let path = token_path(scopes);
            let r = c.get(&path);
            if r.status != 200 {
                // Refusing a crafted scope outright is fine too, as long as no token results.
                ck.status(who, &format!("GET {path}"), &r, &[400, 401, 403]);
                continue;
            }
            let (_, payload) = jwt(&token_of(&r));
            let leaked: Vec<String> = all_granted(&payload)
                .into_iter()
                .filter(|g| !g.starts_with("alpha/r:"))
                .collect();
            ck.check(
                leaked.is_empty(),
                format!("{who}: GET {path} -> token grants {leaked:?} outside alpha"),
            );
            let tc = Client::new(&s.url()).with_bearer(&token_of(&r));
            for (method, p) in [
                ("GET", "/v2/bravo/x/manifests/v1".to_string()),
                ("GET", format!("/v2/bravo/x/blobs/{secret_digest}")),
                ("GET", "/v2/bravo/x/tags/list".to_string()),
                ("POST", "/v2/bravo/x/blobs/uploads/".to_string()),
            ] {
                let r2 = tc.req(method, &p, &[], None);
                ck.status(
                    who,
                    &format!("{method} {p} with the token from {scopes:?}"),
                    &r2,
                    &[401],
                );
            }
            if scopes.iter().any(|s| s.contains("alpha/r:pull,push")) {
                // The token can push to alpha: mounting from bravo must still open a session.
                let p = format!("/v2/alpha/r/blobs/uploads/?mount={secret_digest}&from=bravo/x");
                let r2 = tc.req("POST", &p, &[], None);
                ck.status(
                    who,
                    &format!("POST {p} with a token for alpha/r push + bravo/x pull"),
                    &r2,
                    &[202],
                );
                let p = format!("/v2/alpha/r/blobs/{secret_digest}");
                let r2 = tc.req("GET", &p, &[], None);
                ck.status(
                    who,
                    &format!("GET {p} with that token after the mount"),
                    &r2,
                    &[404],
                );
            }
            if scopes == &vec!["registry:catalog:*"] {
                let r2 = tc.get("/v2/_catalog");
                ck.check(
                    (r2.status == 200 && !r2.text().contains("bravo"))
                        || [401, 403].contains(&r2.status),
                    format!(
                        "{who}: GET /v2/_catalog with a catalog token -> {} {}",
                        r2.status,
                        short(&r2)
                    ),
                );
            }
        }

        // --- Management API reads: no bravo data, and the same answer as for no project.
        let api_reads: Vec<(String, String)> = vec![
            (
                "/api/v2.0/projects/bravo".into(),
                "/api/v2.0/projects/charlie".into(),
            ),
            (
                format!("/api/v2.0/projects/{bravo_id}"),
                "/api/v2.0/projects/987654".into(),
            ),
            (
                "/api/v2.0/projects/bravo/summary".into(),
                "/api/v2.0/projects/charlie/summary".into(),
            ),
            (
                "/api/v2.0/projects/bravo/repositories".into(),
                "/api/v2.0/projects/charlie/repositories".into(),
            ),
            (
                "/api/v2.0/projects/bravo/repositories/x".into(),
                "/api/v2.0/projects/charlie/repositories/x".into(),
            ),
            (
                "/api/v2.0/projects/bravo/repositories/x/artifacts".into(),
                "/api/v2.0/projects/charlie/repositories/x/artifacts".into(),
            ),
            (
                "/api/v2.0/projects/bravo/repositories/x/artifacts/v1".into(),
                "/api/v2.0/projects/charlie/repositories/x/artifacts/v1".into(),
            ),
            (
                "/api/v2.0/projects/bravo/repositories/x/artifacts/v1/tags".into(),
                "/api/v2.0/projects/charlie/repositories/x/artifacts/v1/tags".into(),
            ),
            (
                "/api/v2.0/projects/bravo/members".into(),
                "/api/v2.0/projects/charlie/members".into(),
            ),
            (
                format!("/api/v2.0/projects/bravo/members/{ub_mid}"),
                format!("/api/v2.0/projects/charlie/members/{ub_mid}"),
            ),
            (
                "/api/v2.0/projects/bravo/metadatas/".into(),
                "/api/v2.0/projects/charlie/metadatas/".into(),
            ),
            (
                "/api/v2.0/projects/bravo/robots".into(),
                "/api/v2.0/projects/charlie/robots".into(),
            ),
            (
                "/api/v2.0/projects/bravo/logs".into(),
                "/api/v2.0/projects/charlie/logs".into(),
            ),
            (
                format!(
                    "/api/v2.0/robots?q={}",
                    enc(&format!("Level=project,ProjectID={bravo_id}"))
                ),
                format!(
                    "/api/v2.0/robots?q={}",
                    enc("Level=project,ProjectID=987654")
                ),
            ),
        ];
        for (pb, pc) in &api_reads {
            let rb = c.get(pb);
            let rc = c.get(pc);
            ck.status(who, &format!("GET {pb}"), &rb, &[403]);
            ck.check(
                rb.status == rc.status,
                format!(
                    "{who}: GET {pb} -> {} but GET {pc} (no such project) -> {}: existence leaks",
                    rb.status, rc.status
                ),
            );
            ck.check(
                !ok(&rb),
                format!("{who}: GET {pb} -> {}: {}", rb.status, short(&rb)),
            );
        }
        let r = c.get("/api/v2.0/projects?page_size=100");
        ck.check(
            r.status == 200 && !r.text().contains("bravo"),
            format!(
                "{who}: GET /api/v2.0/projects -> {} lists bravo: {}",
                r.status,
                short(&r)
            ),
        );
        let r = c.get("/api/v2.0/projects?name=bravo");
        ck.check(
            r.status == 200 && r.json().as_array().is_some_and(|a| a.is_empty()),
            format!(
                "{who}: GET /api/v2.0/projects?name=bravo -> {} {}",
                r.status,
                short(&r)
            ),
        );
        let r = c.get("/api/v2.0/search?q=bravo");
        ck.status(who, "GET /api/v2.0/search?q=bravo", &r, &[200]);
        ck.check(
            !r.text().contains("bravo"),
            format!(
                "{who}: GET /api/v2.0/search?q=bravo leaks bravo: {}",
                short(&r)
            ),
        );
        let r = c.get("/api/v2.0/search?q=x");
        ck.check(
            !r.text().contains("bravo"),
            format!("{who}: GET /api/v2.0/search?q=x leaks bravo: {}", short(&r)),
        );
        if who.starts_with("ua") {
            // Harbor's search is open to every caller and filtered to what it may see: for a
            // local user, public projects and its own (search.go); for others, public only.
            let r = c.get("/api/v2.0/search?q=alpha");
            ck.check(
                r.status == 200
                    && r.json()["project"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|p| p["name"] == "alpha")),
                format!("{who}: GET /api/v2.0/search?q=alpha -> {} should find its own project alpha: {}", r.status, short(&r)),
            );
        }

        // --- Management API writes into bravo.
        let writes: Vec<(&str, String, Option<Value>)> = vec![
            (
                "PUT",
                "/api/v2.0/projects/bravo".into(),
                Some(json!({"metadata": {"public": "true"}})),
            ),
            ("DELETE", "/api/v2.0/projects/bravo".into(), None),
            (
                "POST",
                "/api/v2.0/projects/bravo/metadatas/".into(),
                Some(json!({"auto_scan": "true"})),
            ),
            (
                "POST",
                "/api/v2.0/projects/bravo/members".into(),
                Some(json!({"role_id": 1, "member_user": {"username": "ua"}})),
            ),
            (
                "PUT",
                format!("/api/v2.0/projects/bravo/members/{ub_mid}"),
                Some(json!({"role_id": 1})),
            ),
            (
                "DELETE",
                format!("/api/v2.0/projects/bravo/members/{ub_mid}"),
                None,
            ),
            (
                "DELETE",
                "/api/v2.0/projects/bravo/repositories/x".into(),
                None,
            ),
            (
                "DELETE",
                format!("/api/v2.0/projects/bravo/repositories/x/artifacts/{bravo_digest}"),
                None,
            ),
            (
                "POST",
                "/api/v2.0/projects/bravo/repositories/x/artifacts/v1/tags".into(),
                Some(json!({"name": "evil"})),
            ),
            (
                "DELETE",
                "/api/v2.0/projects/bravo/repositories/x/artifacts/v1/tags/v1".into(),
                None,
            ),
            (
                "POST",
                "/api/v2.0/robots".into(),
                Some(robot_body("bravo", "evil", &["pull", "push"])),
            ),
            ("GET", format!("/api/v2.0/robots/{}", robot_b.id), None),
            (
                "PUT",
                format!("/api/v2.0/robots/{}", robot_b.id),
                Some({
                    let mut b = robot_body("bravo", "ci", &["pull", "push", "delete"]);
                    b["name"] = json!(robot_b.name);
                    b
                }),
            ),
            (
                "PATCH",
                format!("/api/v2.0/robots/{}", robot_b.id),
                Some(json!({"secret": "Stolen-Secret-1"})),
            ),
            ("DELETE", format!("/api/v2.0/robots/{}", robot_b.id), None),
        ];
        for (method, path, body) in writes {
            let r = send(c, method, &path, body.as_ref());
            ck.status(who, &format!("{method} {path}"), &r, &[403]);
        }
        // bravo's membership ids through alpha's paths (where `who` may manage members).
        for (method, body) in [
            ("GET", None),
            ("PUT", Some(json!({"role_id": 1}))),
            ("DELETE", None),
        ] {
            let path = format!("/api/v2.0/projects/alpha/members/{ub_mid}");
            let r = send(c, method, &path, body.as_ref());
            ck.check(
                !ok(&r),
                format!(
                    "{who}: {method} {path} (bravo's membership id via alpha) -> {}: {}",
                    r.status,
                    short(&r)
                ),
            );
        }
    }

    // Anonymous: the same 401 for bravo and for no project.
    let anon = s.anon();
    for (pb, pc) in [
        ("/v2/bravo/x/manifests/v1", "/v2/charlie/x/manifests/v1"),
        ("/v2/bravo/x/tags/list", "/v2/charlie/x/tags/list"),
        ("/api/v2.0/projects/bravo", "/api/v2.0/projects/charlie"),
        (
            "/api/v2.0/projects/bravo/repositories",
            "/api/v2.0/projects/charlie/repositories",
        ),
    ] {
        let rb = anon.get(pb);
        let rc = anon.get(pc);
        ck.status("anonymous", &format!("GET {pb}"), &rb, &[401]);
        ck.check(
            rb.status == rc.status,
            format!(
                "anonymous: GET {pb} -> {} but GET {pc} -> {}",
                rb.status, rc.status
            ),
        );
    }
    let r = anon.get(&token_path(&["repository:bravo/x:pull"]));
    if r.status == 200 {
        let g = granted(&jwt(&token_of(&r)).1, "bravo/x");
        ck.check(
            g.is_empty(),
            format!("anonymous token grants {g:?} on bravo/x"),
        );
    }

    // Auto-creation on push is for users only: a robot or an anonymous caller pushing to a
    // project that doesn't exist is refused and creates nothing.
    let robot = robot_client(&s, &robot_a);
    let r = robot.req("POST", "/v2/delta/x/blobs/uploads/", &[], None);
    ck.status(
        "robot$alpha+ci",
        "POST /v2/delta/x/blobs/uploads/ (no such project)",
        &r,
        &[403, 401],
    );
    let r = robot.get(&token_path(&["repository:echo/x:pull,push"]));
    if r.status == 200 {
        let g = all_granted(&jwt(&token_of(&r)).1);
        ck.check(
            g.is_empty(),
            format!("robot token for echo/x (no such project) grants {g:?}"),
        );
    }
    let r = anon.req("POST", "/v2/foxtrot/x/blobs/uploads/", &[], None);
    ck.status(
        "anonymous",
        "POST /v2/foxtrot/x/blobs/uploads/ (no such project)",
        &r,
        &[401],
    );
    let r = anon.get(&token_path(&["repository:golf/x:pull,push"]));
    if r.status == 200 {
        let g = all_granted(&jwt(&token_of(&r)).1);
        ck.check(
            g.is_empty(),
            format!("anonymous token for golf/x (no such project) grants {g:?}"),
        );
    }
    for p in ["delta", "echo", "foxtrot", "golf"] {
        let r = admin.get(&format!("/api/v2.0/projects/{p}"));
        ck.status(
            "admin",
            &format!("GET /api/v2.0/projects/{p} (must not have been created)"),
            &r,
            &[404],
        );
    }

    // Nothing in bravo changed.
    let r = admin.get("/v2/bravo/x/manifests/v1");
    ck.status(
        "admin",
        "GET /v2/bravo/x/manifests/v1 at the end",
        &r,
        &[200],
    );
    ck.check(
        r.header("Docker-Content-Digest") == Some(bravo_digest.as_str()),
        "bravo/x:v1 changed",
    );
    let r = admin.get("/v2/bravo/x/tags/list");
    ck.check(
        r.json()["tags"] == json!(["v1"]),
        format!("bravo/x tags changed: {}", r.text()),
    );
    let r = admin.get(&format!("/api/v2.0/projects/bravo/members/{ub_mid}"));
    ck.check(
        r.status == 200 && r.json()["role_id"] == 2,
        format!(
            "ub's membership in bravo changed: {} {}",
            r.status,
            r.text()
        ),
    );
    let r = admin.get("/api/v2.0/projects/bravo/members");
    ck.check(
        r.status == 200 && !r.text().contains("\"ua\""),
        format!("ua became a member of bravo: {}", r.text()),
    );
    let r = admin.get("/api/v2.0/projects/bravo");
    ck.check(
        r.status == 200 && r.json()["metadata"]["public"] == "false",
        format!("bravo's metadata changed: {}", r.text()),
    );
    let r = robot_client(&s, &robot_b).get("/v2/bravo/x/manifests/v1");
    ck.status(
        "robot$bravo+ci",
        "GET /v2/bravo/x/manifests/v1 (its own secret still works)",
        &r,
        &[200],
    );
    let r = admin.get(&format!("/api/v2.0/robots/{}", robot_b.id));
    ck.check(
        r.status == 200
            && r.json()["permissions"][0]["access"]
                .as_array()
                .map(|a| a.len())
                == Some(1),
        format!("robot$bravo+ci changed: {} {}", r.status, r.text()),
    );
    ck.finish();
}

// ---------------------------------------------------------------------------------------------
// 3. Anonymous access to a public project
// ---------------------------------------------------------------------------------------------

#[test]
fn anonymous_pulls_a_public_project_through_the_token_flow_and_cannot_push() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "pub", true);
    create_project(&admin, "priv", false);
    let layer = random_bytes(3000, 5);
    let (digest, manifest_bytes) = admin.push_image("pub/app", "v1", &[&layer]);
    admin.push_image("priv/app", "v1", &[&random_bytes(100, 6)]);
    let anon = s.anon();

    // GET /v2/ → 401 with a challenge naming the token service.
    let r = anon.get("/v2/");
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(challenge_problems(&r, None), Vec::<String>::new());
    let challenge = r.header("WWW-Authenticate").unwrap().to_string();
    let realm = challenge_param(&challenge, "realm").unwrap();
    let service = challenge_param(&challenge, "service").unwrap();

    // The token, anonymously, for pull.
    let url = format!(
        "{realm}?service={service}&scope={}",
        enc("repository:pub/app:pull")
    );
    let r = anon.get(&url);
    assert_eq!(
        r.status,
        200,
        "anonymous token for a public pull: {}",
        r.text()
    );
    let token = token_of(&r);
    let (_, payload) = jwt(&token);
    assert_eq!(granted(&payload, "pub/app"), set(&["pull"]), "{payload}");
    let bearer = Client::new(&s.url()).with_bearer(&token);
    let r = bearer.get("/v2/pub/app/manifests/v1");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, manifest_bytes);
    assert_eq!(r.header("Docker-Content-Digest"), Some(digest.as_str()));
    let r = bearer.get(&format!("/v2/pub/app/blobs/{}", sha256(&layer)));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, layer);
    let r = bearer.get("/v2/pub/app/tags/list");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tags"], json!(["v1"]));

    // Push is refused: directly (401 + challenge asking for push), and the token service
    // grants an anonymous caller no push even when asked.
    let r = anon.req("POST", "/v2/pub/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 401, "{}", r.text());
    let problems = challenge_problems(&r, Some("repository:pub/app:"));
    assert!(problems.is_empty(), "{problems:?}");
    let scope = challenge_param(r.header("WWW-Authenticate").unwrap(), "scope").unwrap();
    assert!(
        scope.contains("push"),
        "challenge scope {scope} should ask for push"
    );
    let r = anon.get(&format!("{realm}?service={service}&scope={}", enc(&scope)));
    assert_eq!(r.status, 200, "{}", r.text());
    let push_token = token_of(&r);
    assert_eq!(granted(&jwt(&push_token).1, "pub/app"), set(&["pull"]));
    let t = Client::new(&s.url()).with_bearer(&push_token);
    let r = t.req("POST", "/v2/pub/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 401, "push with an anonymous token: {}", r.text());
    let r = t.put_manifest("pub/app", "evil", OCI_MANIFEST, &manifest_bytes);
    assert_eq!(r.status, 401, "{}", r.text());
    let r = t.req(
        "DELETE",
        &format!("/v2/pub/app/manifests/{digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text());
    let r = anon.req(
        "DELETE",
        &format!("/v2/pub/app/manifests/{digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text());
    let r = admin.get("/v2/pub/app/tags/list");
    assert_eq!(
        r.json()["tags"],
        json!(["v1"]),
        "nothing was pushed or deleted"
    );

    // A private project gives an anonymous token nothing.
    let r = anon.get(&token_path(&["repository:priv/app:pull"]));
    assert_eq!(r.status, 200, "{}", r.text());
    let priv_token = token_of(&r);
    assert!(granted(&jwt(&priv_token).1, "priv/app").is_empty());
    let r = Client::new(&s.url())
        .with_bearer(&priv_token)
        .get("/v2/priv/app/manifests/v1");
    assert_eq!(r.status, 401, "{}", r.text());

    // An authenticated non-member may pull the public project but not push to it.
    create_user(&admin, "outsider");
    let o = user(&s, "outsider");
    let r = o.get("/v2/pub/app/manifests/v1");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = o.req("POST", "/v2/pub/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.error_code(), "DENIED");
    let r = o.get(&token_path(&["repository:pub/app:pull,push"]));
    assert_eq!(granted(&jwt(&token_of(&r)).1, "pub/app"), set(&["pull"]));

    // The management API: the public-project set (project read, repository list) and no more.
    let r = anon.get("/api/v2.0/projects/pub");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = anon.get("/api/v2.0/projects/pub/repositories");
    assert_eq!(
        r.status,
        200,
        "anonymous may list a public project's repositories: {}",
        r.text()
    );
    let r = anon.get("/api/v2.0/projects/pub/members");
    assert_eq!(r.status, 401, "{}", r.text());
    let r = send(
        &anon,
        "PUT",
        "/api/v2.0/projects/pub",
        Some(&json!({"metadata": {"public": "false"}})),
    );
    assert_eq!(r.status, 401, "{}", r.text());
    let r = anon.get("/api/v2.0/projects");
    assert_eq!(r.status, 200);
    let names: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    assert!(names.contains(&"pub".to_string()), "{names:?}");
    assert!(!names.contains(&"priv".to_string()), "{names:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Registry tokens
// ---------------------------------------------------------------------------------------------

#[test]
fn tokens_carry_harbors_claims_and_forged_or_unsigned_tokens_are_refused() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "p1", false);
    create_user(&admin, "dev");
    add_member(&admin, "p1", "dev", 2);
    create_user(&admin, "gst");
    add_member(&admin, "p1", "gst", 3);
    admin.push_image("p1/app", "v1", &[&random_bytes(500, 9)]);
    let dev = user(&s, "dev");

    // Claims.
    let r = dev.get(&token_path(&["repository:p1/app:pull"]));
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["expires_in"], 1800, "{body}");
    assert!(
        body["issued_at"].as_str().is_some_and(|t| t.contains('T')),
        "{body}"
    );
    let token = token_of(&r);
    let (header, payload) = jwt(&token);
    assert!(
        header["alg"].is_string() && header["alg"] != "none",
        "{header}"
    );
    assert!(
        header["kid"].is_string(),
        "Harbor's tokens carry a kid: {header}"
    );
    assert_eq!(payload["iss"], "harbor-token-issuer", "{payload}");
    assert_eq!(payload["aud"], "harbor-registry", "{payload}");
    assert_eq!(payload["sub"], "dev", "{payload}");
    let (iat, exp) = (
        payload["iat"].as_i64().unwrap(),
        payload["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 1800, "{payload}");
    assert!(
        payload["nbf"].as_i64().is_some_and(|n| n <= iat),
        "{payload}"
    );
    assert!(
        payload["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{payload}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((iat - now).abs() < 60, "iat {iat} vs now {now}");
    assert_eq!(
        payload["access"],
        json!([{"type": "repository", "name": "p1/app", "actions": payload["access"][0]["actions"]}]),
        "{payload}"
    );
    assert_eq!(
        granted(&payload, "p1/app"),
        set(&["pull", "push"]),
        "{payload}"
    );

    // The genuine token works (the control for what follows).
    let ok_client = Client::new(&s.url()).with_bearer(&token);
    let r = ok_client.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 200, "{}", r.text());

    // Forgeries.
    let parts: Vec<&str> = token.split('.').collect();
    let enc_json = |v: &Value| B64.encode(serde_json::to_vec(v).unwrap());
    let mut escalated = payload.clone();
    escalated["access"] =
        json!([{"type": "repository", "name": "p1/app", "actions": ["pull", "push", "delete"]}]);
    let mut as_admin = payload.clone();
    as_admin["sub"] = json!("admin");
    let mut later = payload.clone();
    later["exp"] = json!(exp + 86_400);
    let none_header = json!({"alg": "none", "typ": "JWT"});
    let mut hs_header = header.clone();
    hs_header["alg"] = json!("HS256");
    let other = token_of(&user(&s, "gst").get(&token_path(&["repository:p1/app:pull"])));
    let other_sig = other.split('.').nth(2).unwrap().to_string();
    let mut flipped_sig = parts[2].to_string().into_bytes();
    flipped_sig[5] = if flipped_sig[5] == b'A' { b'B' } else { b'A' };
    let flipped_sig = String::from_utf8(flipped_sig).unwrap();
    let forged: Vec<(&str, String)> = vec![
        (
            "payload escalated to delete",
            format!("{}.{}.{}", parts[0], enc_json(&escalated), parts[2]),
        ),
        (
            "payload sub changed to admin",
            format!("{}.{}.{}", parts[0], enc_json(&as_admin), parts[2]),
        ),
        (
            "payload exp extended",
            format!("{}.{}.{}", parts[0], enc_json(&later), parts[2]),
        ),
        (
            "alg none, no signature",
            format!("{}.{}.", enc_json(&none_header), parts[1]),
        ),
        (
            "alg none, escalated",
            format!("{}.{}.", enc_json(&none_header), enc_json(&escalated)),
        ),
        (
            "alg none, original signature",
            format!("{}.{}.{}", enc_json(&none_header), parts[1], parts[2]),
        ),
        (
            "alg HS256, original signature",
            format!("{}.{}.{}", enc_json(&hs_header), parts[1], parts[2]),
        ),
        (
            "signature of another token",
            format!("{}.{}.{}", parts[0], parts[1], other_sig),
        ),
        (
            "signature altered",
            format!("{}.{}.{}", parts[0], parts[1], flipped_sig),
        ),
        ("signature removed", format!("{}.{}.", parts[0], parts[1])),
        ("not a JWT", "garbage".to_string()),
    ];
    let digest_to_delete = sha256(&admin.get("/v2/p1/app/manifests/v1").body);
    let mut failures = Vec::new();
    for (what, t) in &forged {
        let c = Client::new(&s.url()).with_bearer(t);
        for (method, path) in [
            ("GET", "/v2/p1/app/manifests/v1".to_string()),
            ("POST", "/v2/p1/app/blobs/uploads/".to_string()),
            ("DELETE", format!("/v2/p1/app/manifests/{digest_to_delete}")),
            ("GET", "/v2/".to_string()),
        ] {
            let r = c.req(method, &path, &[], None);
            if r.status != 401 {
                failures.push(format!(
                    "{what}: {method} {path} -> {}, expected 401; body {}",
                    r.status,
                    short(&r)
                ));
            } else if r.header("WWW-Authenticate").is_none() {
                failures.push(format!(
                    "{what}: {method} {path} -> 401 without a WWW-Authenticate challenge"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "forged tokens:\n{}",
        failures.join("\n")
    );
    let r = admin.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 200, "v1 survived the forged deletes");

    // The genuine developer token still can't delete (it doesn't grant it).
    let r = ok_client.req(
        "DELETE",
        &format!("/v2/p1/app/manifests/{digest_to_delete}"),
        &[],
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text());

    // Token service errors.
    let r = dev.get(&format!(
        "/service/token?service=other&scope={}",
        enc("repository:p1/app:pull")
    ));
    assert_eq!(r.status, 400, "service=other: {}", r.text());
    for bad in ["nonsense", ":p1/app:pull", "repository::pull"] {
        let r = dev.get(&token_path(&[bad]));
        assert_eq!(r.status, 400, "malformed scope {bad:?}: {}", r.text());
    }
    let r = s.anon().get("/service/token?service=harbor-registry");
    assert_eq!(
        r.status,
        401,
        "anonymous with no scope (docker login): {}",
        r.text()
    );
    // With credentials and no scope, it's a login: a token granting nothing.
    let r = dev.get("/service/token?service=harbor-registry");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(all_granted(&jwt(&token_of(&r)).1).is_empty());
    // Wrong credentials are refused, not downgraded to anonymous.
    let r = Client::new(&s.url())
        .with_basic("dev", "Wrong-Passw0rd")
        .get(&token_path(&["repository:p1/app:pull"]));
    assert_eq!(r.status, 401, "{}", r.text());

    // A robot's token names the robot.
    let robot = create_robot(&admin, "p1", "tok", &["pull"]);
    let r = robot_client(&s, &robot).get(&token_path(&["repository:p1/app:pull,push"]));
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, p) = jwt(&token_of(&r));
    assert_eq!(p["sub"], robot.name.as_str());
    assert_eq!(granted(&p, "p1/app"), set(&["pull"]));
}

// ---------------------------------------------------------------------------------------------
// 5. Robots: disable, secret refresh, grants
// ---------------------------------------------------------------------------------------------

#[test]
fn a_disabled_robot_is_locked_out_a_refreshed_secret_replaces_the_old_and_pull_only_cannot_push() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "p1", false);
    let (digest, _) = admin.push_image("p1/app", "v1", &[&random_bytes(700, 3)]);
    let robot = create_robot(&admin, "p1", "ci", &["pull"]);
    let rc = robot_client(&s, &robot);
    let r = rc.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 200, "a fresh robot pulls: {}", r.text());

    // Pull only: push is refused, by Basic (403 DENIED) and through a token (no push in it).
    let r = rc.req("POST", "/v2/p1/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.error_code(), "DENIED");
    let v1 = admin.get("/v2/p1/app/manifests/v1").body;
    let r = rc.put_manifest("p1/app", "v2", OCI_MANIFEST, &v1);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = rc.req(
        "DELETE",
        &format!("/v2/p1/app/manifests/{digest}"),
        &[],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = rc.get(&token_path(&["repository:p1/app:pull,push"]));
    assert_eq!(r.status, 200, "{}", r.text());
    let t = token_of(&r);
    assert_eq!(granted(&jwt(&t).1, "p1/app"), set(&["pull"]));
    let r =
        Client::new(&s.url())
            .with_bearer(&t)
            .req("POST", "/v2/p1/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 401, "{}", r.text());

    // Disable, keeping every other field as GET shows it.
    let r = admin.get(&format!("/api/v2.0/robots/{}", robot.id));
    assert_eq!(r.status, 200, "{}", r.text());
    let mut body = r.json();
    assert_eq!(body["disable"], false);
    body["disable"] = json!(true);
    let r = send(
        &admin,
        "PUT",
        &format!("/api/v2.0/robots/{}", robot.id),
        Some(&body),
    );
    assert_eq!(r.status, 200, "disable: {}", r.text());
    let r = admin.get(&format!("/api/v2.0/robots/{}", robot.id));
    assert_eq!(r.json()["disable"], true, "{}", r.text());
    assert_eq!(
        r.json()["permissions"],
        body["permissions"],
        "other fields kept"
    );
    let r = rc.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 401, "a disabled robot pulls: {}", r.text());
    let r = rc.get(&token_path(&["repository:p1/app:pull"]));
    assert_eq!(r.status, 401, "a disabled robot gets a token: {}", r.text());

    // Enabled again, it works again (so the disable was what locked it out).
    body["disable"] = json!(false);
    let r = send(
        &admin,
        "PUT",
        &format!("/api/v2.0/robots/{}", robot.id),
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = rc.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 200, "re-enabled robot: {}", r.text());

    // Secret refresh: the old secret stops working at once, the new one works.
    let r = send(
        &admin,
        "PATCH",
        &format!("/api/v2.0/robots/{}", robot.id),
        Some(&json!({})),
    );
    assert_eq!(r.status, 200, "refresh: {}", r.text());
    let new_secret = r.json()["secret"].as_str().expect("new secret").to_string();
    assert!(!new_secret.is_empty() && new_secret != robot.secret);
    let r = rc.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 401, "the old secret still pulls: {}", r.text());
    let fresh = Client::new(&s.url()).with_basic(&robot.name, &new_secret);
    let r = fresh.get("/v2/p1/app/manifests/v1");
    assert_eq!(r.status, 200, "the new secret: {}", r.text());
    let r = fresh.get(&token_path(&["repository:p1/app:pull"]));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(granted(&jwt(&token_of(&r)).1, "p1/app"), set(&["pull"]));
    let r = rc.get(&token_path(&["repository:p1/app:pull"]));
    assert_eq!(
        r.status,
        401,
        "the old secret still gets tokens: {}",
        r.text()
    );

    // A robot cannot refresh or re-enable itself, nor widen its own grants.
    let r = send(
        &fresh,
        "PATCH",
        &format!("/api/v2.0/robots/{}", robot.id),
        Some(&json!({})),
    );
    assert_eq!(
        r.status,
        403,
        "a pull robot refreshes its own secret: {}",
        r.text()
    );
    let mut wider = body.clone();
    wider["permissions"][0]["access"] = json!([{"resource": "repository", "action": "push"}]);
    let r = send(
        &fresh,
        "PUT",
        &format!("/api/v2.0/robots/{}", robot.id),
        Some(&wider),
    );
    assert_eq!(
        r.status,
        403,
        "a pull robot widens its grants: {}",
        r.text()
    );
    let r = fresh.req("POST", "/v2/p1/app/blobs/uploads/", &[], None);
    assert_eq!(r.status, 403, "{}", r.text());
}

#[test]
fn a_robot_or_project_admin_cannot_grant_more_than_they_hold_or_retarget_a_robot() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "p1", false);
    create_project(&admin, "p2", false);
    admin.push_image("p2/app", "v1", &[&random_bytes(300, 4)]);
    create_user(&admin, "pa");
    add_member(&admin, "p1", "pa", 1);
    let pa = user(&s, "pa");
    let mut failures = Vec::new();
    let mut expect = |what: &str, r: &Resp, want: &[u16]| {
        if !want.contains(&r.status) {
            failures.push(format!(
                "{what} -> {}, expected {want:?}; body: {}",
                r.status,
                short(r)
            ));
        }
    };

    // A robot holding robot:create may create robots granting no more than it holds (RBAC.md §2).
    let maker_body = json!({
        "name": "maker", "level": "project", "duration": -1,
        "permissions": [{"kind": "project", "namespace": "p1", "access": [
            {"resource": "robot", "action": "create"},
            {"resource": "repository", "action": "pull"},
        ]}],
    });
    let r = send(&admin, "POST", "/api/v2.0/robots", Some(&maker_body));
    assert_eq!(r.status, 201, "{}", r.text());
    let maker = Client::new(&s.url()).with_basic(
        r.json()["name"].as_str().unwrap(),
        r.json()["secret"].as_str().unwrap(),
    );
    let r = send(
        &maker,
        "POST",
        "/api/v2.0/robots",
        Some(&robot_body("p1", "child-push", &["pull", "push"])),
    );
    expect(
        "robot (robot:create, pull) creates a robot with push in p1",
        &r,
        &[403],
    );
    let r = send(
        &maker,
        "POST",
        "/api/v2.0/robots",
        Some(&robot_body("p2", "child-other", &["pull"])),
    );
    expect("robot of p1 creates a robot in p2", &r, &[403]);
    let r = send(
        &maker,
        "POST",
        "/api/v2.0/robots",
        Some(&robot_body("p1", "child-pull", &["pull"])),
    );
    expect(
        "robot (robot:create, pull) creates a pull robot in p1",
        &r,
        &[201],
    );

    // A project admin can't make system robots, all-project robots, or robots elsewhere.
    let attempts = [
        (
            "project admin creates a system robot with user:create",
            json!({"name": "sys", "level": "system", "duration": -1, "permissions": [
                {"kind": "system", "namespace": "/", "access": [{"resource": "user", "action": "create"}]}]}),
        ),
        (
            "project admin creates a system robot over all projects (*)",
            json!({"name": "star", "level": "system", "duration": -1, "permissions": [
                {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]}),
        ),
        (
            "project admin creates a project robot over all projects (*)",
            json!({"name": "star2", "level": "project", "duration": -1, "permissions": [
                {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]}),
        ),
        (
            "project admin of p1 creates a robot for p2",
            robot_body("p2", "other", &["pull"]),
        ),
    ];
    for (what, body) in &attempts {
        let r = send(&pa, "POST", "/api/v2.0/robots", Some(body));
        expect(what, &r, &[400, 403]);
    }

    // Nor retarget a p1 robot at p2, or lift it to system level, through PUT.
    let r = send(
        &pa,
        "POST",
        "/api/v2.0/robots",
        Some(&robot_body("p1", "mine", &["pull"])),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let mine = Robot {
        id: r.json()["id"].as_i64().unwrap(),
        name: r.json()["name"].as_str().unwrap().to_string(),
        secret: r.json()["secret"].as_str().unwrap().to_string(),
    };
    let current = pa.get(&format!("/api/v2.0/robots/{}", mine.id));
    assert_eq!(current.status, 200, "{}", current.text());
    let mut retarget = current.json();
    retarget["permissions"] = json!([{"kind": "project", "namespace": "p2",
        "access": [{"resource": "repository", "action": "pull"}]}]);
    let r = send(
        &pa,
        "PUT",
        &format!("/api/v2.0/robots/{}", mine.id),
        Some(&retarget),
    );
    expect(
        "project admin of p1 retargets its robot at p2",
        &r,
        &[400, 403],
    );
    let mut lift = current.json();
    lift["level"] = json!("system");
    lift["permissions"] = json!([{"kind": "system", "namespace": "/",
        "access": [{"resource": "user", "action": "create"}]}]);
    let r = send(
        &pa,
        "PUT",
        &format!("/api/v2.0/robots/{}", mine.id),
        Some(&lift),
    );
    expect(
        "project admin lifts its robot to system level",
        &r,
        &[400, 403],
    );
    let r = robot_client(&s, &mine).get("/v2/p2/app/manifests/v1");
    expect("the p1 robot pulls from p2 afterwards", &r, &[403, 401]);
    let r = send(
        &robot_client(&s, &mine),
        "POST",
        "/api/v2.0/users",
        Some(&json!({"username": "evil", "password": PW, "email": "e@example.com"})),
    );
    expect("the p1 robot creates a user afterwards", &r, &[403]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn role_membership_and_account_changes_take_effect_at_once() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "p1", false);
    admin.push_image("p1/app", "v1", &[&random_bytes(400, 8)]);
    create_user(&admin, "dev");
    add_member(&admin, "p1", "dev", 2);
    let dev = user(&s, "dev");
    let uid = dev.get("/api/v2.0/users/current").json()["user_id"]
        .as_i64()
        .expect("user_id");
    let mid = member_id(&admin, "p1", "dev");
    let can_push = |c: &Client| c.req("POST", "/v2/p1/app/blobs/uploads/", &[], None).status;
    let grant = |c: &Client| {
        let r = c.get(&token_path(&["repository:p1/app:pull"]));
        assert_eq!(r.status, 200, "{}", r.text());
        granted(&jwt(&token_of(&r)).1, "p1/app")
    };

    assert_eq!(can_push(&dev), 202);
    assert_eq!(grant(&dev), set(&["pull", "push"]));

    // Demoted to guest: push is refused at once, pull still works.
    let r = send(
        &admin,
        "PUT",
        &format!("/api/v2.0/projects/p1/members/{mid}"),
        Some(&json!({"role_id": 3})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(can_push(&dev), 403, "a demoted developer still pushes");
    assert_eq!(dev.get("/v2/p1/app/manifests/v1").status, 200);
    assert_eq!(grant(&dev), set(&["pull"]));

    // Removed: nothing.
    let r = admin.req(
        "DELETE",
        &format!("/api/v2.0/projects/p1/members/{mid}"),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        dev.get("/v2/p1/app/manifests/v1").status,
        403,
        "a removed member still pulls"
    );
    assert_eq!(dev.get("/api/v2.0/projects/p1").status, 403);
    assert!(grant(&dev).is_empty());

    // Made a system administrator and back.
    let r = send(
        &admin,
        "PUT",
        &format!("/api/v2.0/users/{uid}/sysadmin"),
        Some(&json!({"sysadmin_flag": true})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        dev.get("/api/v2.0/users").status,
        200,
        "a new sysadmin lists users"
    );
    assert_eq!(dev.get("/v2/p1/app/manifests/v1").status, 200);
    let r = send(
        &admin,
        "PUT",
        &format!("/api/v2.0/users/{uid}/sysadmin"),
        Some(&json!({"sysadmin_flag": false})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        dev.get("/api/v2.0/users").status,
        403,
        "a former sysadmin still lists users"
    );
    assert_eq!(
        dev.get("/v2/p1/app/manifests/v1").status,
        403,
        "a former sysadmin still pulls"
    );

    // Password changed by the admin: the old one stops working.
    let r = send(
        &admin,
        "PUT",
        &format!("/api/v2.0/users/{uid}/password"),
        Some(&json!({"new_password": "Passw0rd-2"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        dev.get("/v2/").status,
        401,
        "the old password still logs in"
    );
    let dev2 = Client::new(&s.url()).with_basic("dev", "Passw0rd-2");
    assert_eq!(dev2.get("/v2/").status, 200);

    // Deleted: locked out.
    let r = admin.req("DELETE", &format!("/api/v2.0/users/{uid}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dev2.get("/v2/").status, 401, "a deleted user still logs in");
    assert_eq!(
        dev2.get(&token_path(&["repository:p1/app:pull"])).status,
        401
    );
}

/// Harbor rejects a registry token issued before the project it names was created (so a token
/// for a deleted project can't be used on a new project of the same name; goharbor/harbor
/// #22900, RBAC.md §1 and §3). Harbor allows 60 s of clock skew, so the token must be older
/// than that: this test waits 65 s.
#[test]
fn a_token_issued_before_a_project_was_recreated_grants_nothing_in_the_new_one() {
    let s = Server::start();
    let admin = s.client();
    create_project(&admin, "p9", false);
    create_user(&admin, "old");
    add_member(&admin, "p9", "old", 2);
    let old = user(&s, "old");
    let r = old.get(&token_path(&["repository:p9/app:pull,push"]));
    assert_eq!(r.status, 200, "{}", r.text());
    let token = token_of(&r);
    assert_eq!(granted(&jwt(&token).1, "p9/app"), set(&["pull", "push"]));

    std::thread::sleep(std::time::Duration::from_secs(65));
    let r = admin.req("DELETE", "/api/v2.0/projects/p9", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    create_project(&admin, "p9", false);
    admin.push_image("p9/app", "v1", &[&random_bytes(100, 1)]);
    assert_eq!(
        old.get("/v2/p9/app/manifests/v1").status,
        403,
        "old is no member of the new p9"
    );

    let t = Client::new(&s.url()).with_bearer(&token);
    let r = t.get("/v2/p9/app/manifests/v1");
    assert_eq!(
        r.status,
        401,
        "a token for the deleted p9 pulls from the new p9: {}",
        r.text()
    );
    let r = t.req("POST", "/v2/p9/app/blobs/uploads/", &[], None);
    assert_eq!(
        r.status,
        401,
        "a token for the deleted p9 pushes to the new p9: {}",
        r.text()
    );
}
