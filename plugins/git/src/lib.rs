//! QLP delivery `qlp/git`: commits the files of an artifact to a branch of
//! a git repository and pushes it over git's smart HTTP protocol. It runs
//! in WebAssembly, with no `git` and no sockets: it builds the objects
//! ([`object`]), writes the pack ([`pack`]) and speaks `receive-pack`
//! ([`push`], [`pktline`]) itself, through the host's `http` interface.
//!
//! **Artifact.** A `.tar.gz` (`application/gzip`) or `.zip`
//! (`application/zip`), unpacked in memory by the SDK's
//! `qlp_sdk::archive::unpack` within [`UNPACK_LIMITS`]; any other media
//! type gives `UNSUPPORTED_ARTIFACT`, a hostile or oversized archive
//! `INVALID_ARTIFACT` (absolute paths, `..`, a `.git` component, the same
//! path twice or a file that is also another file's directory, links,
//! devices and FIFOs). When every file sits under one top-level directory
//! (the `capsule-1234/` an exporter may add), that directory is stripped
//! unless `strip-root` is `false` — so a capsule whose files genuinely all
//! live in one directory needs `strip-root = false` to keep it.
//!
//! **Target.** `destination` is the repository's URL,
//! `http(s)://host[:port]/path/repo.git`, without credentials, query or
//! fragment (`INVALID_DESTINATION`). The branch is option `branch`, else
//! config `branch`, else `main` (a short name or `refs/heads/…`). When the
//! branch exists at H the new commit's parent is H and the push updates
//! H → C, so a push by someone else in between fails with `CONFLICT`;
//! when it does not, the commit has no parent and the branch is created.
//!
//! **Commit.** Author and committer are config `author-name` and
//! `author-email` (default `QLP <qlp@localhost>`), at host option
//! `qlp.created-at` (Unix seconds; 0 without it) in `+0000`. The message is
//! option `message`, else `QLP capsule <qlp.delivery-key>`, followed by the
//! trailers `QLP-Delivery: <qlp.delivery-key>` and
//! `QLP-Artifact-Blake3: <qlp.artifact-blake3>`. Nothing else goes in, so
//! the same artifact, options and parent give the same commit id.
//!
//! **Exactly once.** The push also creates
//! `refs/qlp/deliveries/<first 32 hex of blake3(qlp.delivery-key)>` → C,
//! in one atomic push with the branch when the server advertises `atomic`
//! (git does). If the advertisement already has that ref, the delivery was
//! made (a resumed intent after a crash): the receipt names its commit,
//! with `already-delivered = true`, and nothing is pushed. A server without
//! `atomic` gets the delivery ref in the same request, after the branch;
//! if the branch is refused but the ref was written, the ref is deleted
//! again. The window there: a crash between that push and the deletion
//! leaves a delivery ref for a commit that is on no branch, and a resumed
//! delivery then reports the delivery as made. A request whose answer is
//! lost (transport failure, 5xx) is retried from the advertisement, up to
//! [`MAX_ATTEMPTS`] times in all, so a push that did land is recognised by
//! its delivery ref rather than pushed twice.
//!
//! **Auth.** HTTP Basic with config `username` (default `qlp`) and secret
//! config `token`; without a token no `Authorization` header is sent. The
//! token never appears in a receipt, an error or a log line.
//!
//! **Errors.** 401/403 `AUTH_FAILED`; 404 `TARGET_NOT_FOUND`; transport
//! failures and 5xx (after the retries) and a remote the operator did
//! not grant `UNREACHABLE`; a ref refused as
//! stale, non-fast-forward or locked `CONFLICT`; `unpack <error>` or any
//! other refusal `PUSH_REJECTED` with the server's words; an answer that
//! is not git's smart protocol, or a repository using SHA-256,
//! `PROTOCOL_ERROR`; a pack beyond [`MAX_PACK_BYTES`] `TOO_LARGE`; a bad
//! option or configuration value `INVALID_OPTION`. Options named `qlp.…`
//! are the host's and read silently; other unknown options are ignored
//! with a warning.
//!
//! **Receipt.** Location `<url>#<branch>`; details `commit`, `branch`,
//! `files`, `delivery-ref` and `already-delivered` (`true`/`false`).

pub mod object;
pub mod pack;
pub mod pktline;
pub mod push;

use qlp_sdk::archive::unpack::{self, Format, Limits};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};
use qlp_sdk::delivery_kit::{ARTIFACT_BLAKE3, Options, flag, invalid_option};
use qlp_sdk::{Capability, PluginKind};

use crate::object::{FileEntry, Kind, Object, ObjectId, Signature};
use crate::pktline::RefStatus;
use crate::push::{Command, HostHttp, Remote, Transport};

pub use qlp_sdk::delivery_kit::HOST_OPTION_PREFIX;

/// Branch used when neither option nor config names one.
pub const DEFAULT_BRANCH: &str = "main";

/// Commit author and committer when the operator configures none.
pub const DEFAULT_AUTHOR_NAME: &str = "QLP";
pub const DEFAULT_AUTHOR_EMAIL: &str = "qlp@localhost";

/// HTTP Basic user name when the operator configures none (servers that
/// authenticate by token alone ignore it).
pub const DEFAULT_USERNAME: &str = "qlp";

/// Prefix of the refs that record which deliveries were made.
pub const DELIVERY_REF_PREFIX: &str = "refs/qlp/deliveries/";

/// Hex digits of blake3(delivery key) in a delivery ref's name: 128 bits,
/// short enough to read, far beyond any chance of two keys colliding.
pub const DELIVERY_REF_HEX: usize = 32;

/// Largest pack sent in one request: the host's cap on one request body.
/// Source trees compress well below it; incompressible artifacts beyond it
/// fail with `TOO_LARGE` instead of a refused request.
pub const MAX_PACK_BYTES: usize = 16 << 20;

/// What one artifact may unpack to: 64 MiB of files in all, any one of
/// them up to that (capsules are source trees, far below it, and the whole
/// of it, its objects and the pack live in the plugin's memory at once),
/// and 20 000 entries, so a pathological archive of empty entries cannot
/// cost unbounded time.
pub const UNPACK_LIMITS: Limits = Limits {
    max_entries: 20_000,
    max_file_bytes: 64 << 20,
    max_total_bytes: 64 << 20,
};

/// Advertisement-and-push rounds one delivery may take when an answer is
/// lost (transport failure or 5xx). Each round is at most three requests,
/// far within the host's per-call request cap.
pub const MAX_ATTEMPTS: usize = 3;

/// What `describe()` declares for HTTP: the registry wants a `host:port`,
/// but the remote is the operator's choice, so this only says that the
/// plugin needs HTTP. The operator grants the remote's real `host:port`
/// (`http = ["git.example.com:443"]` in the tiers file).
pub const DECLARED_HTTP: &str = "git-remote.invalid:443";

/// The secret configuration key holding the token.
pub const TOKEN_KEY: &str = "token";

/// Options this adapter reads; any other non-host option is warned about.
const KNOWN_OPTIONS: [&str; 3] = ["branch", "message", "strip-root"];

/// The delivery adapter.
pub struct Git;

impl Delivery for Git {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/git".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Delivery,
            description:
                "Commits an artifact's files to a branch of a git repository over smart HTTP."
                    .into(),
            capabilities: vec![
                Capability::Http(DECLARED_HTTP.into()),
                Capability::Secret(TOKEN_KEY.into()),
            ],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        // The token is a secret; everything else is configuration.
        let host = |key: &str| match key {
            TOKEN_KEY => qlp_sdk::secret(key),
            _ => qlp_sdk::config(key),
        };
        deliver_with(&mut HostHttp, &host, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(Git);

/// Everything a delivery needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The repository URL, without a trailing `/`.
    pub url: String,
    /// The short branch name.
    pub branch: String,
    /// Whether to strip a single top-level directory (the default).
    pub strip_root: bool,
    pub message: String,
    pub author: Signature,
    pub username: String,
    pub token: Option<String>,
    pub delivery_key: String,
}

impl Settings {
    /// `refs/heads/<branch>`.
    pub fn branch_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    /// `refs/qlp/deliveries/<first 32 hex of blake3(delivery key)>`.
    pub fn delivery_ref(&self) -> String {
        delivery_ref(&self.delivery_key)
    }
}

/// The ref recording the delivery with this key.
pub fn delivery_ref(delivery_key: &str) -> String {
    let hash = blake3::hash(delivery_key.as_bytes()).to_hex();
    format!("{DELIVERY_REF_PREFIX}{}", &hash[..DELIVERY_REF_HEX])
}

/// Reads and checks the destination, options and configuration.
pub fn settings(
    artifact: &Artifact,
    target: &DeliveryTarget,
    config: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, PluginError> {
    let url = check_url(&target.destination)?;
    let options = Options::new(target, &KNOWN_OPTIONS);
    let option = |key: &str| options.get(key).map(String::from);
    let branch = option("branch")
        .or_else(|| config("branch"))
        .unwrap_or_else(|| DEFAULT_BRANCH.into());
    let branch = branch
        .strip_prefix("refs/heads/")
        .unwrap_or(&branch)
        .to_string();
    if let Some(problem) = branch_problem(&branch) {
        return Err(invalid_option(format!("branch {branch:?} {problem}")));
    }
    let strip_root = flag(
        "`strip-root`",
        option("strip-root")
            .or_else(|| config("strip-root"))
            .as_deref(),
        true,
    )?;
    let delivery_key = options.delivery_key()?.to_string();
    // Trusted as the host's: it names the artifact in the commit trailer.
    let digest = option(ARTIFACT_BLAKE3)
        .unwrap_or_else(|| blake3::hash(&artifact.bytes).to_hex().to_string());
    let time = options.created_at()?.unwrap_or(0);
    let name = config("author-name").unwrap_or_else(|| DEFAULT_AUTHOR_NAME.into());
    let email = config("author-email").unwrap_or_else(|| DEFAULT_AUTHOR_EMAIL.into());
    for (key, value) in [("author-name", &name), ("author-email", &email)] {
        if value.trim().is_empty() || value.contains(['<', '>', '\n', '\0']) {
            return Err(invalid_option(format!(
                "config `{key}` must be non-empty, without `<`, `>`, newlines or NUL, not {value:?}"
            )));
        }
    }
    let username = config("username").unwrap_or_else(|| DEFAULT_USERNAME.into());
    if username.contains(':') || username.chars().any(char::is_control) {
        return Err(invalid_option(
            "config `username` must not contain `:` or control characters",
        ));
    }
    let token = config(TOKEN_KEY).filter(|t| !t.is_empty());
    if token
        .as_deref()
        .is_some_and(|t| t.chars().any(char::is_control))
    {
        return Err(invalid_option(
            "config `token` contains a control character",
        ));
    }
    let message = commit_message(option("message").as_deref(), &delivery_key, &digest);
    if message.contains('\0') {
        return Err(invalid_option("option `message` contains a NUL byte"));
    }
    Ok(Settings {
        url,
        branch,
        strip_root,
        message,
        author: Signature {
            name: name.trim().into(),
            email: email.trim().into(),
            time,
        },
        username,
        token,
        delivery_key,
    })
}

/// The commit message: the given one (or `QLP capsule <key>`), a blank
/// line and the delivery trailers.
pub fn commit_message(message: Option<&str>, delivery_key: &str, digest: &str) -> String {
    let subject = match message.map(str::trim_end).filter(|m| !m.trim().is_empty()) {
        Some(message) => message.to_string(),
        None => format!("QLP capsule {delivery_key}"),
    };
    format!("{subject}\n\nQLP-Delivery: {delivery_key}\nQLP-Artifact-Blake3: {digest}\n")
}

/// The destination as a push URL: `http://` or `https://`, a host, no
/// credentials, query or fragment; the trailing `/` removed.
pub fn check_url(destination: &str) -> Result<String, PluginError> {
    let bad = |why: &str| PluginError::new("INVALID_DESTINATION", why.to_string());
    let lower = destination.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &destination["http://".len()..]
    } else if lower.starts_with("https://") {
        &destination["https://".len()..]
    } else {
        return Err(bad(&format!(
            "destination {destination:?} must be an http:// or https:// repository URL"
        )));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        // Not quoted: what precedes the `@` may be a password.
        return Err(bad(
            "the destination URL must not carry credentials; configure `username` and `token` instead",
        ));
    }
    if authority.is_empty() {
        return Err(bad(&format!("destination {destination:?} has no host")));
    }
    if destination.contains(['?', '#'])
        || destination
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(&format!(
            "destination {destination:?} must have no query, fragment or spaces"
        )));
    }
    Ok(destination.trim_end_matches('/').to_string())
}

/// Why a branch name is not one git accepts (`git check-ref-format`), if
/// it is not.
pub fn branch_problem(branch: &str) -> Option<&'static str> {
    if branch.is_empty() {
        return Some("is empty");
    }
    if branch == "@" || branch.contains("@{") {
        return Some("contains `@{` or is `@`");
    }
    if branch.contains("..") || branch.contains("//") {
        return Some("contains `..` or `//`");
    }
    if branch.starts_with('/')
        || branch.ends_with('/')
        || branch.ends_with('.')
        || branch.starts_with('-')
    {
        return Some("starts or ends with `/`, ends with `.` or starts with `-`");
    }
    if branch
        .chars()
        .any(|c| c.is_control() || c == ' ' || "~^:?*[\\".contains(c))
    {
        return Some("contains a space, a control character or one of ~^:?*[\\");
    }
    if branch
        .split('/')
        .any(|part| part.starts_with('.') || part.ends_with(".lock"))
    {
        return Some("has a component starting with `.` or ending with `.lock`");
    }
    None
}

/// The artifact's files, unpacked and with the root directory stripped
/// when asked. Beyond [`UNPACK_LIMITS`] is `INVALID_ARTIFACT` here, as this
/// adapter has always said, where the SDK says `ARTIFACT_TOO_LARGE`.
pub fn files_of(artifact: &Artifact, strip_root: bool) -> Result<Vec<FileEntry>, PluginError> {
    if Format::of(artifact).is_none() {
        return Err(PluginError::new(
            "UNSUPPORTED_ARTIFACT",
            format!(
                "{:?} ({}) is neither a .tar.gz nor a .zip",
                artifact.file_name, artifact.media_type
            ),
        ));
    }
    let mut files = unpack::unpack(artifact, &UNPACK_LIMITS).map_err(|mut error| {
        if error.code == "ARTIFACT_TOO_LARGE" {
            error.code = "INVALID_ARTIFACT".into();
        }
        error
    })?;
    if strip_root {
        unpack::strip_root(&mut files);
    }
    Ok(files)
}

/// Whether a refusal reason from `receive-pack` means the ref moved or is
/// held by someone else (as opposed to a policy refusal).
pub fn is_conflict(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "non-fast-forward",
        "fetch first",
        "stale",
        "lock",
        "failed to update ref",
        "atomic",
        "already exists",
        "expected",
    ]
    .iter()
    .any(|word| reason.contains(word))
}

/// Delivers the artifact through `transport`, with configuration from
/// `config` (in production the host's configuration, and its secret for
/// [`TOKEN_KEY`]).
pub fn deliver_with(
    transport: &mut impl Transport,
    config: &dyn Fn(&str) -> Option<String>,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    let settings = settings(artifact, target, config)?;
    let files = files_of(artifact, settings.strip_root)?;
    let (tree, objects) = object::build_tree(&files);
    let mut remote = Remote::new(
        transport,
        &settings.url,
        &settings.username,
        settings.token.as_deref(),
    );
    let branch_ref = settings.branch_ref();
    let delivery_ref = settings.delivery_ref();
    let receipt = |commit: ObjectId, already: bool| Receipt {
        location: format!("{}#{}", settings.url, settings.branch),
        details: vec![
            ("commit".into(), commit.hex()),
            ("branch".into(), settings.branch.clone()),
            ("files".into(), files.len().to_string()),
            ("delivery-ref".into(), delivery_ref.clone()),
            ("already-delivered".into(), already.to_string()),
        ],
    };
    // Commits this call pushed; one found under the delivery ref after a
    // lost answer is this delivery's own, not an earlier one.
    let mut pushed: Vec<ObjectId> = Vec::new();
    let mut last_error = None;
    for _ in 0..MAX_ATTEMPTS {
        let advertisement = match remote.advertisement() {
            Ok(advertisement) => advertisement,
            Err(e) if e.code == "UNREACHABLE" && !push::is_not_granted(&e) => {
                last_error = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(format) = advertisement.value("object-format")
            && format != "sha1"
        {
            return Err(PluginError::new(
                "PROTOCOL_ERROR",
                format!(
                    "{} uses {format} object ids; only sha1 is supported",
                    settings.url
                ),
            ));
        }
        if let Some(commit) = advertisement.refs.get(&delivery_ref) {
            let already = !pushed.contains(commit);
            qlp_sdk::log::info(
                if already {
                    "artifact already delivered"
                } else {
                    "artifact delivered"
                },
                &[
                    ("url", &settings.url),
                    ("branch", &settings.branch),
                    ("commit", &commit.hex()),
                ],
            );
            return Ok(receipt(*commit, already));
        }
        if !advertisement.has("report-status") {
            return Err(PluginError::new(
                "PROTOCOL_ERROR",
                format!(
                    "{} does not report push results (no report-status)",
                    settings.url
                ),
            ));
        }
        let parent = advertisement.refs.get(&branch_ref).copied();
        let commit = Object {
            kind: Kind::Commit,
            content: object::commit_content(
                tree,
                parent,
                &settings.author,
                &settings.author,
                &settings.message,
            ),
        };
        let commit_id = commit.id();
        let mut all: Vec<&Object> = objects.iter().collect();
        all.push(&commit);
        let pack = pack::write_pack(&all);
        if pack.len() > MAX_PACK_BYTES {
            return Err(PluginError::new(
                "TOO_LARGE",
                format!(
                    "the pack is {} bytes, more than the {MAX_PACK_BYTES} one request may carry",
                    pack.len()
                ),
            ));
        }
        let atomic = advertisement.has("atomic");
        let mut capabilities = vec!["report-status"];
        if atomic {
            capabilities.push("atomic");
        }
        let commands = [
            Command {
                old: parent.unwrap_or(ObjectId::ZERO),
                new: commit_id,
                name: branch_ref.clone(),
            },
            Command {
                old: ObjectId::ZERO,
                new: commit_id,
                name: delivery_ref.clone(),
            },
        ];
        pushed.push(commit_id);
        let report = match remote.push(&commands, &capabilities, Some(&pack)) {
            Ok(report) => report,
            Err(e) if e.code == "UNREACHABLE" && !push::is_not_granted(&e) => {
                last_error = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(error) = &report.unpack_error {
            return Err(PluginError::new(
                "PUSH_REJECTED",
                remote.redact(&format!(
                    "{} could not unpack the push: {error}",
                    settings.url
                )),
            ));
        }
        match report.refs.get(&branch_ref) {
            Some(RefStatus::Ok) => {}
            Some(RefStatus::Rejected(reason)) => {
                // In an atomic push git refuses every ref when one fails;
                // the branch then only says so, and the cause is on the
                // delivery ref.
                let reason = match report.refs.get(&delivery_ref) {
                    Some(RefStatus::Rejected(cause)) if reason.contains("atomic push failure") => {
                        cause
                    }
                    _ => reason,
                };
                if !atomic && report.refs.get(&delivery_ref) == Some(&RefStatus::Ok) {
                    roll_back(&mut remote, commit_id, &delivery_ref, &advertisement);
                }
                let code = if is_conflict(reason) {
                    "CONFLICT"
                } else {
                    "PUSH_REJECTED"
                };
                let hint = if code == "CONFLICT" {
                    " (the branch moved since it was read; deliver again to build on the new head)"
                } else {
                    ""
                };
                return Err(PluginError::new(
                    code,
                    remote.redact(&format!(
                        "{} refused {branch_ref}: {reason}{hint}",
                        settings.url
                    )),
                ));
            }
            None => {
                return Err(PluginError::new(
                    "PROTOCOL_ERROR",
                    format!("{} reported nothing about {branch_ref}", settings.url),
                ));
            }
        }
        if let Some(RefStatus::Rejected(reason)) = report.refs.get(&delivery_ref) {
            // The commit is on the branch: failing now would make the host
            // deliver again and commit twice.
            qlp_sdk::log::warn(
                "the delivery ref was refused; a repeated delivery will commit again",
                &[("ref", &delivery_ref), ("reason", &remote.redact(reason))],
            );
        }
        qlp_sdk::log::info(
            "artifact delivered",
            &[
                ("url", &settings.url),
                ("branch", &settings.branch),
                ("commit", &commit_id.hex()),
                ("files", &files.len().to_string()),
            ],
        );
        return Ok(receipt(commit_id, false));
    }
    Err(last_error.unwrap_or_else(|| {
        PluginError::new(
            "UNREACHABLE",
            format!("{} could not be reached", settings.url),
        )
    }))
}

/// After a non-atomic push whose branch update failed, deletes the delivery
/// ref it created so that a later delivery is not taken as done. Best
/// effort: a failure is logged.
fn roll_back<T: Transport>(
    remote: &mut Remote<'_, T>,
    commit: ObjectId,
    delivery_ref: &str,
    advertisement: &pktline::Advertisement,
) {
    let mut capabilities = vec!["report-status"];
    if advertisement.has("delete-refs") {
        capabilities.push("delete-refs");
    }
    let command = Command {
        old: commit,
        new: ObjectId::ZERO,
        name: delivery_ref.to_string(),
    };
    let deleted = remote
        .push(&[command], &capabilities, None)
        .map(|report| report.refs.get(delivery_ref) == Some(&RefStatus::Ok));
    if !matches!(deleted, Ok(true)) {
        qlp_sdk::log::warn(
            "could not delete the delivery ref of a refused push",
            &[("ref", delivery_ref)],
        );
    }
}

#[cfg(test)]
mod tests;
