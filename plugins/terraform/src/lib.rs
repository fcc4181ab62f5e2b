//! QLP exporter `qlp/terraform`: packages a capsule's Terraform as a
//! reproducible module archive, `<base-name>-terraform.tar.gz`
//! (`application/gzip`), with the module's files at the archive root and a
//! generated `README.md` ([`readme`]) that documents the module: how to
//! call it, its variables, outputs, required providers and Terraform
//! version, and its resources by type, as read by [`module`].
//!
//! # What is packaged
//!
//! The module root is the directory holding the `.tf` (or `.tf.json`)
//! files, e.g. `terraform/`, `infra/` or the capsule root
//! ([`module_root`]). When several directories hold some, the one with a
//! `main.tf` wins; among several with (or, if none has one, without) a
//! `main.tf`, the shallowest, then the first in byte order. So
//! `terraform/` wins over `terraform/modules/vpc/`, whose files are
//! packaged as part of it. The option `module-dir` names the root instead
//! (`.` or empty for the capsule root).
//!
//! Under the root, at any depth, the archive holds every `*.tf`,
//! `*.tf.json`, `*.tfvars.example` and `.terraform.lock.hcl`, at its path
//! relative to the root ([`is_module_file`]). Nothing under a `.terraform/`
//! directory is taken (the provider and module cache `terraform init`
//! writes), nor real `*.tfvars`, which hold an environment's values and
//! often its secrets. The README documents the root module only: nested
//! directories are local modules it may call, listed under Modules.
//!
//! A capsule without Terraform gives `NO_TERRAFORM`, naming what was looked
//! for; the tier decides whether to run this exporter at all. The capsule
//! paths of the packaged files follow the rules every archive exporter
//! shares (`qlp_sdk::archive`: `INVALID_PATH`, `DUPLICATE_PATH`,
//! `PATH_CONFLICT`); a bad `module-dir` gives `INVALID_OPTION`, other
//! option keys are ignored with a warning.
//!
//! # Reproducibility
//!
//! The archive is written by `qlp_sdk::archive::tar_gz` as `qlp/tar-gz`
//! writes its own: entries sorted by path, fixed time ([`MTIME`]), owner
//! and permissions, GNU headers, deflate level 6; the README depends only
//! on the files' paths and contents. The same capsule, in any file order,
//! gives the same bytes.

pub mod module;
pub mod readme;

use qlp_sdk::archive::tar_gz::{self, DEFAULT_LEVEL, HeaderFormat};
use qlp_sdk::archive::{artifact, check_path, check_unique, path_problem, sanitize_base_name};
use qlp_sdk::exporter::{Artifact, Capsule, ExportOptions, Exporter, PluginError, PluginInfo};
use qlp_sdk::{File, PluginKind};

/// The plugin's namespaced name.
pub const PLUGIN_NAME: &str = "qlp/terraform";

/// The plugin's version.
pub const PLUGIN_VERSION: &str = "0.1.0";

/// Media type of the artifact.
pub const MEDIA_TYPE: &str = "application/gzip";

/// Appended to the sanitized base name to name the artifact; its stem
/// (without `.tar.gz`) is the directory the README's usage example
/// extracts it into.
pub const EXTENSION: &str = "-terraform.tar.gz";

/// Modification time of every entry: the Unix epoch, as `qlp/tar-gz`
/// writes; a capsule has no meaningful file times.
pub const MTIME: u64 = 0;

/// Key of the option naming the module root.
pub const MODULE_DIR_OPTION: &str = "module-dir";

/// The README's path in the archive.
pub const README: &str = "README.md";

/// File names the archive takes besides the suffixes of
/// [`MODULE_SUFFIXES`].
pub const LOCK_FILE: &str = ".terraform.lock.hcl";

/// Endings of the file names a module is made of.
pub const MODULE_SUFFIXES: [&str; 3] = [".tf", ".tf.json", ".tfvars.example"];

/// The directory `terraform init` caches providers and modules in; never
/// part of a module's source.
pub const CACHE_DIR: &str = ".terraform";

/// The exporter.
pub struct Terraform;

impl Exporter for Terraform {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            kind: PluginKind::Exporter,
            description: "Packages a capsule's Terraform as a reproducible module archive \
                          with a README documenting its variables, outputs, providers and \
                          resources."
                .into(),
            capabilities: vec![],
        }
    }

    fn export(capsule: &Capsule<'_>, options: ExportOptions) -> Result<Artifact, PluginError> {
        let capsule = capsule.view()?;
        export_files(&capsule.files, &options)
    }
}

qlp_sdk::export_exporter!(Terraform);

/// Builds the artifact for the files under the given options.
pub fn export_files(files: &[File], options: &ExportOptions) -> Result<Artifact, PluginError> {
    let module_dir = module_dir_option(&options.options)?;
    let name = sanitize_base_name(&options.base_name);
    let (root, bytes, entries) = build_archive(files, module_dir.as_deref(), &name)?;
    qlp_sdk::log::info(
        "terraform module packaged",
        &[("module-dir", if root.is_empty() { "." } else { &root })],
    );
    Ok(artifact(&name, EXTENSION, MEDIA_TYPE, entries, bytes))
}

/// The `module-dir` option, without trailing `/`; `Some("")` for the
/// capsule root, `None` when not given.
pub fn module_dir_option(options: &[(String, String)]) -> Result<Option<String>, PluginError> {
    let mut dir = None;
    for (key, value) in options {
        if key != MODULE_DIR_OPTION {
            qlp_sdk::log::warn("unknown export option ignored", &[("option", key)]);
            continue;
        }
        let value = value.trim_end_matches('/');
        if value.is_empty() || value == "." {
            dir = Some(String::new());
            continue;
        }
        if let Some(problem) = path_problem(value) {
            return Err(PluginError::new(
                "INVALID_OPTION",
                format!(
                    "option `{MODULE_DIR_OPTION}` must be a relative directory of the capsule, \
                     but {value:?} {problem}"
                ),
            ));
        }
        dir = Some(value.to_string());
    }
    Ok(dir)
}

/// The directory of a capsule path, `""` at the root.
fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |slash| &path[..slash])
}

/// Whether a path lies in a `.terraform/` cache directory.
fn in_cache(path: &str) -> bool {
    path.split('/').rev().skip(1).any(|c| c == CACHE_DIR)
}

/// Whether the file declares Terraform configuration (`*.tf`, `*.tf.json`),
/// outside a cache directory.
pub fn is_configuration(path: &str) -> bool {
    (path.ends_with(".tf") || path.ends_with(".tf.json")) && !in_cache(path)
}

/// Whether the archive takes the file: a configuration file, a
/// `*.tfvars.example` or the lock file, outside a cache directory.
pub fn is_module_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (MODULE_SUFFIXES
        .iter()
        .any(|s| name.ends_with(s) && name.len() > s.len())
        || name == LOCK_FILE)
        && !in_cache(path)
}

/// The module root among the directories holding configuration files: the
/// one with a `main.tf`, else any; then the shallowest, then the first in
/// byte order. `None` when the capsule has no configuration file.
pub fn module_root(files: &[File]) -> Option<String> {
    let mut candidates: Vec<(bool, usize, &str)> = files
        .iter()
        .filter(|f| is_configuration(&f.path))
        .map(|f| {
            let dir = parent(&f.path);
            let has_main = files.iter().any(|g| g.path == join(dir, "main.tf"));
            let depth = if dir.is_empty() {
                0
            } else {
                dir.split('/').count()
            };
            (!has_main, depth, dir)
        })
        .collect();
    candidates.sort();
    candidates.first().map(|(_, _, dir)| dir.to_string())
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The path of `path` relative to `root`, if it lies under it.
fn under<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    if root.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(root)?.strip_prefix('/')
    }
}

/// `NO_TERRAFORM`, saying where and what was looked for.
fn no_terraform(module_dir: Option<&str>) -> PluginError {
    let what = "`*.tf` or `*.tf.json` file (outside `.terraform/` directories)";
    let message = match module_dir {
        Some("") => format!(
            "the capsule root (option `{MODULE_DIR_OPTION}`) holds no {what}, so there is no \
             Terraform module to package"
        ),
        Some(dir) => format!(
            "`{dir}/` (option `{MODULE_DIR_OPTION}`) holds no {what}, so there is no Terraform \
             module to package"
        ),
        None => format!(
            "the capsule holds no Terraform: looked for a {what} in every directory (such as \
             `terraform/`, `infra/` or the capsule root), and would have packaged them with any \
             `*.tfvars.example` and `.terraform.lock.hcl`"
        ),
    };
    PluginError::new("NO_TERRAFORM", message)
}

/// The archive of the module under `module_dir` (or the chosen
/// [`module_root`]) with its README: `(root, bytes, entries)`.
pub fn build_archive(
    files: &[File],
    module_dir: Option<&str>,
    name: &str,
) -> Result<(String, Vec<u8>, usize), PluginError> {
    let root = match module_dir {
        Some(dir) => {
            let holds = files
                .iter()
                .any(|f| is_configuration(&f.path) && parent(&f.path) == dir);
            if !holds {
                return Err(no_terraform(Some(dir)));
            }
            dir.to_string()
        }
        None => module_root(files).ok_or_else(|| no_terraform(None))?,
    };
    let mut packaged: Vec<&File> = Vec::new();
    for file in files {
        if under(&file.path, &root).is_some_and(is_module_file) {
            check_path(&file.path)?;
            packaged.push(file);
        }
    }
    check_unique(&packaged)?;
    let mut entries: Vec<(&str, &[u8])> = packaged
        .iter()
        .filter_map(|f| Some((under(&f.path, &root)?, f.content.as_slice())))
        .collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let root_files: Vec<(&str, &[u8])> = entries
        .iter()
        .copied()
        .filter(|(path, _)| !path.contains('/'))
        .collect();
    let module = module::read(&root_files);
    let paths: Vec<String> = entries.iter().map(|(p, _)| p.to_string()).collect();
    let directory = format!("{name}{}", EXTENSION.trim_end_matches(".tar.gz"));
    let text = readme::render(
        &module,
        &readme::Context {
            name,
            directory: &directory,
            module_dir: &root,
            files: &paths,
        },
    );
    entries.push((README, text.as_bytes()));
    let count = entries.len();
    let writer = tar_gz::TarGz {
        format: HeaderFormat::Gnu,
        mtime: MTIME,
        level: DEFAULT_LEVEL,
    };
    let bytes = writer.write(entries)?;
    Ok((root, bytes, count))
}

#[cfg(test)]
mod tests;
