//! The body signature: `X-Berth-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, so a
//! receiver can tell a delivery came from berth and was not altered on the way.

use ring::hmac;

/// The header carrying [`signature`].
pub const SIGNATURE_HEADER: &str = "X-Berth-Signature-256";

const PREFIX: &str = "sha256=";

/// `sha256=` followed by the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&key, body);
    let mut out = String::with_capacity(PREFIX.len() + 64);
    out.push_str(PREFIX);
    for b in tag.as_ref() {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0x0f) as usize] as char);
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `header_value` is the signature of `body` under `secret`. The comparison is
/// constant-time; hex digits may be in either case; anything malformed is `false`.
pub fn verify(secret: &[u8], body: &[u8], header_value: &str) -> bool {
    let Some(hex) = header_value.trim().strip_prefix(PREFIX) else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC4231_CASE2: &str =
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn signature_matches_rfc4231_test_case_2() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            RFC4231_CASE2
        );
    }

    #[test]
    fn verify_accepts_the_signature_in_either_hex_case() {
        let body = b"what do ya want for nothing?";
        assert!(verify(b"Jefe", body, RFC4231_CASE2));
        assert!(verify(
            b"Jefe",
            body,
            &RFC4231_CASE2.to_uppercase().replace("SHA256=", "sha256=")
        ));
    }

    #[test]
    fn verify_is_false_when_body_secret_or_signature_is_tampered() {
        let body = b"what do ya want for nothing?";
        assert!(!verify(
            b"Jefe",
            b"what do ya want for nothing!",
            RFC4231_CASE2
        ));
        assert!(!verify(b"jefe", body, RFC4231_CASE2));
        let flipped = RFC4231_CASE2.replace("5bdc", "5bdd");
        assert!(!verify(b"Jefe", body, &flipped));
    }

    #[test]
    fn verify_is_false_on_malformed_headers() {
        let body = b"what do ya want for nothing?";
        let hex = RFC4231_CASE2.strip_prefix("sha256=").unwrap();
        assert!(!verify(b"Jefe", body, hex), "prefix is required");
        assert!(!verify(b"Jefe", body, &format!("sha1={hex}")));
        assert!(!verify(
            b"Jefe",
            body,
            &RFC4231_CASE2[..RFC4231_CASE2.len() - 1]
        ));
        assert!(!verify(
            b"Jefe",
            body,
            &RFC4231_CASE2[..RFC4231_CASE2.len() - 2]
        ));
        assert!(!verify(b"Jefe", body, "sha256=zz"));
        assert!(!verify(b"Jefe", body, "sha256="));
        assert!(!verify(b"Jefe", body, ""));
    }

    #[test]
    fn header_name_is_stable() {
        assert_eq!(SIGNATURE_HEADER, "X-Berth-Signature-256");
    }
}
