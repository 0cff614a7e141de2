//! Identity and permission: who is calling (users, robots, registry tokens) and what Harbor's
//! role table lets them do. Secrets are hashed with argon2id; comparisons of secrets are
//! constant-time; tokens are short-lived ES256 JWTs signed with a key kept in the data directory.

mod authenticator;
mod gate;
mod password;
mod rbac;
mod token;

pub use authenticator::{AuthError, Authenticator};
pub use gate::{Decision, Gate};
pub use password::{generate_password, generate_secret, hash_secret, random_hex, verify_secret};
pub use rbac::{
    project_robot_access, public_permissions, role_permissions, system_robot_access, Action,
    RobotAccess, RobotPermission, Role,
};
pub use token::{TokenAccess, TokenClaims, TokenError, TokenIssuer, AUDIENCE, ISSUER};

/// Who a request comes from.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    User {
        id: i64,
        name: String,
        admin: bool,
    },
    Robot {
        id: i64,
        name: String,
        permissions: Vec<RobotPermission>,
    },
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::User { name, .. } | Principal::Robot { name, .. } => name,
        }
    }
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::User { admin: true, .. })
    }
    pub fn is_authenticated(&self) -> bool {
        !matches!(self, Principal::Anonymous)
    }
}

/// What a permission check needs to know about a project.
#[derive(Debug, Clone)]
pub struct ProjectView<'a> {
    pub id: i64,
    pub name: &'a str,
    pub public: bool,
    /// The caller's role in the project, if it is a user member.
    pub role: Option<Role>,
}

/// Whether `principal` may do `action` on `resource` in `project` (Harbor's evaluator: system
/// admins pass everything but `scanner-pull`; members get their role's permissions; everyone
/// gets the public-project set on public projects; robots get exactly what they were granted).
pub fn allows(
    principal: &Principal,
    project: &ProjectView<'_>,
    resource: &str,
    action: &str,
) -> bool {
    if project.public
        && public_permissions()
            .iter()
            .any(|(r, a)| *r == resource && *a == action)
    {
        return true;
    }
    match principal {
        Principal::Anonymous => false,
        Principal::User { admin: true, .. } => action != "scanner-pull",
        Principal::User { .. } => project
            .role
            .map(|role| role_permissions(role).iter().any(|(r, a)| *r == resource && *a == action))
            .unwrap_or(false),
        Principal::Robot { permissions, .. } => permissions.iter().any(|p| {
            p.kind == "project"
                && (p.namespace == project.name || p.namespace == "*")
                && p.access.iter().any(|acc| {
                    acc.resource == resource
                        && (acc.action == action
                            // Granting push implies pull, as in Harbor.
                            || (resource == "repository" && action == "pull" && acc.action == "push"))
                })
        }),
    }
}

/// Whether `principal` holds a system-level permission (system admins, or system robots).
pub fn allows_system(principal: &Principal, resource: &str, action: &str) -> bool {
    match principal {
        Principal::User { admin: true, .. } => true,
        Principal::Robot { permissions, .. } => permissions.iter().any(|p| {
            p.kind == "system"
                && p.access
                    .iter()
                    .any(|a| a.resource == resource && a.action == action)
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(public: bool, role: Option<Role>) -> ProjectView<'static> {
        ProjectView {
            id: 1,
            name: "p",
            public,
            role,
        }
    }

    #[test]
    fn roles_follow_harbors_table() {
        let u = Principal::User {
            id: 2,
            name: "u".into(),
            admin: false,
        };
        assert!(allows(
            &u,
            &project(false, Some(Role::Developer)),
            "repository",
            "push"
        ));
        assert!(!allows(
            &u,
            &project(false, Some(Role::Developer)),
            "repository",
            "delete"
        ));
        assert!(allows(
            &u,
            &project(false, Some(Role::Maintainer)),
            "repository",
            "delete"
        ));
        assert!(!allows(
            &u,
            &project(false, Some(Role::Guest)),
            "repository",
            "push"
        ));
        assert!(allows(
            &u,
            &project(false, Some(Role::Guest)),
            "repository",
            "pull"
        ));
        assert!(!allows(
            &u,
            &project(false, Some(Role::LimitedGuest)),
            "member",
            "list"
        ));
        assert!(!allows(&u, &project(false, None), "repository", "pull"));
        assert!(allows(
            &Principal::Anonymous,
            &project(true, None),
            "repository",
            "pull"
        ));
        assert!(!allows(
            &Principal::Anonymous,
            &project(true, None),
            "repository",
            "push"
        ));
        let admin = Principal::User {
            id: 1,
            name: "admin".into(),
            admin: true,
        };
        assert!(allows(
            &admin,
            &project(false, None),
            "repository",
            "delete"
        ));
        assert!(!allows(
            &admin,
            &project(false, None),
            "repository",
            "scanner-pull"
        ));
    }

    #[test]
    fn robots_get_exactly_their_grants() {
        let r = Principal::Robot {
            id: 1,
            name: "robot$p+ci".into(),
            permissions: vec![RobotPermission {
                kind: "project".into(),
                namespace: "p".into(),
                access: vec![RobotAccess {
                    resource: "repository".into(),
                    action: "push".into(),
                    effect: None,
                }],
            }],
        };
        assert!(allows(&r, &project(false, None), "repository", "push"));
        assert!(allows(&r, &project(false, None), "repository", "pull"));
        assert!(!allows(&r, &project(false, None), "repository", "delete"));
        let other = ProjectView {
            id: 2,
            name: "q",
            public: false,
            role: None,
        };
        assert!(!allows(&r, &other, "repository", "pull"));
    }
}
