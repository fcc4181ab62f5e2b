//! QLP exporter `qlp/sbom`: a CycloneDX 1.5 JSON bill of materials
//! (`<base-name>.cdx.json`, `application/vnd.cyclonedx+json`) of the
//! dependencies a capsule DECLARES in its manifests, so that what a
//! generated project will install is on record before anything is built.
//!
//! # What is listed
//!
//! The manifests are read by the `qlp-manifests` library
//! (`sdk/manifests`), which `qlp/dependencies` uses too:
//! `requirements*.txt` and `pyproject.toml` (PyPI), `package.json` (npm),
//! `go.mod` (Go), `Cargo.toml` (crates.io) and `pom.xml` (Maven), in any
//! directory except under `node_modules/` or `vendor/` (there they are a
//! dependency's own manifests). Each registry dependency becomes one
//! `library` component ([`bom`] has the document's shape):
//!
//! - `version`: the exact version when the requirement pins one
//!   (`==1.2.3`, npm `1.2.3`, Cargo `=1.2.3`, every go.mod version, a
//!   Maven soft requirement), else the version a lock file records for it
//!   (`package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`, `Cargo.lock`,
//!   `poetry.lock` in the manifest's directory or the nearest directory
//!   above it that has one, so a workspace's root lock counts; a locked
//!   version outside the requirement is stale and not used), else none.
//! - `purl` and `bom-ref` (the same string): `pkg:pypi`, `pkg:npm` (scope
//!   as `%40scope`), `pkg:golang`, `pkg:cargo`, `pkg:maven` with the group
//!   ([`purl`]); with `@version` when there is a version.
//! - `scope`: `optional` for development, test and optional declarations
//!   (`devDependencies`, `dev-dependencies`, Maven `test` scope,
//!   `requirements-dev.txt`, …; `qlp_manifests::Kind`), `required` for
//!   the rest.
//! - properties: `qlp:manifest` (each file that declares it),
//!   `qlp:declared-range` (each requirement as written when it is not an
//!   exact pin; `*` when none is written), `qlp:lock` (the lock file a
//!   version comes from).
//!
//! One package declared twice with the same version (or twice without a
//! version) is one component carrying every manifest and range. Path, git,
//! URL and workspace-inherited dependencies are not registry packages and
//! are not listed, nor are Maven dependencies whose version a parent or
//! BOM manages.
//!
//! The capsule is `metadata.component` (`application`, named by the
//! sanitized base name); `dependencies` says that it depends on every
//! direct component (all but go.mod's `// indirect` requirements).
//! Transitive dependencies are not known from manifests and not listed.
//!
//! # Reproducible
//!
//! The same capsule gives byte-identical output whatever the order of its
//! files: components sorted by `bom-ref`, properties sorted, fields in a
//! fixed order, no `timestamp`, and the `serialNumber` derived from the
//! content ([`bom::serial_number`]: the blake3 of the document without
//! it, laid out as a version-5 UUID).
//!
//! # Options
//!
//! - `format`: `cyclonedx-json` (the default, and the only one);
//!   anything else is `INVALID_OPTION`.
//! - `include-dev`: `true` (default) or `false`; `false` leaves out
//!   dependencies declared only for development and tests.
//!
//! Options starting `qlp.` are the host's and ignored silently; other
//! unknown keys are ignored with a warning.

pub mod bom;
pub mod purl;

use std::collections::BTreeMap;

use qlp_manifests::manifest::{self, Dependency, Kind, Lock, Style};
use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};

/// The plugin's namespaced name, also named as the tool in the document.
pub const PLUGIN_NAME: &str = "qlp/sbom";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Media type of the artifact (CycloneDX's registered JSON type).
pub const MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";

/// Extension appended to the sanitized base name.
pub const EXTENSION: &str = ".cdx.json";

/// Option: the output format.
pub const FORMAT_OPTION: &str = "format";
/// The one format written.
pub const FORMAT_CYCLONEDX_JSON: &str = "cyclonedx-json";
/// Option: whether development dependencies are listed.
pub const INCLUDE_DEV_OPTION: &str = "include-dev";

/// Directories whose manifests belong to installed or vendored
/// dependencies, not to the project.
const FOREIGN_DIRS: [&str; 2] = ["node_modules", "vendor"];

/// What the options ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub include_dev: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { include_dev: true }
    }
}

/// The exporter.
pub struct Sbom;

impl Exporter for Sbom {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Exporter,
            description: "Writes a reproducible CycloneDX 1.5 JSON bill of materials of the \
                          dependencies a capsule declares (requirements.txt, pyproject.toml, \
                          package.json, go.mod, Cargo.toml, pom.xml; versions from lock files)."
                .into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        let capsule = capsule.view()?;
        export_files(&capsule.files, &options)
    }
}

// Exported only in the component: natively the export symbols would clash
// with those of the agents the integration tests link.
#[cfg(target_arch = "wasm32")]
qlp_sdk::export_exporter!(Sbom);

/// Reads the options: `INVALID_OPTION` for a format other than
/// [`FORMAT_CYCLONEDX_JSON`] or an `include-dev` other than `true` or
/// `false`.
pub fn settings(options: &[(String, String)]) -> Result<Settings, PluginError> {
    let mut settings = Settings::default();
    for (key, value) in options {
        match key.as_str() {
            FORMAT_OPTION if value == FORMAT_CYCLONEDX_JSON => {}
            FORMAT_OPTION => {
                return Err(PluginError::new(
                    "INVALID_OPTION",
                    format!(
                        "option `{FORMAT_OPTION}` must be `{FORMAT_CYCLONEDX_JSON}`, not {value:?}"
                    ),
                ));
            }
            INCLUDE_DEV_OPTION => {
                settings.include_dev = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(PluginError::new(
                            "INVALID_OPTION",
                            format!(
                                "option `{INCLUDE_DEV_OPTION}` must be `true` or `false`, not {value:?}"
                            ),
                        ));
                    }
                }
            }
            host if host.starts_with("qlp.") => {}
            other => qlp_sdk::log::warn("unknown export option ignored", &[("option", other)]),
        }
    }
    Ok(settings)
}

/// Builds the artifact for the files under the given options.
pub fn export_files(files: &[File], options: &ExportOptions) -> Result<Artifact, PluginError> {
    let settings = settings(&options.options)?;
    let name = qlp_sdk::archive::sanitize_base_name(&options.base_name);
    let declared = declared(files, settings);
    let bytes = bom::document(&name, &declared);
    let file_name = format!("{name}{EXTENSION}");
    qlp_sdk::log::info(
        "bill of materials written",
        &[
            ("file", &file_name),
            ("declarations", &declared.len().to_string()),
            ("bytes", &bytes.len().to_string()),
        ],
    );
    Ok(Artifact {
        media_type: MEDIA_TYPE.into(),
        file_name,
        bytes,
    })
}

/// One registry dependency as a manifest declares it, with the version
/// the SBOM gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub dependency: Dependency,
    /// The capsule path of the manifest.
    pub manifest: String,
    /// The exact version: pinned by the requirement, or locked.
    pub version: Option<String>,
    /// The lock file the version comes from, when it does.
    pub lock: Option<String>,
    /// Whether the requirement itself pins [`Declared::version`].
    pub pinned: bool,
}

/// The directory of a path, `""` at the top.
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Whether a path is inside an installed or vendored dependency.
fn is_foreign(path: &str) -> bool {
    path.split('/').any(|part| FOREIGN_DIRS.contains(&part))
}

/// Every registry dependency the capsule's manifests declare (development
/// ones only with `include_dev`), with its exact version where the
/// requirement or a lock file gives one; in the order of the manifests'
/// paths and of their lines, whatever the order of `files`.
pub fn declared(files: &[File], settings: Settings) -> Vec<Declared> {
    let mut sorted: Vec<&File> = files.iter().filter(|f| !is_foreign(&f.path)).collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    // Locks by directory, each with its path.
    let mut locks: BTreeMap<&str, Vec<(&str, Lock)>> = BTreeMap::new();
    for file in &sorted {
        if manifest::lock_ecosystem(&file.path).is_none() {
            continue;
        }
        let Some(text) = qlp_manifests::text_of_lock(&file.content) else {
            continue;
        };
        if let Some(lock) = manifest::lock(&file.path, text) {
            locks
                .entry(dir_of(&file.path))
                .or_default()
                .push((&file.path, lock));
        }
    }
    let mut out = Vec::new();
    for file in &sorted {
        if manifest::lock_ecosystem(&file.path).is_some() {
            continue;
        }
        let Some(text) = qlp_manifests::text_of(&file.content) else {
            continue;
        };
        let Some(deps) = manifest::read(&file.path, text) else {
            continue;
        };
        for dependency in deps {
            if !dependency.registry
                || dependency.style == Style::Locked
                || (dependency.kind == Kind::Dev && !settings.include_dev)
            {
                continue;
            }
            let pinned = manifest::allowed(&dependency)
                .and_then(|i| i.pinned().map(|v| v.text.clone()))
                .filter(|v| !v.is_empty());
            let (version, lock) = match pinned {
                Some(v) => (Some(v), None),
                None => match resolve(&locks, &file.path, &dependency) {
                    Some((lock, v)) => (Some(v), Some(lock)),
                    None => (None, None),
                },
            };
            out.push(Declared {
                pinned: version.is_some() && lock.is_none(),
                dependency,
                manifest: file.path.clone(),
                version,
                lock,
            });
        }
    }
    out
}

/// The version a lock file gives a dependency of the manifest at `path`:
/// the first lock of its directory, or else of the nearest directory above,
/// that resolves it; with the lock's path.
fn resolve(
    locks: &BTreeMap<&str, Vec<(&str, Lock)>>,
    path: &str,
    dependency: &Dependency,
) -> Option<(String, String)> {
    let mut dir = dir_of(path);
    loop {
        for (lock_path, lock) in locks.get(dir).into_iter().flatten() {
            if let Some(version) = lock.resolve(dependency) {
                return Some((lock_path.to_string(), version.to_string()));
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = dir_of(dir);
    }
}

#[cfg(test)]
mod tests;
