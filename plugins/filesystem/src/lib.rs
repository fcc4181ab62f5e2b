//! QLP delivery `qlp/filesystem`: writes an artifact into the directory the
//! operator granted to this plugin, at `<destination>/<file name>`.
//!
//! The target's `destination` is a sub-directory of the granted directory:
//! empty for its root, otherwise a relative `/`-separated path whose
//! components are neither empty, `.` nor `..`, without backslashes or NUL
//! bytes (`INVALID_DESTINATION`). The artifact's file name must be a single
//! such component (`INVALID_FILE_NAME`). The host confines paths as well;
//! checking here too gives the user a precise error and keeps a lax host
//! from being the only defence.
//!
//! Deliveries can be repeated: when the file is already there with exactly
//! the artifact's bytes (a resumed intent delivering again after a crash
//! between this write and the host's record of it), the delivery succeeds
//! with the same receipt and writes nothing. Option `overwrite` = `true` or
//! `false` (the default): without it an existing file with other content is
//! left alone and the delivery fails with `ALREADY_EXISTS`. Any other value
//! gives `INVALID_OPTION`; options the host sets (named `qlp.…`, such as
//! the delivery key) are read silently, other keys are ignored with a
//! warning. A failure reported by the host's workspace gives `WRITE_FAILED`
//! with the host's message.
//!
//! The receipt's location is the path written, relative to the granted
//! directory; its details are `bytes` (the size) and `media-type`.

use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};
use qlp_sdk::{Capability, HostError, PluginKind};

/// Longest destination accepted, in bytes: Linux's `PATH_MAX`, beyond which
/// no file system call would accept the path anyway.
pub const MAX_DESTINATION_BYTES: usize = 4096;

/// Longest file name accepted, in bytes: the `NAME_MAX` of common file
/// systems (ext4, XFS, APFS, NTFS).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Key of the option allowing an existing file to be replaced.
pub const OVERWRITE_OPTION: &str = "overwrite";

/// Options the host adds to every delivery (its stable key and the
/// artifact's digest) start with this.
pub const HOST_OPTION_PREFIX: &str = "qlp.";

/// The delivery adapter.
pub struct Filesystem;

impl Delivery for Filesystem {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/filesystem".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Delivery,
            description: "Delivers artifacts into a directory the operator grants.".into(),
            capabilities: vec![Capability::DirectoryWrite],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        deliver_to(&mut HostWorkspace, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(Filesystem);

/// The part of the granted directory this adapter uses; the host's in
/// production, an in-memory one in tests.
pub trait Workspace {
    fn exists(&mut self, path: &str) -> Result<bool, HostError>;
    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError>;
    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), HostError>;
}

/// The directory the host granted, through the `workspace` import.
pub struct HostWorkspace;

impl Workspace for HostWorkspace {
    fn exists(&mut self, path: &str) -> Result<bool, HostError> {
        qlp_sdk::delivery::workspace::exists(path)
    }

    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        qlp_sdk::delivery::workspace::read_file(path)
    }

    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), HostError> {
        qlp_sdk::delivery::workspace::write_file(path, contents)
    }
}

/// What a validated delivery will do.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// Where to write, relative to the granted directory.
    pub path: String,
    /// Whether an existing file may be replaced.
    pub overwrite: bool,
}

/// Validates the target and file name and works out the path to write.
pub fn plan(file_name: &str, target: &DeliveryTarget) -> Result<Plan, PluginError> {
    if let Some(problem) = destination_problem(&target.destination) {
        return Err(PluginError::new(
            "INVALID_DESTINATION",
            format!("destination {:?} {problem}", target.destination),
        ));
    }
    if let Some(problem) = file_name_problem(file_name) {
        return Err(PluginError::new(
            "INVALID_FILE_NAME",
            format!("artifact file name {file_name:?} {problem}"),
        ));
    }
    let overwrite = overwrite_option(&target.options)?;
    let path = if target.destination.is_empty() {
        file_name.to_string()
    } else {
        format!("{}/{file_name}", target.destination)
    };
    Ok(Plan { path, overwrite })
}

/// Why a destination is unacceptable, if it is. Empty means the root of the
/// granted directory.
pub fn destination_problem(destination: &str) -> Option<&'static str> {
    if destination.is_empty() {
        None
    } else if destination.len() > MAX_DESTINATION_BYTES {
        Some("is too long")
    } else if destination.starts_with('/') {
        Some("is absolute")
    } else {
        destination.split('/').find_map(component_problem)
    }
}

/// Why a file name is not a single safe path component, if it is not.
pub fn file_name_problem(file_name: &str) -> Option<&'static str> {
    if file_name.len() > MAX_FILE_NAME_BYTES {
        Some("is too long")
    } else if file_name.contains('/') {
        Some("contains a `/`")
    } else {
        component_problem(file_name)
    }
}

/// Why one path component is unsafe, if it is.
fn component_problem(component: &str) -> Option<&'static str> {
    if component.is_empty() {
        Some("has an empty component")
    } else if component == "." || component == ".." {
        Some("has a `.` or `..` component")
    } else if component.contains('\\') {
        Some("contains a backslash")
    } else if component.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// The `overwrite` option; `false` when absent.
pub fn overwrite_option(options: &[(String, String)]) -> Result<bool, PluginError> {
    let mut overwrite = false;
    for (key, value) in options {
        if key != OVERWRITE_OPTION {
            if !key.starts_with(HOST_OPTION_PREFIX) {
                qlp_sdk::log::warn("unknown delivery option ignored", &[("option", key)]);
            }
            continue;
        }
        overwrite = match value.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(PluginError::new(
                    "INVALID_OPTION",
                    format!("option `{OVERWRITE_OPTION}` must be `true` or `false`, not {other:?}"),
                ));
            }
        };
    }
    Ok(overwrite)
}

/// Delivers the artifact into the workspace and returns the receipt.
pub fn deliver_to(
    workspace: &mut impl Workspace,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    let plan = plan(&artifact.file_name, target)?;
    let bytes = artifact.bytes.len().to_string();
    if workspace.exists(&plan.path).map_err(write_failed)? {
        // The same bytes already there: this delivery happened before.
        if workspace.read_file(&plan.path).map_err(write_failed)? == artifact.bytes {
            qlp_sdk::log::info(
                "artifact already delivered",
                &[("path", &plan.path), ("bytes", &bytes)],
            );
            return Ok(receipt(plan.path, bytes, artifact));
        }
        if !plan.overwrite {
            return Err(PluginError::new(
                "ALREADY_EXISTS",
                format!(
                    "{:?} already exists with other content; set option `{OVERWRITE_OPTION}` to `true` to replace it",
                    plan.path
                ),
            ));
        }
    }
    workspace
        .write_file(&plan.path, &artifact.bytes)
        .map_err(write_failed)?;
    qlp_sdk::log::info(
        "artifact delivered",
        &[("path", &plan.path), ("bytes", &bytes)],
    );
    Ok(receipt(plan.path, bytes, artifact))
}

/// What a delivery of `artifact` to `location` reports, the first time
/// and every time after.
fn receipt(location: String, bytes: String, artifact: &Artifact) -> Receipt {
    Receipt {
        location,
        details: vec![
            ("bytes".into(), bytes),
            ("media-type".into(), artifact.media_type.clone()),
        ],
    }
}

fn write_failed(error: HostError) -> PluginError {
    PluginError::new("WRITE_FAILED", error.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// An in-memory workspace; `fail` makes every call fail with that text.
    #[derive(Default)]
    struct Memory {
        files: BTreeMap<String, Vec<u8>>,
        fail: Option<String>,
        writes: usize,
    }

    impl Workspace for Memory {
        fn exists(&mut self, path: &str) -> Result<bool, HostError> {
            match &self.fail {
                Some(message) => Err(HostError::Unavailable(message.clone())),
                None => Ok(self.files.contains_key(path)),
            }
        }

        fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
            match &self.fail {
                Some(message) => Err(HostError::Unavailable(message.clone())),
                None => self
                    .files
                    .get(path)
                    .cloned()
                    .ok_or_else(|| HostError::InvalidInput("no such file".into())),
            }
        }

        fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), HostError> {
            self.writes += 1;
            match &self.fail {
                Some(message) => Err(HostError::Unavailable(message.clone())),
                None => {
                    self.files.insert(path.into(), contents.to_vec());
                    Ok(())
                }
            }
        }
    }

    fn artifact(file_name: &str) -> Artifact {
        Artifact {
            media_type: "application/zip".into(),
            file_name: file_name.into(),
            bytes: vec![1, 2, 3],
        }
    }

    fn target(destination: &str, options: &[(&str, &str)]) -> DeliveryTarget {
        DeliveryTarget {
            destination: destination.into(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn error_code<T>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn writes_under_the_destination_and_returns_a_receipt() {
        let mut ws = Memory::default();
        let receipt = deliver_to(
            &mut ws,
            &artifact("invoices.zip"),
            &target("releases/2024", &[]),
        )
        .expect("a receipt");
        assert_eq!(receipt.location, "releases/2024/invoices.zip");
        assert_eq!(
            receipt.details,
            [
                ("bytes".to_string(), "3".to_string()),
                ("media-type".to_string(), "application/zip".to_string())
            ]
        );
        assert_eq!(
            ws.files.get("releases/2024/invoices.zip"),
            Some(&vec![1, 2, 3])
        );
    }

    #[test]
    fn an_empty_destination_is_the_granted_root() {
        let mut ws = Memory::default();
        let receipt =
            deliver_to(&mut ws, &artifact("capsule.zip"), &target("", &[])).expect("a receipt");
        assert_eq!(receipt.location, "capsule.zip");
        assert!(ws.files.contains_key("capsule.zip"));
    }

    #[test]
    fn delivering_the_same_bytes_again_succeeds_with_the_same_receipt_and_writes_nothing() {
        let mut ws = Memory::default();
        let host_options = [
            ("qlp.delivery-key", "intent/a.zip"),
            ("qlp.artifact-blake3", "00"),
        ];
        let first = deliver_to(&mut ws, &artifact("a.zip"), &target("out", &host_options))
            .expect("a receipt");
        let again = deliver_to(&mut ws, &artifact("a.zip"), &target("out", &host_options))
            .expect("a repeated delivery succeeds");
        assert_eq!(again.location, first.location);
        assert_eq!(again.details, first.details);
        assert_eq!(ws.writes, 1, "the repeat wrote nothing");
        assert_eq!(ws.files.get("out/a.zip"), Some(&vec![1, 2, 3]));
    }

    #[test]
    fn an_existing_file_is_kept_unless_overwrite_is_true() {
        let mut ws = Memory::default();
        ws.files.insert("out/a.zip".into(), vec![9]);
        let refused = deliver_to(&mut ws, &artifact("a.zip"), &target("out", &[]));
        assert_eq!(error_code(refused), "ALREADY_EXISTS");
        let refused = deliver_to(
            &mut ws,
            &artifact("a.zip"),
            &target("out", &[("overwrite", "false")]),
        );
        assert_eq!(error_code(refused), "ALREADY_EXISTS");
        assert_eq!(ws.files.get("out/a.zip"), Some(&vec![9]));
        deliver_to(
            &mut ws,
            &artifact("a.zip"),
            &target("out", &[("overwrite", "true")]),
        )
        .expect("a receipt");
        assert_eq!(ws.files.get("out/a.zip"), Some(&vec![1, 2, 3]));
    }

    #[test]
    fn workspace_errors_become_write_failed_with_the_hosts_message() {
        let mut ws = Memory {
            fail: Some("no directory was granted to this plugin".into()),
            ..Memory::default()
        };
        let error =
            deliver_to(&mut ws, &artifact("a.zip"), &target("", &[])).expect_err("an error");
        assert_eq!(error.code, "WRITE_FAILED");
        assert_eq!(error.message, "no directory was granted to this plugin");
        let error = deliver_to(
            &mut ws,
            &artifact("a.zip"),
            &target("", &[("overwrite", "true")]),
        )
        .expect_err("an error");
        assert_eq!(error.code, "WRITE_FAILED");
    }

    #[test]
    fn unsafe_destinations_are_refused_before_any_write() {
        for bad in [
            "/etc",
            "../up",
            "a/../../b",
            "a//b",
            "a/",
            "./a",
            "a/./b",
            "a\\b",
            "a\0b",
            "C:\\x",
        ] {
            let mut ws = Memory::default();
            let result = deliver_to(&mut ws, &artifact("a.zip"), &target(bad, &[]));
            assert_eq!(error_code(result), "INVALID_DESTINATION", "{bad:?}");
            assert!(ws.files.is_empty());
        }
        assert_eq!(
            destination_problem(&"a/".repeat(MAX_DESTINATION_BYTES)),
            Some("is too long")
        );
        for good in ["", "out", "releases/2024-01", "a..b/.hidden"] {
            assert_eq!(destination_problem(good), None, "{good:?}");
        }
    }

    #[test]
    fn file_names_must_be_one_safe_component() {
        for bad in [
            "", ".", "..", "a/b.zip", "/a.zip", "a\\b.zip", "a\nb.zip", "a\0.zip",
        ] {
            let result = plan(bad, &target("out", &[]));
            assert_eq!(error_code(result), "INVALID_FILE_NAME", "{bad:?}");
        }
        assert_eq!(
            file_name_problem(&"x".repeat(MAX_FILE_NAME_BYTES + 1)),
            Some("is too long")
        );
        for good in [
            "capsule.zip",
            ".env",
            "invoices-service_1.2.zip",
            "façade.zip",
        ] {
            assert_eq!(file_name_problem(good), None, "{good:?}");
        }
    }

    #[test]
    fn the_overwrite_option_must_be_a_boolean() {
        assert_eq!(overwrite_option(&[]).ok(), Some(false));
        let parse = |v: &str| overwrite_option(&[("overwrite".into(), v.into())]);
        assert_eq!(parse("true").ok(), Some(true));
        assert_eq!(parse("false").ok(), Some(false));
        assert_eq!(error_code(parse("yes")), "INVALID_OPTION");
        assert_eq!(
            overwrite_option(&[("mode".into(), "0644".into())]).ok(),
            Some(false)
        );
    }

    #[test]
    fn describe_asks_for_directory_write() {
        let info = Filesystem::describe();
        assert_eq!(info.name, "qlp/filesystem");
        assert_eq!(info.version, "0.1.0");
        assert!(matches!(info.kind, PluginKind::Delivery));
        assert!(matches!(
            info.capabilities.as_slice(),
            [Capability::DirectoryWrite]
        ));
    }
}
