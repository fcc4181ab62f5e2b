//! The capsule a validator checks and an exporter packages.
//!
//! A plugin reads it through [`Capsule`]: the file listing, one file at a
//! time, the analyses, the reports of the validators that ran before and
//! the quality score. [`Capsule::view`] gives all of it at once, as a
//! [`CapsuleView`], for a plugin that needs every file anyway (an archive
//! exporter).
//!
//! Under contract 0.1.0 the host hands the whole capsule to every call, so
//! every read is a read of memory; from 0.2.0 on the host keeps the capsule
//! and a read asks it for one file, counted against the call's input limit.
//! A plugin written against this type is the same under both.
//!
//! In a plugin's unit tests a capsule is built in memory:
//! `Capsule::from(&view)` with a [`CapsuleView`].

use std::borrow::Cow;

use crate::{Analysis, CapsuleView, HostError, Intent, Validation};

/// A file of the capsule, without its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative, `/`-separated.
    pub path: String,
    /// In bytes.
    pub size: u64,
}

/// The capsule of one call.
#[derive(Clone, Copy, Debug)]
pub enum Capsule<'a> {
    /// Held in memory: what the host handed over whole, or a unit test's.
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
            Capsule::Memory(view) => view.intent.clone(),
        }
    }

    /// Every file, sorted by path.
    pub fn files(&self) -> Vec<FileEntry> {
        match self {
            Capsule::Memory(view) => {
                let mut entries: Vec<FileEntry> = view
                    .files
                    .iter()
                    .map(|f| FileEntry {
                        path: f.path.clone(),
                        size: f.content.len() as u64,
                    })
                    .collect();
                entries.sort_by(|a, b| a.path.cmp(&b.path));
                entries
            }
        }
    }

    /// One file's content: [`HostError::InvalidInput`] for a path the
    /// capsule does not hold.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
        match self {
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

    /// What the analyzers measured, by path.
    pub fn analyses(&self) -> Vec<Analysis> {
        match self {
            Capsule::Memory(view) => view.analyses.clone(),
        }
    }

    /// The reports of the validators that ran before this call.
    pub fn validations(&self) -> Vec<Validation> {
        match self {
            Capsule::Memory(view) => view.validations.clone(),
        }
    }

    /// The overall quality score, once the quality gate has run.
    pub fn quality_score(&self) -> Option<u8> {
        match self {
            Capsule::Memory(view) => view.quality_score,
        }
    }

    /// Everything at once: the intent, every file with its content, the
    /// analyses, the reports and the score.
    pub fn view(&self) -> Cow<'_, CapsuleView> {
        match self {
            Capsule::Memory(view) => Cow::Borrowed(*view),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::File;

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
        assert_eq!(capsule.view().files.len(), 2);
    }
}
