//! QLP's first-party planner: a deterministic reading of an intent.
//!
//! It looks for known words in the description, requirements and
//! constraints: the stack (languages, frameworks, datastores, services),
//! what makes a project harder (authentication, persistence, messaging,
//! integrations, scale), what makes it trivial (a static page), and
//! compliance concerns (payments, health data, personal data). The stack
//! it reports opens with the language and the kind of project (see
//! [`stack`]), which the host uses to choose the agents. From these
//! it computes a complexity score from 0 to 1 and recommends a tier:
//! payments and health data always get the strictest tier offered,
//! personal data at least the second strictest, everything else by score.
//! Every contribution is written into the justification, so a user sees
//! why. An LLM-backed planner can replace this one through configuration.

pub mod stack;

use qlp_sdk::PluginKind;
use qlp_sdk::planner::{Plan, Planner, PlanningRequest, PluginError, PluginInfo};

pub struct RulePlanner;

/// Words that name a piece of the stack, with the name reported.
const STACK: &[(&[&str], &str)] = &[
    (&["fastapi"], "fastapi"),
    (&["django"], "django"),
    (&["flask"], "flask"),
    (&["python"], "python"),
    (&["node", "express"], "node"),
    (&["typescript"], "typescript"),
    (&["react"], "react"),
    (&["postgres", "postgresql"], "postgresql"),
    (&["mysql"], "mysql"),
    (&["sqlite"], "sqlite"),
    (&["mongodb", "mongo"], "mongodb"),
    (&["redis"], "redis"),
    (&["kafka"], "kafka"),
    (&["rabbitmq"], "rabbitmq"),
    (&["graphql"], "graphql"),
    (&["docker"], "docker"),
    (&["kubernetes", "k8s", "helm"], "kubernetes"),
    (&["html", "css"], "html"),
];

/// What adds to the complexity, with its weight and the reason given.
const DRIVERS: &[(&[&str], f32, &str)] = &[
    (
        &["jwt", "oauth", "auth", "authentication", "login", "sso"],
        0.10,
        "authentication",
    ),
    (
        &[
            "postgres",
            "postgresql",
            "mysql",
            "database",
            "mongodb",
            "sqlite",
        ],
        0.10,
        "a database",
    ),
    (
        &["kafka", "rabbitmq", "queue", "events", "event-driven"],
        0.10,
        "messaging",
    ),
    (&["redis", "cache", "caching"], 0.05, "a cache"),
    (
        &["integration", "webhook", "webhooks", "third-party"],
        0.05,
        "external integrations",
    ),
    (
        &[
            "microservices",
            "distributed",
            "multi-region",
            "high-availability",
        ],
        0.15,
        "a distributed system",
    ),
    (
        &["api", "service", "backend", "rest"],
        0.10,
        "an API service",
    ),
    (
        &["kubernetes", "k8s", "helm", "terraform"],
        0.05,
        "deployment infrastructure",
    ),
];

/// Compliance concerns: words, the concern, and the reason given.
const COMPLIANCE: &[(&[&str], &str)] = &[
    (
        &[
            "payment", "payments", "card", "cards", "pci", "stripe", "checkout", "billing",
        ],
        "payments",
    ),
    (
        &[
            "health", "patient", "patients", "medical", "hipaa", "clinical", "ehr",
        ],
        "health-data",
    ),
    (
        &[
            "gdpr",
            "pii",
            "personal",
            "customer data",
            "user data",
            "ssn",
            "passport",
        ],
        "personal-data",
    ),
];

/// Words that mark a static page.
const STATIC: &[&str] = &[
    "static",
    "landing page",
    "brochure",
    "single page",
    "html page",
];

/// The intent's text, lower-case, words separated by single spaces.
fn text_of(request: &PlanningRequest) -> String {
    let i = &request.intent;
    let mut text = i.description.clone();
    for r in &i.requirements {
        text.push(' ');
        text.push_str(r);
    }
    for (k, v) in &i.constraints {
        text.push(' ');
        text.push_str(k);
        text.push(' ');
        text.push_str(v);
    }
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    format!(
        " {} ",
        cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// Whether `text` holds `word` (or a phrase) as whole words.
fn has(text: &str, word: &str) -> bool {
    text.contains(&format!(" {word} "))
}

fn any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| has(text, w))
}

/// The plan for `request`.
pub fn plan(request: &PlanningRequest) -> Plan {
    let text = text_of(request);
    let mut why = vec![];

    // The technologies named drive the score; the reported stack adds the
    // language and the kind of project in front of them.
    let technologies: Vec<String> = STACK
        .iter()
        .filter(|(words, name)| {
            any(&text, words) && (*name != "react" || stack::names_react(&text))
        })
        .map(|(_, name)| (*name).to_owned())
        .collect();
    let mut stack = stack::detect(&text);
    for technology in &technologies {
        if !stack.contains(technology) {
            stack.push(technology.clone());
        }
    }
    let compliance: Vec<String> = COMPLIANCE
        .iter()
        .filter(|(words, _)| any(&text, words))
        .map(|(_, c)| (*c).to_owned())
        .collect();
    let is_static = any(&text, STATIC);

    let mut complexity: f32 = 0.1;
    for (words, weight, reason) in DRIVERS {
        if any(&text, words) {
            complexity += weight;
            why.push(format!("{reason} adds {weight:.2}"));
        }
    }
    let extra_stack = technologies.len().saturating_sub(2) as f32 * 0.03;
    if extra_stack > 0.0 {
        complexity += extra_stack;
        why.push(format!(
            "{} technologies named add {extra_stack:.2}",
            technologies.len()
        ));
    }
    for c in &compliance {
        complexity += 0.2;
        why.push(format!("{c} is a compliance concern and adds 0.20"));
    }
    if is_static && compliance.is_empty() {
        complexity = complexity.min(0.15);
        why.push("a static page: complexity capped at 0.15".into());
    }
    let complexity = complexity.clamp(0.0, 1.0);
    why.insert(0, format!("complexity {complexity:.2} of 1"));

    // The tiers are offered from the least to the most demanding.
    let tiers = &request.tiers;
    let by_score = if tiers.is_empty() {
        0
    } else {
        let thresholds = [0.25, 0.5, 0.75];
        let rank = thresholds.iter().filter(|t| complexity >= **t).count();
        // Map four bands onto however many tiers are offered.
        (rank * (tiers.len() - 1) + 1) / 3
    };
    let last = tiers.len().saturating_sub(1);
    let floor = if compliance
        .iter()
        .any(|c| c == "payments" || c == "health-data")
    {
        why.push("payments and health data always get the strictest tier".into());
        last
    } else if compliance.iter().any(|c| c == "personal-data") {
        why.push("personal data gets at least the second strictest tier".into());
        last.saturating_sub(1)
    } else {
        0
    };
    let index = by_score.max(floor).min(last);
    let recommended = tiers.get(index).cloned().unwrap_or_default();
    why.push(format!("recommended tier: {recommended}"));

    let mut constraints = vec![];
    for (key, options) in [
        ("auth", &["jwt", "oauth", "sso"][..]),
        (
            "database",
            &["postgresql", "postgres", "mysql", "sqlite", "mongodb"][..],
        ),
        (
            "framework",
            &["fastapi", "django", "flask", "express", "react"][..],
        ),
    ] {
        if let Some(found) = options.iter().find(|o| has(&text, o)) {
            let value = match *found {
                "jwt" => "JWT",
                "oauth" => "OAuth",
                "sso" => "SSO",
                "postgres" | "postgresql" => "PostgreSQL",
                "mysql" => "MySQL",
                "sqlite" => "SQLite",
                "mongodb" => "MongoDB",
                "fastapi" => "FastAPI",
                "django" => "Django",
                "flask" => "Flask",
                "express" => "Express",
                _ => "React",
            };
            constraints.push((key.to_owned(), value.to_owned()));
        }
    }

    let estimated_files = if is_static && compliance.is_empty() {
        3
    } else {
        8 + 4 * technologies.len() as u32 + 3 * compliance.len() as u32
    };
    // Generation, analysis, validation, gate, export, delivery, plus
    // room for repair rounds in the stricter tiers.
    let estimated_stages = 6 + 2 * index as u32;
    Plan {
        complexity,
        recommended_tier: recommended,
        justification: why,
        stack,
        constraints,
        compliance,
        estimated_files,
        estimated_stages,
    }
}

impl Planner for RulePlanner {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/planner".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Planner,
            description: "Scores an intent's complexity and recommends a tier, explaining why."
                .into(),
            capabilities: vec![],
        }
    }

    fn plan(request: PlanningRequest) -> Result<Plan, PluginError> {
        if request.tiers.is_empty() {
            return Err(PluginError::new(
                "NO_TIERS",
                "the server offered no tier to recommend",
            ));
        }
        Ok(plan(&request))
    }
}

qlp_sdk::export_planner!(RulePlanner);

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_sdk::Intent;

    fn request(description: &str) -> PlanningRequest {
        PlanningRequest {
            intent: Intent {
                id: "i".into(),
                description: description.into(),
                requirements: vec![],
                constraints: vec![],
                tier: String::new(),
            },
            tiers: ["starter", "standard", "enterprise", "mission-critical"]
                .map(String::from)
                .to_vec(),
        }
    }

    #[test]
    fn payments_get_the_strictest_tier_with_the_reason() {
        let p = plan(&request(
            "A checkout service that takes card payments through Stripe, with PostgreSQL",
        ));
        assert_eq!(p.recommended_tier, "mission-critical");
        assert_eq!(p.compliance, ["payments"]);
        assert!(
            p.justification
                .iter()
                .any(|j| j.contains("payments and health data")),
            "{:?}",
            p.justification
        );
        assert!(p.stack.contains(&"postgresql".to_owned()));
    }

    #[test]
    fn a_static_page_is_starter_and_simple() {
        let p = plan(&request(
            "A static landing page for a bakery, in HTML and CSS",
        ));
        assert_eq!(p.recommended_tier, "starter");
        assert!(p.complexity <= 0.15, "{}", p.complexity);
        assert!(p.compliance.is_empty());
        assert_eq!(p.estimated_files, 3);
    }

    #[test]
    fn an_api_with_auth_and_a_database_is_standard_or_above() {
        let p = plan(&request(
            "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
        ));
        assert!(
            ["standard", "enterprise"].contains(&p.recommended_tier.as_str()),
            "{p:?}"
        );
        assert_eq!(
            p.constraints,
            [
                ("auth".to_owned(), "JWT".to_owned()),
                ("database".to_owned(), "PostgreSQL".to_owned()),
                ("framework".to_owned(), "FastAPI".to_owned()),
            ]
        );
    }

    #[test]
    fn health_data_is_strict_and_personal_data_at_least_second() {
        assert_eq!(
            plan(&request("A patient portal for a clinic")).recommended_tier,
            "mission-critical"
        );
        assert_eq!(
            plan(&request("A newsletter signup storing personal data")).recommended_tier,
            "enterprise"
        );
    }

    #[test]
    fn the_recommendation_is_always_an_offered_tier() {
        let mut r = request("A static page");
        r.tiers = vec!["small".into(), "big".into()];
        assert_eq!(plan(&r).recommended_tier, "small");
        let mut r = request("Payments over Kafka for a distributed checkout");
        r.tiers = vec!["small".into(), "big".into()];
        assert_eq!(plan(&r).recommended_tier, "big");
    }

    #[test]
    fn the_stack_opens_with_the_language_and_kind() {
        let p = plan(&request(
            "Create a Go REST API for warehouse inventory with PostgreSQL and JWT auth",
        ));
        assert_eq!(p.stack, ["go", "service", "postgresql"]);
        let p = plan(&request(
            "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
        ));
        assert_eq!(p.stack, ["python", "service", "fastapi", "postgresql"]);
        let p = plan(&request(
            "An Express API in TypeScript that can react to webhooks",
        ));
        assert_eq!(p.stack, ["typescript", "node", "service"]);
    }

    #[test]
    fn the_same_intent_gets_the_same_plan() {
        let a = plan(&request("An API for orders with Redis and MySQL"));
        let b = plan(&request("An API for orders with Redis and MySQL"));
        assert_eq!(a.justification, b.justification);
        assert_eq!(a.complexity, b.complexity);
    }
}
