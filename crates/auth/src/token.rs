//! Registry tokens: ES256 JWTs with Harbor's claims (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`,
//! `jti`, `access`). The signing key is generated on first start into the data directory
//! (mode 0600) and never leaves it.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub const ISSUER: &str = "harbor-token-issuer";
pub const AUDIENCE: &str = "harbor-registry";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenAccess {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(default)]
    pub access: Vec<TokenAccess>,
    /// berth's narrowing for scanners: the token reaches only this manifest digest and the
    /// blobs it lists, whatever `access` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token is invalid: {0}")]
    Invalid(String),
    #[error("signing key: {0}")]
    Key(String),
}

pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    validation: Validation,
}

impl TokenIssuer {
    /// Loads the key at `path`, or generates and stores one.
    pub fn load_or_create(path: &Path) -> Result<TokenIssuer, TokenError> {
        let rng = SystemRandom::new();
        let pkcs8 = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| TokenError::Key("could not generate a key".into()))?;
                write_private(path, doc.as_ref()).map_err(|e| TokenError::Key(e.to_string()))?;
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(TokenError::Key(format!("{}: {e}", path.display()))),
        };
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .map_err(|_| {
                TokenError::Key(format!("{} is not a P-256 PKCS#8 key", path.display()))
            })?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = format!("{:x}", Sha256::digest(&public))[..16].to_string();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "aud", "iss", "sub"]);
        Ok(TokenIssuer {
            encoding: EncodingKey::from_ec_der(&pkcs8),
            decoding: DecodingKey::from_ec_der(&public),
            kid,
            validation,
        })
    }

    /// Signs a token for `subject` with `access`, valid for `ttl_secs`.
    pub fn issue(
        &self,
        subject: &str,
        access: Vec<TokenAccess>,
        ttl_secs: i64,
    ) -> Result<(String, TokenClaims), TokenError> {
        self.issue_for(subject, access, ttl_secs, None)
    }

    /// Like [`issue`](Self::issue), limited to one artifact (see [`TokenClaims::artifact`]).
    pub fn issue_for(
        &self,
        subject: &str,
        access: Vec<TokenAccess>,
        ttl_secs: i64,
        artifact: Option<String>,
    ) -> Result<(String, TokenClaims), TokenError> {
        let now = now_secs();
        let mut jti = [0u8; 12];
        SystemRandom::new()
            .fill(&mut jti)
            .map_err(|_| TokenError::Key("no randomness".into()))?;
        let claims = TokenClaims {
            iss: ISSUER.into(),
            sub: subject.into(),
            aud: AUDIENCE.into(),
            exp: now + ttl_secs,
            nbf: now,
            iat: now,
            jti: jti.iter().map(|b| format!("{b:02x}")).collect(),
            access,
            artifact,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| TokenError::Key(e.to_string()))?;
        Ok((token, claims))
    }

    /// Verifies signature, algorithm, issuer, audience and validity period.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> (TokenIssuer, std::path::PathBuf) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("berth-key-{}-{n}", std::process::id()));
        (TokenIssuer::load_or_create(&path).unwrap(), path)
    }

    #[test]
    fn issue_verify_and_refuse_forgeries() {
        let (iss, path) = issuer();
        let access = vec![TokenAccess {
            kind: "repository".into(),
            name: "library/a".into(),
            actions: vec!["pull".into()],
        }];
        let (token, _) = iss.issue("alice", access.clone(), 300).unwrap();
        let claims = iss.verify(&token).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.access, access);
        // Same key reloads from disk.
        let again = TokenIssuer::load_or_create(&path).unwrap();
        assert!(again.verify(&token).is_ok());
        // Tampered payload, alg none, expired, foreign key.
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
        assert!(iss.verify(&forged).is_err());
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert!(iss.verify(&none).is_err());
        let (expired, _) = iss.issue("alice", vec![], -120).unwrap();
        assert!(iss.verify(&expired).is_err());
        let (other, other_path) = issuer();
        let (foreign, _) = other.issue("alice", vec![], 300).unwrap();
        assert!(iss.verify(&foreign).is_err());
        std::fs::remove_file(path).unwrap();
        std::fs::remove_file(other_path).unwrap();
    }
}
