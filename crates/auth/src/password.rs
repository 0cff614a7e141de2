//! Password and secret hashing (argon2id, PHC strings) and generation.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ring::rand::{SecureRandom, SystemRandom};

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).expect("system randomness");
    b
}

/// Hashes a password or robot secret with argon2id and a random salt.
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("salt encodes");
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 hashes")
        .to_string()
}

/// Verifies a secret against its stored hash (argon2's comparison is constant-time).
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// `bytes` random bytes, hex-encoded (session ids, CSRF tokens).
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    SystemRandom::new().fill(&mut b).expect("system randomness");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const ALPHANUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

fn random_string(len: usize) -> String {
    // Rejection sampling keeps the distribution uniform over the alphabet.
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            let limit = 256 - (256 % ALPHANUM.len());
            if (b as usize) < limit && out.len() < len {
                out.push(ALPHANUM[b as usize % ALPHANUM.len()] as char);
            }
        }
    }
    out
}

/// A generated password: 20 characters, upper, lower and digits (Harbor's password rule).
pub fn generate_password() -> String {
    loop {
        let p = random_string(20);
        if p.chars().any(|c| c.is_ascii_uppercase())
            && p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_digit())
        {
            return p;
        }
    }
}

/// A generated robot secret: 32 characters.
pub fn generate_secret() -> String {
    generate_password() + &random_string(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_secret("Passw0rd!");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret("Passw0rd!", &h));
        assert!(!verify_secret("passw0rd!", &h));
        assert!(!verify_secret("x", "not a hash"));
        assert_ne!(generate_password(), generate_password());
        assert_eq!(generate_secret().len(), 32);
    }
}
