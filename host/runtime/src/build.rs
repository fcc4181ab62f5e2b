//! `qlp plugin build`: turns a plugin crate into a component.
//!
//! Plugins target `wasm32-unknown-unknown`, so they import QLP's host
//! interface and nothing else. When the toolchain ships the wasm32 standard
//! library (after `rustup target add wasm32-unknown-unknown`) it is used
//! directly; otherwise the standard library is built from the toolchain's
//! `rust-src` with `-Zbuild-std`. The linker is the toolchain's own when it
//! has one, else the first `wasm-ld` found on `PATH`. The core module cargo
//! produces is then encoded as a component with `wit-component`, which reads
//! the WIT that `wit-bindgen` embedded in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

const TARGET: &str = "wasm32-unknown-unknown";

/// How the standard library for the target is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdSource {
    /// The toolchain has the target installed.
    Installed,
    /// Built from the toolchain's `rust-src` with `-Zbuild-std`.
    BuildStd,
}

/// What `qlp plugin build` found about the toolchain.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub cargo: PathBuf,
    pub std: StdSource,
    /// The linker to pass to cargo, when the toolchain lacks one.
    pub linker: Option<PathBuf>,
}

fn sysroot() -> anyhow::Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| {
            format!(
                "cannot run `{}`: is Rust installed? (deploy/setup.sh installs it)",
                rustc.to_string_lossy()
            )
        })?;
    if !out.status.success() {
        bail!(
            "`rustc --print sysroot` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

fn find_on_path(names: &[String]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

impl Toolchain {
    /// Inspects the active toolchain.
    pub fn detect() -> anyhow::Result<Self> {
        let cargo = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .unwrap_or_else(|| "cargo".into());
        let sysroot = sysroot()?;
        let rustlib = sysroot.join("lib/rustlib");
        let std = if rustlib.join(TARGET).join("lib").is_dir() {
            StdSource::Installed
        } else if rustlib.join("src/rust/library/std").is_dir() {
            StdSource::BuildStd
        } else {
            bail!(
                "the Rust toolchain at {} has neither the {TARGET} standard library nor rust-src; \
                 run `rustup target add {TARGET}`, or install rust-src (deploy/setup.sh does)",
                sysroot.display()
            );
        };
        let host_bin = std::fs::read_dir(&rustlib)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin/rust-lld"))
            .find(|p| p.is_file());
        let linker = if std::env::var_os("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER").is_some()
            || host_bin.is_some()
        {
            None
        } else {
            let mut names = vec!["wasm-ld".to_owned(), "rust-lld".to_owned()];
            names.extend((14..=22).rev().map(|v| format!("wasm-ld-{v}")));
            Some(find_on_path(&names).context(
                "no WebAssembly linker found: install lld (Debian: `apt-get install lld-16`) or use a rustup toolchain",
            )?)
        };
        Ok(Self { cargo, std, linker })
    }
}

/// Builds the plugin crate in `crate_dir` and writes its component into
/// `out_dir`. Returns the component's path.
pub fn build(toolchain: &Toolchain, crate_dir: &Path, out_dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = crate_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let parsed: toml::Table = toml::from_str(&text)
        .with_context(|| format!("{} is not valid TOML", manifest.display()))?;
    let package = parsed
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .with_context(|| format!("{} has no [package] name", manifest.display()))?
        .to_owned();

    let mut cmd = Command::new(&toolchain.cargo);
    cmd.args([
        "build",
        "--release",
        "--target",
        TARGET,
        "--message-format=json-render-diagnostics",
        "-p",
        &package,
    ])
    .arg("--manifest-path")
    .arg(&manifest)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if toolchain.std == StdSource::BuildStd {
        cmd.arg("-Zbuild-std=std,panic_abort")
            .env("RUSTC_BOOTSTRAP", "1");
    }
    if let Some(linker) = &toolchain.linker {
        cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker);
    }
    let output = cmd
        .output()
        .with_context(|| format!("cannot run {}", toolchain.cargo.display()))?;
    if !output.status.success() {
        bail!("cargo failed to build {package} for {TARGET}");
    }
    let wasm = core_module_path(&output.stdout, &package).with_context(|| {
        format!("cargo built {package} but produced no .wasm: is it a `cdylib`?")
    })?;
    let module = std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let component = componentize(&module)
        .with_context(|| format!("cannot make a component of {}", wasm.display()))?;
    std::fs::create_dir_all(out_dir)?;
    let out = out_dir.join(format!("{}.wasm", package.replace('-', "_")));
    std::fs::write(&out, component).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out)
}

/// Finds the `.wasm` of `package` in cargo's JSON messages.
fn core_module_path(messages: &[u8], package: &str) -> Option<PathBuf> {
    let target_name = package.replace('-', "_");
    String::from_utf8_lossy(messages)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|msg| {
            if msg["reason"] != "compiler-artifact"
                || msg["target"]["name"].as_str()? != target_name
            {
                return None;
            }
            msg["filenames"]
                .as_array()?
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"))
                .map(PathBuf::from)
        })
}

/// Encodes a core module carrying `wit-bindgen` type information as a
/// component, stamped with the `qlp:plugin` version it was bound to (the
/// [`crate::CONTRACT_SECTION`] custom section).
pub fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    let contract = bound_contract(module)?;
    let mut component = wit_component::ComponentEncoder::default()
        .module(module)?
        .validate(true)
        .encode()?;
    if let Some(contract) = contract {
        stamp(&mut component, &contract.package());
    }
    Ok(component)
}

/// The `qlp:plugin` version in a core module's `wit-bindgen` type
/// information, if it names one; a version this host does not serve is
/// refused.
fn bound_contract(module: &[u8]) -> anyhow::Result<Option<crate::Contract>> {
    let (_, bindgen) = wit_component::metadata::decode(module)?;
    let Some(version) = bindgen
        .resolve
        .packages
        .iter()
        .map(|(_, p)| &p.name)
        .find(|n| n.namespace == "qlp" && n.name == "plugin")
        .and_then(|n| n.version.as_ref())
    else {
        return Ok(None);
    };
    let version = version.to_string();
    crate::Contract::ALL
        .into_iter()
        .find(|c| c.version() == version)
        .map(Some)
        .with_context(|| {
            format!("the module is bound to qlp:plugin@{version}, which this host does not serve")
        })
}

/// Appends a custom section `qlp:contract` holding `package` to a
/// component.
fn stamp(component: &mut Vec<u8>, package: &str) {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = crate::CONTRACT_SECTION.as_bytes();
    let mut payload = Vec::new();
    leb128(name.len(), &mut payload);
    payload.extend_from_slice(name);
    payload.extend_from_slice(package.as_bytes());
    component.push(0);
    leb128(payload.len(), component);
    component.extend_from_slice(&payload);
}

#[cfg(test)]
mod tests {
    use super::stamp;
    use crate::{Contract, Found, LoadError, contract_of};

    /// An empty component: the preamble and nothing else.
    const EMPTY: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    fn imports(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn the_stamp_names_the_contract_whatever_the_component_imports() {
        for contract in Contract::ALL {
            let mut component = EMPTY.to_vec();
            stamp(&mut component, &contract.package());
            assert!(wasmparser::Parser::is_component(&component));
            let other = imports(&["qlp:plugin/host@0.1.0", "qlp:plugin/host@0.2.0"]);
            assert_eq!(
                contract_of(&component, &other).unwrap(),
                Found::Stamped(contract)
            );
            assert_eq!(Found::Stamped(contract).candidates(), [contract]);
        }
    }

    #[test]
    fn a_stamp_of_a_contract_not_served_is_refused() {
        let mut component = EMPTY.to_vec();
        stamp(&mut component, "qlp:plugin@9.0.0");
        let err = contract_of(&component, &[]).unwrap_err();
        assert!(
            matches!(&err, LoadError::UnknownContract(v) if v == "qlp:plugin@9.0.0"),
            "{err}"
        );
    }

    #[test]
    fn without_a_stamp_the_imports_decide_which_version_is_tried_first() {
        let cases = [
            (imports(&["qlp:plugin/secrets@0.2.0"]), Contract::V0_2),
            (imports(&["qlp:plugin/host@0.1.0"]), Contract::V0_1),
            (imports(&["acme:tools/host@0.2.0"]), Contract::V0_1),
            (imports(&[]), Contract::V0_1),
        ];
        for (names, expected) in cases {
            let found = contract_of(&EMPTY, &names).unwrap();
            assert_eq!(found, Found::Inferred(expected), "{names:?}");
            let candidates = found.candidates();
            assert_eq!(candidates[0], expected);
            assert_eq!(candidates.len(), Contract::ALL.len());
        }
    }
}
