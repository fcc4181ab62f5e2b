//! Who calls: tenants, roles, API keys and the caller a request was
//! authenticated as.
//!
//! An API key reads `qlp_<id>_<secret>`: `id` is 12 hex digits, safe to
//! log and show; `secret` is 32 random bytes in unpadded base64url. The
//! server keeps only the key's blake3 digest, and compares digests with
//! `blake3::Hash`'s constant-time equality.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine;
use serde::{Deserialize, Serialize};

/// What a caller may do. A key or token carries any set of them.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Tenants, keys and server settings, for every tenant.
    Admin,
    /// The tenant's webhooks; reads and cancels every intent of the
    /// tenant.
    Operator,
    /// Submits intents; reads and cancels its own.
    Submitter,
    /// Approves or rejects capsules; reads every intent of the tenant.
    Reviewer,
    /// Reads every intent of the tenant, never changes anything.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Operator,
        Role::Submitter,
        Role::Reviewer,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Submitter => "submitter",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tenant every server has: the first start creates it with the first
/// admin key, and rows stored before tenancy belong to it.
pub const DEFAULT_TENANT: &str = "default";

/// The file in the data directory holding the first admin key (mode
/// 0600), written by the first start; `qlp` commands read it when no
/// `QLP_API_KEY` is set.
pub const ADMIN_KEY_FILE: &str = "admin.key";

/// Longest tenant id.
pub const MAX_TENANT_CHARS: usize = 63;

/// Whether `id` is a well-formed tenant id: 1 to 63 of `[a-z0-9-]`, not
/// starting or ending with `-`.
pub fn valid_tenant(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_TENANT_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Who a request was authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub tenant: String,
    /// Stable and unique: `key:<id>` for an API key, `sso:<subject>` for a
    /// token of the identity provider. Recorded as who submitted, approved
    /// or changed something.
    pub identity: String,
    pub roles: BTreeSet<Role>,
    /// The request's id (`X-Request-Id`), for the audit trail and logs.
    pub request_id: String,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Whether the caller sees every intent of its tenant, not only those
    /// it submitted.
    pub fn sees_tenant(&self) -> bool {
        self.has_any(&[Role::Operator, Role::Reviewer, Role::Auditor])
    }

    /// Whether the caller may read an intent of `tenant` submitted by
    /// `submitted_by`. Another tenant's is never visible, whatever the
    /// roles.
    pub fn may_see(&self, tenant: &str, submitted_by: Option<&str>) -> bool {
        tenant == self.tenant
            && (self.sees_tenant()
                || (self.has(Role::Submitter) && submitted_by == Some(self.identity.as_str())))
    }
}

/// Prefix of every API key.
pub const KEY_PREFIX: &str = "qlp_";

/// Hex digits of a key's id.
pub const KEY_ID_LEN: usize = 12;

/// Characters of a key's secret: 32 bytes in unpadded base64url.
pub const KEY_SECRET_LEN: usize = 43;

/// A newly made key: what the caller is shown once, and what is stored.
pub struct NewKey {
    pub id: String,
    pub token: String,
    pub digest: String,
}

/// Makes a new random key.
pub fn new_key() -> anyhow::Result<NewKey> {
    let mut bytes = [0u8; 6 + 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system random number generator failed: {e}"))?;
    let id: String = bytes[..6].iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[6..]);
    let token = format!("{KEY_PREFIX}{id}_{secret}");
    Ok(NewKey {
        digest: digest(&token).to_hex().to_string(),
        id,
        token,
    })
}

/// The digest a key is stored as.
pub fn digest(token: &str) -> blake3::Hash {
    blake3::derive_key("qlp api key 2026-12 v1", token.as_bytes()).into()
}

/// The id of a well-formed key; `None` for anything else, which is refused
/// without a lookup.
pub fn key_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let well_formed = id.len() == KEY_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && secret.len() == KEY_SECRET_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(id)
}

/// Whether `token` is the key stored as `stored` (hex), in constant time.
pub fn matches(token: &str, stored: &str) -> bool {
    blake3::Hash::from_hex(stored).is_ok_and(|stored| stored == digest(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_well_formed_and_matches_only_its_digest() {
        let key = new_key().unwrap();
        assert!(key.token.starts_with("qlp_"));
        assert_eq!(key_id(&key.token), Some(key.id.as_str()));
        assert!(matches(&key.token, &key.digest));
        let other = new_key().unwrap();
        assert_ne!(key.id, other.id);
        assert!(!matches(&other.token, &key.digest));
        // One character changed in the secret.
        let mut forged = key.token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(key_id(&forged), Some(key.id.as_str()));
        assert!(!matches(&forged, &key.digest));
        assert!(!matches(&key.token, "not hex"));
    }

    #[test]
    fn a_secret_may_hold_every_base64url_character_and_nothing_else() {
        let id = "0123456789ab";
        let good = format!("qlp_{id}_{}", "Az09-_".repeat(7) + "x");
        assert_eq!(key_id(&good), Some(id));
        for bad in ['!', '+', '/', '=', ' ', 'é'] {
            let secret: String = std::iter::repeat_n('a', 42).chain([bad]).collect();
            assert_eq!(key_id(&format!("qlp_{id}_{secret}")), None, "{bad:?}");
        }
    }

    #[test]
    fn malformed_keys_have_no_id() {
        let key = new_key().unwrap();
        let secret = &key.token[KEY_PREFIX.len() + KEY_ID_LEN + 1..];
        for bad in [
            String::new(),
            "qlp_".into(),
            key.token.replacen("qlp_", "qlpp_", 1),
            format!("qlp_{}_{secret}", "ABCDEF012345"),
            format!("qlp_{}_{secret}", "0123456789a"),
            format!("qlp_{}_{secret}x", key.id),
            format!("qlp_{}_{}", key.id, &secret[1..]),
            format!("qlp_{}_{}!", key.id, &secret[1..]),
            format!("qlp_{}{secret}", key.id),
        ] {
            assert_eq!(key_id(&bad), None, "{bad}");
        }
    }

    #[test]
    fn tenant_ids_are_slugs() {
        for good in ["default", "a", "team-7", &"a".repeat(63)] {
            assert!(valid_tenant(good), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a b", "é", &"a".repeat(64)] {
            assert!(!valid_tenant(bad), "{bad}");
        }
    }

    #[test]
    fn callers_see_their_tenant_by_role() {
        let caller = |roles: &[Role]| Caller {
            tenant: "acme".into(),
            identity: "key:1".into(),
            roles: roles.iter().copied().collect(),
            request_id: String::new(),
        };
        let submitter = caller(&[Role::Submitter]);
        assert!(submitter.may_see("acme", Some("key:1")));
        assert!(!submitter.may_see("acme", Some("key:2")));
        assert!(!submitter.may_see("acme", None));
        assert!(!submitter.may_see("other", Some("key:1")));
        for role in [Role::Operator, Role::Reviewer, Role::Auditor] {
            let c = caller(&[role]);
            assert!(c.may_see("acme", Some("key:2")), "{role}");
            assert!(!c.may_see("other", Some("key:1")), "{role}");
        }
        assert!(!caller(&[Role::Admin]).may_see("acme", Some("key:2")));
    }
}
