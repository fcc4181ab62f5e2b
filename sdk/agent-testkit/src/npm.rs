//! npm for the tests of agents whose projects have npm dependencies: each
//! distinct set of dependencies is installed once, with `npm install`, into
//! a directory under the calling crate's scratch directory (cargo's
//! `CARGO_TARGET_TMPDIR`) with its own npm cache, and linked into each
//! generated project as `node_modules`. Later runs reuse the installation,
//! so only the first needs the npm registry.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Serialises dependency installs, so that parallel tests install a set
/// once.
static INSTALL: Mutex<()> = Mutex::new(());

/// A command for an npm tool (`npm`, `npx`, `node`) in `dir`, with the npm
/// cache under `scratch` and npm's notices (update, funding, audit) off, so
/// that runs do not depend on or write to the developer's npm setup.
pub fn command(scratch: &Path, dir: &Path, program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .env("npm_config_cache", scratch.join("npm-cache"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        // Plain output for the assertions on it.
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0");
    command
}

/// The `node_modules` for a package.json's dependencies, installed on first
/// use. The set is keyed by the text from `"dependencies"` on, which in the
/// agents' package.json files holds every dependency and nothing that
/// differs between projects. `hint` says what to install when Node.js or
/// npm is missing.
pub fn node_modules(scratch: &Path, package_json: &str, hint: &str) -> PathBuf {
    let start = package_json
        .find("\"dependencies\"")
        .expect("package.json lists dependencies");
    let dependencies = &package_json[start..];
    let mut hasher = DefaultHasher::new();
    dependencies.hash(&mut hasher);
    let dir = scratch
        .join("node-deps")
        .join(format!("{:016x}", hasher.finish()));
    let installed = dir.join("node_modules").join(".package-lock.json");

    let _guard = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !installed.exists() {
        std::fs::create_dir_all(&dir).expect("dependency directory");
        std::fs::write(
            dir.join("package.json"),
            format!("{{\n  \"name\": \"deps\",\n  \"private\": true,\n  {dependencies}"),
        )
        .expect("write package.json");
        crate::run(command(scratch, &dir, "node", &["--version"]), hint);
        crate::run(
            command(
                scratch,
                &dir,
                "npm",
                &["install", "--no-audit", "--no-fund"],
            ),
            hint,
        );
        assert!(installed.exists(), "npm install left no node_modules");
    }
    dir.join("node_modules")
}

/// Links the installed `modules` into `project` as `node_modules`.
pub fn link_node_modules(project: &Path, modules: &Path) {
    std::os::unix::fs::symlink(modules, project.join("node_modules")).expect("link node_modules");
}
