//! Helpers for the integration tests of QLP's stack agents, which generate
//! a project from an intent, write it to a temporary directory and run the
//! project's own toolchain on it (`npm test`, `cargo test`, a validator).
//!
//! It is a dev-dependency only: no agent links it into its component. What
//! it offers is what those tests share: building an [`Intent`], writing the
//! generated [`File`]s under a directory, finding a file's text, running a
//! program and failing with its output (or with what to install when the
//! program is missing), in [`npm`], installing a project's npm
//! dependencies once per distinct set into a cache that later runs reuse,
//! and, in [`contract`], the checks every agent's `describe` and `generate`
//! must pass, which [`agent_contract_tests!`] runs as unit tests.

pub mod contract;
pub mod npm;

#[doc(hidden)]
pub use qlp_sdk as __sdk;

use std::path::{Component, Path};
use std::process::Command;

use qlp_sdk::{File, Finding, Intent, Severity};

/// An intent with the given description, requirements and named
/// constraints, on the `standard` tier.
pub fn intent(description: &str, requirements: &[&str], constraints: &[(&str, &str)]) -> Intent {
    Intent {
        id: "00000000-0000-0000-0000-000000000000".into(),
        description: description.into(),
        requirements: requirements.iter().map(|r| r.to_string()).collect(),
        constraints: constraints
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        tier: "standard".into(),
    }
}

/// Writes every file under `root`; fails if a path is not a plain relative
/// path (no `..`, no absolute path), as the host would refuse it too.
pub fn write_project(root: &Path, files: &[File]) {
    for file in files {
        let relative = Path::new(&file.path);
        assert!(
            relative
                .components()
                .all(|c| matches!(c, Component::Normal(_))),
            "{} is not a plain relative path",
            file.path
        );
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(&path, &file.content).expect("write file");
    }
}

/// The text of the generated file at `path`; fails if there is none.
pub fn text<'a>(files: &'a [File], path: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == path)
        .and_then(File::as_text)
        .unwrap_or_else(|| panic!("{path} is generated as text"))
}

/// Fails unless every file is text with no `{{` left from its template and
/// ends with exactly one newline.
pub fn assert_rendered_cleanly(files: &[File]) {
    for file in files {
        let content = file.as_text().expect("text");
        assert!(
            !content.contains("{{"),
            "{} keeps template syntax",
            file.path
        );
        assert!(
            content.ends_with('\n') && !content.ends_with("\n\n"),
            "{} ends with one newline",
            file.path
        );
    }
}

/// Whether a file is generated at `path`.
pub fn has(files: &[File], path: &str) -> bool {
    files.iter().any(|f| f.path == path)
}

/// Runs `command` and returns its standard output and error, joined. Fails
/// with that output when the program does not succeed, and with `hint`
/// (what to install) when it cannot be started.
pub fn run(mut command: Command, hint: &str) -> String {
    let program = command.get_program().to_string_lossy().into_owned();
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let dir = command
        .get_current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| ".".into());
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program} ({error}): {hint}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{program} {args:?} failed in {dir}:\n{report}"
    );
    report
}

/// The findings `qlp/compliance` gives a payments project that stores
/// `Card.CardNumber` in clear text with no audit trail and no retention:
/// what a repair round hands an agent when an operator enforces PCI DSS
/// on an intent that never named it.
pub fn card_compliance_findings() -> Vec<Finding> {
    let finding = |rule_id: &str, message: &str| Finding::new(rule_id, Severity::Medium, message);
    vec![
        finding(
            "compliance/no-audit-logging",
            "[PCI DSS 10.2.1] the project changes data over HTTP but keeps no audit trail",
        ),
        finding(
            "compliance/unencrypted-at-rest",
            "[PCI DSS 3.5.1] `Card.CardNumber` holds card number and nothing in this file \
             encrypts, hashes or tokenises it",
        ),
        finding(
            "compliance/no-retention-policy",
            "[PCI DSS 3.2.1] card number is stored but no retention period is set",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_fails_naming_what_to_install() {
        let outcome = std::panic::catch_unwind(|| {
            run(
                Command::new("qlp-no-such-program"),
                "install the no-such toolchain",
            )
        });
        let message = *outcome
            .expect_err("a missing program fails")
            .downcast::<String>()
            .expect("a formatted message");
        assert!(
            message.contains("install the no-such toolchain"),
            "{message}"
        );
    }

    #[test]
    fn a_failing_program_fails_with_its_output() {
        let outcome = std::panic::catch_unwind(|| {
            let mut command = Command::new("sh");
            command.args(["-c", "echo visible-output; exit 3"]);
            run(command, "install sh")
        });
        let message = *outcome
            .expect_err("exit 3 fails")
            .downcast::<String>()
            .expect("a formatted message");
        assert!(message.contains("visible-output"), "{message}");
    }

    #[test]
    fn leftover_template_syntax_or_a_trailing_blank_line_fails() {
        assert_rendered_cleanly(&[File::text("ok.txt", "done\n")]);
        for (content, expected) in [
            ("{{name}}\n", "keeps template syntax"),
            ("done\n\n", "ends with one newline"),
            ("done", "ends with one newline"),
        ] {
            let outcome = std::panic::catch_unwind(|| {
                assert_rendered_cleanly(&[File::text("f.txt", content)])
            });
            let message = *outcome
                .expect_err("fails")
                .downcast::<String>()
                .expect("a formatted message");
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn files_are_written_under_the_root() {
        let dir = std::env::temp_dir().join(format!("qlp-testkit-{}", std::process::id()));
        let files = vec![File::text("a/b.txt", "hello\n")];
        write_project(&dir, &files);
        assert_eq!(
            std::fs::read_to_string(dir.join("a/b.txt")).expect("written"),
            "hello\n"
        );
        assert_eq!(text(&files, "a/b.txt"), "hello\n");
        assert!(has(&files, "a/b.txt") && !has(&files, "b.txt"));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
