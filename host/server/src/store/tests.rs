//! The store's job guarantees, in process, on a SQLite file and on a
//! PostgreSQL database alike: leases belong to one worker, a restart
//! releases only its own node's leases, transactions that read before they
//! write never fail because another writer committed in between, and
//! replicas sharing one database never claim the same intent twice.

use std::time::Duration;

use sqlx::Connection;

use super::*;

fn intent(id: &str) -> Intent {
    Intent {
        id: id.into(),
        description: "a service".into(),
        requirements: vec![],
        constraints: vec![],
        tier: "standard".into(),
        kind: Default::default(),
    }
}

#[path = "../../../../tests/e2e/postgres.rs"]
mod postgres;

/// Where a test's records are: a SQLite file in a temporary directory, or
/// a fresh database of the test process's PostgreSQL cluster.
fn location(backend: Backend) -> (Option<tempfile::TempDir>, Location) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("qlp.db");
            (Some(dir), Location::Sqlite(path))
        }
        Backend::Postgres => (
            None,
            Location::Postgres(postgres::Cluster::get().database()),
        ),
    }
}

pub(super) async fn open_on(backend: Backend) -> (Option<tempfile::TempDir>, Store) {
    let (dir, at) = location(backend);
    let store = Store::connect(&at, Durability::Full).await.unwrap();
    assert_eq!(store.backend(), backend);
    (dir, store)
}

async fn open() -> (tempfile::TempDir, Store) {
    let (dir, store) = open_on(Backend::Sqlite).await;
    (dir.unwrap(), store)
}

/// Runs each test `name(backend)` on both backends, as `name::sqlite` and
/// `name::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::store::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::store::Backend::Postgres).await
            }
        }
    )*};
}
pub(super) use on_both;

on_both!(
    a_worker_that_lost_its_lease_to_another_worker_of_its_node_is_told_so,
    a_restart_releases_its_own_workers_leases_and_no_other_nodes,
    a_claimed_intent_resumes_with_its_completed_outputs_and_interrupted_stages,
    idempotent_inserts_racing_other_writers_never_fail,
    a_tenant_at_its_running_limit_waits_while_other_tenants_go_ahead,
    replicas_sharing_a_database_claim_each_intent_once,
    a_capsule_and_its_receipts_read_back_as_written,
    replicas_draw_a_tenants_submissions_from_one_bucket,
    running_intents_of_a_tenant_never_hold_more_than_its_daily_tokens,
);

async fn a_worker_that_lost_its_lease_to_another_worker_of_its_node_is_told_so(backend: Backend) {
    let (_dir, store) = open_on(backend).await;
    store
        .insert_intent(&intent("a"), &Actor::for_tests())
        .await
        .unwrap();
    let first = store
        .claim("node/w0", Duration::from_millis(0))
        .await
        .unwrap();
    assert_eq!(first.map(|i| i.id).as_deref(), Some("a"));
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The lease expired: the node's other worker takes the intent over.
    let taken = store.claim("node/w1", LEASE_FOR_TEST).await.unwrap();
    assert_eq!(taken.map(|i| i.id).as_deref(), Some("a"));
    assert_eq!(
        store
            .heartbeat("a", "node/w0", LEASE_FOR_TEST)
            .await
            .unwrap(),
        None,
        "the stalled worker no longer holds the intent"
    );
    assert_eq!(
        store
            .heartbeat("a", "node/w1", LEASE_FOR_TEST)
            .await
            .unwrap(),
        Some(false)
    );
    assert!(
        !store
            .finish_run("a", "node/w0", (IntentStatus::Completed, None), &[])
            .await
            .unwrap(),
        "the stalled worker records nothing"
    );
}

const LEASE_FOR_TEST: Duration = Duration::from_secs(30);

async fn a_restart_releases_its_own_workers_leases_and_no_other_nodes(backend: Backend) {
    let (_dir, store) = open_on(backend).await;
    for id in ["mine", "legacy", "theirs"] {
        store
            .insert_intent(&intent(id), &Actor::for_tests())
            .await
            .unwrap();
    }
    for owner in ["node-a/w1", "node-a", "node-ab/w0"] {
        store.claim(owner, LEASE_FOR_TEST).await.unwrap().unwrap();
    }
    assert_eq!(store.release_leases("node-a").await.unwrap(), 2);
    let status = |id: &'static str| {
        let store = store.clone();
        async move { store.get_intent(id).await.unwrap().unwrap().status }
    };
    assert_eq!(status("mine").await, IntentStatus::Queued);
    assert_eq!(status("legacy").await, IntentStatus::Queued);
    assert_eq!(status("theirs").await, IntentStatus::Running);
}

async fn a_claimed_intent_resumes_with_its_completed_outputs_and_interrupted_stages(
    backend: Backend,
) {
    let (_dir, store) = open_on(backend).await;
    store
        .insert_intent(&intent("a"), &Actor::for_tests())
        .await
        .unwrap();
    store.claim("n/w0", LEASE_FOR_TEST).await.unwrap().unwrap();
    let generate = store
        .start_stage("a", 1, 0, "generate", Some("p"))
        .await
        .unwrap();
    store
        .complete_stage(
            generate,
            (StageStatus::Succeeded, 1, None, serde_json::json!({})),
            ("a", "0/generate/1", &serde_json::json!({ "files": ["x"] })),
        )
        .await
        .unwrap();
    store
        .start_stage("a", 2, 0, "validate", Some("v"))
        .await
        .unwrap();
    // The node dies; at its restart the intent is claimed again.
    store.release_leases("n").await.unwrap();
    store.claim("n/w1", LEASE_FOR_TEST).await.unwrap().unwrap();
    let outputs = store.outputs("a").await.unwrap();
    assert_eq!(outputs.keys().collect::<Vec<_>>(), ["0/generate/1"]);
    let stages = store.stages("a").await.unwrap();
    let statuses: Vec<_> = stages
        .iter()
        .map(|s| (s.stage.as_str(), s.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("generate", StageStatus::Succeeded),
            ("validate", StageStatus::Interrupted)
        ]
    );
}

async fn idempotent_inserts_racing_other_writers_never_fail(backend: Backend) {
    let (_dir, store) = open_on(backend).await;
    // Writers that keep committing, as running pipelines do.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    let id = format!("w{w}-{i}");
                    store
                        .insert_intent(&intent(&id), &Actor::for_tests())
                        .await
                        .unwrap();
                    store
                        .put_output(&id, "k", &serde_json::json!({ "i": i }))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let inserters: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    let (id, key) = (format!("k{w}-{i}"), format!("key-{w}-{i}"));
                    let first = store
                        .insert_intent_idempotent(&intent(&id), &Actor::for_tests(), &key, "d")
                        .await;
                    assert!(matches!(first, Ok(None)), "{first:?}");
                    let again = store
                        .insert_intent_idempotent(&intent("other"), &Actor::for_tests(), &key, "d")
                        .await
                        .unwrap();
                    assert_eq!(again, Some((id, "d".to_owned())));
                }
            })
        })
        .collect();
    for task in writers.into_iter().chain(inserters) {
        task.await.unwrap();
    }
}

#[test]
fn busy_and_full_databases_are_told_apart_from_bugs() {
    let busy = Error::Db(sqlx::Error::PoolTimedOut);
    assert_eq!(busy.unavailable(), Some(Unavailable::Busy));
    assert_eq!(busy.unavailable().unwrap().code(), "STORE_BUSY");
    let corrupt = Error::Corrupt(serde_json::from_str::<u8>("x").unwrap_err());
    assert_eq!(corrupt.unavailable(), None);
    assert_eq!(Error::Db(sqlx::Error::RowNotFound).unavailable(), None);
}

async fn a_tenant_at_its_running_limit_waits_while_other_tenants_go_ahead(backend: Backend) {
    let (_dir, store) = open_on(backend).await;
    let actor = Actor::for_tests();
    store.create_tenant("acme", &actor).await.unwrap();
    let acme = actor.on("acme");
    let policy = crate::policy::TenantPolicy {
        max_running: Some(1),
        ..Default::default()
    };
    assert!(
        store
            .set_tenant_policy("acme", &policy, &actor)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_tenant_policy("nobody", &policy, &actor)
            .await
            .unwrap()
    );
    assert_eq!(store.tenant_policy("acme").await.unwrap(), Some(policy));
    store.create_tenant("globex", &actor).await.unwrap();
    assert_eq!(
        store.tenant_policy("globex").await.unwrap(),
        Some(Default::default()),
        "a tenant without a policy has the empty one"
    );
    assert_eq!(store.tenant_policy("nobody").await.unwrap(), None);

    // Oldest first: two of acme's, then one of the default tenant's.
    for id in ["a1", "a2"] {
        store.insert_intent(&intent(id), &acme).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    store.insert_intent(&intent("d1"), &actor).await.unwrap();
    assert_eq!(store.tenant_queued_count("acme").await.unwrap(), 2);
    assert_eq!(store.tenant_queued_count("default").await.unwrap(), 1);

    let lease = Duration::from_secs(60);
    let claim = || async { store.claim("node/w0", lease).await.unwrap().map(|i| i.id) };
    assert_eq!(claim().await.as_deref(), Some("a1"));
    assert_eq!(claim().await.as_deref(), Some("d1"), "a2 waits for a1");
    assert_eq!(claim().await, None);
    assert_eq!(store.tenant_queued_count("acme").await.unwrap(), 1);
    let done = (IntentStatus::Completed, None);
    assert!(store.finish_run("a1", "node/w0", done, &[]).await.unwrap());
    assert_eq!(claim().await.as_deref(), Some("a2"));
}

#[tokio::test]
async fn a_database_file_moved_away_refuses_writes_serves_reads_and_recovers_when_back() {
    let (dir, store) = open().await;
    let actor = Actor::for_tests();
    store.insert_intent(&intent("a"), &actor).await.unwrap();
    let db = dir.path().join("qlp.db");
    let away = dir.path().join("away.db");
    std::fs::rename(&db, &away).unwrap();
    tokio::time::sleep(guard::RECHECK + Duration::from_millis(20)).await;

    let refused = store.insert_intent(&intent("b"), &actor).await.unwrap_err();
    assert_eq!(
        refused.unavailable(),
        Some(Unavailable::Unwritable),
        "{refused}"
    );
    assert_eq!(store.file_state(), Some(FileState::Removed));
    assert!(
        store.get_intent("a").await.unwrap().is_some(),
        "reads go on"
    );
    assert!(!db.exists(), "no new database where the old one was");

    std::fs::rename(&away, &db).unwrap();
    tokio::time::sleep(guard::RECHECK + Duration::from_millis(20)).await;
    store.insert_intent(&intent("b"), &actor).await.unwrap();
    assert_eq!(store.file_state(), Some(FileState::Writable));

    // Another file in its place: refused, new connections too.
    std::fs::copy(&db, &away).unwrap();
    std::fs::rename(&away, &db).unwrap();
    tokio::time::sleep(guard::RECHECK + Duration::from_millis(20)).await;
    let refused = store.insert_intent(&intent("c"), &actor).await.unwrap_err();
    assert_eq!(
        refused.unavailable(),
        Some(Unavailable::Unwritable),
        "{refused}"
    );
    assert_eq!(store.file_state(), Some(FileState::Replaced));
}

async fn replicas_draw_a_tenants_submissions_from_one_bucket(backend: Backend) {
    let (_dir, at) = location(backend);
    let (a, b) = (
        Store::connect(&at, Durability::Normal).await.unwrap(),
        Store::connect(&at, Durability::Normal).await.unwrap(),
    );
    let t0 = 1_800_000_000_000;
    // Four a minute: four at once, through either replica.
    for store in [&a, &b, &a, &b] {
        assert_eq!(store.take_submission("acme", 4, t0).await.unwrap(), Ok(()));
    }
    let wait = b.take_submission("acme", 4, t0).await.unwrap().unwrap_err();
    assert!(
        (14..=15).contains(&wait.as_secs()),
        "one every 15 s: {wait:?}"
    );
    // Another tenant has a bucket of its own.
    assert_eq!(a.take_submission("globex", 4, t0).await.unwrap(), Ok(()));
    // 15 s later, one more, taken through the other replica.
    let later = t0 + 15_000;
    assert_eq!(a.take_submission("acme", 4, later).await.unwrap(), Ok(()));
    assert!(b.take_submission("acme", 4, later).await.unwrap().is_err());
    // Concurrent submissions through both never take more than there is.
    let much_later = t0 + 3_600_000;
    let takes: Vec<_> = (0..12)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.take_submission("acme", 4, much_later).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for take in takes {
        allowed += usize::from(take.await.unwrap().is_ok());
    }
    assert_eq!(allowed, 4);
    // A restart (a new store) finds the bucket as it was.
    let c = Store::connect(&at, Durability::Normal).await.unwrap();
    assert!(
        c.take_submission("acme", 4, much_later)
            .await
            .unwrap()
            .is_err()
    );
}

async fn replicas_sharing_a_database_claim_each_intent_once(backend: Backend) {
    let (_dir, at) = location(backend);
    // Three stores on one database, as three replicas' are.
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Store::connect(&at, Durability::Normal).await.unwrap());
    }
    let actor = Actor::for_tests();
    let total = 60;
    for i in 0..total {
        replicas[i % 3]
            .insert_intent(&intent(&format!("i{i:02}")), &actor)
            .await
            .unwrap();
    }
    // Two workers per replica claim until the queue is empty, finishing
    // what they claim.
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let store = replicas[w % 3].clone();
            tokio::spawn(async move {
                let owner = format!("node{}/w{w}", w % 3);
                let mut claimed = Vec::new();
                while let Some(intent) = store.claim(&owner, LEASE_FOR_TEST).await.unwrap() {
                    let done = (IntentStatus::Completed, None);
                    assert!(
                        store
                            .finish_run(&intent.id, &owner, done, &[])
                            .await
                            .unwrap()
                    );
                    claimed.push(intent.id);
                }
                claimed
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for worker in workers {
        claimed.extend(worker.await.unwrap());
    }
    claimed.sort();
    let expected: Vec<String> = (0..total).map(|i| format!("i{i:02}")).collect();
    assert_eq!(claimed, expected, "every intent claimed exactly once");
    for id in &expected {
        let record = replicas[0].get_intent(id).await.unwrap().unwrap();
        assert_eq!(record.status, IntentStatus::Completed);
    }
    assert_eq!(replicas[2].queued_count().await.unwrap(), 0);
}

async fn a_capsule_and_its_receipts_read_back_as_written(backend: Backend) {
    let (_dir, store) = open_on(backend).await;
    let actor = Actor::for_tests();
    store.insert_intent(&intent("a"), &actor).await.unwrap();
    store.claim("n/w0", LEASE_FOR_TEST).await.unwrap().unwrap();
    let mut capsule = CapsuleRecord {
        intent_id: "a".into(),
        tier: "standard".into(),
        quality_score: 87,
        gate_passed: false,
        gate_reasons: vec!["score below 90".into()],
        files: serde_json::json!([{ "path": "main.go", "size": 120, "blake3": "00" },
                                  { "path": "go.mod", "size": 30, "blake3": "11" }]),
        analyses: serde_json::json!({ "go": { "lines": 12 } }),
        analysis_errors: serde_json::json!([]),
        validations: serde_json::json!([]),
        manifest: serde_json::json!({ "files": 2 }),
        artifact_name: Some("a.zip".into()),
        artifact_type: Some("application/zip".into()),
        artifacts: serde_json::json!([{ "file_name": "a.zip", "bytes": 1000 }]),
        receipt: None,
        receipts: serde_json::json!([]),
        created_at: now(),
    };
    store.insert_capsule(&capsule).await.unwrap();
    // A repair round stores the capsule again: the last one stands.
    capsule.quality_score = 93;
    capsule.gate_passed = true;
    capsule.gate_reasons = vec![];
    store.insert_capsule(&capsule).await.unwrap();
    let receipt = serde_json::json!({ "adapter": "qlp/filesystem", "path": "/out/a.zip" });
    let done = (IntentStatus::Completed, None);
    assert!(
        store
            .finish_run("a", "n/w0", done, std::slice::from_ref(&receipt))
            .await
            .unwrap()
    );
    let read = store.get_capsule("a").await.unwrap().unwrap();
    assert_eq!(read.quality_score, 93);
    assert!(read.gate_passed);
    assert!(read.gate_reasons.is_empty());
    assert_eq!(read.files, capsule.files);
    assert_eq!(read.analyses, capsule.analyses);
    assert_eq!(read.receipt, Some(receipt.clone()));
    assert_eq!(read.receipts, serde_json::json!([receipt]));
    assert_eq!(
        store.tenant_stored_bytes("default").await.unwrap(),
        120 + 30 + 1000,
        "files' and artifacts' sizes"
    );
    let stages = store.stages("a").await.unwrap();
    assert!(stages.is_empty());
    let listed = store
        .list_intents(
            Visible {
                tenant: "default",
                submitted_by: None,
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, IntentStatus::Completed);
}

#[test]
fn postgres_states_that_mean_not_now_are_told_apart_from_bugs() {
    for busy in ["40001", "40P01", "55P03", "57014", "53300"] {
        assert_eq!(
            postgres_unavailable(busy),
            Some(Unavailable::Busy),
            "{busy}"
        );
    }
    for gone in [
        "25006", "08006", "08001", "53100", "53200", "57P01", "57P03", "58030",
    ] {
        assert_eq!(
            postgres_unavailable(gone),
            Some(Unavailable::Unwritable),
            "{gone}"
        );
    }
    // A unique violation, a syntax error, an undefined table: bugs.
    for bug in ["23505", "42601", "42P01", "22P02"] {
        assert_eq!(postgres_unavailable(bug), None, "{bug}");
    }
}

#[test]
fn a_database_location_is_a_postgres_url_or_a_sqlite_file() {
    assert_eq!(
        Location::parse("postgres://qlp:pw@db:5432/qlp"),
        Ok(Location::Postgres("postgres://qlp:pw@db:5432/qlp".into()))
    );
    assert!(matches!(
        Location::parse("postgresql://db/qlp"),
        Ok(Location::Postgres(_))
    ));
    assert_eq!(
        Location::parse("sqlite:///var/lib/qlp/qlp.db"),
        Ok(Location::Sqlite("/var/lib/qlp/qlp.db".into()))
    );
    assert_eq!(
        Location::parse("data/qlp.db"),
        Ok(Location::Sqlite("data/qlp.db".into()))
    );
    let refused = Location::parse("mysql://u:secret@db/qlp").unwrap_err();
    assert!(refused.contains("neither"), "{refused}");
    assert!(
        !refused.contains("secret"),
        "the password is masked: {refused}"
    );
    assert!(Location::parse("").is_err());
    assert_eq!(
        Location::Postgres("postgres://qlp:pw@db/qlp".into()).display(),
        "postgres://qlp:***@db/qlp"
    );
    // No password, nothing masked or invented.
    assert_eq!(
        Location::Postgres("postgres://qlp@db/qlp".into()).display(),
        "postgres://qlp@db/qlp"
    );
}

/// Real errors from each database, through the store's own pool: the ones
/// that mean "not now" are told apart from the ones that mean "wrong".
#[tokio::test]
async fn a_locked_sqlite_database_is_busy_and_a_bad_statement_is_not() {
    let (dir, store) = open().await;
    // Another process's writer holds the lock; this one does not wait.
    let path = dir.path().join("qlp.db");
    let url = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .to_url_lossy();
    let mut holder = sqlx::AnyConnection::connect(url.as_str()).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let mut impatient = store.pool().acquire().await.unwrap();
    sqlx::raw_sql("PRAGMA busy_timeout = 0")
        .execute(&mut *impatient)
        .await
        .unwrap();
    let busy = sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *impatient)
        .await
        .unwrap_err();
    assert_eq!(Error::Db(busy).unavailable(), Some(Unavailable::Busy));
    let wrong = sqlx::raw_sql("SELECT * FROM no_such_table")
        .execute(&mut *impatient)
        .await
        .unwrap_err();
    assert_eq!(Error::Db(wrong).unavailable(), None);
    // A connection the database cannot be reached through.
    let gone = Error::Db(sqlx::Error::Io(std::io::Error::other("connection reset")));
    assert_eq!(gone.unavailable(), Some(Unavailable::Unwritable));
}

#[tokio::test]
async fn a_postgres_lock_not_granted_in_time_is_busy_and_a_bad_statement_is_not() {
    let (_dir, store) = open_on(Backend::Postgres).await;
    let mut holder = store.pool().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(42)) AS locked")
        .execute(&mut *holder)
        .await
        .unwrap();
    let mut impatient = store.pool().begin().await.unwrap();
    sqlx::raw_sql("SET LOCAL lock_timeout = '50ms'")
        .execute(&mut *impatient)
        .await
        .unwrap();
    let busy = sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(42)) AS locked")
        .execute(&mut *impatient)
        .await
        .unwrap_err();
    assert_eq!(Error::Db(busy).unavailable(), Some(Unavailable::Busy));
    drop(impatient);
    let mut conn = store.pool().acquire().await.unwrap();
    let wrong = sqlx::raw_sql("SELECT * FROM no_such_table")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert_eq!(Error::Db(wrong).unavailable(), None);
    holder.rollback().await.unwrap();
}

#[tokio::test]
async fn sqlite_connections_keep_a_write_ahead_log_and_sync_as_asked() {
    for (durability, synchronous) in [(Durability::Full, 2), (Durability::Normal, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(&dir.path().join("qlp.db"), durability)
            .await
            .unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(sync, synchronous, "{durability:?}");
        let (keys,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(keys, 1);
        let (timeout,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(timeout, BUSY_TIMEOUT.as_millis() as i64);
    }
}

async fn running_intents_of_a_tenant_never_hold_more_than_its_daily_tokens(backend: Backend) {
    let (_dir, at) = location(backend);
    let (a, b) = (
        Store::connect(&at, Durability::Normal).await.unwrap(),
        Store::connect(&at, Durability::Normal).await.unwrap(),
    );
    let day = "2026-12-07";
    // A quota of 2500: two intents wanting 1000 each get them, the third
    // gets what is left, the fourth nothing.
    assert_eq!(
        a.hold_llm_tokens("i1", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        1000
    );
    assert_eq!(
        b.hold_llm_tokens("i2", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        1000
    );
    assert_eq!(
        a.hold_llm_tokens("i3", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        500
    );
    assert_eq!(
        b.hold_llm_tokens("i4", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        0
    );
    assert_eq!(a.llm_tokens_used("acme", day).await.unwrap(), 2500);
    // Another tenant, another day: quotas of their own.
    assert_eq!(
        a.hold_llm_tokens("g1", "globex", day, 1000, 2500)
            .await
            .unwrap(),
        1000
    );
    assert_eq!(
        a.hold_llm_tokens("i5", "acme", "2026-12-08", 1000, 2500)
            .await
            .unwrap(),
        1000
    );
    // An intent that spent 200 of its 1000 gives 800 back.
    a.settle_llm_tokens("i1", day, 200).await.unwrap();
    assert_eq!(b.llm_tokens_used("acme", day).await.unwrap(), 1700);
    assert_eq!(
        b.hold_llm_tokens("i4", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        800
    );
    // Resumed, it holds again on top of what it spent, within the quota.
    assert_eq!(
        a.hold_llm_tokens("i1", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        0
    );
    b.settle_llm_tokens("i4", day, 800).await.unwrap();
    b.settle_llm_tokens("i2", day, 0).await.unwrap();
    assert_eq!(
        a.hold_llm_tokens("i1", "acme", day, 1000, 2500)
            .await
            .unwrap(),
        1000
    );
    assert_eq!(
        a.llm_tokens_used("acme", day).await.unwrap(),
        200 + 1000 + 500 + 800
    );
    // Holds racing through both replicas never pass the quota.
    let racing: Vec<_> = (0..10)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store
                    .hold_llm_tokens(&format!("r{i}"), "initech", day, 300, 1000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut held = 0;
    for hold in racing {
        held += hold.await.unwrap();
    }
    assert_eq!(held, 1000);
    assert_eq!(a.llm_tokens_used("initech", day).await.unwrap(), 1000);
}
