//! Base64, hex, PEM and digests.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

const LENIENT_PADDING: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);

/// Standard alphabet; padding optional.
const STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT_PADDING);
/// URL-safe alphabet (JWS); padding optional.
const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT_PADDING);

/// Decodes standard base64, ignoring surrounding whitespace.
pub(crate) fn b64(text: &str) -> Option<Vec<u8>> {
    STD.decode(text.trim()).ok()
}

/// Decodes URL-safe base64 (JWS parts).
pub(crate) fn b64url(text: &str) -> Option<Vec<u8>> {
    URL.decode(text).ok()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

/// `"sha256:<hex>"` or `"sha512:<hex>"` of `data`, in the algorithm `like` names; `None` for
/// another algorithm.
pub(crate) fn digest_like(like: &str, data: &[u8]) -> Option<String> {
    let alg = match like.split_once(':')?.0 {
        "sha256" => &ring::digest::SHA256,
        "sha512" => &ring::digest::SHA512,
        _ => return None,
    };
    let name = if alg == &ring::digest::SHA256 {
        "sha256"
    } else {
        "sha512"
    };
    Some(format!(
        "{name}:{}",
        hex(ring::digest::digest(alg, data).as_ref())
    ))
}

/// One `-----BEGIN <label>-----` … `-----END <label>-----` block.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored (as OpenSSL does);
/// an unterminated block or bad base64 is an error.
pub(crate) fn parse_pem(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        match &mut current {
            None => {
                if let Some(label) = line
                    .strip_prefix("-----BEGIN ")
                    .and_then(|rest| rest.strip_suffix("-----"))
                {
                    current = Some((label.to_string(), String::new()));
                }
            }
            Some((label, body)) => {
                if let Some(end) = line
                    .strip_prefix("-----END ")
                    .and_then(|rest| rest.strip_suffix("-----"))
                {
                    if end != label {
                        return Err(format!("block BEGIN {label} ends with END {end}"));
                    }
                    let der = STD
                        .decode(body.as_bytes())
                        .map_err(|_| format!("the base64 of the {label} block does not decode"))?;
                    blocks.push(PemBlock {
                        label: std::mem::take(label),
                        der,
                    });
                    current = None;
                } else if line.starts_with("-----") {
                    return Err(format!("block {label} is not terminated"));
                } else if !line.contains(':') {
                    // RFC 1421 headers ("Proc-Type: …") are skipped.
                    body.push_str(line);
                }
            }
        }
    }
    if let Some((label, _)) = current {
        return Err(format!("block {label} is not terminated"));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_and_errors() {
        let text = "junk\n-----BEGIN A-----\nAAEC\n-----END A-----\n-----BEGIN B-----\nAw==\n-----END B-----\n";
        let blocks = parse_pem(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(blocks[0].der, vec![0, 1, 2]);
        assert_eq!(blocks[1].der, vec![3]);
        assert!(parse_pem("-----BEGIN A-----\nAAEC\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\nAAEC\n-----END B-----\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\n!!!!\n-----END A-----\n").is_err());
        assert!(parse_pem("nothing").unwrap().is_empty());
    }

    #[test]
    fn digests() {
        assert_eq!(
            digest_like("sha256:x", b"").unwrap(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(digest_like("sha512:x", b"").unwrap().len() == 7 + 128);
        assert!(digest_like("md5:x", b"").is_none());
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
