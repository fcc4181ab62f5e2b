//! Structural checks that need no network: the CRC32 checksum GitHub
//! (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) embed in their
//! tokens. Such a token is a prefix, 30 random base62 characters and the
//! CRC32 (IEEE) of those 30 characters written in base62 (`0-9A-Za-z`),
//! left-padded with `0` to 6 characters. A token whose checksum does not
//! match was never issued: it is a placeholder, a truncated paste or made
//! up for a test.

/// Random characters of a checksummed GitHub or npm token.
pub const TOKEN_BODY_CHARS: usize = 30;

/// Base62 digits of the checksum (`62^6 > 2^32`).
pub const CHECKSUM_CHARS: usize = 6;

/// The base62 alphabet GitHub and npm use.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32/ISO-HDLC (the zlib and PNG checksum), bit by bit: tokens are 30
/// bytes, so a lookup table would not pay for itself.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `n` in base62, left-padded with `0` to [`CHECKSUM_CHARS`] digits.
pub fn base62(mut n: u32) -> [u8; CHECKSUM_CHARS] {
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Whether `tail` (what follows `ghp_`, `npm_`, …) is 30 base62 characters
/// followed by their checksum.
pub fn base62_crc32_ok(tail: &str) -> bool {
    let bytes = tail.as_bytes();
    if bytes.len() != TOKEN_BODY_CHARS + CHECKSUM_CHARS
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let (body, checksum) = bytes.split_at(TOKEN_BODY_CHARS);
    base62(crc32(body)) == checksum
}

/// Whether a whole token (`ghp_…` or `npm_…`) carries a valid checksum;
/// tokens without one (`github_pat_…`) pass.
pub fn token_checksum_ok(token: &str) -> bool {
    match token.split_once('_') {
        Some(("ghp" | "gho" | "ghu" | "ghs" | "ghr" | "npm", tail)) => base62_crc32_ok(tail),
        _ => true,
    }
}

/// A token with a valid checksum: `prefix` and `body` (30 base62
/// characters) followed by their checksum. Used to build test fixtures.
pub fn with_checksum(prefix: &str, body: &str) -> String {
    let checksum = base62(crc32(body.as_bytes()));
    let mut token = String::with_capacity(prefix.len() + body.len() + CHECKSUM_CHARS);
    token.push_str(prefix);
    token.push_str(body);
    token.extend(checksum.iter().map(|&b| char::from(b)));
    token
}
