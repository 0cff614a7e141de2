//! The permission point: given a caller and a project name, may they do this? Project and
//! membership lookups are cached for two seconds, so a pull does not pay two queries; changes
//! made through this process invalidate the cache at once, other replicas see them within the
//! TTL.

use crate::{allows, Principal, ProjectView, Role};
use meta::{Meta, ProjectRow};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(2);
const LIMIT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// The project does not exist.
    NoProject,
    Denied,
}

/// A cached lookup and when it was made.
type Cached<K, V> = Arc<Mutex<HashMap<K, (V, Instant)>>>;

#[derive(Clone)]
pub struct Gate {
    meta: Meta,
    projects: Cached<String, Option<Arc<ProjectRow>>>,
    roles: Cached<(i64, i64), Option<i64>>,
}

impl Gate {
    pub fn new(meta: Meta) -> Gate {
        Gate {
            meta,
            projects: Arc::default(),
            roles: Arc::default(),
        }
    }

    /// Drops cached projects and memberships (after any change to them).
    pub fn invalidate(&self) {
        self.projects.lock().expect("gate lock").clear();
        self.roles.lock().expect("gate lock").clear();
    }

    pub async fn project(&self, name: &str) -> Result<Option<Arc<ProjectRow>>, meta::MetaError> {
        if let Some((p, at)) = self.projects.lock().expect("gate lock").get(name) {
            if at.elapsed() < TTL {
                return Ok(p.clone());
            }
        }
        let p = self.meta.project_by_name(name).await?.map(Arc::new);
        let mut map = self.projects.lock().expect("gate lock");
        if map.len() >= LIMIT {
            map.clear();
        }
        map.insert(name.to_string(), (p.clone(), Instant::now()));
        Ok(p)
    }

    pub async fn role(
        &self,
        principal: &Principal,
        project_id: i64,
    ) -> Result<Option<Role>, meta::MetaError> {
        let Principal::User {
            id, admin: false, ..
        } = principal
        else {
            return Ok(None);
        };
        let key = (project_id, *id);
        if let Some((r, at)) = self.roles.lock().expect("gate lock").get(&key) {
            if at.elapsed() < TTL {
                return Ok(r.and_then(Role::from_id));
            }
        }
        let r = self.meta.role_of(project_id, *id).await?;
        let mut map = self.roles.lock().expect("gate lock");
        if map.len() >= LIMIT {
            map.clear();
        }
        map.insert(key, (r, Instant::now()));
        Ok(r.and_then(Role::from_id))
    }

    /// Whether `principal` may do `action` on `resource` in project `project`.
    pub async fn check(
        &self,
        principal: &Principal,
        project: &str,
        resource: &str,
        action: &str,
    ) -> Result<Decision, meta::MetaError> {
        let Some(p) = self.project(project).await? else {
            return Ok(Decision::NoProject);
        };
        Ok(if self.allows_in(principal, &p, resource, action).await? {
            Decision::Allowed
        } else {
            Decision::Denied
        })
    }

    /// Like `check`, for a project already looked up.
    pub async fn allows_in(
        &self,
        principal: &Principal,
        p: &ProjectRow,
        resource: &str,
        action: &str,
    ) -> Result<bool, meta::MetaError> {
        let view = ProjectView {
            id: p.id,
            name: &p.name,
            public: p.is_public(),
            role: self.role(principal, p.id).await?,
        };
        Ok(allows(principal, &view, resource, action))
    }
}
