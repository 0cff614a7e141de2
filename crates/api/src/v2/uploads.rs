use super::{body_stream, header_str, parse_digest, range_header, ApiResult};
use crate::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use registry::{MountOutcome, Registry, RegistryError};
use std::collections::HashMap;

fn session_url(name: &str, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

fn session_response(status: StatusCode, name: &str, id: &str, size: u64) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, session_url(name, id))
        .header(header::RANGE, range_header(size))
        .header("Docker-Upload-UUID", id)
        .header(header::CONTENT_LENGTH, 0)
        .body(Body::empty())
        .expect("valid response")
}

fn blob_created(name: &str, digest: &oci::Digest) -> Response {
    Response::builder()
        .status(StatusCode::CREATED)
        .header(header::LOCATION, format!("/v2/{name}/blobs/{digest}"))
        .header("Docker-Content-Digest", digest.as_str())
        .header(header::CONTENT_LENGTH, 0)
        .body(Body::empty())
        .expect("valid response")
}

/// `POST /v2/<name>/blobs/uploads/`: mount, monolithic upload, or a new session.
pub async fn start(
    reg: &Registry,
    name: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
    operator: &str,
) -> ApiResult {
    if let Some(mount) = query.get("mount") {
        let digest = parse_digest(mount)?;
        return Ok(
            match reg
                .mount(name, &digest, query.get("from").map(String::as_str))
                .await?
            {
                MountOutcome::Mounted(d) => blob_created(name, &d),
                MountOutcome::Session(id) => session_response(StatusCode::ACCEPTED, name, &id, 0),
            },
        );
    }
    if let Some(digest) = query.get("digest") {
        let digest = parse_digest(digest)?;
        reg.upload_monolithic(name, &digest, body_stream(body), operator)
            .await?;
        return Ok(blob_created(name, &digest));
    }
    let _ = headers;
    let id = reg.start_upload(name).await?;
    Ok(session_response(StatusCode::ACCEPTED, name, &id, 0))
}

/// `GET` on a session: how much has arrived.
pub async fn status(reg: &Registry, name: &str, id: &str) -> ApiResult {
    let size = reg.upload_status(name, id).await?;
    Ok(session_response(StatusCode::NO_CONTENT, name, id, size))
}

/// Parses `Content-Range` of a chunk: `<start>-<end>`, tolerating a `bytes` unit.
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let v = value.trim();
    let v = v
        .strip_prefix("bytes=")
        .or_else(|| v.strip_prefix("bytes "))
        .unwrap_or(v);
    let v = v.split('/').next()?;
    let (a, b) = v.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// `PATCH`: a chunk (with `Content-Range`) or a stream (without).
pub async fn patch(
    reg: &Registry,
    name: &str,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult {
    let resume = |e: RegistryError| ApiError {
        error: e,
        location: Some(session_url(name, id)),
        challenge: None,
    };
    let start = match header_str(headers, header::CONTENT_RANGE.as_str()) {
        None => None,
        Some(v) => {
            let Some((start, end)) = parse_content_range(v) else {
                let size = reg.upload_status(name, id).await?;
                tracing::debug!(content_range = v, "malformed Content-Range");
                return Err(resume(RegistryError::RangeInvalid { size }));
            };
            if end < start {
                let size = reg.upload_status(name, id).await?;
                return Err(resume(RegistryError::RangeInvalid { size }));
            }
            if let Some(len) = header_str(headers, header::CONTENT_LENGTH.as_str()) {
                if len.parse::<u64>().ok() != Some(end - start + 1) {
                    return Err(RegistryError::SizeInvalid(format!(
                        "Content-Length {len} does not match Content-Range {v}"
                    ))
                    .into());
                }
            }
            Some(start)
        }
    };
    let size = reg
        .append(name, id, start, super::body_stream(body))
        .await
        .map_err(resume)?;
    Ok(session_response(StatusCode::ACCEPTED, name, id, size))
}

/// `PUT ?digest=`: the last chunk (optional) and the commit.
pub async fn finish(
    reg: &Registry,
    name: &str,
    id: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
    operator: &str,
) -> ApiResult {
    let Some(digest) = query.get("digest") else {
        return Err(RegistryError::DigestInvalid(
            "the digest query parameter is required to complete an upload".into(),
        )
        .into());
    };
    let digest = parse_digest(digest)?;
    if let Some(v) = header_str(headers, header::CONTENT_RANGE.as_str()) {
        let size = reg.upload_status(name, id).await?;
        if parse_content_range(v).map(|r| r.0) != Some(size) {
            return Err(ApiError {
                error: RegistryError::RangeInvalid { size },
                location: Some(session_url(name, id)),
                challenge: None,
            });
        }
    }
    reg.finish_upload(name, id, &digest, Some(body_stream(body)), operator)
        .await?;
    Ok(blob_created(name, &digest))
}

pub async fn cancel(reg: &Registry, name: &str, id: &str) -> ApiResult {
    reg.cancel_upload(name, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_ranges() {
        use super::parse_content_range as p;
        assert_eq!(p("0-21"), Some((0, 21)));
        assert_eq!(p("bytes=22-41"), Some((22, 41)));
        assert_eq!(p("bytes 0-9/100"), Some((0, 9)));
        assert_eq!(p("abc"), None);
        assert_eq!(p("-5"), None);
    }
}
