//! Capsules on disk and their manifest.
//!
//! A capsule's files are written under `<data>/capsules/<intent id>/files/`,
//! its exported artifact under `.../artifact/`. Everything is first written
//! into a temporary sibling directory, synced, and renamed into place, so a
//! capsule directory is either complete or absent, and a rewrite never
//! leaves its name without a directory. The manifest
//! (`.qlcapsule-manifest.json`) lists every file with its blake3 digest and
//! size, and every plugin that ran with its version and component digest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use qlp_contract::model::File;
use qlp_runtime::durable;

pub mod objects;

/// The manifest's file name inside a capsule.
pub const MANIFEST_NAME: &str = ".qlcapsule-manifest.json";

/// Most files one capsule may hold: far above any generated project, low
/// enough that a runaway agent cannot fill the disk with inodes.
pub const MAX_FILES: usize = 5_000;

/// Most bytes one capsule's files may total.
pub const MAX_CAPSULE_BYTES: usize = 64 << 20;

/// Longest accepted file path.
pub const MAX_PATH_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub blake3: String,
    /// The agent that wrote the file's final content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl FileEntry {
    pub fn of(file: &File) -> Self {
        Self {
            path: file.path.clone(),
            size: file.content.len() as u64,
            blake3: blake3::hash(&file.content).to_hex().to_string(),
            author: None,
        }
    }
}

/// What happens when two agents of one round write the same path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conflicts {
    /// The later agent's file replaces the earlier one's.
    #[default]
    LastWins,
    /// The earlier agent's file stays.
    FirstWins,
    /// The intent fails, naming the path and both agents.
    Fail,
}

/// Who wrote what: the project's files with their authors, and the paths
/// each agent of the current round wrote.
#[derive(Debug, Default, Clone)]
pub struct Authored {
    pub files: BTreeMap<String, File>,
    pub authors: BTreeMap<String, String>,
    round: BTreeMap<String, String>,
}

/// What one agent's files did to the project.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// Paths another agent of this round had written, now replaced.
    pub replaced: Vec<String>,
    /// Paths another agent of this round had written, kept as they were.
    pub kept: Vec<String>,
}

/// Why an agent's files were not merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("`{path}` was written by both {first} and {second}, and the tier refuses conflicts")]
    Conflict {
        path: String,
        first: String,
        second: String,
    },
}

impl Authored {
    /// Starts a new round: files stay, but conflicts are counted afresh
    /// (a repair round may fix any agent's file).
    pub fn new_round(&mut self) {
        self.round.clear();
    }

    /// Merges `agent`'s files under `rule`, all or nothing.
    pub fn merge(
        &mut self,
        agent: &str,
        files: Vec<File>,
        rule: Conflicts,
    ) -> Result<MergeReport, MergeError> {
        let mut report = MergeReport::default();
        let mut accepted = vec![];
        for file in files {
            check_path(&file.path)?;
            match self.round.get(&file.path) {
                Some(first) if first != agent => match rule {
                    Conflicts::LastWins => {
                        report.replaced.push(file.path.clone());
                        accepted.push(file);
                    }
                    Conflicts::FirstWins => report.kept.push(file.path.clone()),
                    Conflicts::Fail => {
                        return Err(MergeError::Conflict {
                            path: file.path,
                            first: first.clone(),
                            second: agent.to_owned(),
                        });
                    }
                },
                _ => accepted.push(file),
            }
        }
        let mut next = self.files.clone();
        let paths: Vec<String> = accepted.iter().map(|f| f.path.clone()).collect();
        merge(&mut next, accepted)?;
        self.files = next;
        for path in paths {
            self.authors.insert(path.clone(), agent.to_owned());
            self.round.insert(path, agent.to_owned());
        }
        Ok(report)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginEntry {
    pub name: String,
    pub version: String,
    pub kind: String,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestIntent {
    pub id: String,
    pub description: String,
    pub tier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestGate {
    pub passed: bool,
    /// `pass`, `fail` or `needs-review`.
    pub decision: String,
    pub reasons: Vec<String>,
    /// The repair round the capsule's files come from; 0 is the first
    /// generation.
    pub iteration: u32,
    /// Why the rounds stopped.
    pub stopped: String,
    /// Every round's score and decision, in order.
    pub iterations: Vec<IterationSummary>,
}

/// One round of generation and validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IterationSummary {
    pub iteration: u32,
    pub score: u8,
    pub decision: String,
    pub findings: usize,
}

/// The capsule manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub intent: ManifestIntent,
    pub created_at: String,
    pub quality_score: u8,
    pub gate: ManifestGate,
    /// Sorted by path; the manifest itself is not listed.
    pub files: Vec<FileEntry>,
    /// In the order they ran.
    pub plugins: Vec<PluginEntry>,
}

pub const MANIFEST_FORMAT: &str = "qlp-capsule-manifest/1";

/// Why a set of generated files is not acceptable as a capsule.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("file path `{0}` is not a relative `/`-separated path inside the project")]
    Invalid(String),
    #[error("file path `{0}` is reserved for the capsule manifest")]
    Reserved(String),
    #[error("more than {MAX_FILES} files")]
    TooManyFiles,
    #[error("files total more than {MAX_CAPSULE_BYTES} bytes")]
    TooLarge,
}

/// Checks a path a plugin produced: relative, `/`-separated, no empty, `.`
/// or `..` components, no backslashes or control characters.
pub fn check_path(path: &str) -> Result<(), PathError> {
    let bad = path.is_empty()
        || path.len() > MAX_PATH_LEN
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(PathError::Invalid(
            qlp_runtime::limits::sanitize_for_message(path),
        ));
    }
    if path == MANIFEST_NAME {
        return Err(PathError::Reserved(path.to_owned()));
    }
    Ok(())
}

/// Merges an agent's files into the project: a later agent's file replaces
/// an earlier one at the same path. Checks paths and caps.
pub fn merge(project: &mut BTreeMap<String, File>, files: Vec<File>) -> Result<(), PathError> {
    for file in files {
        check_path(&file.path)?;
        project.insert(file.path.clone(), file);
    }
    if project.len() > MAX_FILES {
        return Err(PathError::TooManyFiles);
    }
    if project.values().map(|f| f.content.len()).sum::<usize>() > MAX_CAPSULE_BYTES {
        return Err(PathError::TooLarge);
    }
    Ok(())
}

/// Where capsules' files and artifacts are kept: a directory (the data
/// directory's `capsules/`, or a shared one), or an object store bucket.
#[derive(Debug, Clone)]
pub enum CapsuleStore {
    Dir(CapsuleDirs),
    Bucket(objects::Bucket),
}

impl CapsuleStore {
    /// Writes the files (manifest included) and the artifacts; a rewrite
    /// replaces what an earlier write of the capsule left.
    pub async fn write(
        &self,
        intent_id: &str,
        files: Vec<File>,
        artifacts: Vec<qlp_contract::model::Artifact>,
    ) -> std::io::Result<()> {
        match self {
            Self::Dir(dirs) => {
                let (dirs, id) = (dirs.clone(), intent_id.to_owned());
                tokio::task::spawn_blocking(move || dirs.write(&id, &files, &artifacts))
                    .await
                    .map_err(std::io::Error::other)?
            }
            Self::Bucket(bucket) => bucket.write(intent_id, &files, &artifacts).await,
        }
    }

    /// The bytes of one file of a capsule; `None` when it has no such file
    /// (the path is not a file's: invalid, absent, or a directory).
    pub async fn file(&self, intent_id: &str, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        match self {
            Self::Dir(dirs) => {
                let Some(file) = dirs.file(intent_id, path) else {
                    return Ok(None);
                };
                absent_as_none(tokio::fs::read(&file).await)
            }
            Self::Bucket(bucket) => {
                if not_a_file_path(path) {
                    return Ok(None);
                }
                bucket.read(intent_id, &format!("files/{path}")).await
            }
        }
    }

    /// The bytes of one artifact of a capsule; `None` when it has none of
    /// that name.
    pub async fn artifact(&self, intent_id: &str, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        match self {
            Self::Dir(dirs) => {
                absent_as_none(tokio::fs::read(dirs.artifact(intent_id, name)).await)
            }
            Self::Bucket(bucket) => bucket.read(intent_id, &format!("artifact/{name}")).await,
        }
    }

    /// Removes a capsule's files and artifacts; nothing to remove is not an
    /// error.
    pub async fn remove(&self, intent_id: &str) -> std::io::Result<()> {
        match self {
            Self::Dir(dirs) => dirs.remove(intent_id),
            Self::Bucket(bucket) => bucket.remove(intent_id).await,
        }
    }

    /// Where capsules go, for logs.
    pub fn location(&self) -> String {
        match self {
            Self::Dir(dirs) => dirs.root.display().to_string(),
            Self::Bucket(bucket) => bucket.url().to_owned(),
        }
    }
}

/// Whether `path` cannot name a capsule's file: not a safe relative
/// path, and not the manifest. The same paths are refused whatever keeps
/// the capsule.
fn not_a_file_path(path: &str) -> bool {
    check_path(path).is_err() && path != MANIFEST_NAME
}

/// A read's bytes, `None` when there is no file there (absent, or a
/// directory).
fn absent_as_none(read: std::io::Result<Vec<u8>>) -> std::io::Result<Option<Vec<u8>>> {
    match read {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::IsADirectory
                    | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The capsule directories under the data directory.
#[derive(Debug, Clone)]
pub struct CapsuleDirs {
    root: PathBuf,
}

impl CapsuleDirs {
    /// The data directory's `capsules/`.
    pub fn new(data_dir: &Path) -> Self {
        Self::at(data_dir.join("capsules"))
    }

    /// Capsules kept under `root`.
    pub fn at(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn dir(&self, intent_id: &str) -> PathBuf {
        self.root.join(intent_id)
    }

    pub fn file(&self, intent_id: &str, path: &str) -> Option<PathBuf> {
        if not_a_file_path(path) {
            return None;
        }
        Some(self.dir(intent_id).join("files").join(path))
    }

    /// Removes a capsule's directory; nothing to remove is not an error.
    pub fn remove(&self, intent_id: &str) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.dir(intent_id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn artifact(&self, intent_id: &str, name: &str) -> PathBuf {
        self.dir(intent_id).join("artifact").join(name)
    }

    /// Writes the files (manifest included) and the artifacts, all or
    /// nothing.
    pub fn write(
        &self,
        intent_id: &str,
        files: &[File],
        artifacts: &[qlp_contract::model::Artifact],
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        let final_dir = self.dir(intent_id);
        let tmp = self.root.join(format!(".{intent_id}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        let written = (|| {
            let mut dirs = std::collections::BTreeSet::new();
            for file in files {
                let path = tmp.join("files").join(&file.path);
                let parent = path.parent().expect("joined paths have a parent");
                std::fs::create_dir_all(parent)?;
                durable::write_synced(&path, &file.content)?;
                dirs.insert(parent.to_owned());
            }
            if !artifacts.is_empty() {
                std::fs::create_dir_all(tmp.join("artifact"))?;
                dirs.insert(tmp.join("artifact"));
            }
            for artifact in artifacts {
                let path = tmp.join("artifact").join(&artifact.file_name);
                durable::write_synced(&path, &artifact.bytes)?;
            }
            dirs.insert(tmp.join("files"));
            dirs.insert(tmp.clone());
            dirs.iter()
                .filter(|d| d.exists())
                .try_for_each(|d| durable::sync_dir(d))
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        // A rewrite swaps the two directories in one step, so the name
        // never points at nothing, even for a moment: a crash leaves the
        // old capsule or the new one, and the other under the temporary
        // name, which the next write removes.
        if final_dir.exists() {
            durable::exchange(&tmp, &final_dir)?;
            durable::sync_dir(&self.root)?;
            std::fs::remove_dir_all(&tmp)?;
        } else {
            std::fs::rename(&tmp, &final_dir)?;
            durable::sync_dir(&self.root)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authored() -> Authored {
        let mut a = Authored::default();
        a.merge(
            "a/one",
            vec![file("x.py", "1"), file("y.py", "1")],
            Conflicts::Fail,
        )
        .unwrap();
        a
    }

    #[test]
    fn the_tiers_rule_settles_two_agents_writing_one_path() {
        let mut a = authored();
        let r = a
            .merge("a/two", vec![file("x.py", "2")], Conflicts::LastWins)
            .unwrap();
        assert_eq!(r.replaced, ["x.py"]);
        assert_eq!(a.files["x.py"].content, b"2");
        assert_eq!(a.authors["x.py"], "a/two");

        let mut a = authored();
        let r = a
            .merge("a/two", vec![file("x.py", "2")], Conflicts::FirstWins)
            .unwrap();
        assert_eq!(r.kept, ["x.py"]);
        assert_eq!(a.files["x.py"].content, b"1");
        assert_eq!(a.authors["x.py"], "a/one");

        let mut a = authored();
        let err = a
            .merge(
                "a/two",
                vec![file("z.py", "2"), file("y.py", "2")],
                Conflicts::Fail,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`y.py` was written by both a/one and a/two, and the tier refuses conflicts"
        );
        // All or nothing: z.py was not merged either.
        assert!(!a.files.contains_key("z.py"));
    }

    #[test]
    fn a_repair_round_may_rewrite_any_agents_file() {
        let mut a = authored();
        a.new_round();
        a.merge("a/fixer", vec![file("x.py", "fixed")], Conflicts::Fail)
            .unwrap();
        assert_eq!(a.authors["x.py"], "a/fixer");
        // An agent rewriting its own file is no conflict.
        a.merge("a/fixer", vec![file("x.py", "again")], Conflicts::Fail)
            .unwrap();
    }

    fn file(path: &str, content: &str) -> File {
        File {
            path: path.into(),
            content: content.as_bytes().to_vec(),
        }
    }

    #[test]
    fn paths_that_could_leave_the_capsule_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a//b",
            "./a",
            "a\\b",
            "a\nb",
            "a/",
            MANIFEST_NAME,
        ] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["app/main.py", ".dockerignore", "tests/test_x.py", "a..b/c"] {
            assert_eq!(check_path(good), Ok(()), "{good:?} refused");
        }
    }

    #[test]
    fn later_agents_replace_earlier_files() {
        let mut project = BTreeMap::new();
        merge(&mut project, vec![file("a.py", "1"), file("b.py", "1")]).unwrap();
        merge(&mut project, vec![file("a.py", "2")]).unwrap();
        assert_eq!(project["a.py"].content, b"2");
        assert_eq!(project.len(), 2);
    }

    #[test]
    fn too_many_files_are_refused() {
        let mut project = BTreeMap::new();
        let files = (0..=MAX_FILES)
            .map(|i| file(&format!("f{i}"), ""))
            .collect();
        assert_eq!(merge(&mut project, files), Err(PathError::TooManyFiles));
    }

    #[test]
    fn capsules_are_written_whole() {
        let data = tempfile::tempdir().unwrap();
        let dirs = CapsuleDirs::new(data.path());
        dirs.write(
            "id1",
            &[file("app/main.py", "print(1)\n")],
            &[
                qlp_contract::model::Artifact {
                    media_type: "application/zip".into(),
                    file_name: "c.zip".into(),
                    bytes: b"PK".to_vec(),
                },
                qlp_contract::model::Artifact {
                    media_type: "text/plain".into(),
                    file_name: "c.txt".into(),
                    bytes: b"list".to_vec(),
                },
            ],
        )
        .unwrap();
        assert_eq!(
            std::fs::read(dirs.file("id1", "app/main.py").unwrap()).unwrap(),
            b"print(1)\n"
        );
        assert_eq!(std::fs::read(dirs.artifact("id1", "c.zip")).unwrap(), b"PK");
        assert_eq!(
            std::fs::read(dirs.artifact("id1", "c.txt")).unwrap(),
            b"list"
        );
        assert!(dirs.file("id1", "../id2/x").is_none());
        // Rewriting replaces the whole directory.
        dirs.write("id1", &[file("other.txt", "x")], &[]).unwrap();
        assert!(!dirs.file("id1", "app/main.py").unwrap().exists());
    }
}
