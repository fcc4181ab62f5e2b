//! Conversions between the WIT contract's generated types and QLP's domain
//! types (`crate::model`). This is the single boundary a new contract
//! version changes: 0.1.0 here, 0.2.0 in [`v0_2`].

use crate::bindings::wit;
use crate::model;

pub mod v0_2;

impl From<&model::Intent> for wit::Intent {
    fn from(i: &model::Intent) -> Self {
        Self {
            id: i.id.clone(),
            description: i.description.clone(),
            requirements: i.requirements.clone(),
            constraints: i.constraints.clone(),
            tier: i.tier.clone(),
        }
    }
}

impl From<&model::File> for wit::File {
    fn from(f: &model::File) -> Self {
        Self {
            path: f.path.clone(),
            content: f.content.clone(),
        }
    }
}

impl From<wit::File> for model::File {
    fn from(f: wit::File) -> Self {
        Self {
            path: f.path,
            content: f.content,
        }
    }
}

impl From<wit::Severity> for model::Severity {
    fn from(s: wit::Severity) -> Self {
        match s {
            wit::Severity::Info => Self::Info,
            wit::Severity::Low => Self::Low,
            wit::Severity::Medium => Self::Medium,
            wit::Severity::High => Self::High,
            wit::Severity::Critical => Self::Critical,
        }
    }
}

impl From<model::Severity> for wit::Severity {
    fn from(s: model::Severity) -> Self {
        match s {
            model::Severity::Info => Self::Info,
            model::Severity::Low => Self::Low,
            model::Severity::Medium => Self::Medium,
            model::Severity::High => Self::High,
            model::Severity::Critical => Self::Critical,
        }
    }
}

impl From<wit::Finding> for model::Finding {
    fn from(f: wit::Finding) -> Self {
        Self {
            path: f.path,
            line: f.line,
            ..model::Finding::new(f.rule_id, f.severity.into(), f.message)
        }
    }
}

impl From<&model::Finding> for wit::Finding {
    fn from(f: &model::Finding) -> Self {
        Self {
            rule_id: f.rule_id.clone(),
            severity: f.severity.into(),
            message: f.message.clone(),
            path: f.path.clone(),
            line: f.line,
        }
    }
}

impl From<wit::PluginKind> for model::PluginKind {
    fn from(k: wit::PluginKind) -> Self {
        match k {
            wit::PluginKind::Agent => Self::Agent,
            wit::PluginKind::Analyzer => Self::Analyzer,
            wit::PluginKind::Validator => Self::Validator,
            wit::PluginKind::Exporter => Self::Exporter,
            wit::PluginKind::Delivery => Self::Delivery,
            wit::PluginKind::Planner => Self::Planner,
        }
    }
}

impl From<wit::Capability> for model::Capability {
    fn from(c: wit::Capability) -> Self {
        match c {
            wit::Capability::DirectoryRead => Self::DirectoryRead,
            wit::Capability::DirectoryWrite => Self::DirectoryWrite,
            wit::Capability::Http(h) => Self::Http(h),
            wit::Capability::Secret(s) => Self::Secret(s),
        }
    }
}

impl From<wit::PluginInfo> for model::PluginInfo {
    fn from(i: wit::PluginInfo) -> Self {
        Self {
            name: i.name,
            version: i.version,
            kind: i.kind.into(),
            description: i.description,
            capabilities: i.capabilities.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<wit::FunctionMetrics> for model::FunctionMetrics {
    fn from(f: wit::FunctionMetrics) -> Self {
        Self {
            name: f.name,
            line: f.line,
            cyclomatic_complexity: f.cyclomatic_complexity,
            documented: f.documented,
        }
    }
}

impl From<&model::FunctionMetrics> for wit::FunctionMetrics {
    fn from(f: &model::FunctionMetrics) -> Self {
        Self {
            name: f.name.clone(),
            line: f.line,
            cyclomatic_complexity: f.cyclomatic_complexity,
            documented: f.documented,
        }
    }
}

/// An analysis as a plugin returned it, attributed to that analyzer.
pub fn analysis_from_wit(a: wit::Analysis, analyzer: &str) -> model::Analysis {
    model::Analysis {
        path: a.path,
        language: a.language,
        analyzer: analyzer.to_owned(),
        lines_of_code: a.lines_of_code,
        comment_lines: a.comment_lines,
        blank_lines: a.blank_lines,
        functions: a.functions.into_iter().map(Into::into).collect(),
        imports: a.imports,
        doc_coverage: a.doc_coverage,
    }
}

impl From<&model::Analysis> for wit::Analysis {
    fn from(a: &model::Analysis) -> Self {
        Self {
            path: a.path.clone(),
            language: a.language.clone(),
            lines_of_code: a.lines_of_code,
            comment_lines: a.comment_lines,
            blank_lines: a.blank_lines,
            functions: a.functions.iter().map(Into::into).collect(),
            imports: a.imports.clone(),
            doc_coverage: a.doc_coverage,
        }
    }
}

impl From<wit::Report> for model::Report {
    fn from(r: wit::Report) -> Self {
        Self {
            findings: r.findings.into_iter().map(Into::into).collect(),
            score: r.score,
            summary: r.summary,
        }
    }
}

impl From<&model::Validation> for wit::Validation {
    fn from(v: &model::Validation) -> Self {
        Self {
            validator: v.validator.clone(),
            report: wit::Report {
                findings: v.report.findings.iter().map(Into::into).collect(),
                score: v.report.score,
                summary: v.report.summary.clone(),
            },
        }
    }
}

impl From<wit::Artifact> for model::Artifact {
    fn from(a: wit::Artifact) -> Self {
        Self {
            media_type: a.media_type,
            file_name: a.file_name,
            bytes: a.bytes,
        }
    }
}

impl From<&model::Artifact> for wit::Artifact {
    fn from(a: &model::Artifact) -> Self {
        Self {
            media_type: a.media_type.clone(),
            file_name: a.file_name.clone(),
            bytes: a.bytes.clone(),
        }
    }
}

impl From<wit::Receipt> for model::Receipt {
    fn from(r: wit::Receipt) -> Self {
        Self {
            location: r.location,
            details: r.details,
        }
    }
}

impl From<wit::Plan> for model::Plan {
    fn from(p: wit::Plan) -> Self {
        let text = |s: String| crate::text::sanitize(&s, 1024);
        Self {
            complexity: if p.complexity.is_finite() {
                p.complexity.clamp(0.0, 1.0)
            } else {
                0.0
            },
            recommended_tier: text(p.recommended_tier),
            justification: p.justification.into_iter().map(text).collect(),
            stack: p.stack.into_iter().map(text).collect(),
            constraints: p
                .constraints
                .into_iter()
                .map(|(k, v)| (text(k), text(v)))
                .collect(),
            compliance: p.compliance.into_iter().map(text).collect(),
            estimated_files: p.estimated_files,
            estimated_stages: p.estimated_stages,
        }
    }
}

/// What a 0.1 validator or exporter is handed: the whole view, copied.
impl From<&model::CapsuleView> for wit::CapsuleView {
    fn from(v: &model::CapsuleView) -> Self {
        Self {
            intent: (&v.intent).into(),
            files: v.files.iter().map(Into::into).collect(),
            analyses: v.analyses.iter().map(Into::into).collect(),
            validations: v.validations.iter().map(Into::into).collect(),
            quality_score: v.quality_score,
        }
    }
}

/// What a 0.1 agent is handed: the files inside the request, and each
/// finding's path and line (0.1 has no more).
impl From<&model::GenerationRequest> for wit::GenerationRequest {
    fn from(r: &model::GenerationRequest) -> Self {
        Self {
            intent: (&r.project.intent).into(),
            files: r.project.files.iter().map(Into::into).collect(),
            findings: r.findings.iter().map(Into::into).collect(),
            iteration: r.iteration,
            role: r.role.clone(),
        }
    }
}
