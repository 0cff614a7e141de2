use super::{header_str, ApiResult};
use crate::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use oci::manifest::MAX_MANIFEST_SIZE;
use oci::Reference;
use registry::{Registry, RegistryError};

fn reference_for_read(reference: &str) -> Result<Reference, ApiError> {
    // A reference that is no valid tag or digest cannot name anything stored: "unknown",
    // which is what the conformance suite expects for such names on GET and HEAD.
    match Reference::parse(reference) {
        Ok(r) => Ok(r),
        Err(oci::NameError::InvalidDigest(e)) => {
            Err(RegistryError::DigestInvalid(e.to_string()).into())
        }
        Err(_) => Err(RegistryError::ManifestUnknown.into()),
    }
}

fn reference_for_write(reference: &str) -> Result<Reference, ApiError> {
    Reference::parse(reference).map_err(|e| {
        match e {
            oci::NameError::InvalidDigest(e) => RegistryError::DigestInvalid(e.to_string()),
            other => RegistryError::TagInvalid(other.to_string()),
        }
        .into()
    })
}

pub async fn get(
    reg: &Registry,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    head: bool,
    policy: registry::PullPolicy,
) -> ApiResult {
    let reference = reference_for_read(reference)?;
    let m = reg.get_manifest(name, &reference, !head, policy).await?;
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !registry::acceptable(&accept, &m.media_type) {
        return Err(RegistryError::ManifestUnknownForAccept(m.media_type).into());
    }
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, &m.media_type)
        .header(header::CONTENT_LENGTH, m.content.len())
        .header("Docker-Content-Digest", &m.digest)
        .header(header::ETAG, format!("\"{}\"", m.digest));
    let body = if head {
        Body::empty()
    } else {
        Body::from(m.content)
    };
    Ok(builder.body(body).expect("valid response"))
}

pub async fn put(
    reg: &Registry,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
    operator: &str,
) -> ApiResult {
    let reference = reference_for_write(reference)?;
    let content_type = header_str(headers, header::CONTENT_TYPE.as_str()).unwrap_or("");
    let bytes = read_limited(headers, body).await?;
    let put = reg
        .put_manifest(name, &reference, content_type, &bytes, operator)
        .await?;
    let mut builder = Response::builder()
        .status(StatusCode::CREATED)
        .header(
            header::LOCATION,
            format!("/v2/{name}/manifests/{}", put.digest),
        )
        .header("Docker-Content-Digest", put.digest.as_str())
        .header(header::CONTENT_LENGTH, 0);
    if let Some(subject) = &put.subject {
        builder = builder.header("OCI-Subject", subject.as_str());
    }
    Ok(builder.body(Body::empty()).expect("valid response"))
}

/// Reads a manifest body, refusing past the size limit without buffering more than it.
async fn read_limited(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::from(RegistryError::ManifestTooLarge(format!(
            "manifest is larger than the {MAX_MANIFEST_SIZE}-byte limit"
        )))
    };
    if let Some(len) =
        header_str(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok())
    {
        if len > MAX_MANIFEST_SIZE as u64 {
            return Err(too_large());
        }
    }
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            RegistryError::ManifestInvalid(format!("request body could not be read: {e}"))
        })?;
        if out.len() + chunk.len() > MAX_MANIFEST_SIZE {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

pub async fn delete(reg: &Registry, name: &str, reference: &str, operator: &str) -> ApiResult {
    let reference = reference_for_write(reference)?;
    reg.delete_manifest(name, &reference, operator).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
