//! Finding signatures: cosign's tag, the envelopes a signature manifest carries, and what
//! kind of signature artifact a manifest is.

use serde_json::Value;

use crate::cosign::SIGN_PREDICATE;
use crate::encoding::digest_like;
use crate::{
    Envelope, Scheme, COSE_MEDIA_TYPE, COSIGN_BUNDLE_ANNOTATION, COSIGN_CERT_ANNOTATION,
    COSIGN_CHAIN_ANNOTATION, COSIGN_SIGNATURE_ANNOTATION, COSIGN_SIMPLESIGNING, JWS_MEDIA_TYPE,
    MAX_ENVELOPE_BYTES, NOTATION_ARTIFACT_TYPE, SIGSTORE_BUNDLE_PREFIX,
};

/// Manifest annotation cosign (v3) puts on a bundle referrer: the in-toto predicate type.
const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// Manifest annotation cosign puts on a bundle referrer: `dsse-envelope` or `message-signature`.
const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";

/// cosign's tag for the signatures of `digest`: `sha256:<hex>` → `sha256-<hex>.sig`.
/// `None` unless `digest` is a well-formed sha256 or sha512 digest (lowercase hex).
pub fn cosign_signature_tag(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return None,
    };
    if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    Some(format!("{alg}-{hex}.sig"))
}

fn parse(manifest: &[u8]) -> Option<Value> {
    if manifest.len() > MAX_ENVELOPE_BYTES {
        return None;
    }
    serde_json::from_slice::<Value>(manifest)
        .ok()
        .filter(Value::is_object)
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn layers(manifest: &Value) -> impl Iterator<Item = &Value> {
    manifest
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn is_notation(manifest: &Value) -> bool {
    str_at(manifest, "/artifactType") == Some(NOTATION_ARTIFACT_TYPE)
        || str_at(manifest, "/config/mediaType") == Some(NOTATION_ARTIFACT_TYPE)
}

fn is_bundle(media_type: Option<&str>) -> bool {
    media_type.is_some_and(|m| m.starts_with(SIGSTORE_BUNDLE_PREFIX))
}

/// The blob a layer descriptor names, when `fetch` has it and it matches the descriptor's
/// digest and size.
fn fetch_layer(layer: &Value, fetch: &mut dyn FnMut(&str) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let digest = str_at(layer, "/digest")?;
    let blob = fetch(digest)?;
    if blob.len() > MAX_ENVELOPE_BYTES {
        return None;
    }
    if let Some(size) = layer.get("size").and_then(Value::as_u64) {
        if size != blob.len() as u64 {
            return None;
        }
    }
    (digest_like(digest, &blob)? == digest).then_some(blob)
}

/// The envelopes a signature manifest carries, fetching small blobs by digest with `fetch`
/// (which returns `None` for a blob that is missing or too big):
/// - a Notation signature manifest (artifactType or config.mediaType
///   [`NOTATION_ARTIFACT_TYPE`]): each JWS or COSE layer;
/// - otherwise each cosign simple-signing layer that has a signature annotation (re-signing
///   adds layers), and each Sigstore bundle layer.
///
/// Layers whose blob is missing, too big, or does not match its descriptor are skipped; a
/// manifest that is not JSON yields nothing.
pub fn envelopes(manifest: &[u8], fetch: &mut dyn FnMut(&str) -> Option<Vec<u8>>) -> Vec<Envelope> {
    let Some(manifest) = parse(manifest) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let notation = is_notation(&manifest);
    for layer in layers(&manifest) {
        let media_type = str_at(layer, "/mediaType");
        if notation {
            let wrap: fn(Vec<u8>) -> Envelope = match media_type {
                Some(JWS_MEDIA_TYPE) => |envelope| Envelope::NotationJws { envelope },
                Some(COSE_MEDIA_TYPE) => |envelope| Envelope::NotationCose { envelope },
                _ => continue,
            };
            if let Some(blob) = fetch_layer(layer, fetch) {
                out.push(wrap(blob));
            }
        } else if media_type == Some(COSIGN_SIMPLESIGNING) {
            let annotation = |name: &str| {
                layer
                    .get("annotations")
                    .and_then(|a| a.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let Some(signature_b64) = annotation(COSIGN_SIGNATURE_ANNOTATION) else {
                continue;
            };
            if let Some(payload) = fetch_layer(layer, fetch) {
                out.push(Envelope::CosignSimpleSigning {
                    payload,
                    signature_b64,
                    certificate_pem: annotation(COSIGN_CERT_ANNOTATION),
                    chain_pem: annotation(COSIGN_CHAIN_ANNOTATION),
                    bundle_json: annotation(COSIGN_BUNDLE_ANNOTATION),
                });
            }
        } else if is_bundle(media_type) {
            if let Some(json) = fetch_layer(layer, fetch) {
                out.push(Envelope::SigstoreBundle { json });
            }
        }
    }
    out
}

/// What kind of signature artifact a manifest is, for Harbor's accessory types
/// (`signature.cosign`, `signature.notation`):
/// - Notation: artifactType or config.mediaType is [`NOTATION_ARTIFACT_TYPE`];
/// - cosign: a simple-signing layer, or a Sigstore bundle whose manifest annotations say it
///   is an image signature (predicate type `https://sigstore.dev/cosign/sign/v1`, or content
///   `message-signature`). Bundles of other predicates are attestations: `None`.
pub fn signature_kind(manifest: &[u8]) -> Option<Scheme> {
    let manifest = parse(manifest)?;
    if is_notation(&manifest) {
        return Some(Scheme::Notation);
    }
    if layers(&manifest).any(|l| str_at(l, "/mediaType") == Some(COSIGN_SIMPLESIGNING)) {
        return Some(Scheme::Cosign);
    }
    let bundle = is_bundle(str_at(&manifest, "/artifactType"))
        || layers(&manifest).any(|l| is_bundle(str_at(l, "/mediaType")));
    if bundle {
        let annotation = |name: &str| {
            manifest
                .get("annotations")
                .and_then(|a| a.get(name))
                .and_then(Value::as_str)
        };
        if annotation(BUNDLE_PREDICATE_ANNOTATION) == Some(SIGN_PREDICATE)
            || annotation(BUNDLE_CONTENT_ANNOTATION) == Some("message-signature")
        {
            return Some(Scheme::Cosign);
        }
    }
    None
}
