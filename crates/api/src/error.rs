//! The one place where refusals become HTTP: status codes and OCI error bodies.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use registry::RegistryError;
use serde_json::json;

/// A refusal on `/v2/`, with the headers some errors carry.
#[derive(Debug)]
pub struct ApiError {
    pub error: RegistryError,
    /// For a 416 on an upload: the session's URL, so a client can resume.
    pub location: Option<String>,
    /// For a 401: the `WWW-Authenticate` challenge.
    pub challenge: Option<String>,
}

impl ApiError {
    /// A pull refused because the artifact lacks a required, verified signature.
    pub fn is_unsigned(&self) -> bool {
        matches!(self.error, RegistryError::Unsigned(_))
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        ApiError {
            error,
            location: None,
            challenge: None,
        }
    }
}

fn status_and_code(e: &RegistryError) -> (StatusCode, &'static str) {
    use RegistryError::*;
    match e {
        BlobUnknown => (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"),
        BlobUploadUnknown => (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
        BlobUploadInvalid(_) => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
        DigestInvalid(_) => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
        ManifestBlobUnknown(_) => (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
        ManifestInvalid(_) => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
        ManifestUnknown | ManifestUnknownForAccept(_) => {
            (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN")
        }
        NameInvalid(_) => (StatusCode::BAD_REQUEST, "NAME_INVALID"),
        NameUnknown | NameUnknownWhy(_) => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
        Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        SizeInvalid(_) => (StatusCode::BAD_REQUEST, "SIZE_INVALID"),
        TagInvalid(_) => (StatusCode::BAD_REQUEST, "TAG_INVALID"),
        Unsupported(_) => (StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED"),
        ManifestTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID"),
        RangeInvalid { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID"),
        Denied(_) | Unsigned(_) => (StatusCode::FORBIDDEN, "DENIED"),
        Busy(_) => (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS"),
        Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self.error);
        let message = match &self.error {
            RegistryError::Internal(detail) => {
                // The detail may name paths or database state: log it, don't send it.
                tracing::error!(error = %detail, "internal error");
                "internal error; the server log has details".to_string()
            }
            other => other.to_string(),
        };
        let body = json!({"errors": [{"code": code, "message": message, "detail": null}]});
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        if let RegistryError::RangeInvalid { size } = self.error {
            if let Ok(v) = HeaderValue::from_str(&crate::v2::range_header(size)) {
                headers.insert(header::RANGE, v);
            }
        }
        if matches!(self.error, RegistryError::Busy(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(loc) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, loc);
        }
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, c);
        }
        resp
    }
}
