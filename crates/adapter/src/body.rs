//! Bounded reads of response bodies.

/// Reads a response body of at most `limit` bytes; a larger one (by `Content-Length` or by
/// what arrives) is an error naming `what`.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(format!("{what} is larger than {limit} bytes"));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("reading {what}: {e}"))?
    {
        if out.len() + chunk.len() > limit {
            return Err(format!("{what} is larger than {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
