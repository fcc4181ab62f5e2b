//! Reliability as a user relies on it: submissions with idempotency keys
//! never fail because the server is busy running pipelines, a delivery
//! repeated after a crash succeeds once, a crash at any moment loses and
//! duplicates nothing, and a full disk or a database file made read-only,
//! moved away or replaced is answered with 503s, and (but for the
//! replacement) recovered from without a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::files_checked_against_manifest;
use crate::support::{INTENT_TIMEOUT, Server, stages};

/// A standard-tier intent, made distinct by `n`.
fn intent(n: usize) -> Value {
    json!({
        "description": format!("Create a FastAPI service for invoices batch {n} with JWT auth"),
        "requirements": [format!("store invoice batch {n}")],
        "tier": "standard",
    })
}

/// One answer to a submission: status, body and whether it was a replay.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    pub replayed: bool,
    pub retry_after: Option<String>,
}

/// POSTs an intent under an idempotency key.
pub(crate) async fn submit_keyed(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    key: &str,
) -> Result<Answer, reqwest::Error> {
    let response = http
        .post(format!("{url}/v1/intents"))
        .header("Idempotency-Key", key)
        .json(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    let retry_after = header("retry-after");
    let body = response.json().await.unwrap_or(Value::Null);
    Ok(Answer {
        status,
        body,
        replayed,
        retry_after,
    })
}

/// Records every answer of a kind of request the server gave, so a test
/// can say which request got a 5xx.
#[derive(Default, Clone)]
struct Log(Arc<Mutex<Vec<(String, u16)>>>);

impl Log {
    fn push(&self, what: impl Into<String>, status: u16) {
        self.0.lock().unwrap().push((what.into(), status));
    }

    fn server_errors(&self) -> Vec<(String, u16)> {
        let log = self.0.lock().unwrap();
        log.iter().filter(|(_, s)| *s >= 500).cloned().collect()
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotent_submissions_pollers_streams_and_cancels_never_get_a_server_error() {
    const SUBMITTERS: usize = 4;
    const PER_SUBMITTER: usize = 30;
    let data = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_default(data.path()));
    let log = Log::default();
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Submitters: every intent under its own key, then the same request
    // again, which must replay the first answer.
    let mut submitters = vec![];
    for s in 0..SUBMITTERS {
        let (server, log, accepted) = (server.clone(), log.clone(), accepted.clone());
        submitters.push(tokio::spawn(async move {
            let mut mismatches = vec![];
            for j in 0..PER_SUBMITTER {
                let key = format!("submitter-{s}-intent-{j}");
                let body = intent(s * PER_SUBMITTER + j);
                let first = submit_keyed(&server.http, &server.url, &body, &key)
                    .await
                    .expect("POST");
                log.push(format!("POST {key}"), first.status);
                if first.status != 202 {
                    mismatches.push(format!("{key}: {} {}", first.status, first.body));
                    continue;
                }
                let id = first.body["id"].as_str().expect("an id").to_owned();
                accepted.lock().unwrap().push(id.clone());
                let again = submit_keyed(&server.http, &server.url, &body, &key)
                    .await
                    .expect("POST again");
                log.push(format!("POST {key} again"), again.status);
                if again.status != 202 || again.body["id"] != id.as_str() || !again.replayed {
                    mismatches.push(format!(
                        "{key} replayed as {} {} (replayed: {}), first {id}",
                        again.status, again.body, again.replayed
                    ));
                }
            }
            mismatches
        }));
    }

    // Pollers, a canceller and event-stream readers alongside.
    let mut others = vec![];
    for _ in 0..2 {
        let (server, log, accepted, done) =
            (server.clone(), log.clone(), accepted.clone(), done.clone());
        others.push(tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let list = server.get("/v1/intents?limit=100").await;
                log.push("GET /v1/intents", list.status().as_u16());
                let last = accepted.lock().unwrap().last().cloned();
                if let Some(id) = last {
                    let one = server.get(&format!("/v1/intents/{id}")).await;
                    log.push(format!("GET /v1/intents/{id}"), one.status().as_u16());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    {
        let (server, log, accepted, done) =
            (server.clone(), log.clone(), accepted.clone(), done.clone());
        others.push(tokio::spawn(async move {
            let mut cancelled = BTreeSet::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let ids: Vec<String> = accepted.lock().unwrap().clone();
                for id in ids.iter().step_by(7) {
                    if cancelled.insert(id.clone()) {
                        let (status, _) = server
                            .post_json(&format!("/v1/intents/{id}/cancel"), json!({}))
                            .await;
                        log.push(format!("POST /v1/intents/{id}/cancel"), status);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    for _ in 0..2 {
        let (server, log, accepted, done) =
            (server.clone(), log.clone(), accepted.clone(), done.clone());
        others.push(tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let last = accepted.lock().unwrap().last().cloned();
                let Some(id) = last else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let path = format!("/v1/intents/{id}/events");
                let response = server.get(&path).await;
                log.push(format!("GET {path}"), response.status().as_u16());
                // The stream ends with the intent; read it to the end, or
                // for a bounded time.
                let _ = tokio::time::timeout(Duration::from_secs(10), response.bytes()).await;
            }
        }));
    }

    let mut mismatches = vec![];
    for submitter in submitters {
        mismatches.extend(submitter.await.expect("submitter"));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in others {
        task.await.expect("poller");
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(
        log.server_errors().is_empty(),
        "5xx answers: {:#?}",
        log.server_errors()
    );
    assert!(log.len() > 2 * SUBMITTERS * PER_SUBMITTER);

    // Every accepted intent ends.
    let ids: Vec<String> = accepted.lock().unwrap().clone();
    assert_eq!(ids.len(), SUBMITTERS * PER_SUBMITTER);
    for id in &ids {
        let intent = server.wait(id).await;
        let status = intent["status"].as_str().unwrap();
        assert!(status == "completed" || status == "cancelled", "{intent:#}");
    }
}

/// The files delivered for an intent by `qlp/filesystem`.
fn delivered(data: &Path, id: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = data.join("deliveries").join(id);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The statuses of an intent's stage records named `name`, in order.
fn statuses(intent: &Value, name: &str) -> Vec<String> {
    stages(intent, name)
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_repeated_after_a_crash_between_write_and_record_succeeds_once() {
    let data = tempfile::tempdir().unwrap();
    let plugins = crate::support::plugins();
    let args = ["--plugin-dir", plugins.to_str().unwrap()];
    // The server aborts after the adapter wrote the artifact, before the
    // host recorded the delivery.
    let mut server = Server::start_env(data.path(), &args, &[("QLP_FAULTS", "commit:deliver:1")]);
    let id = server.submit(intent(0)).await;
    assert!(
        server.exited_within(INTENT_TIMEOUT),
        "the crash point was not reached"
    );
    let before = delivered(data.path(), &id);
    assert_eq!(before.len(), 1, "the adapter wrote before the crash");

    let server = Server::start_default(data.path());
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    assert_eq!(
        statuses(&intent, "deliver"),
        ["interrupted", "succeeded"],
        "{intent:#}"
    );
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let zip = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    let after = delivered(data.path(), &id);
    assert_eq!(after, before, "one artifact, delivered once, unchanged");
    let (name, bytes) = after.iter().next().unwrap();
    assert_eq!(bytes, &zip);
    assert_eq!(
        capsule["receipt"]["location"],
        format!("{id}/{name}"),
        "{capsule:#}"
    );
    files_checked_against_manifest(&zip);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submission_whose_answer_was_lost_in_a_crash_is_replayed_not_duplicated() {
    let data = tempfile::tempdir().unwrap();
    let plugins = crate::support::plugins();
    let args = ["--plugin-dir", plugins.to_str().unwrap()];
    let mut server = Server::start_env(data.path(), &args, &[("QLP_FAULTS", "submit:1")]);
    let body = intent(1);
    let lost = submit_keyed(&server.http, &server.url, &body, "lost-answer").await;
    assert!(lost.is_err(), "the server crashed before answering");
    assert!(server.exited_within(Duration::from_secs(10)));

    // The client retries with the same key on the restarted server.
    let server = Server::start_default(data.path());
    let retried = submit_keyed(&server.http, &server.url, &body, "lost-answer")
        .await
        .expect("POST");
    assert_eq!(retried.status, 202, "{}", retried.body);
    assert!(retried.replayed, "the intent stored before the crash");
    let id = retried.body["id"].as_str().unwrap();
    let intent = server.wait(id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let list = server.get_json("/v1/intents").await;
    assert_eq!(list["intents"].as_array().unwrap().len(), 1, "{list:#}");
}

/// A small deterministic generator (xorshift64*), seeded per run and
/// printed, so a failing sequence of kills can be replayed with
/// `QLP_FAULT_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Where the fault-injection test aims its crash points.
const CRASH_POINTS: [&str; 7] = [
    "submit",
    "commit:generate",
    "commit:validate",
    "recorded:validate",
    "commit:export",
    "commit:deliver",
    "recorded:deliver",
];

#[tokio::test(flavor = "multi_thread")]
async fn intents_survive_repeated_kills_at_random_moments_exactly_once() {
    const CLIENTS: usize = 3;
    // Each client submits until the kills are over, at most this many.
    const MAX_PER_CLIENT: usize = 25;
    let rounds: usize = std::env::var("QLP_FAULT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("QLP_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("fault injection: seed {seed} (QLP_FAULT_SEED), {rounds} rounds");
    let mut rng = Rng(seed);

    let data = tempfile::tempdir().unwrap();
    let plugins = crate::support::plugins();
    let plugin_dir = plugins.to_str().unwrap().to_owned();
    let start = |faults: Option<String>| {
        let args = ["--plugin-dir", plugin_dir.as_str()];
        match &faults {
            Some(f) => Server::start_env(data.path(), &args, &[("QLP_FAULTS", f)]),
            None => Server::start(data.path(), &args),
        }
    };
    let mut server = start(None);
    let url = Arc::new(RwLock::new(server.url.clone()));
    // The key survives restarts on the data directory.
    let http = server.http.clone();

    // Clients: each submits its intents under its own keys, retrying what
    // got no answer (or a 503) until the server answers 202.
    let deadline = Instant::now() + Duration::from_secs(600);
    let kills_over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = vec![];
    for c in 0..CLIENTS {
        let (url, http, kills_over) = (url.clone(), http.clone(), kills_over.clone());
        clients.push(tokio::spawn(async move {
            let mut accepted = vec![];
            for j in 0..MAX_PER_CLIENT {
                if kills_over.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let key = format!("client-{c}-intent-{j}");
                let body = intent(100 + c * MAX_PER_CLIENT + j);
                loop {
                    assert!(Instant::now() < deadline, "{key} was never accepted");
                    let current = url.read().unwrap().clone();
                    match submit_keyed(&http, &current, &body, &key).await {
                        Ok(a) if a.status == 202 => {
                            accepted.push((key, a.body["id"].as_str().unwrap().to_owned()));
                            break;
                        }
                        Ok(a) if a.status == 503 || a.status == 429 => {
                            assert!(a.retry_after.is_some(), "{} without Retry-After", a.status);
                        }
                        Ok(a) => panic!("{key}: {} {}", a.status, a.body),
                        Err(_) => {}
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                // Paced, so that intents are in flight at every kill.
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            accepted
        }));
    }

    // The kills: a SIGKILL after a random pause, or a crash point armed
    // for a random hit, then a restart on the same data directory.
    let (mut sigkills, mut crashes) = (0, 0);
    for _ in 0..rounds {
        if rng.below(2) == 0 {
            tokio::time::sleep(Duration::from_millis(100 + rng.below(1500))).await;
            server.kill();
            sigkills += 1;
            server = start(None);
        } else {
            let point = CRASH_POINTS[rng.below(CRASH_POINTS.len() as u64) as usize];
            let hit = 1 + rng.below(3);
            server.stop();
            let faults = format!("{point}:{hit}");
            let args = ["--plugin-dir", plugin_dir.as_str()];
            match Server::try_start_env(data.path(), &args, &[("QLP_FAULTS", &faults)]) {
                // Reached while the server resumed its queue, before it
                // listened.
                Err(ended) => {
                    let reached = format!("crash point `{point}` reached");
                    assert!(ended.log.contains(&reached), "{faults}: {}", ended.log);
                    crashes += 1;
                }
                Ok(mut faulty) => {
                    *url.write().unwrap() = faulty.url.clone();
                    // A point the run does not reach in time is a plain kill.
                    if faulty.exited_within(Duration::from_secs(15)) {
                        crashes += 1;
                    } else {
                        faulty.kill();
                        sigkills += 1;
                    }
                }
            }
            server = start(None);
        }
        *url.write().unwrap() = server.url.clone();
    }

    kills_over.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut accepted = vec![];
    for client in clients {
        accepted.extend(client.await.expect("client"));
    }
    // Each key was accepted as one intent, and no other intent exists.
    let ids: BTreeSet<&str> = accepted.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids.len(), accepted.len(), "{accepted:#?}");
    assert!(ids.len() >= CLIENTS, "{accepted:#?}");
    let listed = server.get_json("/v1/intents?limit=100").await;
    let listed: BTreeSet<&str> = listed["intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "intents stored but never accepted, or lost");

    for id in &ids {
        let intent = server.wait(id).await;
        assert_eq!(intent["status"], "completed", "{intent:#}");
        assert_eq!(
            statuses(&intent, "deliver")
                .iter()
                .filter(|s| *s == "succeeded")
                .count(),
            1,
            "{intent:#}"
        );
        let zip = server
            .get_bytes(&format!("/v1/capsules/{id}/download"))
            .await;
        files_checked_against_manifest(&zip);
        let delivered = delivered(data.path(), id);
        assert_eq!(delivered.len(), 1, "{id}: {:?}", delivered.keys());
        assert_eq!(delivered.values().next().unwrap(), &zip, "{id}");
    }
    println!(
        "fault injection: survived {} kills ({sigkills} SIGKILL, {crashes} crash points), {} intents each completed and delivered once",
        sigkills + crashes,
        ids.len()
    );
}

/// A tmpfs of `mib` MiB mounted on a new directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (CI runs as root)"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in [1 << 20, 4096, 512, 1] {
            let block = vec![0u8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_gets_503_with_retry_after_and_the_server_recovers_without_a_restart() {
    let disk = SmallDisk::mount(32);
    let data = disk.path().join("data");
    let server = Server::start_default(&data);
    let first = server.submit(intent(0)).await;
    assert_eq!(server.wait(&first).await["status"], "completed");

    // Intents in flight when the disk fills up.
    let mut accepted = vec![];
    for n in 1..4 {
        accepted.push(server.submit(intent(n)).await);
    }
    let filler = disk.fill();
    // Submissions go on until the database cannot grow: each is stored
    // whole or answered 503 with a stable code and Retry-After.
    let mut refused = 0;
    for n in 10..300 {
        let answer = submit_keyed(&server.http, &server.url, &intent(n), &format!("full-{n}"))
            .await
            .expect("POST");
        match answer.status {
            202 => accepted.push(answer.body["id"].as_str().unwrap().to_owned()),
            503 => {
                assert_eq!(answer.body["code"], "STORE_UNAVAILABLE", "{}", answer.body);
                assert!(answer.retry_after.is_some(), "503 without Retry-After");
                refused += 1;
                if refused >= 3 {
                    break;
                }
            }
            other => panic!("{other} {}", answer.body),
        }
    }
    assert!(refused > 0, "the full disk was never noticed");
    // Reads still work.
    assert_eq!(
        server.get_json(&format!("/v1/intents/{first}")).await["status"],
        "completed"
    );
    let zip = server
        .get_bytes(&format!("/v1/capsules/{first}/download"))
        .await;
    files_checked_against_manifest(&zip);

    // Space returns: without a restart, what was accepted completes and
    // new submissions are taken.
    std::fs::remove_file(filler).unwrap();
    let later = server.submit(intent(1000)).await;
    accepted.push(later);
    for id in &accepted {
        let intent = server.wait(id).await;
        assert_eq!(intent["status"], "completed", "{intent:#}");
        let zip = server
            .get_bytes(&format!("/v1/capsules/{id}/download"))
            .await;
        files_checked_against_manifest(&zip);
    }
    // Nothing half-written is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(data.join("capsules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    server.stop();
}

/// Runs `chattr FLAG PATH` (e2fsprogs; a tmpfs has the immutable flag).
fn chattr(flag: &str, path: &Path) {
    let status = std::process::Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .expect("run chattr");
    assert!(status.success(), "chattr {flag} {}", path.display());
}

/// Submits until a submission is refused with `503 STORE_UNAVAILABLE` and
/// `Retry-After`: the server looks at its database file a few times a
/// second, so within seconds. Whatever was accepted before goes in
/// `accepted`.
async fn first_refusal(server: &Server, tag: &str, accepted: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for n in 0.. {
        assert!(
            Instant::now() < deadline,
            "{tag}: writes were never refused"
        );
        let key = format!("{tag}-{n}");
        let answer = submit_keyed(&server.http, &server.url, &intent(n), &key)
            .await
            .expect("POST");
        match answer.status {
            202 => accepted.push(answer.body["id"].as_str().unwrap().to_owned()),
            503 => {
                assert_eq!(answer.body["code"], "STORE_UNAVAILABLE", "{}", answer.body);
                assert!(answer.retry_after.is_some(), "503 without Retry-After");
                return;
            }
            other => panic!("{tag}: {other} {}", answer.body),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// While the database may not be written: health says why, reads and
/// downloads work, every submission gets 503.
async fn degraded(server: &Server, state: &str, done: &str) {
    // A write may meet the file's state (a connection opened read-only)
    // before the server's next look at it, at most 200 ms later.
    let deadline = Instant::now() + Duration::from_secs(5);
    let health = loop {
        let health = server.get_json("/healthz").await;
        if health["status"] == "degraded" || Instant::now() > deadline {
            break health;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["database"], state, "{health}");
    assert_eq!(
        server.get_json(&format!("/v1/intents/{done}")).await["status"],
        "completed"
    );
    let zip = server
        .get_bytes(&format!("/v1/capsules/{done}/download"))
        .await;
    files_checked_against_manifest(&zip);
    for n in 0..3 {
        let answer = submit_keyed(
            &server.http,
            &server.url,
            &intent(n),
            &format!("{state}-{n}"),
        )
        .await
        .expect("POST");
        assert_eq!(answer.status, 503, "{state}: {}", answer.body);
        assert_eq!(answer.body["code"], "STORE_UNAVAILABLE", "{}", answer.body);
    }
}

/// Once the file is back: health is ok and a submission is taken.
async fn recovered(server: &Server, tag: &str, accepted: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = submit_keyed(
            &server.http,
            &server.url,
            &intent(1),
            &format!("{tag}-back"),
        )
        .await
        .expect("POST");
        match answer.status {
            202 => {
                accepted.push(answer.body["id"].as_str().unwrap().to_owned());
                break;
            }
            503 if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => panic!("{tag}: never recovered: {other} {}", answer.body),
        }
    }
    let health = server.get_json("/healthz").await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["database"], "writable", "{health}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_file_made_read_only_or_moved_away_gets_503s_and_the_server_recovers_without_a_restart()
 {
    // Its own tmpfs: the immutable flag is there whatever the machine's
    // file system.
    let disk = SmallDisk::mount(64);
    let data = disk.path().join("data");
    let db = data.join("qlp.db");
    let server = Server::start_default(&data);
    let done = server.submit(intent(0)).await;
    assert_eq!(server.wait(&done).await["status"], "completed");
    let mut accepted = vec![];

    // Made read-only under intents in flight. (Root, which CI runs as,
    // writes whatever the mode says; the immutable flag binds root too.)
    accepted.push(server.submit(intent(2)).await);
    chattr("+i", &db);
    first_refusal(&server, "read-only", &mut accepted).await;
    degraded(&server, "read_only", &done).await;
    chattr("-i", &db);
    recovered(&server, "read-only", &mut accepted).await;

    // Moved away, then back.
    accepted.push(server.submit(intent(3)).await);
    let away = data.join("qlp.db.away");
    std::fs::rename(&db, &away).unwrap();
    first_refusal(&server, "removed", &mut accepted).await;
    degraded(&server, "removed", &done).await;
    assert!(
        !db.exists(),
        "the server made a new database where its own was"
    );
    std::fs::rename(&away, &db).unwrap();
    recovered(&server, "removed", &mut accepted).await;

    for id in &accepted {
        let intent = server.wait(id).await;
        assert_eq!(intent["status"], "completed", "{intent:#}");
        let zip = server
            .get_bytes(&format!("/v1/capsules/{id}/download"))
            .await;
        files_checked_against_manifest(&zip);
    }

    // Another file in its place is not taken up by the running server:
    // writes stay refused (its connections still hold the old file).
    let copy = data.join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    std::fs::rename(&copy, &db).unwrap();
    let mut none = vec![];
    first_refusal(&server, "replaced", &mut none).await;
    degraded(&server, "replaced", &done).await;
    server.stop();
}
