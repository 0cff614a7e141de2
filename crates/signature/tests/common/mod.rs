//! Test support: DER and CBOR writers, ring-generated keys, certificates and envelopes.
#![allow(dead_code)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use signature::{PublicKey, TrustConfig, TrustedCert};

/// 2027-01-15T08:00:00Z — "now" in these tests.
pub const NOW: i64 = 1_800_000_000_000;
pub const DAY: i64 = 86_400_000;
pub const YEAR: i64 = 365 * DAY;

pub const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const OTHER_DIGEST: &str =
    "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../../shared/fixtures/signatures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn data(path: &str) -> String {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

// ---- DER ----

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 128 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

pub fn int(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x03, &[&[0u8][..], bytes].concat())
}

pub fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

pub fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}

pub fn name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return seq(&[]);
    }
    seq(&[set(&[seq(&[oid("2.5.4.3"), utf8(cn)])])])
}

fn civil(ms: i64) -> (i64, i64, i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// UTCTime before 2050, GeneralizedTime after (RFC 5280).
pub fn x509_time(ms: i64) -> Vec<u8> {
    let (y, m, d, h, mi, s) = civil(ms);
    if (1950..2050).contains(&y) {
        tlv(
            0x17,
            format!("{:02}{m:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes(),
        )
    } else {
        tlv(
            0x18,
            format!("{y:04}{m:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes(),
        )
    }
}

pub fn rfc3339(ms: i64) -> String {
    let (y, m, d, h, mi, s) = civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

// ---- keys ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    P256,
    P384,
    Ed25519,
}

pub struct Key {
    pub kind: Kind,
    pkcs8: Vec<u8>,
}

impl Key {
    pub fn generate(kind: Kind) -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = match kind {
            Kind::P256 => EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng),
            Kind::P384 => EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, &rng),
            Kind::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng),
        }
        .unwrap();
        Key {
            kind,
            pkcs8: pkcs8.as_ref().to_vec(),
        }
    }

    fn ecdsa(&self, alg: &'static sig::EcdsaSigningAlgorithm) -> EcdsaKeyPair {
        EcdsaKeyPair::from_pkcs8(alg, &self.pkcs8, &SystemRandom::new()).unwrap()
    }

    fn public_bytes(&self) -> Vec<u8> {
        match self.kind {
            Kind::P256 => self.ecdsa(&sig::ECDSA_P256_SHA256_ASN1_SIGNING),
            Kind::P384 => self.ecdsa(&sig::ECDSA_P384_SHA384_ASN1_SIGNING),
            Kind::Ed25519 => {
                return Ed25519KeyPair::from_pkcs8(&self.pkcs8)
                    .unwrap()
                    .public_key()
                    .as_ref()
                    .to_vec()
            }
        }
        .public_key()
        .as_ref()
        .to_vec()
    }

    /// The SubjectPublicKeyInfo: the fixed algorithm prefix for the curve around the key.
    pub fn spki_der(&self) -> Vec<u8> {
        let alg = match self.kind {
            Kind::P256 => seq(&[oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")]),
            Kind::P384 => seq(&[oid("1.2.840.10045.2.1"), oid("1.3.132.0.34")]),
            Kind::Ed25519 => seq(&[oid("1.3.101.112")]),
        };
        seq(&[alg, bit_string(&self.public_bytes())])
    }

    pub fn pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki_der())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_pem(&self.pem()).unwrap()
    }

    /// A cosign signature: ASN.1 DER for ECDSA (SHA-256 on P-256, SHA-384 on P-384).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self.kind {
            Kind::P256 => self
                .ecdsa(&sig::ECDSA_P256_SHA256_ASN1_SIGNING)
                .sign(&rng, message)
                .unwrap()
                .as_ref()
                .to_vec(),
            Kind::P384 => self
                .ecdsa(&sig::ECDSA_P384_SHA384_ASN1_SIGNING)
                .sign(&rng, message)
                .unwrap()
                .as_ref()
                .to_vec(),
            Kind::Ed25519 => Ed25519KeyPair::from_pkcs8(&self.pkcs8)
                .unwrap()
                .sign(message)
                .as_ref()
                .to_vec(),
        }
    }

    /// A JOSE/COSE signature: raw r || s.
    pub fn sign_fixed(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        let alg = match self.kind {
            Kind::P256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            Kind::P384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            Kind::Ed25519 => panic!("Notation has no Ed25519"),
        };
        self.ecdsa(alg)
            .sign(&rng, message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// The AlgorithmIdentifier of certificates this key signs.
    pub fn cert_sig_alg(&self) -> Vec<u8> {
        match self.kind {
            Kind::P256 => seq(&[oid("1.2.840.10045.4.3.2")]),
            Kind::P384 => seq(&[oid("1.2.840.10045.4.3.3")]),
            Kind::Ed25519 => seq(&[oid("1.3.101.112")]),
        }
    }

    pub fn jose_alg(&self) -> &'static str {
        match self.kind {
            Kind::P256 => "ES256",
            Kind::P384 => "ES384",
            Kind::Ed25519 => "EdDSA",
        }
    }

    pub fn cose_alg(&self) -> i64 {
        match self.kind {
            Kind::P256 => -7,
            Kind::P384 => -35,
            Kind::Ed25519 => -8,
        }
    }
}

// ---- certificates ----

pub fn ext(oid_str: &str, critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(oid_str)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xff]);
    }
    parts.push(octets(&value));
    seq(&parts)
}

pub fn basic_constraints(ca: bool) -> Vec<u8> {
    let value = if ca {
        seq(&[vec![0x01, 0x01, 0xff]])
    } else {
        seq(&[])
    };
    ext("2.5.29.19", true, value)
}

pub fn key_usage_cert_sign() -> Vec<u8> {
    ext("2.5.29.15", true, vec![0x03, 0x02, 0x01, 0x06])
}

pub fn key_usage_digital_signature() -> Vec<u8> {
    ext("2.5.29.15", true, vec![0x03, 0x02, 0x07, 0x80])
}

pub fn eku(purpose: &str) -> Vec<u8> {
    ext("2.5.29.37", false, seq(&[oid(purpose)]))
}

pub const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

pub fn san_email(email: &str) -> Vec<u8> {
    ext("2.5.29.17", true, seq(&[tlv(0x81, email.as_bytes())]))
}

pub struct CertSpec<'a> {
    pub subject: &'a str,
    pub key: &'a Key,
    pub issuer: &'a str,
    pub issuer_key: &'a Key,
    pub not_before: i64,
    pub not_after: i64,
    pub serial: u64,
    pub extensions: Vec<Vec<u8>>,
}

pub fn build_cert(spec: &CertSpec) -> Vec<u8> {
    build_cert_with_alg(spec, spec.issuer_key.cert_sig_alg())
}

/// A certificate naming `alg` as its signature algorithm (signed with the issuer key's own).
pub fn build_cert_with_alg(spec: &CertSpec, alg: Vec<u8>) -> Vec<u8> {
    let mut tbs_parts = vec![
        tlv(0xa0, &int(2)),
        int(spec.serial),
        alg.clone(),
        name(spec.issuer),
        seq(&[x509_time(spec.not_before), x509_time(spec.not_after)]),
        name(spec.subject),
        spec.key.spki_der(),
    ];
    if !spec.extensions.is_empty() {
        tbs_parts.push(tlv(0xa3, &seq(&spec.extensions)));
    }
    let tbs = seq(&tbs_parts);
    let signature = spec.issuer_key.sign(&tbs);
    seq(&[tbs, alg, bit_string(&signature)])
}

/// A CA certificate valid from ten years ago to ten years on.
pub fn ca_cert(subject: &str, key: &Key, issuer: &str, issuer_key: &Key) -> Vec<u8> {
    build_cert(&CertSpec {
        subject,
        key,
        issuer,
        issuer_key,
        not_before: NOW - 10 * YEAR,
        not_after: NOW + 10 * YEAR,
        serial: 1,
        extensions: vec![basic_constraints(true), key_usage_cert_sign()],
    })
}

/// A code-signing leaf certificate valid `[not_before, not_after]`.
pub fn leaf_cert(
    subject: &str,
    key: &Key,
    issuer: &str,
    issuer_key: &Key,
    not_before: i64,
    not_after: i64,
) -> Vec<u8> {
    build_cert(&CertSpec {
        subject,
        key,
        issuer,
        issuer_key,
        not_before,
        not_after,
        serial: 7,
        extensions: vec![
            basic_constraints(false),
            key_usage_digital_signature(),
            eku(CODE_SIGNING),
        ],
    })
}

/// A three-level PKI: root → intermediate → leaf, the leaf valid a year around NOW.
pub struct Pki {
    pub root_key: Key,
    pub root: Vec<u8>,
    pub inter_key: Key,
    pub inter: Vec<u8>,
    pub leaf_key: Key,
    pub leaf: Vec<u8>,
}

impl Pki {
    pub fn new(kind: Kind) -> Pki {
        Pki::with_leaf_validity(kind, NOW - YEAR / 2, NOW + YEAR / 2)
    }

    pub fn with_leaf_validity(kind: Kind, not_before: i64, not_after: i64) -> Pki {
        let root_key = Key::generate(Kind::P384);
        let root = ca_cert("Test Root", &root_key, "Test Root", &root_key);
        let inter_key = Key::generate(Kind::P256);
        let inter = ca_cert("Test Intermediate", &inter_key, "Test Root", &root_key);
        let leaf_key = Key::generate(kind);
        let leaf = leaf_cert(
            "Test Signer",
            &leaf_key,
            "Test Intermediate",
            &inter_key,
            not_before,
            not_after,
        );
        Pki {
            root_key,
            root,
            inter_key,
            inter,
            leaf_key,
            leaf,
        }
    }

    pub fn trust_root(&self) -> TrustConfig {
        trust_certs(&[&self.root])
    }
}

pub fn trust_certs(ders: &[&[u8]]) -> TrustConfig {
    TrustConfig {
        keys: Vec::new(),
        roots: ders
            .iter()
            .map(|der| TrustedCert::from_der(der).unwrap())
            .collect(),
    }
}

pub fn trust_keys(keys: &[(&str, &Key)]) -> TrustConfig {
    TrustConfig {
        keys: keys
            .iter()
            .map(|(name, key)| (name.to_string(), key.public_key()))
            .collect(),
        roots: Vec::new(),
    }
}

// ---- cosign ----

pub fn cosign_payload(digest: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"registry.example/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

pub fn rekor_bundle(integrated_time_secs: i64) -> String {
    format!(
        r#"{{"SignedEntryTimestamp":"MEUCIQ==","Payload":{{"body":"e30=","integratedTime":{integrated_time_secs},"logIndex":1,"logID":"c0d2"}}}}"#
    )
}

pub fn in_toto(digest: &str, predicate_type: &str) -> Vec<u8> {
    let (alg, hex) = digest.split_once(':').unwrap();
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "registry.example/app", "digest": {alg: hex}}],
        "predicateType": predicate_type,
        "predicate": {}
    })
    .to_string()
    .into_bytes()
}

pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// A v0.3 Sigstore bundle with a DSSE envelope signed by `key`, and the given
/// verification material.
pub fn dsse_bundle(
    key: &Key,
    statement: &[u8],
    material: serde_json::Value,
    media_type: &str,
) -> Vec<u8> {
    let payload_type = "application/vnd.in-toto+json";
    let signature = key.sign(&pae(payload_type, statement));
    serde_json::json!({
        "mediaType": media_type,
        "verificationMaterial": material,
        "dsseEnvelope": {
            "payload": b64(statement),
            "payloadType": payload_type,
            "signatures": [{"sig": b64(&signature), "keyid": ""}]
        }
    })
    .to_string()
    .into_bytes()
}

pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const BUNDLE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

// ---- Notation ----

/// The Notation payload for `digest`.
pub fn notation_payload(digest: &str) -> Vec<u8> {
    format!(
        r#"{{"targetArtifact":{{"digest":"{digest}","mediaType":"application/vnd.oci.image.manifest.v1+json","size":481}}}}"#
    )
    .into_bytes()
}

/// A Notation JWS envelope signed by `key` with `chain` (leaf first). `protected` is the
/// protected header as JSON (use [`jws_protected`]).
pub fn jws(key: &Key, chain: &[&[u8]], protected: &serde_json::Value, payload: &[u8]) -> Vec<u8> {
    let protected_b64 = b64url(protected.to_string().as_bytes());
    let payload_b64 = b64url(payload);
    let signature = key.sign_fixed(format!("{protected_b64}.{payload_b64}").as_bytes());
    serde_json::json!({
        "payload": payload_b64,
        "protected": protected_b64,
        "header": {
            "x5c": chain.iter().map(|c| b64(c)).collect::<Vec<_>>(),
            "io.cncf.notary.signingAgent": "berth-test/1.0"
        },
        "signature": b64url(&signature)
    })
    .to_string()
    .into_bytes()
}

pub fn jws_protected(alg: &str, signing_time_ms: i64, expiry_ms: Option<i64>) -> serde_json::Value {
    let mut header = serde_json::json!({
        "alg": alg,
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": rfc3339(signing_time_ms),
    });
    if let Some(expiry) = expiry_ms {
        header["io.cncf.notary.expiry"] = rfc3339(expiry).into();
        header["crit"] =
            serde_json::json!(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]);
    }
    header
}

// ---- CBOR (for COSE) ----

/// A CBOR value to encode.
#[derive(Clone, Debug)]
pub enum C {
    Int(i64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<C>),
    Map(Vec<(C, C)>),
    Tag(u64, Box<C>),
    Null,
}

fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= 0xff {
        out.extend([m | 24, n as u8]);
    } else if n <= 0xffff {
        out.push(m | 25);
        out.extend((n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(m | 26);
        out.extend((n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend(n.to_be_bytes());
    }
}

pub fn cbor(value: &C) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out, value);
    out
}

fn encode(out: &mut Vec<u8>, value: &C) {
    match value {
        C::Int(n) if *n >= 0 => cbor_head(out, 0, *n as u64),
        C::Int(n) => cbor_head(out, 1, (-1 - *n) as u64),
        C::Bytes(b) => {
            cbor_head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        C::Text(t) => {
            cbor_head(out, 3, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        C::Array(items) => {
            cbor_head(out, 4, items.len() as u64);
            items.iter().for_each(|i| encode(out, i));
        }
        C::Map(entries) => {
            cbor_head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                encode(out, k);
                encode(out, v);
            }
        }
        C::Tag(tag, inner) => {
            cbor_head(out, 6, *tag);
            encode(out, inner);
        }
        C::Null => out.push(0xf6),
    }
}

pub fn text(s: &str) -> C {
    C::Text(s.to_string())
}

/// Notation's COSE protected header.
pub fn cose_protected(alg: i64, signing_time_ms: i64, expiry_ms: Option<i64>) -> Vec<(C, C)> {
    let mut crit = vec![text("io.cncf.notary.signingScheme")];
    let mut map = vec![
        (C::Int(1), C::Int(alg)),
        (
            C::Int(3),
            text("application/vnd.cncf.notary.payload.v1+json"),
        ),
        (text("io.cncf.notary.signingScheme"), text("notary.x509")),
        (
            text("io.cncf.notary.signingTime"),
            C::Tag(1, Box::new(C::Int(signing_time_ms / 1000))),
        ),
    ];
    if let Some(expiry) = expiry_ms {
        crit.push(text("io.cncf.notary.expiry"));
        map.push((
            text("io.cncf.notary.expiry"),
            C::Tag(1, Box::new(C::Int(expiry / 1000))),
        ));
    }
    map.insert(1, (C::Int(2), C::Array(crit)));
    map
}

/// A tagged COSE_Sign1 Notation envelope signed by `key`.
pub fn cose(key: &Key, chain: &[&[u8]], protected: Vec<(C, C)>, payload: &[u8]) -> Vec<u8> {
    let protected = cbor(&C::Map(protected));
    let to_sign = cbor(&C::Array(vec![
        text("Signature1"),
        C::Bytes(protected.clone()),
        C::Bytes(Vec::new()),
        C::Bytes(payload.to_vec()),
    ]));
    let signature = key.sign_fixed(&to_sign);
    let x5chain = C::Array(chain.iter().map(|c| C::Bytes(c.to_vec())).collect());
    cbor(&C::Tag(
        18,
        Box::new(C::Array(vec![
            C::Bytes(protected),
            C::Map(vec![
                (C::Int(33), x5chain),
                (text("io.cncf.notary.signingAgent"), text("berth-test/1.0")),
            ]),
            C::Bytes(payload.to_vec()),
            C::Bytes(signature),
        ])),
    ))
}
