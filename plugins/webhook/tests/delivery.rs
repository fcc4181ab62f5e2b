//! `qlp/webhook` against a real receiver on loopback (the testkit's
//! `StandIn`): what it sends, how it retries, what each answer becomes.
//! Signatures are verified with Python's `hmac` module, independently of
//! the adapter's code (python3 is installed by `deploy/setup.sh`; without
//! it that check says SKIPPED, and fails under CI).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use qlp_delivery_testkit::{
    Recorded, Reply, StandIn, blake3_hex, closed_url, target, tool_available,
};
use qlp_plugin_webhook::{Webhook, deliver_with};
use qlp_sdk::delivery::{Artifact, Delivery, DeliveryTarget, PluginError, Receipt};

const SECRET: &str = "s3cr3t-webhook-key";

fn artifact() -> Artifact {
    Artifact {
        media_type: "application/zip".into(),
        file_name: "invoices.zip".into(),
        bytes: b"PK\x03\x04 pretend zip".to_vec(),
    }
}

fn to(url: &str, options: &[(&str, &str)]) -> DeliveryTarget {
    target(url, "intent-1/invoices.zip", &artifact().bytes, options)
}

/// Delivers without ever waiting (records the delays asked for instead).
fn deliver(url: &str, options: &[(&str, &str)]) -> (Result<Receipt, PluginError>, Vec<Duration>) {
    qlp_sdk::http::allow_for_tests();
    let waits = Mutex::new(vec![]);
    let result = deliver_with(SECRET, &artifact(), &to(url, options), |d| {
        waits.lock().unwrap().push(d);
        true
    });
    (result, waits.into_inner().unwrap())
}

/// A receiver answering with `replies` in turn (the last one repeated).
fn receiver(replies: Vec<Reply>) -> StandIn {
    let mut replies = replies.into_iter();
    let mut last = Reply::status(500);
    StandIn::start("webhook_receiver", move |_| {
        if let Some(reply) = replies.next() {
            last = reply;
        }
        last.clone()
    })
}

/// Whether Python's hmac says `signature` signs `timestamp` and `body`.
fn python_verifies(signature: &str, timestamp: &str, body: &[u8]) -> Option<bool> {
    let mut probe = Command::new("python3");
    probe.args(["-c", "import hmac, hashlib"]);
    if !tool_available(
        probe,
        "python3",
        "run deploy/setup.sh (section 4) or `apt-get install python3`",
    ) {
        return None;
    }
    let script = "import hmac, hashlib, sys\n\
                  key, ts = sys.argv[1].encode(), sys.argv[2].encode()\n\
                  body = sys.stdin.buffer.read()\n\
                  print('v1=' + hmac.new(key, ts + b'.' + body, hashlib.sha256).hexdigest())";
    let mut child = Command::new("python3")
        .args(["-c", script, SECRET, timestamp])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().expect("python3 finishes");
    Some(String::from_utf8_lossy(&output.stdout).trim() == signature)
}

fn header<'a>(request: &'a Recorded, name: &str) -> &'a str {
    request
        .header(name)
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[test]
fn the_artifact_is_posted_with_its_headers_and_a_signature_python_verifies() {
    let server = receiver(vec![Reply::status(202)]);
    let url = format!("{}/hooks/qlp", server.url());
    let (receipt, _) = deliver(&url, &[]);
    let receipt = receipt.expect("a receipt");
    assert_eq!(receipt.location, url);
    assert_eq!(
        receipt.details,
        [
            ("status".to_string(), "202".to_string()),
            ("attempts".to_string(), "1".to_string())
        ]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/hooks/qlp");
    assert_eq!(request.body, artifact().bytes);
    assert_eq!(header(request, "content-type"), "application/zip");
    assert_eq!(header(request, "qlp-delivery-key"), "intent-1/invoices.zip");
    assert_eq!(header(request, "qlp-artifact-name"), "invoices.zip");
    assert_eq!(
        header(request, "qlp-artifact-blake3"),
        blake3_hex(&artifact().bytes)
    );
    assert_eq!(header(request, "x-qlp-timestamp"), "1700000000");
    assert_eq!(
        request.header("qlp-timestamp"),
        None,
        "the event webhooks' header name only, so one verifier serves both"
    );
    let signature = header(request, "x-qlp-signature");
    assert!(
        signature.starts_with("v1=") && signature.len() == 67,
        "{signature}"
    );
    assert!(
        !request.text().contains(SECRET),
        "the secret itself is never sent"
    );
    if let Some(verified) = python_verifies(signature, "1700000000", &request.body) {
        assert!(verified, "Python's hmac verifies {signature}");
    }
}

#[test]
fn a_repeated_delivery_sends_the_same_key_body_and_signature() {
    let server = receiver(vec![Reply::status(200)]);
    let (first, _) = deliver(&server.url(), &[]);
    let (again, _) = deliver(&server.url(), &[]);
    let (first, again) = (first.expect("a receipt"), again.expect("a receipt"));
    assert_eq!(
        (first.location, first.details),
        (again.location, again.details)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for name in ["qlp-delivery-key", "x-qlp-timestamp", "x-qlp-signature"] {
        assert_eq!(
            header(&requests[0], name),
            header(&requests[1], name),
            "{name}"
        );
    }
    assert_eq!(requests[0].body, requests[1].body);
}

#[test]
fn link_mode_posts_json_naming_the_operators_url() {
    let server = receiver(vec![Reply::status(200)]);
    let options = [
        ("mode", "link"),
        ("download-url", "https://files.example.com/invoices.zip"),
    ];
    let (receipt, _) = deliver(&server.url(), &options);
    receipt.expect("a receipt");
    let request = &server.requests()[0];
    assert_eq!(header(request, "content-type"), "application/json");
    assert_eq!(
        request.json(),
        serde_json::json!({
            "artifact": "invoices.zip",
            "blake3": blake3_hex(&artifact().bytes),
            "url": "https://files.example.com/invoices.zip",
        })
    );
    if let Some(verified) = python_verifies(
        header(request, "x-qlp-signature"),
        "1700000000",
        &request.body,
    ) {
        assert!(verified, "the JSON body is what is signed");
    }
}

#[test]
fn server_errors_and_429_are_retried_with_the_same_delivery_key_honouring_retry_after() {
    let server = receiver(vec![
        Reply::status(503),
        Reply::status(429).with_header("Retry-After", "2"),
        Reply::status(201),
    ]);
    let (receipt, waits) = deliver(&server.url(), &[]);
    let receipt = receipt.expect("a receipt after retries");
    assert_eq!(
        receipt.details[1],
        ("attempts".to_string(), "3".to_string())
    );
    assert_eq!(waits, [Duration::from_secs(2)]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| header(r, "qlp-delivery-key") == "intent-1/invoices.zip")
    );
}

#[test]
fn a_retry_after_that_cannot_be_honoured_ends_the_call() {
    let server = receiver(vec![Reply::status(503).with_header("Retry-After", "60")]);
    let (result, waits) = deliver(&server.url(), &[]);
    let error = result.expect_err("too long a wait");
    assert_eq!(error.code, "UNREACHABLE");
    assert!(error.message.contains("60 s"), "{}", error.message);
    assert!(waits.is_empty());
    assert_eq!(server.requests().len(), 1);

    // Inside WebAssembly nothing can wait: the call ends at once.
    let server = receiver(vec![Reply::status(429).with_header("Retry-After", "1")]);
    qlp_sdk::http::allow_for_tests();
    let error = deliver_with(SECRET, &artifact(), &to(&server.url(), &[]), |_| false)
        .expect_err("no way to wait");
    assert_eq!(error.code, "UNREACHABLE");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn each_answer_has_its_code() {
    for (status, code) in [
        (401, "AUTH_FAILED"),
        (403, "AUTH_FAILED"),
        (404, "TARGET_NOT_FOUND"),
        (410, "TARGET_NOT_FOUND"),
        (409, "CONFLICT"),
        (400, "REJECTED"),
        (413, "REJECTED"),
    ] {
        let server = receiver(vec![Reply::status(status)]);
        let (result, _) = deliver(&server.url(), &[]);
        let error = result.expect_err("an error");
        assert_eq!(error.code, code, "{status}");
        assert!(
            error.message.contains(&status.to_string()),
            "{}",
            error.message
        );
        assert_eq!(server.requests().len(), 1, "{status} is not retried");
    }
    let server = receiver(vec![Reply::status(500)]);
    let (result, waits) = deliver(&server.url(), &[]);
    assert_eq!(result.expect_err("an error").code, "UNREACHABLE");
    assert_eq!(server.requests().len(), 3, "three tries");
    assert!(waits.is_empty(), "no Retry-After, no wait");

    let (result, _) = deliver(&closed_url(), &[]);
    let error = result.expect_err("nothing listens");
    assert_eq!(error.code, "UNREACHABLE");
    assert!(error.message.contains("3 tries"), "{}", error.message);
}

#[test]
fn the_secret_appears_in_no_receipt_error_or_request() {
    // A receiver that echoes back whatever it got, and the secret besides.
    let echo = |request: &Recorded, status| {
        let mut reply = Reply::status(status);
        reply.body = format!("{} {SECRET}", request.text()).into_bytes();
        reply
    };
    for status in [200, 401, 404, 409, 400, 500] {
        let server = StandIn::start("webhook_receiver", move |r| echo(r, status));
        let (result, _) = deliver(&server.url(), &[]);
        let shown = match result {
            Ok(receipt) => format!("{receipt:?}"),
            Err(error) => format!("{error:?}"),
        };
        assert!(!shown.contains(SECRET), "{status}: {shown}");
        for request in server.requests() {
            assert!(!request.text().contains(SECRET));
        }
    }
}

#[test]
fn through_the_plugin_interface_the_secret_comes_from_configuration() {
    qlp_sdk::http::allow_for_tests();
    let server = receiver(vec![Reply::status(200)]);
    // The only test of this binary that touches the environment.
    unsafe { std::env::remove_var("QLP_PLUGIN_SECRET_SECRET") };
    let error = Webhook::deliver(artifact(), to(&server.url(), &[])).expect_err("no secret");
    assert_eq!(error.code, "MISSING_SECRET");
    assert!(server.requests().is_empty(), "nothing is sent unsigned");
    unsafe { std::env::set_var("QLP_PLUGIN_SECRET_SECRET", SECRET) };
    let receipt = Webhook::deliver(artifact(), to(&server.url(), &[])).expect("a receipt");
    assert_eq!(receipt.location, server.url());
    let request = &server.requests()[0];
    if let Some(verified) = python_verifies(
        header(request, "x-qlp-signature"),
        "1700000000",
        &request.body,
    ) {
        assert!(verified);
    }
}
