//! The pipeline engine as a user relies on it: repair rounds, approval,
//! resuming after a crash, cancellation and back-pressure.

use serde_json::{Value, json};

use crate::INVOICES;
use crate::support::{Server, author, eventually, log_line, stage, stages};

/// Whether the intent has a stage `name` in status `status`.
fn has_stage(intent: &Value, name: &str, status: &str) -> bool {
    stages(intent, name).iter().any(|s| s["status"] == status)
}

/// A `durable`-tier intent whose validator burns `steps` steps.
fn burning(steps: u64) -> Value {
    json!({ "description": INVOICES, "tier": "durable", "constraints": { "burn": steps.to_string() } })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_gate_is_repaired_in_a_later_round() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let repaired = server
        .submit(json!({ "description": INVOICES, "tier": "repairing" }))
        .await;
    let unrepaired = server
        .submit(json!({ "description": INVOICES, "tier": "unrepaired" }))
        .await;

    let intent = server.wait(&repaired).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    // Round 0 failed on the planted key, round 1 passed.
    let gates = stages(&intent, "gate");
    assert_eq!(gates.len(), 2, "{intent:#}");
    assert_eq!(gates[0]["iteration"], 0);
    assert_eq!(gates[0]["status"], "failed");
    assert_eq!(gates[0]["error"]["code"], "GATE_FAILED");
    assert!(
        gates[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("app/settings.py"),
        "{intent:#}"
    );
    assert_eq!(gates[1]["iteration"], 1);
    assert_eq!(gates[1]["status"], "succeeded");
    // Both agents ran in both rounds.
    let generate = stages(&intent, "generate");
    assert_eq!(
        generate
            .iter()
            .map(|s| (
                s["iteration"].as_u64().unwrap(),
                s["plugin"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        vec![
            (0, "qlp/template-fastapi"),
            (0, "fixture/repairing-agent"),
            (1, "qlp/template-fastapi"),
            (1, "fixture/repairing-agent"),
        ]
    );

    // The capsule says which round it came from and why the rounds stopped.
    let capsule = server.get_json(&format!("/v1/capsules/{repaired}")).await;
    let gate = &capsule["manifest"]["gate"];
    assert_eq!(gate["iteration"], 1, "{gate:#}");
    assert_eq!(gate["decision"], "pass");
    assert_eq!(gate["stopped"], "the gate passed");
    assert_eq!(gate["iterations"][0]["decision"], "fail");
    assert_eq!(gate["iterations"][1]["decision"], "pass");
    let settings = server
        .get_bytes(&format!("/v1/capsules/{repaired}/files/app/settings.py"))
        .await;
    let settings = String::from_utf8(settings).unwrap();
    assert!(
        settings.contains("os.environ") && !settings.contains("PRIVATE KEY"),
        "{settings}"
    );
    // The agent was told its role, and the manifest says who wrote what.
    assert!(
        settings.contains("repaired by the security agent"),
        "{settings}"
    );
    assert_eq!(
        author(&capsule, "app/settings.py"),
        Some(json!("fixture/repairing-agent"))
    );
    assert_eq!(
        author(&capsule, "app/main.py"),
        Some(json!("qlp/template-fastapi"))
    );
    assert!(has_stage(&intent, "deliver", "succeeded"), "{intent:#}");

    // Without repair rounds the same leak fails the gate and says so.
    let intent = server.wait(&unrepaired).await;
    assert_eq!(intent["status"], "gate_failed", "{intent:#}");
    assert_eq!(stages(&intent, "gate").len(), 1);
    let capsule = server.get_json(&format!("/v1/capsules/{unrepaired}")).await;
    assert_eq!(
        capsule["manifest"]["gate"]["stopped"],
        "the gate failed and the tier allows no repair rounds"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_holds_delivery_until_a_person_decides() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let approved = server
        .submit(json!({ "description": INVOICES, "tier": "reviewed" }))
        .await;
    let rejected = server
        .submit(json!({ "description": INVOICES, "tier": "reviewed" }))
        .await;
    let awaiting = |i: &Value| i["status"] == "awaiting_approval";
    for id in [&approved, &rejected] {
        let intent = server.wait_until(id, awaiting).await;
        // The capsule is built and visible, but not delivered.
        assert!(
            stages(&intent, "deliver").is_empty(),
            "delivered before approval: {intent:#}"
        );
        let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
        assert_eq!(capsule["receipt"], Value::Null);
    }
    assert!(!data.path().join("deliveries").join(&approved).exists());

    // Bad decisions change nothing.
    let (status, body) = server
        .post_json(
            &format!("/v1/intents/{approved}/approve"),
            json!({ "comment": "x".repeat(4_001) }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("COMMENT_TOO_LONG"))
    );
    let (status, body) = server
        .post_json(
            "/v1/intents/00000000-0000-0000-0000-000000000000/approve",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("INTENT_NOT_FOUND"))
    );

    // A reviewer decides; the name in the body is not trusted, the key is.
    let (ana, ana_key) = server.create_key("default", &["reviewer"]).await;
    let (status, body) = server
        .post_json_as(
            &ana_key,
            &format!("/v1/intents/{approved}/approve"),
            json!({ "by": "someone-else@example.com", "comment": "reviewed the auth module" }),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let intent = server.wait(&approved).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    assert_eq!(intent["approval"]["decision"], "approved");
    assert_eq!(intent["approval"]["by"], format!("key:{ana}"));
    assert_eq!(intent["approval"]["comment"], "reviewed the auth module");
    assert!(intent["approval"]["at"].is_string());
    assert_eq!(stages(&intent, "deliver").len(), 1, "{intent:#}");
    assert_eq!(stage(&intent, "deliver")["status"], "succeeded");
    // Every earlier stage ran once: approval resumed, it did not restart.
    assert_eq!(stages(&intent, "generate").len(), 1, "{intent:#}");
    assert_eq!(stages(&intent, "export").len(), 1, "{intent:#}");
    let capsule = server.get_json(&format!("/v1/capsules/{approved}")).await;
    let location = capsule["receipt"]["location"].as_str().expect("a receipt");
    assert!(data.path().join("deliveries").join(location).is_file());

    let (bo, bo_key) = server.create_key("default", &["reviewer"]).await;
    let (status, body) = server
        .post_json_as(
            &bo_key,
            &format!("/v1/intents/{rejected}/reject"),
            json!({ "comment": "wrong database" }),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let intent = server.wait(&rejected).await;
    assert_eq!(intent["status"], "rejected", "{intent:#}");
    assert_eq!(intent["approval"]["by"], format!("key:{bo}"));
    assert!(stages(&intent, "deliver").is_empty(), "{intent:#}");

    // A decision is made once.
    let (status, body) = server
        .post_json(&format!("/v1/intents/{rejected}/approve"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("NOT_AWAITING_APPROVAL"))
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_resumes_at_the_first_unfinished_stage_and_delivers_once() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let id = server.submit(burning(2_000_000_000)).await;
    server
        .wait_until(&id, |i| has_stage(i, "validate", "running"))
        .await;
    server.kill();

    let server = Server::start_with_fixtures(data.path());
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let statuses = |name: &str| -> Vec<String> {
        stages(&intent, name)
            .iter()
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .collect()
    };
    // Generation finished before the kill and did not run again; the
    // validator was interrupted and ran once more; the rest ran once.
    assert_eq!(statuses("generate"), ["succeeded"], "{intent:#}");
    assert_eq!(
        statuses("validate"),
        ["interrupted", "succeeded"],
        "{intent:#}"
    );
    assert_eq!(statuses("gate"), ["succeeded"]);
    assert_eq!(statuses("export"), ["succeeded"]);
    assert_eq!(statuses("deliver"), ["succeeded"]);
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let location = capsule["receipt"]["location"].as_str().expect("a receipt");
    let delivered = std::fs::read(data.path().join("deliveries").join(location)).unwrap();
    let zip = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    assert_eq!(delivered, zip);

    // A further restart finds nothing to do: still one delivery.
    server.stop();
    let server = Server::start_with_fixtures(data.path());
    let again = server.get_json(&format!("/v1/intents/{id}")).await;
    assert_eq!(again["stages"], intent["stages"]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_interrupts_a_running_plugin() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    // Far more work than the stage's 60 s deadline: only cancellation
    // ends it within the test's wait.
    let id = server.submit(burning(1_000_000_000_000)).await;
    server
        .wait_until(&id, |i| has_stage(i, "validate", "running"))
        .await;
    let (status, body) = server
        .post_json(&format!("/v1/intents/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202, "{body:#}");
    assert_eq!(body["cancel_requested"], true);
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "cancelled", "{intent:#}");
    assert_eq!(intent["error"]["code"], "CANCELLED");
    let validate = stage(&intent, "validate");
    assert_eq!(validate["status"], "failed");
    assert_eq!(validate["error"]["code"], "CANCELLED");
    assert!(stages(&intent, "export").is_empty(), "{intent:#}");

    // Cancelling again says the same; an intent that ended otherwise has
    // nothing left to cancel.
    let (status, body) = server
        .post_json(&format!("/v1/intents/{id}/cancel"), json!({}))
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("cancelled")));
    let (status, _) = server
        .post_json(
            "/v1/intents/00000000-0000-0000-0000-000000000000/cancel",
            json!({}),
        )
        .await;
    assert_eq!(status, 404);

    // The server goes on serving.
    let fine = server.submit(burning(1_000)).await;
    assert_eq!(server.wait(&fine).await["status"], "completed");
    let (status, body) = server
        .post_json(&format!("/v1/intents/{fine}/cancel"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("INTENT_FINISHED"))
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_past_the_queue_depth_gets_429_and_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--workers", "1", "--max-queued", "3"],
    );
    let mut accepted = vec![];
    let mut refused = 0;
    for _ in 0..12 {
        let response = server
            .http
            .post(server.endpoint("/v1/intents"))
            .json(&burning(300_000_000))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            202 => {
                let body: Value = response.json().await.unwrap();
                accepted.push(body["id"].as_str().unwrap().to_owned());
            }
            429 => {
                assert_eq!(
                    response.headers()["retry-after"].to_str().unwrap(),
                    "5",
                    "429 without Retry-After"
                );
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "QUEUE_FULL");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    // One worker, three queued: about four of twelve fit.
    assert!(refused >= 6, "only {refused} of 12 refused");
    assert!(accepted.len() >= 3, "{accepted:?}");
    // Everything accepted runs to the end; nothing refused was stored.
    for id in &accepted {
        assert_eq!(server.wait(id).await["status"], "completed");
    }
    let listed = server.get_json("/v1/intents").await;
    assert_eq!(
        listed["intents"].as_array().unwrap().len(),
        accepted.len(),
        "{listed:#}"
    );
    server.stop();
}

/// What the test receiver saw of one request.
#[derive(Clone, Debug)]
struct Received {
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_are_signed_and_retried_after_the_receiver_fails() {
    use std::sync::{Arc, Mutex};

    // A receiver on loopback that fails its first two requests.
    let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
    let app = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let seen = seen.clone();
                    async move {
                        let mut seen = seen.lock().unwrap();
                        seen.push(Received {
                            headers,
                            body: body.to_vec(),
                        });
                        if seen.len() <= 2 {
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            axum::http::StatusCode::NO_CONTENT
                        }
                    }
                },
            ),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_addr = listener.local_addr().unwrap().to_string();
    let receiver = format!("http://{receiver_addr}/hook");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let data = tempfile::tempdir().unwrap();
    // The receiver is on loopback: the operator allows that destination.
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--webhook-allow", &receiver_addr],
    );
    // Any other destination off the public internet is refused, in every
    // spelling, and so is https, which this build cannot deliver.
    // (Another port: the allowed one is allowed in any spelling.)
    let port = receiver_addr
        .rsplit_once(':')
        .unwrap()
        .1
        .parse::<u16>()
        .unwrap()
        + 1;
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://0x7f000001:{port}/hook"),
        format!("http://127.1:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/hook".to_owned(),
        "http://[64:ff9b::a9fe:a9fe]/hook".to_owned(),
    ] {
        let (status, body) = server
            .post_json(
                "/v1/webhooks",
                json!({ "url": url, "events": ["intent.completed"] }),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("WEBHOOK_DESTINATION_REFUSED")),
            "{url}: {body}"
        );
    }
    let (status, body) = server
        .post_json(
            "/v1/webhooks",
            json!({ "url": "ftp://hooks.example.com/x", "events": ["intent.completed"] }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_WEBHOOK"))
    );
    assert!(
        server.get_json("/v1/webhooks").await["webhooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Bad registrations are refused with the reason.
    let (status, body) = server
        .post_json(
            "/v1/webhooks",
            json!({ "url": receiver, "events": ["intent.exploded"] }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_WEBHOOK"))
    );
    let (status, body) = server
        .post_json(
            "/v1/webhooks",
            json!({ "url": "ftp://example.com/x", "events": ["intent.completed"] }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_WEBHOOK"))
    );

    let (status, body) = server
        .post_json(
            "/v1/webhooks",
            json!({ "url": receiver, "events": ["intent.completed"], "secret": "short" }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_WEBHOOK"))
    );
    let long = format!("http://127.0.0.1/{}", "a".repeat(2048));
    let (status, body) = server
        .post_json(
            "/v1/webhooks",
            json!({ "url": long, "events": ["intent.completed"] }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_WEBHOOK"))
    );
    let missing = server.get("/v1/webhooks/no-such-hook/deliveries").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["code"],
        "WEBHOOK_NOT_FOUND"
    );

    let (status, hook) = server
        .post_json(
            "/v1/webhooks",
            json!({ "url": receiver, "events": ["intent.completed", "approval.required"] }),
        )
        .await;
    assert_eq!(status, 201, "{hook:#}");
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let listed = server.get_json("/v1/webhooks").await;
    assert_eq!(listed["webhooks"][0]["id"], hook_id.as_str());
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "secrets are shown once"
    );

    let id = server.submit(burning(1_000)).await;
    assert_eq!(server.wait(&id).await["status"], "completed");

    // Three attempts: two failures, then the delivery (backoff 0.5 s, then
    // 1 s, with jitter).
    let deliveries = eventually(
        "the webhook delivered",
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(100),
        || async {
            let d = server
                .get_json(&format!("/v1/webhooks/{hook_id}/deliveries"))
                .await;
            (d["deliveries"][0]["status"] != "pending").then_some(d)
        },
    )
    .await;
    let delivery = &deliveries["deliveries"][0];
    assert_eq!(delivery["status"], "delivered", "{deliveries:#}");
    assert_eq!(delivery["event"], "intent.completed");
    assert_eq!(delivery["intent_id"], id.as_str());
    assert_eq!(delivery["attempts"], 3);
    let codes: Vec<u64> = delivery["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 204]);

    // Every attempt carried the same body and a valid signature over its
    // timestamp and that body.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        let header = |name: &str| r.headers[name].to_str().unwrap().to_owned();
        assert_eq!(header("x-qlp-event"), "intent.completed");
        assert_eq!(header("x-qlp-delivery"), delivery["id"].as_str().unwrap());
        let timestamp: u64 = header("x-qlp-timestamp").parse().unwrap();
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&r.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(header("x-qlp-signature"), format!("v1={expected}"));
        assert_eq!(r.body, seen[0].body);
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["event"], "intent.completed");
        assert_eq!(body["intent"]["id"], id.as_str());
        assert_eq!(body["intent"]["status"], "completed");
    }

    // Removed, it is gone, and removing it again is a 404.
    let delete = |path: String| server.http.delete(server.endpoint(&path)).send();
    assert_eq!(
        delete(format!("/v1/webhooks/{hook_id}"))
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(server.get_json("/v1/webhooks").await["webhooks"], json!([]));
    assert_eq!(
        delete(format!("/v1/webhooks/{hook_id}"))
            .await
            .unwrap()
            .status(),
        404
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_stream_follows_an_intent_to_its_end() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "repairing" }))
        .await;
    // The stream ends by itself once the intent has.
    let response = tokio::time::timeout(
        crate::support::INTENT_TIMEOUT,
        server.get(&format!("/v1/intents/{id}/events")),
    )
    .await
    .expect("the stream opens");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let text = tokio::time::timeout(crate::support::INTENT_TIMEOUT, response.text())
        .await
        .expect("the stream ends")
        .unwrap();
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = Some(v.to_owned());
                }
                if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str::<Value>(v).unwrap());
                }
            }
            Some((name?, data?))
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    // Every stage that ran finished on the stream, in order; the repair
    // round and both gate decisions are there; the last word is the end.
    let intent = server.get_json(&format!("/v1/intents/{id}")).await;
    let finished: Vec<(i64, String)> = events
        .iter()
        .filter(|(n, _)| n == "stage.finished" || n == "gate")
        .map(|(_, d)| {
            (
                d["seq"].as_i64().unwrap(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let recorded: Vec<(i64, String)> = intent["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seq"].as_i64().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(finished, recorded, "{names:?}");
    let gates: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "gate")
        .map(|(_, d)| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(gates, ["failed", "succeeded"]);
    assert!(names.contains(&"iteration"), "{names:?}");
    let (last, data) = events.last().unwrap();
    assert_eq!(
        (last.as_str(), &data["status"]),
        ("status", &json!("completed"))
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn independent_validators_run_concurrently_within_the_tiers_bound() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--max-calls", "4"],
    );
    let burn = json!({ "burn": "500000000" });
    let parallel = server
        .submit(json!({ "description": INVOICES, "tier": "parallel", "constraints": burn }))
        .await;
    let serial = server
        .submit(json!({ "description": INVOICES, "tier": "one-at-a-time", "constraints": burn }))
        .await;
    // The times recorded for the two validate stages: (start, end) each,
    // RFC 3339 UTC with milliseconds, so they order as strings.
    let spans = |intent: &Value| -> Vec<(String, String)> {
        stages(intent, "validate")
            .iter()
            .map(|s| {
                (
                    s["started_at"].as_str().unwrap().to_owned(),
                    s["finished_at"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    let intent = server.wait(&parallel).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let s = spans(&intent);
    assert_eq!(s.len(), 2);
    assert!(
        s[0].0 < s[1].1 && s[1].0 < s[0].1,
        "the validators did not overlap: {s:?}"
    );

    let intent = server.wait(&serial).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let s = spans(&intent);
    assert!(
        s[0].1 <= s[1].0 || s[1].1 <= s[0].0,
        "concurrency = 1 let validators overlap: {s:?}"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graph_tier_runs_independent_stages_together_and_dependent_ones_after() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--max-calls", "4"],
    );
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "graph", "constraints": { "burn": "500000000" } }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    // (start, end) of a stage: RFC 3339 UTC with milliseconds, so they
    // order as strings.
    let span = |name: &str| {
        let s = stage(&intent, name);
        assert_eq!(s["status"], "succeeded", "{s:#}");
        (
            s["started_at"].as_str().unwrap().to_owned(),
            s["finished_at"].as_str().unwrap().to_owned(),
        )
    };
    let (scaffold, measure, burn, secrets) = (
        span("scaffold"),
        span("measure"),
        span("burn"),
        span("secrets"),
    );
    for (name, s) in [("measure", &measure), ("burn", &burn)] {
        assert!(scaffold.1 <= s.0, "{name} started before the agent ended");
    }
    // `burn` needs only the agent's files: it runs beside the analysis...
    assert!(
        burn.0 < measure.1 && measure.0 < burn.1,
        "independent stages did not overlap: measure {measure:?}, burn {burn:?}"
    );
    // ...and `secrets`, which needs the analysis, starts after it ends.
    assert!(
        measure.1 <= secrets.0,
        "secrets started before measure ended"
    );
    assert!(
        secrets.0 < burn.1,
        "secrets waited for a stage it does not need"
    );
    let capsule: Value = server
        .get(&format!("/v1/capsules/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let validators: Vec<&str> = capsule["validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["validator"].as_str().unwrap())
        .collect();
    assert_eq!(validators, ["fixture/slow", "qlp/secrets"]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_planner_recommends_a_tier_and_runs_it_when_none_is_named() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let analyze = |description: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server
                .post_json("/v1/analyses", json!({ "description": description }))
                .await;
            assert_eq!(status, 200, "{body:#}");
            body["analysis"].clone()
        }
    };

    let payments =
        analyze("A checkout service that takes card payments with Stripe, FastAPI and PostgreSQL")
            .await;
    assert_eq!(
        payments["recommended_tier"], "mission-critical",
        "{payments:#}"
    );
    assert_eq!(payments["compliance"], json!(["payments"]));
    let complexity = payments["complexity"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&complexity));
    assert!(
        payments["justification"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j.as_str().unwrap().contains("payments")),
        "{payments:#}"
    );
    assert!(payments["estimated_files"].as_u64().unwrap() > 0);

    let page = analyze("A static landing page for a bakery").await;
    assert_eq!(page["recommended_tier"], "starter", "{page:#}");
    assert!(page["complexity"].as_f64().unwrap() < payments["complexity"].as_f64().unwrap());
    assert_eq!(page["compliance"], json!([]));

    // Bad input gets the same answers as a submission.
    let (status, body) = server
        .post_json("/v1/analyses", json!({ "description": " " }))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("EMPTY_DESCRIPTION"))
    );

    // An intent without a tier runs the recommended one, and its first
    // stage is the plan.
    let id = server
        .submit(json!({ "description": "A static landing page for a bakery" }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["tier"], "starter", "{intent:#}");
    assert_eq!(intent["stages"][0]["stage"], "plan");
    assert_eq!(intent["stages"][0]["plugin"], "qlp/planner");
    assert_eq!(intent["stages"][0]["detail"]["recommended_tier"], "starter");
    server.stop();

    // Without a planner, analyses are unavailable and an intent without a
    // tier runs the default one.
    let plain = data.path().join("plain-tiers.toml");
    std::fs::write(
        &plain,
        "[tiers.standard]\nagents = [\"qlp/template-fastapi\"]\nexporter = \"qlp/zip\"\ngate = { min_score = 0 }\n",
    )
    .unwrap();
    let other = tempfile::tempdir().unwrap();
    let plugins = crate::support::plugins();
    let server = Server::start(
        other.path(),
        &[
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--tiers",
            plain.to_str().unwrap(),
        ],
    );
    let (status, body) = server
        .post_json("/v1/analyses", json!({ "description": "A static page" }))
        .await;
    assert_eq!((status, body["code"].as_str()), (503, Some("NO_PLANNER")));
    let id = server
        .submit(json!({ "description": "A static page" }))
        .await;
    assert_eq!(
        server.get_json(&format!("/v1/intents/{id}")).await["tier"],
        "standard"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_tiers_file_and_a_bad_file_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let tiers = data.path().join("tiers.toml");
    let original = std::fs::read_to_string(crate::support::test_tiers()).unwrap();
    std::fs::write(&tiers, &original).unwrap();
    let server = Server::start_with_fixtures_on(data.path(), &tiers, &[]);
    let extra = json!({ "description": INVOICES, "tier": "extra" });
    let (status, body) = server.post_json("/v1/intents", extra.clone()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("UNKNOWN_TIER")));

    // A new tier, then SIGHUP: the next intent can use it, no restart.
    std::fs::write(
        &tiers,
        format!(
            "{original}\n[tiers.extra]\nagents = [\"qlp/template-fastapi\"]\nexporter = \"qlp/zip\"\ngate = {{ min_score = 0 }}\n"
        ),
    )
    .unwrap();
    server.signal("HUP");
    let id = eventually(
        "the reload took",
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(50),
        || async {
            let (status, body) = server.post_json("/v1/intents", extra.clone()).await;
            (status == 202).then(|| body["id"].as_str().unwrap().to_owned())
        },
    )
    .await;
    assert_eq!(server.wait(&id).await["status"], "completed");

    // A file naming a plugin that is not installed is refused, with the
    // tier named in the log, and the tiers in force stay.
    std::fs::write(
        &tiers,
        "[tiers.broken]\nagents = [\"nope/agent\"]\nexporter = \"qlp/zip\"\ngate = { min_score = 0 }\n",
    )
    .unwrap();
    server.signal("HUP");
    let log = data.path().join("server.log");
    log_line(
        &log,
        "tiers file refused",
        std::time::Duration::from_secs(60),
    )
    .await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("nope/agent"), "{text}");
    let (status, body) = server.post_json("/v1/intents", extra).await;
    assert_eq!(status, 202, "{body:#}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tier_with_two_exporters_runs_them_together_and_delivers_both_artifacts() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    // The listing burns about 0.3 s before it answers; the zip takes
    // milliseconds.
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "two-exports", "constraints": { "burn": "300000000" } }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    // (start, end) of each export: RFC 3339 UTC with milliseconds, so they
    // order as strings. Run one after the other, the zip would start after
    // the listing ended.
    let span = |plugin: &str| {
        let s = stages(&intent, "export")
            .into_iter()
            .find(|s| s["plugin"] == plugin)
            .unwrap_or_else(|| panic!("no export by {plugin}: {intent:#}"));
        assert_eq!(s["status"], "succeeded", "{s:#}");
        (
            s["started_at"].as_str().unwrap().to_owned(),
            s["finished_at"].as_str().unwrap().to_owned(),
        )
    };
    let (listing_span, zip_span) = (span("fixture/listing"), span("qlp/zip"));
    assert!(
        zip_span.0 < listing_span.1 && listing_span.0 < zip_span.1,
        "the exporters did not overlap: listing {listing_span:?}, zip {zip_span:?}"
    );

    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let artifacts = capsule["artifacts"].as_array().unwrap();
    let names: Vec<&str> = artifacts
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    let base = format!("capsule-{}", &id[..8]);
    assert_eq!(names, [format!("{base}.txt"), format!("{base}.zip")]);
    assert_eq!(artifacts[0]["exporter"], "fixture/listing");
    assert_eq!(artifacts[0]["media_type"], "text/plain");
    assert_eq!(artifacts[1]["exporter"], "qlp/zip");

    // The first exporter's artifact is the download; every one is served
    // by name with the digest the capsule lists.
    let listing = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    assert_eq!(
        listing,
        server
            .get_bytes(&format!("/v1/capsules/{id}/artifacts/{base}.txt"))
            .await
    );
    for (artifact, name) in artifacts.iter().zip(&names) {
        let bytes = server
            .get_bytes(&format!("/v1/capsules/{id}/artifacts/{name}"))
            .await;
        assert_eq!(
            artifact["blake3"],
            blake3::hash(&bytes).to_hex().as_str(),
            "{name}"
        );
        assert_eq!(artifact["bytes"], bytes.len(), "{name}");
    }
    let listing = String::from_utf8(listing).unwrap();
    // Every file of the capsule is listed, the manifest included.
    let files = capsule["files"].as_array().unwrap();
    assert_eq!(listing.lines().count(), files.len() + 1, "{listing}");
    assert!(listing.contains(".qlcapsule-manifest.json "), "{listing}");
    let missing = server
        .get(&format!("/v1/capsules/{id}/artifacts/other.bin"))
        .await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "ARTIFACT_NOT_FOUND");

    // The manifest names both exporters, and both artifacts were delivered.
    let ran: Vec<&str> = capsule["manifest"]["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        ran.contains(&"qlp/zip") && ran.contains(&"fixture/listing"),
        "{ran:?}"
    );
    assert_eq!(stages(&intent, "deliver").len(), 2, "{intent:#}");
    let receipts = capsule["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 2, "{capsule:#}");
    assert_eq!(capsule["receipt"], receipts[0]);
    for (receipt, name) in receipts.iter().zip(&names) {
        let location = receipt["location"].as_str().unwrap();
        assert!(location.ends_with(name), "{location}");
        let delivered = std::fs::read(data.path().join("deliveries").join(location)).unwrap();
        let served = server
            .get_bytes(&format!("/v1/capsules/{id}/artifacts/{name}"))
            .await;
        assert_eq!(delivered, served, "{name}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_exporters_producing_one_file_name_fail_the_export() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    // The listing names its artifact `.zip`, as `qlp/zip` does.
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "two-exports", "constraints": { "listing-extension": "zip" } }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "failed", "{intent:#}");
    assert_eq!(intent["error"]["code"], "INVALID_OUTPUT", "{intent:#}");
    let message = intent["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "(qlp/zip) failed: another exporter already produced `capsule-{}.zip`",
            &id[..8]
        )),
        "{message}"
    );
    // Nothing was delivered.
    assert!(stages(&intent, "deliver").is_empty(), "{intent:#}");
    assert!(!data.path().join("deliveries").join(&id).exists());
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_requests_planner_waits_for_a_call_slot_like_any_stage() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--max-calls", "1"],
    );
    // The one call slot is held by a validator that works until it is
    // cancelled.
    let id = server.submit(burning(1_000_000_000_000)).await;
    server
        .wait_until(&id, |i| has_stage(i, "validate", "running"))
        .await;
    let analysis = json!({ "description": INVOICES });
    let started = std::time::Instant::now();
    let response = server
        .http
        .post(server.endpoint("/v1/analyses"))
        .json(&analysis)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "SERVER_BUSY", "{body}");
    assert!(started.elapsed() >= qlp_server::pipeline::PLAN_WAIT);
    // A submission that needs the planner (no tier given) waits the same,
    // and nothing is stored.
    let (status, body) = server
        .post_json("/v1/intents", json!({ "description": INVOICES }))
        .await;
    assert_eq!((status, body["code"].as_str()), (503, Some("SERVER_BUSY")));
    let listed = server.get_json("/v1/intents").await;
    assert_eq!(listed["intents"].as_array().unwrap().len(), 1, "{listed}");

    // Once the slot is free, the planner runs.
    let (status, _) = server
        .post_json(&format!("/v1/intents/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    server.wait(&id).await;
    let (status, body) = server.post_json("/v1/analyses", analysis).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["tier"].is_string(), "{body}");
    server.stop();
}
