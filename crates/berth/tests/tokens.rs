//! Registry tokens signed with berth's own key but carrying the wrong audience, issuer or an
//! expired validity are refused; a correctly made one is accepted (so the refusals are about
//! the claims, not the signature).

mod common;
use common::*;
use serde_json::json;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(key_der: &[u8], claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_der(key_der);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        &claims,
        &key,
    )
    .unwrap()
}

#[test]
fn tokens_with_wrong_audience_issuer_or_expiry_are_refused() {
    let s = Server::start();
    let (digest, _) = s.client().push_image("private/app", "v1", &[b"layer"]);
    let key = std::fs::read(s.data_dir().join("token-signing-key.der"))
        .expect("signing key in the data dir");
    let access = json!([{"type": "repository", "name": "private/app", "actions": ["pull"]}]);
    let claims = |iss: &str, aud: &str, iat: i64, exp: i64| json!({"iss": iss, "sub": "admin", "aud": aud, "iat": iat, "nbf": iat, "exp": exp, "jti": "t", "access": access});
    let t = now();
    let path = format!("/v2/private/app/manifests/{digest}");
    let good = sign(
        &key,
        claims("harbor-token-issuer", "harbor-registry", t, t + 300),
    );
    assert_eq!(
        s.anon().with_bearer(&good).get(&path).status,
        200,
        "a well-formed token works"
    );
    for (what, token) in [
        (
            "wrong audience",
            sign(
                &key,
                claims("harbor-token-issuer", "other-registry", t, t + 300),
            ),
        ),
        (
            "wrong issuer",
            sign(&key, claims("someone-else", "harbor-registry", t, t + 300)),
        ),
        (
            "expired",
            sign(
                &key,
                claims("harbor-token-issuer", "harbor-registry", t - 600, t - 300),
            ),
        ),
        (
            "not yet valid",
            sign(
                &key,
                json!({"iss": "harbor-token-issuer", "sub": "admin", "aud": "harbor-registry",
            "iat": t, "nbf": t + 600, "exp": t + 900, "jti": "t", "access": access}),
            ),
        ),
    ] {
        let r = s.anon().with_bearer(&token).get(&path);
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert_eq!(r.error_code(), "UNAUTHORIZED");
        assert!(
            r.header("WWW-Authenticate")
                .unwrap()
                .starts_with("Bearer realm="),
            "{what}"
        );
    }
    // The refusals are logged with a reason, never with the token.
    let log = s.log();
    assert!(log.contains("registry token refused"));
    assert!(!log.contains(&good[..40]));
}
