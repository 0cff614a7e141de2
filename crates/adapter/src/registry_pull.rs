//! Pulling an image from a registry named in a scan request: its manifest (an index is
//! narrowed to one platform image), verified against the requested digest, and its layers as
//! byte streams, each verified (digest and size) as it streams.
//!
//! The registry URL comes from an untrusted scan request, so this is an SSRF boundary: every
//! request goes through the caller's outbound-guarded client (its resolver drops internal
//! addresses, its redirect policy checks each hop), and every URL berth is told to use — the
//! registry's, a token realm's — passes the caller's [`UrlCheck`] first (IP literals are
//! connected to without a DNS lookup, so the resolver alone would not see them). Manifests
//! are bounded to 4 MiB, token answers to 64 KiB; manifest and token requests time out after
//! 30 s, layers after the client's own timeout.
//!
//! Authorization: the request's `Authorization` value is sent as is. A `401` with a
//! `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge is answered by fetching a
//! token from the realm (sending the given value when it is `Basic`, anonymously when there is
//! none) and retrying with it; a given `Bearer` value is not exchanged, a `401` to it is final.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::Value;

use crate::body::read_limited;
use crate::client::error_chain;
use crate::RegistryRef;

/// A layer's bytes, as the storage crate's `ByteStream`.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Checks a URL before berth sends anything there (the outbound policy); the error says why
/// not.
pub type UrlCheck = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Largest token answer read.
pub const MAX_TOKEN_BYTES: usize = 64 << 10;
const SHORT_TIMEOUT: Duration = Duration::from_secs(30);

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The outbound policy refuses the URL.
    #[error("{0}")]
    Refused(String),
    #[error("the registry at {url} cannot be reached: {message}")]
    Unreachable { url: String, message: String },
    #[error("the registry answered {status} for {what}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    /// Input or content that is not what it should be (names, digests, manifests).
    #[error("{0}")]
    Invalid(String),
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub digest: oci::Digest,
    pub size: u64,
    pub media_type: String,
}

/// The image manifest read.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image manifest's digest: the requested one, or for an index the chosen child's.
    pub digest: oci::Digest,
    pub media_type: String,
    pub layers: Vec<Layer>,
    /// For an index: which platform image was chosen, and why.
    pub note: Option<String>,
}

/// A registry to pull from, with the authorization given.
#[derive(Clone)]
pub struct Puller {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The base URL without a trailing slash.
    base: String,
    authorization: String,
    check: UrlCheck,
    /// A token from the realm, once one was needed.
    token: Mutex<Option<String>>,
}

impl Puller {
    /// `http` must be the outbound-guarded client; `check` applies the outbound policy to a
    /// URL. The registry URL is checked here.
    pub fn new(
        http: reqwest::Client,
        registry: &RegistryRef,
        check: UrlCheck,
    ) -> Result<Puller, PullError> {
        let url = url::Url::parse(registry.url.trim())
            .map_err(|e| PullError::Invalid(format!("registry URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PullError::Invalid(format!(
                "registry URL scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(PullError::Invalid(
                "registry URL has a query or fragment".into(),
            ));
        }
        check(url.as_str()).map_err(PullError::Refused)?;
        let authorization = registry.authorization.trim().to_string();
        if authorization.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(PullError::Invalid(
                "registry authorization contains a control character".into(),
            ));
        }
        Ok(Puller {
            inner: Arc::new(Inner {
                http,
                base: url.as_str().trim_end_matches('/').to_string(),
                authorization,
                check,
                token: Mutex::new(None),
            }),
        })
    }

    /// Reads the manifest `digest` of `repository`, verifies it, and returns the image it is
    /// — for an index, its linux/amd64 image, else its first image (attestations skipped).
    pub async fn image(&self, repository: &str, digest: &str) -> Result<Image, PullError> {
        oci::name::validate_name(repository)
            .map_err(|e| PullError::Invalid(format!("repository {repository:?}: {e}")))?;
        let digest: oci::Digest = digest
            .parse()
            .map_err(|e| PullError::Invalid(format!("digest {digest:?}: {e}")))?;
        let (bytes, media_type) = self.manifest(repository, &digest).await?;
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| PullError::Invalid(format!("manifest {digest}: {e}")))?;
        let is_index = oci::media::is_index(&media_type) || doc.get("manifests").is_some();
        if !is_index {
            return image_of(digest, &bytes, &media_type, None);
        }
        let (child, note) = choose_platform(&doc)
            .ok_or_else(|| PullError::Invalid(format!("index {digest} lists no image")))?;
        let child: oci::Digest = child
            .parse()
            .map_err(|e| PullError::Invalid(format!("index {digest} child {child:?}: {e}")))?;
        let note = format!("{digest} is an index; scanning its {note} image {child}");
        tracing::info!(repository, index = %digest, image = %child, "{note}");
        let (bytes, media_type) = self.manifest(repository, &child).await?;
        image_of(child, &bytes, &media_type, Some(note))
    }

    /// The layers' byte streams, in order. Each opens its request when first polled (so a
    /// many-layer image does not hold many idle connections) and ends with an error when the
    /// bytes do not match the layer's digest or size. The check runs when the stream is read
    /// to its end: a consumer must read every stream to the end before trusting what it
    /// found (berth's scanner does: it drains each layer after the tar archive's end).
    pub fn layer_streams(&self, repository: &str, image: &Image) -> Vec<ByteStream> {
        image
            .layers
            .iter()
            .map(|l| self.layer(repository, l))
            .collect()
    }

    /// One layer's byte stream (see [`layer_streams`](Self::layer_streams)).
    pub fn layer(&self, repository: &str, layer: &Layer) -> ByteStream {
        enum State {
            Start,
            Body(Box<(reqwest::Response, oci::Hasher, u64)>),
            Done,
        }
        let puller = self.clone();
        let url = format!("{}/v2/{repository}/blobs/{}", self.inner.base, layer.digest);
        let layer = layer.clone();
        stream::unfold(State::Start, move |state| {
            let puller = puller.clone();
            let url = url.clone();
            let layer = layer.clone();
            async move {
                let (mut resp, mut hasher, mut read) = match state {
                    State::Done => return None,
                    State::Start => {
                        let what = format!("layer {}", layer.digest);
                        match puller.get(&url, None, None).await {
                            Ok(resp) if resp.status().as_u16() == 200 => {
                                (resp, oci::Hasher::new(layer.digest.algorithm()), 0)
                            }
                            Ok(resp) => {
                                let e = status_error(resp, &what).await;
                                return Some((Err(std::io::Error::other(e)), State::Done));
                            }
                            Err(e) => return Some((Err(std::io::Error::other(e)), State::Done)),
                        }
                    }
                    State::Body(b) => *b,
                };
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        read += chunk.len() as u64;
                        if read > layer.size {
                            let e = format!(
                                "layer {} is larger than its manifest says ({} bytes)",
                                layer.digest, layer.size
                            );
                            return Some((Err(std::io::Error::other(e)), State::Done));
                        }
                        hasher.update(&chunk);
                        Some((Ok(chunk), State::Body(Box::new((resp, hasher, read)))))
                    }
                    Ok(None) => {
                        let got = hasher.finish();
                        if read != layer.size || got != layer.digest {
                            let e = format!(
                                "layer {} arrived as {read} bytes with digest {got}, \
                                 not the {} bytes its manifest says",
                                layer.digest, layer.size
                            );
                            return Some((Err(std::io::Error::other(e)), State::Done));
                        }
                        None
                    }
                    Err(e) => {
                        let e = format!("reading layer {}: {}", layer.digest, error_chain(&e));
                        Some((Err(std::io::Error::other(e)), State::Done))
                    }
                }
            }
        })
        .boxed()
    }

    /// A manifest's bytes and media type, verified against `digest`.
    async fn manifest(
        &self,
        repository: &str,
        digest: &oci::Digest,
    ) -> Result<(Vec<u8>, String), PullError> {
        let url = format!("{}/v2/{repository}/manifests/{digest}", self.inner.base);
        let what = format!("manifest {repository}@{digest}");
        let resp = self
            .get(&url, Some(MANIFEST_ACCEPT), Some(SHORT_TIMEOUT))
            .await?;
        if resp.status().as_u16() != 200 {
            return Err(status_error(resp, &what).await);
        }
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let bytes = read_limited(resp, MAX_MANIFEST_BYTES, &what)
            .await
            .map_err(PullError::Invalid)?;
        let got = oci::Digest::of(digest.algorithm(), &bytes);
        if &got != digest {
            return Err(PullError::Invalid(format!(
                "{what}: the registry sent content with digest {got}"
            )));
        }
        Ok((bytes, media_type))
    }

    /// The authorization to send now: a token from the realm when one was fetched, else the
    /// given value.
    fn authorization(&self) -> String {
        match self.inner.token.lock().ok().and_then(|t| t.clone()) {
            Some(token) => format!("Bearer {token}"),
            None => self.inner.authorization.clone(),
        }
    }

    /// GET with the authorization; on a Bearer challenge, fetches a token once and retries.
    async fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, PullError> {
        let mut exchanged = false;
        loop {
            let mut req = self.inner.http.get(url);
            if let Some(a) = accept {
                req = req.header(reqwest::header::ACCEPT, a);
            }
            if let Some(t) = timeout {
                req = req.timeout(t);
            }
            let authorization = self.authorization();
            if !authorization.is_empty() {
                req = req.header(reqwest::header::AUTHORIZATION, authorization);
            }
            let resp = req.send().await.map_err(|e| PullError::Unreachable {
                url: url.to_string(),
                message: error_chain(&e),
            })?;
            if resp.status().as_u16() != 401 || exchanged || self.given_bearer() {
                return Ok(resp);
            }
            let Some(challenge) = resp
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(parse_bearer_challenge)
            else {
                return Ok(resp);
            };
            let token = self.fetch_token(&challenge).await?;
            if let Ok(mut t) = self.inner.token.lock() {
                *t = Some(token);
            }
            exchanged = true;
        }
    }

    fn given_bearer(&self) -> bool {
        self.inner
            .authorization
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("Bearer "))
    }

    async fn fetch_token(&self, challenge: &Challenge) -> Result<String, PullError> {
        (self.inner.check)(&challenge.realm)
            .map_err(|e| PullError::Refused(format!("token realm {}: {e}", challenge.realm)))?;
        let mut url = url::Url::parse(&challenge.realm)
            .map_err(|e| PullError::Invalid(format!("token realm {:?}: {e}", challenge.realm)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PullError::Invalid(format!(
                "token realm {:?} is not http(s)",
                challenge.realm
            )));
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = &challenge.service {
                q.append_pair("service", s);
            }
            if let Some(s) = &challenge.scope {
                q.append_pair("scope", s);
            }
        }
        let mut req = self.inner.http.get(url.clone()).timeout(SHORT_TIMEOUT);
        let given = &self.inner.authorization;
        if given
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("Basic "))
        {
            req = req.header(reqwest::header::AUTHORIZATION, given.as_str());
        }
        let resp = req.send().await.map_err(|e| PullError::Unreachable {
            url: challenge.realm.clone(),
            message: error_chain(&e),
        })?;
        if resp.status().as_u16() != 200 {
            return Err(status_error(resp, "a token").await);
        }
        let body = read_limited(resp, MAX_TOKEN_BYTES, "the token answer")
            .await
            .map_err(PullError::Invalid)?;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| PullError::Invalid(format!("the token answer: {e}")))?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_string)
            .ok_or_else(|| PullError::Invalid("the token answer holds no token".into()))
    }
}

/// The image of an image manifest's bytes.
fn image_of(
    digest: oci::Digest,
    bytes: &[u8],
    media_type: &str,
    note: Option<String>,
) -> Result<Image, PullError> {
    let m = oci::Manifest::parse(bytes, media_type)
        .map_err(|e| PullError::Invalid(format!("manifest {digest}: {e}")))?;
    if m.kind != oci::ManifestKind::Image {
        return Err(PullError::Invalid(format!(
            "manifest {digest} is not an image manifest"
        )));
    }
    let config_type = m
        .config
        .as_ref()
        .map(|c| c.media_type.as_str())
        .unwrap_or("");
    if m.subject.is_some() || !IMAGE_CONFIGS.contains(&config_type) {
        let kind = m.artifact_type.as_deref().unwrap_or(config_type);
        return Err(PullError::Invalid(format!(
            "artifact {digest} of type {kind:?} is not an image and cannot be scanned"
        )));
    }
    Ok(Image {
        digest,
        media_type: m.media_type.clone(),
        layers: m
            .references
            .iter()
            .map(|d| Layer {
                digest: d.digest.clone(),
                size: d.size.max(0) as u64,
                media_type: d.media_type.clone(),
            })
            .collect(),
        note,
    })
}

/// An index's linux/amd64 image, else its first; attestation manifests are skipped. Returns
/// the child's digest and a word on the choice.
fn choose_platform(index: &Value) -> Option<(String, String)> {
    let children: Vec<&Value> = index
        .get("manifests")?
        .as_array()?
        .iter()
        .filter(|c| {
            c.pointer("/annotations/vnd.docker.reference.type")
                .is_none()
        })
        .collect();
    let digest = |c: &Value| c.get("digest").and_then(Value::as_str).map(str::to_string);
    let platform = |c: &Value, k: &str| {
        c.pointer(&format!("/platform/{k}"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if let Some(c) = children
        .iter()
        .find(|c| platform(c, "os") == "linux" && platform(c, "architecture") == "amd64")
    {
        return Some((digest(c)?, "linux/amd64".into()));
    }
    let first = children.first()?;
    let (os, arch) = (platform(first, "os"), platform(first, "architecture"));
    let which = if os.is_empty() {
        "first (no linux/amd64)".to_string()
    } else {
        format!("first ({os}/{arch}; no linux/amd64)")
    };
    Some((digest(first)?, which))
}

/// A `Bearer` challenge's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge {
    realm: String,
    service: Option<String>,
    scope: Option<String>,
}

/// Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas).
fn parse_bearer_challenge(header: &str) -> Option<Challenge> {
    let h = header.trim();
    let rest = h
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("Bearer "))
        .map(|_| &h[7..])?;
    let mut params = std::collections::HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        params.insert(key, value);
    }
    Some(Challenge {
        realm: params.remove("realm").filter(|r| !r.is_empty())?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

/// An error answer, with the registry's message when it sent one (OCI error body).
async fn status_error(resp: reqwest::Response, what: &str) -> PullError {
    let status = resp.status().as_u16();
    let body = read_limited(resp, 64 << 10, "the error body")
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/errors/0/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&body)
                .trim()
                .chars()
                .take(200)
                .collect()
        });
    PullError::Status {
        what: what.to_string(),
        status,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn challenges() {
        let c = parse_bearer_challenge(
            r#"Bearer realm="https://r.example/service/token",service="harbor-registry",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://r.example/service/token");
        assert_eq!(c.service.as_deref(), Some("harbor-registry"));
        assert_eq!(c.scope.as_deref(), Some("repository:a/b:pull,push"));
        let c = parse_bearer_challenge("bearer realm=https://x/t").unwrap();
        assert_eq!(c.realm, "https://x/t");
        assert_eq!(c.scope, None);
        assert!(parse_bearer_challenge(r#"Basic realm="x""#).is_none());
        assert!(parse_bearer_challenge("Bearer service=\"s\"").is_none());
    }

    #[test]
    fn platform_choice() {
        let index = json!({"manifests": [
            {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": "sha256:att", "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
             "platform": {"os": "unknown", "architecture": "unknown"}},
            {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "amd64"}},
        ]});
        assert_eq!(choose_platform(&index).unwrap().0, "sha256:b");
        let index = json!({"manifests": [
            {"digest": "sha256:att", "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
            {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "arm64"}},
        ]});
        let (d, why) = choose_platform(&index).unwrap();
        assert_eq!(d, "sha256:a");
        assert!(why.contains("linux/arm64"), "{why}");
        assert!(choose_platform(&json!({"manifests": []})).is_none());
    }

    #[test]
    fn registry_url_checked_up_front() {
        let refuse: UrlCheck = Arc::new(|u: &str| Err(format!("{u} is internal")));
        let r = RegistryRef {
            url: "http://10.0.0.1/".into(),
            authorization: String::new(),
        };
        assert!(matches!(
            Puller::new(reqwest::Client::new(), &r, refuse),
            Err(PullError::Refused(_))
        ));
        let allow: UrlCheck = Arc::new(|_: &str| Ok(()));
        let r = RegistryRef {
            url: "ftp://x/".into(),
            authorization: String::new(),
        };
        assert!(matches!(
            Puller::new(reqwest::Client::new(), &r, allow),
            Err(PullError::Invalid(_))
        ));
    }
}
