use super::{parse_digest, ApiResult};
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use registry::ByteRange;
use registry::Registry;

pub async fn get(
    reg: &Registry,
    name: &str,
    digest: &str,
    headers: &HeaderMap,
    head: bool,
) -> ApiResult {
    let digest = parse_digest(digest)?;
    let size = reg.blob_size(name, &digest).await?;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => match parse_range(r, size) {
            RangeRequest::Whole => None,
            RangeRequest::Part(r) => Some(r),
            RangeRequest::Unsatisfiable => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{size}"))],
                )
                    .into_response())
            }
        },
        None => None,
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header("Docker-Content-Digest", digest.as_str())
        .header(header::ETAG, format!("\"{digest}\""))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "max-age=31536000");
    let length = match range {
        Some(r) => {
            builder = builder.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end),
            );
            r.end - r.start + 1
        }
        None => size,
    };
    builder = builder.header(header::CONTENT_LENGTH, length);
    let body = if head {
        Body::empty()
    } else {
        Body::from_stream(reg.read_blob(name, &digest, range).await?)
    };
    Ok(builder.body(body).expect("valid response"))
}

pub async fn delete(reg: &Registry, name: &str, digest: &str) -> ApiResult {
    let digest = parse_digest(digest)?;
    reg.delete_blob(name, &digest).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Debug, PartialEq)]
enum RangeRequest {
    Whole,
    Part(ByteRange),
    Unsatisfiable,
}

/// One `bytes=` range (first, last, or suffix form). Multiple ranges or other units are
/// ignored, which RFC 9110 allows: the whole blob is sent.
fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Unsatisfiable;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        match b.parse::<u64>() {
            Ok(n) if n > 0 && size > 0 => ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            _ => return RangeRequest::Unsatisfiable,
        }
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return RangeRequest::Unsatisfiable;
        };
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            match b.parse::<u64>() {
                Ok(e) => e.min(size.saturating_sub(1)),
                Err(_) => return RangeRequest::Unsatisfiable,
            }
        };
        if start >= size || start > end {
            return RangeRequest::Unsatisfiable;
        }
        ByteRange { start, end }
    };
    RangeRequest::Part(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let p = |s, e| RangeRequest::Part(ByteRange { start: s, end: e });
        assert_eq!(parse_range("bytes=0-9", 100), p(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), p(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), p(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), p(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=x-1", 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), RangeRequest::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeRequest::Whole);
    }
}
