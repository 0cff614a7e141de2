//! Queries for users, projects, project metadata, memberships, robot accounts and the audit log.

use crate::db::{Meta, Result};
use crate::now_ms;
use crate::registry::DeleteOutcome;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub realname: String,
    pub comment: String,
    pub password_hash: String,
    pub sysadmin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub metadata: BTreeMap<String, String>,
}

impl ProjectRow {
    pub fn is_public(&self) -> bool {
        self.metadata
            .get("public")
            .map(|v| v == "true")
            .unwrap_or(false)
    }
}

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: i64,
    pub project_id: i64,
    pub user_id: i64,
    pub username: String,
    pub role_id: i64,
}

#[derive(Debug, Clone)]
pub struct RobotRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub level: String,
    pub project_id: Option<i64>,
    pub secret_hash: String,
    /// Harbor's permissions JSON.
    pub permissions: String,
    pub duration: i64,
    pub expires_at: i64,
    pub disabled: bool,
    pub creator: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewRobot<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub level: &'a str,
    pub project_id: Option<i64>,
    pub secret_hash: &'a str,
    pub permissions: &'a str,
    pub duration: i64,
    pub expires_at: i64,
    pub disabled: bool,
    pub creator: &'a str,
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub project_id: i64,
    pub username: String,
    pub operation: String,
    pub resource: String,
    pub resource_type: String,
    pub op_time: i64,
}

#[derive(Debug, Clone)]
pub struct RepositoryRow {
    pub id: i64,
    pub name: String,
    pub artifact_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct ArtifactRow {
    pub id: i64,
    pub repository_id: i64,
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub subject_digest: Option<String>,
    pub annotations: Option<String>,
    pub content: Vec<u8>,
    /// Manifest size plus the sizes of the blobs it references.
    pub size: i64,
    pub pushed_at: i64,
    pub pulled_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ArtifactTagRow {
    pub id: i64,
    pub manifest_id: i64,
    pub name: String,
    pub pushed_at: i64,
    pub pulled_at: Option<i64>,
}

fn user(r: AnyRow) -> UserRow {
    UserRow {
        id: r.get("id"),
        username: r.get("username"),
        email: r.get("email"),
        realname: r.get("realname"),
        comment: r.get("comment"),
        password_hash: r.get("password_hash"),
        sysadmin: r.get::<i64, _>("sysadmin") != 0,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

fn robot(r: AnyRow) -> RobotRow {
    RobotRow {
        id: r.get("id"),
        name: r.get("name"),
        description: r.get("description"),
        level: r.get("level"),
        project_id: r.get("project_id"),
        secret_hash: r.get("secret_hash"),
        permissions: r.get("permissions"),
        duration: r.get("duration"),
        expires_at: r.get("expires_at"),
        disabled: r.get::<i64, _>("disabled") != 0,
        creator: r.get("creator"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

const USER_COLS: &str =
    "id, username, email, realname, comment, password_hash, sysadmin, created_at, updated_at";
const ROBOT_COLS: &str = "id, name, description, level, project_id, secret_hash, permissions, duration, expires_at, disabled, creator, created_at, updated_at";

/// `LIKE` pattern matching `s` anywhere, with LIKE's wildcards escaped.
fn contains_pattern(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Meta {
    // ---- users ----

    /// Creates a user; `None` when the name is taken.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        realname: &str,
        comment: &str,
        password_hash: &str,
        sysadmin: bool,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let id: Option<i64> = sqlx::query(
            "INSERT INTO users (username, email, realname, comment, password_hash, sysadmin, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(email)
        .bind(realname)
        .bind(comment)
        .bind(password_hash)
        .bind(sysadmin as i64)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|r| r.get("id"));
        tx.commit().await?;
        Ok(id)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .map(user))
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>> {
        Ok(
            sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(user),
        )
    }

    /// Users whose name contains `name` (all when empty), by id; and the total count.
    pub async fn list_users(
        &self,
        name: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<UserRow>, i64)> {
        let pattern = contains_pattern(name);
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE username LIKE $1 ESCAPE '\\' ORDER BY id LIMIT $2 OFFSET $3"
        ))
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE username LIKE $1 ESCAPE '\\'")
                .bind(&pattern)
                .fetch_one(&self.pool)
                .await?
                .get("n");
        Ok((rows.into_iter().map(user).collect(), total))
    }

    pub async fn update_user_profile(
        &self,
        id: i64,
        email: &str,
        realname: &str,
        comment: &str,
    ) -> Result<bool> {
        self.exec_write(
            "UPDATE users SET email = $1, realname = $2, comment = $3, updated_at = $4 WHERE id = $5",
            |q| q.bind(email.to_string()).bind(realname.to_string()).bind(comment.to_string()).bind(now_ms()).bind(id),
        )
        .await
    }

    pub async fn set_user_password(&self, id: i64, password_hash: &str) -> Result<bool> {
        self.exec_write(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
            |q| q.bind(password_hash.to_string()).bind(now_ms()).bind(id),
        )
        .await
    }

    pub async fn set_user_sysadmin(&self, id: i64, sysadmin: bool) -> Result<bool> {
        self.exec_write(
            "UPDATE users SET sysadmin = $1, updated_at = $2 WHERE id = $3",
            |q| q.bind(sysadmin as i64).bind(now_ms()).bind(id),
        )
        .await
    }

    pub async fn delete_user(&self, id: i64) -> Result<bool> {
        self.exec_write("DELETE FROM users WHERE id = $1", |q| q.bind(id))
            .await
    }

    /// Runs one write statement in its own transaction; true when a row changed.
    pub(crate) async fn exec_write<'q, F>(&self, sql: &'q str, bind: F) -> Result<bool>
    where
        F: FnOnce(
            sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    {
        let mut tx = self.write().await?;
        let n = bind(sqlx::query(sql))
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    // ---- projects ----

    /// Creates a project with its metadata; `None` when the name is taken.
    /// `storage_limit` is the quota's hard limit in bytes (-1 = unlimited); `None` takes the
    /// system default (setting `storage_per_project`).
    pub async fn create_project(
        &self,
        name: &str,
        owner_id: Option<i64>,
        metadata: &BTreeMap<String, String>,
        storage_limit: Option<i64>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let exists = sqlx::query("SELECT id FROM projects WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_some() {
            return Ok(None);
        }
        // ON CONFLICT: a concurrent creator of the same name wins cleanly, not with an error.
        let Some(row) = sqlx::query(
            "INSERT INTO projects (name, owner_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(owner_id)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.get("id");
        for (k, v) in metadata {
            sqlx::query(
                "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(k.as_str())
            .bind(v.as_str())
            .execute(&mut *tx.tx)
            .await?;
        }
        let hard = match storage_limit {
            Some(l) => l,
            None => sqlx::query("SELECT value FROM settings WHERE name = 'storage_per_project'")
                .fetch_optional(&mut *tx.tx)
                .await?
                .and_then(|r| r.get::<String, _>("value").parse::<i64>().ok())
                .unwrap_or(-1),
        };
        sqlx::query(
            "INSERT INTO quotas (project_id, hard, used, created_at, updated_at) VALUES ($1, $2, 0, $3, $3)",
        )
        .bind(id)
        .bind(hard)
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        // Repositories left from an earlier project of the same name (they had no manifests,
        // or the project could not have been deleted) join the new one.
        sqlx::query(
            "UPDATE repositories SET project_id = $1 WHERE substr(name, 1, length($2) + 1) = $2 || '/'",
        )
        .bind(id)
        .bind(name)
        .execute(&mut *tx.tx)
        .await?;
        if let Some(owner) = owner_id {
            sqlx::query(
                "INSERT INTO project_members (project_id, user_id, role_id, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)",
            )
            .bind(id)
            .bind(owner)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn load_metadata(&self, project_id: i64) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query("SELECT name, value FROM project_metadata WHERE project_id = $1")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("name"), r.get("value")))
            .collect())
    }

    async fn project_where(
        &self,
        clause: &str,
        bind: ProjectKey<'_>,
    ) -> Result<Option<ProjectRow>> {
        let sql = format!(
            "SELECT p.id, p.name, p.owner_id, u.username AS owner_name, p.created_at, p.updated_at
             FROM projects p LEFT JOIN users u ON u.id = p.owner_id WHERE {clause}"
        );
        let q = sqlx::query(&sql);
        let q = match bind {
            ProjectKey::Id(id) => q.bind(id),
            ProjectKey::Name(n) => q.bind(n),
        };
        let Some(r) = q.fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let id: i64 = r.get("id");
        Ok(Some(ProjectRow {
            id,
            name: r.get("name"),
            owner_id: r.get("owner_id"),
            owner_name: r.get("owner_name"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
            metadata: self.load_metadata(id).await?,
        }))
    }

    pub async fn project_by_name(&self, name: &str) -> Result<Option<ProjectRow>> {
        self.project_where("p.name = $1", ProjectKey::Name(name))
            .await
    }

    pub async fn project_by_id(&self, id: i64) -> Result<Option<ProjectRow>> {
        self.project_where("p.id = $1", ProjectKey::Id(id)).await
    }

    /// Every project, by id. Visibility is decided by the caller.
    pub async fn all_projects(&self) -> Result<Vec<ProjectRow>> {
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.owner_id, u.username AS owner_name, p.created_at, p.updated_at
             FROM projects p LEFT JOIN users u ON u.id = p.owner_id ORDER BY p.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let meta_rows = sqlx::query("SELECT project_id, name, value FROM project_metadata")
            .fetch_all(&self.pool)
            .await?;
        let mut metadata: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
        for r in meta_rows {
            metadata
                .entry(r.get("project_id"))
                .or_default()
                .insert(r.get("name"), r.get("value"));
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let id: i64 = r.get("id");
                ProjectRow {
                    id,
                    name: r.get("name"),
                    owner_id: r.get("owner_id"),
                    owner_name: r.get("owner_name"),
                    created_at: r.get("created_at"),
                    updated_at: r.get("updated_at"),
                    metadata: metadata.remove(&id).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Sets metadata values (insert or replace).
    pub async fn set_project_metadata(
        &self,
        project_id: i64,
        values: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        for (k, v) in values {
            sqlx::query(
                "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, $2, $3)
                 ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value",
            )
            .bind(project_id)
            .bind(k.as_str())
            .bind(v.as_str())
            .execute(&mut *tx.tx)
            .await?;
        }
        sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(project_id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    pub async fn delete_project_metadata(&self, project_id: i64, name: &str) -> Result<bool> {
        self.exec_write(
            "DELETE FROM project_metadata WHERE project_id = $1 AND name = $2",
            |q| q.bind(project_id).bind(name.to_string()),
        )
        .await
    }

    /// Deletes a project (its members, robots and metadata go with it).
    pub async fn delete_project(&self, project_id: i64) -> Result<bool> {
        self.exec_write("DELETE FROM projects WHERE id = $1", |q| q.bind(project_id))
            .await
    }

    /// Repositories whose name starts with `<project>/`.
    pub async fn project_repository_count(&self, project: &str) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM repositories r WHERE r.name LIKE $1 ESCAPE '\\'
             AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)",
        )
        .bind(format!("{}/%", project.replace('_', "\\_")))
        .fetch_one(&self.pool)
        .await?
        .get("n"))
    }

    // ---- members ----

    pub async fn role_of(&self, project_id: i64, user_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT role_id FROM project_members WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.get("role_id")))
    }

    /// Project ids and roles of every membership of a user.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<(i64, i64)>> {
        let rows =
            sqlx::query("SELECT project_id, role_id FROM project_members WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("project_id"), r.get("role_id")))
            .collect())
    }

    /// Adds a member; `None` when the user already is one.
    pub async fn add_member(
        &self,
        project_id: i64,
        user_id: i64,
        role_id: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let exists =
            sqlx::query("SELECT id FROM project_members WHERE project_id = $1 AND user_id = $2")
                .bind(project_id)
                .bind(user_id)
                .fetch_optional(&mut *tx.tx)
                .await?;
        if exists.is_some() {
            return Ok(None);
        }
        let now = now_ms();
        let Some(row) = sqlx::query(
            "INSERT INTO project_members (project_id, user_id, role_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (project_id, user_id) DO NOTHING RETURNING id",
        )
        .bind(project_id)
        .bind(user_id)
        .bind(role_id)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.get("id");
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn list_members(&self, project_id: i64, name: &str) -> Result<Vec<MemberRow>> {
        let rows = sqlx::query(
            "SELECT m.id, m.project_id, m.user_id, u.username, m.role_id FROM project_members m
             JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND u.username LIKE $2 ESCAPE '\\' ORDER BY m.id",
        )
        .bind(project_id)
        .bind(contains_pattern(name))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(member).collect())
    }

    pub async fn member(&self, project_id: i64, member_id: i64) -> Result<Option<MemberRow>> {
        Ok(sqlx::query(
            "SELECT m.id, m.project_id, m.user_id, u.username, m.role_id FROM project_members m
             JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND m.id = $2",
        )
        .bind(project_id)
        .bind(member_id)
        .fetch_optional(&self.pool)
        .await?
        .map(member))
    }

    pub async fn update_member_role(
        &self,
        project_id: i64,
        member_id: i64,
        role_id: i64,
    ) -> Result<bool> {
        self.exec_write(
            "UPDATE project_members SET role_id = $1, updated_at = $2 WHERE project_id = $3 AND id = $4",
            |q| q.bind(role_id).bind(now_ms()).bind(project_id).bind(member_id),
        )
        .await
    }

    pub async fn delete_member(&self, project_id: i64, member_id: i64) -> Result<bool> {
        self.exec_write(
            "DELETE FROM project_members WHERE project_id = $1 AND id = $2",
            |q| q.bind(project_id).bind(member_id),
        )
        .await
    }

    // ---- robots ----

    /// Creates a robot; `None` when the name is taken.
    pub async fn create_robot(&self, r: &NewRobot<'_>) -> Result<Option<RobotRow>> {
        let mut tx = self.write().await?;
        let exists = sqlx::query("SELECT id FROM robots WHERE name = $1")
            .bind(r.name)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_some() {
            return Ok(None);
        }
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO robots (name, description, level, project_id, secret_hash, permissions, duration, expires_at, disabled, creator, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (name) DO NOTHING RETURNING {ROBOT_COLS}"
        ))
        .bind(r.name)
        .bind(r.description)
        .bind(r.level)
        .bind(r.project_id)
        .bind(r.secret_hash)
        .bind(r.permissions)
        .bind(r.duration)
        .bind(r.expires_at)
        .bind(r.disabled as i64)
        .bind(r.creator)
        .bind(now)
        .fetch_optional(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(robot))
    }

    pub async fn robot_by_name(&self, name: &str) -> Result<Option<RobotRow>> {
        Ok(
            sqlx::query(&format!("SELECT {ROBOT_COLS} FROM robots WHERE name = $1"))
                .bind(name)
                .fetch_optional(&self.pool)
                .await?
                .map(robot),
        )
    }

    pub async fn robot_by_id(&self, id: i64) -> Result<Option<RobotRow>> {
        Ok(
            sqlx::query(&format!("SELECT {ROBOT_COLS} FROM robots WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(robot),
        )
    }

    /// Robots of one project (`Some`) or system robots (`None`), by id.
    pub async fn list_robots(&self, project_id: Option<i64>) -> Result<Vec<RobotRow>> {
        let by_project =
            format!("SELECT {ROBOT_COLS} FROM robots WHERE project_id = $1 ORDER BY id");
        let system =
            format!("SELECT {ROBOT_COLS} FROM robots WHERE project_id IS NULL ORDER BY id");
        let q = match project_id {
            Some(p) => sqlx::query(&by_project).bind(p),
            None => sqlx::query(&system),
        };
        Ok(q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(robot)
            .collect())
    }

    pub async fn update_robot(
        &self,
        id: i64,
        description: &str,
        permissions: &str,
        duration: i64,
        expires_at: i64,
        disabled: bool,
    ) -> Result<bool> {
        self.exec_write(
            "UPDATE robots SET description = $1, permissions = $2, duration = $3, expires_at = $4, disabled = $5, updated_at = $6 WHERE id = $7",
            |q| {
                q.bind(description.to_string())
                    .bind(permissions.to_string())
                    .bind(duration)
                    .bind(expires_at)
                    .bind(disabled as i64)
                    .bind(now_ms())
                    .bind(id)
            },
        )
        .await
    }

    pub async fn set_robot_secret(&self, id: i64, secret_hash: &str) -> Result<bool> {
        self.exec_write(
            "UPDATE robots SET secret_hash = $1, updated_at = $2 WHERE id = $3",
            |q| q.bind(secret_hash.to_string()).bind(now_ms()).bind(id),
        )
        .await
    }

    pub async fn delete_robot(&self, id: i64) -> Result<bool> {
        self.exec_write("DELETE FROM robots WHERE id = $1", |q| q.bind(id))
            .await
    }

    // ---- audit log ----

    pub async fn audit(
        &self,
        project_id: i64,
        username: &str,
        operation: &str,
        resource: &str,
        resource_type: &str,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO audit_logs (project_id, username, operation, resource, resource_type, op_time) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(project_id)
        .bind(username)
        .bind(operation)
        .bind(resource)
        .bind(resource_type)
        .bind(now_ms())
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Audit entries, newest first, of the given projects (`None` = all), with the total.
    pub async fn list_audit(
        &self,
        projects: Option<&[i64]>,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditRow>, i64)> {
        let rows = sqlx::query(
            "SELECT id, project_id, username, operation, resource, resource_type, op_time FROM audit_logs
             WHERE username LIKE $1 ESCAPE '\\' AND operation LIKE $2 ESCAPE '\\' AND resource LIKE $3 ESCAPE '\\'
             AND resource_type LIKE $4 ESCAPE '\\' ORDER BY id DESC",
        )
        .bind(contains_pattern(&filter.username))
        .bind(contains_pattern(&filter.operation))
        .bind(contains_pattern(&filter.resource))
        .bind(contains_pattern(&filter.resource_type))
        .fetch_all(&self.pool)
        .await?;
        let all: Vec<AuditRow> = rows
            .into_iter()
            .map(|r| AuditRow {
                id: r.get("id"),
                project_id: r.get("project_id"),
                username: r.get("username"),
                operation: r.get("operation"),
                resource: r.get("resource"),
                resource_type: r.get("resource_type"),
                op_time: r.get("op_time"),
            })
            .filter(|a| projects.map(|p| p.contains(&a.project_id)).unwrap_or(true))
            .collect();
        let total = all.len() as i64;
        Ok((
            all.into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .collect(),
            total,
        ))
    }

    // ---- repositories and artifacts for the management API ----

    /// Repositories with at least one manifest whose name starts with `prefix` and contains
    /// `name`, by name; and the total.
    pub async fn list_repositories(
        &self,
        prefix: &str,
        name: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<RepositoryRow>, i64)> {
        let prefix_pattern = format!(
            "{}%",
            prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let rows = sqlx::query(
            "SELECT r.id, r.name, r.created_at, r.updated_at,
                    (SELECT COUNT(*) FROM manifests m WHERE m.repository_id = r.id) AS artifact_count
             FROM repositories r WHERE r.name LIKE $1 ESCAPE '\\' AND r.name LIKE $2 ESCAPE '\\'
             AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) ORDER BY r.name",
        )
        .bind(&prefix_pattern)
        .bind(contains_pattern(name))
        .fetch_all(&self.pool)
        .await?;
        let total = rows.len() as i64;
        let page = rows
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|r| RepositoryRow {
                id: r.get("id"),
                name: r.get("name"),
                artifact_count: r.get("artifact_count"),
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
            })
            .collect();
        Ok((page, total))
    }

    /// Deletes a repository with its manifests, tags and blob links, releasing the quota they
    /// held — unless `protected` says one of its tags must stay (then returns that tag).
    pub async fn delete_repository(
        &self,
        repository_id: i64,
        protected: &(dyn Fn(&str) -> bool + Sync),
        operator: &str,
    ) -> Result<DeleteOutcome> {
        let mut tx = self.write().await?;
        let (project_id, _) =
            crate::registry::lock_project_of(&mut tx.tx, self.dialect, repository_id).await?;
        let tags: Vec<String> =
            sqlx::query("SELECT name FROM tags WHERE repository_id = $1 ORDER BY name")
                .bind(repository_id)
                .fetch_all(&mut *tx.tx)
                .await?
                .into_iter()
                .map(|r| r.get("name"))
                .collect();
        if let Some(tag) = tags.into_iter().find(|t| protected(t)) {
            return Ok(DeleteOutcome::Protected(tag));
        }
        let manifests: Vec<(i64, String, Option<String>)> = sqlx::query(
            "SELECT m.id, m.digest, (SELECT MIN(t.name) FROM tags t WHERE t.manifest_id = m.id) AS tag
             FROM manifests m WHERE m.repository_id = $1",
        )
        .bind(repository_id)
        .fetch_all(&mut *tx.tx)
        .await?
        .into_iter()
        .map(|r| (r.get("id"), r.get("digest"), r.get("tag")))
        .collect();
        let ids: Vec<i64> = manifests.iter().map(|m| m.0).collect();
        let charged = crate::quota::charged_digests(&mut tx.tx, &ids).await?;
        let name: Option<String> = sqlx::query("SELECT name FROM repositories WHERE id = $1")
            .bind(repository_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|r| r.get("name"));
        // Harbor reports a repository's deletion as the deletion of each of its artifacts.
        for (_, digest, tag) in &manifests {
            crate::events::insert(
                &mut tx.tx,
                &crate::NewEvent {
                    kind: "DELETE_ARTIFACT".into(),
                    operator: operator.to_string(),
                    project_id,
                    repository: name.clone().unwrap_or_default(),
                    digest: digest.clone(),
                    tag: tag.clone().unwrap_or_default(),
                    details: String::new(),
                },
            )
            .await?;
        }
        let n = sqlx::query("DELETE FROM repositories WHERE id = $1")
            .bind(repository_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if let Some(p) = project_id {
            crate::quota::release(&mut tx.tx, p, &charged).await?;
        }
        tx.commit().await?;
        Ok(if n > 0 {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::NotFound
        })
    }

    /// Artifacts (manifests) of a repository, newest push first; and the total.
    pub async fn list_artifacts(
        &self,
        repository_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ArtifactRow>, i64)> {
        let rows = sqlx::query(
            "SELECT m.id, m.repository_id, m.digest, m.media_type, m.artifact_type, m.subject_digest, m.annotations, m.content,
                    m.size + CAST(COALESCE((SELECT SUM(b.size) FROM manifest_blobs mb JOIN blobs b ON b.digest = mb.digest WHERE mb.manifest_id = m.id), 0) AS BIGINT) AS total_size,
                    m.pushed_at, m.pulled_at
             FROM manifests m WHERE m.repository_id = $1 ORDER BY m.pushed_at DESC, m.id DESC LIMIT $2 OFFSET $3",
        )
        .bind(repository_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM manifests WHERE repository_id = $1")
                .bind(repository_id)
                .fetch_one(&self.pool)
                .await?
                .get("n");
        Ok((rows.into_iter().map(artifact).collect(), total))
    }

    pub async fn artifact(&self, repository_id: i64, digest: &str) -> Result<Option<ArtifactRow>> {
        Ok(sqlx::query(
            "SELECT m.id, m.repository_id, m.digest, m.media_type, m.artifact_type, m.subject_digest, m.annotations, m.content,
                    m.size + CAST(COALESCE((SELECT SUM(b.size) FROM manifest_blobs mb JOIN blobs b ON b.digest = mb.digest WHERE mb.manifest_id = m.id), 0) AS BIGINT) AS total_size,
                    m.pushed_at, m.pulled_at
             FROM manifests m WHERE m.repository_id = $1 AND m.digest = $2",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?
        .map(artifact))
    }

    /// Tags of the given manifests.
    pub async fn tags_of_manifests(&self, repository_id: i64) -> Result<Vec<ArtifactTagRow>> {
        let rows = sqlx::query(
            "SELECT t.manifest_id, t.name, t.pushed_at, t.pulled_at FROM tags t WHERE t.repository_id = $1 ORDER BY t.name",
        )
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let manifest_id: i64 = r.get("manifest_id");
                ArtifactTagRow {
                    id: manifest_id,
                    manifest_id,
                    name: r.get("name"),
                    pushed_at: r.get("pushed_at"),
                    pulled_at: r.get("pulled_at"),
                }
            })
            .collect())
    }

    /// Points `tag` at an existing manifest.
    pub async fn create_tag(
        &self,
        repository_id: i64,
        manifest_id: i64,
        tag: &str,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let exists = sqlx::query("SELECT 1 AS x FROM tags WHERE repository_id = $1 AND name = $2")
            .bind(repository_id)
            .bind(tag)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO tags (repository_id, name, manifest_id, pushed_at) VALUES ($1, $2, $3, $4)")
            .bind(repository_id)
            .bind(tag)
            .bind(manifest_id)
            .bind(now_ms())
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Counts for the statistics endpoint: (projects, public projects, repositories, storage bytes).
    pub async fn statistics(&self) -> Result<(i64, i64, i64, i64)> {
        let projects: i64 = sqlx::query("SELECT COUNT(*) AS n FROM projects")
            .fetch_one(&self.pool)
            .await?
            .get("n");
        let public: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM project_metadata WHERE name = 'public' AND value = 'true'",
        )
        .fetch_one(&self.pool)
        .await?
        .get("n");
        let repos: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM repositories r WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)",
        )
        .fetch_one(&self.pool)
        .await?
        .get("n");
        let storage: i64 =
            sqlx::query("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM blobs")
                .fetch_one(&self.pool)
                .await?
                .get("n");
        Ok((projects, public, repos, storage))
    }
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub username: String,
    pub operation: String,
    pub resource: String,
    pub resource_type: String,
}

enum ProjectKey<'a> {
    Id(i64),
    Name(&'a str),
}

fn member(r: AnyRow) -> MemberRow {
    MemberRow {
        id: r.get("id"),
        project_id: r.get("project_id"),
        user_id: r.get("user_id"),
        username: r.get("username"),
        role_id: r.get("role_id"),
    }
}

fn artifact(r: AnyRow) -> ArtifactRow {
    ArtifactRow {
        id: r.get("id"),
        repository_id: r.get("repository_id"),
        digest: r.get("digest"),
        media_type: r.get("media_type"),
        artifact_type: r.get("artifact_type"),
        subject_digest: r.get("subject_digest"),
        annotations: r.get("annotations"),
        content: r.get("content"),
        size: r.get("total_size"),
        pushed_at: r.get("pushed_at"),
        pulled_at: r.get("pulled_at"),
    }
}

impl Meta {
    // ---- portal sessions ----

    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        // Expired sessions are swept whenever a new one starts.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now_ms())
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(expires_at)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// The user and CSRF token of a live session.
    pub async fn session(&self, id_hash: &str) -> Result<Option<(UserRow, String)>> {
        let row = sqlx::query(
            "SELECT user_id, csrf FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let csrf: String = row.get("csrf");
        Ok(self
            .user_by_id(row.get("user_id"))
            .await?
            .map(|u| (u, csrf)))
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        self.exec_write("DELETE FROM sessions WHERE id_hash = $1", |q| {
            q.bind(id_hash.to_string())
        })
        .await
    }
}
