//! QLP delivery `qlp/s3`: uploads an artifact to a bucket of Amazon S3 or
//! of any S3-compatible server (MinIO, Ceph RGW, Garage, …) at
//! `<destination>/<file name>`, signed with AWS Signature V4
//! ([`sigv4`]), through the host's `http` interface ([`client`]).
//!
//! # Configuration (`[plugins."qlp/s3"] config = { … }` in the tiers file)
//!
//! | key | meaning |
//! |---|---|
//! | `endpoint` | `http(s)://host[:port]` of the server, e.g. `http://127.0.0.1:9000`; required. The operator also grants `host:port` in `http = [...]`. |
//! | `bucket` | The bucket, unless the target names one. |
//! | `region` | The region signed for; `us-east-1` when absent. |
//! | `virtual-hosted` | `true` for `bucket.host` URLs (whose host is then the one to grant); `false`, the default, for path-style `host/bucket/key`. |
//! | `access-key-id`, `secret-access-key` | The access key: secrets the operator grants (`secrets = { … = "env:…" }`), both required (`MISSING_SECRET`). They are read only to sign and never logged, quoted in an error or put in a receipt. |
//! | `session-token` | For temporary credentials. |
//! | `multipart-threshold` | Artifacts over this many bytes go in parts; default 8 MiB. |
//! | `part-size` | Bytes per part; default 8 MiB. |
//! | `checksum-sha256` | `false` stops sending `x-amz-checksum-sha256`, for servers that refuse it; default `true`. |
//!
//! Sizes are from S3's 5 MiB minimum part to the host's 16 MiB cap on one
//! request body; missing or malformed values are `INVALID_OPTION`.
//!
//! The access key needs `s3:PutObject`, `s3:GetObject` (its `HEAD`) and
//! `s3:ListBucket` (without it S3 answers a missing key with 403, not 404),
//! and for multipart uploads `s3:ListBucketMultipartUploads` and
//! `s3:AbortMultipartUpload`.
//!
//! # Target
//!
//! The `destination` is the key prefix: empty for the bucket's root, else
//! `/`-separated segments that are neither empty, `.` nor `..`, without a
//! leading `/`, backslashes or control characters (`INVALID_DESTINATION`);
//! the object key is `<prefix>/<file name>`, the file name one such segment
//! (`INVALID_FILE_NAME`). Options: `bucket` (over the configured one),
//! `overwrite` = `true` or `false` (the default), `storage-class` (one of
//! S3's, e.g. `STANDARD_IA`) and `virtual-hosted`; bad values are
//! `INVALID_OPTION`. Options named `qlp.…` come from the host, and others
//! are ignored with a warning.
//!
//! # What a delivery does
//!
//! 1. One unsigned `HEAD` of the bucket, for the server's `Date`: a
//!    WebAssembly plugin has no clock, and the server's time is the one a
//!    signature must agree with (S3 allows 15 minutes of skew, less than an
//!    intent may run). A server sending no `Date` is signed for at the
//!    intent's creation time, `qlp.created-at`.
//! 2. `HEAD` of the key. When the object is there with the artifact's size
//!    and blake3 (kept as `x-amz-meta-qlp-blake3`) it was delivered before,
//!    by a run resumed after a crash between the upload and the host's
//!    record of it: the delivery succeeds with the same receipt and uploads
//!    nothing. With other content it fails with `CONFLICT` unless
//!    `overwrite` is `true`.
//! 3. Up to `multipart-threshold`, one `PUT`; beyond, a multipart upload
//!    (parts of `part-size`, grown to keep within [`MAX_PARTS`]) after
//!    aborting the key's unfinished uploads left by a crashed attempt; a
//!    failed upload is aborted. Every body is sent with its SHA-256 (signed
//!    in `x-amz-content-sha256`, and as `x-amz-checksum-sha256`) and MD5
//!    (`Content-MD5`), which the server checks. Without `overwrite` the
//!    write is conditional (`If-None-Match: *`), so two deliveries racing
//!    cannot both write.
//! 4. `HEAD` again: size, blake3 and, unless the object is encrypted with
//!    KMS or a customer key, the ETag (the MD5 of the bytes, or of the
//!    parts' MD5s for a multipart upload) must be the artifact's, else
//!    `DIGEST_MISMATCH` (and the object is removed).
//!
//! Each request is tried up to [`client::MAX_ATTEMPTS`] times on a
//! transport failure or a 5xx, with a short backoff where the build can
//! wait (natively; inside WebAssembly at once), all within the host's 64
//! requests of one call.
//!
//! The receipt's location is `s3://<bucket>/<key>`; its details are
//! `bytes`, `etag`, `media-type`, `parts` (1 for one `PUT`), `endpoint`,
//! `bucket`, `key`, `blake3` and, on a versioned bucket, `version-id`.
//!
//! # Errors
//!
//! | code | when |
//! |---|---|
//! | `INVALID_OPTION` | a configuration key or target option is missing or malformed, or no bucket is named |
//! | `INVALID_DESTINATION`, `INVALID_FILE_NAME` | the key prefix or artifact name is unusable |
//! | `MISSING_SECRET` | `access-key-id` or `secret-access-key` is not granted: nothing is sent unsigned |
//! | `AUTH_FAILED` | 401/403: `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `AccessDenied`, expired token, clock skew |
//! | `TARGET_NOT_FOUND` | `NoSuchBucket`, or the bucket is in another region or behind another endpoint |
//! | `CONFLICT` | the key holds other content and `overwrite` is not `true`, or a conditional write lost a race |
//! | `DIGEST_MISMATCH` | the server refused a body's digest, or what it stored is not the artifact |
//! | `UNREACHABLE` | the connection failed (host not granted, refused, timed out) or the server answered 5xx, on every try |
//! | `TOO_LARGE` | the artifact needs parts over 16 MiB ([`MAX_PARTS`] × 16 MiB at most) |
//! | `REJECTED` | any other refusal |
//!
//! Messages quote S3's error code and message from the XML body, never a
//! request header, so never a credential.

pub mod client;
pub mod settings;
pub mod sigv4;

use base64::Engine as _;
use md5::{Digest, Md5};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, PluginInfo, Receipt};
use qlp_sdk::http::Response;
use qlp_sdk::{Capability, PluginKind};
use sha2::Sha256;

use client::{Call, Client, HostHttp, Transport, header, refusal, success, xml_blocks, xml_text};
use settings::{Plan, Settings};

/// Most parts of one multipart upload. With the time probe, the two or
/// three `HEAD`s, the listing, [`MAX_STALE_ABORTS`], the initiation, the
/// completion and an abort or removal on failure (11 requests), it leaves
/// 13 of [`client::MAX_REQUESTS`] for retries. The part size grows to keep
/// an artifact within it, up to [`settings::MAX_BODY`]: 640 MiB at most.
pub const MAX_PARTS: u64 = 40;

/// Unfinished uploads of the key aborted before a new multipart upload.
pub const MAX_STALE_ABORTS: usize = 2;

/// The user metadata keeping an object's blake3, as `HEAD` returns it.
pub const DIGEST_HEADER: &str = "x-amz-meta-qlp-blake3";

/// The delivery adapter.
pub struct S3;

impl Delivery for S3 {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "qlp/s3".into(),
            version: "0.1.0".into(),
            kind: PluginKind::Delivery,
            description: "Uploads artifacts to an S3-compatible bucket.".into(),
            capabilities: vec![
                // The operator grants the endpoint's own `host:port`; this
                // only asks for outbound HTTP.
                Capability::Http("s3.invalid:443".into()),
                Capability::Secret(settings::KEY_ID_KEY.into()),
                Capability::Secret(settings::SECRET_KEY.into()),
            ],
        }
    }

    fn deliver(artifact: Artifact, target: DeliveryTarget) -> Result<Receipt, PluginError> {
        // The access key is secret; everything else is configuration.
        let settings = Settings::from_config(|key| match key {
            settings::KEY_ID_KEY | settings::SECRET_KEY => qlp_sdk::secret(key),
            _ => qlp_sdk::config(key),
        })?;
        deliver_with(&mut HostHttp, &settings, &artifact, &target)
    }
}

qlp_sdk::export_delivery!(S3);

/// What is uploaded, with the digests the checks compare.
struct Upload<'a> {
    bytes: &'a [u8],
    media_type: String,
    blake3: String,
    /// Bytes per part; the whole artifact when it goes in one `PUT`.
    part_size: usize,
    /// Whether it goes in parts: over `multipart-threshold`.
    multipart: bool,
    /// Whether bodies carry `x-amz-checksum-sha256`.
    checksum: bool,
}

impl Upload<'_> {
    /// The parts the upload sends: 1 for one `PUT`.
    fn parts(&self) -> usize {
        if self.multipart {
            self.bytes.len().div_ceil(self.part_size)
        } else {
            1
        }
    }
}

/// An object as `HEAD` describes it.
#[derive(Debug)]
struct Stored {
    length: Option<u64>,
    blake3: Option<String>,
    etag: String,
    version_id: Option<String>,
    /// Encrypted with KMS or a customer key: the ETag is not an MD5.
    opaque_etag: bool,
}

impl Stored {
    /// Whether the object is the artifact, uploaded before: [`verify`]
    /// passes, where an ETag of another part count is not compared (the
    /// operator may have changed `part-size` since).
    fn holds(&self, upload: &Upload<'_>) -> bool {
        let other_parts = part_count(&self.etag) != part_count(&expected_etag(upload));
        let checked = Stored {
            opaque_etag: self.opaque_etag || other_parts,
            length: self.length,
            blake3: self.blake3.clone(),
            etag: self.etag.clone(),
            version_id: None,
        };
        verify(&checked, upload).is_ok()
    }
}

/// The part count an ETag ends with (`…-3`), if any.
fn part_count(etag: &str) -> Option<&str> {
    etag.split_once('-').map(|(_, parts)| parts)
}

/// Delivers `artifact` with `settings` through `transport`.
pub fn deliver_with(
    transport: &mut impl Transport,
    settings: &Settings,
    artifact: &Artifact,
    target: &DeliveryTarget,
) -> Result<Receipt, PluginError> {
    let plan = settings::plan(
        settings,
        &artifact.file_name,
        &target.destination,
        &target.options,
    )?;
    let in_parts = artifact.bytes.len() as u64 > settings.multipart_threshold;
    let upload = Upload {
        bytes: &artifact.bytes,
        media_type: content_type(&artifact.media_type),
        blake3: blake3::hash(&artifact.bytes).to_hex().to_string(),
        part_size: if in_parts {
            part_size(settings.part_size, artifact.bytes.len())?
        } else {
            artifact.bytes.len()
        },
        multipart: in_parts,
        checksum: settings.checksum,
    };
    if let Some(expected) = &plan.expected_blake3
        && *expected != upload.blake3
    {
        return Err(PluginError::new(
            "DIGEST_MISMATCH",
            format!(
                "the artifact's blake3 is {}, not the {expected} the host gave",
                upload.blake3
            ),
        ));
    }
    let mut client = Client::connect(transport, settings, &plan)?;
    let bytes = upload.bytes.len().to_string();
    let fields = [
        ("bucket", plan.bucket.as_str()),
        ("key", plan.key.as_str()),
        ("bytes", bytes.as_str()),
    ];
    if let Some(stored) = head(&mut client, &plan.key)? {
        if stored.holds(&upload) {
            qlp_sdk::log::info("artifact already delivered", &fields);
            return Ok(receipt(settings, &plan, &upload, &stored));
        }
        if !plan.overwrite {
            return Err(PluginError::new(
                "CONFLICT",
                format!(
                    "s3://{}/{} already holds other content; set option `overwrite` to `true` to replace it",
                    plan.bucket, plan.key
                ),
            ));
        }
    }
    let written = if upload.multipart {
        multipart(&mut client, &plan, &upload)
    } else {
        put(&mut client, &plan, &upload)
    };
    match written {
        Ok(()) => {}
        // The conditional write found the key taken since the first HEAD:
        // by this very delivery in a concurrent attempt, or by another.
        Err(e) if e.code == "CONFLICT" && !plan.overwrite => {
            if let Some(stored) = head(&mut client, &plan.key)?
                && stored.holds(&upload)
            {
                qlp_sdk::log::info("artifact already delivered", &fields);
                return Ok(receipt(settings, &plan, &upload, &stored));
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    }
    let stored = head(&mut client, &plan.key)?.ok_or_else(|| {
        PluginError::new(
            "DIGEST_MISMATCH",
            format!(
                "s3://{}/{} is missing after its upload",
                plan.bucket, plan.key
            ),
        )
    })?;
    if let Err(e) = verify(&stored, &upload) {
        // What this delivery wrote is not the artifact: removed, so that it
        // is neither used nor taken for a delivery by the next attempt.
        let removed = client.send(Call::new("DELETE", Some(&plan.key)));
        if !removed.as_ref().is_ok_and(success) {
            qlp_sdk::log::warn("mismatching object not removed", &fields);
        }
        return Err(e);
    }
    qlp_sdk::log::info("artifact delivered", &fields);
    Ok(receipt(settings, &plan, &upload, &stored))
}

/// The configured part size, grown so that no artifact needs more than
/// [`MAX_PARTS`] parts; `TOO_LARGE` when that would take parts over
/// [`settings::MAX_BODY`].
fn part_size(configured: u64, length: usize) -> Result<usize, PluginError> {
    let needed = (length as u64).div_ceil(MAX_PARTS);
    let size = configured.max(needed);
    if size > settings::MAX_BODY {
        return Err(PluginError::new(
            "TOO_LARGE",
            format!(
                "the artifact has {length} bytes; one delivery uploads at most {} ({MAX_PARTS} parts of {} bytes)",
                MAX_PARTS * settings::MAX_BODY,
                settings::MAX_BODY
            ),
        ));
    }
    Ok(usize::try_from(size).unwrap_or(usize::MAX))
}

/// `x-amz-checksum-sha256`'s value: the body's SHA-256 in base64.
fn checksum_sha256(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(<Sha256 as sha2::Digest>::digest(body))
}

/// The artifact's media type as `Content-Type`, when it is a plain
/// printable ASCII value.
fn content_type(media_type: &str) -> String {
    let printable = !media_type.is_empty()
        && media_type.len() <= 255
        && media_type.bytes().all(|b| (b' '..=b'~').contains(&b));
    if printable {
        media_type.into()
    } else {
        "application/octet-stream".into()
    }
}

/// The object at `key`, or `None` when there is none.
fn head<T: Transport>(
    client: &mut Client<'_, T>,
    key: &str,
) -> Result<Option<Stored>, PluginError> {
    let response = client.send(Call::new("HEAD", Some(key)))?;
    if response.status == 404 {
        return Ok(None);
    }
    if !success(&response) {
        return Err(refusal("HEAD object", &response));
    }
    let encryption = header(&response, "x-amz-server-side-encryption").unwrap_or_default();
    Ok(Some(Stored {
        length: header(&response, "content-length").and_then(|v| v.parse().ok()),
        blake3: header(&response, DIGEST_HEADER).map(str::to_ascii_lowercase),
        etag: header(&response, "etag")
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned(),
        version_id: header(&response, "x-amz-version-id").map(str::to_owned),
        opaque_etag: encryption.starts_with("aws:kms")
            || header(&response, "x-amz-server-side-encryption-customer-algorithm").is_some(),
    }))
}

/// Headers every write of the object carries.
fn object_headers(call: Call, plan: &Plan, upload: &Upload<'_>) -> Call {
    let mut call = call
        .header("content-type", &upload.media_type)
        .header(DIGEST_HEADER, &upload.blake3);
    if let Some(class) = &plan.storage_class {
        call = call.header("x-amz-storage-class", class);
    }
    if plan.overwrite {
        call
    } else {
        call.header("if-none-match", "*")
    }
}

/// One `PUT` of the whole artifact.
fn put<T: Transport>(
    client: &mut Client<'_, T>,
    plan: &Plan,
    upload: &Upload<'_>,
) -> Result<(), PluginError> {
    let mut call = Call::new("PUT", Some(&plan.key))
        .header("content-md5", &base64(&Md5::digest(upload.bytes)))
        .body(upload.bytes.to_vec());
    if upload.checksum {
        call = call.header("x-amz-checksum-sha256", &checksum_sha256(upload.bytes));
    }
    let response = client.send(object_headers(call, plan, upload))?;
    if success(&response) {
        Ok(())
    } else {
        Err(refusal("PUT object", &response))
    }
}

/// A multipart upload; aborted when a part or the completion fails.
fn multipart<T: Transport>(
    client: &mut Client<'_, T>,
    plan: &Plan,
    upload: &Upload<'_>,
) -> Result<(), PluginError> {
    abort_stale(client, &plan.key)?;
    let mut call = Call::new("POST", Some(&plan.key)).query("uploads", "");
    if upload.checksum {
        call = call.header("x-amz-checksum-algorithm", "SHA256");
    }
    let response = client.send(object_headers(call, plan, upload))?;
    if !success(&response) {
        return Err(refusal("CreateMultipartUpload", &response));
    }
    let body = String::from_utf8_lossy(&response.body);
    let upload_id = xml_text(&body, "UploadId").ok_or_else(|| {
        PluginError::new(
            "REJECTED",
            "CreateMultipartUpload: the answer has no UploadId",
        )
    })?;
    let result = upload_parts(client, plan, upload, &upload_id);
    if result.is_err() {
        let abort = Call::new("DELETE", Some(&plan.key)).query("uploadId", &upload_id);
        if let Err(e) = client.send(abort) {
            qlp_sdk::log::warn("failed upload not aborted", &[("error", &e.message)]);
        }
    }
    result
}

/// The parts, then the completion.
fn upload_parts<T: Transport>(
    client: &mut Client<'_, T>,
    plan: &Plan,
    upload: &Upload<'_>,
    upload_id: &str,
) -> Result<(), PluginError> {
    let mut completion = String::from("<CompleteMultipartUpload>");
    for (i, part) in upload.bytes.chunks(upload.part_size).enumerate() {
        let number = (i + 1).to_string();
        let checksum = upload.checksum.then(|| checksum_sha256(part));
        let mut call = Call::new("PUT", Some(&plan.key))
            .query("partNumber", &number)
            .query("uploadId", upload_id)
            .header("content-md5", &base64(&Md5::digest(part)))
            .body(part.to_vec());
        if let Some(checksum) = &checksum {
            call = call.header("x-amz-checksum-sha256", checksum);
        }
        let response = client.send(call)?;
        if !success(&response) {
            return Err(refusal(&format!("UploadPart {number}"), &response));
        }
        let etag = header(&response, "etag").ok_or_else(|| {
            PluginError::new(
                "REJECTED",
                format!("UploadPart {number}: no ETag in the answer"),
            )
        })?;
        let checksum = checksum
            .map(|c| format!("<ChecksumSHA256>{c}</ChecksumSHA256>"))
            .unwrap_or_default();
        completion.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag>{checksum}</Part>",
            client::escape(etag)
        ));
    }
    completion.push_str("</CompleteMultipartUpload>");
    let mut call = Call::new("POST", Some(&plan.key))
        .query("uploadId", upload_id)
        .header("content-type", "application/xml")
        .body(completion.into_bytes());
    if !plan.overwrite {
        call = call.header("if-none-match", "*");
    }
    let response = client.send(call)?;
    // S3 may answer 200 and report the failure in the body.
    if !success(&response) || String::from_utf8_lossy(&response.body).contains("<Error>") {
        return Err(refusal("CompleteMultipartUpload", &errored(response)));
    }
    Ok(())
}

/// A 200 whose body is an `<Error>` read as the 500 it stands for.
fn errored(mut response: Response) -> Response {
    if success(&response) {
        response.status = 500;
    }
    response
}

/// Aborts the key's unfinished multipart uploads (a crashed attempt's), so
/// a delivery leaves one upload, never a stray one beside it. Without the
/// permission to list them the delivery goes on.
fn abort_stale<T: Transport>(client: &mut Client<'_, T>, key: &str) -> Result<(), PluginError> {
    let listing = Call::new("GET", None)
        .query("uploads", "")
        .query("prefix", key);
    let response = client.send(listing)?;
    if matches!(response.status, 401 | 403) {
        qlp_sdk::log::warn(
            "unfinished uploads not listed: access denied",
            &[("key", key)],
        );
        return Ok(());
    }
    if !success(&response) {
        return Err(refusal("ListMultipartUploads", &response));
    }
    let body = String::from_utf8_lossy(&response.body);
    let stale: Vec<String> = xml_blocks(&body, "Upload")
        .into_iter()
        .filter(|upload| xml_text(upload, "Key").as_deref() == Some(key))
        .filter_map(|upload| xml_text(upload, "UploadId"))
        .take(MAX_STALE_ABORTS)
        .collect();
    for upload_id in stale {
        let abort = Call::new("DELETE", Some(key)).query("uploadId", &upload_id);
        let response = client.send(abort)?;
        if !success(&response) && response.status != 404 {
            return Err(refusal("AbortMultipartUpload", &response));
        }
        qlp_sdk::log::info("unfinished upload aborted", &[("key", key)]);
    }
    Ok(())
}

/// Checks what the server stored against the artifact.
fn verify(stored: &Stored, upload: &Upload<'_>) -> Result<(), PluginError> {
    let mismatch = |what: String| Err(PluginError::new("DIGEST_MISMATCH", what));
    if stored.length != Some(upload.bytes.len() as u64) {
        return mismatch(format!(
            "the stored object has {:?} bytes, the artifact {}",
            stored.length,
            upload.bytes.len()
        ));
    }
    if stored.blake3.as_deref() != Some(upload.blake3.as_str()) {
        return mismatch("the stored object's blake3 is not the artifact's".into());
    }
    if !stored.opaque_etag && is_md5_etag(&stored.etag) && stored.etag != expected_etag(upload) {
        return mismatch(format!(
            "the stored object's ETag {} is not {}",
            stored.etag,
            expected_etag(upload)
        ));
    }
    Ok(())
}

/// S3's ETag of the upload: the MD5 of one `PUT`'s bytes, or the MD5 of the
/// parts' MD5s followed by `-` and the part count.
fn expected_etag(upload: &Upload<'_>) -> String {
    if !upload.multipart {
        return sigv4::hex(&Md5::digest(upload.bytes));
    }
    let mut md5s = Vec::new();
    let mut parts = 0;
    for part in upload.bytes.chunks(upload.part_size) {
        md5s.extend_from_slice(&Md5::digest(part));
        parts += 1;
    }
    format!("{}-{parts}", sigv4::hex(&Md5::digest(&md5s)))
}

/// Whether an ETag has the shape of S3's MD5-based ones; other servers'
/// ETags are not compared.
fn is_md5_etag(etag: &str) -> bool {
    let (hash, parts) = match etag.split_once('-') {
        Some((hash, parts)) => (hash, Some(parts)),
        None => (etag, None),
    };
    hash.len() == 32
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && parts.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn receipt(settings: &Settings, plan: &Plan, upload: &Upload<'_>, stored: &Stored) -> Receipt {
    let mut details = vec![
        ("endpoint".to_string(), settings.endpoint.url()),
        ("bucket".to_string(), plan.bucket.clone()),
        ("key".to_string(), plan.key.clone()),
        ("bytes".to_string(), upload.bytes.len().to_string()),
        ("media-type".to_string(), upload.media_type.clone()),
        ("blake3".to_string(), upload.blake3.clone()),
        ("etag".to_string(), stored.etag.clone()),
        ("parts".to_string(), parts(stored, upload)),
    ];
    if let Some(version) = &stored.version_id {
        details.push(("version-id".to_string(), version.clone()));
    }
    Receipt {
        location: format!("s3://{}/{}", plan.bucket, plan.key),
        details,
    }
}

/// The object's part count: from a multipart ETag's `-N` where the server
/// writes one (an object uploaded before with another part size), else the
/// upload's.
fn parts(stored: &Stored, upload: &Upload<'_>) -> String {
    match part_count(&stored.etag) {
        Some(n) if is_md5_etag(&stored.etag) => n.to_string(),
        _ => upload.parts().to_string(),
    }
}

/// Standard base64 with padding, for `Content-MD5`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
