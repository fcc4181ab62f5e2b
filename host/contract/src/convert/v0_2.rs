//! `qlp:plugin@0.2.0` at the boundary. The host builds every call's input
//! in 0.1.0's types (the pipeline speaks one version); a 0.2 plugin gets
//! them mirrored into 0.2.0's, and what it returns becomes domain values,
//! keeping what 0.2 adds (a finding's region, snippet, fix and tags; the
//! `llm` capability).

use crate::bindings::v0_2::Capsule;
use crate::bindings::v0_2::wit as w2;
use crate::bindings::wit as w1;
use crate::model;

/// Records whose shape is the same in both versions, mirrored field by
/// field either way: `plain` fields move as they are, `into` fields
/// convert one value, `list` fields convert each element.
macro_rules! mirror {
    ($($ty:ident { $($plain:ident),* $(; into $($into:ident),*)? $(; list $($list:ident),*)? })*) => {$(
        impl From<w1::$ty> for w2::$ty {
            fn from(v: w1::$ty) -> Self {
                Self {
                    $($plain: v.$plain,)*
                    $($($into: v.$into.into(),)*)?
                    $($($list: v.$list.into_iter().map(Into::into).collect(),)*)?
                }
            }
        }

        impl From<w2::$ty> for w1::$ty {
            fn from(v: w2::$ty) -> Self {
                Self {
                    $($plain: v.$plain,)*
                    $($($into: v.$into.into(),)*)?
                    $($($list: v.$list.into_iter().map(Into::into).collect(),)*)?
                }
            }
        }
    )*};
}

mirror! {
    Intent { id, description, requirements, constraints, tier }
    File { path, content }
    FunctionMetrics { name, line, cyclomatic_complexity, documented }
    Analysis { path, language, lines_of_code, comment_lines, blank_lines, imports, doc_coverage; list functions }
    Artifact { media_type, file_name, bytes }
    ExportOptions { base_name, options }
    DeliveryTarget { destination, options }
    Receipt { location, details }
    Plan { complexity, recommended_tier, justification, stack, constraints, compliance, estimated_files, estimated_stages }
    PlanningRequest { tiers; into intent }
}

impl From<w1::Severity> for w2::Severity {
    fn from(s: w1::Severity) -> Self {
        match s {
            w1::Severity::Info => Self::Info,
            w1::Severity::Low => Self::Low,
            w1::Severity::Medium => Self::Medium,
            w1::Severity::High => Self::High,
            w1::Severity::Critical => Self::Critical,
        }
    }
}

impl From<w2::Severity> for model::Severity {
    fn from(s: w2::Severity) -> Self {
        match s {
            w2::Severity::Info => Self::Info,
            w2::Severity::Low => Self::Low,
            w2::Severity::Medium => Self::Medium,
            w2::Severity::High => Self::High,
            w2::Severity::Critical => Self::Critical,
        }
    }
}

/// A 0.1 finding has a path and a line: the location and the region's
/// start.
impl From<w1::Finding> for w2::Finding {
    fn from(f: w1::Finding) -> Self {
        Self {
            rule_id: f.rule_id,
            severity: f.severity.into(),
            message: f.message,
            location: f.path.map(|path| w2::Location {
                path,
                region: f.line.map(|start_line| w2::Region {
                    start_line,
                    start_column: None,
                    end_line: None,
                    end_column: None,
                }),
            }),
            snippet: None,
            fix: None,
            tags: vec![],
        }
    }
}

impl From<w1::Report> for w2::Report {
    fn from(r: w1::Report) -> Self {
        Self {
            findings: r.findings.into_iter().map(Into::into).collect(),
            score: r.score,
            summary: r.summary,
        }
    }
}

impl From<w1::Validation> for w2::Validation {
    fn from(v: w1::Validation) -> Self {
        Self {
            validator: v.validator,
            report: v.report.into(),
        }
    }
}

/// A 0.1 generation request as 0.2 splits it: the request, and the files
/// written so far as the capsule the agent reads.
pub fn generation(r: w1::GenerationRequest) -> (w2::GenerationRequest, Capsule) {
    let project = Capsule::from(w1::CapsuleView {
        intent: r.intent.clone(),
        files: r.files,
        analyses: vec![],
        validations: vec![],
        quality_score: None,
    });
    let request = w2::GenerationRequest {
        intent: r.intent.into(),
        findings: r.findings.into_iter().map(Into::into).collect(),
        iteration: r.iteration,
        role: r.role,
    };
    (request, project)
}

/// The capsule a 0.1 view describes, its files sorted by path (the order
/// `files` promises and `read` searches).
impl From<w1::CapsuleView> for Capsule {
    fn from(v: w1::CapsuleView) -> Self {
        let mut files: Vec<w2::File> = v.files.into_iter().map(Into::into).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self {
            intent: v.intent.into(),
            files,
            analyses: v.analyses.into_iter().map(Into::into).collect(),
            validations: v.validations.into_iter().map(Into::into).collect(),
            quality_score: v.quality_score,
        }
    }
}

impl From<w2::Region> for model::Region {
    fn from(r: w2::Region) -> Self {
        Self {
            start_line: r.start_line,
            start_column: r.start_column,
            end_line: r.end_line,
            end_column: r.end_column,
        }
    }
}

impl From<w2::Finding> for model::Finding {
    fn from(f: w2::Finding) -> Self {
        let (path, region) = match f.location {
            Some(l) => (Some(l.path), l.region.map(model::Region::from)),
            None => (None, None),
        };
        Self {
            rule_id: f.rule_id,
            severity: f.severity.into(),
            message: f.message,
            path,
            line: region.map(|r| r.start_line),
            region,
            snippet: f.snippet,
            fix: f.fix.map(|fix| model::Fix {
                description: fix.description,
                replacements: fix
                    .replacements
                    .into_iter()
                    .map(|r| model::Replacement {
                        path: r.path,
                        region: r.region.into(),
                        text: r.text,
                    })
                    .collect(),
            }),
            tags: f.tags,
        }
    }
}

impl From<w2::Report> for model::Report {
    fn from(r: w2::Report) -> Self {
        Self {
            findings: r.findings.into_iter().map(Into::into).collect(),
            score: r.score,
            summary: r.summary,
        }
    }
}

impl From<w2::PluginKind> for model::PluginKind {
    fn from(k: w2::PluginKind) -> Self {
        match k {
            w2::PluginKind::Agent => Self::Agent,
            w2::PluginKind::Analyzer => Self::Analyzer,
            w2::PluginKind::Validator => Self::Validator,
            w2::PluginKind::Exporter => Self::Exporter,
            w2::PluginKind::Delivery => Self::Delivery,
            w2::PluginKind::Planner => Self::Planner,
        }
    }
}

impl From<w2::Capability> for model::Capability {
    fn from(c: w2::Capability) -> Self {
        match c {
            w2::Capability::DirectoryRead => Self::DirectoryRead,
            w2::Capability::DirectoryWrite => Self::DirectoryWrite,
            w2::Capability::Http(h) => Self::Http(h),
            w2::Capability::Secret(s) => Self::Secret(s),
            w2::Capability::Llm => Self::Llm,
        }
    }
}

impl From<w2::PluginInfo> for model::PluginInfo {
    fn from(i: w2::PluginInfo) -> Self {
        Self {
            name: i.name,
            version: i.version,
            kind: i.kind.into(),
            description: i.description,
            capabilities: i.capabilities.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rich_finding_keeps_its_region_fix_and_tags_and_reports_its_line() {
        let region = w2::Region {
            start_line: 3,
            start_column: Some(5),
            end_line: Some(4),
            end_column: Some(1),
        };
        let finding: model::Finding = w2::Finding {
            rule_id: "secrets/aws-key".into(),
            severity: w2::Severity::High,
            message: "an AWS key".into(),
            location: Some(w2::Location {
                path: "app/config.py".into(),
                region: Some(region),
            }),
            snippet: Some("KEY = \"AKIA…\"".into()),
            fix: Some(w2::Fix {
                description: "read it from the environment".into(),
                replacements: vec![w2::Replacement {
                    path: "app/config.py".into(),
                    region,
                    text: "KEY = os.environ[\"KEY\"]".into(),
                }],
            }),
            tags: vec!["cwe:CWE-798".into()],
        }
        .into();
        assert_eq!(finding.path.as_deref(), Some("app/config.py"));
        assert_eq!(finding.line, Some(3));
        let kept = finding.region.unwrap();
        assert_eq!(
            (kept.start_column, kept.end_line, kept.end_column),
            (Some(5), Some(4), Some(1))
        );
        assert_eq!(finding.severity, model::Severity::High);
        assert_eq!(finding.fix.unwrap().replacements[0].region, kept);
        assert_eq!(finding.tags, ["cwe:CWE-798"]);
        assert_eq!(finding.snippet.as_deref(), Some("KEY = \"AKIA…\""));
    }

    #[test]
    fn a_0_1_finding_becomes_a_location_with_its_line_as_the_region_start() {
        let f: w2::Finding = w1::Finding {
            rule_id: "r".into(),
            severity: w1::Severity::Low,
            message: "m".into(),
            path: Some("a.py".into()),
            line: Some(7),
        }
        .into();
        let location = f.location.unwrap();
        assert_eq!(location.path, "a.py");
        assert_eq!(location.region.unwrap().start_line, 7);
        let pathless: w2::Finding = w1::Finding {
            rule_id: "r".into(),
            severity: w1::Severity::Low,
            message: "m".into(),
            path: None,
            line: Some(7),
        }
        .into();
        assert!(pathless.location.is_none());
    }

    #[test]
    fn a_capsule_sorts_its_files_and_finds_each_by_path() {
        let file = |p: &str| w1::File {
            path: p.into(),
            content: p.as_bytes().to_vec(),
        };
        let capsule = Capsule::from(w1::CapsuleView {
            intent: w1::Intent {
                id: "i".into(),
                description: "d".into(),
                requirements: vec![],
                constraints: vec![],
                tier: "starter".into(),
            },
            files: vec![file("src/b.rs"), file("README.md"), file("src/a.rs")],
            analyses: vec![],
            validations: vec![],
            quality_score: Some(90),
        });
        let paths: Vec<_> = capsule.entries().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["README.md", "src/a.rs", "src/b.rs"]);
        assert_eq!(capsule.file("src/a.rs").unwrap().content, b"src/a.rs");
        assert_eq!(capsule.entries()[0].size, 9);
        assert!(capsule.file("src/c.rs").is_none());
    }
}
