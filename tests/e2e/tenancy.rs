//! Identity and tenancy: every endpoint against every role, tenants that
//! cannot see each other, keys that stop working, approval under
//! separation of duties, tenant policies (tiers, compliance floors,
//! quotas), and requests refused before their body is read.

use std::io::{Read, Write};
use std::time::Duration;

use qlp_server::api::access::{Access, ROUTES};
use serde_json::{Value, json};

use crate::INVOICES;
use crate::support::{Server, client_with_key};

/// A request for `method path` presenting `key` (none: anonymous), with an
/// empty JSON object as the body of a POST; returns the status and code.
async fn call(server: &Server, key: Option<&str>, method: &str, path: &str) -> (u16, String) {
    let http = match key {
        Some(key) => client_with_key(key),
        None => reqwest::Client::new(),
    };
    let url = server.endpoint(path);
    let request = match method {
        "GET" => http.get(url),
        "POST" => http.post(url).json(&json!({})),
        "PUT" => http.put(url).json(&json!({})),
        "DELETE" => http.delete(url),
        other => panic!("no such method in the table: {other}"),
    };
    let response = request.send().await.expect("a response");
    let status = response.status().as_u16();
    // Event streams never end by themselves; their status is enough.
    if response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"))
    {
        return (status, String::new());
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// The path of a route pattern with every parameter filled in by a value
/// that names nothing.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{id}", "00000000-0000-0000-0000-000000000000")
        .replace("{name}", "nothing.zip")
        .replace("{*path}", "main.py")
        .replace("{namespace}", "acme")
        .replace("{version}", "1.0.0")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_answers_each_role_as_the_access_table_says() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let mut keys = vec![];
    for role in ["admin", "operator", "submitter", "reviewer", "auditor"] {
        let (_, key) = server.create_key("default", &[role]).await;
        keys.push((role, key));
    }
    let mut checked = 0;
    for (method, pattern, access) in ROUTES {
        let path = concrete(pattern);
        let (status, code) = call(&server, None, method, &path).await;
        match access {
            Access::Open => {
                assert!(
                    status != 401 && status != 403,
                    "{method} {pattern} anonymously: {status} {code}"
                );
            }
            Access::Publisher => {
                assert_eq!(
                    (status, code.as_str()),
                    (401, "UNAUTHENTICATED"),
                    "{method} {pattern} anonymously"
                );
                // An API key, even an admin's, is not a publisher's token.
                let (status, _) = call(&server, Some(&server.admin_key), method, &path).await;
                assert_eq!(status, 401, "{method} {pattern} with the admin key");
            }
            Access::Roles(allowed) => {
                assert_eq!(
                    (status, code.as_str()),
                    (401, "UNAUTHENTICATED"),
                    "{method} {pattern} anonymously"
                );
                for (role, key) in &keys {
                    let (status, code) = call(&server, Some(key), method, &path).await;
                    if allowed.iter().any(|r| r.as_str() == *role) {
                        assert!(
                            status != 401 && status != 403,
                            "{method} {pattern} as {role}: {status} {code}"
                        );
                    } else {
                        assert_eq!(
                            (status, code.as_str()),
                            (403, "FORBIDDEN"),
                            "{method} {pattern} as {role}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 100, "only {checked} role checks");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_never_sees_or_touches_another_tenants_intents() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--webhook-allow", "127.0.0.1:9"],
    );
    server.create_tenant("acme").await;
    server.create_tenant("globex").await;
    let (_, alice) = server.create_key("acme", &["submitter"]).await;
    let (_, bob) = server.create_key("acme", &["submitter"]).await;
    let (_, acme_reviewer) = server.create_key("acme", &["reviewer"]).await;
    let (_, acme_operator) = server.create_key("acme", &["operator"]).await;
    let (_, globex) = server
        .create_key("globex", &["submitter", "operator", "reviewer", "auditor"])
        .await;

    // Alice submits under an idempotency key; the capsule waits for a
    // reviewer.
    let submit = |key: &str| {
        client_with_key(key)
            .post(server.endpoint("/v1/intents"))
            .header("Idempotency-Key", "order-1")
            .json(&json!({ "description": INVOICES, "tier": "reviewed" }))
            .send()
    };
    let first = submit(&alice).await.unwrap();
    assert_eq!(first.status(), 202);
    let id = first.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, hook) = server
        .post_json_as(
            &acme_operator,
            "/v1/webhooks",
            json!({ "url": "http://127.0.0.1:9/hook", "events": ["approval.required", "intent.completed"] }),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let hook = hook["id"].as_str().unwrap().to_owned();
    let awaiting = |i: &Value| i["status"] == "awaiting_approval";
    let intent = server.wait_until_as(&alice, &id, awaiting).await;
    assert_eq!(intent["tenant"], "acme");

    // Another tenant, whatever its roles, meets a 404 everywhere.
    for (method, path, code) in [
        ("GET", format!("/v1/intents/{id}"), "INTENT_NOT_FOUND"),
        (
            "GET",
            format!("/v1/intents/{id}/events"),
            "INTENT_NOT_FOUND",
        ),
        (
            "POST",
            format!("/v1/intents/{id}/cancel"),
            "INTENT_NOT_FOUND",
        ),
        (
            "POST",
            format!("/v1/intents/{id}/approve"),
            "INTENT_NOT_FOUND",
        ),
        (
            "POST",
            format!("/v1/intents/{id}/reject"),
            "INTENT_NOT_FOUND",
        ),
        ("GET", format!("/v1/capsules/{id}"), "CAPSULE_NOT_FOUND"),
        (
            "GET",
            format!("/v1/capsules/{id}/download"),
            "CAPSULE_NOT_FOUND",
        ),
        (
            "GET",
            format!("/v1/capsules/{id}/files/main.py"),
            "CAPSULE_NOT_FOUND",
        ),
        (
            "GET",
            format!("/v1/webhooks/{hook}/deliveries"),
            "WEBHOOK_NOT_FOUND",
        ),
        (
            "DELETE",
            format!("/v1/webhooks/{hook}"),
            "WEBHOOK_NOT_FOUND",
        ),
    ] {
        let (status, got) = call(&server, Some(&globex), method, &path).await;
        assert_eq!(
            (status, got.as_str()),
            (404, code),
            "{method} {path} as globex"
        );
    }
    // And exactly the 404 of something that does not exist.
    let (status, got) = call(
        &server,
        Some(&globex),
        "GET",
        "/v1/intents/00000000-0000-0000-0000-000000000000",
    )
    .await;
    assert_eq!((status, got.as_str()), (404, "INTENT_NOT_FOUND"));
    let (_, list) = server.get_as(&globex, "/v1/intents").await;
    assert_eq!(list["intents"], json!([]), "{list}");
    let (_, hooks) = server.get_as(&globex, "/v1/webhooks").await;
    assert_eq!(hooks["webhooks"], json!([]), "{hooks}");

    // The same idempotency key from another tenant is another key.
    let other = submit(&globex).await.unwrap();
    assert_eq!(other.status(), 202);
    assert!(other.headers().get("idempotent-replayed").is_none());
    let other_id = other.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(other_id, id);
    // A retry by its own submitter replays.
    let again = submit(&alice).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id.as_str());

    // Within the tenant, a submitter sees its own intents only; a reviewer
    // and an operator see the tenant's.
    let (status, _) = server.get_as(&bob, &format!("/v1/intents/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &server,
        Some(&bob),
        "POST",
        &format!("/v1/intents/{id}/cancel"),
    )
    .await;
    assert_eq!(status, 404);
    let (_, list) = server.get_as(&bob, "/v1/intents").await;
    assert_eq!(list["intents"], json!([]));
    let (_, list) = server.get_as(&alice, "/v1/intents").await;
    assert_eq!(list["intents"][0]["id"], id.as_str());
    assert_eq!(list["intents"].as_array().unwrap().len(), 1);
    for key in [&acme_reviewer, &acme_operator] {
        let (status, _) = server.get_as(key, &format!("/v1/intents/{id}")).await;
        assert_eq!(status, 200);
    }

    // Acme's reviewer approves; only acme's intents reach acme's webhook.
    let (status, body) = server
        .post_json_as(
            &acme_reviewer,
            &format!("/v1/intents/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let completed = |i: &Value| i["status"] == "completed";
    server.wait_until_as(&alice, &id, completed).await;
    server.wait_until_as(&globex, &other_id, awaiting).await;
    let (_, deliveries) = server
        .get_as(&acme_operator, &format!("/v1/webhooks/{hook}/deliveries"))
        .await;
    let deliveries = deliveries["deliveries"].as_array().unwrap().clone();
    assert!(!deliveries.is_empty());
    assert!(
        deliveries.iter().all(|d| d["intent_id"] == id.as_str()),
        "{deliveries:#?}"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_revoked_and_malformed_keys_get_401_with_their_code() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let (status, body) = server
        .post_json(
            "/v1/keys",
            json!({ "tenant": "default", "name": "short", "roles": ["auditor"], "expires_in": "1s" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let short = body["key"].as_str().unwrap().to_owned();
    let (id, revoked) = server.create_key("default", &["auditor"]).await;
    assert_eq!(server.get_as(&revoked, "/v1/intents").await.0, 200);
    let gone = server
        .http
        .delete(server.endpoint(&format!("/v1/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let mut forged = revoked.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    for (key, code) in [
        (short.as_str(), "KEY_EXPIRED"),
        (revoked.as_str(), "KEY_REVOKED"),
        ("qlp_nonsense", "INVALID_KEY"),
        (forged.as_str(), "INVALID_KEY"),
    ] {
        let (status, got) = call(&server, Some(key), "GET", "/v1/intents").await;
        assert_eq!((status, got.as_str()), (401, code), "{key}");
    }
    // A forged key is refused as unknown even though its key was revoked:
    // the state of a key is told only to whoever holds it.
    let (status, got) = call(&server, None, "GET", "/v1/intents").await;
    assert_eq!((status, got.as_str()), (401, "UNAUTHENTICATED"));

    // Keys are listed without their secrets.
    let listing = server
        .http
        .get(server.endpoint("/v1/keys"))
        .send()
        .await
        .unwrap();
    let text = listing.text().await.unwrap();
    for secret in [&short, &revoked, &server.admin_key] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is listed: {text}"
        );
    }
    let keys: Value = serde_json::from_str(&text).unwrap();
    let listed = keys["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|k| k.get("key").is_none()));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tier_with_separate_duties_refuses_self_approval() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    // The first admin key holds every role, reviewer included.
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "dual-control" }))
        .await;
    server
        .wait_until(&id, |i| i["status"] == "awaiting_approval")
        .await;
    for decision in ["approve", "reject"] {
        let (status, body) = server
            .post_json(&format!("/v1/intents/{id}/{decision}"), json!({}))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("SEPARATION_OF_DUTIES")),
            "{body}"
        );
    }
    let (reviewer, key) = server.create_key("default", &["reviewer"]).await;
    let (status, body) = server
        .post_json_as(&key, &format!("/v1/intents/{id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed");
    assert_eq!(intent["approval"]["by"], format!("key:{reviewer}"));
    // The submitter is the first admin key, not the reviewer.
    let submitter = intent["submitted_by"].as_str().expect("a submitter");
    assert!(submitter.starts_with("key:"), "{submitter}");
    assert_ne!(intent["submitted_by"], intent["approval"]["by"]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_start_keeps_one_admin_key_private_and_restarts_keep_it() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let file = data.path().join("admin.key");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key = server.admin_key.clone();
    assert!(key.starts_with("qlp_"));
    server.stop();
    let server = Server::start_default(data.path());
    assert_eq!(server.admin_key, key, "a restart made another key");
    let keys = server.get_json("/v1/keys").await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(keys["keys"][0]["tenant"], "default");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_upload_is_refused_before_its_body_is_read() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let host = server.url.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // 80 MB announced; only the first 64 KiB ever sent.
        let head = format!(
            "POST /v1/registry/packages HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            80 << 20
        );
        stream.write_all(head.as_bytes()).unwrap();
        let _ = stream.write_all(&vec![b' '; 64 << 10]);
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("UNAUTHENTICATED"), "{answer}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_audited_in_a_chain_that_names_an_edited_entry() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    server.create_tenant("acme").await;
    let (key_id, submitter) = server.create_key("acme", &["submitter"]).await;
    let (_, auditor) = server.create_key("acme", &["auditor"]).await;
    let submitted = client_with_key(&submitter)
        .post(server.endpoint("/v1/intents"))
        .header("X-Request-Id", "req-audit-1")
        .json(&json!({ "description": INVOICES, "tier": "reviewed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.headers()["x-request-id"], "req-audit-1");
    let id = submitted.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = server
        .post_json_as(&submitter, &format!("/v1/intents/{id}/cancel"), json!({}))
        .await;
    assert!(status == 200 || status == 202, "{status}");

    // The tenant's auditor reads the tenant's changes, in order.
    let (status, page) = server.get_as(&auditor, "/v1/audit").await;
    assert_eq!(status, 200, "{page}");
    let entries = page["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.create",
            "key.create",
            "key.create",
            "intent.submit",
            "intent.cancel"
        ]
    );
    assert!(entries.iter().all(|e| e["tenant"] == "acme"));
    let submit = &entries[3];
    assert_eq!(submit["identity"], format!("key:{key_id}"));
    assert_eq!(submit["target"], id.as_str());
    assert_eq!(submit["request_id"], "req-audit-1");
    // The admin reads every tenant's: the first key of `default` too.
    let all = server.get_json("/v1/audit").await;
    assert_eq!(all["entries"][0]["action"], "key.create");
    assert_eq!(all["entries"][0]["tenant"], "default");
    let seq_of_submit = submit["seq"].as_i64().unwrap();
    server.stop();

    let verify = || {
        crate::support::qlp_command()
            .args(["audit", "verify", "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap()
    };
    let intact = verify();
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact"));

    // Someone with the database file rewrites who submitted the intent.
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        data.path().join("qlp.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE audit_log SET identity = 'key:someone-else' WHERE seq = ?")
        .bind(seq_of_submit)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains(&format!("entry {seq_of_submit}")) && stderr.contains("edited"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_for_a_host_name_the_server_was_not_given_get_421() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default_with(data.path(), &["--allowed-host", "qlp.example.com"]);
    let status_for = |host: &'static str| {
        let request = server
            .http
            .get(server.endpoint("/v1/tiers"))
            .header("host", host);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        }
    };
    // A page on a name re-pointed at the server (DNS rebinding).
    let (status, code) = status_for("rebind.attacker.example:8080").await;
    assert_eq!((status, code.as_str()), (421, "HOST_NOT_ALLOWED"));
    for host in ["qlp.example.com", "localhost:8080", "127.0.0.1"] {
        assert_eq!(status_for(host).await.0, 200, "{host}");
    }
    server.stop();
}

/// PUTs a tenant's policy as `key`; the status and the JSON answer.
pub(crate) async fn put_policy(
    server: &Server,
    key: &str,
    tenant: &str,
    policy: Value,
) -> (u16, Value) {
    let response = client_with_key(key)
        .put(server.endpoint(&format!("/v1/tenants/{tenant}/policy")))
        .json(&policy)
        .send()
        .await
        .expect("PUT");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// POSTs an intent as `key`, under an idempotency key if given; the
/// status, the JSON answer and the `Retry-After` header.
async fn submit_as(
    server: &Server,
    key: &str,
    body: Value,
    idempotency: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut request = client_with_key(key)
        .post(server.endpoint("/v1/intents"))
        .json(&body);
    if let Some(k) = idempotency {
        request = request.header("Idempotency-Key", k);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, response.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_policy_holds_its_tiers_compliance_floors_rate_and_storage() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    server.create_tenant("acme").await;
    let (_, submitter) = server.create_key("acme", &["submitter"]).await;
    let (_, operator) = server.create_key("acme", &["operator"]).await;
    let admin = server.admin_key.clone();

    // Policies are checked against the server's tiers, and only admins
    // set them.
    for (policy, code) in [
        (json!({ "tiers": ["gold"] }), "UNKNOWN_TIER"),
        (
            json!({ "tiers": ["starter"], "compliance_floor": { "payments": "enterprise" } }),
            "INVALID_POLICY",
        ),
        (json!({ "submissions_per_minute": 0 }), "INVALID_POLICY"),
    ] {
        let (status, body) = put_policy(&server, &admin, "acme", policy).await;
        assert_eq!((status, body["code"].as_str()), (422, Some(code)), "{body}");
    }
    let policy = json!({
        "tiers": ["starter", "standard", "enterprise"],
        "compliance_floor": { "payments": "enterprise" },
        "submissions_per_minute": 5,
    });
    let (status, _) = put_policy(&server, &operator, "acme", policy.clone()).await;
    assert_eq!(status, 403);
    let (status, body) = put_policy(&server, &admin, "nobody", policy.clone()).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = put_policy(&server, &admin, "acme", policy.clone()).await;
    assert_eq!((status, &body), (200, &policy));
    let (status, body) = server.get_as(&operator, "/v1/tenants/acme/policy").await;
    assert_eq!((status, &body), (200, &policy));
    let (status, _) = server.get_as(&operator, "/v1/tenants/default/policy").await;
    assert_eq!(
        status, 404,
        "another tenant's policy does not exist for acme"
    );

    // A card-payments intent may not run below the floor...
    let payments = "Create a FastAPI checkout service taking card payments for orders";
    let (status, body, _) = submit_as(
        &server,
        &submitter,
        json!({ "description": payments, "tier": "starter" }),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("COMPLIANCE_FLOOR")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("`enterprise`"),
        "{body}"
    );
    // ...nor on a tier the tenant does not have...
    let (status, body, _) = submit_as(
        &server,
        &submitter,
        json!({ "description": INVOICES, "tier": "mission-critical" }),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("TIER_NOT_ALLOWED")),
        "{body}"
    );
    // ...and without a tier it runs on a tier of the tenant meeting the floor.
    let (status, body, _) = submit_as(
        &server,
        &submitter,
        json!({ "description": payments }),
        Some("pay-1"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["tier"], "enterprise", "{body}");
    let first = body["id"].as_str().unwrap().to_owned();

    // Five submissions a minute: three were taken, two more are, the
    // sixth waits.
    let mut starter = vec![];
    for n in 0..2 {
        let description = format!("{INVOICES} (batch {n})");
        let (status, body, _) = submit_as(
            &server,
            &submitter,
            json!({ "description": description, "tier": "starter" }),
            None,
        )
        .await;
        assert_eq!(status, 202, "{body}");
        starter.push(body["id"].as_str().unwrap().to_owned());
    }
    let (status, body, retry) = submit_as(
        &server,
        &submitter,
        json!({ "description": INVOICES, "tier": "starter" }),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!(
        (1..=13).contains(&retry),
        "one submission every 12 s: {retry}"
    );
    // A retry of an accepted submission is still answered.
    let (status, body, _) = submit_as(
        &server,
        &submitter,
        json!({ "description": payments }),
        Some("pay-1"),
    )
    .await;
    assert_eq!(
        (status, body["id"].as_str()),
        (202, Some(first.as_str())),
        "{body}"
    );
    // Other tenants have their own rate.
    let (status, body, _) = submit_as(
        &server,
        &admin,
        json!({ "description": INVOICES, "tier": "starter" }),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");

    // Storage: once the tenant keeps more than its policy allows, new
    // submissions wait for space (no Retry-After: time does not help).
    let done = server
        .wait_until_as(&submitter, &starter[0], |i| {
            !matches!(i["status"].as_str(), Some("queued" | "running"))
        })
        .await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let (status, _) = put_policy(&server, &admin, "acme", json!({ "max_stored_bytes": 1 })).await;
    assert_eq!(status, 200);
    let (status, body, retry) = submit_as(
        &server,
        &submitter,
        json!({ "description": INVOICES, "tier": "starter" }),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("STORAGE_QUOTA_EXCEEDED")),
        "{body}"
    );
    assert_eq!(retry, None);
    server.stop();
}

/// A stand-in identity provider: one Ed25519 signing key, its JWKS, and
/// tokens it signs.
struct StandInIdentityProvider {
    key: jsonwebtoken::EncodingKey,
    jwks: Value,
}

const SSO_ISSUER: &str = "https://idp.example.com/realms/acme";

impl StandInIdentityProvider {
    fn new() -> Self {
        use base64::Engine;
        use ring::signature::KeyPair;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key());
        Self {
            key: jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwks: json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": x }] }),
        }
    }

    /// A token for `sub` of `tenant` with `roles`, `changes` applied to
    /// its claims.
    fn token(&self, sub: &str, tenant: &str, roles: &[&str], changes: Value) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = json!({
            "iss": SSO_ISSUER, "aud": "qlp", "sub": sub, "exp": now + 300,
            "groups": roles.iter().map(|r| format!("qlp-{r}")).collect::<Vec<_>>(),
            "org": { "tenant": tenant },
        });
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_provider_tokens_act_for_their_tenant_and_roles_and_bad_ones_get_401() {
    let idp = StandInIdentityProvider::new();
    let data = tempfile::tempdir().unwrap();
    let jwks = data.path().join("jwks.json");
    std::fs::write(&jwks, idp.jwks.to_string()).unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &[
            "--sso-issuer",
            SSO_ISSUER,
            "--sso-audience",
            "qlp",
            "--sso-jwks",
            jwks.to_str().unwrap(),
            "--sso-tenant-claim",
            "org.tenant",
            "--sso-roles-claim",
            "groups",
            "--sso-role-prefix",
            "qlp-",
        ],
    );
    server.create_tenant("acme").await;
    let alice = idp.token("alice", "acme", &["submitter"], json!({}));
    let (status, body) = server
        .post_json_as(
            &alice,
            "/v1/intents",
            json!({ "description": INVOICES, "tier": "reviewed" }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap();
    let (status, intent) = server.get_as(&alice, &format!("/v1/intents/{id}")).await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["submitted_by"], "sso:alice");

    // Roles and tenants hold as for keys: a reviewer of acme may not
    // submit, an auditor of acme reads the audit entry naming alice, an
    // operator of another tenant gets 404, and `admin` in the groups
    // grants nothing without `--sso-allow-admin`.
    let reviewer = idp.token("bob", "acme", &["reviewer"], json!({}));
    assert_eq!(
        call(&server, Some(&reviewer), "POST", "/v1/intents")
            .await
            .0,
        403
    );
    let auditor = idp.token("carol", "acme", &["auditor"], json!({}));
    let (status, audit) = server.get_as(&auditor, "/v1/audit").await;
    assert_eq!(status, 200, "{audit}");
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "intent.submit" && e["identity"] == "sso:alice"),
        "{audit}"
    );
    let stranger = idp.token("dave", "default", &["operator"], json!({}));
    let (status, _) = server.get_as(&stranger, &format!("/v1/intents/{id}")).await;
    assert_eq!(status, 404);
    let admin = idp.token("eve", "acme", &["admin"], json!({}));
    assert_eq!(
        call(&server, Some(&admin), "GET", "/v1/tenants").await,
        (403, "FORBIDDEN".into())
    );

    // Each bad token gets 401 and its code.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let impostor = StandInIdentityProvider::new();
    for (token, code) in [
        (
            idp.token(
                "alice",
                "acme",
                &["submitter"],
                json!({ "iss": "https://evil.example" }),
            ),
            "TOKEN_WRONG_ISSUER",
        ),
        (
            idp.token(
                "alice",
                "acme",
                &["submitter"],
                json!({ "aud": "another-app" }),
            ),
            "TOKEN_WRONG_AUDIENCE",
        ),
        (
            idp.token(
                "alice",
                "acme",
                &["submitter"],
                json!({ "exp": now - 3600 }),
            ),
            "TOKEN_EXPIRED",
        ),
        (
            impostor.token("alice", "acme", &["submitter"], json!({})),
            "TOKEN_BAD_SIGNATURE",
        ),
        (
            idp.token("alice", "ghost", &["submitter"], json!({})),
            "TOKEN_UNKNOWN_TENANT",
        ),
        ("a.b.c".to_owned(), "TOKEN_MALFORMED"),
    ] {
        let (status, got) = call(&server, Some(&token), "GET", "/v1/intents").await;
        assert_eq!((status, got.as_str()), (401, code));
    }
    // API keys still work beside tokens.
    assert_eq!(server.get_as(&server.admin_key, "/v1/tenants").await.0, 200);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_surplus_connections_are_closed_and_the_server_keeps_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default_with(
        data.path(),
        &["--header-timeout", "1s", "--max-connections", "3"],
    );
    let addr = server.url.trim_start_matches("http://").to_owned();
    let healthz = || async {
        reqwest::Client::new()
            .get(server.endpoint("/healthz"))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
    };
    assert!(healthz().await.is_ok());

    // A client sending its headers a byte every 300 ms is cut off once
    // the header timeout passes, long before it would have finished.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    let request =
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut_off = false;
    for byte in request {
        if slow.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(300), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut_off = true;
                break;
            }
            Ok(Ok(n)) => {
                // hyper may answer 408 before closing.
                let text = String::from_utf8_lossy(&buf[..n]);
                assert!(text.starts_with("HTTP/1.1 408"), "{text}");
                cut_off = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(cut_off, "a byte-a-second client kept its connection");
    let held = started.elapsed();
    assert!(held < Duration::from_secs(5), "held for {held:?}");

    // Three idle connections take every slot: a fourth is closed at once.
    let idle: Vec<_> = futures_util::future::join_all(
        (0..3).map(|_| tokio::net::TcpStream::connect(addr.clone())),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        healthz().await.is_err(),
        "a connection past the limit was answered"
    );
    // Once the header timeout closes the idle ones, the server answers.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let answer = healthz().await.expect("answered once the slots were free");
    assert_eq!(answer.status(), 200);
    drop(idle);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn event_streams_are_capped_per_tenant_and_given_back_when_closed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures_on(
        data.path(),
        &crate::support::test_tiers(),
        &["--max-streams-per-tenant", "1"],
    );
    let id = server
        .submit(json!({ "description": INVOICES, "tier": "durable", "constraints": { "burn": "1000000000000" } }))
        .await;
    let path = format!("/v1/intents/{id}/events");
    let first = server.get(&path).await;
    assert_eq!(first.status(), 200);
    let second = server.get(&path).await;
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "5");
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["code"], "TOO_MANY_STREAMS", "{body}");
    // Another tenant has its own allowance (and gets 404 for this intent,
    // not 429: the cap is counted after the intent is found).
    server.create_tenant("acme").await;
    let (_, reader) = server.create_key("acme", &["auditor"]).await;
    let (status, _) = server.get_as(&reader, &path).await;
    assert_eq!(status, 404);
    // A closed stream gives its place back, at the latest when the next
    // keep-alive comment finds its client gone.
    drop(first);
    crate::support::eventually(
        "the closed stream's place given back",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async { (server.get(&path).await.status() == 200).then_some(()) },
    )
    .await;
    let (status, _) = server
        .post_json(&format!("/v1/intents/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 202);
    server.stop();
}
