//! `qlp plugin new KIND NAMESPACE/NAME`: writes a plugin crate that builds
//! as it is, so a plugin author starts from working code rather than the
//! WIT file.
//!
//! The crate implements the kind's SDK trait ([`qlp_sdk`'s `validator`,
//! `agent`, …]) with a small working example, exports it with the kind's
//! `export_*!` macro, has a unit test of its logic (the SDK compiles for the
//! host too, so `cargo test` runs it), and a README with the commands that
//! build, sign, verify and publish it. Inside a QLP checkout the SDK is a
//! path dependency and the checkout's `Cargo.lock` is copied, so the crate
//! builds with the versions QLP is tested with; elsewhere `Cargo.toml` says
//! where to point it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use qlp_registry::Kind;

/// What was written.
#[derive(Debug)]
pub struct Scaffold {
    pub dir: PathBuf,
    /// The crate's package name (`NAMESPACE-NAME`).
    pub crate_name: String,
    /// The QLP checkout whose SDK it uses, when one was found.
    pub sdk: Option<PathBuf>,
}

/// The file `qlp plugin build` writes for a crate: `NAME.wasm` with `-`
/// turned into `_`.
pub fn component_file_name(crate_name: &str) -> String {
    format!("{}.wasm", crate_name.replace('-', "_"))
}

/// `no-todo` → `NoTodo`.
fn type_name(name: &str) -> String {
    name.split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The QLP checkout above `start`, if any: a directory whose `sdk/` is the
/// `qlp-sdk` crate.
pub fn find_checkout(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let sdk = std::fs::read_to_string(dir.join("sdk/Cargo.toml")).ok()?;
        (sdk.contains("name = \"qlp-sdk\"") && dir.join("Cargo.toml").is_file())
            .then(|| dir.to_owned())
    })
}

/// Writes the crate for a `kind` plugin named `name` (`namespace/name`)
/// into `dir` (default: `./NAMESPACE-NAME`), which must not exist or be
/// empty.
pub fn write(kind: Kind, name: &str, dir: Option<&Path>) -> anyhow::Result<Scaffold> {
    qlp_registry::validate_name(name).map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    let (namespace, short) = name.split_once('/').expect("validated");
    let crate_name = format!("{namespace}-{short}");
    let dir = dir.map_or_else(|| PathBuf::from(&crate_name), Path::to_owned);
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", dir.display());
    }
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let absolute = std::path::absolute(&dir)?;
    let checkout =
        find_checkout(&absolute).or_else(|| find_checkout(&std::env::current_dir().ok()?));
    let files = render(kind, name, &crate_name, checkout.as_deref());
    for (file, text) in &files {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(root) = &checkout {
        // Same dependency versions as the checkout, and no registry lookup.
        let _ = std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"));
    }
    Ok(Scaffold {
        dir,
        crate_name,
        sdk: checkout,
    })
}

/// The crate's files: `Cargo.toml`, `src/lib.rs`, `README.md`,
/// `.gitignore`.
pub fn render(
    kind: Kind,
    name: &str,
    crate_name: &str,
    checkout: Option<&Path>,
) -> Vec<(&'static str, String)> {
    let sdk = match checkout {
        Some(root) => format!(
            "# The SDK of the QLP checkout this crate was created in.\nqlp-sdk = {{ path = \"{}\" }}",
            root.join("sdk").display().to_string().replace('\\', "/")
        ),
        None => "# Point this at the QLP SDK: the `sdk/` directory of a QLP checkout\n\
                 # (or its git repository with `package = \"qlp-sdk\"`).\n\
                 qlp-sdk = { path = \"PATH/TO/qlp/sdk\" }"
            .to_owned(),
    };
    let cargo = format!(
        r#"[package]
name = "{crate_name}"
description = "QLP {kind} `{name}`."
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the WebAssembly module `qlp plugin build` turns into a component;
# rlib: so `cargo test` runs the unit tests on the host.
crate-type = ["cdylib", "rlib"]

[dependencies]
{sdk}

# Built on its own by `qlp plugin build`, not as part of an enclosing
# workspace.
[workspace]
"#
    );
    let ty = type_name(name.split_once('/').map_or(name, |(_, n)| n));
    let lib = LIB[Kind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind")]
    .1
    .replace("__TYPE__", &ty)
    .replace("__NAME__", name);
    let component = component_file_name(crate_name);
    let namespace = name.split_once('/').map_or(name, |(n, _)| n);
    let readme = format!(
        r#"# {name}

A QLP {kind} plugin (`src/lib.rs`). `cargo test` runs its unit tests on the
host; the plugin itself is a WebAssembly component.

```sh
# Build the component: dist/{component}
qlp plugin build . --out-dir dist

# Once: a signing key. Give {namespace}.key.pub to the server's operator, who
# trusts it for `{namespace}/*` (`qlp key trust {namespace}.key.pub --namespace '{namespace}/*' --policy trust.toml`).
qlp key generate {namespace}.key

# Sign: writes dist/{stem}.manifest.json and dist/{stem}.sig.json.
qlp plugin sign dist/{component} --key {namespace}.key

# Check it as the server will (signature, trust policy, manifest).
qlp plugin verify dist/{component} --trust trust.toml

# Publish to a server's registry with your publisher token
# (the operator creates it with `qlp publisher add`).
qlp plugin publish dist/{component} --server https://qlp.example.com --token "$QLP_PUBLISH_TOKEN"
```

The server loads a published plugin at once, for the tiers that ask for it.
Publish each version once: change `version` in `Cargo.toml` for the next one.
"#,
        stem = component.trim_end_matches(".wasm"),
    );
    vec![
        ("Cargo.toml", cargo),
        ("src/lib.rs", lib),
        ("README.md", readme),
        (".gitignore", "/target\n/dist\n".to_owned()),
    ]
}

/// `src/lib.rs` per kind, in [`Kind::ALL`]'s order: `__TYPE__` is the
/// plugin's type, `__NAME__` its `namespace/name`.
const LIB: [(&str, &str); 6] = [
    ("agent", AGENT),
    ("analyzer", ANALYZER),
    ("validator", VALIDATOR),
    ("exporter", EXPORTER),
    ("delivery", DELIVERY),
    ("planner", PLANNER),
];

const AGENT: &str = r##"//! QLP agent `__NAME__`: generates project files for an intent.

use qlp_sdk::PluginKind;
use qlp_sdk::agent::{Agent, File, GenerationRequest, PluginError, PluginInfo};

pub struct __TYPE__;

impl Agent for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Agent,
            description: "Writes a README for the intent.".into(),
            capabilities: vec![],
        }
    }

    fn generate(request: GenerationRequest) -> Result<Vec<File>, PluginError> {
        Ok(vec![readme(&request.intent.description)])
    }
}

/// The one file this example generates: replace with your own.
pub fn readme(description: &str) -> File {
    File {
        path: "README.md".into(),
        content: format!("# Project\n\n{description}\n").into_bytes(),
    }
}

qlp_sdk::export_agent!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_names_the_intent() {
        let file = readme("An invoice service");
        assert_eq!(file.path, "README.md");
        assert!(String::from_utf8(file.content).unwrap().contains("An invoice service"));
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
"##;

const ANALYZER: &str = r##"//! QLP analyzer `__NAME__`: measures source files.

use qlp_sdk::PluginKind;
use qlp_sdk::analyzer::{Analysis, Analyzer, File, PluginError, PluginInfo};

pub struct __TYPE__;

impl Analyzer for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Analyzer,
            description: "Counts lines of shell scripts.".into(),
            capabilities: vec![],
        }
    }

    fn languages() -> Vec<String> {
        vec!["shell".into()]
    }

    fn extensions() -> Vec<String> {
        vec!["sh".into()]
    }

    fn analyze(file: File) -> Result<Analysis, PluginError> {
        let text = String::from_utf8(file.content)
            .map_err(|_| PluginError { code: "NOT_UTF8".into(), message: format!("{} is not UTF-8", file.path) })?;
        Ok(measure(&file.path, &text))
    }
}

/// Lines of code, comments and blanks: replace with your own measures.
pub fn measure(path: &str, text: &str) -> Analysis {
    let (mut code, mut comments, mut blank) = (0, 0, 0);
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            blank += 1;
        } else if line.starts_with('#') {
            comments += 1;
        } else {
            code += 1;
        }
    }
    Analysis {
        path: path.into(),
        language: "shell".into(),
        lines_of_code: code,
        comment_lines: comments,
        blank_lines: blank,
        functions: vec![],
        imports: vec![],
        doc_coverage: 0.0,
    }
}

qlp_sdk::export_analyzer!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_by_what_they_hold() {
        let a = measure("run.sh", "#!/bin/sh\n\necho hi\n");
        assert_eq!((a.lines_of_code, a.comment_lines, a.blank_lines), (1, 1, 1));
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
"##;

const VALIDATOR: &str = r##"//! QLP validator `__NAME__`: checks a capsule's files and scores them.

use qlp_sdk::validator::{CapsuleView, Finding, PluginError, PluginInfo, Report, Severity, Validator};
use qlp_sdk::{File, PluginKind};

pub struct __TYPE__;

impl Validator for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Validator,
            description: "Flags lines left marked TODO.".into(),
            capabilities: vec![],
        }
    }

    fn validate(capsule: CapsuleView) -> Result<Report, PluginError> {
        let findings = check(&capsule.files);
        let score = 100u8.saturating_sub(10 * findings.len().min(10) as u8);
        Ok(Report {
            summary: format!("{} line(s) marked TODO", findings.len()),
            findings,
            score,
        })
    }
}

/// One finding per line containing `TODO`: replace with your own rules.
pub fn check(files: &[File]) -> Vec<Finding> {
    let mut findings = vec![];
    for file in files {
        let Ok(text) = std::str::from_utf8(&file.content) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if line.contains("TODO") {
                findings.push(Finding {
                    rule_id: "todo/marker".into(),
                    severity: Severity::Low,
                    message: "a line is left marked TODO".into(),
                    path: Some(file.path.clone()),
                    line: Some(i as u32 + 1),
                });
            }
        }
    }
    findings
}

qlp_sdk::export_validator!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_todo_is_found_with_its_file_and_line() {
        let files = vec![File {
            path: "app.py".into(),
            content: b"import os\n# TODO: auth\n".to_vec(),
        }];
        let findings = check(&files);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path.as_deref(), Some("app.py"));
        assert_eq!(findings[0].line, Some(2));
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
"##;

const EXPORTER: &str = r##"//! QLP exporter `__NAME__`: packages a capsule as an artifact.

use qlp_sdk::PluginKind;
use qlp_sdk::exporter::{Artifact, CapsuleView, ExportOptions, Exporter, PluginError, PluginInfo};

pub struct __TYPE__;

impl Exporter for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Exporter,
            description: "Lists a capsule's files in a text file.".into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: CapsuleView, options: ExportOptions) -> Result<Artifact, PluginError> {
        let paths: Vec<&str> = capsule.files.iter().map(|f| f.path.as_str()).collect();
        Ok(listing(&options.base_name, &paths))
    }
}

/// The artifact: replace with your own format.
pub fn listing(base_name: &str, paths: &[&str]) -> Artifact {
    Artifact {
        media_type: "text/plain".into(),
        file_name: format!("{base_name}.txt"),
        bytes: paths.iter().map(|p| format!("{p}\n")).collect::<String>().into_bytes(),
    }
}

qlp_sdk::export_exporter!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_names_every_file() {
        let a = listing("capsule", &["a.py", "b.py"]);
        assert_eq!(a.file_name, "capsule.txt");
        assert_eq!(a.bytes, b"a.py\nb.py\n");
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
"##;

const DELIVERY: &str = r##"//! QLP delivery adapter `__NAME__`: hands an artifact over.
//!
//! A real adapter declares the capabilities it needs in `describe()` (e.g.
//! `Capability::Http("api.example.com".into())`) and the operator grants
//! them in the tiers file.

use qlp_sdk::PluginKind;
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};

pub struct __TYPE__;

impl Delivery for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Delivery,
            description: "Acknowledges an artifact without sending it anywhere.".into(),
            capabilities: vec![],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        receipt(&artifact, &target)
    }
}

/// The receipt: replace with the delivery itself.
pub fn receipt(artifact: &Artifact, target: &DeliveryTarget) -> Result<Receipt, PluginError> {
    if target.destination.is_empty() {
        return Err(PluginError {
            code: "NO_DESTINATION".into(),
            message: "the delivery target names no destination".into(),
        });
    }
    Ok(Receipt {
        location: format!("{}/{}", target.destination, artifact.file_name),
        details: vec![("bytes".into(), artifact.bytes.len().to_string())],
    })
}

qlp_sdk::export_delivery!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_names_where_the_artifact_went() {
        let artifact = Artifact {
            media_type: "text/plain".into(),
            file_name: "a.txt".into(),
            bytes: b"hi".to_vec(),
        };
        let target = DeliveryTarget { destination: "out".into(), options: vec![] };
        assert_eq!(receipt(&artifact, &target).unwrap().location, "out/a.txt");
        let nowhere = DeliveryTarget { destination: String::new(), options: vec![] };
        assert_eq!(receipt(&artifact, &nowhere).unwrap_err().code, "NO_DESTINATION");
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
"##;

const PLANNER: &str = r##"//! QLP planner `__NAME__`: reads an intent and recommends a tier.

use qlp_sdk::PluginKind;
use qlp_sdk::planner::{Plan, Planner, PlanningRequest, PluginError, PluginInfo};

pub struct __TYPE__;

impl Planner for __TYPE__ {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "__NAME__".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Planner,
            description: "Recommends a tier by the length of the intent.".into(),
            capabilities: vec![],
        }
    }

    fn plan(request: PlanningRequest) -> Result<Plan, PluginError> {
        let tier = recommend(&request.intent.description, &request.tiers);
        Ok(Plan {
            complexity: 0.5,
            recommended_tier: tier.clone(),
            justification: vec![format!("{tier}: chosen by the length of the description")],
            stack: vec![],
            constraints: request.intent.constraints,
            compliance: vec![],
            estimated_files: 1,
            estimated_stages: 1,
        })
    }
}

/// The first tier offered for a short intent, the last for a long one:
/// replace with your own reading.
pub fn recommend(description: &str, tiers: &[String]) -> String {
    let pick = if description.len() > 200 { tiers.last() } else { tiers.first() };
    pick.cloned().unwrap_or_else(|| "standard".into())
}

qlp_sdk::export_planner!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_intent_gets_the_first_tier() {
        let tiers = vec!["starter".to_owned(), "enterprise".to_owned()];
        assert_eq!(recommend("a todo app", &tiers), "starter");
        assert_eq!(recommend(&"x".repeat(300), &tiers), "enterprise");
        assert_eq!(__TYPE__::describe().name, "__NAME__");
    }
}
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_implements_its_trait_and_exports_with_its_macro() {
        let traits = [
            (Kind::Agent, "Agent", "export_agent"),
            (Kind::Analyzer, "Analyzer", "export_analyzer"),
            (Kind::Validator, "Validator", "export_validator"),
            (Kind::Exporter, "Exporter", "export_exporter"),
            (Kind::Delivery, "Delivery", "export_delivery"),
            (Kind::Planner, "Planner", "export_planner"),
        ];
        for (kind, tr, mac) in traits {
            let files = render(kind, "acme/no-todo", "acme-no-todo", None);
            let lib = &files.iter().find(|(f, _)| *f == "src/lib.rs").unwrap().1;
            assert!(
                lib.contains(&format!("impl {tr} for NoTodo")),
                "{kind}:\n{lib}"
            );
            assert!(
                lib.contains(&format!("qlp_sdk::export_{kind}!(NoTodo);")),
                "{kind}"
            );
            assert!(lib.contains(&format!("qlp_sdk::{mac}!")), "{kind}");
            assert!(lib.contains(&format!("qlp_sdk::{kind}::")), "{kind}");
            assert!(lib.contains("name: \"acme/no-todo\""), "{kind}");
            assert!(lib.contains("#[test]"), "{kind}");
            assert!(!lib.contains("__"), "{kind}: a placeholder is left");
            let cargo = &files[0].1;
            assert!(cargo.contains("PATH/TO/qlp/sdk") && cargo.contains("[workspace]"));
            let readme = &files.iter().find(|(f, _)| *f == "README.md").unwrap().1;
            for step in [
                "qlp plugin build",
                "qlp key generate",
                "qlp plugin sign",
                "qlp plugin publish",
            ] {
                assert!(readme.contains(step), "{kind}: README lacks {step}");
            }
        }
    }

    #[test]
    fn inside_a_checkout_the_sdk_is_a_path_dependency() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap();
        let dir = tempfile::tempdir_in(root.join("target")).unwrap();
        let out = dir.path().join("p");
        let s = write(Kind::Validator, "acme/no-todo", Some(&out)).unwrap();
        assert_eq!(s.sdk.as_deref(), Some(root));
        let cargo = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
        assert!(
            cargo.contains(&format!("path = \"{}\"", root.join("sdk").display())),
            "{cargo}"
        );
        assert!(out.join("Cargo.lock").is_file());
        let again = write(Kind::Validator, "acme/no-todo", Some(&out)).unwrap_err();
        assert!(again.to_string().contains("not empty"), "{again}");
        assert!(write(Kind::Validator, "NoNamespace", Some(&dir.path().join("q"))).is_err());
    }
}
