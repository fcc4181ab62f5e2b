//! Traces as an operator's collector receives them: with `--otlp-endpoint`
//! the server exports, over OTLP/HTTP, a span per request (with its
//! request id, which error bodies carry too), per intent run, per stage and
//! per plugin call, all in the trace of the caller's `traceparent`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::Server;

/// An OTLP/HTTP collector on loopback, keeping every span posted to its
/// `/v1/traces`.
async fn collector() -> (String, Arc<Mutex<Vec<Value>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let export: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mut kept = kept.lock().unwrap();
                for resource in export["resourceSpans"].as_array().into_iter().flatten() {
                    let service = attribute(&resource["resource"], "service.name");
                    for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                        for span in scope["spans"].as_array().into_iter().flatten() {
                            let mut span = span.clone();
                            span["service"] = service.clone();
                            kept.push(span);
                        }
                    }
                }
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

/// The value of an OTLP attribute (`{key, value: {stringValue | intValue
/// | …}}`) of `of`, as JSON; null when absent.
fn attribute(of: &Value, key: &str) -> Value {
    of["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["key"] == key)
        .and_then(|a| a["value"].as_object()?.values().next().cloned())
        .unwrap_or(Value::Null)
}

/// The trace and span of a caller that submits with a `traceparent`.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread")]
async fn requests_intents_stages_and_plugin_calls_reach_an_otlp_collector() {
    let (endpoint, spans) = collector().await;
    let data = tempfile::tempdir().unwrap();
    let plugins = crate::support::plugins();
    let server = Server::start_env(
        data.path(),
        &[
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--otlp-endpoint",
            &endpoint,
        ],
        // Exported every 200 ms rather than every 5 s.
        &[
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            ("OTEL_SERVICE_NAME", "qlp-test"),
        ],
    );

    // An error names its request, as the logs and traces do.
    let missing = server
        .http
        .get(server.endpoint("/v1/intents/nothing"))
        .header("x-request-id", "req-missing-7")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["request_id"], "req-missing-7", "{body}");

    let accepted = server
        .http
        .post(server.endpoint("/v1/intents"))
        .header("x-request-id", "req-submit-1")
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({ "description": "A FastAPI service for invoices", "tier": "standard" }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let id = accepted.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = server.wait(&id).await;
    assert_eq!(done["status"], "completed", "{done}");

    // The intent's span ends after its stages', so once it is exported
    // they are too (one more export round for good measure).
    let deadline = Instant::now() + Duration::from_secs(60);
    let (request, intent) = loop {
        let kept = spans.lock().unwrap().clone();
        let request = kept
            .iter()
            .find(|s| attribute(s, "request_id") == "req-submit-1")
            .cloned();
        let intent = kept
            .iter()
            .find(|s| s["name"] == "intent" && attribute(s, "intent.id") == id.as_str())
            .cloned();
        if let (Some(request), Some(intent)) = (request, intent) {
            break (request, intent);
        }
        assert!(
            Instant::now() < deadline,
            "the collector did not get the request's and the intent's spans: {kept:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kept = spans.lock().unwrap().clone();
    let in_run = |name: &str| -> Vec<Value> {
        kept.iter()
            .filter(|s| s["name"] == name && s["traceId"] == intent["traceId"])
            .cloned()
            .collect()
    };
    let (stages, plugin_calls) = (in_run("stage"), in_run("plugin.call"));
    // Agent, analyzers, validators, exporter, delivery: each a stage with
    // one plugin call.
    assert!(stages.len() >= 4, "{stages:#?}");
    assert_eq!(plugin_calls.len(), stages.len(), "{plugin_calls:#?}");
    assert_eq!(request["name"], "POST /v1/intents", "{request}");
    // The caller's trace goes on: the request is a child of its span, and
    // the intent's run, on a worker after the request ended, is in the
    // same trace, under the request.
    assert_eq!(request["traceId"], CALLER_TRACE, "{request}");
    assert_eq!(request["parentSpanId"], CALLER_SPAN, "{request}");
    assert_eq!(intent["traceId"], CALLER_TRACE, "{intent}");
    assert_eq!(intent["parentSpanId"], request["spanId"], "{intent}");
    let status = attribute(&request, "http.response.status_code");
    assert!(status == json!(202) || status == json!("202"), "{request}");
    assert_eq!(request["service"], "qlp-test");
    assert_eq!(attribute(&intent, "tier"), "standard");
    for stage in &stages {
        assert_eq!(stage["parentSpanId"], intent["spanId"], "{stage}");
    }
    let stage_ids: Vec<&Value> = stages.iter().map(|s| &s["spanId"]).collect();
    for call in &plugin_calls {
        assert!(stage_ids.contains(&&call["parentSpanId"]), "{call}");
        assert_eq!(attribute(call, "outcome"), "ok", "{call}");
        assert!(
            attribute(call, "plugin")
                .as_str()
                .unwrap()
                .starts_with("qlp/")
        );
        assert!(!attribute(call, "peak_memory_bytes").is_null(), "{call}");
    }
    server.stop();
}
