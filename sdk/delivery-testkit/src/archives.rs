//! Artifacts built in memory, as QLP's exporters would write them, and
//! hostile ones that no exporter writes.

use std::io::Write;

use qlp_sdk::Artifact;
pub use tar::EntryType;

/// A `.tar.gz` artifact named `capsule.tar.gz` holding `files` (mode 0644,
/// or 0755 for paths ending `.sh`).
pub fn tar_gz(files: &[(&str, &[u8])]) -> Artifact {
    let entries: Vec<(&[u8], tar::EntryType, &[u8])> = files
        .iter()
        .map(|(path, content)| (path.as_bytes(), tar::EntryType::Regular, *content))
        .collect();
    Artifact {
        media_type: "application/gzip".into(),
        file_name: "capsule.tar.gz".into(),
        bytes: raw_tar_gz(&entries),
    }
}

/// A `.zip` artifact named `capsule.zip` holding `files`.
pub fn zip(files: &[(&str, &[u8])]) -> Artifact {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, content) in files {
        writer
            .start_file(*path, zip::write::SimpleFileOptions::default())
            .expect("a zip entry");
        writer.write_all(content).expect("zip content");
    }
    Artifact {
        media_type: "application/zip".into(),
        file_name: "capsule.zip".into(),
        bytes: writer.finish().expect("a zip").into_inner(),
    }
}

/// A gzipped tar of entries written as given, hostile names and link
/// entries included (names up to 100 bytes).
pub fn raw_tar_gz(entries: &[(&[u8], tar::EntryType, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, kind, content) in entries {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..path.len()].copy_from_slice(path);
        header.set_entry_type(*kind);
        header.set_size(content.len() as u64);
        header.set_mode(if path.ends_with(b".sh") { 0o755 } else { 0o644 });
        header.set_cksum();
        builder.append(&header, *content).expect("a tar entry");
    }
    let tar = builder.into_inner().expect("a tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// A `.tar.gz` artifact with one hostile entry: `kind` at `path`.
pub fn hostile_tar_gz(path: &str, kind: tar::EntryType) -> Artifact {
    Artifact {
        media_type: "application/gzip".into(),
        file_name: "capsule.tar.gz".into(),
        bytes: raw_tar_gz(&[(path.as_bytes(), kind, b"")]),
    }
}
