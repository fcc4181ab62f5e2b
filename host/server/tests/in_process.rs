//! The server in this process: its router driven request by request with
//! `tower::ServiceExt::oneshot`, its pipeline run by the test itself, on a
//! SQLite database in a temporary directory. No `qlp` process, no socket:
//! what these tests check is the API's and the pipeline's behaviour, in
//! seconds.
//!
//! They load the first-party plugins and the fixtures that `deploy/dev.sh
//! test` builds, trusted by the development key it signs them with, found
//! as the end-to-end tests find them (`tests/e2e/paths.rs`).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use qlp_server::api::AppState;
use qlp_server::api::types::{CapsuleView, IntentView, PluginList, TierList};
use qlp_server::pipeline::{LEASE, Pipeline};
use qlp_server::store::IntentStatus;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const INVOICES: &str = "Create a FastAPI service for invoices with JWT auth";

#[path = "../../../tests/e2e/paths.rs"]
mod paths;

/// A server built in process on the test tiers, with no worker of its
/// own (the tests run the intents they claim), and its admin key.
struct InProcess {
    _data: tempfile::TempDir,
    router: Router,
    state: AppState,
    pipeline: Arc<Pipeline>,
    admin_key: String,
}

impl InProcess {
    async fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let plugin_dirs = std::env::join_paths([paths::plugins(), paths::fixtures()]).unwrap();
        let options = qlp_server::server::ServeOptions::from_args([
            "--data-dir".as_ref(),
            data.path().as_os_str(),
            "--plugin-dir".as_ref(),
            plugin_dirs.as_os_str(),
            "--tiers".as_ref(),
            paths::test_tiers().as_os_str(),
            "--trust".as_ref(),
            paths::trust().as_os_str(),
            "--cache-dir".as_ref(),
            paths::target_dir().join("qlp-test-cache").as_os_str(),
            "--workers".as_ref(),
            "0".as_ref(),
            "--node-id".as_ref(),
            "in-process".as_ref(),
            "--watch-every".as_ref(),
            "0s".as_ref(),
            "--builtin-plugins".as_ref(),
            std::ffi::OsStr::new("false"),
        ])
        .unwrap();
        let (state, pipeline) = qlp_server::server::build(&options).await.unwrap();
        let admin_key = state
            .store
            .bootstrap_admin(|_| Ok(()))
            .await
            .unwrap()
            .expect("a fresh store makes the admin key");
        InProcess {
            _data: data,
            router: qlp_server::api::router(state.clone()),
            state,
            pipeline,
            admin_key,
        }
    }

    /// Sends one request (with `key` as its bearer token, if any) and
    /// returns the status and the JSON body (`Null` when there is none).
    async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&bytes))
            })
        };
        (status, json)
    }

    async fn submit(&self, body: Value) -> (StatusCode, Value) {
        let body = body.to_string();
        self.send("POST", "/v1/intents", Some(&self.admin_key), Some(&body))
            .await
    }

    async fn intent(&self, id: &str) -> Value {
        let (status, intent) = self
            .send(
                "GET",
                &format!("/v1/intents/{id}"),
                Some(&self.admin_key),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{intent:#}");
        intent
    }

    /// Claims the next queued intent and runs it to its end, as a worker
    /// would; returns its id.
    async fn run_next(&self) -> String {
        let claimed = self
            .state
            .store
            .claim("in-process", LEASE)
            .await
            .unwrap()
            .expect("an intent is queued");
        let id = claimed.id.clone();
        self.pipeline
            .run(claimed, "in-process", Arc::default())
            .await;
        id
    }
}

fn stages<'a>(intent: &'a Value, name: &str) -> Vec<&'a Value> {
    intent["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["stage"] == name)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submission_is_refused_with_a_stable_code_and_stores_nothing_or_is_queued() {
    let server = InProcess::start().await;
    let body = json!({ "description": INVOICES, "tier": "standard" }).to_string();

    // Without a key, with a key that is not one, with a malformed body,
    // a blank description, a tier nobody configured: each refusal names
    // its cause with a code a client can match.
    let refusals = [
        (
            None,
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        ),
        (
            Some("qlp_not-a-key"),
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "INVALID_KEY",
        ),
        (
            Some(server.admin_key.as_str()),
            "{\"description\": ".to_owned(),
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
        ),
        (
            Some(server.admin_key.as_str()),
            json!({ "description": "   ", "tier": "standard" }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "EMPTY_DESCRIPTION",
        ),
        (
            Some(server.admin_key.as_str()),
            json!({ "description": INVOICES, "tier": "platinum" }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNKNOWN_TIER",
        ),
    ];
    for (key, body, status, code) in refusals {
        let (got, answer) = server.send("POST", "/v1/intents", key, Some(&body)).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer:#}"
        );
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer:#}"
        );
    }
    let (status, list) = server
        .send("GET", "/v1/intents", Some(&server.admin_key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["intents"],
        json!([]),
        "a refusal stored an intent: {list:#}"
    );

    // Accepted: 202, queued, its links, and readable at once.
    let (status, accepted) = server
        .send("POST", "/v1/intents", Some(&server.admin_key), Some(&body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted:#}");
    assert_eq!(accepted["status"], "queued");
    assert_eq!(accepted["tier"], "standard");
    let id = accepted["id"].as_str().unwrap();
    assert_eq!(accepted["links"]["self"], format!("/v1/intents/{id}"));
    let intent = server.intent(id).await;
    assert_eq!(intent["status"], "queued", "{intent:#}");
    assert_eq!(intent["description"], INVOICES);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fixture_agent_repairs_in_a_second_round_what_the_gate_failed_in_the_first() {
    let server = InProcess::start().await;
    let (status, accepted) = server
        .submit(json!({ "description": INVOICES, "tier": "repairing" }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted:#}");

    let id = server.run_next().await;
    assert_eq!(id, accepted["id"].as_str().unwrap());
    let intent = server.intent(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let gates = stages(&intent, "gate");
    assert_eq!(gates.len(), 2, "{intent:#}");
    assert_eq!(
        (
            &gates[0]["iteration"],
            &gates[0]["status"],
            &gates[0]["error"]["code"]
        ),
        (&json!(0), &json!("failed"), &json!("GATE_FAILED")),
    );
    assert_eq!(
        (&gates[1]["iteration"], &gates[1]["status"]),
        (&json!(1), &json!("succeeded"))
    );
    let generated: Vec<(u64, &str)> = stages(&intent, "generate")
        .iter()
        .map(|s| {
            (
                s["iteration"].as_u64().unwrap(),
                s["plugin"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        generated,
        [
            (0, "qlp/template-fastapi"),
            (0, "fixture/repairing-agent"),
            (1, "qlp/template-fastapi"),
            (1, "fixture/repairing-agent"),
        ]
    );

    // The capsule's files are the second round's: the planted key is gone.
    let (status, file) = server
        .send(
            "GET",
            &format!("/v1/capsules/{id}"),
            Some(&server.admin_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{file:#}");
    assert_eq!(file["manifest"]["gate"]["iteration"], 1, "{file:#}");

    // What the server answers reads back into the API's shared types, as
    // the `qlp` client reads it.
    let view: IntentView = serde_json::from_value(intent.clone()).unwrap();
    assert_eq!(view.record.status, IntentStatus::Completed);
    assert_eq!(
        view.stages.len(),
        intent["stages"].as_array().unwrap().len()
    );
    let capsule: CapsuleView = serde_json::from_value(file).unwrap();
    assert!(capsule.capsule.gate_passed);
    for path in ["/v1/plugins", "/v1/tiers"] {
        let (status, body) = server
            .send("GET", path, Some(&server.admin_key), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        let names: Vec<String> = match path {
            "/v1/plugins" => serde_json::from_value::<PluginList>(body)
                .unwrap()
                .plugins
                .into_iter()
                .map(|p| p.name)
                .collect(),
            _ => serde_json::from_value::<TierList>(body)
                .unwrap()
                .tiers
                .into_iter()
                .map(|t| t.name)
                .collect(),
        };
        let expected = if path == "/v1/plugins" {
            "fixture/repairing-agent"
        } else {
            "repairing"
        };
        assert!(names.iter().any(|n| n == expected), "{path}: {names:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trapping_fixture_fails_its_stage_with_the_trap_named_and_the_next_intent_runs() {
    let server = InProcess::start().await;
    server
        .submit(json!({ "description": INVOICES, "tier": "trapping" }))
        .await;
    server
        .submit(json!({ "description": INVOICES, "tier": "standard" }))
        .await;

    let trapped = server.run_next().await;
    let intent = server.intent(&trapped).await;
    assert_eq!(intent["status"], "failed", "{intent:#}");
    let validate = stages(&intent, "validate");
    assert_eq!(validate.len(), 1, "{intent:#}");
    assert_eq!(validate[0]["plugin"], "fixture/trap");
    assert_eq!(validate[0]["error"]["code"], "TRAP", "{intent:#}");
    assert!(
        intent["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("fixture/trap")),
        "{intent:#}"
    );
    assert_eq!(
        server
            .send(
                "GET",
                &format!("/v1/capsules/{trapped}"),
                Some(&server.admin_key),
                None
            )
            .await
            .0,
        StatusCode::NOT_FOUND,
        "a failed intent has no capsule"
    );

    let fine = server.run_next().await;
    assert_eq!(server.intent(&fine).await["status"], "completed");
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_and_metrics_answer_without_a_key_and_the_api_does_not() {
    let server = InProcess::start().await;
    let (status, health) = server.send("GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{health:#}");
    assert_eq!(health["status"], "ok");
    let (status, ready) = server.send("GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{ready:#}");

    let request = Request::builder()
        .uri("/metrics")
        .header(header::HOST, "localhost")
        .body(Body::empty())
        .unwrap();
    let response = server.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("# TYPE qlp_"), "{text}");

    for path in ["/v1/intents", "/v1/plugins", "/v1/tiers"] {
        let (status, _) = server.send("GET", path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path} without a key");
    }
}
