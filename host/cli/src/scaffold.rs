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

/// `src/lib.rs` per kind, in [`Kind::ALL`]'s order, from the files of
/// `scaffold/templates/`: `__TYPE__` is the plugin's type, `__NAME__` its
/// `namespace/name`.
const LIB: [(&str, &str); 6] = [
    ("agent", AGENT),
    ("analyzer", ANALYZER),
    ("validator", VALIDATOR),
    ("exporter", EXPORTER),
    ("delivery", DELIVERY),
    ("planner", PLANNER),
];

const AGENT: &str = include_str!("scaffold/templates/agent.rs");

const ANALYZER: &str = include_str!("scaffold/templates/analyzer.rs");

const VALIDATOR: &str = include_str!("scaffold/templates/validator.rs");

const EXPORTER: &str = include_str!("scaffold/templates/exporter.rs");

const DELIVERY: &str = include_str!("scaffold/templates/delivery.rs");

const PLANNER: &str = include_str!("scaffold/templates/planner.rs");

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
