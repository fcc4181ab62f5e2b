//! Several replicas as an operator runs them at scale: three `qlp serve`
//! processes share one PostgreSQL database (a throwaway cluster the test
//! starts, see `postgres.rs`) and one capsule and delivery directory.
//! Intents are submitted to them in turn, one replica is killed with
//! SIGKILL while it runs stages, and every intent still completes exactly
//! once with one delivery, as the database and the delivery directory
//! show, and the audit chain the three appended to is intact.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Row;

use crate::postgres::Cluster;
use crate::support::{Server, fixtures, plugins};

const INTENTS: usize = 200;
/// Intents whose validator works long enough to be killed in (about a
/// second each); the rest burn next to nothing.
const SLOW: usize = 6;

fn tiers(dir: &Path, deliveries: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"
[tiers.replicated]
description = "The standard pipeline with a validator whose work the intent sets."
agents = ["qlp/template-fastapi"]
analyzers = ["qlp/python"]
validators = ["qlp/secrets", "fixture/slow"]
exporter = "qlp/zip"
delivery = "qlp/filesystem"
gate = {{ min_score = 0, max_critical = 0 }}
limits = {{ timeout_ms = 60000 }}

[plugins."qlp/filesystem"]
directory = "{}"
access = "read-write"
"#,
        deliveries.display()
    );
    let path = dir.join("tiers.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn intent(i: usize) -> Value {
    let burn = if i < SLOW { "1500000000" } else { "1000" };
    json!({
        "description": format!("An inventory service for warehouse {i} with stock levels and transfers"),
        "tier": "replicated",
        "constraints": { "burn": burn },
    })
}

async fn submit(server: &Server, key: &str, body: &Value) -> String {
    let response = server
        .http
        .post(server.endpoint("/v1/intents"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(status == 202 || status == 200, "{status}: {body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                found.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    found
}

fn replica(replicas: &[Option<Server>], i: usize) -> &Server {
    replicas[i].as_ref().expect("a live replica")
}

async fn scalar(db: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn three_replicas_share_one_database_and_a_killed_one_loses_nothing() {
    let url = Cluster::get().database();
    let root = tempfile::tempdir().unwrap();
    let capsules = root.path().join("shared/capsules");
    let deliveries = root.path().join("shared/deliveries");
    std::fs::create_dir_all(&deliveries).unwrap();
    let tiers = tiers(root.path(), &deliveries);
    let dirs = format!("{}:{}", plugins().display(), fixtures().display());
    let start = |i: usize| {
        let data = root.path().join(format!("r{i}"));
        if i > 0 {
            // The first replica made the admin key; the others share its
            // database and so its keys.
            std::fs::create_dir_all(&data).unwrap();
            std::fs::copy(root.path().join("r0/admin.key"), data.join("admin.key")).unwrap();
        }
        let node = format!("r{i}");
        Server::start(
            &data,
            &[
                "--plugin-dir",
                &dirs,
                "--tiers",
                tiers.to_str().unwrap(),
                "--database",
                &url,
                "--capsule-dir",
                capsules.to_str().unwrap(),
                "--node-id",
                &node,
                "--lease",
                "3s",
                "--workers",
                "2",
            ],
        )
    };
    let mut replicas = vec![Some(start(0))];
    replicas.push(Some(start(1)));
    replicas.push(Some(start(2)));

    // Round-robin submissions, each under an idempotency key; a retry of
    // a key at another replica answers the same intent.
    let mut ids = Vec::with_capacity(INTENTS);
    for i in 0..INTENTS {
        let id = submit(replica(&replicas, i % 3), &format!("key-{i}"), &intent(i)).await;
        ids.push(id);
    }
    for i in [0, 7, 101, 199] {
        let again = submit(
            replica(&replicas, (i + 1) % 3),
            &format!("key-{i}"),
            &intent(i),
        )
        .await;
        assert_eq!(again, ids[i], "a retried key at another replica");
    }

    // Kill r1 once it is running a stage.
    let db = sqlx::PgPool::connect(&url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let held: Vec<String> = loop {
        let rows = sqlx::query(
            "SELECT DISTINCT i.id FROM intents i JOIN stage_runs s ON s.intent_id = i.id
             WHERE i.lease_owner LIKE 'r1/%' AND s.status = 'running' AND s.stage = 'validate'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        if !rows.is_empty() {
            break rows.iter().map(|r| r.get::<String, _>(0)).collect();
        }
        assert!(Instant::now() < deadline, "r1 never ran a validator");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    replicas[1].take().unwrap().kill();

    // Everything completes on the two left.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let open = scalar(
            &db,
            "SELECT COUNT(*) FROM intents WHERE status NOT IN ('completed', 'gate_failed', 'failed', 'rejected', 'cancelled')",
        )
        .await;
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} intents still open after 240 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // From the database: every intent completed, once, with one delivery.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM intents").await,
        INTENTS as i64,
        "no intent stored twice"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM intents WHERE status = 'completed'"
        )
        .await,
        INTENTS as i64
    );
    let deliveries_per_intent = sqlx::query(
        "SELECT intent_id, COUNT(*) FROM stage_runs WHERE stage = 'deliver' AND status = 'succeeded'
         GROUP BY intent_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let counts: BTreeMap<String, i64> = deliveries_per_intent
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(counts.len(), INTENTS);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    // What r1 was running when it died ran again elsewhere.
    for id in &held {
        let rows = sqlx::query(
            "SELECT status FROM stage_runs WHERE intent_id = $1 AND stage = 'validate'",
        )
        .bind(id)
        .fetch_all(&db)
        .await
        .unwrap();
        let statuses: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert!(
            statuses.contains(&"interrupted".to_owned())
                && statuses.contains(&"succeeded".to_owned()),
            "{id}: {statuses:?}"
        );
    }

    // From the delivery directory: one file per intent, each the capsule's
    // artifact as any replica serves it.
    let delivered = files_under(&deliveries);
    assert_eq!(delivered.len(), INTENTS, "{delivered:?}");
    for (n, id) in ids
        .iter()
        .enumerate()
        .step_by(37)
        .chain(held.iter().enumerate())
    {
        let server = replica(&replicas, if n % 2 == 0 { 0 } else { 2 });
        let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
        let location = capsule["receipt"]["location"].as_str().expect("a receipt");
        assert!(delivered.contains(location), "{location}");
        let zip = server
            .get_bytes(&format!("/v1/capsules/{id}/download"))
            .await;
        assert_eq!(std::fs::read(deliveries.join(location)).unwrap(), zip);
    }
    for server in replicas.into_iter().flatten() {
        server.stop();
    }

    // The three replicas appended to one audit chain, never forking it:
    // one entry per accepted submission, the chain intact.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'intent.submit'"
        )
        .await,
        INTENTS as i64
    );
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_qlp"))
        .args(["audit", "verify", "--database", &url])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && said.contains("intact"),
        "{said}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
