//! Helpers shared by the unit tests: policies trusting test keys.

use super::{TrustPolicy, TrustedKey};
use crate::signing::SecretKey;

/// A policy trusting each key for its patterns.
pub fn policy_for(keys: &[(&SecretKey, &[&str])]) -> TrustPolicy {
    let mut policy = TrustPolicy::new();
    for (key, patterns) in keys {
        policy
            .add_key(TrustedKey::new(key.public_key(), patterns).unwrap())
            .unwrap();
    }
    policy
}
