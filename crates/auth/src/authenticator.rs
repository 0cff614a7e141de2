//! Turns credentials into a `Principal`: Basic (users and robots) and registry tokens.
//! argon2 is slow by design, so a successful Basic login is remembered for a short while under
//! a SHA-256 of the credentials (never the credentials themselves); verified tokens are
//! remembered until they expire. Repeated failures are slowed per user and per source address;
//! successful logins never wait.

use crate::rbac::RobotPermission;
use crate::token::{now_secs, TokenClaims, TokenIssuer};
use crate::{password, Principal};
use meta::Meta;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BASIC_CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_LIMIT: usize = 10_000;
const FREE_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_DELAY: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid username or password")]
    BadCredentials,
    #[error("{0}")]
    BadToken(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub struct Authenticator {
    meta: Meta,
    pub tokens: TokenIssuer,
    basic_cache: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    token_cache: Mutex<HashMap<String, TokenClaims>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// Basic verifications in flight, by credentials: requests with the same credentials
    /// that miss the cache wait for one argon2id verification (19 MiB of memory and tens of
    /// ms of CPU each) instead of each running their own. 16 keep-alive connections whose
    /// cached login expired at the same moment otherwise ran up to 16 at once (+106 MiB RSS
    /// in `bench/rss_phases.py`).
    verifying: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
}

/// A turn at verifying one set of credentials; removes the entry from `verifying` when
/// the last request holding it is done (or dropped, e.g. its client went away).
struct VerifyTurn<'a> {
    verifying: &'a Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
    key: [u8; 32],
    gate: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Drop for VerifyTurn<'_> {
    fn drop(&mut self) {
        let mut map = self.verifying.lock().expect("verifying lock");
        if let Some(gate) = self.gate.take() {
            // The map's reference and this one: nobody else waits for these credentials.
            if Arc::strong_count(&gate) == 2 {
                map.remove(&self.key);
            }
        }
    }
}

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: V) {
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(k, v);
}

impl Authenticator {
    pub fn new(meta: Meta, tokens: TokenIssuer) -> Authenticator {
        Authenticator {
            meta,
            tokens,
            basic_cache: Mutex::new(HashMap::new()),
            token_cache: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            verifying: Mutex::new(HashMap::new()),
        }
    }

    fn cached_basic(&self, key: &[u8; 32]) -> Option<Principal> {
        match self.basic_cache.lock().expect("cache lock").get(key) {
            Some((p, at)) if at.elapsed() < BASIC_CACHE_TTL => Some(p.clone()),
            _ => None,
        }
    }

    /// Forgets remembered logins: called whenever a user or robot changes (password, disable,
    /// secret refresh, deletion), so the change takes effect at once on this replica.
    pub fn invalidate(&self) {
        self.basic_cache.lock().expect("cache lock").clear();
    }

    fn delay_for(&self, keys: &[String]) -> Duration {
        let f = self.failures.lock().expect("failures lock");
        let worst = keys
            .iter()
            .filter_map(|k| f.get(k))
            .filter(|(_, at)| at.elapsed() < FAILURE_WINDOW)
            .map(|(n, _)| *n)
            .max()
            .unwrap_or(0);
        if worst < FREE_FAILURES {
            return Duration::ZERO;
        }
        let exp = (worst - FREE_FAILURES).min(5);
        (Duration::from_millis(250) * 2u32.pow(exp)).min(MAX_DELAY)
    }

    fn record_failure(&self, keys: &[String]) {
        let mut f = self.failures.lock().expect("failures lock");
        for k in keys {
            let entry = f
                .get(k)
                .copied()
                .filter(|(_, at)| at.elapsed() < FAILURE_WINDOW);
            let n = entry.map(|(n, _)| n).unwrap_or(0) + 1;
            bounded_insert(&mut f, k.clone(), (n, Instant::now()));
        }
    }

    /// Authenticates Basic credentials of a user or a robot (`robot$…`).
    pub async fn basic(
        &self,
        username: &str,
        secret: &str,
        source: Option<IpAddr>,
    ) -> Result<Principal, AuthError> {
        let mut keys = vec![format!("user:{username}")];
        if let Some(ip) = source {
            keys.push(format!("ip:{ip}"));
        }
        let key: [u8; 32] = Sha256::new()
            .chain_update(username.as_bytes())
            .chain_update([0u8])
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        if let Some(p) = self.cached_basic(&key) {
            return Ok(p);
        }
        let mut turn = VerifyTurn {
            verifying: &self.verifying,
            key,
            gate: None,
        };
        let gate = self
            .verifying
            .lock()
            .expect("verifying lock")
            .entry(key)
            .or_default()
            .clone();
        turn.gate = Some(gate.clone());
        let verified = {
            let _held = gate.lock().await;
            // Another request with these credentials may have verified them meanwhile.
            if let Some(p) = self.cached_basic(&key) {
                return Ok(p);
            }
            let verified = self.check(username, secret).await?;
            if let Some(p) = &verified {
                // Cached before the turn passes on, so the next waiter finds it.
                bounded_insert(
                    &mut self.basic_cache.lock().expect("cache lock"),
                    key,
                    (p.clone(), Instant::now()),
                );
            }
            verified
        };
        drop(gate);
        drop(turn);
        match verified {
            Some(p) => {
                self.failures
                    .lock()
                    .expect("failures lock")
                    .remove(&keys[0]);
                Ok(p)
            }
            None => {
                // Only failures wait: a correct login is never slowed by someone else's
                // guessing from the same address, while repeated guessing gets slower.
                let delay = self.delay_for(&keys);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                tracing::info!(user = username, source = ?source, "authentication failed");
                self.record_failure(&keys);
                Err(AuthError::BadCredentials)
            }
        }
    }

    async fn check(&self, username: &str, secret: &str) -> Result<Option<Principal>, AuthError> {
        // No account name holds a control character; such a name never reaches the database.
        if username.is_empty() || username.chars().any(char::is_control) {
            return Ok(None);
        }
        let internal = |e: meta::MetaError| AuthError::Internal(e.to_string());
        if username.starts_with("robot$") {
            let Some(r) = self.meta.robot_by_name(username).await.map_err(internal)? else {
                // Spend the same time as a real check, so names can't be probed by timing.
                password::verify_secret(secret, DUMMY_HASH);
                return Ok(None);
            };
            let expired = r.expires_at != -1 && r.expires_at <= now_secs();
            if !password::verify_secret(secret, &r.secret_hash) || r.disabled || expired {
                return Ok(None);
            }
            let permissions: Vec<RobotPermission> =
                serde_json::from_str(&r.permissions).unwrap_or_default();
            return Ok(Some(Principal::Robot {
                id: r.id,
                name: r.name,
                permissions,
            }));
        }
        let Some(u) = self.meta.user_by_name(username).await.map_err(internal)? else {
            password::verify_secret(secret, DUMMY_HASH);
            return Ok(None);
        };
        if !password::verify_secret(secret, &u.password_hash) {
            return Ok(None);
        }
        Ok(Some(Principal::User {
            id: u.id,
            name: u.username,
            admin: u.sysadmin,
        }))
    }

    /// Verifies a registry token (signature, algorithm, issuer, audience, validity).
    pub fn verify_token(&self, token: &str) -> Result<TokenClaims, AuthError> {
        if let Some(c) = self.token_cache.lock().expect("cache lock").get(token) {
            if c.exp > now_secs() {
                return Ok(c.clone());
            }
        }
        let claims = self
            .tokens
            .verify(token)
            .map_err(|e| AuthError::BadToken(e.to_string()))?;
        bounded_insert(
            &mut self.token_cache.lock().expect("cache lock"),
            token.to_string(),
            claims.clone(),
        );
        Ok(claims)
    }
}

/// A valid argon2id hash of a random string, verified against when the account doesn't exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$fW6JqQ2nY8oRZw0uA8p0uVQ9+f2XgS9Q3rI3m5hO8nE";
