//! The API's OpenAPI description against the running server: served to
//! anyone, covering every route of the access table, and schemathesis
//! (PyPI) generating requests from it for every operation finds no 5xx
//! and no answer that differs from the description (status, content type,
//! headers, body schema).

use std::path::PathBuf;
use std::time::Duration;

use qlp_server::api::access::ROUTES;
use serde_json::Value;

use crate::support::Server;

/// The schemathesis program: `QLP_SCHEMATHESIS`, else the virtual
/// environment `deploy/setup.sh` installs it into, else the `PATH`'s.
fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("QLP_SCHEMATHESIS") {
        return path.into();
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    data.map(|d| d.join("qlp/schemathesis/bin/schemathesis"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "schemathesis".into())
}

/// Generated cases per operation and phase: enough to reach every
/// documented answer, few enough to finish in about a minute.
const EXAMPLES: &str = "25";

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_description() {
    let data = tempfile::tempdir().unwrap();
    // A short queue: generated submissions past it get 429 `QUEUE_FULL`
    // (described), and an event stream on an accepted intent ends within
    // the request timeout, however slow the machine.
    let server = Server::start_default_with(data.path(), &["--max-queued", "4"]);

    // Anyone may read the description.
    let response = reqwest::get(server.endpoint("/v1/openapi.json"))
        .await
        .expect("GET /v1/openapi.json");
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, pattern, _) in ROUTES {
        let path = pattern.replace("{*path}", "{path}");
        let operation = &doc["paths"][&path][method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{method} {pattern} is not described");
        assert!(
            operation["responses"]["500"].is_object(),
            "{method} {pattern} does not describe its errors"
        );
    }

    // schemathesis keeps its example database in the working directory:
    // a scratch one, not the checkout.
    let scratch = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(600),
        tokio::process::Command::new(schemathesis())
            .current_dir(scratch.path())
            .arg("run")
            .arg(server.endpoint("/v1/openapi.json"))
            .args([
                "--header",
                &format!("Authorization: Bearer {}", server.admin_key),
            ])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_schema_conformance,response_headers_conformance,unsupported_method",
            ])
            .args(["--max-examples", EXAMPLES])
            .args(["--request-timeout", "60", "--no-color", "--seed", "1"])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("schemathesis finished within 10 minutes")
    .expect("schemathesis runs (deploy/setup.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems ({}):\n{text}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // It tested every operation, not a description it could not read;
    // it leaves out the one serving the description it loaded.
    let operations = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.keys()))
        .filter(|key| ["get", "put", "post", "delete", "patch"].contains(&key.as_str()))
        .count();
    let n = operations - 1;
    for line in [format!("Selected: {n}/{n}"), format!("Tested: {n}")] {
        assert!(text.contains(&line), "expected `{line}` in:\n{text}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_method_a_route_does_not_answer_is_405_with_the_methods_it_does() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let client = reqwest::Client::new();
    for (method, path, allow) in [
        ("DELETE", "/v1/intents", "POST, GET, HEAD"),
        ("PUT", "/healthz", "GET, HEAD"),
        ("TRACE", "/v1/keys/k1", "DELETE"),
    ] {
        // Anonymously: the method is refused before authentication.
        let response = client
            .request(method.parse().unwrap(), server.endpoint(path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["code"], "METHOD_NOT_ALLOWED", "{method} {path}");
    }
    // Nothing was done: no intent exists.
    let intents = server.get_json("/v1/intents").await;
    assert_eq!(intents["intents"], serde_json::json!([]));
    server.stop();
}
