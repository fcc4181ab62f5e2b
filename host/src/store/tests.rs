//! The store's job guarantees, in process on a SQLite file: leases belong
//! to one worker, a restart releases only its own node's leases, and
//! transactions that read before they write never fail because another
//! writer committed in between.

use std::time::Duration;

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

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("qlp.db")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_to_another_worker_of_its_node_is_told_so() {
    let (_dir, store) = open().await;
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

#[tokio::test]
async fn a_restart_releases_its_own_workers_leases_and_no_other_nodes() {
    let (_dir, store) = open().await;
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

#[tokio::test]
async fn a_claimed_intent_resumes_with_its_completed_outputs_and_interrupted_stages() {
    let (_dir, store) = open().await;
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

#[tokio::test]
async fn idempotent_inserts_racing_other_writers_never_fail() {
    let (_dir, store) = open().await;
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

#[tokio::test]
async fn a_tenant_at_its_running_limit_waits_while_other_tenants_go_ahead() {
    let (_dir, store) = open().await;
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
