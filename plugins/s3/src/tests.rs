//! Unit tests: Signature V4 against AWS's get-vanilla test vector and the S3
//! API reference's worked examples, configuration and target checks, and
//! the delivery's requests against a scripted server. `tests/moto.rs` runs
//! deliveries against a real S3-compatible server.

use std::collections::VecDeque;

use qlp_sdk::http::Request;

use super::*;
use crate::client::refusal_code;
use crate::settings::{Addressing, MIN_PART_SIZE, parse_endpoint, plan, prefix_problem};
use crate::sigv4::{Credentials, Unsigned, amz_date_from_http_date, authorization, uri_encode};

const SERVER_DATE: &str = "Sun, 06 Dec 2026 22:07:45 GMT";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A server that answers from a script and records what it was sent.
#[derive(Default)]
struct Scripted {
    answers: VecDeque<Result<Response, String>>,
    sent: Vec<Request>,
}

impl Scripted {
    fn new(answers: Vec<Result<Response, String>>) -> Self {
        Self {
            answers: answers.into(),
            sent: vec![],
        }
    }

    fn methods(&self) -> Vec<String> {
        self.sent
            .iter()
            .map(|r| {
                let query = r.url.split_once('?').map(|(_, q)| q).unwrap_or("");
                format!("{} {query}", r.method).trim().to_owned()
            })
            .collect()
    }
}

impl Transport for Scripted {
    fn fetch(&mut self, request: &Request) -> Result<Response, String> {
        self.sent.push(request.clone());
        self.answers
            .pop_front()
            .unwrap_or_else(|| Err("the script has no more answers".into()))
    }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Result<Response, String> {
    Ok(Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    })
}

fn probe() -> Result<Response, String> {
    answer(403, &[("Date", SERVER_DATE)], "")
}

fn not_found() -> Result<Response, String> {
    answer(404, &[], "")
}

/// `HEAD` of an object holding exactly `bytes` (as one `PUT` or in parts).
fn stored(bytes: &[u8], etag: &str) -> Result<Response, String> {
    let length = bytes.len().to_string();
    let blake3 = blake3::hash(bytes).to_hex().to_string();
    let etag = format!("\"{etag}\"");
    answer(
        200,
        &[
            ("Content-Length", length.as_str()),
            ("x-amz-meta-qlp-blake3", blake3.as_str()),
            ("ETag", etag.as_str()),
        ],
        "",
    )
}

fn md5_hex(bytes: &[u8]) -> String {
    sigv4::hex(&Md5::digest(bytes))
}

fn config(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let mut pairs: Vec<(String, String)> = [
        ("endpoint", "http://minio.internal:9000"),
        ("bucket", "artifacts"),
        ("access-key-id", "AKIAIOSFODNN7EXAMPLE"),
        ("secret-access-key", SECRET),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in extra {
        pairs.retain(|(k, _)| k != key);
        if !value.is_empty() {
            pairs.push((key.to_string(), value.to_string()));
        }
    }
    move |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn settings(extra: &[(&str, &str)]) -> Settings {
    Settings::from_config(config(extra)).expect("valid settings")
}

fn artifact(bytes: &[u8]) -> Artifact {
    Artifact {
        media_type: "application/zip".into(),
        file_name: "invoices.zip".into(),
        bytes: bytes.to_vec(),
    }
}

fn target(prefix: &str, options: &[(&str, &str)]) -> DeliveryTarget {
    DeliveryTarget {
        destination: prefix.into(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn header_of<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn code<T>(result: Result<T, PluginError>) -> String {
    result.err().map(|e| e.code).unwrap_or_default()
}

// --- Signature V4: the S3 API reference's examples ------------------------

fn example_credentials() -> Credentials {
    Credentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: SECRET.into(),
        session_token: None,
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn signature_of(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    payload: &str,
) -> String {
    let authorization = authorization(
        &Unsigned {
            method,
            path,
            query: &pairs(query),
            headers: &pairs(headers),
            payload_sha256: payload,
        },
        &example_credentials(),
        "us-east-1",
        sigv4::SERVICE,
        "20130524T000000Z",
    );
    authorization
        .rsplit_once("Signature=")
        .map(|(_, s)| s.to_owned())
        .expect("a signature")
}

#[test]
fn signs_the_get_vanilla_test_vector() {
    // The "get-vanilla" case of AWS's Signature V4 test suite, with the
    // suite's key, time, region and service.
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    };
    let headers = pairs(&[
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
    ]);
    let request = Unsigned {
        method: "GET",
        path: "/",
        query: &[],
        headers: &headers,
        payload_sha256: EMPTY_SHA256,
    };
    let (canonical, signed) = sigv4::canonical_request(&request);
    assert_eq!(
        canonical,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(signed, "host;x-amz-date");
    assert_eq!(
        authorization(
            &request,
            &credentials,
            "us-east-1",
            "service",
            "20150830T123600Z"
        ),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn the_canonical_request_of_an_upload_part_signs_every_header_sorted() {
    // What qlp/s3 signs for one part: query sorted and encoded, header
    // names lower-cased and sorted, the payload's real SHA-256.
    let payload = sigv4::sha256_hex(b"part one");
    let headers = pairs(&[
        ("x-amz-date", "20261206T220745Z"),
        ("Host", "127.0.0.1:9000"),
        ("x-amz-content-sha256", &payload),
        ("Content-MD5", "  spaced   value "),
    ]);
    let query = pairs(&[("uploadId", "a/b+c"), ("partNumber", "1")]);
    let (canonical, signed) = sigv4::canonical_request(&Unsigned {
        method: "PUT",
        path: "/artifacts/releases/app%20v1.zip",
        query: &query,
        headers: &headers,
        payload_sha256: &payload,
    });
    assert_eq!(
        canonical,
        format!(
            "PUT\n/artifacts/releases/app%20v1.zip\npartNumber=1&uploadId=a%2Fb%2Bc\n\
             content-md5:spaced value\nhost:127.0.0.1:9000\nx-amz-content-sha256:{payload}\n\
             x-amz-date:20261206T220745Z\n\n\
             content-md5;host;x-amz-content-sha256;x-amz-date\n{payload}"
        )
    );
    assert_eq!(signed, "content-md5;host;x-amz-content-sha256;x-amz-date");
}

#[test]
fn the_intents_creation_time_is_a_signing_time() {
    assert_eq!(
        sigv4::amz_date_from_unix(1_700_000_000).as_deref(),
        Some("20231114T221320Z")
    );
    assert_eq!(
        sigv4::amz_date_from_unix(0).as_deref(),
        Some("19700101T000000Z")
    );
    assert_eq!(
        sigv4::amz_date_from_unix(951_782_400).as_deref(),
        Some("20000229T000000Z")
    );
    assert_eq!(sigv4::amz_date_from_unix(-1), None);
}

#[test]
fn signs_the_get_object_example() {
    let headers = [
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
    ];
    assert_eq!(
        signature_of("GET", "/test.txt", &[], &headers, EMPTY_SHA256),
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    let full = authorization(
        &Unsigned {
            method: "GET",
            path: "/test.txt",
            query: &[],
            headers: &pairs(&headers),
            payload_sha256: EMPTY_SHA256,
        },
        &example_credentials(),
        "us-east-1",
        sigv4::SERVICE,
        "20130524T000000Z",
    );
    assert_eq!(
        full,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
}

#[test]
fn signs_the_put_object_example_with_an_encoded_key() {
    let payload = sigv4::sha256_hex(b"Welcome to Amazon S3.");
    assert_eq!(
        payload,
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    );
    let path = format!("/{}", uri_encode("test$file.text", false));
    assert_eq!(path, "/test%24file.text");
    let headers = [
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", &payload),
    ];
    assert_eq!(
        signature_of("PUT", &path, &[], &headers, &payload),
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    );
}

#[test]
fn signs_the_bucket_examples_with_query_parameters() {
    let headers = [
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY_SHA256),
    ];
    assert_eq!(
        signature_of("GET", "/", &[("lifecycle", "")], &headers, EMPTY_SHA256),
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
    );
    // Given out of order: the canonical query sorts them.
    assert_eq!(
        signature_of(
            "GET",
            "/",
            &[("prefix", "J"), ("max-keys", "2")],
            &headers,
            EMPTY_SHA256
        ),
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    );
}

#[test]
fn uri_encoding_keeps_only_unreserved_bytes_and_slashes_in_keys() {
    assert_eq!(uri_encode("a b/ü~._-", false), "a%20b/%C3%BC~._-");
    assert_eq!(uri_encode("a/b+c=", true), "a%2Fb%2Bc%3D");
    assert_eq!(
        sigv4::canonical_query(&pairs(&[("uploads", "")])),
        "uploads="
    );
}

#[test]
fn the_servers_date_becomes_the_signing_time() {
    assert_eq!(
        amz_date_from_http_date("Sun, 06 Nov 1994 08:49:37 GMT").as_deref(),
        Some("19941106T084937Z")
    );
    assert_eq!(
        amz_date_from_http_date(SERVER_DATE).as_deref(),
        Some("20261206T220745Z")
    );
    for bad in [
        "",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "Sun, 06 Nov 1994 0ä:49:37 GMT",
    ] {
        assert_eq!(amz_date_from_http_date(bad), None, "{bad:?}");
    }
}

#[test]
fn credentials_never_show_the_secret_when_formatted() {
    let credentials = Credentials {
        session_token: Some("token-value".into()),
        ..example_credentials()
    };
    let shown = format!("{credentials:?} {:?}", settings(&[]));
    assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("token-value"), "{shown}");
}

// --- Configuration and target ---------------------------------------------

#[test]
fn configuration_has_defaults_and_names_what_is_wrong() {
    let s = settings(&[]);
    assert_eq!(s.region, "us-east-1");
    assert_eq!(s.addressing, Addressing::Path);
    assert_eq!(s.part_size, 8 << 20);
    assert_eq!(s.multipart_threshold, 8 << 20);
    assert!(s.checksum);
    assert_eq!(s.endpoint.url(), "http://minio.internal:9000");
    assert_eq!(
        settings(&[("virtual-hosted", "true")]).addressing,
        Addressing::Virtual
    );

    let cases: [(&[(&str, &str)], &str); 12] = [
        (&[("endpoint", "")], "`endpoint` is not set"),
        (&[("endpoint", "minio:9000")], "absolute URL"),
        (&[("endpoint", "ftp://minio")], "scheme"),
        (&[("endpoint", "http://minio/bucket")], "without a path"),
        (&[("region", "eu west")], "`region`"),
        (&[("virtual-hosted", "yes")], "`virtual-hosted`"),
        (&[("part-size", "1024")], "`part-size`"),
        (
            &[("part-size", &(MIN_PART_SIZE - 1).to_string())],
            "`part-size`",
        ),
        (&[("part-size", "16777217")], "`part-size`"),
        (&[("multipart-threshold", "many")], "`multipart-threshold`"),
        (&[("checksum-sha256", "on")], "`checksum-sha256`"),
        (&[("bucket", "Not_A_Bucket")], "`bucket`"),
    ];
    for (extra, expected) in cases {
        let error = Settings::from_config(config(extra)).expect_err(expected);
        assert_eq!(error.code, "INVALID_OPTION");
        assert!(
            error.message.contains(expected),
            "{expected}: {}",
            error.message
        );
    }
    for key in ["secret-access-key", "access-key-id"] {
        let error = Settings::from_config(config(&[(key, "")])).expect_err("no secret");
        assert_eq!(error.code, "MISSING_SECRET");
        assert!(error.message.contains(&format!("`{key}` is not granted")));
    }
}

#[test]
fn endpoints_take_default_ports_and_ipv6_hosts() {
    let e = parse_endpoint("http://S3.Example.com").expect("valid");
    assert_eq!((e.host.as_str(), e.port), ("s3.example.com", 80));
    assert_eq!(
        parse_endpoint("https://s3.example.com/")
            .expect("valid")
            .port,
        443
    );
    let v6 = parse_endpoint("http://[::1]:9000").expect("valid");
    assert_eq!((v6.host.as_str(), v6.port), ("::1", 9000));
    assert_eq!(v6.authority(None), "[::1]:9000");
    for bad in [
        "http://",
        "http://user@host",
        "http://host:0",
        "http://host:port",
        "http://[::1",
        "http://host?x",
    ] {
        assert!(parse_endpoint(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn targets_give_the_key_and_refuse_unsafe_prefixes_and_names() {
    let s = settings(&[]);
    let p = plan(&s, "a.zip", "releases/2026", &[]).expect("a plan");
    assert_eq!(
        (p.bucket.as_str(), p.key.as_str(), p.overwrite),
        ("artifacts", "releases/2026/a.zip", false)
    );
    assert_eq!(plan(&s, "a.zip", "", &[]).expect("root").key, "a.zip");
    let other = plan(
        &s,
        "a.zip",
        "",
        &pairs(&[("bucket", "other-bucket"), ("overwrite", "true")]),
    )
    .expect("options");
    assert_eq!(
        (other.bucket.as_str(), other.overwrite),
        ("other-bucket", true)
    );

    for bad in ["/abs", "a//b", "a/", "../up", "a/./b", "a\\b", "a\nb"] {
        assert_eq!(
            code(plan(&s, "a.zip", bad, &[])),
            "INVALID_DESTINATION",
            "{bad:?}"
        );
        assert!(prefix_problem(bad).is_some());
    }
    assert_eq!(
        code(plan(
            &s,
            "a.zip",
            "x/".repeat(600).trim_end_matches('/'),
            &[]
        )),
        "INVALID_DESTINATION",
        "a key over 1024 bytes"
    );
    for bad in ["", ".", "..", "a/b.zip", "a\\b.zip", "a\0.zip"] {
        assert_eq!(
            code(plan(&s, bad, "out", &[])),
            "INVALID_FILE_NAME",
            "{bad:?}"
        );
    }
    assert_eq!(
        code(plan(&s, "a.zip", "", &pairs(&[("overwrite", "yes")]))),
        "INVALID_OPTION"
    );
    assert_eq!(
        code(plan(&s, "a.zip", "", &pairs(&[("bucket", "x")]))),
        "INVALID_OPTION"
    );
    for bad in ["standard", "COLD", ""] {
        assert_eq!(
            code(plan(&s, "a.zip", "", &pairs(&[("storage-class", bad)]))),
            "INVALID_OPTION",
            "{bad:?}"
        );
    }
    assert_eq!(
        code(plan(&s, "a.zip", "", &pairs(&[("virtual-hosted", "1")]))),
        "INVALID_OPTION"
    );
    let chosen = plan(
        &s,
        "a.zip",
        "",
        &pairs(&[
            ("storage-class", "STANDARD_IA"),
            ("virtual-hosted", "true"),
            ("qlp.created-at", "1700000000"),
            ("qlp.delivery-key", "intent-1/a.zip"),
            ("some-unknown", "ignored"),
        ]),
    )
    .expect("options");
    assert_eq!(chosen.storage_class.as_deref(), Some("STANDARD_IA"));
    assert_eq!(chosen.addressing, Addressing::Virtual);
    assert_eq!(chosen.created_at.as_deref(), Some("20231114T221320Z"));
    let no_bucket = settings(&[("bucket", "")]);
    assert_eq!(code(plan(&no_bucket, "a.zip", "", &[])), "INVALID_OPTION");
    let virtual_hosts = settings(&[("virtual-hosted", "true"), ("bucket", "my.bucket")]);
    assert_eq!(
        code(plan(&virtual_hosts, "a.zip", "", &[])),
        "INVALID_OPTION"
    );
}

// --- Deliveries against a scripted server ----------------------------------

#[test]
fn a_small_artifact_is_one_signed_put_checked_by_reading_it_back() {
    let bytes = b"zip bytes".to_vec();
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(200, &[("ETag", "\"x\"")], ""),
        stored(&bytes, &md5_hex(&bytes)),
    ]);
    let receipt = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("out", &[]),
    )
    .expect("delivered");
    assert_eq!(server.methods(), ["HEAD", "HEAD", "PUT", "HEAD"]);
    let probe = &server.sent[0];
    assert_eq!(probe.url, "http://minio.internal:9000/artifacts");
    assert!(
        header_of(probe, "authorization").is_none(),
        "the probe is not signed"
    );

    let put = &server.sent[2];
    assert_eq!(
        put.url,
        "http://minio.internal:9000/artifacts/out/invoices.zip"
    );
    assert_eq!(put.body, bytes);
    let auth = header_of(put, "authorization").expect("signed");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261206/us-east-1/s3/aws4_request, SignedHeaders=content-md5;content-type;host;if-none-match;x-amz-checksum-sha256;x-amz-content-sha256;x-amz-date;x-amz-meta-qlp-blake3, Signature="),
        "{auth}"
    );
    assert_eq!(header_of(put, "x-amz-date"), Some("20261206T220745Z"));
    assert_eq!(
        header_of(put, "content-md5"),
        Some(base64(&Md5::digest(&bytes)).as_str())
    );
    assert_eq!(
        header_of(put, "x-amz-content-sha256"),
        Some(sigv4::sha256_hex(&bytes).as_str())
    );
    assert_eq!(
        header_of(put, "x-amz-checksum-sha256"),
        Some("W3onVLOJEw4TjVe6g/Hq5/BaQcZr7Kz6LdIGAUOuZts=")
    );
    assert_eq!(header_of(put, "x-amz-storage-class"), None);
    assert_eq!(header_of(put, "if-none-match"), Some("*"));
    assert_eq!(header_of(put, "content-type"), Some("application/zip"));
    assert_eq!(
        header_of(put, DIGEST_HEADER),
        Some(blake3::hash(&bytes).to_hex().as_str())
    );
    assert!(
        header_of(put, "host").is_none(),
        "the host writes Host from the URL"
    );
    assert!(
        server
            .sent
            .iter()
            .all(|r| !format!("{r:?}").contains(SECRET))
    );

    assert_eq!(receipt.location, "s3://artifacts/out/invoices.zip");
    let details: Vec<(&str, &str)> = receipt
        .details
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let blake3 = blake3::hash(&bytes).to_hex().to_string();
    let etag = md5_hex(&bytes);
    assert_eq!(
        details,
        [
            ("endpoint", "http://minio.internal:9000"),
            ("bucket", "artifacts"),
            ("key", "out/invoices.zip"),
            ("bytes", "9"),
            ("media-type", "application/zip"),
            ("blake3", blake3.as_str()),
            ("etag", etag.as_str()),
            ("parts", "1"),
        ]
    );
}

#[test]
fn a_storage_class_is_sent_and_checksums_can_be_turned_off() {
    let bytes = b"cold".to_vec();
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(200, &[], ""),
        stored(&bytes, &md5_hex(&bytes)),
    ]);
    deliver_with(
        &mut server,
        &settings(&[("checksum-sha256", "false")]),
        &artifact(&bytes),
        &target("", &[("storage-class", "GLACIER_IR")]),
    )
    .expect("delivered");
    let put = &server.sent[2];
    assert_eq!(header_of(put, "x-amz-storage-class"), Some("GLACIER_IR"));
    assert_eq!(header_of(put, "x-amz-checksum-sha256"), None);
}

#[test]
fn five_hundreds_and_broken_connections_are_retried_three_times() {
    let bytes = b"flaky".to_vec();
    let busy =
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    let mut server = Scripted::new(vec![
        Err("connection refused".into()),
        probe(),
        not_found(),
        answer(503, &[], busy),
        Err("connection reset".into()),
        answer(200, &[], ""),
        stored(&bytes, &md5_hex(&bytes)),
    ]);
    deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect("delivered on the third try");
    assert_eq!(
        server.methods(),
        ["HEAD", "HEAD", "HEAD", "PUT", "PUT", "PUT", "HEAD"]
    );
    assert_eq!(
        format!("{:?}", server.sent[3]),
        format!("{:?}", server.sent[5]),
        "the same signed request"
    );

    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(503, &[], busy),
        answer(503, &[], busy),
        answer(503, &[], busy),
    ]);
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect_err("still busy");
    assert_eq!(error.code, "UNREACHABLE");
    assert!(
        error.message.contains("SlowDown: Please reduce"),
        "{}",
        error.message
    );
    assert_eq!(server.sent.len(), 5);
}

#[test]
fn virtual_host_addressing_names_the_bucket_in_the_host() {
    let bytes = b"x".to_vec();
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(200, &[], ""),
        stored(&bytes, &md5_hex(&bytes)),
    ]);
    let s = settings(&[
        ("virtual-hosted", "true"),
        ("endpoint", "http://s3.eu-west-1.amazonaws.com"),
    ]);
    deliver_with(
        &mut server,
        &s,
        &artifact(&bytes),
        &target("", &[("overwrite", "true")]),
    )
    .expect("delivered");
    assert_eq!(
        server.sent[0].url,
        "http://artifacts.s3.eu-west-1.amazonaws.com:80/"
    );
    assert_eq!(
        server.sent[2].url,
        "http://artifacts.s3.eu-west-1.amazonaws.com:80/invoices.zip"
    );
    assert!(
        header_of(&server.sent[2], "if-none-match").is_none(),
        "overwrite writes unconditionally"
    );
}

#[test]
fn a_repeated_delivery_finds_the_artifact_and_uploads_nothing() {
    let bytes = b"already there".to_vec();
    let mut server = Scripted::new(vec![probe(), stored(&bytes, &md5_hex(&bytes))]);
    let receipt = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect("delivered before");
    assert_eq!(server.methods(), ["HEAD", "HEAD"]);
    assert_eq!(receipt.location, "s3://artifacts/invoices.zip");
}

#[test]
fn a_repeat_after_the_part_size_changed_still_finds_the_artifact() {
    // Uploaded before in three parts; one PUT's ETag is now expected.
    let bytes = b"uploaded in parts".to_vec();
    let mut server = Scripted::new(vec![
        probe(),
        stored(&bytes, "0123456789abcdef0123456789abcdef-3"),
    ]);
    deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect("delivered before");
    assert_eq!(server.methods(), ["HEAD", "HEAD"]);
    // The same part count with another ETag is other content.
    let mut server = Scripted::new(vec![probe(), stored(&bytes, &md5_hex(b"other"))]);
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect_err("not the artifact");
    assert_eq!(error.code, "CONFLICT");
}

#[test]
fn other_content_is_a_conflict_and_a_lost_race_to_the_same_bytes_is_not() {
    let bytes = b"ours".to_vec();
    let mut server = Scripted::new(vec![probe(), stored(b"theirs", &md5_hex(b"theirs"))]);
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect_err("a conflict");
    assert_eq!(error.code, "CONFLICT");
    assert_eq!(server.methods(), ["HEAD", "HEAD"], "nothing written");

    // The conditional PUT found the key taken since the HEAD, by these bytes.
    let precondition = "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>";
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(412, &[], precondition),
        stored(&bytes, &md5_hex(&bytes)),
    ]);
    deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect("the same bytes are there");
    // ... or by others.
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(412, &[], precondition),
        stored(b"theirs", &md5_hex(b"theirs")),
    ]);
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect_err("taken");
    assert_eq!(error.code, "CONFLICT");
    assert!(
        error.message.contains("PreconditionFailed"),
        "{}",
        error.message
    );
}

#[test]
fn a_large_artifact_goes_in_parts_and_a_failed_completion_is_aborted() {
    let bytes = vec![7u8; (MIN_PART_SIZE as usize) * 2 + 10];
    let initiated = "<InitiateMultipartUploadResult><Bucket>artifacts</Bucket><Key>invoices.zip</Key><UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>";
    let listing = "<ListMultipartUploadsResult><Upload><Key>invoices.zip</Key><UploadId>stale-1</UploadId></Upload><Upload><Key>invoices.zip.old</Key><UploadId>other</UploadId></Upload></ListMultipartUploadsResult>";
    let failed = "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(200, &[], listing),
        answer(204, &[], ""),
        answer(200, &[], initiated),
        answer(200, &[("ETag", "\"p1\"")], ""),
        answer(200, &[("ETag", "\"p2\"")], ""),
        answer(200, &[("ETag", "\"p3\"")], ""),
        answer(200, &[], failed),
        answer(204, &[], ""),
    ]);
    let error = deliver_with(
        &mut server,
        &settings(&[
            ("part-size", &MIN_PART_SIZE.to_string()),
            ("multipart-threshold", &MIN_PART_SIZE.to_string()),
        ]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect_err("the completion failed");
    assert_eq!(error.code, "UNREACHABLE", "{}", error.message);
    assert!(
        error.message.contains("CompleteMultipartUpload"),
        "{}",
        error.message
    );
    assert_eq!(
        server.methods(),
        [
            "HEAD",
            "HEAD",
            "GET prefix=invoices.zip&uploads=",
            "DELETE uploadId=stale-1",
            "POST uploads=",
            "PUT partNumber=1&uploadId=up%261",
            "PUT partNumber=2&uploadId=up%261",
            "PUT partNumber=3&uploadId=up%261",
            "POST uploadId=up%261",
            "DELETE uploadId=up%261",
        ]
    );
    let part_sizes: Vec<usize> = server.sent[5..8].iter().map(|r| r.body.len()).collect();
    assert_eq!(
        part_sizes,
        [MIN_PART_SIZE as usize, MIN_PART_SIZE as usize, 10]
    );
    assert_eq!(
        header_of(&server.sent[4], "x-amz-checksum-algorithm"),
        Some("SHA256")
    );
    let mut expected = String::from("<CompleteMultipartUpload>");
    for (i, request) in server.sent[5..8].iter().enumerate() {
        let checksum = checksum_sha256(&request.body);
        assert_eq!(
            header_of(request, "x-amz-checksum-sha256"),
            Some(checksum.as_str())
        );
        let n = i + 1;
        expected.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>&quot;p{n}&quot;</ETag><ChecksumSHA256>{checksum}</ChecksumSHA256></Part>"
        ));
    }
    expected.push_str("</CompleteMultipartUpload>");
    assert_eq!(String::from_utf8_lossy(&server.sent[8].body), expected);
}

#[test]
fn artifacts_up_to_the_threshold_go_in_one_put() {
    let bytes = vec![3u8; 8 << 20];
    let mut server = Scripted::new(vec![
        probe(),
        not_found(),
        answer(200, &[], ""),
        stored(&bytes, &md5_hex(&bytes)),
    ]);
    deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect("delivered");
    assert_eq!(server.methods(), ["HEAD", "HEAD", "PUT", "HEAD"]);
}

#[test]
fn the_largest_artifact_stays_within_the_hosts_limits() {
    // The configured part size while it keeps within MAX_PARTS.
    assert_eq!(part_size(8 << 20, 12 << 20).expect("fits"), 8 << 20);
    // Larger artifacts get larger parts, never more than MAX_PARTS, never
    // a body over the host's 16 MiB.
    let size = 400 << 20;
    let grown = part_size(MIN_PART_SIZE, size).expect("fits");
    assert_eq!((size as u64).div_ceil(grown as u64), MAX_PARTS);
    let most = (MAX_PARTS * settings::MAX_BODY) as usize;
    assert_eq!(
        part_size(MIN_PART_SIZE, most).expect("the largest") as u64,
        settings::MAX_BODY
    );
    assert_eq!(code(part_size(MIN_PART_SIZE, most + 1)), "TOO_LARGE");
    // The longest delivery without retries: probe, HEAD, listing, two
    // stale aborts, initiation, the parts, completion, HEAD, removal.
    let longest = 1 + 1 + 1 + MAX_STALE_ABORTS as u64 + 1 + MAX_PARTS + 1 + 1 + 1;
    assert!(longest + 10 <= u64::from(client::MAX_REQUESTS), "{longest}");
}

#[test]
fn a_delivery_never_sends_more_than_the_hosts_request_cap() {
    // A server failing every request with a 5xx that the delivery treats
    // as an answer (a listing refused, the completion reported in a 200):
    // the budget ends the call, never the host.
    let bytes = vec![1u8; (MIN_PART_SIZE as usize) * 2];
    let tiny = [
        ("part-size", MIN_PART_SIZE.to_string()),
        ("multipart-threshold", MIN_PART_SIZE.to_string()),
    ];
    let tiny: Vec<(&str, &str)> = tiny.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut answers = vec![probe(), not_found()];
    answers.push(answer(200, &[], ""));
    answers.push(answer(200, &[], "<UploadId>u</UploadId>"));
    answers.extend((0..80).map(|_| answer(500, &[], "")));
    let mut server = Scripted::new(answers);
    let error = deliver_with(
        &mut server,
        &settings(&tiny),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect_err("the parts fail");
    assert_eq!(error.code, "UNREACHABLE", "{}", error.message);
    assert!(server.sent.len() as u32 <= client::MAX_REQUESTS);
    assert_eq!(
        server.sent.last().map(|r| r.method.as_str()),
        Some("DELETE"),
        "the upload is aborted"
    );
}

#[test]
fn what_the_server_stored_is_checked_against_the_artifact() {
    let bytes = b"artifact".to_vec();
    let cases = [
        (stored(b"artifacX", &md5_hex(b"artifacX")), "blake3"),
        (stored(&bytes, &md5_hex(b"other")), "ETag"),
        (stored(&bytes[..4], &md5_hex(&bytes[..4])), "bytes"),
    ];
    for (head, expected) in cases {
        let mut server = Scripted::new(vec![
            probe(),
            not_found(),
            answer(200, &[], ""),
            head,
            answer(204, &[], ""),
        ]);
        let error = deliver_with(
            &mut server,
            &settings(&[]),
            &artifact(&bytes),
            &target("", &[("overwrite", "true")]),
        )
        .expect_err(expected);
        assert_eq!(error.code, "DIGEST_MISMATCH");
        assert!(
            error.message.contains(expected),
            "{expected}: {}",
            error.message
        );
        assert_eq!(
            server.methods().last().map(String::as_str),
            Some("DELETE"),
            "removed"
        );
    }
    // A KMS-encrypted object's ETag is no MD5, and neither is another
    // server's opaque one: only size and blake3 are compared.
    for extra in [
        ("x-amz-server-side-encryption", "aws:kms"),
        ("x-ignored", ""),
    ] {
        let mut head = stored(&bytes, "not-an-md5").expect("a response");
        head.headers.push((extra.0.into(), extra.1.into()));
        let mut server = Scripted::new(vec![probe(), not_found(), answer(200, &[], ""), Ok(head)]);
        deliver_with(
            &mut server,
            &settings(&[]),
            &artifact(&bytes),
            &target("", &[]),
        )
        .expect("accepted");
    }
    let mut kms = stored(&bytes, &md5_hex(b"x")).expect("a response");
    kms.headers
        .push(("x-amz-server-side-encryption".into(), "aws:kms".into()));
    let mut server = Scripted::new(vec![probe(), not_found(), answer(200, &[], ""), Ok(kms)]);
    deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(&bytes),
        &target("", &[]),
    )
    .expect("a KMS ETag is not compared");
}

#[test]
fn a_host_digest_that_is_not_the_artifacts_stops_before_any_request() {
    let mut server = Scripted::default();
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(b"bytes"),
        &target("", &[("qlp.artifact-blake3", "00ff")]),
    )
    .expect_err("mismatch");
    assert_eq!(error.code, "DIGEST_MISMATCH");
    assert!(server.sent.is_empty());
}

#[test]
fn a_server_without_a_date_or_a_connection_fails_with_a_code() {
    let mut server = Scripted::new(vec![answer(200, &[], "")]);
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(b"x"),
        &target("", &[]),
    )
    .expect_err("no date");
    assert_eq!(error.code, "REJECTED");
    assert!(error.message.contains("Date"), "{}", error.message);
    // The intent's creation time stands in for the server's.
    let mut server = Scripted::new(vec![
        answer(200, &[], ""),
        not_found(),
        answer(200, &[], ""),
    ]);
    let _ = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(b"x"),
        &target("", &[("qlp.created-at", "1700000000")]),
    );
    assert_eq!(
        header_of(&server.sent[1], "x-amz-date"),
        Some("20231114T221320Z")
    );

    let mut server = Scripted::new(vec![Err(
        "capability not granted: minio.internal:9000 is not on this plugin's allow-list".into(),
    )]);
    let error = deliver_with(
        &mut server,
        &settings(&[]),
        &artifact(b"x"),
        &target("", &[]),
    )
    .expect_err("not granted");
    assert_eq!(error.code, "UNREACHABLE");
    assert!(
        error
            .message
            .starts_with("http://minio.internal:9000 (after 3 tries): "),
        "{}",
        error.message
    );
}

#[test]
fn refusals_map_to_delivery_codes_and_quote_s3s_words_only() {
    let table = [
        (403, "SignatureDoesNotMatch", "AUTH_FAILED"),
        (403, "InvalidAccessKeyId", "AUTH_FAILED"),
        (400, "ExpiredToken", "AUTH_FAILED"),
        (403, "RequestTimeTooSkewed", "AUTH_FAILED"),
        (403, "", "AUTH_FAILED"),
        (401, "", "AUTH_FAILED"),
        (404, "NoSuchBucket", "TARGET_NOT_FOUND"),
        (301, "PermanentRedirect", "TARGET_NOT_FOUND"),
        (400, "AuthorizationHeaderMalformed", "TARGET_NOT_FOUND"),
        (404, "", "TARGET_NOT_FOUND"),
        (412, "PreconditionFailed", "CONFLICT"),
        (409, "ConditionalRequestConflict", "CONFLICT"),
        (409, "", "CONFLICT"),
        (400, "BadDigest", "DIGEST_MISMATCH"),
        (400, "XAmzContentSHA256Mismatch", "DIGEST_MISMATCH"),
        (503, "SlowDown", "UNREACHABLE"),
        (502, "", "UNREACHABLE"),
        (400, "EntityTooSmall", "REJECTED"),
        (400, "", "REJECTED"),
    ];
    for (status, s3_code, expected) in table {
        assert_eq!(
            refusal_code(status, s3_code),
            expected,
            "{status} {s3_code}"
        );
    }
    let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &lt;the&gt; signature</Message><StringToSign>AWS4-HMAC-SHA256\n20261206T220745Z</StringToSign><CanonicalRequest>PUT /x</CanonicalRequest></Error>";
    let response = Response {
        status: 403,
        headers: vec![("x-amz-bucket-region".into(), "eu-west-1".into())],
        body: body.as_bytes().to_vec(),
    };
    let error = refusal("PUT object", &response);
    assert_eq!(error.code, "AUTH_FAILED");
    assert_eq!(
        error.message,
        "PUT object: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match <the> signature (the bucket is in region eu-west-1)"
    );
}

// --- Small parts -----------------------------------------------------------

#[test]
fn base64_and_etags_follow_their_definitions() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
    }
    assert_eq!(base64(&Md5::digest(b"")), "1B2M2Y8AsgTpgAmY7PhCfg==");
    let single = Upload {
        bytes: b"hello",
        media_type: String::new(),
        blake3: String::new(),
        part_size: 5,
        multipart: false,
        checksum: true,
    };
    assert_eq!(expected_etag(&single), "5d41402abc4b2a76b9719d911017c592");
    let parts = Upload {
        part_size: 2,
        multipart: true,
        ..single
    };
    assert_eq!(parts.parts(), 3);
    let mut md5s = Vec::new();
    for part in [&b"he"[..], b"ll", b"o"] {
        md5s.extend_from_slice(&Md5::digest(part));
    }
    assert_eq!(expected_etag(&parts), format!("{}-3", md5_hex(&md5s)));
    assert!(is_md5_etag("5d41402abc4b2a76b9719d911017c592"));
    assert!(is_md5_etag("5d41402abc4b2a76b9719d911017c592-12"));
    for not in [
        "",
        "abc",
        "5d41402abc4b2a76b9719d911017c592-",
        "5d41402abc4b2a76b9719d911017c59z",
    ] {
        assert!(!is_md5_etag(not), "{not:?}");
    }
    assert_eq!(content_type("application/zip"), "application/zip");
    assert_eq!(content_type("bad\ntype"), "application/octet-stream");
    assert_eq!(content_type(""), "application/octet-stream");
}

#[test]
fn garbage_from_the_server_never_panics() {
    let mut seed = 0x9e37_79b9_u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let pieces = [
        "<", ">", "</", "&", ";", "&#x", "&#", "Code", "Message", "Upload", "UploadId", "Key",
        "Error", "ü", "\0", "&amp", "#1114112", "x", " ", "GMT", ",", ":",
    ];
    for _ in 0..3000 {
        let text: String = (0..next() % 24)
            .map(|_| pieces[next() as usize % pieces.len()])
            .collect();
        let _ = client::xml_text(&text, "Code");
        let _ = client::xml_blocks(&text, "Upload");
        let _ = client::unescape(&text);
        let _ = amz_date_from_http_date(&text);
        let _ = is_md5_etag(&text);
        let response = Response {
            status: (next() % 600) as u16,
            headers: vec![("Date".into(), text.clone()), ("ETag".into(), text.clone())],
            body: text.clone().into_bytes(),
        };
        let _ = refusal("op", &response);
        let mut server = Scripted::new(vec![
            answer(200, &[("Date", SERVER_DATE)], ""),
            Ok(response.clone()),
            Ok(response.clone()),
            Ok(response.clone()),
            Ok(response),
        ]);
        let _ = deliver_with(
            &mut server,
            &settings(&[]),
            &artifact(b"x"),
            &target("", &[]),
        );
    }
}

#[test]
fn describe_asks_for_http_and_the_secret() {
    let info = S3::describe();
    assert_eq!(info.name, "qlp/s3");
    assert_eq!(info.version, "0.1.0");
    assert!(matches!(info.kind, PluginKind::Delivery));
    assert!(matches!(
        info.capabilities.as_slice(),
        [Capability::Http(_), Capability::Secret(id), Capability::Secret(key)]
            if id == "access-key-id" && key == "secret-access-key"
    ));
}
