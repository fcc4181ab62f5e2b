//! Tests of `qlp/tar-gz`. Archives are read back with the system's GNU tar,
//! the tool a user unpacks them with, not only with the crate that wrote
//! them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// A path longer than the 100 bytes a tar header holds, in nested
/// directories.
fn long_path() -> String {
    format!(
        "services/{}/{}.py",
        "nested-package-directory".repeat(4),
        "a_module_with_a_rather_long_name".repeat(2)
    )
}

fn capsule() -> Vec<File> {
    vec![
        File::text(
            "app/main.py",
            "from fastapi import FastAPI\n\napp = FastAPI()\n".repeat(20),
        ),
        File::text("README.md", "# Invoices\n"),
        File {
            path: "static/img/logo.png".into(),
            content: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255],
        },
        File::text("app/__init__.py", ""),
        File::text(long_path(), "print('far down')\n"),
        // Exactly fills the header's name field.
        File::text(format!("edge/{}", "x".repeat(95)), "100\n"),
        // Non-ASCII, longer than 100 bytes, byte 100 inside a character.
        File::text(format!("docs/{}.md", "ü".repeat(60)), "Grüße\n"),
        // Longer than one 512-byte block of the long-name entry.
        File::text(
            format!(
                "{}end.txt",
                "segment-of-forty-bytes-of-directory-nam/".repeat(15)
            ),
            "deep\n",
        ),
    ]
}

fn options(pairs: &[(&str, &str)]) -> ExportOptions {
    ExportOptions {
        base_name: "invoices-service".into(),
        options: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn code(result: Result<Vec<u8>, PluginError>) -> String {
    result.err().map(|e| e.code).unwrap_or_default()
}

/// Writes the archive into a fresh directory and runs GNU tar there with
/// `args` (then the archive's name), in UTC and the C locale so listings
/// read the same everywhere. Returns the directory and tar's stdout.
fn run_tar(archive: &[u8], args: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("capsule.tar.gz"), archive).expect("archive written");
    let out = Command::new("tar")
        .args(args)
        .arg("capsule.tar.gz")
        .current_dir(dir.path())
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .expect("these tests need `tar` (GNU tar) on PATH");
    assert!(
        out.status.success(),
        "tar {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, String::from_utf8(out.stdout).expect("a UTF-8 listing"))
}

/// Every regular file under `root`, by path relative to it, with content.
fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("a readable directory") {
            let path: PathBuf = entry.expect("an entry").path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let relative = path.strip_prefix(root).expect("under root");
                let name = relative.to_str().expect("a UTF-8 path").to_owned();
                found.insert(name, std::fs::read(&path).expect("file content"));
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(root, root, &mut found);
    found
}

fn extracted(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let (dir, _) = run_tar(archive, &["-xzf"]);
    std::fs::remove_file(dir.path().join("capsule.tar.gz")).expect("archive removed");
    files_under(dir.path())
}

#[test]
fn system_tar_extracts_every_file_with_identical_bytes() {
    let files = capsule();
    assert!(files.iter().filter(|f| f.path.len() > 100).count() >= 3);
    let artifact = export_files(&files, &options(&[])).expect("an artifact");
    assert_eq!(artifact.media_type, "application/gzip");
    assert_eq!(artifact.file_name, "invoices-service.tar.gz");
    let expected: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|f| (f.path.clone(), f.content.clone()))
        .collect();
    assert_eq!(extracted(&artifact.bytes), expected);
}

#[test]
fn listing_shows_fixed_mode_owner_and_time_in_path_order() {
    let files = capsule();
    let bytes = build_archive(&files, DEFAULT_LEVEL).expect("an archive");
    let (_dir, listing) = run_tar(&bytes, &["--full-time", "--quoting-style=literal", "-tvzf"]);
    let mut paths = Vec::new();
    for line in listing.lines() {
        // -rw-r--r-- 0/0  11 1970-01-01 00:00:00 README.md
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 6, "{line}");
        assert_eq!(fields[0], "-rw-r--r--", "{line}");
        assert_eq!(fields[1], "0/0", "{line}");
        assert_eq!(&fields[3..5], ["1970-01-01", "00:00:00"], "{line}");
        let file = files.iter().find(|f| f.path == fields[5]).expect(line);
        assert_eq!(fields[2], file.content.len().to_string(), "{line}");
        paths.push(fields[5].to_owned());
    }
    let mut sorted: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    sorted.sort();
    assert_eq!(paths, sorted, "every file once, sorted by path");
}

#[test]
fn the_same_capsule_gives_byte_identical_archives_in_any_order() {
    let files = capsule();
    let mut reversed = files.clone();
    reversed.reverse();
    let mut rotated = files.clone();
    rotated.rotate_left(3);
    let first = build_archive(&files, DEFAULT_LEVEL).expect("an archive");
    assert_eq!(
        first,
        build_archive(&reversed, DEFAULT_LEVEL).expect("an archive")
    );
    assert_eq!(
        first,
        build_archive(&rotated, DEFAULT_LEVEL).expect("an archive")
    );
    let exported = export_files(&reversed, &options(&[])).expect("an artifact");
    assert_eq!(first, exported.bytes);
    let changed = {
        let mut f = files.clone();
        f[1] = File::text("README.md", "# Invoices!\n");
        build_archive(&f, DEFAULT_LEVEL).expect("an archive")
    };
    assert_ne!(first, changed);
}

#[test]
fn the_gzip_header_carries_no_name_and_no_time() {
    let bytes = build_archive(&capsule(), DEFAULT_LEVEL).expect("an archive");
    assert_eq!(bytes[..3], [0x1f, 0x8b, 8], "gzip, deflate");
    assert_eq!(bytes[3], 0, "no name, comment or extra field");
    assert_eq!(bytes[4..8], [0, 0, 0, 0], "no modification time");
}

#[test]
fn compression_level_is_parsed_and_checked() {
    let parse = |v: &str| level_option(&[(LEVEL_OPTION.into(), v.into())]);
    assert_eq!(level_option(&[]).ok(), Some(DEFAULT_LEVEL));
    assert_eq!(parse("0").ok(), Some(0));
    assert_eq!(parse("9").ok(), Some(9));
    for bad in ["10", "-1", "", " 5", "09", "+5", "fast", "٣"] {
        assert_eq!(
            parse(bad).err().map(|e| e.code).as_deref(),
            Some("INVALID_OPTION"),
            "{bad:?}"
        );
    }
    let bad = export_files(&capsule(), &options(&[("compression-level", "best")]));
    assert_eq!(bad.err().map(|e| e.code).as_deref(), Some("INVALID_OPTION"));
    let other_keys = level_option(&[("compression".into(), "stored".into())]);
    assert_eq!(other_keys.ok(), Some(DEFAULT_LEVEL));
}

#[test]
fn every_level_holds_the_same_files() {
    let files = capsule();
    let stored = export_files(&files, &options(&[("compression-level", "0")])).expect("level 0");
    let best = export_files(&files, &options(&[("compression-level", "9")])).expect("level 9");
    assert_eq!(extracted(&stored.bytes), extracted(&best.bytes));
    assert!(
        best.bytes.len() < stored.bytes.len(),
        "the repeated source compresses"
    );
}

#[test]
fn unsafe_paths_are_refused() {
    for bad in [
        "",
        "/etc/passwd",
        "C:/x.txt",
        "../x",
        "app/../../x",
        "a\\b",
        "a//b",
        "./a",
        "a/",
        "a\0b",
        "a/./b",
    ] {
        let files = [File::text("ok.txt", ""), File::text(bad, "x")];
        assert_eq!(
            code(build_archive(&files, DEFAULT_LEVEL)),
            "INVALID_PATH",
            "{bad:?}"
        );
    }
}

#[test]
fn duplicate_and_conflicting_paths_are_refused() {
    let duplicate = [
        File::text("a/b.py", "1"),
        File::text("c.py", ""),
        File::text("a/b.py", "2"),
    ];
    let conflict = [
        File::text("app", "1"),
        File::text("app-x", ""),
        File::text("app/main.py", "2"),
    ];
    for (files, expected) in [(&duplicate, "DUPLICATE_PATH"), (&conflict, "PATH_CONFLICT")] {
        assert_eq!(code(build_archive(files, DEFAULT_LEVEL)), expected);
    }
    let export = export_files(&conflict, &options(&[]));
    assert_eq!(
        export.err().map(|e| e.code).as_deref(),
        Some("PATH_CONFLICT")
    );
}

#[test]
fn an_empty_capsule_gives_an_empty_archive() {
    let bytes = build_archive(&[], DEFAULT_LEVEL).expect("an archive");
    let (_dir, listing) = run_tar(&bytes, &["-tzf"]);
    assert_eq!(listing, "");
}

#[test]
fn file_names_use_the_sanitized_base_name() {
    let name = |base: &str| {
        export_files(
            &[],
            &ExportOptions {
                base_name: base.into(),
                options: vec![],
            },
        )
        .map(|a| a.file_name)
        .ok()
    };
    assert_eq!(
        name("Invoices Service v1.2").as_deref(),
        Some("Invoices-Service-v1.2.tar.gz")
    );
    assert_eq!(
        name("../../etc/passwd").as_deref(),
        Some("etc-passwd.tar.gz")
    );
    assert_eq!(name("é").as_deref(), Some("capsule.tar.gz"));
}

#[test]
fn describe_names_the_plugin() {
    let info = TarGz::describe();
    assert_eq!(info.name, "qlp/tar-gz");
    assert_eq!(info.version, "0.1.0");
    assert!(matches!(info.kind, PluginKind::Exporter));
}
