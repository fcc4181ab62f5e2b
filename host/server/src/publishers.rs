//! Publisher credentials: who may publish and yank packages through the
//! registry API (`POST /v1/registry/packages`, `…/yank`).
//!
//! The operator keeps them in a TOML file (`qlp serve --publishers FILE`):
//!
//! ```toml
//! [[publisher]]
//! name = "acme-ci"
//! namespaces = ["acme/*"]
//! token_blake3 = "…64 hex digits…"
//! ```
//!
//! Only the blake3 hash of each token is stored; `qlp publisher add`
//! generates a token, prints it once and appends its hash. A request's
//! bearer token is hashed and compared with every publisher's hash in
//! constant time. The token says who publishes; the trust policy still
//! decides, from the signatures, whether the package may be stored.

use std::path::Path;

use anyhow::{Context, bail};
use qlp_registry::NamePattern;
use serde::{Deserialize, Serialize};

/// Largest publishers file read: a few hundred publishers fit in far less.
pub const MAX_PUBLISHERS_FILE_BYTES: u64 = 1024 * 1024;

/// Random bytes in a generated token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// Every generated token starts with this, so it is recognisable in a
/// secret scanner or a leaked log.
pub const TOKEN_PREFIX: &str = "qlpp_";

/// One publisher: a name for the logs, the namespaces it may publish, and
/// the hash of its token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    pub name: String,
    pub namespaces: Vec<NamePattern>,
    /// blake3 of the token, 64 hex digits.
    token_blake3: String,
}

impl Publisher {
    /// Whether this publisher may publish or yank `package`.
    pub fn may_publish(&self, package: &str) -> bool {
        self.namespaces.iter().any(|p| p.matches(package))
    }

    /// The namespaces, for messages.
    pub fn namespaces_text(&self) -> String {
        self.namespaces
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    publisher: Vec<Publisher>,
}

/// The publishers a server accepts; empty when `--publishers` is not given,
/// and then nothing can be published or yanked through the API.
#[derive(Debug, Default, Clone)]
pub struct Publishers {
    list: Vec<(Publisher, blake3::Hash)>,
}

impl Publishers {
    /// Parses a publishers file.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let file: File = toml::from_str(text).context("invalid publishers file")?;
        let mut list = Vec::new();
        for p in file.publisher {
            if p.name.trim().is_empty() {
                bail!("a publisher has an empty name");
            }
            if list.iter().any(|(q, _): &(Publisher, _)| q.name == p.name) {
                bail!("publisher `{}` is listed twice", p.name);
            }
            if p.namespaces.is_empty() {
                bail!("publisher `{}` may publish no namespace", p.name);
            }
            let hash = blake3::Hash::from_hex(&p.token_blake3).map_err(|_| {
                anyhow::anyhow!("publisher `{}`: token_blake3 is not 64 hex digits", p.name)
            })?;
            list.push((p, hash));
        }
        Ok(Self { list })
    }

    /// Reads a publishers file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = read_limited(path)?;
        Self::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The publisher holding `token`, if any. Every hash is compared, each
    /// in constant time (`blake3::Hash`'s equality), so timing tells
    /// nothing about which hash, or how much of it, matched.
    pub fn authenticate(&self, token: &str) -> Option<&Publisher> {
        let hash = blake3::hash(token.as_bytes());
        let mut found = None;
        for (publisher, expected) in &self.list {
            if *expected == hash && found.is_none() {
                found = Some(publisher);
            }
        }
        found
    }
}

fn read_limited(path: &Path) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_PUBLISHERS_FILE_BYTES {
        bail!(
            "{} is over the {MAX_PUBLISHERS_FILE_BYTES}-byte limit",
            path.display()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A new random token.
pub fn generate_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system random number generator failed: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{TOKEN_PREFIX}{hex}"))
}

/// `qlp publisher add`: generates a token for a new publisher, appends the
/// publisher with the token's hash to `path` (created if absent, mode
/// 0600) and returns the token, which is stored nowhere.
pub fn add(path: &Path, name: &str, namespaces: &[String]) -> anyhow::Result<String> {
    let existing = match std::fs::metadata(path) {
        Ok(_) => read_limited(path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let publishers =
        Publishers::from_toml(&existing).with_context(|| format!("in {}", path.display()))?;
    if publishers.list.iter().any(|(p, _)| p.name == name) {
        bail!("publisher `{name}` is already in {}", path.display());
    }
    let patterns = namespaces
        .iter()
        .map(|n| {
            n.parse::<NamePattern>()
                .map_err(|e| anyhow::anyhow!("invalid namespace pattern `{n}`: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let token = generate_token()?;
    let entry = File {
        publisher: vec![Publisher {
            name: name.to_owned(),
            namespaces: patterns,
            token_blake3: blake3::hash(token.as_bytes()).to_hex().to_string(),
        }],
    };
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&toml::to_string(&entry).context("cannot write the publisher")?);
    // Check the whole file still parses before replacing it.
    Publishers::from_toml(&text)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_authenticates_its_publisher_and_no_other_token_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("publishers.toml");
        let acme = add(&file, "acme-ci", &["acme/*".to_owned()]).unwrap();
        let other = add(&file, "other", &["other/tool".to_owned()]).unwrap();
        assert!(acme.starts_with(TOKEN_PREFIX) && acme.len() == TOKEN_PREFIX.len() + 64);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&acme) && !text.contains(&other), "{text}");

        let publishers = Publishers::load(&file).unwrap();
        let p = publishers.authenticate(&acme).unwrap();
        assert_eq!(p.name, "acme-ci");
        assert!(p.may_publish("acme/rules") && !p.may_publish("other/tool"));
        assert_eq!(publishers.authenticate(&other).unwrap().name, "other");
        assert!(publishers.authenticate("qlpp_guess").is_none());
        assert!(publishers.authenticate("").is_none());

        let again = add(&file, "acme-ci", &["acme/*".to_owned()]).unwrap_err();
        assert!(again.to_string().contains("already"), "{again}");
    }

    #[test]
    fn a_malformed_file_is_refused_with_the_reason() {
        let bad_hash =
            "[[publisher]]\nname = \"a\"\nnamespaces = [\"a/*\"]\ntoken_blake3 = \"xyz\"\n";
        let e = Publishers::from_toml(bad_hash).unwrap_err();
        assert!(format!("{e:#}").contains("64 hex"), "{e:#}");
        let no_ns = format!(
            "[[publisher]]\nname = \"a\"\nnamespaces = []\ntoken_blake3 = \"{}\"\n",
            "0".repeat(64)
        );
        assert!(
            format!("{:#}", Publishers::from_toml(&no_ns).unwrap_err()).contains("no namespace")
        );
    }
}
