//! Where the tests find what `deploy/dev.sh test` built: the workspace,
//! the target directory, the first-party plugins, the fixtures and the
//! trust policy they are signed for. A test fails with that instruction
//! when they are missing rather than passing vacuously. Shared with the
//! server crate's in-process tests (`host/server/tests/in_process.rs`),
//! which include this file: it uses nothing but the standard library.

use std::path::{Path, PathBuf};

/// The workspace's root (both crates that include this file are two
/// levels below it).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate is two levels below the workspace")
        .to_owned()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (a relative one
/// taken from the workspace), else `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace().join(dir))
        .unwrap_or_else(|| workspace().join("target"))
}

/// The components directory `var` names, else `default` under the
/// target directory; it must hold at least one component.
fn components(var: &str, default: &str) -> PathBuf {
    let dir = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join(default));
    let has_wasm = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        })
        .unwrap_or(false);
    assert!(
        has_wasm,
        "no components in {}: build them with `deploy/dev.sh test` (or set {var})",
        dir.display()
    );
    dir
}

/// The first-party plugins.
pub fn plugins() -> PathBuf {
    components("QLP_TEST_PLUGINS", "plugins")
}

/// The test fixture plugins.
pub fn fixtures() -> PathBuf {
    components("QLP_TEST_FIXTURES", "test-plugins")
}

/// The trust policy the test servers load plugins under: the development
/// key `deploy/dev.sh` signs every component with.
pub fn trust() -> PathBuf {
    let path = std::env::var_os("QLP_TEST_TRUST")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("dev-trust.toml"));
    assert!(
        path.is_file(),
        "no trust policy at {}: run `deploy/dev.sh test` (or set QLP_TEST_TRUST)",
        path.display()
    );
    path
}

/// The tiers the fixtures run in.
pub fn test_tiers() -> PathBuf {
    workspace().join("tests/data/tiers.toml")
}
