//! Capsules in S3-compatible object storage (`--capsule-store
//! s3://BUCKET/PREFIX`), through `object_store`: replicas without a shared
//! file system share a bucket, so any replica serves any capsule.
//!
//! A capsule is the objects `PREFIX/ID/files/PATH` and
//! `PREFIX/ID/artifact/NAME`. Object storage has no directory to rename,
//! so a rewrite (a resumed run, a repair round) puts every object first
//! and then deletes the ones the new capsule no longer has: a reader sees
//! each file old or new, never missing. The capsule's database row, written
//! after its objects, is what makes it visible at all.

use std::collections::BTreeSet;
use std::io;
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, PutPayload};

use qlp_contract::model::{Artifact, File};

/// A bucket and the prefix capsules are kept under.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// Without slashes at either end; may be empty.
    prefix: String,
    /// `s3://BUCKET/PREFIX`, for logs.
    url: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// Why `--capsule-store` was refused.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("`{0}` is not an object store URL: expected s3://BUCKET or s3://BUCKET/PREFIX")]
    NotAUrl(String),
    #[error("cannot configure the object store {url}: {reason}")]
    Config { url: String, reason: String },
}

impl Bucket {
    /// The bucket of `url` (`s3://BUCKET[/PREFIX]`), with the endpoint,
    /// region and credentials of the usual `AWS_*` variables
    /// (`AWS_ENDPOINT` for an S3-compatible server, `AWS_ALLOW_HTTP=true`
    /// for one without TLS). Nothing is contacted yet: see
    /// [`Bucket::check`].
    pub fn open(url: &str) -> Result<Self, OpenError> {
        Self::open_from(url, std::env::vars())
    }

    /// [`Bucket::open`] with the `AWS_*` variables among `vars`, and
    /// defaults for what they leave out: a store that does not answer fails
    /// a request within seconds (and the start, see [`Bucket::check`]),
    /// not after minutes of retries.
    pub fn open_from(
        url: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, OpenError> {
        use object_store::ClientConfigKey;
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let mut builder = AmazonS3Builder::new().with_retry(object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(20),
            ..Default::default()
        });
        for (key, default) in [
            (ClientConfigKey::ConnectTimeout, "5s"),
            (ClientConfigKey::Timeout, "60s"),
        ] {
            builder = builder.with_config(AmazonS3ConfigKey::Client(key), default);
        }
        // As `AmazonS3Builder::from_env` reads them, over the defaults.
        for (key, value) in vars {
            if key.starts_with("AWS_")
                && let Ok(config) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
            {
                builder = builder.with_config(config, value);
            }
        }
        Self::open_with(url, builder)
    }

    /// [`Bucket::open`] with the endpoint and credentials of `builder`.
    pub fn open_with(
        url: &str,
        builder: object_store::aws::AmazonS3Builder,
    ) -> Result<Self, OpenError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| OpenError::NotAUrl(url.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if bucket.is_empty() || Key::parse(prefix).is_err() {
            return Err(OpenError::NotAUrl(url.to_owned()));
        }
        let store = builder
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| OpenError::Config {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            store: Arc::new(store),
            prefix: prefix.to_owned(),
            url: format!("s3://{bucket}/{prefix}"),
        })
    }

    /// Whether the bucket answers with these credentials: a listing of
    /// the prefix, so a server does not start with capsules it cannot
    /// store.
    pub async fn check(&self) -> io::Result<()> {
        let prefix = Key::from(self.prefix.as_str());
        self.store
            .list_with_delimiter(Some(&prefix))
            .await
            .map(drop)
            .map_err(|e| io::Error::other(format!("{}: {e}", self.url)))
    }

    fn key(&self, id: &str, rest: &str) -> Option<Key> {
        let joined = match self.prefix.as_str() {
            "" => format!("{id}/{rest}"),
            p => format!("{p}/{id}/{rest}"),
        };
        Key::parse(joined).ok()
    }

    /// The capsule's "directory": a listing with it as prefix matches
    /// its objects, not those of another id it begins.
    fn capsule(&self, id: &str) -> Option<Key> {
        match self.prefix.as_str() {
            "" => Key::parse(id),
            p => Key::parse(format!("{p}/{id}")),
        }
        .ok()
        .filter(|k| k.parts().count() == self.prefix_parts() + 1)
    }

    fn prefix_parts(&self) -> usize {
        Key::from(self.prefix.as_str()).parts().count()
    }

    /// Puts the capsule's files and artifacts, then deletes what an earlier
    /// write of it left that this one does not have.
    pub async fn write(&self, id: &str, files: &[File], artifacts: &[Artifact]) -> io::Result<()> {
        let before = self.keys(id).await?;
        let mut written = BTreeSet::new();
        let objects = files
            .iter()
            .map(|f| (format!("files/{}", f.path), f.content.as_slice()))
            .chain(
                artifacts
                    .iter()
                    .map(|a| (format!("artifact/{}", a.file_name), a.bytes.as_slice())),
            );
        for (rest, bytes) in objects {
            let key = self.key(id, &rest).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("no object key for {rest}"),
                )
            })?;
            self.store
                .put(&key, PutPayload::from(bytes.to_vec()))
                .await
                .map_err(|e| self.error(&key, e))?;
            written.insert(key);
        }
        for stale in before.difference(&written) {
            self.delete(stale).await?;
        }
        Ok(())
    }

    /// The bytes of the capsule's object `rest` (`files/PATH`,
    /// `artifact/NAME`); `None` when there is none.
    pub async fn read(&self, id: &str, rest: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(key) = self.key(id, rest) else {
            return Ok(None);
        };
        match self.store.get(&key).await {
            Ok(got) => Ok(Some(
                got.bytes().await.map_err(|e| self.error(&key, e))?.to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(&key, e)),
        }
    }

    /// Deletes every object of the capsule; none is not an error.
    pub async fn remove(&self, id: &str) -> io::Result<()> {
        for key in self.keys(id).await? {
            self.delete(&key).await?;
        }
        Ok(())
    }

    async fn keys(&self, id: &str) -> io::Result<BTreeSet<Key>> {
        let Some(prefix) = self.capsule(id) else {
            return Ok(BTreeSet::new());
        };
        self.store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| self.error(&prefix, e))
    }

    async fn delete(&self, key: &Key) -> io::Result<()> {
        match self.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn error(&self, key: &Key, e: object_store::Error) -> io::Error {
        io::Error::other(format!("{}: {key}: {e}", self.url))
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capsule::CapsuleStore;
    use std::io::BufRead;

    /// moto's S3-compatible server on a loopback port (the script the
    /// delivery tests use), stopped when dropped.
    struct Moto {
        child: std::process::Child,
        url: String,
    }

    impl Moto {
        fn start(bucket: &str) -> Self {
            let script = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/servers/s3_server.py"
            );
            let mut child = std::process::Command::new("python3")
                .args([script, "--bucket", bucket])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("python3 runs (deploy/setup.sh installs moto)");
            let stdout = child.stdout.take().expect("piped");
            let line = std::io::BufReader::new(stdout)
                .lines()
                .next()
                .expect("a first line")
                .expect("readable");
            let url = line
                .strip_prefix("listening on ")
                .unwrap_or_else(|| panic!("moto did not start: {line}"))
                .to_owned();
            Self { child, url }
        }

        fn bucket(&self, url: &str) -> Bucket {
            let builder = object_store::aws::AmazonS3Builder::new()
                .with_endpoint(&self.url)
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_access_key_id("test")
                .with_secret_access_key("test");
            Bucket::open_with(url, builder).expect("a bucket")
        }
    }

    impl Drop for Moto {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn file(path: &str, text: &str) -> File {
        File {
            path: path.into(),
            content: text.as_bytes().to_vec(),
        }
    }

    fn artifact(name: &str, bytes: &[u8]) -> Artifact {
        Artifact {
            media_type: "application/zip".into(),
            file_name: name.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[tokio::test]
    async fn a_capsule_is_written_read_rewritten_without_leftovers_and_removed() {
        let moto = Moto::start("capsules");
        let bucket = moto.bucket("s3://capsules/qlp/prod");
        bucket.check().await.expect("the bucket answers");
        let (a, ab) = ("0b6f", "0b6f-2");
        bucket
            .write(
                a,
                &[file("app/main.py", "v1"), file("old.txt", "gone soon")],
                &[artifact("a.zip", b"PK1")],
            )
            .await
            .unwrap();
        // Another capsule whose id begins with the first's.
        bucket
            .write(ab, &[file("app/main.py", "other")], &[])
            .await
            .unwrap();
        assert_eq!(
            bucket.read(a, "files/app/main.py").await.unwrap().unwrap(),
            b"v1"
        );
        assert_eq!(
            bucket.read(a, "artifact/a.zip").await.unwrap().unwrap(),
            b"PK1"
        );
        assert_eq!(bucket.read(a, "files/nothing.py").await.unwrap(), None);

        // A rewrite (a repair round): new contents, and what the new
        // capsule no longer has is gone.
        bucket
            .write(
                a,
                &[file("app/main.py", "v2")],
                &[artifact("b.zip", b"PK2")],
            )
            .await
            .unwrap();
        assert_eq!(
            bucket.read(a, "files/app/main.py").await.unwrap().unwrap(),
            b"v2"
        );
        assert_eq!(bucket.read(a, "files/old.txt").await.unwrap(), None);
        assert_eq!(bucket.read(a, "artifact/a.zip").await.unwrap(), None);
        assert_eq!(
            bucket.read(a, "artifact/b.zip").await.unwrap().unwrap(),
            b"PK2"
        );

        bucket.remove(a).await.unwrap();
        assert_eq!(bucket.read(a, "files/app/main.py").await.unwrap(), None);
        assert_eq!(bucket.read(a, "artifact/b.zip").await.unwrap(), None);
        // Removing is by capsule: the other is untouched, and removing
        // again is not an error.
        assert_eq!(
            bucket.read(ab, "files/app/main.py").await.unwrap().unwrap(),
            b"other"
        );
        bucket.remove(a).await.unwrap();
        // Other prefixes of the bucket are other servers' capsules.
        let other = moto.bucket("s3://capsules/qlp/staging");
        assert_eq!(other.read(ab, "files/app/main.py").await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_aws_variables_name_the_endpoint_and_credentials() {
        let moto = Moto::start("capsules");
        let vars = |allow_http: &str| {
            [
                ("AWS_ENDPOINT", moto.url.as_str()),
                ("AWS_ALLOW_HTTP", allow_http),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("HOME", "/nonexistent"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        };
        let bucket = Bucket::open_from("s3://capsules/qlp", vars("true")).unwrap();
        bucket.check().await.expect("the bucket answers over http");
        bucket
            .write("i1", &[file("a.txt", "x")], &[])
            .await
            .unwrap();
        assert_eq!(
            bucket.read("i1", "files/a.txt").await.unwrap().unwrap(),
            b"x"
        );
        // Plain http only when allowed.
        let refused = Bucket::open_from("s3://capsules/qlp", vars("false")).unwrap();
        assert!(refused.check().await.is_err());
    }

    #[tokio::test]
    async fn a_bucket_that_does_not_answer_or_exist_fails_the_check() {
        let moto = Moto::start("capsules");
        let missing = moto.bucket("s3://no-such-bucket");
        assert!(missing.check().await.is_err());
        let builder = object_store::aws::AmazonS3Builder::new()
            .with_endpoint("http://127.0.0.1:9")
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_retry(object_store::RetryConfig {
                max_retries: 0,
                ..Default::default()
            });
        let closed = Bucket::open_with("s3://capsules", builder).unwrap();
        assert!(closed.check().await.is_err());
    }

    #[test]
    fn a_bucket_shows_its_url_in_logs_never_its_credentials() {
        let vars = [
            ("AWS_ACCESS_KEY_ID", "AKIAQLPKEYID0001"),
            ("AWS_SECRET_ACCESS_KEY", "secret-5e1f9c"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let bucket = Bucket::open_from("s3://capsules/qlp", vars).unwrap();
        let shown = format!("{:?}", CapsuleStore::Bucket(bucket));
        assert!(shown.contains("s3://capsules/qlp"), "{shown}");
        assert!(
            !shown.contains("secret-5e1f9c") && !shown.contains("AKIAQLP"),
            "{shown}"
        );
    }

    #[test]
    fn only_s3_urls_with_a_bucket_are_accepted() {
        for bad in [
            "capsules",
            "file:///tmp/x",
            "s3://",
            "s3:///prefix",
            "s3://b/a//b",
        ] {
            assert!(
                matches!(
                    Bucket::open_with(bad, Default::default()),
                    Err(OpenError::NotAUrl(_))
                ),
                "{bad}"
            );
        }
        let ok = Bucket::open_with("s3://capsules/qlp/", Default::default()).unwrap();
        assert_eq!(ok.url(), "s3://capsules/qlp");
    }
}
