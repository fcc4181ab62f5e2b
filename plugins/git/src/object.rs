//! Git objects as git itself hashes them: blobs, trees and a commit, each
//! `<type> <size>\0<content>` under SHA-1. Pure functions, so the ids are
//! checked against the real `git hash-object`, `git mktree` and
//! `git commit-tree` in this crate's tests; [`crate::pack`] writes them.

use std::collections::BTreeMap;

use sha1::{Digest, Sha1};

/// A SHA-1 object id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub [u8; 20]);

impl ObjectId {
    /// The all-zero id git uses for "no object" (a ref that does not exist).
    pub const ZERO: ObjectId = ObjectId([0; 20]);

    /// Lower-case hex, as git prints it.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 40 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<ObjectId> {
        let bytes = text.as_bytes();
        if bytes.len() != 40 {
            return None;
        }
        let mut id = [0; 20];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            id[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(ObjectId(id))
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The kinds of object this adapter writes, with their pack type numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit = 1,
    Tree = 2,
    Blob = 3,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tree => "tree",
            Kind::Blob => "blob",
        }
    }
}

/// One object: its kind and content (without the `<type> <size>\0` head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: Kind,
    pub content: Vec<u8>,
}

impl Object {
    /// The object's id: SHA-1 of `<type> <size>\0<content>`.
    pub fn id(&self) -> ObjectId {
        hash(self.kind, &self.content)
    }
}

/// The id git gives `content` as an object of `kind`.
pub fn hash(kind: Kind, content: &[u8]) -> ObjectId {
    let mut sha = Sha1::new();
    sha.update(format!("{} {}\0", kind.name(), content.len()).as_bytes());
    sha.update(content);
    ObjectId(sha.finalize().into())
}

/// One file to commit: a `/`-separated relative path (already checked by
/// the SDK's unpacker, [`crate::files_of`]), its bytes and whether it is
/// executable.
pub use qlp_sdk::archive::unpack::Entry as FileEntry;

/// Mode of a regular file in a tree.
pub const MODE_FILE: &str = "100644";
/// Mode of an executable file in a tree.
pub const MODE_EXECUTABLE: &str = "100755";
/// Mode of a sub-tree in a tree (git writes no leading zero).
pub const MODE_TREE: &str = "40000";

/// A directory while the trees are built: names to files or directories.
#[derive(Default)]
struct Dir<'a> {
    files: BTreeMap<&'a str, (ObjectId, bool)>,
    dirs: BTreeMap<&'a str, Dir<'a>>,
}

/// The objects for a set of files: every distinct blob, every tree, and the
/// root tree's id. Objects come once each, in no particular order.
/// The caller guarantees paths are distinct and that no file is another
/// file's directory (the SDK's unpacker, [`crate::files_of`], does).
pub fn build_tree(files: &[FileEntry]) -> (ObjectId, Vec<Object>) {
    let mut objects: BTreeMap<ObjectId, Object> = BTreeMap::new();
    let mut root = Dir::default();
    for file in files {
        let blob = Object {
            kind: Kind::Blob,
            content: file.content.clone(),
        };
        let id = blob.id();
        objects.entry(id).or_insert(blob);
        let mut parts: Vec<&str> = file.path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let mut dir = &mut root;
        for part in parts {
            dir = dir.dirs.entry(part).or_default();
        }
        dir.files.insert(name, (id, file.executable));
    }
    let root_id = write_dir(&root, &mut objects);
    (root_id, objects.into_values().collect())
}

fn write_dir(dir: &Dir<'_>, objects: &mut BTreeMap<ObjectId, Object>) -> ObjectId {
    let mut entries: Vec<TreeEntry> = Vec::new();
    for (name, (id, executable)) in &dir.files {
        let mode = if *executable {
            MODE_EXECUTABLE
        } else {
            MODE_FILE
        };
        entries.push(TreeEntry {
            mode,
            name: name.to_string(),
            id: *id,
        });
    }
    for (name, sub) in &dir.dirs {
        let id = write_dir(sub, objects);
        entries.push(TreeEntry {
            mode: MODE_TREE,
            name: name.to_string(),
            id,
        });
    }
    let tree = Object {
        kind: Kind::Tree,
        content: tree_content(entries),
    };
    let id = tree.id();
    objects.entry(id).or_insert(tree);
    id
}

/// One entry of a tree object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub mode: &'static str,
    pub name: String,
    pub id: ObjectId,
}

impl TreeEntry {
    /// The key git sorts tree entries by: the name's bytes, with a `/`
    /// appended for a directory (so `a.txt` sorts before directory `a`,
    /// which sorts as `a/`, and `a-b` before both `a/` and `a0`).
    fn sort_key(&self) -> Vec<u8> {
        let mut key = self.name.as_bytes().to_vec();
        if self.mode == MODE_TREE {
            key.push(b'/');
        }
        key
    }
}

/// A tree object's content: entries in git's order, each
/// `<mode> <name>\0<20-byte id>`.
pub fn tree_content(mut entries: Vec<TreeEntry>) -> Vec<u8> {
    entries.sort_by_key(TreeEntry::sort_key);
    let mut out = Vec::new();
    for entry in entries {
        out.extend_from_slice(entry.mode.as_bytes());
        out.push(b' ');
        out.extend_from_slice(entry.name.as_bytes());
        out.push(0);
        out.extend_from_slice(&entry.id.0);
    }
    out
}

/// Who made a commit and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch; the zone is always `+0000`.
    pub time: u64,
}

impl Signature {
    fn line(&self) -> String {
        format!("{} <{}> {} +0000", self.name, self.email, self.time)
    }
}

/// A commit object's content. The message is written as given; git ends
/// messages with a newline, so callers do too.
pub fn commit_content(
    tree: ObjectId,
    parent: Option<ObjectId>,
    author: &Signature,
    committer: &Signature,
    message: &str,
) -> Vec<u8> {
    let mut out = format!("tree {tree}\n");
    if let Some(parent) = parent {
        out.push_str(&format!("parent {parent}\n"));
    }
    out.push_str(&format!("author {}\n", author.line()));
    out.push_str(&format!("committer {}\n", committer.line()));
    out.push('\n');
    out.push_str(message);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str, executable: bool) -> FileEntry {
        FileEntry {
            path: path.into(),
            content: content.as_bytes().to_vec(),
            executable,
        }
    }

    #[test]
    fn the_empty_blob_and_tree_have_gits_well_known_ids() {
        assert_eq!(
            hash(Kind::Blob, b"").hex(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(
            hash(Kind::Tree, b"").hex(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(
            hash(Kind::Blob, b"hello\n").hex(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_malformed_ids() {
        let id = hash(Kind::Blob, b"x");
        assert_eq!(ObjectId::from_hex(&id.hex()), Some(id));
        assert_eq!(ObjectId::from_hex(&id.hex().to_uppercase()), Some(id));
        assert_eq!(ObjectId::from_hex("abc"), None);
        assert_eq!(ObjectId::from_hex(&"g".repeat(40)), None);
        assert_eq!(ObjectId::ZERO.hex(), "0".repeat(40));
    }

    #[test]
    fn directories_sort_as_if_their_name_ended_in_a_slash() {
        let id = ObjectId::ZERO;
        let content = tree_content(vec![
            TreeEntry {
                mode: MODE_TREE,
                name: "a".into(),
                id,
            },
            TreeEntry {
                mode: MODE_FILE,
                name: "a0".into(),
                id,
            },
            TreeEntry {
                mode: MODE_FILE,
                name: "a.txt".into(),
                id,
            },
            TreeEntry {
                mode: MODE_FILE,
                name: "a-b".into(),
                id,
            },
        ]);
        let names: Vec<String> = content
            .split(|b| *b == 0)
            .filter_map(|chunk| {
                let text = String::from_utf8_lossy(chunk);
                text.split_once(' ').map(|(_, name)| name.to_string())
            })
            .collect();
        assert_eq!(names, ["a-b", "a.txt", "a", "a0"]);
    }

    #[test]
    fn identical_blobs_are_stored_once_and_trees_nest() {
        let (root, objects) = build_tree(&[
            file("a.txt", "same\n", false),
            file("dir/b.txt", "same\n", false),
            file("dir/run.sh", "#!/bin/sh\n", true),
        ]);
        let blobs = objects.iter().filter(|o| o.kind == Kind::Blob).count();
        let trees = objects.iter().filter(|o| o.kind == Kind::Tree).count();
        assert_eq!((blobs, trees), (2, 2));
        assert!(objects.iter().any(|o| o.id() == root));
    }

    #[test]
    fn a_commit_without_parent_has_no_parent_line() {
        let who = Signature {
            name: "QLP".into(),
            email: "qlp@localhost".into(),
            time: 0,
        };
        let text = commit_content(ObjectId::ZERO, None, &who, &who, "m\n");
        assert_eq!(
            String::from_utf8(text).unwrap(),
            format!(
                "tree {}\nauthor QLP <qlp@localhost> 0 +0000\ncommitter QLP <qlp@localhost> 0 +0000\n\nm\n",
                ObjectId::ZERO
            )
        );
    }
}
