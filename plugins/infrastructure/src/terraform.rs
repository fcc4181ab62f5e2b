//! Terraform rules over the files of a capsule read with [`crate::hcl`].
//! Resources are matched by reference within one directory (one Terraform
//! module): an `aws_s3_bucket` counts as encrypted when an
//! `aws_s3_bucket_server_side_encryption_configuration` beside it names
//! it. A rule that meets a value it cannot evaluate (a variable, a
//! function call, an interpolation) stays silent. DynamoDB tables are not
//! checked for encryption: they are always encrypted at rest, and
//! `server_side_encryption { enabled = false }` only selects an AWS-owned
//! key.

use crate::hcl::{Body, Value};
use crate::rules::*;

/// Ports whose exposure to the internet is critical: remote shells and
/// databases, the first things scanners try.
const ADMIN_PORTS: [(u32, &str); 7] = [
    (22, "SSH"),
    (3389, "RDP"),
    (1433, "SQL Server"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
    (27017, "MongoDB"),
];

/// Ports a public web front end opens to everyone by design.
const WEB_PORTS: [u32; 2] = [80, 443];

/// Source ranges meaning "the whole internet", in the providers' spellings.
const ANYWHERE: [&str; 5] = ["0.0.0.0/0", "::/0", "*", "Internet", "Any"];

/// S3 canned ACLs that let anyone read (or write) the bucket.
const PUBLIC_ACLS: [&str; 2] = ["public-read", "public-read-write"];

/// Google principals meaning "anyone" or "any Google account".
const PUBLIC_MEMBERS: [&str; 2] = ["allUsers", "allAuthenticatedUsers"];

/// The four switches of an S3 public access block; unset means `false`.
const PUBLIC_ACCESS_FLAGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

/// A Terraform file: its path and what [`crate::hcl::parse`] read.
pub struct TfFile<'a> {
    pub path: &'a str,
    pub body: Body,
}

/// One `resource "kind" "name"` block.
struct Resource<'a> {
    file: usize,
    dir: &'a str,
    kind: &'a str,
    name: &'a str,
    body: &'a Body,
    line: u32,
}

impl Resource<'_> {
    fn label(&self) -> String {
        format!("`{}.{}`", self.kind, self.name)
    }

    /// The line of attribute `name`, or the resource's own.
    fn line_of(&self, name: &str) -> u32 {
        self.body.attr(name).map_or(self.line, |a| a.line)
    }
}

/// A boolean setting: unset, a literal, or an expression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    Unset,
    Is(bool),
    Unknown,
}

fn flag(body: &Body, name: &str) -> Flag {
    match body.get(name) {
        None | Some(Value::Null) => Flag::Unset,
        Some(v) => v.as_bool().map_or(Flag::Unknown, Flag::Is),
    }
}

/// The directory of a path (`""` at the root): one Terraform module.
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Runs every Terraform rule; each hit comes with the index of its file.
pub fn check(files: &[TfFile<'_>]) -> Vec<(usize, Hit)> {
    let resources: Vec<Resource<'_>> = files
        .iter()
        .enumerate()
        .flat_map(|(file, tf)| {
            tf.body.blocks_of("resource").filter_map(move |b| {
                let [kind, name] = b.labels.as_slice() else {
                    return None;
                };
                Some(Resource {
                    file,
                    dir: dir_of(tf.path),
                    kind,
                    name,
                    body: &b.body,
                    line: b.line,
                })
            })
        })
        .collect();
    let mut out = Vec::new();
    for r in &resources {
        let mut hits = Vec::new();
        storage_encryption(r, &resources, &mut hits);
        public_bucket(r, &mut hits);
        open_ingress(r, &mut hits);
        public_database(r, &mut hits);
        logging(r, &resources, &mut hits);
        deletion_protection(r, &mut hits);
        imds(r, &mut hits);
        out.extend(hits.into_iter().map(|h| (r.file, h)));
    }
    for (file, tf) in files.iter().enumerate() {
        let mut hits = Vec::new();
        secrets(&tf.body, &mut hits);
        unpinned(&tf.body, &mut hits);
        out.extend(hits.into_iter().map(|h| (file, h)));
    }
    out
}

// ---------------------------------------------------------------- S3 links

/// What a companion resource's `bucket` attribute points at.
enum Target<'a> {
    /// `aws_s3_bucket.NAME…`
    Resource(&'a str),
    /// A bucket name written out.
    Named(&'a str),
    /// A bucket this configuration does not declare (`data.…`).
    Foreign,
    /// A variable, a module output, an interpolation.
    Unknown,
}

fn target(value: Option<&Value>) -> Target<'_> {
    match value {
        Some(Value::Str(name)) => Target::Named(name),
        Some(Value::Expr(raw)) => {
            const PREFIX: &str = "aws_s3_bucket.";
            let Some(at) = raw.find(PREFIX) else {
                return Target::Unknown;
            };
            if raw[..at].ends_with("data.") {
                return Target::Foreign;
            }
            let rest = &raw[at + PREFIX.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            Target::Resource(&rest[..end])
        }
        _ => Target::Unknown,
    }
}

fn names_bucket(bucket: &Resource<'_>, target: &Target<'_>) -> bool {
    match target {
        Target::Resource(name) => *name == bucket.name,
        Target::Named(name) => bucket.body.get("bucket").and_then(Value::as_str) == Some(name),
        Target::Foreign | Target::Unknown => false,
    }
}

/// Whether a resource of `kind` in the bucket's module configures it
/// through `attr`; `None` when one of them names a bucket by an
/// expression this reader cannot follow.
fn configured_by(
    bucket: &Resource<'_>,
    resources: &[Resource<'_>],
    kind: &str,
    attr: &str,
) -> Option<bool> {
    let mut unknown = false;
    for r in resources
        .iter()
        .filter(|r| r.kind == kind && r.dir == bucket.dir)
    {
        match target(r.body.get(attr)) {
            Target::Unknown => unknown = true,
            t if names_bucket(bucket, &t) => return Some(true),
            _ => {}
        }
    }
    (!unknown).then_some(false)
}

// ------------------------------------------------------------------- rules

fn storage_encryption(r: &Resource<'_>, resources: &[Resource<'_>], hits: &mut Vec<Hit>) {
    let b = r.body;
    let label = r.label();
    match r.kind {
        "aws_s3_bucket" => {
            if b.block("server_side_encryption_configuration").is_some()
                || b.has_dynamic("server_side_encryption_configuration")
            {
                return;
            }
            if configured_by(
                r,
                resources,
                "aws_s3_bucket_server_side_encryption_configuration",
                "bucket",
            ) == Some(false)
            {
                hits.push(hit(
                    TF_UNENCRYPTED_STORAGE,
                    r.line,
                    format!(
                        "S3 bucket {label} declares no server-side encryption: nothing states \
                         which key protects its objects at rest (CWE-311); add an \
                         `aws_s3_bucket_server_side_encryption_configuration` with `aws:kms` \
                         and a customer-managed key"
                    ),
                ));
            }
        }
        "aws_db_instance" | "aws_rds_cluster" => {
            let inherits = ["replicate_source_db", "snapshot_identifier"]
                .iter()
                .any(|a| b.get(a).is_some());
            let engine = b.get("engine");
            let aurora_member = r.kind == "aws_db_instance"
                && engine
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.starts_with("aurora"));
            let serverless_v1 = b.get("engine_mode").and_then(Value::as_str) == Some("serverless");
            let engine_known = engine.is_none_or(|e| e.as_str().is_some());
            if inherits || aurora_member || serverless_v1 || !engine_known {
                return;
            }
            let state = flag(b, "storage_encrypted");
            if matches!(state, Flag::Unset | Flag::Is(false)) {
                hits.push(hit(
                    TF_UNENCRYPTED_STORAGE,
                    r.line_of("storage_encrypted"),
                    format!(
                        "database {label} stores its data, snapshots and backups unencrypted: \
                         `storage_encrypted` is {} (CWE-311); set `storage_encrypted = true` \
                         (it cannot be turned on later without a snapshot restore)",
                        if state == Flag::Unset {
                            "unset"
                        } else {
                            "false"
                        }
                    ),
                ));
            }
        }
        "aws_ebs_volume" | "aws_efs_file_system" => {
            if r.kind == "aws_ebs_volume" && b.get("snapshot_id").is_some() {
                return;
            }
            let state = flag(b, "encrypted");
            if matches!(state, Flag::Unset | Flag::Is(false)) {
                hits.push(hit(
                    TF_UNENCRYPTED_STORAGE,
                    r.line_of("encrypted"),
                    format!(
                        "{label} is not encrypted at rest: `encrypted` is {} (CWE-311); set \
                         `encrypted = true` (and `kms_key_id` for a customer-managed key)",
                        if state == Flag::Unset {
                            "unset"
                        } else {
                            "false"
                        }
                    ),
                ));
            }
        }
        _ => {}
    }
}

fn public_bucket(r: &Resource<'_>, hits: &mut Vec<Hit>) {
    let b = r.body;
    let label = r.label();
    let mut report = |line: u32, what: String| {
        hits.push(hit(
            TF_PUBLIC_BUCKET,
            line,
            format!(
                "{label} {what}: anyone on the internet can read its objects (CWE-284); keep \
                 buckets private and serve public files through a CDN with an origin access \
                 identity"
            ),
        ));
    };
    match r.kind {
        "aws_s3_bucket" | "aws_s3_bucket_acl" => {
            if let Some(acl) = b.get("acl").and_then(Value::as_str)
                && PUBLIC_ACLS.contains(&acl)
            {
                report(r.line_of("acl"), format!("sets the canned ACL `{acl}`"));
            }
        }
        "aws_s3_bucket_public_access_block" => {
            let off: Vec<&str> = PUBLIC_ACCESS_FLAGS
                .into_iter()
                .filter(|f| matches!(flag(b, f), Flag::Unset | Flag::Is(false)))
                .collect();
            if let Some(first) = off.first() {
                report(
                    r.line_of(first),
                    format!(
                        "leaves `{}` off (unset means false), so public ACLs or policies take \
                         effect",
                        off.join("`, `")
                    ),
                );
            }
        }
        "google_storage_bucket_iam_member" | "google_storage_bucket_iam_binding" => {
            let member = b.get("member").and_then(Value::as_str);
            let members = b.get("members").map(Value::items).unwrap_or_default();
            let public = member
                .into_iter()
                .chain(members.iter().filter_map(|(v, _)| v.as_str()))
                .find(|m| PUBLIC_MEMBERS.contains(m));
            if let Some(who) = public {
                let attr = if member.is_some() {
                    "member"
                } else {
                    "members"
                };
                report(r.line_of(attr), format!("grants a role to `{who}`"));
            }
        }
        "azurerm_storage_container" => {
            if let Some(kind @ ("blob" | "container")) =
                b.get("container_access_type").and_then(Value::as_str)
            {
                report(
                    r.line_of("container_access_type"),
                    format!("sets `container_access_type = \"{kind}\"`"),
                );
            }
        }
        _ => {}
    }
}

/// An inclusive port range.
type Ports = (u32, u32);

const ALL_PORTS: Ports = (0, 65535);

/// `"22"`, `"8000-8080"` or `"*"`.
fn port_spec(value: &Value) -> Option<Ports> {
    if let Some(n) = value.as_u32() {
        return Some((n, n));
    }
    let s = value.as_str()?.trim();
    if s == "*" {
        return Some(ALL_PORTS);
    }
    let (from, to) = s.split_once('-')?;
    Some((from.trim().parse().ok()?, to.trim().parse().ok()?))
}

/// The ports an AWS rule opens: every port for protocol `-1`/`all`, the
/// `from_port`-`to_port` range for TCP/UDP; `None` for ICMP or unknowns.
fn aws_ports(body: &Body, protocol_attr: &str) -> Option<Ports> {
    let protocol = body.get(protocol_attr)?.as_str()?.to_ascii_lowercase();
    match protocol.as_str() {
        "-1" | "all" => Some(ALL_PORTS),
        "tcp" | "udp" | "6" | "17" => Some((
            body.get("from_port")?.as_u32()?,
            body.get("to_port")?.as_u32()?,
        )),
        _ => None,
    }
}

/// The open-ingress hit for `ranges` reachable from anywhere, unless they
/// are only the web ports.
fn ingress_hit(what: &str, source: &str, ranges: &[Ports], line: u32) -> Option<Hit> {
    let risky: Vec<Ports> = ranges
        .iter()
        .copied()
        .filter(|(from, to)| !(from == to && WEB_PORTS.contains(from)) && from <= to)
        .collect();
    if risky.is_empty() {
        return None;
    }
    let admin: Vec<String> = ADMIN_PORTS
        .iter()
        .filter(|(port, _)| risky.iter().any(|(f, t)| f <= port && port <= t))
        .map(|(port, name)| format!("{name} {port}"))
        .collect();
    let ports: Vec<String> = risky
        .iter()
        .map(|&(f, t)| match (f, t) {
            ALL_PORTS => "every port".to_string(),
            (f, t) if f == t => format!("port {f}"),
            (f, t) => format!("ports {f}-{t}"),
        })
        .collect();
    let (rule, reach) = if admin.is_empty() {
        (TF_OPEN_INGRESS, String::new())
    } else {
        (
            TF_OPEN_INGRESS_ADMIN,
            format!(", including {}", admin.join(", ")),
        )
    };
    Some(hit(
        rule,
        line,
        format!(
            "{what} lets the whole internet (`{source}`) reach {}{reach} (CWE-284); allow only \
             the load balancer's security group or known address ranges, and reach \
             administrative ports through a bastion or session manager",
            ports.join(", ")
        ),
    ))
}

/// The first world-open range among `attrs` (lists or single strings) of
/// a body, with its line.
fn open_source(body: &Body, attrs: &[&str]) -> Option<(String, u32)> {
    attrs.iter().find_map(|name| {
        let attr = body.attr(name)?;
        let open = |v: &Value| {
            v.as_str()
                .filter(|s| ANYWHERE.contains(s))
                .map(str::to_owned)
        };
        let found = match &attr.value {
            Value::List(items) => items.iter().find_map(|(v, _)| open(v)),
            v => open(v),
        };
        found.map(|s| (s, attr.line))
    })
}

fn open_ingress(r: &Resource<'_>, hits: &mut Vec<Hit>) {
    let b = r.body;
    let label = r.label();
    let aws_sources = ["cidr_blocks", "ipv6_cidr_blocks"];
    match r.kind {
        "aws_security_group" => {
            for rule in b.blocks_of("ingress") {
                if let Some((source, line)) = open_source(&rule.body, &aws_sources)
                    && let Some(ports) = aws_ports(&rule.body, "protocol")
                {
                    hits.extend(ingress_hit(
                        &format!("an ingress rule of {label}"),
                        &source,
                        &[ports],
                        line,
                    ));
                }
            }
        }
        "aws_security_group_rule" => {
            if b.get("type").and_then(Value::as_str) == Some("ingress")
                && let Some((source, line)) = open_source(b, &aws_sources)
                && let Some(ports) = aws_ports(b, "protocol")
            {
                hits.extend(ingress_hit(&label, &source, &[ports], line));
            }
        }
        "aws_vpc_security_group_ingress_rule" => {
            if let Some((source, line)) = open_source(b, &["cidr_ipv4", "cidr_ipv6"])
                && let Some(ports) = aws_ports(b, "ip_protocol")
            {
                hits.extend(ingress_hit(&label, &source, &[ports], line));
            }
        }
        "google_compute_firewall" => {
            let ingress = b
                .get("direction")
                .is_none_or(|d| d.as_str() == Some("INGRESS"));
            let enabled = matches!(flag(b, "disabled"), Flag::Unset | Flag::Is(false));
            if !ingress || !enabled {
                return;
            }
            let Some((source, line)) = open_source(b, &["source_ranges"]) else {
                return;
            };
            let mut ranges = Vec::new();
            for allow in b.blocks_of("allow") {
                let Some(protocol) = allow.body.get("protocol").and_then(Value::as_str) else {
                    return;
                };
                match (protocol, allow.body.get("ports")) {
                    ("all", _) | ("tcp" | "udp" | "sctp", None) => ranges.push(ALL_PORTS),
                    ("tcp" | "udp" | "sctp", Some(ports)) => {
                        for (spec, _) in ports.items() {
                            let Some(range) = port_spec(spec) else { return };
                            ranges.push(range);
                        }
                        if !matches!(ports, Value::List(_)) {
                            return;
                        }
                    }
                    _ => {}
                }
            }
            hits.extend(ingress_hit(&label, &source, &ranges, line));
        }
        "azurerm_network_security_rule" => azure_rule(&label, b, hits),
        "azurerm_network_security_group" => {
            for rule in b.blocks_of("security_rule") {
                let name = rule.body.get("name").and_then(Value::as_str).unwrap_or("?");
                azure_rule(
                    &format!("security rule `{name}` of {label}"),
                    &rule.body,
                    hits,
                );
            }
        }
        _ => {}
    }
}

/// An Azure network security rule: inbound, allowed, from anywhere.
fn azure_rule(what: &str, b: &Body, hits: &mut Vec<Hit>) {
    let is = |attr: &str, want: &str| {
        b.get(attr)
            .and_then(Value::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(want))
    };
    if !is("direction", "Inbound") || !is("access", "Allow") || is("protocol", "Icmp") {
        return;
    }
    let Some((source, line)) =
        open_source(b, &["source_address_prefix", "source_address_prefixes"])
    else {
        return;
    };
    let mut ranges = Vec::new();
    if let Some(spec) = b.get("destination_port_range") {
        let Some(range) = port_spec(spec) else { return };
        ranges.push(range);
    }
    for (spec, _) in b
        .get("destination_port_ranges")
        .map(Value::items)
        .unwrap_or_default()
    {
        let Some(range) = port_spec(spec) else { return };
        ranges.push(range);
    }
    hits.extend(ingress_hit(what, &source, &ranges, line));
}

fn public_database(r: &Resource<'_>, hits: &mut Vec<Hit>) {
    let b = r.body;
    let label = r.label();
    let advice = "keep databases in private subnets and reach them from the application's \
                  network or through a bastion";
    match r.kind {
        "aws_db_instance"
        | "aws_rds_cluster_instance"
        | "aws_redshift_cluster"
        | "aws_dms_replication_instance" => {
            if flag(b, "publicly_accessible") == Flag::Is(true) {
                hits.push(hit(
                    TF_PUBLIC_DATABASE,
                    r.line_of("publicly_accessible"),
                    format!(
                        "{label} sets `publicly_accessible = true`: it gets a public address \
                         and only its password stands between it and the internet (CWE-284); \
                         {advice}"
                    ),
                ));
            }
        }
        "google_sql_database_instance" => {
            let networks = b
                .blocks_of("settings")
                .flat_map(|s| s.body.blocks_of("ip_configuration"))
                .flat_map(|ip| ip.body.blocks_of("authorized_networks"));
            for network in networks {
                if let Some((source, line)) = open_source(&network.body, &["value"]) {
                    hits.push(hit(
                        TF_PUBLIC_DATABASE,
                        line,
                        format!(
                            "{label} authorizes `{source}`: every address on the internet may \
                             connect (CWE-284); {advice}"
                        ),
                    ));
                }
            }
        }
        kind if kind.starts_with("azurerm_") && kind.ends_with("_firewall_rule") => {
            let start = b.get("start_ip_address").and_then(Value::as_str);
            let end = b.get("end_ip_address").and_then(Value::as_str);
            if start == Some("0.0.0.0") && end == Some("255.255.255.255") {
                hits.push(hit(
                    TF_PUBLIC_DATABASE,
                    r.line_of("end_ip_address"),
                    format!(
                        "{label} allows 0.0.0.0-255.255.255.255: every address on the internet \
                         may connect (CWE-284); {advice}"
                    ),
                ));
            }
        }
        _ => {}
    }
}

/// Whether some resource of the module sends logs to this bucket (an
/// access-log destination does not log its own access).
fn is_log_bucket(bucket: &Resource<'_>, resources: &[Resource<'_>]) -> bool {
    let named_log = bucket.name.contains("log")
        || bucket
            .body
            .get("bucket")
            .and_then(Value::as_str)
            .is_some_and(|n| n.contains("log"));
    named_log
        || resources.iter().filter(|r| r.dir == bucket.dir).any(|r| {
            let direct = ["target_bucket", "s3_bucket_name"]
                .iter()
                .map(|a| r.body.get(a));
            let nested = ["logging", "access_logs", "logging_config"]
                .iter()
                .flat_map(|k| r.body.blocks_of(k))
                .flat_map(|l| [l.body.get("target_bucket"), l.body.get("bucket")]);
            direct
                .chain(nested)
                .any(|v| names_bucket(bucket, &target(v)))
        })
}

fn logging(r: &Resource<'_>, resources: &[Resource<'_>], hits: &mut Vec<Hit>) {
    let b = r.body;
    let label = r.label();
    match r.kind {
        "aws_s3_bucket" => {
            if b.block("logging").is_some()
                || b.has_dynamic("logging")
                || is_log_bucket(r, resources)
            {
                return;
            }
            if configured_by(r, resources, "aws_s3_bucket_logging", "bucket") == Some(false) {
                hits.push(hit(
                    TF_LOGGING_DISABLED,
                    r.line,
                    format!(
                        "S3 bucket {label} has no access logging: who read or changed which \
                         object cannot be traced (CWE-778); add an `aws_s3_bucket_logging` \
                         to a log bucket"
                    ),
                ));
            }
        }
        "aws_lb" | "aws_alb" => {
            let application = b
                .get("load_balancer_type")
                .is_none_or(|t| t.as_str() == Some("application"));
            if !application || b.has_dynamic("access_logs") {
                return;
            }
            let logs = b.block("access_logs");
            let state = logs.map_or(Flag::Unset, |l| flag(&l.body, "enabled"));
            if matches!(state, Flag::Unset | Flag::Is(false)) {
                let line = logs.map_or(r.line, |l| {
                    l.body.attr("enabled").map_or(l.line, |a| a.line)
                });
                hits.push(hit(
                    TF_LOGGING_DISABLED,
                    line,
                    format!(
                        "load balancer {label} keeps no access logs{} (CWE-778); add \
                         `access_logs {{ bucket = …, enabled = true }}`",
                        if logs.is_some() {
                            ": `access_logs.enabled` is unset or false (it defaults to false)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
        "aws_cloudtrail" if flag(b, "enable_logging") == Flag::Is(false) => {
            hits.push(hit(
                TF_LOGGING_DISABLED,
                r.line_of("enable_logging"),
                format!(
                    "trail {label} sets `enable_logging = false`: API calls go unrecorded \
                     (CWE-778); remove it"
                ),
            ));
        }
        _ => {}
    }
}

fn deletion_protection(r: &Resource<'_>, hits: &mut Vec<Hit>) {
    let b = r.body;
    let replica = b.get("replicate_source_db").is_some();
    let aurora_member = r.kind == "aws_db_instance"
        && b.get("engine")
            .and_then(Value::as_str)
            .is_some_and(|e| e.starts_with("aurora"));
    if !matches!(r.kind, "aws_db_instance" | "aws_rds_cluster") || replica || aurora_member {
        return;
    }
    if matches!(
        flag(b, "deletion_protection"),
        Flag::Unset | Flag::Is(false)
    ) {
        hits.push(hit(
            TF_NO_DELETION_PROTECTION,
            r.line_of("deletion_protection"),
            format!(
                "database {} has no deletion protection: one mistaken `terraform destroy` or \
                 rename deletes it; set `deletion_protection = true`",
                r.label()
            ),
        ));
    }
}

fn imds(r: &Resource<'_>, hits: &mut Vec<Hit>) {
    if !matches!(
        r.kind,
        "aws_instance" | "aws_launch_template" | "aws_launch_configuration"
    ) || r.body.has_dynamic("metadata_options")
    {
        return;
    }
    let options = r.body.block("metadata_options");
    let why = match options {
        None => "has no `metadata_options`".to_string(),
        Some(o) => {
            if o.body.get("http_endpoint").and_then(Value::as_str) == Some("disabled") {
                return;
            }
            match o.body.get("http_tokens") {
                None => "leaves `http_tokens` unset".to_string(),
                Some(Value::Str(t)) if t != "required" => format!("sets `http_tokens = \"{t}\"`"),
                _ => return,
            }
        }
    };
    let line = options.map_or(r.line, |o| {
        o.body.attr("http_tokens").map_or(o.line, |a| a.line)
    });
    hits.push(hit(
        TF_IMDSV1,
        line,
        format!(
            "{} {why}, so the instance metadata service answers IMDSv1: one SSRF in the \
             application hands out the instance's credentials (CWE-918); set \
             `metadata_options {{ http_tokens = \"required\" }}`",
            r.label()
        ),
    ));
}

/// A string literal that is a secret value (not empty, not a reference
/// to a secret store).
fn literal_secret(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| !s.trim().is_empty() && !s.starts_with("arn:"))
}

/// Secret-named attributes (and object keys) set to literals, anywhere
/// but in `output` blocks; secret-named variables with a literal default.
fn secrets(body: &Body, hits: &mut Vec<Hit>) {
    for block in &body.blocks {
        match block.kind.as_str() {
            "output" => {}
            "variable" => {
                let Some(name) = block.labels.first() else {
                    continue;
                };
                if let Some(default) = block.body.attr("default")
                    && is_secret_name(name)
                    && literal_secret(&default.value)
                {
                    hits.push(hit(
                        TF_HARDCODED_SECRET,
                        default.line,
                        format!(
                            "variable `{name}` has a literal default: the secret is in the \
                             repository and in every plan (CWE-798); drop the default, mark it \
                             `sensitive = true` and pass it from a secret store or \
                             `TF_VAR_{name}`"
                        ),
                    ));
                }
            }
            _ => walk_secrets(&block.body, hits),
        }
    }
}

fn walk_secrets(body: &Body, hits: &mut Vec<Hit>) {
    // Tags and labels describe resources; a key there is not a setting.
    let settings = body
        .attributes
        .iter()
        .filter(|a| !matches!(a.name.as_str(), "tags" | "tags_all" | "labels"));
    for attr in settings {
        value_secrets(&attr.name, &attr.value, attr.line, hits);
    }
    for block in &body.blocks {
        walk_secrets(&block.body, hits);
    }
}

fn value_secrets(name: &str, value: &Value, line: u32, hits: &mut Vec<Hit>) {
    match value {
        Value::Object(entries) => {
            for (key, v, l) in entries {
                value_secrets(key, v, *l, hits);
            }
        }
        Value::List(items) => {
            for (v, l) in items {
                if matches!(v, Value::Object(_)) {
                    value_secrets(name, v, *l, hits);
                }
            }
        }
        v if is_secret_name(name) && literal_secret(v) => hits.push(hit(
            TF_HARDCODED_SECRET,
            line,
            format!(
                "`{name}` is set to a literal: the secret is in the repository and in the \
                 state in clear (CWE-798); read it from a variable marked `sensitive`, a \
                 secret store data source, or generate it (`random_password`, \
                 `manage_master_user_password = true`)"
            ),
        )),
        _ => {}
    }
}

/// What a module `source` is fetched from.
enum Source {
    Local,
    Registry,
    Git,
    /// An archive URL, a bucket, Mercurial: versioned by its address.
    Other,
}

fn source_kind(source: &str) -> Source {
    if source.starts_with("./") || source.starts_with("../") || source.starts_with('/') {
        return Source::Local;
    }
    if source.starts_with("git::") || source.starts_with("git@") {
        return Source::Git;
    }
    if source.contains("::") || source.contains("://") {
        return Source::Other;
    }
    let address = source.split("//").next().unwrap_or(source);
    let address = address.split('?').next().unwrap_or(address);
    let parts: Vec<&str> = address.split('/').collect();
    let plain = parts.iter().all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    });
    if !plain {
        return Source::Other;
    }
    match parts.as_slice() {
        [host, _, _] if matches!(*host, "github.com" | "bitbucket.org") => Source::Git,
        [namespace, _, _] if !namespace.contains('.') => Source::Registry,
        [host, _, _, _] if host.contains('.') => Source::Registry,
        _ => Source::Other,
    }
}

fn unpinned(body: &Body, hits: &mut Vec<Hit>) {
    let providers = body
        .blocks_of("terraform")
        .flat_map(|t| t.body.blocks_of("required_providers"));
    for block in providers {
        for attr in &block.body.attributes {
            if matches!(attr.value, Value::Object(_)) && attr.value.key("version").is_none() {
                let source = attr.value.key("source").and_then(Value::as_str);
                hits.push(hit(
                    TF_UNPINNED_PROVIDER,
                    attr.line,
                    format!(
                        "provider `{}` has no version constraint: `terraform init` takes the \
                         newest release, breaking changes included (CWE-1357); add \
                         `version = \"~> X.Y\"` and commit `.terraform.lock.hcl`",
                        source.unwrap_or(&attr.name)
                    ),
                ));
            }
        }
    }
    for module in body.blocks_of("module") {
        let Some(source) = module.body.attr("source") else {
            continue;
        };
        let Some(text) = source.value.as_str() else {
            continue;
        };
        let name = module.labels.first().map_or("?", String::as_str);
        let why = match source_kind(text) {
            Source::Registry if module.body.get("version").is_none() => {
                "comes from a registry without `version`: `terraform init` takes the newest \
                 release (CWE-1357); add `version = \"~> X.Y\"`"
            }
            Source::Git if !text.contains("ref=") => {
                "comes from git without `?ref=`: it follows the default branch (CWE-1357); pin \
                 a tag or commit with `?ref=`"
            }
            _ => continue,
        };
        hits.push(hit(
            TF_UNPINNED_PROVIDER,
            source.line,
            format!("module `{name}` ({text}) {why}"),
        ));
    }
}
