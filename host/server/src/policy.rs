//! What a tenant may do, set by an admin per tenant
//! (`PUT /v1/tenants/{id}/policy`, `qlp tenant policy`): the tiers it may
//! use, the lowest tier for intents the planner marks with a compliance
//! concern, and its quotas. A tenant without a policy may use every tier
//! with no quota beyond the server's own (`--max-queued`).
//!
//! Every rule is checked at submission, before anything is stored, except
//! `max_running`, which the workers honour when they claim the next intent
//! (a tenant at its limit waits; other tenants' intents go ahead).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::tiers::Tiers;

/// A tenant's policy, as stored (JSON) and as the API takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPolicy {
    /// The tiers the tenant may use; empty: every tier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    /// For a compliance concern the planner names (`payments`,
    /// `health-data`, …), the least demanding tier such an intent may run
    /// on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub compliance_floor: BTreeMap<String, String>,
    /// Intents of the tenant waiting for a worker, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queued: Option<u32>,
    /// Intents of the tenant running at once, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_running: Option<u32>,
    /// Submissions (intents and checks) per minute, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submissions_per_minute: Option<u32>,
    /// Bytes of capsule files and artifacts the tenant keeps, at most:
    /// past it, submissions are refused until retention or an operator
    /// frees space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stored_bytes: Option<u64>,
    /// Tokens the tenant's intents may spend on the model endpoint per UTC
    /// day, over every intent and replica: a running intent holds back
    /// what it may spend, and an intent that finds the quota spent has its
    /// model calls refused (`LLM_LIMIT_EXCEEDED`) until the next day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_llm_tokens_per_day: Option<u64>,
    /// Rule packs of the registry (by name; the newest published version
    /// runs) that `qlp/rules` runs on the tenant's intents, after the
    /// tier's own, in every tier that runs `qlp/rules`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// Why a policy cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("tier `{0}` does not exist")]
    UnknownTier(String),
    #[error(
        "the compliance floor of `{concern}` is tier `{tier}`, which the policy does not allow"
    )]
    FloorNotAllowed { concern: String, tier: String },
    #[error("a compliance concern is 1 to 63 of a-z, 0-9 and `-`, not {0:?}")]
    BadConcern(String),
    #[error("`{0}` must be at least 1 (leave it out for no limit)")]
    Zero(&'static str),
    #[error("no rule pack `{0}` is published")]
    UnknownRulePack(String),
    #[error("`rules` {0}")]
    BadRules(String),
}

impl Invalid {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTier(_) => "UNKNOWN_TIER",
            Self::UnknownRulePack(_) => "UNKNOWN_RULE_PACK",
            _ => "INVALID_POLICY",
        }
    }
}

/// Why a submission is refused by its tenant's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The tier is not among the tenant's.
    TierNotAllowed { tier: String, allowed: Vec<String> },
    /// The intent carries a concern whose floor is above the tier asked.
    BelowFloor {
        concern: String,
        floor: String,
        tier: String,
    },
}

impl Refused {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TierNotAllowed { .. } => "TIER_NOT_ALLOWED",
            Self::BelowFloor { .. } => "COMPLIANCE_FLOOR",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::TierNotAllowed { tier, allowed } => format!(
                "tier `{tier}` is not among this tenant's tiers: {}",
                allowed.join(", ")
            ),
            Self::BelowFloor {
                concern,
                floor,
                tier,
            } => format!(
                "the intent involves `{concern}`, which this tenant's policy runs on tier `{floor}` or above, not `{tier}`"
            ),
        }
    }
}

impl TenantPolicy {
    /// Checks the policy against the server's tiers.
    pub fn validate(
        &self,
        tiers: &Tiers,
        published_pack: impl Fn(&str) -> bool,
    ) -> Result<(), Invalid> {
        use crate::rulepacks::MAX_PACKS;
        if self.rules.len() > MAX_PACKS {
            return Err(Invalid::BadRules(format!(
                "lists more than {MAX_PACKS} packs"
            )));
        }
        for (i, name) in self.rules.iter().enumerate() {
            if self.rules[..i].contains(name) {
                return Err(Invalid::BadRules(format!("lists `{name}` twice")));
            }
            if !published_pack(name) {
                return Err(Invalid::UnknownRulePack(name.clone()));
            }
        }
        let known = |t: &String| {
            if tiers.get(t).is_some() {
                Ok(())
            } else {
                Err(Invalid::UnknownTier(t.clone()))
            }
        };
        self.tiers.iter().try_for_each(known)?;
        for (concern, tier) in &self.compliance_floor {
            // Concerns are slugs, as tenant ids are.
            if !crate::auth::valid_tenant(concern) {
                return Err(Invalid::BadConcern(concern.clone()));
            }
            known(tier)?;
            if !self.allows(tier) {
                return Err(Invalid::FloorNotAllowed {
                    concern: concern.clone(),
                    tier: tier.clone(),
                });
            }
        }
        let zero = [
            ("max_queued", self.max_queued.map(u64::from)),
            ("max_running", self.max_running.map(u64::from)),
            (
                "submissions_per_minute",
                self.submissions_per_minute.map(u64::from),
            ),
            ("max_stored_bytes", self.max_stored_bytes),
        ];
        match zero.into_iter().find(|(_, v)| *v == Some(0)) {
            Some((name, _)) => Err(Invalid::Zero(name)),
            None => Ok(()),
        }
    }

    /// Whether the tenant may use `tier`.
    pub fn allows(&self, tier: &str) -> bool {
        self.tiers.is_empty() || self.tiers.iter().any(|t| t == tier)
    }

    /// The tier an intent runs on. `asked` is the client's tier, if it named
    /// one; `recommended` the planner's (or the server's default) otherwise;
    /// `concerns` the compliance concerns the planner found; `order` the
    /// tiers from the least to the most demanding.
    ///
    /// A tier the client named is taken as it is or refused. A recommended
    /// one is raised to the lowest tier at or above it that the tenant may
    /// use and that meets every floor; when the tenant has no such tier,
    /// the most demanding one it has that meets every floor runs.
    pub fn tier_for(
        &self,
        asked: Option<&str>,
        recommended: &str,
        concerns: &[String],
        order: &[String],
    ) -> Result<String, Refused> {
        let rank = |t: &str| order.iter().position(|o| o == t);
        let floors: Vec<(&String, &String)> = concerns
            .iter()
            .filter_map(|c| self.compliance_floor.get_key_value(c))
            .collect();
        let meets = |tier: &str| -> Result<(), Refused> {
            for (concern, floor) in &floors {
                if rank(tier) < rank(floor) {
                    return Err(Refused::BelowFloor {
                        concern: (*concern).clone(),
                        floor: (*floor).clone(),
                        tier: tier.to_owned(),
                    });
                }
            }
            Ok(())
        };
        let refuse_tier = |tier: &str| Refused::TierNotAllowed {
            tier: tier.to_owned(),
            allowed: self.tiers.clone(),
        };
        if let Some(tier) = asked {
            if !self.allows(tier) {
                return Err(refuse_tier(tier));
            }
            meets(tier)?;
            return Ok(tier.to_owned());
        }
        if self.allows(recommended) && meets(recommended).is_ok() {
            return Ok(recommended.to_owned());
        }
        // The floor is a minimum; the recommendation is advice: above
        // every tier the tenant has, the most demanding of them runs.
        let from = rank(recommended).unwrap_or(0);
        let fits = |t: &&String| self.allows(t) && meets(t).is_ok();
        order
            .iter()
            .skip(from)
            .find(fits)
            .or_else(|| order.iter().rev().find(fits))
            .cloned()
            .ok_or_else(|| {
                // Every tier the tenant has is below a floor: say which.
                match order.iter().rev().find(|t| self.allows(t)) {
                    Some(best) => meets(best).err().unwrap_or_else(|| refuse_tier(best)),
                    None => refuse_tier(recommended),
                }
            })
    }
}

/// Submissions per minute per tenant: a token bucket holding a minute's
/// worth, refilled continuously. The store keeps one per tenant
/// ([`crate::store::Store::take_submission`]), so replicas sharing a
/// database share the tenant's rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    /// When `tokens` was counted, in Unix milliseconds.
    pub at_ms: i64,
}

impl Bucket {
    /// Takes one submission allowed `per_minute` at `now_ms` from `bucket`
    /// (`None`: a full one): the bucket after, and whether the submission
    /// may go ahead, or how long until the next one may.
    pub fn take(
        bucket: Option<Self>,
        per_minute: u32,
        now_ms: i64,
    ) -> (Self, Result<(), Duration>) {
        let per_minute = f64::from(per_minute.max(1));
        let rate = per_minute / 60.0;
        let bucket = bucket.unwrap_or(Self {
            tokens: per_minute,
            at_ms: now_ms,
        });
        // A clock that went back (another replica's) refills nothing.
        let elapsed = (now_ms - bucket.at_ms).max(0) as f64 / 1000.0;
        let tokens = (bucket.tokens + elapsed * rate).min(per_minute);
        let at_ms = now_ms.max(bucket.at_ms);
        if tokens >= 1.0 {
            (
                Self {
                    tokens: tokens - 1.0,
                    at_ms,
                },
                Ok(()),
            )
        } else {
            (
                Self { tokens, at_ms },
                Err(Duration::from_secs_f64((1.0 - tokens) / rate)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Vec<String> {
        ["starter", "standard", "enterprise", "mission-critical"]
            .map(String::from)
            .to_vec()
    }

    fn policy(json: serde_json::Value) -> TenantPolicy {
        serde_json::from_value(json).unwrap()
    }

    fn payments() -> Vec<String> {
        vec!["payments".to_owned()]
    }

    #[test]
    fn a_named_tier_below_a_concerns_floor_is_refused_naming_the_floor() {
        let p = policy(serde_json::json!({ "compliance_floor": { "payments": "enterprise" } }));
        let refused = p
            .tier_for(Some("starter"), "starter", &payments(), &order())
            .unwrap_err();
        assert_eq!(refused.code(), "COMPLIANCE_FLOOR");
        assert!(
            refused.message().contains("`enterprise`"),
            "{}",
            refused.message()
        );
        assert!(refused.message().contains("`payments`"));
        assert_eq!(
            p.tier_for(Some("enterprise"), "starter", &payments(), &order()),
            Ok("enterprise".to_owned())
        );
        assert_eq!(
            p.tier_for(Some("mission-critical"), "starter", &payments(), &order()),
            Ok("mission-critical".to_owned())
        );
        // Without the concern, the floor does not apply.
        assert_eq!(
            p.tier_for(Some("starter"), "starter", &[], &order()),
            Ok("starter".to_owned())
        );
    }

    #[test]
    fn a_recommended_tier_is_raised_to_the_floor_and_to_an_allowed_tier() {
        let p = policy(serde_json::json!({
            "tiers": ["standard", "mission-critical"],
            "compliance_floor": { "payments": "mission-critical" },
        }));
        assert_eq!(
            p.tier_for(None, "starter", &[], &order()),
            Ok("standard".to_owned())
        );
        assert_eq!(
            p.tier_for(None, "standard", &payments(), &order()),
            Ok("mission-critical".to_owned())
        );
        assert_eq!(
            p.tier_for(None, "enterprise", &[], &order()),
            Ok("mission-critical".to_owned())
        );
    }

    #[test]
    fn a_tier_outside_the_tenants_is_refused_even_when_named() {
        let p = policy(serde_json::json!({ "tiers": ["starter", "standard"] }));
        let refused = p
            .tier_for(Some("enterprise"), "starter", &[], &order())
            .unwrap_err();
        assert_eq!(refused.code(), "TIER_NOT_ALLOWED");
        assert!(refused.message().contains("starter, standard"));
        // Nothing allowed at or above the recommendation: the tenant's most
        // demanding tier.
        assert_eq!(
            p.tier_for(None, "mission-critical", &[], &order()),
            Ok("standard".to_owned())
        );
        // Unless a floor is above every tier the tenant has.
        let floored = policy(serde_json::json!({
            "tiers": ["starter", "standard"],
            "compliance_floor": { "payments": "enterprise" },
        }));
        let refused = floored
            .tier_for(None, "mission-critical", &payments(), &order())
            .unwrap_err();
        assert_eq!(refused.code(), "COMPLIANCE_FLOOR");
        assert!(TenantPolicy::default().allows("anything"));
    }

    #[test]
    fn policies_naming_unknown_tiers_floors_outside_the_tiers_or_zero_limits_are_invalid() {
        let tiers = Tiers::defaults();
        let ok = policy(serde_json::json!({
            "tiers": ["standard", "enterprise"],
            "compliance_floor": { "health-data": "enterprise" },
            "max_queued": 5, "max_running": 1, "submissions_per_minute": 10,
            "max_stored_bytes": 1_000_000,
        }));
        assert_eq!(ok.validate(&tiers, |_| false), Ok(()));
        let bad = |json, code: &str| {
            let e = policy(json)
                .validate(&tiers, |p| p == "acme/pci")
                .unwrap_err();
            assert_eq!(e.code(), code, "{e}");
            e
        };
        bad(serde_json::json!({ "tiers": ["gold"] }), "UNKNOWN_TIER");
        bad(
            serde_json::json!({ "compliance_floor": { "payments": "gold" } }),
            "UNKNOWN_TIER",
        );
        let e = bad(
            serde_json::json!({ "tiers": ["standard"], "compliance_floor": { "payments": "enterprise" } }),
            "INVALID_POLICY",
        );
        assert!(e.to_string().contains("payments"));
        bad(
            serde_json::json!({ "compliance_floor": { "Pay ments": "enterprise" } }),
            "INVALID_POLICY",
        );
        for field in [
            "max_queued",
            "max_running",
            "submissions_per_minute",
            "max_stored_bytes",
        ] {
            let e = bad(serde_json::json!({ field: 0 }), "INVALID_POLICY");
            assert!(e.to_string().contains(field), "{e}");
        }
        assert!(serde_json::from_value::<TenantPolicy>(serde_json::json!({ "tier": [] })).is_err());
        // Rule packs: published ones, each once, at most MAX_PACKS.
        let packs = policy(serde_json::json!({ "rules": ["acme/pci"] }));
        assert_eq!(packs.validate(&tiers, |p| p == "acme/pci"), Ok(()));
        let e = bad(
            serde_json::json!({ "rules": ["acme/gone"] }),
            "UNKNOWN_RULE_PACK",
        );
        assert!(e.to_string().contains("acme/gone"), "{e}");
        bad(
            serde_json::json!({ "rules": ["acme/pci", "acme/pci"] }),
            "INVALID_POLICY",
        );
        let many: Vec<String> = (0..=crate::rulepacks::MAX_PACKS)
            .map(|i| format!("acme/p{i}"))
            .collect();
        let e = policy(serde_json::json!({ "rules": many }))
            .validate(&tiers, |_| true)
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_POLICY", "{e}");
    }

    /// The buckets of tenants, as the store keeps them.
    #[derive(Default)]
    struct RateLimiter(std::cell::RefCell<std::collections::HashMap<&'static str, Bucket>>);

    impl RateLimiter {
        fn take(&self, tenant: &'static str, per_minute: u32, now: i64) -> Result<(), Duration> {
            let mut buckets = self.0.borrow_mut();
            let (after, taken) = Bucket::take(buckets.get(tenant).copied(), per_minute, now);
            buckets.insert(tenant, after);
            taken
        }
    }

    #[test]
    fn the_rate_allows_a_minutes_worth_at_once_then_one_per_interval() {
        let limiter = RateLimiter::default();
        let t0 = 1_800_000_000_000;
        let secs = |s: i64| t0 + s * 1000;
        for _ in 0..3 {
            assert_eq!(limiter.take("a", 3, t0), Ok(()));
        }
        let wait = limiter.take("a", 3, t0).unwrap_err();
        assert!(
            (19..=20).contains(&wait.as_secs()),
            "one token every 20 s: {wait:?}"
        );
        // Half a token back after 10 s: the next one is 10 s away.
        let wait = limiter.take("a", 3, secs(10)).unwrap_err();
        assert!((9..=10).contains(&wait.as_secs()), "{wait:?}");
        // Another tenant has its own bucket.
        assert_eq!(limiter.take("b", 3, t0), Ok(()));
        // 20 s later, one more.
        let later = secs(20);
        assert_eq!(limiter.take("a", 3, later), Ok(()));
        assert!(limiter.take("a", 3, later).is_err());
        // A long pause does not bank more than a minute's worth.
        let much_later = secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.take("a", 3, much_later), Ok(()));
        }
        assert!(limiter.take("a", 3, much_later).is_err());
        // A clock behind the bucket's (another replica's) refills nothing
        // and does not move the bucket back.
        let (after, taken) = Bucket::take(
            Some(Bucket {
                tokens: 0.5,
                at_ms: much_later,
            }),
            3,
            much_later - 60_000,
        );
        assert!(taken.is_err());
        assert_eq!(
            after,
            Bucket {
                tokens: 0.5,
                at_ms: much_later
            }
        );
    }
}
