//! Harbor's role and permission tables (`RBAC.md`), as data.

use serde::{Deserialize, Serialize};

pub type Action = &'static str;
type Perms = &'static [(&'static str, &'static str)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    ProjectAdmin = 1,
    Developer = 2,
    Guest = 3,
    Maintainer = 4,
    LimitedGuest = 5,
}

impl Role {
    pub fn from_id(id: i64) -> Option<Role> {
        Some(match id {
            1 => Role::ProjectAdmin,
            2 => Role::Developer,
            3 => Role::Guest,
            4 => Role::Maintainer,
            5 => Role::LimitedGuest,
            _ => return None,
        })
    }
    pub fn id(self) -> i64 {
        self as i64
    }
    /// Harbor's `role_name`.
    pub fn name(self) -> &'static str {
        match self {
            Role::ProjectAdmin => "projectAdmin",
            Role::Developer => "developer",
            Role::Guest => "guest",
            Role::Maintainer => "maintainer",
            Role::LimitedGuest => "limitedGuest",
        }
    }
}

const PROJECT_ADMIN: Perms = &[
    ("project", "read"),
    ("project", "update"),
    ("project", "delete"),
    ("member", "create"),
    ("member", "read"),
    ("member", "update"),
    ("member", "delete"),
    ("member", "list"),
    ("metadata", "create"),
    ("metadata", "read"),
    ("metadata", "update"),
    ("metadata", "delete"),
    ("log", "list"),
    ("label", "create"),
    ("label", "read"),
    ("label", "update"),
    ("label", "delete"),
    ("label", "list"),
    ("quota", "read"),
    ("repository", "create"),
    ("repository", "read"),
    ("repository", "update"),
    ("repository", "delete"),
    ("repository", "list"),
    ("repository", "pull"),
    ("repository", "push"),
    ("tag-retention", "create"),
    ("tag-retention", "read"),
    ("tag-retention", "update"),
    ("tag-retention", "delete"),
    ("tag-retention", "list"),
    ("tag-retention", "operate"),
    ("immutable-tag", "create"),
    ("immutable-tag", "update"),
    ("immutable-tag", "delete"),
    ("immutable-tag", "list"),
    ("configuration", "read"),
    ("configuration", "update"),
    ("robot", "create"),
    ("robot", "read"),
    ("robot", "update"),
    ("robot", "delete"),
    ("robot", "list"),
    ("notification-policy", "create"),
    ("notification-policy", "update"),
    ("notification-policy", "delete"),
    ("notification-policy", "list"),
    ("notification-policy", "read"),
    ("scan", "create"),
    ("scan", "read"),
    ("scan", "stop"),
    ("sbom", "create"),
    ("sbom", "stop"),
    ("sbom", "read"),
    ("scanner", "read"),
    ("scanner", "create"),
    ("artifact", "create"),
    ("artifact", "read"),
    ("artifact", "delete"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("tag", "list"),
    ("tag", "create"),
    ("tag", "delete"),
    ("accessory", "list"),
    ("artifact-label", "create"),
    ("artifact-label", "delete"),
    ("preheat-policy", "create"),
    ("preheat-policy", "read"),
    ("preheat-policy", "update"),
    ("preheat-policy", "delete"),
    ("preheat-policy", "list"),
    ("export-cve", "create"),
    ("export-cve", "read"),
    ("export-cve", "list"),
];

const MAINTAINER: Perms = &[
    ("project", "read"),
    ("member", "read"),
    ("member", "list"),
    ("metadata", "read"),
    ("label", "create"),
    ("label", "read"),
    ("label", "update"),
    ("label", "delete"),
    ("label", "list"),
    ("quota", "read"),
    ("repository", "create"),
    ("repository", "read"),
    ("repository", "update"),
    ("repository", "delete"),
    ("repository", "list"),
    ("repository", "push"),
    ("repository", "pull"),
    ("tag-retention", "create"),
    ("tag-retention", "read"),
    ("tag-retention", "update"),
    ("tag-retention", "delete"),
    ("tag-retention", "list"),
    ("tag-retention", "operate"),
    ("immutable-tag", "create"),
    ("immutable-tag", "update"),
    ("immutable-tag", "delete"),
    ("immutable-tag", "list"),
    ("configuration", "read"),
    ("robot", "read"),
    ("robot", "list"),
    ("notification-policy", "read"),
    ("notification-policy", "list"),
    ("scan", "create"),
    ("scan", "read"),
    ("scan", "stop"),
    ("sbom", "create"),
    ("sbom", "stop"),
    ("sbom", "read"),
    ("scanner", "read"),
    ("artifact", "create"),
    ("artifact", "read"),
    ("artifact", "delete"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("tag", "list"),
    ("tag", "create"),
    ("tag", "delete"),
    ("accessory", "list"),
    ("artifact-label", "create"),
    ("artifact-label", "delete"),
    ("export-cve", "create"),
    ("export-cve", "read"),
    ("export-cve", "list"),
];

const DEVELOPER: Perms = &[
    ("project", "read"),
    ("member", "read"),
    ("member", "list"),
    ("label", "read"),
    ("label", "list"),
    ("quota", "read"),
    ("repository", "create"),
    ("repository", "read"),
    ("repository", "update"),
    ("repository", "list"),
    ("repository", "push"),
    ("repository", "pull"),
    ("tag-retention", "create"),
    ("tag-retention", "read"),
    ("tag-retention", "update"),
    ("tag-retention", "delete"),
    ("tag-retention", "list"),
    ("tag-retention", "operate"),
    ("configuration", "read"),
    ("robot", "read"),
    ("robot", "list"),
    ("scan", "read"),
    ("sbom", "read"),
    ("scanner", "read"),
    ("artifact", "create"),
    ("artifact", "read"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("tag", "list"),
    ("tag", "create"),
    ("accessory", "list"),
    ("artifact-label", "create"),
    ("artifact-label", "delete"),
    ("export-cve", "create"),
    ("export-cve", "read"),
    ("export-cve", "list"),
];

const GUEST: Perms = &[
    ("project", "read"),
    ("member", "read"),
    ("member", "list"),
    ("label", "read"),
    ("label", "list"),
    ("quota", "read"),
    ("repository", "read"),
    ("repository", "list"),
    ("repository", "pull"),
    ("configuration", "read"),
    ("robot", "read"),
    ("robot", "list"),
    ("scan", "read"),
    ("sbom", "read"),
    ("scanner", "read"),
    ("artifact", "read"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("tag", "list"),
    ("accessory", "list"),
];

const LIMITED_GUEST: Perms = &[
    ("project", "read"),
    ("quota", "read"),
    ("repository", "list"),
    ("repository", "read"),
    ("repository", "pull"),
    ("configuration", "read"),
    ("scan", "read"),
    ("sbom", "read"),
    ("scanner", "read"),
    ("artifact", "read"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("tag", "list"),
    ("accessory", "list"),
];

/// What everyone, anonymous included, may do in a public project.
const PUBLIC: Perms = &[
    ("project", "read"),
    ("label", "read"),
    ("label", "list"),
    ("repository", "list"),
    ("repository", "pull"),
    ("scan", "read"),
    ("scanner", "read"),
    ("tag", "list"),
    ("artifact", "read"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("accessory", "list"),
];

/// What a project-level robot may be granted.
const PROJECT_ROBOT: Perms = &[
    ("log", "list"),
    ("project", "read"),
    ("project", "delete"),
    ("project", "update"),
    ("metadata", "read"),
    ("metadata", "create"),
    ("metadata", "delete"),
    ("metadata", "list"),
    ("metadata", "update"),
    ("repository", "read"),
    ("repository", "update"),
    ("repository", "delete"),
    ("repository", "list"),
    ("repository", "pull"),
    ("repository", "push"),
    ("artifact", "read"),
    ("artifact", "create"),
    ("artifact", "list"),
    ("artifact", "delete"),
    ("scan", "create"),
    ("scan", "read"),
    ("scan", "stop"),
    ("sbom", "create"),
    ("sbom", "stop"),
    ("sbom", "read"),
    ("tag", "create"),
    ("tag", "list"),
    ("tag", "delete"),
    ("accessory", "list"),
    ("artifact-addition", "read"),
    ("artifact-label", "create"),
    ("artifact-label", "delete"),
    ("scanner", "create"),
    ("scanner", "read"),
    ("preheat-policy", "read"),
    ("preheat-policy", "create"),
    ("preheat-policy", "delete"),
    ("preheat-policy", "list"),
    ("preheat-policy", "update"),
    ("immutable-tag", "create"),
    ("immutable-tag", "delete"),
    ("immutable-tag", "list"),
    ("immutable-tag", "update"),
    ("notification-policy", "read"),
    ("notification-policy", "create"),
    ("notification-policy", "delete"),
    ("notification-policy", "list"),
    ("notification-policy", "update"),
    ("tag-retention", "read"),
    ("tag-retention", "create"),
    ("tag-retention", "delete"),
    ("tag-retention", "list"),
    ("tag-retention", "update"),
    ("label", "read"),
    ("label", "create"),
    ("label", "delete"),
    ("label", "list"),
    ("label", "update"),
    ("quota", "read"),
    ("robot", "create"),
    ("robot", "read"),
    ("robot", "list"),
    ("robot", "delete"),
    ("export-cve", "create"),
    ("export-cve", "read"),
    ("member", "create"),
    ("member", "read"),
    ("member", "update"),
    ("member", "list"),
    ("member", "delete"),
];

/// What a system-level robot may be granted for the system namespace.
const SYSTEM_ROBOT: Perms = &[
    ("audit-log", "list"),
    ("preheat-instance", "read"),
    ("preheat-instance", "create"),
    ("preheat-instance", "delete"),
    ("preheat-instance", "list"),
    ("preheat-instance", "update"),
    ("project", "list"),
    ("project", "create"),
    ("replication-policy", "read"),
    ("replication-policy", "create"),
    ("replication-policy", "delete"),
    ("replication-policy", "list"),
    ("replication-policy", "update"),
    ("replication", "read"),
    ("replication", "create"),
    ("replication", "list"),
    ("replication-adapter", "list"),
    ("registry", "read"),
    ("registry", "create"),
    ("registry", "delete"),
    ("registry", "list"),
    ("registry", "update"),
    ("scan-all", "read"),
    ("scan-all", "update"),
    ("scan-all", "stop"),
    ("scan-all", "create"),
    ("system-volumes", "read"),
    ("garbage-collection", "read"),
    ("garbage-collection", "create"),
    ("garbage-collection", "list"),
    ("garbage-collection", "update"),
    ("garbage-collection", "stop"),
    ("purge-audit", "read"),
    ("purge-audit", "create"),
    ("purge-audit", "list"),
    ("purge-audit", "update"),
    ("purge-audit", "stop"),
    ("jobservice-monitor", "list"),
    ("jobservice-monitor", "stop"),
    ("scanner", "read"),
    ("scanner", "create"),
    ("scanner", "delete"),
    ("scanner", "list"),
    ("scanner", "update"),
    ("label", "read"),
    ("label", "create"),
    ("label", "delete"),
    ("label", "update"),
    ("security-hub", "read"),
    ("security-hub", "list"),
    ("catalog", "read"),
    ("quota", "read"),
    ("quota", "list"),
    ("quota", "update"),
    ("robot", "create"),
    ("robot", "read"),
    ("robot", "list"),
    ("robot", "delete"),
    ("user", "create"),
    ("user", "read"),
    ("user", "update"),
    ("user", "list"),
    ("user", "delete"),
    ("ldap-user", "create"),
    ("ldap-user", "list"),
    ("user-group", "create"),
    ("user-group", "read"),
    ("user-group", "update"),
    ("user-group", "list"),
    ("user-group", "delete"),
];

pub fn role_permissions(role: Role) -> Perms {
    match role {
        Role::ProjectAdmin => PROJECT_ADMIN,
        Role::Maintainer => MAINTAINER,
        Role::Developer => DEVELOPER,
        Role::Guest => GUEST,
        Role::LimitedGuest => LIMITED_GUEST,
    }
}

pub fn public_permissions() -> Perms {
    PUBLIC
}

pub fn project_robot_access() -> Perms {
    PROJECT_ROBOT
}

pub fn system_robot_access() -> Perms {
    SYSTEM_ROBOT
}

/// Harbor's robot permission entry: `{kind, namespace, access: [{resource, action, effect}]}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RobotPermission {
    pub kind: String,
    pub namespace: String,
    #[serde(default)]
    pub access: Vec<RobotAccess>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RobotAccess {
    pub resource: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes_match_harbor() {
        assert_eq!(PROJECT_ADMIN.len(), 75);
        assert_eq!(MAINTAINER.len(), 53);
        assert_eq!(DEVELOPER.len(), 36);
        assert_eq!(GUEST.len(), 20);
        assert_eq!(LIMITED_GUEST.len(), 14);
    }
}
