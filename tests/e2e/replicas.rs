//! Several replicas as an operator runs them at scale: three `qlp serve`
//! processes share one PostgreSQL database (a throwaway cluster the test
//! starts, see `postgres.rs`), one bucket of an S3-compatible server for
//! capsules (moto on loopback), and one registry and delivery directory.
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
use crate::reliability::submit_keyed;
use crate::support::{Loopback, Server, fixtures, plugins, test_file};

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

/// Submits intent `i` under its idempotency key; returns the intent's id
/// and whether the answer was a replay of an earlier acceptance.
async fn submit(server: &Server, i: usize) -> (String, bool) {
    let answer = submit_keyed(&server.http, &server.url, &intent(i), &format!("key-{i}"))
        .await
        .expect("POST");
    assert_eq!(answer.status, 202, "{}", answer.body);
    let id = answer.body["id"].as_str().expect("an id").to_owned();
    (id, answer.replayed)
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

async fn scalar(db: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db)
        .await
        .unwrap()
        .get::<i64, _>(0)
}

/// The shared places of a replicated install and its running replicas.
struct Replicas {
    url: String,
    /// The S3-compatible server holding the capsules' bucket.
    s3: Loopback,
    root: tempfile::TempDir,
    deliveries: std::path::PathBuf,
    servers: Vec<Option<Server>>,
}

impl Replicas {
    fn start(count: usize) -> Self {
        let root = tempfile::tempdir().unwrap();
        let deliveries = root.path().join("shared/deliveries");
        std::fs::create_dir_all(&deliveries).unwrap();
        let s3 = Loopback::start(
            "python3",
            &[
                test_file("servers/s3_server.py").to_str().unwrap(),
                "--bucket",
                "capsules",
            ],
        );
        let mut this = Self {
            url: Cluster::get().database(),
            s3,
            root,
            deliveries,
            servers: vec![],
        };
        for i in 0..count {
            let server = this.start_one(i);
            this.servers.push(Some(server));
        }
        this
    }

    /// Replica `i`, `r<i>`: its own data directory, the shared database,
    /// capsule bucket, registry and delivery directories.
    fn start_one(&self, i: usize) -> Server {
        let root = self.root.path();
        let data = root.join(format!("r{i}"));
        if i > 0 {
            // The first replica made the admin key; the others share its
            // database and so its keys.
            std::fs::create_dir_all(&data).unwrap();
            std::fs::copy(root.join("r0/admin.key"), data.join("admin.key")).unwrap();
        }
        let tiers = tiers(root, &self.deliveries);
        let dirs = format!("{}:{}", plugins().display(), fixtures().display());
        let registry = root.join("shared/registry");
        let node = format!("r{i}");
        // The bucket's endpoint and credentials, as an operator gives them.
        let env = [
            ("AWS_ENDPOINT", self.s3.url.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ];
        Server::start_env(
            &data,
            &[
                "--plugin-dir",
                &dirs,
                "--tiers",
                tiers.to_str().unwrap(),
                "--database",
                &self.url,
                "--capsule-store",
                "s3://capsules/replicas",
                "--registry-dir",
                registry.to_str().unwrap(),
                "--node-id",
                &node,
                "--lease",
                "3s",
                "--workers",
                "2",
            ],
            &env,
        )
    }

    fn get(&self, i: usize) -> &Server {
        self.servers[i].as_ref().expect("a live replica")
    }

    /// Kills replica `i` with SIGKILL once it runs a validator, and returns
    /// the intents it held.
    async fn kill_while_validating(&mut self, db: &sqlx::PgPool, i: usize) -> Vec<String> {
        let owner = format!("r{i}/%");
        let deadline = Instant::now() + Duration::from_secs(60);
        let held: Vec<String> = loop {
            let rows = sqlx::query(
                "SELECT DISTINCT i.id FROM intents i JOIN stage_runs s ON s.intent_id = i.id
                 WHERE i.lease_owner LIKE $1 AND s.status = 'running' AND s.stage = 'validate'",
            )
            .bind(&owner)
            .fetch_all(db)
            .await
            .unwrap();
            if !rows.is_empty() {
                break rows.iter().map(|r| r.get::<String, _>(0)).collect();
            }
            assert!(Instant::now() < deadline, "r{i} never ran a validator");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        self.servers[i].take().unwrap().kill();
        held
    }
}

/// Waits until no intent is queued or running.
async fn all_ended(db: &sqlx::PgPool) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let open = scalar(
            db,
            "SELECT COUNT(*) FROM intents WHERE status NOT IN ('completed', 'gate_failed', 'failed', 'rejected', 'cancelled')",
        )
        .await;
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} intents still open after 240 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// From the database: every intent completed, once, with one delivery,
/// and what the killed replica held ran its validator again elsewhere.
async fn completed_once(db: &sqlx::PgPool, held: &[String]) {
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM intents").await,
        INTENTS as i64,
        "no intent stored twice"
    );
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM intents WHERE status = 'completed'"
        )
        .await,
        INTENTS as i64
    );
    let rows = sqlx::query(
        "SELECT intent_id, COUNT(*) FROM stage_runs WHERE stage = 'deliver' AND status = 'succeeded'
         GROUP BY intent_id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let counts: BTreeMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(counts.len(), INTENTS);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    for id in held {
        let rows = sqlx::query(
            "SELECT status FROM stage_runs WHERE intent_id = $1 AND stage = 'validate'",
        )
        .bind(id)
        .fetch_all(db)
        .await
        .unwrap();
        let statuses: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert!(
            statuses.contains(&"interrupted".to_owned())
                && statuses.contains(&"succeeded".to_owned()),
            "{id}: {statuses:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_replicas_share_one_database_and_a_killed_one_loses_nothing() {
    let mut replicas = Replicas::start(3);

    // Round-robin submissions, each under an idempotency key; a retry of
    // a key at another replica answers the same intent.
    let mut ids = Vec::with_capacity(INTENTS);
    for i in 0..INTENTS {
        let (id, replayed) = submit(replicas.get(i % 3), i).await;
        assert!(!replayed, "key-{i} is new");
        ids.push(id);
    }
    for i in [0, 7, 101, 199] {
        let again = submit(replicas.get((i + 1) % 3), i).await;
        assert_eq!(
            again,
            (ids[i].clone(), true),
            "a retried key at another replica"
        );
    }

    let db = sqlx::PgPool::connect(&replicas.url).await.unwrap();
    let held = replicas.kill_while_validating(&db, 1).await;
    all_ended(&db).await;
    completed_once(&db, &held).await;

    // From the delivery directory: one file per intent, each the capsule's
    // artifact as any replica serves it.
    let delivered = files_under(&replicas.deliveries);
    assert_eq!(delivered.len(), INTENTS, "{delivered:?}");
    for (n, id) in ids
        .iter()
        .enumerate()
        .step_by(37)
        .chain(held.iter().enumerate())
    {
        let server = replicas.get(if n % 2 == 0 { 0 } else { 2 });
        let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
        let location = capsule["receipt"]["location"].as_str().expect("a receipt");
        assert!(delivered.contains(location), "{location}");
        let zip = server
            .get_bytes(&format!("/v1/capsules/{id}/download"))
            .await;
        assert_eq!(
            std::fs::read(replicas.deliveries.join(location)).unwrap(),
            zip
        );
    }
    // The capsules are in the bucket, not in any replica's directory.
    for i in 0..3 {
        let local = replicas.root.path().join(format!("r{i}/capsules"));
        assert!(!local.exists(), "{} exists", local.display());
    }
    for server in std::mem::take(&mut replicas.servers).into_iter().flatten() {
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
    let verify = crate::support::qlp_command()
        .args(["audit", "verify", "--database", &replicas.url])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && said.contains("intact"),
        "{said}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// What an operator gets wrong at start is refused with the flag named,
/// and a database password never shows in what the server prints.
#[test]
fn a_short_lease_an_unreachable_database_or_bucket_stops_the_start_without_showing_the_password() {
    let data = tempfile::tempdir().unwrap();
    let refused = Server::try_start_env(data.path(), &["--lease", "1s"], &[])
        .err()
        .expect("a 1 s lease is refused");
    assert!(
        refused.log.contains("--lease") && refused.log.contains("at least 3s"),
        "{}",
        refused.log
    );

    let data = tempfile::tempdir().unwrap();
    let password = "pw-4f1d8c0b7e";
    // Port 1 on loopback: nothing listens there.
    let url = format!("postgres://qlp:{password}@127.0.0.1:1/qlp");
    let refused = Server::try_start_env(data.path(), &["--database", &url], &[])
        .err()
        .expect("an unreachable database stops the start");
    assert!(
        refused
            .log
            .contains("cannot open the database postgres://qlp:***@127.0.0.1:1/qlp"),
        "{}",
        refused.log
    );
    assert!(!refused.log.contains(password), "{}", refused.log);

    // A capsule bucket nothing answers for: the start stops, naming it.
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("AWS_ENDPOINT", "http://127.0.0.1:1"),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let refused =
        Server::try_start_env(data.path(), &["--capsule-store", "s3://capsules/qlp"], &env)
            .err()
            .expect("an unreachable capsule store stops the start");
    assert!(
        refused
            .log
            .contains("the capsule store s3://capsules/qlp does not answer"),
        "{}",
        refused.log
    );
}
