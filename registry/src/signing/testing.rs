//! Helpers shared by the unit tests: deterministic real ed25519 keys and
//! manifests.

use super::SecretKey;
use crate::manifest::{Kind, Manifest};

/// A real ed25519 key, the same for the same `n`.
pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// A validator manifest for `bytes`, targeting WIT 0.1.0.
pub fn manifest_for(name: &str, version: &str, bytes: &[u8]) -> Manifest {
    let mut m = Manifest::new(
        name,
        version.parse().unwrap(),
        Kind::Validator,
        "0.1.0".parse().unwrap(),
        bytes,
    )
    .unwrap();
    m.description = format!("{name} for tests");
    m
}
