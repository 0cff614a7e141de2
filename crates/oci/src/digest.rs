//! Content digests (`sha256:<hex>`, `sha512:<hex>`) and the streaming hasher that computes them.

use sha2::Digest as _;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated digest. The string form is kept because it is what every protocol message and
/// database row carries; validation guarantees it is lowercase `alg:hex` of the right length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
    alg: Algorithm,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("digest {0:?} is not of the form <algorithm>:<hex>")]
    Malformed(String),
    #[error("digest algorithm {0:?} is not supported (use sha256 or sha512)")]
    UnsupportedAlgorithm(String),
}

impl Digest {
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    pub fn hex(&self) -> &str {
        &self.text[self.alg.as_str().len() + 1..]
    }
    /// The digest of a byte slice, for small payloads such as manifests.
    pub fn of(alg: Algorithm, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(alg);
        h.update(bytes);
        h.finish()
    }
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::of(Algorithm::Sha256, bytes)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| DigestError::Malformed(s.to_string()))?;
        // The image spec's grammar for the algorithm part; anything else is malformed, a
        // well-formed but unknown algorithm is "unsupported".
        let alg_ok = !alg.is_empty()
            && alg
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        if !alg_ok || hex.is_empty() {
            return Err(DigestError::Malformed(s.to_string()));
        }
        let alg = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => return Err(DigestError::UnsupportedAlgorithm(other.to_string())),
        };
        let hex_ok = hex.len() == alg.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            return Err(DigestError::Malformed(s.to_string()));
        }
        Ok(Digest {
            text: s.to_string(),
            alg,
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Streaming hasher for either algorithm.
#[derive(Clone)]
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn new(alg: Algorithm) -> Hasher {
        match alg {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
        }
    }
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }
    pub fn finish(self) -> Digest {
        let (alg, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, format!("{:x}", h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, format!("{:x}", h.finalize())),
        };
        Digest {
            text: format!("{}:{}", alg.as_str(), hex),
            alg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let d = Digest::sha256_of(b"");
        assert_eq!(
            d.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(d.as_str().parse::<Digest>().unwrap(), d);
        assert!(matches!(
            "sha256:E3B0".parse::<Digest>(),
            Err(DigestError::Malformed(_))
        ));
        assert!(matches!(
            "md5:abcd".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!("nocolon".parse::<Digest>().is_err());
        assert!(format!("sha256:{}", "0".repeat(63))
            .parse::<Digest>()
            .is_err());
        let d512 = Digest::of(Algorithm::Sha512, b"abc");
        assert_eq!(d512.hex().len(), 128);
        assert_eq!(
            d512.as_str().parse::<Digest>().unwrap().algorithm(),
            Algorithm::Sha512
        );
    }
}
