//! QLP's domain types: what the API returns, the store keeps and the
//! pipeline passes around. They mirror the WIT contract's `types` interface;
//! `qlp_contract::convert` is the one place that translates between the two, so a
//! future contract version only changes that boundary.

use serde::{Deserialize, Serialize};

pub use qlp_types::{PluginKind, Severity};

/// The user's request, as accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Intent {
    pub id: String,
    pub description: String,
    pub requirements: Vec<String>,
    /// `[name, value]` pairs, e.g. `["database", "PostgreSQL"]`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub constraints: Vec<(String, String)>,
    pub tier: String,
    /// Whether agents generate the project or it was uploaded to be
    /// checked.
    #[serde(default)]
    pub kind: IntentKind,
}

/// What an intent asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntentKind {
    /// Agents generate a project from the description.
    #[default]
    Generate,
    /// An uploaded project is analysed, validated and gated as it is: no
    /// agents, exporters or delivery (`POST /v1/checks`).
    Check,
}

impl IntentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IntentKind::Generate => "generate",
            IntentKind::Check => "check",
        }
    }

    /// The stored name; anything unknown reads as `generate`.
    pub fn parse(s: &str) -> Self {
        if s == "check" {
            IntentKind::Check
        } else {
            IntentKind::Generate
        }
    }
}

/// One file of a project. Content is bytes; the API serves it raw and the
/// store keeps it as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    pub path: String,
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

/// Bytes as one base64 string in JSON, not an array of numbers.
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// One problem a validator found. `path` and `line` are what every
/// contract version reports; a 0.2 validator may add the rest, which maps
/// onto SARIF 2.1.0's region, snippet, fixes and tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The region's start line when there is a region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// The text at the location, as the validator saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Classifications: `cwe:CWE-798`, `pci-dss:3.5.1`, free words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Finding {
    /// A finding with a rule, a severity and a message, and nothing else.
    pub fn new(rule_id: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            rule_id: rule_id.into(),
            severity,
            message: message.into(),
            path: None,
            line: None,
            region: None,
            snippet: None,
            fix: None,
            tags: vec![],
        }
    }
}

/// A stretch of a file: 1-based lines and columns, the end column the one
/// after the stretch's last character (as SARIF counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub start_line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

/// A change that would resolve a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub description: String,
    pub replacements: Vec<Replacement>,
}

/// One edit of a fix: `text` replaces `region` of the file at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub path: String,
    pub region: Region,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum Capability {
    DirectoryRead,
    DirectoryWrite,
    Http(String),
    Secret(String),
    /// The language model the operator configured (agents, contract 0.2).
    Llm,
}

/// What a plugin's declared capabilities ask for, by kind: what the host
/// may link into it and, with the operator's grant, give its calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declared {
    pub http: bool,
    /// Any `secret(KEY)`.
    pub secrets: bool,
    pub llm: bool,
    pub directory_read: bool,
    pub directory_write: bool,
}

impl Declared {
    pub fn of(capabilities: &[Capability]) -> Self {
        capabilities.iter().fold(Self::default(), |d, c| match c {
            Capability::Http(_) => Self { http: true, ..d },
            Capability::DirectoryRead => Self {
                directory_read: true,
                ..d
            },
            Capability::DirectoryWrite => Self {
                directory_write: true,
                ..d
            },
            Capability::Secret(_) => Self { secrets: true, ..d },
            Capability::Llm => Self { llm: true, ..d },
        })
    }

    /// Whether it asks for a directory at all.
    pub fn directory(&self) -> bool {
        self.directory_read || self.directory_write
    }
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub capabilities: Vec<Capability>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionMetrics {
    pub name: String,
    pub line: u32,
    pub cyclomatic_complexity: u32,
    pub documented: bool,
}

/// What an analyzer measured of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub path: String,
    pub language: String,
    pub analyzer: String,
    pub lines_of_code: u32,
    pub comment_lines: u32,
    pub blank_lines: u32,
    pub functions: Vec<FunctionMetrics>,
    pub imports: Vec<String>,
    pub doc_coverage: f32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub score: u8,
    pub summary: String,
}

/// A report together with the validator that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub validator: String,
    pub report: Report,
}

/// What a validator, an exporter or an agent reads of the project for one
/// stage: built once and shared by the stage's calls. Each contract
/// version gets it its own way: 0.1.0 copies it whole into the plugin,
/// 0.2.0 hands out one file at a time and every finding whole.
#[derive(Debug, Clone, PartialEq)]
pub struct CapsuleView {
    pub intent: Intent,
    /// Sorted by path (see [`CapsuleView::new`]).
    pub files: Vec<File>,
    pub analyses: Vec<Analysis>,
    pub validations: Vec<Validation>,
    /// The overall quality score, once the quality gate has run.
    pub quality_score: Option<u8>,
}

impl CapsuleView {
    /// The view of `files` (in any order; kept sorted by path) and what was
    /// learnt of them.
    pub fn new(
        intent: Intent,
        mut files: Vec<File>,
        analyses: Vec<Analysis>,
        validations: Vec<Validation>,
        quality_score: Option<u8>,
    ) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self {
            intent,
            files,
            analyses,
            validations,
            quality_score,
        }
    }

    /// The project alone: what an agent reads.
    pub fn project(intent: Intent, files: Vec<File>) -> Self {
        Self::new(intent, files, vec![], vec![], None)
    }

    /// The file at `path`, if the view holds one.
    pub fn file(&self, path: &str) -> Option<&File> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// What an agent is asked to do: `project` holds the intent and the files
/// written so far; `findings` are the previous round's, whole.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    pub project: std::sync::Arc<CapsuleView>,
    pub findings: Vec<Finding>,
    /// 0 for the first round, then 1, 2, ... for repair rounds.
    pub iteration: u32,
    /// The role the tier gives the agent; empty when it gives none.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub media_type: String,
    pub file_name: String,
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// What a planner concluded about an intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// 0.0 (a static page) to 1.0.
    pub complexity: f32,
    pub recommended_tier: String,
    pub justification: Vec<String>,
    pub stack: Vec<String>,
    pub constraints: Vec<(String, String)>,
    pub compliance: Vec<String>,
    pub estimated_files: u32,
    pub estimated_stages: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub location: String,
    pub details: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_kind_is_stored_by_name_and_anything_else_reads_as_generate() {
        for kind in [IntentKind::Generate, IntentKind::Check] {
            assert_eq!(IntentKind::parse(kind.as_str()), kind);
        }
        assert_eq!(IntentKind::Check.as_str(), "check");
        assert_eq!(IntentKind::Generate.as_str(), "generate");
        assert_eq!(IntentKind::parse("upload"), IntentKind::Generate);
    }

    #[test]
    fn file_content_travels_as_base64_and_comes_back_byte_for_byte() {
        let file = File {
            path: "bin/x".into(),
            content: vec![0, 159, 255, b'a'],
        };
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["content"], "AJ//YQ==");
        assert_eq!(serde_json::from_value::<File>(json).unwrap(), file);
        let bad = serde_json::json!({ "path": "x", "content": "not base64!" });
        assert!(serde_json::from_value::<File>(bad).is_err());
    }

    #[test]
    fn declared_capabilities_are_read_by_kind() {
        assert_eq!(Declared::of(&[]), Declared::default());
        assert!(!Declared::default().directory());
        let all = Declared::of(&[
            Capability::Http("a:1".into()),
            Capability::Secret("K".into()),
            Capability::Llm,
            Capability::DirectoryRead,
        ]);
        assert_eq!(
            all,
            Declared {
                http: true,
                secrets: true,
                llm: true,
                directory_read: true,
                directory_write: false,
            }
        );
        assert!(all.directory());
        let write = Declared::of(&[Capability::DirectoryWrite]);
        assert!(write.directory_write && write.directory() && !write.http);
    }
}
