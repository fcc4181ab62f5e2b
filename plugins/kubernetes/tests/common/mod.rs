//! Helpers shared by the tests of `qlp/kubernetes` and `qlp/helm`, unit
//! (`src/tests.rs`) and integration (`tests/*.rs`) alike: each includes
//! this file as a module, `qlp/helm` by path, as its `src/lib.rs` includes
//! this crate's `settings.rs`.

// Each test crate that includes this file uses only some of it.
#![allow(dead_code)]

use std::io::Read;

use qlp_sdk::exporter::ExportOptions;

/// Export options for the base name, with the option pairs.
pub fn options(base_name: &str, pairs: &[(&str, &str)]) -> ExportOptions {
    ExportOptions {
        base_name: base_name.into(),
        options: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The archive's entries, in archive order: path, text, mode and time.
pub fn unpack(bytes: &[u8]) -> Vec<(String, String, u32, u64)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    archive
        .entries()
        .expect("a tar archive")
        .map(|entry| {
            let mut entry = entry.expect("an entry");
            let header = entry.header().clone();
            let mut text = String::new();
            entry.read_to_string(&mut text).expect("UTF-8 content");
            (
                entry.path().expect("a path").display().to_string(),
                text,
                header.mode().expect("a mode"),
                header.mtime().expect("a time"),
            )
        })
        .collect()
}
