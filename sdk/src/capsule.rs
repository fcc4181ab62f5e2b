//! The capsule a validator checks and an exporter packages.
//!
//! A plugin reads it through [`Capsule`]: the file listing, one file at a
//! time, the analyses, the reports of the validators that ran before and
//! the quality score. [`Capsule::view`] reads all of it at once, as a
//! [`CapsuleView`], for a plugin that needs every file anyway (an archive
//! exporter).
//!
//! In a component the host holds the capsule (contract 0.2.0's `capsule`
//! resource): a read asks it for one file, counted against the call's input
//! limit, and may be refused ([`HostError::LimitExceeded`]). In a plugin's
//! unit tests a capsule is built in memory: `Capsule::from(&view)` with a
//! [`CapsuleView`].

use std::borrow::Cow;

use crate::{Analysis, File, HostError, Intent, Validation};

/// The host's capsule resource, valid for the call it was passed to.
pub use crate::bindings::agent::qlp::plugin::types::Capsule as HostCapsule;

/// A file of the capsule, without its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative, `/`-separated.
    pub path: String,
    /// In bytes.
    pub size: u64,
}

/// A whole capsule in memory: what [`Capsule::view`] reads, and what a unit
/// test builds.
#[derive(Clone, Debug)]
pub struct CapsuleView {
    pub intent: Intent,
    pub files: Vec<File>,
    pub analyses: Vec<Analysis>,
    pub validations: Vec<Validation>,
    /// The overall quality score, once the quality gate has run.
    pub quality_score: Option<u8>,
}

/// The capsule of one call.
#[derive(Clone, Copy, Debug)]
pub enum Capsule<'a> {
    /// Held by the host, read one file at a time.
    Host(&'a HostCapsule),
    /// Held in memory: a unit test's.
    Memory(&'a CapsuleView),
}

impl<'a> From<&'a CapsuleView> for Capsule<'a> {
    fn from(view: &'a CapsuleView) -> Self {
        Capsule::Memory(view)
    }
}

impl Capsule<'_> {
    /// The intent the capsule answers.
    pub fn intent(&self) -> Intent {
        match self {
            Capsule::Host(host) => host.intent(),
            Capsule::Memory(view) => view.intent.clone(),
        }
    }

    /// Every file, sorted by path.
    pub fn files(&self) -> Vec<FileEntry> {
        let mut entries: Vec<FileEntry> = match self {
            Capsule::Host(host) => host
                .files()
                .into_iter()
                .map(|f| FileEntry {
                    path: f.path,
                    size: f.size,
                })
                .collect(),
            Capsule::Memory(view) => view
                .files
                .iter()
                .map(|f| FileEntry {
                    path: f.path.clone(),
                    size: f.content.len() as u64,
                })
                .collect(),
        };
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries
    }

    /// One file's content: [`HostError::InvalidInput`] for a path the
    /// capsule does not hold, [`HostError::LimitExceeded`] past the call's
    /// input limit.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
        match self {
            Capsule::Host(host) => host.read(path).map_err(HostError::from),
            Capsule::Memory(view) => view
                .files
                .iter()
                .find(|f| f.path == path)
                .map(|f| f.content.clone())
                .ok_or_else(|| {
                    HostError::InvalidInput(format!("the capsule holds no file `{path}`"))
                }),
        }
    }

    /// One file's content as text: `None` when it is not UTF-8.
    pub fn read_text(&self, path: &str) -> Result<Option<String>, HostError> {
        Ok(String::from_utf8(self.read(path)?).ok())
    }

    /// Every file with its content, sorted by path.
    pub(crate) fn read_files(&self) -> Result<Vec<File>, HostError> {
        self.files()
            .into_iter()
            .map(|entry| {
                let content = self.read(&entry.path)?;
                Ok(File {
                    path: entry.path,
                    content,
                })
            })
            .collect()
    }

    /// What the analyzers measured, by path.
    pub fn analyses(&self) -> Vec<Analysis> {
        match self {
            Capsule::Host(host) => host.analyses(),
            Capsule::Memory(view) => view.analyses.clone(),
        }
    }

    /// The reports of the validators that ran before this call.
    pub fn validations(&self) -> Vec<Validation> {
        match self {
            Capsule::Host(host) => host.validations(),
            Capsule::Memory(view) => view.validations.clone(),
        }
    }

    /// The overall quality score, once the quality gate has run.
    pub fn quality_score(&self) -> Option<u8> {
        match self {
            Capsule::Host(host) => host.quality_score(),
            Capsule::Memory(view) => view.quality_score,
        }
    }

    /// Everything at once: the intent, every file with its content (sorted
    /// by path when read from the host), the analyses, the reports and the
    /// score. Reading every file may pass the call's input limit.
    pub fn view(&self) -> Result<Cow<'_, CapsuleView>, HostError> {
        match self {
            Capsule::Host(_) => Ok(Cow::Owned(CapsuleView {
                intent: self.intent(),
                files: self.read_files()?,
                analyses: self.analyses(),
                validations: self.validations(),
                quality_score: self.quality_score(),
            })),
            Capsule::Memory(view) => Ok(Cow::Borrowed(*view)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> CapsuleView {
        CapsuleView {
            intent: Intent {
                id: "i-1".into(),
                description: "an API".into(),
                requirements: vec![],
                constraints: vec![],
                tier: "standard".into(),
            },
            files: vec![File::text("b.py", "print(2)\n"), File::text("a.py", "x")],
            analyses: vec![Analysis {
                path: "a.py".into(),
                language: "python".into(),
                lines_of_code: 1,
                comment_lines: 0,
                blank_lines: 0,
                functions: vec![],
                imports: vec![],
                doc_coverage: 1.0,
            }],
            validations: vec![Validation {
                validator: "qlp/secrets".into(),
                report: crate::Report {
                    findings: vec![],
                    score: 100,
                    summary: "no secrets".into(),
                },
            }],
            quality_score: Some(90),
        }
    }

    #[test]
    fn a_capsule_in_memory_lists_sorted_and_reads_one_file_at_a_time() {
        let view = view();
        let capsule = Capsule::from(&view);
        assert_eq!(
            capsule.files(),
            vec![
                FileEntry {
                    path: "a.py".into(),
                    size: 1
                },
                FileEntry {
                    path: "b.py".into(),
                    size: 9
                },
            ]
        );
        assert_eq!(capsule.read("b.py").unwrap(), b"print(2)\n");
        assert_eq!(capsule.read_text("a.py").unwrap().as_deref(), Some("x"));
        let missing = capsule.read("c.py").unwrap_err();
        assert_eq!(missing.code(), "invalid-input");
        assert!(missing.message().contains("c.py"), "{missing}");
        assert_eq!(capsule.intent().tier, "standard");
        assert_eq!(capsule.quality_score(), Some(90));
        assert_eq!(capsule.analyses()[0].language, "python");
        assert_eq!(capsule.validations()[0].validator, "qlp/secrets");
        assert_eq!(capsule.view().unwrap().files.len(), 2);
        let files = capsule.read_files().unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.py", "b.py"]);
        assert_eq!(files[1].content, b"print(2)\n");
    }
}
