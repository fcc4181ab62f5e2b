//! Repair rounds: what the findings of `qlp/infrastructure` on this
//! agent's files ask it to change, kept from round to round.
//!
//! The configuration is written so that most of that validator's rules
//! cannot fire: storage is always encrypted, buckets always block public
//! access, databases are private with deletion protection, secrets come
//! from `random_password` and Secrets Manager, providers are pinned and
//! only the load balancer takes traffic from outside, on 80 and 443. Two
//! choices are left to the intent and, failing that, to a repair round:
//!
//! | finding | what the agent changes |
//! |---|---|
//! | `infrastructure/tf-logging-disabled` | S3 access logging for every bucket into a log bucket (ALB access logs are always on) |
//! | `infrastructure/tf-unencrypted-storage` | a customer-managed KMS key, with rotation, for buckets, the database and its secret |
//!
//! A finding counts when its path is under `terraform/` (another agent's
//! file is not this agent's to change). A change once made stays: the
//! agent recognises it in its own earlier files (`request.files`), so a
//! later round with no finding left does not undo it.

use qlp_sdk::{File, GenerationRequest};

use crate::ask::OUTPUT_DIR;

/// The rule of `qlp/infrastructure` answered by access logging.
pub const LOGGING_RULE: &str = "infrastructure/tf-logging-disabled";

/// The rule of `qlp/infrastructure` answered by a customer-managed key.
pub const ENCRYPTION_RULE: &str = "infrastructure/tf-unencrypted-storage";

/// Words of the intent that ask for access logging.
const LOGGING_WORDS: &[&str] = &["logging", "logged", "audit", "auditing", "auditable"];

/// Words of the intent that ask for a customer-managed key.
const KMS_WORDS: &[&str] = &["kms", "cmk", "cmks"];

/// The resource whose presence in an earlier round's files shows access
/// logging was turned on.
const LOGGING_MARK: &str = "resource \"aws_s3_bucket_logging\"";

/// The resource whose presence shows the customer-managed key was added.
const KMS_MARK: &str = "resource \"aws_kms_key\"";

/// The hardening beyond the defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hardening {
    /// S3 server access logs for the buckets, into a log bucket.
    pub access_logs: bool,
    /// A customer-managed KMS key instead of AWS-managed encryption.
    pub customer_managed_key: bool,
}

impl Hardening {
    /// What the intent's words, the findings of the previous round and the
    /// agent's own earlier files ask for, together.
    pub fn from_request(request: &GenerationRequest, tokens: &[String]) -> Self {
        let named = |wanted: &[&str]| qlp_intent_spec::spec::mentions_any(tokens, wanted);
        let found = |rule: &str| {
            request
                .findings
                .iter()
                .any(|f| f.rule_id == rule && f.path().is_some_and(|p| p.starts_with(OUTPUT_DIR)))
        };
        let earlier = |mark: &str| own_files(&request.files).any(|text| text.contains(mark));
        Self {
            access_logs: named(LOGGING_WORDS)
                || qlp_intent_spec::spec::mentions_any(tokens, &["access"]) && named(&["logs"])
                || found(LOGGING_RULE)
                || earlier(LOGGING_MARK),
            customer_managed_key: named(KMS_WORDS) || found(ENCRYPTION_RULE) || earlier(KMS_MARK),
        }
    }
}

/// The text of this agent's Terraform files from an earlier round.
fn own_files(files: &[File]) -> impl Iterator<Item = &str> {
    files
        .iter()
        .filter(|f| f.path.starts_with(OUTPUT_DIR) && f.path.ends_with(".tf"))
        .filter_map(File::as_text)
}
