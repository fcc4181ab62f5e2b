//! Registry tests: names, then signed packages end to end with
//! real keys and real files, including someone with write access to the
//! registry directory trying to slip something past a load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::signing::SecretKey;
use crate::signing::testing::{key, manifest_for};
use crate::trust::testing::policy_for;
use crate::trust::{TrustBasis, TrustedKey};
use crate::{Sha256Digest, validate_name};

fn v(s: &str) -> semver::Version {
    s.parse().unwrap()
}

#[test]
fn names_must_be_namespaced() {
    for bad in [
        "zip",
        "/zip",
        "qlp/",
        "QLP/zip",
        "qlp/zip/extra",
        "qlp/../x",
        "qlp/9zip",
    ] {
        let err = validate_name(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidName(_)), "{bad}: {err}");
    }
}

// --- Signed packages ----------------------------------------------------------

struct Fixture {
    dir: tempfile::TempDir,
    reg: Registry,
    signer: SecretKey,
    policy: TrustPolicy,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::open(dir.path()).unwrap();
    let signer = key(1);
    let policy = policy_for(&[(&signer, &["acme/*"])]);
    Fixture {
        dir,
        reg,
        signer,
        policy,
    }
}

impl Fixture {
    fn publish(&self, name: &str, version: &str, bytes: &[u8]) -> Result<PackageEntry> {
        let m = manifest_for(name, version, bytes);
        self.reg
            .publish_package(&m, &[self.signer.sign(&m)], bytes, &self.policy)
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.path().join("blobs").join(digest.as_str())
    }

    /// Edits `packages.json` as someone with write access to the directory.
    fn edit_index(&self, name: &str, version: &str, edit: impl FnOnce(&mut serde_json::Value)) {
        let path = self.dir.path().join("packages.json");
        let mut index: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        edit(&mut index["packages"][name][version]);
        fs::write(&path, serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    }

    fn load(&self, name: &str, version: &str) -> Result<Package> {
        self.reg.load_package(name, &v(version), &self.policy)
    }
}

fn code(result: Result<impl std::fmt::Debug>) -> &'static str {
    result.unwrap_err().code()
}

#[test]
fn publish_then_load_a_signed_package() {
    let f = fixture();
    let entry = f.publish("acme/rules", "1.2.0", b"component").unwrap();
    assert_eq!(entry.digest, Digest::of(b"component"));
    assert_eq!((entry.kind, entry.yanked), (Kind::Validator, false));
    assert_eq!(f.reg.packages().unwrap(), vec![entry.clone()]);
    assert_eq!(f.reg.package("acme/rules", &v("1.2.0")).unwrap(), entry);

    // Through a fresh handle on the same directory.
    let reg = Registry::open(f.dir.path()).unwrap();
    let p = reg
        .load_package("acme/rules", &v("1.2.0"), &f.policy)
        .unwrap();
    assert_eq!(p.component, b"component");
    assert_eq!(p.entry, entry);
    assert_eq!(p.manifest.digests.sha256, Sha256Digest::of(b"component"));
    assert_eq!(
        p.verified.basis,
        TrustBasis::Signed {
            keys: vec![f.signer.id().clone()]
        }
    );
    assert_eq!(
        code(f.reg.load_package("acme/rules", &v("9.9.9"), &f.policy)),
        "PACKAGE_NOT_FOUND"
    );
}

#[test]
fn publishing_refuses_untrusted_packages_and_stores_nothing() {
    let f = fixture();
    let bytes = b"component";
    let m = manifest_for("acme/rules", "1.0.0", bytes);
    let publish = |sigs: &[Signature], policy: &TrustPolicy, bytes: &[u8]| {
        f.reg.publish_package(&m, sigs, bytes, policy)
    };

    assert_eq!(code(publish(&[], &f.policy, bytes)), "UNSIGNED");
    assert_eq!(
        code(publish(&[key(9).sign(&m)], &f.policy, bytes)),
        "UNKNOWN_KEY"
    );

    let mut expired = TrustPolicy::new();
    expired
        .add_key(
            TrustedKey::new(f.signer.public_key(), &["acme/*"])
                .unwrap()
                .expiring(humantime::parse_rfc3339("2020-01-01T00:00:00Z").unwrap()),
        )
        .unwrap();
    let sig = f.signer.sign(&m);
    assert_eq!(
        code(publish(std::slice::from_ref(&sig), &expired, bytes)),
        "KEY_EXPIRED"
    );

    let mut revoked = f.policy.clone();
    revoked.revoke(f.signer.id().clone());
    assert_eq!(
        code(publish(std::slice::from_ref(&sig), &revoked, bytes)),
        "KEY_REVOKED"
    );

    let elsewhere = policy_for(&[(&f.signer, &["qlp/*"])]);
    let err = publish(std::slice::from_ref(&sig), &elsewhere, bytes).unwrap_err();
    assert_eq!(err.code(), "NAMESPACE_NOT_ALLOWED");
    assert!(err.to_string().contains("qlp/*") && err.to_string().contains("acme/rules"));

    // The component is not the one the manifest (and signature) describe.
    assert_eq!(
        code(publish(std::slice::from_ref(&sig), &f.policy, b"tampered")),
        "DIGEST_MISMATCH"
    );

    // A manifest changed after signing.
    let mut widened = m.clone();
    widened
        .capabilities
        .insert("directory-write".parse().unwrap());
    assert_eq!(
        code(
            f.reg
                .publish_package(&widened, std::slice::from_ref(&sig), bytes, &f.policy)
        ),
        "BAD_SIGNATURE"
    );

    assert!(f.reg.packages().unwrap().is_empty());
    assert_eq!(fs::read_dir(f.dir.path().join("blobs")).unwrap().count(), 0);
}

#[test]
fn a_version_is_published_once() {
    let f = fixture();
    let first = f.publish("acme/rules", "1.0.0", b"one").unwrap();
    // The identical package again: a no-op.
    assert_eq!(f.publish("acme/rules", "1.0.0", b"one").unwrap(), first);
    // Other bytes, or the same bytes with another manifest: refused.
    assert_eq!(
        code(f.publish("acme/rules", "1.0.0", b"two")),
        "VERSION_CONFLICT"
    );
    let mut m = manifest_for("acme/rules", "1.0.0", b"one");
    m.description = "changed".into();
    let err = f
        .reg
        .publish_package(&m, &[f.signer.sign(&m)], b"one", &f.policy)
        .unwrap_err();
    assert_eq!(err.code(), "VERSION_CONFLICT");
    assert_eq!(
        f.load("acme/rules", "1.0.0").unwrap().manifest.description,
        "acme/rules for tests"
    );
}

#[test]
fn a_component_changed_in_storage_is_refused_at_load() {
    let f = fixture();
    let entry = f.publish("acme/rules", "1.0.0", b"original").unwrap();
    fs::write(f.blob_path(&entry.digest), b"modified").unwrap();
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "TAMPERED_BLOB");
    fs::remove_file(f.blob_path(&entry.digest)).unwrap();
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "MISSING_BLOB");
}

#[test]
fn a_manifest_changed_in_storage_is_refused_at_load() {
    let f = fixture();
    f.publish("acme/rules", "1.0.0", b"component").unwrap();
    let record = f
        .reg
        .read_packages()
        .unwrap()
        .get("acme/rules", &v("1.0.0"))
        .cloned()
        .unwrap();

    // Edited in place: the blob no longer hashes to its name.
    let path = f.blob_path(&record.manifest);
    let original = fs::read(&path).unwrap();
    let mut manifest = Manifest::from_json(&original).unwrap();
    manifest
        .capabilities
        .insert("http:evil.example:443".parse().unwrap());
    fs::write(&path, manifest.canonical_bytes()).unwrap();
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "TAMPERED_BLOB");
    fs::write(&path, &original).unwrap();

    // Stored properly under its new digest and the index repointed: the
    // blob is intact, but the signature does not cover the change.
    let forged = f.reg.blob_store().put(&manifest.canonical_bytes()).unwrap();
    f.edit_index("acme/rules", "1.0.0", |r| {
        r["manifest"] = forged.as_str().into()
    });
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "BAD_SIGNATURE");
}

#[test]
fn rewriting_the_index_cannot_forge_a_package() {
    let f = fixture();
    f.publish("acme/rules", "1.0.0", b"rules one").unwrap();
    f.publish("acme/other", "1.0.0", b"other one").unwrap();
    let index = f.reg.read_packages().unwrap();
    let rules = index.get("acme/rules", &v("1.0.0")).unwrap().clone();
    let other = index.get("acme/other", &v("1.0.0")).unwrap().clone();

    // Another component under the signed manifest.
    let evil = f.reg.blob_store().put(b"evil").unwrap();
    f.edit_index("acme/rules", "1.0.0", |r| {
        r["component"] = evil.as_str().into()
    });
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "DIGEST_MISMATCH");

    // Another package's (validly signed) manifest filed under this name.
    f.edit_index("acme/rules", "1.0.0", |r| {
        r["component"] = other.component.as_str().into();
        r["manifest"] = other.manifest.as_str().into();
        r["signatures"] = other.signatures.as_str().into();
    });
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "INDEX_MISMATCH");

    // Signatures stripped.
    let none = f.reg.blob_store().put(b"[]").unwrap();
    f.edit_index("acme/rules", "1.0.0", |r| {
        r["component"] = rules.component.as_str().into();
        r["manifest"] = rules.manifest.as_str().into();
        r["signatures"] = none.as_str().into();
    });
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "UNSIGNED");

    // Put back, it loads again.
    f.edit_index("acme/rules", "1.0.0", |r| {
        r["signatures"] = rules.signatures.as_str().into()
    });
    f.load("acme/rules", "1.0.0").unwrap();

    // A path in place of a digest is refused as a corrupt index, not read.
    f.edit_index("acme/rules", "1.0.0", |r| {
        r["component"] = "../../etc/passwd".into()
    });
    assert_eq!(code(f.load("acme/rules", "1.0.0")), "CORRUPT_INDEX");
}

#[test]
fn loads_apply_the_policy_of_today() {
    let f = fixture();
    f.publish("acme/rules", "1.0.0", b"component").unwrap();

    let mut revoked = f.policy.clone();
    revoked.revoke(f.signer.id().clone());
    assert_eq!(
        code(f.reg.load_package("acme/rules", &v("1.0.0"), &revoked)),
        "KEY_REVOKED"
    );

    let mut expired = TrustPolicy::new();
    expired
        .add_key(
            TrustedKey::new(f.signer.public_key(), &["acme/*"])
                .unwrap()
                .expiring(humantime::parse_rfc3339("2020-01-01T00:00:00Z").unwrap()),
        )
        .unwrap();
    assert_eq!(
        code(f.reg.load_package("acme/rules", &v("1.0.0"), &expired)),
        "KEY_EXPIRED"
    );
}

#[test]
fn rotation_adds_the_new_key_then_retires_the_old_one() {
    let f = fixture();
    let new = key(2);
    f.publish("acme/rules", "1.0.0", b"component").unwrap();
    let mut both = policy_for(&[(&f.signer, &["acme/*"]), (&new, &["acme/*"])]);

    // A package signed by the new key alone is accepted alongside.
    let m = manifest_for("acme/rules", "1.1.0", b"newer");
    f.reg
        .publish_package(&m, &[new.sign(&m)], b"newer", &both)
        .unwrap();

    // The old package gets the new key's signature too.
    let old = f.load("acme/rules", "1.0.0").unwrap();
    let verified = f
        .reg
        .add_signature("acme/rules", &v("1.0.0"), new.sign(&old.manifest), &both)
        .unwrap();
    assert_eq!(
        verified.basis,
        TrustBasis::Signed {
            keys: vec![new.id().clone()]
        }
    );
    // A signature the policy does not accept is not added.
    assert_eq!(
        code(
            f.reg
                .add_signature("acme/rules", &v("1.0.0"), key(9).sign(&old.manifest), &both)
        ),
        "UNKNOWN_KEY"
    );

    // With the old key revoked, both versions still load.
    both.revoke(f.signer.id().clone());
    for version in ["1.0.0", "1.1.0"] {
        let p = f
            .reg
            .load_package("acme/rules", &v(version), &both)
            .unwrap();
        assert_eq!(
            p.verified.basis,
            TrustBasis::Signed {
                keys: vec![new.id().clone()]
            },
            "{version}"
        );
    }
    assert_eq!(
        f.load("acme/rules", "1.0.0").unwrap().signatures.len(),
        2,
        "both signatures are kept"
    );
}

#[test]
fn unsigned_packages_publish_only_under_the_dev_rule() {
    let f = fixture();
    let mut policy = f.policy.clone();
    policy.allow_unsigned("local/*").unwrap();
    let m = manifest_for("local/scratch", "0.1.0", b"scratch");
    f.reg.publish_package(&m, &[], b"scratch", &policy).unwrap();
    let p = f
        .reg
        .load_package("local/scratch", &v("0.1.0"), &policy)
        .unwrap();
    assert!(matches!(
        p.verified.basis,
        TrustBasis::UnsignedAllowed { .. }
    ));
    // Without the rule, the same package no longer loads.
    assert_eq!(
        code(f.reg.load_package("local/scratch", &v("0.1.0"), &f.policy)),
        "UNSIGNED"
    );
    // And the rule does not reach other namespaces.
    let m = manifest_for("acme/rules", "0.1.0", b"rules");
    assert_eq!(
        code(f.reg.publish_package(&m, &[], b"rules", &policy)),
        "UNSIGNED"
    );
}

#[test]
fn yank_hides_a_version_but_keeps_its_blob() {
    let f = fixture();
    let entry = f.publish("acme/rules", "1.0.0", b"component").unwrap();
    f.reg.yank("acme/rules", &v("1.0.0")).unwrap();
    f.reg.yank("acme/rules", &v("1.0.0")).unwrap();
    assert!(f.reg.package("acme/rules", &v("1.0.0")).unwrap().yanked);
    assert_eq!(code(f.reg.resolve("acme/rules")), "NO_MATCHING_VERSION");
    assert_eq!(f.reg.read_blob(&entry.digest).unwrap(), b"component");
    assert!(f.load("acme/rules", "1.0.0").unwrap().entry.yanked);
    assert_eq!(
        code(f.reg.yank("acme/absent", &v("1.0.0"))),
        "PACKAGE_NOT_FOUND"
    );
}

#[test]
fn concurrent_publishers_do_not_lose_updates() {
    let f = Arc::new(fixture());
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let f = Arc::clone(&f);
            std::thread::spawn(move || {
                let version = format!("1.0.{i}");
                f.publish("acme/rules", &version, version.as_bytes())
                    .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(f.reg.packages().unwrap().len(), 8);
}

/// An in-memory backend, standing in for object storage; it can be told to
/// lie.
#[derive(Debug, Default)]
struct MemoryStore {
    blobs: Mutex<HashMap<Digest, Vec<u8>>>,
    lie: Mutex<bool>,
}

impl BlobStore for Arc<MemoryStore> {
    fn put(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of(bytes);
        self.blobs
            .lock()
            .unwrap()
            .insert(digest.clone(), bytes.to_vec());
        Ok(digest)
    }

    fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>> {
        if *self.lie.lock().unwrap() {
            return Ok(Some(b"not what was stored".to_vec()));
        }
        Ok(self.blobs.lock().unwrap().get(digest).cloned())
    }

    fn has(&self, digest: &Digest) -> Result<bool> {
        Ok(self.blobs.lock().unwrap().contains_key(digest))
    }
}

#[test]
fn another_blob_store_plugs_in_and_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Arc::new(MemoryStore::default());
    let reg = Registry::with_blob_store(dir.path(), Box::new(Arc::clone(&memory))).unwrap();
    let k = key(1);
    let policy = policy_for(&[(&k, &["acme/*"])]);
    let m = manifest_for("acme/rules", "1.0.0", b"component");
    reg.publish_package(&m, &[k.sign(&m)], b"component", &policy)
        .unwrap();
    assert!(!dir.path().join("blobs").exists());
    assert_eq!(memory.blobs.lock().unwrap().len(), 3);
    reg.load_package("acme/rules", &v("1.0.0"), &policy)
        .unwrap();
    *memory.lie.lock().unwrap() = true;
    assert_eq!(
        code(reg.load_package("acme/rules", &v("1.0.0"), &policy)),
        "TAMPERED_BLOB"
    );
}
