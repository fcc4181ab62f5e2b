//! QLP agent `qlp/llm-agent`: plans a project and writes its files through
//! the operator's language model (`qlp:llm/chat`).
//!
//! It asks the model for the whole project in one answer, a JSON object
//! `{"files": [{"path": …, "content": …}]}`, from:
//! - the intent: description, requirements and constraints, and the role
//!   the tier gives the agent;
//! - the files earlier agents wrote (a stack agent's scaffold), which it
//!   extends rather than replaces; their contents up to `max_context_bytes`,
//!   the paths of the rest;
//! - in a repair round, the validators' findings of the previous round,
//!   to be fixed: it then returns only the files it changes.
//!
//! The answer is parsed strictly ([`parse_answer`]): one JSON object
//! (optionally in one Markdown code fence), every path relative and
//! without `..`, no path twice, at most [`MAX_FILES`] files of at most
//! [`MAX_FILE_BYTES`] each. Anything else fails the stage with
//! `LLM_MALFORMED_ANSWER` and no file is written; an answer the model cut
//! at its token limit fails with `LLM_ANSWER_CUT`. The host's refusals
//! keep their codes (`LLM_NOT_GRANTED`, `LLM_LIMIT_EXCEEDED`,
//! `LLM_UNAVAILABLE`).
//!
//! Configuration (`[plugins."qlp/llm-agent"] config`): `model` (one the
//! operator allowed; default: the endpoint's first), `max_tokens`,
//! `temperature`, `max_context_bytes` (default 49152).

use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};
use qlp_sdk::llm::{self, Message, Options};
use qlp_sdk::{Capability, PluginKind, Severity};
use serde_json::Value;

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/llm-agent";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Most files one answer may write.
pub const MAX_FILES: usize = 200;

/// Largest file one answer may write.
pub const MAX_FILE_BYTES: usize = 512 << 10;

/// Most bytes one answer may write in all.
pub const MAX_ANSWER_BYTES: usize = 4 << 20;

/// Longest path, in bytes.
pub const MAX_PATH_BYTES: usize = 256;

/// Bytes of earlier files shown to the model by default.
pub const DEFAULT_CONTEXT_BYTES: usize = 48 << 10;

/// The capsule's own manifest: never written by an agent.
const RESERVED: &str = ".qlcapsule-manifest.json";

/// The code of an answer that is not what was asked for.
pub const MALFORMED: &str = "LLM_MALFORMED_ANSWER";

/// What the operator set for this agent.
#[derive(Debug, Clone)]
pub struct Settings {
    pub options: Options,
    pub max_context_bytes: usize,
}

impl Settings {
    /// Reads the agent's configuration through `config`.
    pub fn read(config: impl Fn(&str) -> Option<String>) -> Result<Self, PluginError> {
        let invalid = |key: &str, value: &str| {
            PluginError::new(
                "INVALID_CONFIG",
                format!("`{key}` = `{value}` is not valid for {PLUGIN_NAME}"),
            )
        };
        let number = |key: &str| -> Result<Option<u64>, PluginError> {
            config(key)
                .map(|v| v.trim().parse::<u64>().map_err(|_| invalid(key, &v)))
                .transpose()
        };
        let temperature = config("temperature")
            .map(|v| {
                v.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|t| (0.0..=2.0).contains(t))
                    .ok_or_else(|| invalid("temperature", &v))
            })
            .transpose()?;
        let max_tokens = number("max_tokens")?
            .map(|n| u32::try_from(n).ok().filter(|n| *n > 0))
            .map(|n| n.ok_or_else(|| invalid("max_tokens", "out of range")))
            .transpose()?;
        Ok(Self {
            options: Options {
                model: config("model").filter(|m| !m.trim().is_empty()),
                max_tokens,
                temperature,
            },
            max_context_bytes: number("max_context_bytes")?
                .map_or(DEFAULT_CONTEXT_BYTES, |n| n as usize),
        })
    }
}

/// The instructions every request starts with.
fn system_prompt(role: &str) -> String {
    let role = if role.is_empty() { "implementer" } else { role };
    format!(
        "You are the {role} of a software project that QLP generates from a user's intent.\n\
         Answer with exactly one JSON object and nothing else:\n\
         {{\"files\": [{{\"path\": \"relative/path.ext\", \"content\": \"the whole file\"}}]}}\n\
         Rules:\n\
         - Paths are relative and `/`-separated, without `..`. Write whole files, never diffs.\n\
         - Return only the files you add or change; the files you leave out stay as they are.\n\
         - Keep the stack, names and layout of the files that already exist, and extend them.\n\
         - The project runs as the intent asks, with its own tests, a README saying how to \
         run it, a Dockerfile and a .gitignore.\n\
         - Never write secrets, keys or passwords into files: read them from the environment.\n\
         - At most {MAX_FILES} files."
    )
}

/// The messages for `request`: the instructions, then the intent, the
/// earlier files and, in a repair round, the findings to fix.
pub fn prompt(request: &GenerationRequest, max_context_bytes: usize) -> Vec<Message> {
    let intent = &request.intent;
    let mut text = format!("Intent: {}\n", intent.description.trim());
    if !intent.requirements.is_empty() {
        text.push_str("\nRequirements:\n");
        for r in &intent.requirements {
            text.push_str(&format!("- {r}\n"));
        }
    }
    if !intent.constraints.is_empty() {
        text.push_str("\nConstraints:\n");
        for (k, v) in &intent.constraints {
            text.push_str(&format!("- {k}: {v}\n"));
        }
    }
    if !request.files.is_empty() {
        text.push_str(&format!(
            "\nThe project so far ({} files, written by earlier agents):\n",
            request.files.len()
        ));
        let mut shown = 0usize;
        let mut listed = vec![];
        for file in &request.files {
            match std::str::from_utf8(&file.content) {
                Ok(content) if shown + content.len() <= max_context_bytes => {
                    shown += content.len();
                    text.push_str(&format!("\n=== {} ===\n{}\n", file.path, content));
                }
                _ => listed.push(file.path.as_str()),
            }
        }
        if !listed.is_empty() {
            text.push_str("\nAlso in the project (contents not shown):\n");
            for path in listed {
                text.push_str(&format!("- {path}\n"));
            }
        }
    }
    if request.iteration > 0 {
        text.push_str(&format!(
            "\nRepair round {}: the validators found these problems in the project. Fix every \
             one, and return only the files you change.\n",
            request.iteration
        ));
        for f in &request.findings {
            let place = match (f.path(), f.line()) {
                (Some(p), Some(l)) => format!(" at {p}:{l}"),
                (Some(p), None) => format!(" in {p}"),
                _ => String::new(),
            };
            text.push_str(&format!(
                "- [{}] {}{place}: {}\n",
                severity_name(f.severity),
                f.rule_id,
                f.message
            ));
            if let Some(snippet) = &f.snippet {
                text.push_str(&format!("  the text there: `{}`\n", snippet.trim()));
            }
            if let Some(fix) = &f.fix {
                text.push_str(&format!("  suggested fix: {}\n", fix.description));
            }
        }
    }
    vec![
        Message::system(system_prompt(&request.role)),
        Message::user(text),
    ]
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn malformed(why: impl Into<String>) -> PluginError {
    PluginError::new(MALFORMED, why)
}

/// The files of the model's answer, or why it is refused. Nothing is
/// returned unless everything in the answer is acceptable.
pub fn parse_answer(text: &str) -> Result<Vec<File>, PluginError> {
    let body = unfence(text.trim());
    let value: Value = serde_json::from_str(body).map_err(|e| {
        malformed(format!(
            "the model's answer is not one JSON object ({e}); it starts: {}",
            excerpt(text)
        ))
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| malformed("the model's answer is not a JSON object"))?;
    if let Some(key) = object
        .keys()
        .find(|k| !["files", "summary", "notes"].contains(&k.as_str()))
    {
        return Err(malformed(format!(
            "the model's answer has an unexpected key `{}`",
            excerpt(key)
        )));
    }
    let files = object
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the model's answer has no `files` list"))?;
    if files.len() > MAX_FILES {
        return Err(malformed(format!(
            "the model wrote {} files; at most {MAX_FILES}",
            files.len()
        )));
    }
    let mut out: Vec<File> = Vec::with_capacity(files.len());
    let mut total = 0usize;
    for (i, entry) in files.iter().enumerate() {
        let entry = entry
            .as_object()
            .filter(|o| o.len() == 2)
            .ok_or_else(|| malformed(format!("files[{i}] is not {{path, content}}")))?;
        let (Some(path), Some(content)) = (
            entry.get("path").and_then(Value::as_str),
            entry.get("content").and_then(Value::as_str),
        ) else {
            return Err(malformed(format!(
                "files[{i}] needs a string `path` and a string `content`"
            )));
        };
        check_path(path).map_err(|why| malformed(format!("files[{i}]: {why}")))?;
        if content.len() > MAX_FILE_BYTES {
            return Err(malformed(format!(
                "{path} is {} bytes; at most {MAX_FILE_BYTES}",
                content.len()
            )));
        }
        total += content.len();
        if total > MAX_ANSWER_BYTES {
            return Err(malformed(format!(
                "the answer writes over {MAX_ANSWER_BYTES} bytes"
            )));
        }
        if out.iter().any(|f| f.path == path) {
            return Err(malformed(format!("{path} is written twice")));
        }
        out.push(File::text(path, content));
    }
    Ok(out)
}

/// The inside of one Markdown code fence around the whole text, if any.
fn unfence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let Some(inner) = rest.strip_suffix("```") else {
        return text;
    };
    // The fence's info string (`json`) ends its first line.
    inner
        .split_once('\n')
        .map_or(inner, |(_, body)| body)
        .trim()
}

/// A path an agent may write: a clean relative path as every archive
/// exporter needs it ([`qlp_sdk::archive::path_problem`]), bounded, without
/// control characters, outside `.git` and not the capsule's manifest.
fn check_path(path: &str) -> Result<(), String> {
    let shown = excerpt(path);
    if let Some(problem) = qlp_sdk::archive::path_problem(path) {
        return Err(format!("path `{shown}` {problem}"));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("path `{shown}` is over {MAX_PATH_BYTES} bytes"));
    }
    if path.chars().any(char::is_control) {
        return Err(format!("path `{shown}` has control characters"));
    }
    if path.split('/').any(|c| c == ".git") {
        return Err(format!("path `{shown}` is inside `.git`"));
    }
    if path == RESERVED {
        return Err(format!("path `{shown}` is the capsule's own manifest"));
    }
    Ok(())
}

/// The start of untrusted text, on one line, for a message.
fn excerpt(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(80)
        .collect();
    if text.chars().count() > 80 {
        format!("{one_line}…")
    } else {
        one_line
    }
}

/// One request: the prompt, the model's answer, its files.
pub fn generate_files(request: &GenerationRequest) -> Result<Vec<File>, PluginError> {
    if request.intent.description.trim().is_empty() {
        return Err(PluginError::new(
            "EMPTY_INTENT",
            "the intent has no description",
        ));
    }
    let settings = Settings::read(qlp_sdk::config)?;
    let messages = prompt(request, settings.max_context_bytes);
    let completion = llm::complete(&messages, &settings.options)
        .map_err(|e| PluginError::new(e.code(), e.message()))?;
    qlp_sdk::log::info(
        "model answered",
        &[
            ("model", &completion.model),
            ("prompt_tokens", &completion.usage.prompt_tokens.to_string()),
            (
                "completion_tokens",
                &completion.usage.completion_tokens.to_string(),
            ),
        ],
    );
    if completion.finish_reason == "length" {
        return Err(PluginError::new(
            "LLM_ANSWER_CUT",
            format!(
                "the model's answer was cut at its token limit ({} tokens); raise `max_tokens` \
                 or the endpoint's max_tokens_per_call",
                completion.usage.completion_tokens
            ),
        ));
    }
    let files = parse_answer(&completion.text)?;
    if files.is_empty() && request.iteration == 0 {
        return Err(malformed("the model wrote no file"));
    }
    Ok(files)
}

/// The agent's entry points, a thin layer over [`generate_files`].
pub struct LlmAgent;

impl Agent for LlmAgent {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Agent,
            description: "Plans a project and writes its files through the operator's language \
                          model, over the scaffold of earlier agents, and fixes the findings of \
                          the previous round."
                .into(),
            capabilities: vec![Capability::Llm],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        let files = generate_files(&request)?;
        qlp_sdk::agent::log_generated("model wrote files", &files, request.iteration);
        Ok(files)
    }
}

#[cfg(target_arch = "wasm32")]
qlp_sdk::export_agent!(LlmAgent);

#[cfg(test)]
mod tests {
    use super::*;
    use qlp_sdk::{Finding, Intent};

    fn request(iteration: u32) -> GenerationRequest {
        GenerationRequest {
            intent: Intent {
                id: "i".into(),
                description: "A Go service for warehouse inventory".into(),
                requirements: vec!["List items by SKU".into()],
                constraints: vec![("database".into(), "PostgreSQL".into())],
                tier: "standard".into(),
            },
            files: vec![
                File::text("main.go", "package main\n"),
                File::text("big.txt", "x".repeat(100)),
            ],
            findings: vec![
                Finding::new("secrets/aws-key", Severity::High, "an AWS access key")
                    .at("config.go", 3)
                    .snippet("  key := \"AKIA***\"  ")
                    .fix(qlp_sdk::Fix::new(
                        "read the key from the environment",
                        "config.go",
                        qlp_sdk::Region::line(3),
                        "key := os.Getenv(\"AWS_ACCESS_KEY_ID\")",
                    )),
            ],
            iteration,
            role: String::new(),
        }
    }

    #[test]
    fn the_prompt_carries_the_intent_the_scaffold_and_the_findings() {
        let messages = prompt(&request(1), 50);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].content.contains("implementer"));
        let user = &messages[1].content;
        for wanted in [
            "A Go service for warehouse inventory",
            "- List items by SKU",
            "- database: PostgreSQL",
            "=== main.go ===\npackage main",
            "contents not shown):\n- big.txt",
            "Repair round 1",
            "- [high] secrets/aws-key at config.go:3: an AWS access key\n  \
             the text there: `key := \"AKIA***\"`\n  \
             suggested fix: read the key from the environment\n",
        ] {
            assert!(user.contains(wanted), "{wanted:?} missing from:\n{user}");
        }
        // The first round has no findings to fix.
        assert!(!prompt(&request(0), 50)[1].content.contains("Repair round"));
    }

    #[test]
    fn a_well_formed_answer_gives_its_files() {
        let answer = "```json\n{\"files\": [{\"path\": \"cmd/api/main.go\", \"content\": \"package main\\n\"}], \"summary\": \"one file\"}\n```";
        let files = parse_answer(answer).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "cmd/api/main.go");
        assert_eq!(files[0].content, b"package main\n");
        assert!(parse_answer(r#"{"files": []}"#).unwrap().is_empty());
    }

    #[test]
    fn a_malformed_answer_is_refused_whole() {
        let file = |path: &str| format!(r#"{{"path": {path:?}, "content": "x"}}"#);
        let answer = |files: &[String]| format!(r#"{{"files": [{}]}}"#, files.join(","));
        let big = format!(
            r#"{{"files": [{{"path": "a", "content": "{}"}}]}}"#,
            "x".repeat(MAX_FILE_BYTES + 1)
        );
        let many = answer(
            &(0..=MAX_FILES)
                .map(|i| file(&format!("f{i}")))
                .collect::<Vec<_>>(),
        );
        for bad in [
            "Sure! Here is your project.".to_owned(),
            "[]".to_owned(),
            r#"{"file": []}"#.to_owned(),
            r#"{"files": [], "extra": 1}"#.to_owned(),
            r#"{"files": [{"path": "a"}]}"#.to_owned(),
            r#"{"files": [{"path": "a", "content": 7}]}"#.to_owned(),
            r#"{"files": [{"path": "a", "content": "x", "mode": "755"}]}"#.to_owned(),
            answer(&[file("../etc/passwd")]),
            answer(&[file("/etc/passwd")]),
            answer(&[file("a/./b")]),
            answer(&[file("a\\b")]),
            answer(&[file(".git/config")]),
            answer(&[file("")]),
            answer(&[file(RESERVED)]),
            answer(&[file(&"a".repeat(MAX_PATH_BYTES + 1))]),
            answer(&[file("a"), file("a")]),
            big,
            many,
        ] {
            let err = parse_answer(&bad).unwrap_err();
            assert_eq!(err.code, MALFORMED, "{bad:.100}: {}", err.message);
        }
    }

    #[test]
    fn settings_are_read_and_checked() {
        let config = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let s = Settings::read(config(&[
            ("model", "coder"),
            ("max_tokens", "2048"),
            ("temperature", "0.2"),
            ("max_context_bytes", "1000"),
        ]))
        .unwrap();
        assert_eq!(s.options.model.as_deref(), Some("coder"));
        assert_eq!(s.options.max_tokens, Some(2048));
        assert_eq!(s.options.temperature, Some(0.2));
        assert_eq!(s.max_context_bytes, 1000);
        let d = Settings::read(config(&[])).unwrap();
        assert_eq!(
            (d.options.model, d.max_context_bytes),
            (None, DEFAULT_CONTEXT_BYTES)
        );
        for bad in [
            &[("temperature", "3")][..],
            &[("max_tokens", "0")],
            &[("max_tokens", "lots")],
            &[("max_context_bytes", "-1")],
        ] {
            assert_eq!(
                Settings::read(config(bad)).unwrap_err().code,
                "INVALID_CONFIG"
            );
        }
    }

    #[test]
    fn outside_the_host_there_is_no_model() {
        let err = generate_files(&request(0)).unwrap_err();
        assert_eq!(err.code, "LLM_UNAVAILABLE");
    }
}
