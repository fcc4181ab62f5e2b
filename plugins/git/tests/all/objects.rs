//! Object ids and packs as the real git computes and reads them.

use std::collections::BTreeSet;

use qlp_plugin_git::object::{self, FileEntry, Kind, Object, Signature};
use qlp_plugin_git::pack;

use crate::common::{capsule, git, git_available, git_with};

fn entries() -> Vec<FileEntry> {
    capsule("objects")
        .into_iter()
        .map(|(path, content, executable)| FileEntry {
            path,
            content,
            executable,
        })
        .collect()
}

#[test]
fn blob_ids_match_git_hash_object() {
    if !git_available(false) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for content in [&b""[..], b"hello\n", &(0..=255u8).collect::<Vec<_>>()] {
        let theirs = git_with(dir.path(), &["hash-object", "--stdin"], &[], Some(content));
        assert_eq!(object::hash(Kind::Blob, content).hex(), theirs.trim());
    }
}

#[test]
fn tree_and_commit_ids_match_git_write_tree_mktree_and_commit_tree() {
    if !git_available(false) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    for file in entries() {
        let path = repo.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &file.content).unwrap();
        git(repo, &["add", &file.path]);
        if file.executable {
            git(repo, &["update-index", "--chmod=+x", &file.path]);
        }
    }
    let theirs = git(repo, &["write-tree"]);
    let (ours, objects) = object::build_tree(&entries());
    assert_eq!(ours.hex(), theirs.trim());

    // One level with mktree: git sorts the entries itself; ours must agree.
    let root = objects.iter().find(|o| o.id() == ours).unwrap();
    let listing = git(repo, &["ls-tree", &ours.hex()]);
    let remade = git_with(repo, &["mktree"], &[], Some(listing.as_bytes()));
    assert_eq!(remade.trim(), ours.hex());
    assert_eq!(object::hash(Kind::Tree, &root.content), ours);

    let who = Signature {
        name: "QLP".into(),
        email: "qlp@localhost".into(),
        time: 1_700_000_000,
    };
    let message = "QLP capsule i/c.zip\n\nQLP-Delivery: i/c.zip\n";
    let env = [
        ("GIT_AUTHOR_NAME", "QLP"),
        ("GIT_AUTHOR_EMAIL", "qlp@localhost"),
        ("GIT_AUTHOR_DATE", "@1700000000 +0000"),
        ("GIT_COMMITTER_NAME", "QLP"),
        ("GIT_COMMITTER_EMAIL", "qlp@localhost"),
        ("GIT_COMMITTER_DATE", "@1700000000 +0000"),
    ];
    let orphan = git_with(
        repo,
        &["commit-tree", &ours.hex(), "-F", "-"],
        &env,
        Some(message.as_bytes()),
    );
    let content = object::commit_content(ours, None, &who, &who, message);
    assert_eq!(object::hash(Kind::Commit, &content).hex(), orphan.trim());

    let parent = object::ObjectId::from_hex(orphan.trim()).unwrap();
    let child = git_with(
        repo,
        &["commit-tree", &ours.hex(), "-p", orphan.trim(), "-F", "-"],
        &env,
        Some(message.as_bytes()),
    );
    let content = object::commit_content(ours, Some(parent), &who, &who, message);
    assert_eq!(object::hash(Kind::Commit, &content).hex(), child.trim());
}

#[test]
fn packs_are_accepted_by_git_index_pack_and_verify_pack() {
    if !git_available(false) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "--bare"]);
    let (tree, mut objects) = object::build_tree(&entries());
    let who = Signature {
        name: "QLP".into(),
        email: "qlp@localhost".into(),
        time: 0,
    };
    let commit = Object {
        kind: Kind::Commit,
        content: object::commit_content(tree, None, &who, &who, "m\n"),
    };
    let commit_id = commit.id();
    objects.push(commit);
    let all: Vec<&Object> = objects.iter().collect();
    let bytes = pack::write_pack(&all);

    let indexed = git_with(
        repo,
        &["index-pack", "--stdin", "--strict", "--fix-thin"],
        &[],
        Some(&bytes),
    );
    let pack_hash = indexed.trim().trim_start_matches("pack\t");
    let idx = repo.join(format!("objects/pack/pack-{pack_hash}.idx"));
    let verified = git(repo, &["verify-pack", "-v", idx.to_str().unwrap()]);
    let listed: BTreeSet<String> = verified
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() == 40)
        .map(String::from)
        .collect();
    let ours: BTreeSet<String> = objects.iter().map(|o| o.id().hex()).collect();
    assert_eq!(listed, ours);
    git(repo, &["update-ref", "refs/heads/main", &commit_id.hex()]);
    git(repo, &["fsck", "--strict", "--no-dangling"]);
    let readme = git(repo, &["show", "main:README.md"]);
    assert_eq!(readme, "# objects\n");
}
