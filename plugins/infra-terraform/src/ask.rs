//! What the intent and the earlier agents' files ask of the infrastructure:
//! [`read`] turns a generation request into an [`Ask`], or `None` when the
//! intent does not call for Terraform on AWS.
//!
//! # When the agent writes files
//!
//! Only when the intent (description, requirements or enabled constraints,
//! read as `qlp-intent-spec` reads features, so "without Terraform" does not
//! count) names Terraform or infrastructure as code ([`TERRAFORM_WORDS`])
//! or AWS or one of the AWS services it provisions ([`AWS_WORDS`]). An
//! intent that also names another cloud ([`OTHER_CLOUDS`]) while asking for
//! infrastructure or a deployment is refused with `UNSUPPORTED_CLOUD`.
//!
//! # What it provisions
//!
//! - a container service (ECS Fargate behind an ALB) when an earlier agent
//!   wrote a Dockerfile, when the intent names ECS, Fargate or containers,
//!   or when it asks to deploy a service; its port is the Dockerfile's
//!   `EXPOSE`, else the intent's port, else [`DEFAULT_PORT`], and its
//!   health check path `/healthz` or `/health` when the files name one,
//!   else `/`;
//! - a database (RDS) when the intent names PostgreSQL or MySQL (or RDS,
//!   which means PostgreSQL); MongoDB and SQLite get a README note instead;
//! - an S3 bucket when the intent names S3 or a bucket, with versioning when
//!   it asks for versions;
//! - a network (VPC) when the intent names a VPC, subnets or a network, and
//!   whenever a service or a database needs one; also when nothing else is
//!   named ("Terraform for AWS").
//!
//! The network's CIDR blocks, number of availability zones and subnets,
//! region, tags and name come from the intent's words when it gives them
//! ("a VPC 10.20.0.0/16 with three private subnets in eu-west-1 tagged
//! team=payments"), else from the documented defaults below. An intent
//! naming only private (or only public) subnets and nothing that needs the
//! other kind gets only those.

use qlp_infra_kit::project::Project;
use qlp_infra_kit::settings;
use qlp_intent_spec::spec::{enabled_constraints, feature_tokens, mentions_any};
use qlp_intent_spec::{Database, IntentSpec, words};
use qlp_sdk::{File, GenerationRequest, PluginError};

use crate::net::{self, Cidr};
use crate::repair::Hardening;

/// Words that ask for Terraform (or infrastructure as code in general).
pub const TERRAFORM_WORDS: &[&str] = &[
    "terraform",
    "opentofu",
    "tofu",
    "hcl",
    "iac",
    "infrastructure",
];

/// Words that name AWS or a service this agent provisions on it.
pub const AWS_WORDS: &[&str] = &["aws", "amazon", "s3", "vpc", "ecs", "fargate", "rds"];

/// Clouds this agent does not serve, as (token sequence, name for the
/// message).
pub const OTHER_CLOUDS: &[(&[&str], &str)] = &[
    (&["gcp"], "Google Cloud"),
    (&["google", "cloud"], "Google Cloud"),
    (&["gke"], "Google Cloud"),
    (&["gcs"], "Google Cloud"),
    (&["azure"], "Azure"),
    (&["aks"], "Azure"),
];

/// Words that ask for a deployment somewhere.
const DEPLOY_WORDS: &[&str] = &[
    "deploy",
    "deployed",
    "deploying",
    "deployment",
    "host",
    "hosted",
    "hosting",
];

/// Words that ask for a container service.
const CONTAINER_WORDS: &[&str] = &["ecs", "fargate", "container", "containers", "containerized"];

/// Words naming a service to deploy.
const SERVICE_WORDS: &[&str] = &["api", "service", "app", "application", "backend", "server"];

/// Words that ask for a bucket.
const BUCKET_WORDS: &[&str] = &["s3", "bucket", "buckets"];

/// Words that ask for a network.
const NETWORK_WORDS: &[&str] = &["vpc", "subnet", "subnets", "network", "networking", "nat"];

/// Words that ask for object versioning.
const VERSIONING_WORDS: &[&str] = &["versioning", "versioned", "versions"];

/// Words and phrases that ask for high availability: a NAT gateway per
/// zone, a Multi-AZ database.
const HA_PHRASES: &[&[&str]] = &[
    &["ha"],
    &["redundant"],
    &["resilient"],
    &["high", "availability"],
    &["highly", "available"],
    &["multi", "az"],
];

/// Words after which the next word of the text is a name.
const NAMING_WORDS: &[&str] = &["named", "called"];

/// Words of the text that end a bucket's purpose ("for static assets with").
const PURPOSE_STOPS: &[&str] = &[
    "with",
    "and",
    "that",
    "which",
    "using",
    "in",
    "on",
    "enabled",
    "versioning",
    "encryption",
];

/// Number words up to [`MAX_SUBNETS_PER_TIER`] and a little beyond, so that
/// "eight subnets" is refused rather than misread.
const NUMBER_WORDS: &[(&str, u8)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
];

/// Port of a service whose Dockerfile exposes none and whose intent names
/// none: the usual port of the stack agents' services.
pub const DEFAULT_PORT: u16 = settings::DEFAULT_PORT;

/// Health check path when the files name no health route: the service's
/// root, which answers on every stack.
pub const ROOT_HEALTH_PATH: &str = "/";

/// Region used when the intent names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// VPC block used when the intent gives none: a private range with room
/// for 16 `/20` subnets.
pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";

/// Availability zones used when the intent names no count: two, the least
/// an ALB and an RDS subnet group accept.
pub const DEFAULT_AZ_COUNT: u8 = 2;

/// Most subnets of one tier (and availability zones): regions have three to
/// six zones, and the carving of [`net`] leaves room for six per tier.
pub const MAX_SUBNETS_PER_TIER: u8 = 6;

/// Longest name: AWS caps load balancer and target group names at 32
/// characters, and the agent appends suffixes of up to eight.
pub const MAX_NAME_CHARS: usize = 24;

/// Name of a configuration that is only a network.
pub const DEFAULT_NETWORK_NAME: &str = "main";

/// Purpose of a bucket whose intent says none.
pub const DEFAULT_BUCKET_PURPOSE: &str = "data";

/// Where this agent writes; files there are its own from an earlier round.
pub const OUTPUT_DIR: &str = "terraform/";

/// The network to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub vpc_cidr: Cidr,
    pub public: Vec<Cidr>,
    pub private: Vec<Cidr>,
    pub az_count: u8,
    /// A NAT gateway per zone instead of one shared.
    pub nat_per_az: bool,
}

impl Network {
    /// Whether private subnets reach the internet through NAT gateways.
    pub fn has_nat(&self) -> bool {
        !self.public.is_empty() && !self.private.is_empty()
    }
}

/// The container service to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub port: u16,
    /// Where the port was read: "the Dockerfile's `EXPOSE`", ….
    pub port_source: &'static str,
    pub health_path: String,
    /// Whether an earlier agent wrote the Dockerfile the image is built from.
    pub has_dockerfile: bool,
}

/// The bucket to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// What it holds, in words: "static assets".
    pub purpose: String,
    /// A globally unique name the intent gave, if any.
    pub name: Option<String>,
    pub versioning: bool,
}

/// Everything the generated configuration holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// Prefix of every resource name: a DNS label of at most
    /// [`MAX_NAME_CHARS`].
    pub name: String,
    pub region: String,
    pub tags: Vec<(String, String)>,
    pub network: Option<Network>,
    pub service: Option<Service>,
    pub database: Option<Database>,
    pub bucket: Option<Bucket>,
    pub hardening: Hardening,
    /// Multi-AZ database and a NAT gateway per zone by default.
    pub high_availability: bool,
    /// Sentences for the README about what was not provisioned and why.
    pub notes: Vec<String>,
    /// The intent's description, for the README.
    pub description: String,
}

/// The intent's text as features are read (see the module documentation),
/// and its words as written, for values: CIDR blocks, regions, tags, names.
struct Text {
    tokens: Vec<String>,
    raw: Vec<String>,
}

impl Text {
    fn of(request: &GenerationRequest, spec: &IntentSpec) -> Self {
        let enabled = enabled_constraints(&request.intent);
        let tokens = feature_tokens(&spec.description, &spec.requirements, &enabled);
        let mut raw: Vec<String> = Vec::new();
        let texts = std::iter::once(spec.description.clone())
            .chain(spec.requirements.iter().cloned())
            .chain(enabled.iter().map(|(n, v)| format!("{n} {v}")));
        for text in texts {
            raw.extend(
                text.split(|c: char| c.is_whitespace() || ",;()\"'`".contains(c))
                    .map(|w| w.trim_end_matches(['.', ':', '!', '?']).to_string())
                    .filter(|w| !w.is_empty()),
            );
        }
        Self { tokens, raw }
    }

    fn any(&self, wanted: &[&str]) -> bool {
        mentions_any(&self.tokens, wanted)
    }

    fn has_phrase(&self, phrase: &[&str]) -> bool {
        self.tokens
            .windows(phrase.len())
            .enumerate()
            .any(|(i, w)| w.iter().zip(phrase).all(|(a, b)| a == b) && !negated(&self.tokens, i))
    }
}

fn negated(tokens: &[String], index: usize) -> bool {
    index > 0 && matches!(tokens[index - 1].as_str(), "no" | "not" | "without")
}

fn invalid(message: String) -> PluginError {
    PluginError::new("INVALID_INTENT", message)
}

/// Reads the request; `None` when the intent does not call for this agent.
pub fn read(request: &GenerationRequest) -> Result<Option<Ask>, PluginError> {
    let spec = qlp_intent_spec::analyze(&request.intent)?;
    let text = Text::of(request, &spec);
    let terraform = text.any(TERRAFORM_WORDS);
    let aws = text.any(AWS_WORDS);
    let deploy = text.any(DEPLOY_WORDS);
    if let Some(cloud) = OTHER_CLOUDS
        .iter()
        .find(|(phrase, _)| text.has_phrase(phrase))
        .map(|(_, name)| *name)
        && (terraform || aws || deploy)
    {
        return Err(PluginError::new(
            "UNSUPPORTED_CLOUD",
            format!(
                "the intent asks for infrastructure on {cloud}; qlp/terraform-aws serves AWS only \
                 (VPC networks, ECS Fargate services behind an ALB, RDS PostgreSQL and MySQL, S3 \
                 buckets)"
            ),
        ));
    }
    if !(terraform || aws) {
        return Ok(None);
    }

    let earlier: Vec<File> = request
        .files
        .iter()
        .filter(|f| !f.path.starts_with(OUTPUT_DIR))
        .cloned()
        .collect();
    let project = Project::read(&earlier);
    let mut notes = Vec::new();

    let service_asked = project.dockerfile.is_some()
        || text.any(CONTAINER_WORDS)
        || (deploy && text.any(SERVICE_WORDS));
    let service = service_asked.then(|| service(&spec, &project));
    let database = match spec.database {
        Some(db @ (Database::Postgres | Database::Mysql)) => Some(db),
        Some(other) => {
            notes.push(format!(
                "{} is not provisioned: this configuration creates RDS PostgreSQL or MySQL \
                 only{}.",
                other.title(),
                if other == Database::Sqlite {
                    "; SQLite lives in the service's own file system"
                } else {
                    "; run MongoDB as a managed service (MongoDB Atlas) or Amazon DocumentDB"
                }
            ));
            None
        }
        None if text.any(&["rds"]) => Some(Database::Postgres),
        None => None,
    };
    let bucket = text.any(BUCKET_WORDS).then(|| bucket(&text));
    let network_asked = text.any(NETWORK_WORDS);
    let high_availability = HA_PHRASES.iter().any(|p| text.has_phrase(p));
    let needs_network = service.is_some() || database.is_some();
    let network = if network_asked || needs_network || bucket.is_none() {
        Some(network(
            &text,
            needs_network,
            high_availability,
            &mut notes,
        )?)
    } else {
        None
    };

    let name = explicit_name(request, &text)
        .or_else(|| service.is_some().then(|| spec.name.clone()))
        .or_else(|| {
            bucket
                .as_ref()
                .filter(|_| network.is_none())
                .map(|b| b.purpose.clone())
        })
        .map(|n| dns_label(&n))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NETWORK_NAME.to_string());

    Ok(Some(Ask {
        name,
        region: region(&text).unwrap_or_else(|| DEFAULT_REGION.to_string()),
        tags: tags(&text),
        network,
        service,
        database,
        bucket,
        hardening: Hardening::from_request(request, &text.tokens),
        high_availability,
        notes,
        description: spec.description.clone(),
    }))
}

fn service(spec: &IntentSpec, project: &Project<'_>) -> Service {
    let (port, port_source) = match (project.port, spec.port) {
        (Some(port), _) => (port, "the Dockerfile's `EXPOSE`"),
        (None, Some(port)) => (port, "the port the intent names"),
        (None, None) => (
            DEFAULT_PORT,
            "the default, as neither a Dockerfile nor the intent names one",
        ),
    };
    Service {
        port,
        port_source,
        health_path: project.health_path.unwrap_or(ROOT_HEALTH_PATH).to_string(),
        has_dockerfile: project.dockerfile.is_some(),
    }
}

fn bucket(text: &Text) -> Bucket {
    let tokens = &text.tokens;
    let at = tokens
        .iter()
        .position(|t| BUCKET_WORDS.contains(&t.as_str()))
        .unwrap_or(0);
    let purpose: Vec<&str> = tokens[at..]
        .iter()
        .position(|t| t == "for")
        .map(|f| {
            tokens[at + f + 1..]
                .iter()
                .map(String::as_str)
                .skip_while(|t| words::is_filler(t))
                .take_while(|t| !PURPOSE_STOPS.contains(t) && words::is_name_like(t))
                .take(3)
                .collect()
        })
        .unwrap_or_default();
    let purpose = if purpose.is_empty() {
        DEFAULT_BUCKET_PURPOSE.to_string()
    } else {
        purpose.join(" ")
    };
    let name = named_after(text, &["bucket"]).filter(|n| is_bucket_name(n));
    Bucket {
        purpose,
        name,
        versioning: text.any(VERSIONING_WORDS),
    }
}

/// Whether S3 accepts `name` as a bucket name: 3-63 lower-case letters,
/// digits, dots and hyphens, starting and ending with a letter or digit.
pub fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().next_back())
        && !name.contains("..")
}

/// The word after "named"/"called" when one of `subjects` comes just
/// before it (any subject when `subjects` is empty).
fn named_after(text: &Text, subjects: &[&str]) -> Option<String> {
    let raw = &text.raw;
    (1..raw.len()).find_map(|i| {
        let naming = NAMING_WORDS.contains(&raw[i - 1].to_ascii_lowercase().as_str());
        let subject_ok = subjects.is_empty()
            || (i >= 2 && subjects.contains(&raw[i - 2].to_ascii_lowercase().as_str()));
        (naming && subject_ok).then(|| raw[i].clone())
    })
}

/// A name the intent gives: a `name`/`project` constraint, or the word
/// after "named"/"called".
fn explicit_name(request: &GenerationRequest, text: &Text) -> Option<String> {
    enabled_constraints(&request.intent)
        .into_iter()
        .find(|(name, _)| {
            let name_words = words::tokenize(name);
            !name_words.is_empty()
                && name_words
                    .iter()
                    .all(|w| matches!(w.as_str(), "name" | "project" | "module" | "package"))
        })
        .map(|(_, value)| value.clone())
        .or_else(|| named_after(text, &[]))
}

/// Lower-case letters, digits and single hyphens, starting with a letter,
/// at most [`MAX_NAME_CHARS`].
pub fn dns_label(text: &str) -> String {
    let joined = words::tokenize(text).join("-");
    let trimmed = joined.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut name: String = trimmed.chars().take(MAX_NAME_CHARS).collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// Whether `word` looks like an AWS region: `eu-west-1`, `us-gov-west-1`.
pub fn is_region(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    let letters = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    match parts.as_slice() {
        [area, rest @ .., direction, number] => {
            area.len() == 2
                && letters(area)
                && rest.iter().all(|p| *p == "gov" || *p == "iso")
                && rest.len() <= 1
                && letters(direction)
                && number.len() == 1
                && number.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

fn region(text: &Text) -> Option<String> {
    text.raw
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .find(|w| is_region(w))
}

/// `key=value` words, when the text speaks of tags.
fn tags(text: &Text) -> Vec<(String, String)> {
    if !text.any(&[
        "tag", "tags", "tagged", "tagging", "labels", "labelled", "labeled",
    ]) {
        return Vec::new();
    }
    let key_ok = |k: &str| {
        k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && k.len() <= 128
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:/+-@".contains(c))
    };
    let value_ok = |v: &str| {
        !v.is_empty()
            && v.len() <= 256
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:/+-@".contains(c))
    };
    let mut tags: Vec<(String, String)> = Vec::new();
    for word in &text.raw {
        if let Some((key, value)) = word.split_once('=')
            && key_ok(key)
            && value_ok(value)
            && !tags.iter().any(|(k, _)| k == key)
        {
            tags.push((key.to_string(), value.to_string()));
        }
    }
    tags
}

fn number(token: &str) -> Option<u8> {
    token.parse::<u8>().ok().or_else(|| {
        NUMBER_WORDS
            .iter()
            .find(|(w, _)| *w == token)
            .map(|(_, n)| *n)
    })
}

/// Counts the intent gives: (public, private, any kind, zones).
fn counts(tokens: &[String]) -> [Option<u8>; 4] {
    let mut found = [None; 4];
    for (i, token) in tokens.iter().enumerate() {
        let Some(n) = number(token) else { continue };
        let at = |k: usize| tokens.get(i + k).map(String::as_str).unwrap_or("");
        let subnets_soon = (2..=4).any(|k| matches!(at(k), "subnet" | "subnets"));
        let slot = match (at(1), at(2)) {
            ("public", _) if subnets_soon => 0,
            ("private", _) if subnets_soon => 1,
            ("subnet" | "subnets", _) => 2,
            ("az" | "azs" | "zones", _) | ("availability", "zones" | "zone") => 3,
            _ => continue,
        };
        found[slot] = found[slot].or(Some(n));
    }
    found
}

/// Which subnet list the CIDR blocks of the text go to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Vpc,
    Public,
    Private,
}

/// The CIDR blocks an intent writes out.
struct GivenBlocks {
    vpc: Option<Cidr>,
    public: Vec<Cidr>,
    private: Vec<Cidr>,
}

/// The CIDR blocks the text gives: the VPC's, public and private subnets'.
fn cidrs(text: &Text) -> Result<GivenBlocks, PluginError> {
    let mut vpc = None;
    let (mut public, mut private) = (Vec::new(), Vec::new());
    let mut slot = Slot::Vpc;
    for word in &text.raw {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            w if w.contains("vpc") => slot = Slot::Vpc,
            "public" => slot = Slot::Public,
            "private" => slot = Slot::Private,
            _ => {}
        }
        if !word.contains('/') || !word.contains('.') {
            continue;
        }
        let Some(cidr) = Cidr::parse(word) else {
            return Err(invalid(format!(
                "`{word}` is not an IPv4 CIDR block with its host bits zero (such as 10.0.0.0/16)"
            )));
        };
        match slot {
            Slot::Vpc if vpc.is_none() => vpc = Some(cidr),
            Slot::Public => public.push(cidr),
            Slot::Private | Slot::Vpc => private.push(cidr),
        }
    }
    Ok(GivenBlocks {
        vpc,
        public,
        private,
    })
}

fn network(
    text: &Text,
    needs_both: bool,
    high_availability: bool,
    notes: &mut Vec<String>,
) -> Result<Network, PluginError> {
    let GivenBlocks {
        vpc,
        public: given_public,
        private: given_private,
    } = cidrs(text)?;
    let vpc = vpc.unwrap_or_else(|| Cidr::parse(DEFAULT_VPC_CIDR).expect("a valid default"));
    if !(net::MIN_VPC_PREFIX..=net::MAX_VPC_PREFIX).contains(&vpc.prefix) {
        return Err(invalid(format!(
            "the VPC block {vpc} must be between /{} and /{}: AWS accepts no wider VPC, and a \
             narrower one leaves no room for subnets",
            net::MIN_VPC_PREFIX,
            net::MAX_VPC_PREFIX
        )));
    }
    for subnet in given_public.iter().chain(&given_private) {
        if !vpc.contains(*subnet) || subnet.prefix > 28 {
            return Err(invalid(format!(
                "the subnet {subnet} must lie inside the VPC block {vpc} and be /28 or wider"
            )));
        }
    }
    let [public_count, private_count, any_count, zones] = counts(&text.tokens);
    let public_named = text.any(&["public"]) || !given_public.is_empty();
    let private_named = text.any(&["private"]) || !given_private.is_empty();
    let (want_public, want_private) = if needs_both || public_named == private_named {
        (true, true)
    } else {
        (public_named, private_named)
    };
    let widest = [public_count, private_count, any_count]
        .into_iter()
        .flatten()
        .chain([given_public.len() as u8, given_private.len() as u8])
        .max()
        .filter(|n| *n > 0);
    let mut az_count = zones.or(widest).unwrap_or(DEFAULT_AZ_COUNT);
    if az_count == 0 || az_count > MAX_SUBNETS_PER_TIER {
        return Err(invalid(format!(
            "{az_count} availability zones or subnets of one kind asked for; this configuration \
             spreads between 1 and {MAX_SUBNETS_PER_TIER} per kind across as many zones"
        )));
    }
    if needs_both && az_count < 2 {
        notes.push(
            "The network spans two availability zones although the intent asks for one: an \
             ALB and an RDS subnet group need subnets in at least two."
                .to_string(),
        );
        az_count = 2;
    }
    let count_of = |explicit: Option<u8>, given: &[Cidr]| -> Result<usize, PluginError> {
        let n = if given.is_empty() {
            explicit.or(any_count).unwrap_or(az_count)
        } else {
            given.len() as u8
        };
        if n == 0 || n > MAX_SUBNETS_PER_TIER {
            return Err(invalid(format!(
                "{n} subnets of one kind asked for; between 1 and {MAX_SUBNETS_PER_TIER} are \
                 supported"
            )));
        }
        Ok(usize::from(n.max(if needs_both { 2 } else { 1 })))
    };
    let mut taken: Vec<Cidr> = given_public.iter().chain(&given_private).copied().collect();
    let mut carve = |given: Vec<Cidr>, count: usize, offset: u32| -> Vec<Cidr> {
        if !given.is_empty() {
            return given;
        }
        let newbits = net::SUBNET_NEWBITS;
        let slots = 1u32 << newbits;
        let mut carved = Vec::new();
        for index in (0..slots).map(|i| (i + offset) % slots) {
            if carved.len() == count {
                break;
            }
            let candidate = vpc.subnet(newbits, index);
            if !taken.iter().any(|t| t.overlaps(candidate)) {
                taken.push(candidate);
                carved.push(candidate);
            }
        }
        carved
    };
    let public = if want_public {
        let count = count_of(public_count, &given_public)?;
        carve(given_public, count, 0)
    } else {
        Vec::new()
    };
    let private = if want_private {
        let count = count_of(private_count, &given_private)?;
        carve(given_private, count, net::PRIVATE_OFFSET)
    } else {
        Vec::new()
    };
    Ok(Network {
        vpc_cidr: vpc,
        public,
        private,
        az_count,
        nat_per_az: high_availability,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_sdk::Intent;

    fn request(description: &str) -> GenerationRequest {
        GenerationRequest {
            intent: Intent {
                id: "00000000-0000-0000-0000-000000000000".into(),
                description: description.into(),
                requirements: vec![],
                constraints: vec![],
                tier: "enterprise".into(),
            },
            files: vec![],
            findings: vec![],
            iteration: 0,
            role: String::new(),
        }
    }

    fn ask(description: &str) -> Ask {
        read(&request(description))
            .expect("valid")
            .expect("asks for Terraform")
    }

    fn blocks(cidrs: &[Cidr]) -> Vec<String> {
        cidrs.iter().map(Cidr::to_string).collect()
    }

    #[test]
    fn a_vpc_with_three_private_subnets_gets_only_those() {
        let ask = ask("Terraform for an AWS VPC with three private subnets");
        let network = ask.network.expect("a network");
        assert_eq!(network.az_count, 3);
        assert!(network.public.is_empty());
        assert_eq!(
            blocks(&network.private),
            ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"]
        );
        assert!(!network.has_nat());
        assert!(ask.service.is_none() && ask.database.is_none() && ask.bucket.is_none());
        assert_eq!(ask.name, DEFAULT_NETWORK_NAME);
    }

    #[test]
    fn blocks_region_tags_and_names_come_from_the_words() {
        let ask = ask(
            "Terraform VPC named payments-net 10.20.0.0/16 in eu-west-1 with public subnets \
             10.20.1.0/24, 10.20.2.0/24 and private subnets 10.20.11.0/24, 10.20.12.0/24, \
             tagged team=payments env=prod",
        );
        let network = ask.network.expect("a network");
        assert_eq!(network.vpc_cidr.to_string(), "10.20.0.0/16");
        assert_eq!(blocks(&network.public), ["10.20.1.0/24", "10.20.2.0/24"]);
        assert_eq!(blocks(&network.private), ["10.20.11.0/24", "10.20.12.0/24"]);
        assert_eq!(ask.region, "eu-west-1");
        assert_eq!(ask.name, "payments-net");
        assert_eq!(
            ask.tags,
            [
                ("team".into(), "payments".into()),
                ("env".into(), "prod".into())
            ]
        );
    }

    #[test]
    fn a_bucket_intent_is_a_bucket_alone() {
        let ask = ask("an S3 bucket for static assets with versioning");
        let bucket = ask.bucket.expect("a bucket");
        assert_eq!(bucket.purpose, "static assets");
        assert!(bucket.versioning);
        assert!(ask.network.is_none());
        assert_eq!(ask.name, "static-assets");
    }

    #[test]
    fn other_clouds_are_refused_and_unrelated_intents_skipped() {
        let error = read(&request("Terraform for a GCP network")).expect_err("GCP");
        assert_eq!(error.code, "UNSUPPORTED_CLOUD");
        assert!(error.message.contains("Google Cloud") && error.message.contains("AWS"));
        let error = read(&request("Deploy the API to Azure")).expect_err("Azure");
        assert_eq!(error.code, "UNSUPPORTED_CLOUD");
        assert_eq!(
            read(&request("A Go API for notes with PostgreSQL")).expect("ok"),
            None
        );
        assert_eq!(
            read(&request("A notes API, no terraform")).expect("ok"),
            None
        );
    }

    #[test]
    fn a_database_intent_needs_public_and_private_subnets_in_two_zones() {
        let ask = ask("Terraform for an AWS PostgreSQL database in one private subnet");
        assert_eq!(ask.database, Some(Database::Postgres));
        let network = ask.network.expect("a network");
        assert_eq!(network.az_count, 2);
        assert_eq!(network.private.len(), 2);
        assert!(!ask.notes.is_empty());
    }

    #[test]
    fn bad_blocks_are_refused_with_the_reason() {
        for intent in [
            "AWS VPC 10.0.0.0/8",
            "AWS VPC 10.0.0.0/16 with private subnet 10.1.0.0/24",
            "AWS VPC 10.0.0.1/16",
            "AWS VPC with eight private subnets",
        ] {
            let error = read(&request(intent)).expect_err(intent);
            assert_eq!(error.code, "INVALID_INTENT", "{intent}");
        }
    }

    #[test]
    fn regions_are_recognised() {
        for region in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-2"] {
            assert!(is_region(region), "{region}");
        }
        for word in ["us-east", "east-1", "x-y-1", "eu-west-12"] {
            assert!(!is_region(word), "{word}");
        }
    }
}
