//! Key and token material: random bytes from `wasi:random`, URL-safe base64, SHA-256 hex.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::wasi::random::random::get_random_bytes;

/// The prefix of every API key.
pub const API_KEY_PREFIX: &str = "aos_";
/// Characters of a key kept in clear to recognise it: `aos_` + 8.
pub const API_KEY_DISPLAY_PREFIX_LEN: usize = 12;
/// URL-safe base64 of 32 bytes without padding.
pub const SECRET_LEN: usize = 43;

/// 32 random bytes, URL-safe base64 without padding: 43 characters.
pub fn random_secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(get_random_bytes(32))
}

/// Lowercase hex SHA-256 of the text's UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// Whether `text` has the shape of a secret made by `random_secret`.
pub fn looks_like_secret(text: &str) -> bool {
    text.len() == SECRET_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A random lowercase hex suffix of `len` characters (for making slugs unique).
pub fn random_hex(len: usize) -> String {
    let mut s = hex(&get_random_bytes(len.div_ceil(2) as u64));
    s.truncate(len);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        assert_eq!(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn a_secret_is_43_characters_of_url_safe_base64() {
        let made = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
        assert_eq!(made.len(), SECRET_LEN);
        assert!(looks_like_secret(&made), "{made}");
        assert!(!looks_like_secret(&made[1..]));
        assert!(!looks_like_secret(&format!("{made}A")));
        assert!(!looks_like_secret(&made.replace('_', "/")), "standard base64 is not URL-safe");
        assert!(!looks_like_secret(&made.replace('_', "=")));
    }
}
