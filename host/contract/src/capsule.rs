//! The capsule a 0.2 plugin reads through the `capsule` resource: what the
//! host holds of the project while a call runs, handed out one file at a
//! time instead of copied whole into the plugin's memory.

use crate::bindings::v0_2::wit;

/// The host's side of `qlp:plugin/types@0.2.0.capsule`, valid for one
/// call.
pub struct Capsule {
    pub intent: wit::Intent,
    /// Sorted by path.
    pub files: Vec<wit::File>,
    pub analyses: Vec<wit::Analysis>,
    pub validations: Vec<wit::Validation>,
    pub quality_score: Option<u8>,
}

impl Capsule {
    /// The file at `path`, if the capsule holds one.
    pub fn file(&self, path: &str) -> Option<&wit::File> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Every file's path and size, in path order.
    pub fn entries(&self) -> Vec<wit::FileEntry> {
        self.files
            .iter()
            .map(|f| wit::FileEntry {
                path: f.path.clone(),
                size: f.content.len() as u64,
            })
            .collect()
    }
}
