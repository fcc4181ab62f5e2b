//! `qlp:plugin@0.2.0` at the boundary. The pipeline hands the runtime
//! domain values (a shared `model::CapsuleView`, a
//! `model::GenerationRequest`); a 0.2 plugin reads the view through its
//! capsule resource and gets every finding whole, and what it returns
//! becomes domain values keeping what 0.2 adds (a finding's region,
//! snippet, fix and tags; the `llm` capability). Records whose shape did
//! not change are mirrored from 0.1.0's.

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

/// A generation request as 0.2 splits it: the request with every finding
/// whole, and the project as the capsule the agent reads.
pub fn generation(r: &model::GenerationRequest) -> (w2::GenerationRequest, Capsule) {
    let request = w2::GenerationRequest {
        intent: (&r.project.intent).into(),
        findings: r.findings.iter().map(Into::into).collect(),
        iteration: r.iteration,
        role: r.role.clone(),
    };
    (request, Capsule::new(r.project.clone()))
}

impl From<&model::Intent> for w2::Intent {
    fn from(i: &model::Intent) -> Self {
        w1::Intent::from(i).into()
    }
}

impl From<&model::Analysis> for w2::Analysis {
    fn from(a: &model::Analysis) -> Self {
        w1::Analysis::from(a).into()
    }
}

impl From<model::Severity> for w2::Severity {
    fn from(s: model::Severity) -> Self {
        w1::Severity::from(s).into()
    }
}

impl From<model::Region> for w2::Region {
    fn from(r: model::Region) -> Self {
        Self {
            start_line: r.start_line,
            start_column: r.start_column,
            end_line: r.end_line,
            end_column: r.end_column,
        }
    }
}

/// A finding whole: a 0.1 validator's (a path and a line) as a location
/// with the line's region, a 0.2 validator's with everything it said.
impl From<&model::Finding> for w2::Finding {
    fn from(f: &model::Finding) -> Self {
        let region = f.region.or(f.line.map(|start_line| model::Region {
            start_line,
            start_column: None,
            end_line: None,
            end_column: None,
        }));
        Self {
            rule_id: f.rule_id.clone(),
            severity: f.severity.into(),
            message: f.message.clone(),
            location: f.path.as_ref().map(|path| w2::Location {
                path: path.clone(),
                region: region.map(Into::into),
            }),
            snippet: f.snippet.clone(),
            fix: f.fix.as_ref().map(|fix| w2::Fix {
                description: fix.description.clone(),
                replacements: fix
                    .replacements
                    .iter()
                    .map(|r| w2::Replacement {
                        path: r.path.clone(),
                        region: r.region.into(),
                        text: r.text.clone(),
                    })
                    .collect(),
            }),
            tags: f.tags.clone(),
        }
    }
}

impl From<&model::Validation> for w2::Validation {
    fn from(v: &model::Validation) -> Self {
        Self {
            validator: v.validator.clone(),
            report: w2::Report {
                findings: v.report.findings.iter().map(Into::into).collect(),
                score: v.report.score,
                summary: v.report.summary.clone(),
            },
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
        let old = model::Finding {
            path: Some("a.py".into()),
            line: Some(7),
            ..model::Finding::new("r", model::Severity::Low, "m")
        };
        let f = w2::Finding::from(&old);
        let location = f.location.unwrap();
        assert_eq!(location.path, "a.py");
        let region = location.region.unwrap();
        assert_eq!((region.start_line, region.start_column), (7, None));
        assert!(f.snippet.is_none() && f.fix.is_none() && f.tags.is_empty());
        let pathless = model::Finding { path: None, ..old };
        assert!(w2::Finding::from(&pathless).location.is_none());
    }

    #[test]
    fn a_rich_finding_reaches_a_later_plugin_whole() {
        let region = model::Region {
            start_line: 3,
            start_column: Some(5),
            end_line: Some(3),
            end_column: Some(9),
        };
        let rich = model::Finding {
            path: Some("app.py".into()),
            line: Some(3),
            region: Some(region),
            snippet: Some("TODO".into()),
            fix: Some(model::Fix {
                description: "drop it".into(),
                replacements: vec![model::Replacement {
                    path: "app.py".into(),
                    region,
                    text: String::new(),
                }],
            }),
            tags: vec!["cwe:CWE-546".into()],
            ..model::Finding::new("acme/todo", model::Severity::Medium, "a TODO")
        };
        let validation = model::Validation {
            validator: "acme/todo".into(),
            report: model::Report {
                findings: vec![rich.clone()],
                score: 95,
                summary: "one".into(),
            },
        };
        let seen = w2::Validation::from(&validation);
        assert_eq!(seen.report.score, 95);
        // Back into the domain, nothing is lost.
        let back = model::Finding::from(seen.report.findings[0].clone());
        assert_eq!(back, rich);
        assert_eq!(back.severity, model::Severity::Medium);
    }

    #[test]
    fn an_agent_gets_the_findings_whole_and_reads_the_shared_project() {
        let intent = model::Intent {
            id: "i".into(),
            description: "d".into(),
            requirements: vec![],
            constraints: vec![("compliance".into(), "pci".into())],
            tier: "standard".into(),
            kind: model::IntentKind::Generate,
        };
        let file = model::File {
            path: "app.py".into(),
            content: b"x".to_vec(),
        };
        let project = std::sync::Arc::new(model::CapsuleView::project(intent, vec![file]));
        let finding = model::Finding {
            path: Some("app.py".into()),
            line: Some(1),
            snippet: Some("x".into()),
            tags: vec!["cwe:CWE-798".into()],
            ..model::Finding::new("r", model::Severity::High, "m")
        };
        let request = model::GenerationRequest {
            project: project.clone(),
            findings: vec![finding],
            iteration: 2,
            role: "security".into(),
        };
        let (sent, capsule) = generation(&request);
        assert_eq!((sent.iteration, sent.role.as_str()), (2, "security"));
        assert_eq!(
            sent.intent.constraints,
            [("compliance".into(), "pci".into())]
        );
        assert_eq!(sent.findings[0].snippet.as_deref(), Some("x"));
        assert_eq!(sent.findings[0].tags, ["cwe:CWE-798"]);
        // The capsule is the stage's view, not a copy of it.
        assert!(std::ptr::eq(capsule.view(), &*project));
        // 0.1 gets the files in the request and the finding's place only.
        let old = w1::GenerationRequest::from(&request);
        assert_eq!(old.files.len(), 1);
        assert_eq!(
            (old.findings[0].path.as_deref(), old.findings[0].line),
            (Some("app.py"), Some(1))
        );
    }

    #[test]
    fn a_capsule_sorts_its_files_and_finds_each_by_path() {
        let file = |p: &str| model::File {
            path: p.into(),
            content: p.as_bytes().to_vec(),
        };
        let intent = model::Intent {
            id: "i".into(),
            description: "d".into(),
            requirements: vec![],
            constraints: vec![],
            tier: "starter".into(),
            kind: model::IntentKind::Generate,
        };
        let files = vec![file("src/b.rs"), file("README.md"), file("src/a.rs")];
        let view = model::CapsuleView::new(intent.clone(), files.clone(), vec![], vec![], Some(90));
        let capsule = Capsule::new(std::sync::Arc::new(view));
        let paths: Vec<_> = capsule.entries().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["README.md", "src/a.rs", "src/b.rs"]);
        assert_eq!(
            capsule.view().file("src/a.rs").unwrap().content,
            b"src/a.rs"
        );
        assert_eq!(capsule.entries()[0].size, 9);
        assert!(capsule.view().file("src/c.rs").is_none());
        // A view built unsorted is sorted when it becomes a capsule.
        let unsorted = model::CapsuleView {
            files,
            ..model::CapsuleView::project(intent, vec![])
        };
        let capsule = Capsule::new(std::sync::Arc::new(unsorted));
        assert_eq!(capsule.entries()[0].path, "README.md");
        assert!(capsule.view().file("src/b.rs").is_some());
    }
}
