//! The sandbox against adversarial plugins: each case asserts the exact
//! error a stage fails with, and that the server goes on serving.

use std::time::Duration;

use qlp_runtime::{LoadError, Runtime};
use serde_json::{Value, json};

use crate::support::{Server, fixtures, plugins, stage};

const INTENT: &str = "A FastAPI service for invoices";

/// Submits one intent on `tier` and returns it once finished.
async fn run(server: &Server, tier: &str) -> Value {
    let id = server
        .submit(json!({ "description": INTENT, "tier": tier }))
        .await;
    server.wait(&id).await
}

/// Asserts that `intent` failed at `stage_name` with `code`, and returns
/// that stage's record.
fn failed_with<'a>(intent: &'a Value, stage_name: &str, code: &str) -> &'a Value {
    assert_eq!(intent["status"], "failed", "{intent:#}");
    assert_eq!(intent["error"]["code"], code, "{intent:#}");
    let s = stage(intent, stage_name);
    assert_eq!(s["status"], "failed", "{s:#}");
    assert_eq!(s["error"]["code"], code, "{s:#}");
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn resource_abuse_fails_the_stage_with_the_limit_named() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());

    // memory.grow to 4 GiB under the tier's 64 MiB cap.
    let intent = run(&server, "memory-hog").await;
    let s = failed_with(&intent, "validate", "MEMORY_LIMIT");
    assert!(
        s["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&(64u64 << 20).to_string()),
        "{s:#}"
    );
    assert!(
        s["detail"]["peak_memory_bytes"].as_u64().unwrap() <= 64 << 20,
        "{s:#}"
    );

    // Unbounded recursion is a trap, not a crash of the host thread.
    failed_with(
        &run(&server, "deep-recursion").await,
        "validate",
        "STACK_OVERFLOW",
    );

    // 16 MiB returned by an agent whose output cap is 8 MiB.
    let intent = run(&server, "output-flood").await;
    let s = failed_with(&intent, "generate", "OUTPUT_TOO_LARGE");
    let message = s["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("over the limit of {}", 8u64 << 20)),
        "{s:#}"
    );

    // A string that is not UTF-8 is refused while the result is lifted.
    failed_with(
        &run(&server, "bad-utf8").await,
        "validate",
        "INVALID_OUTPUT",
    );

    // The server is still serving.
    assert_eq!(run(&server, "standard").await["status"], "completed");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn fuel_stops_a_loop_at_the_same_point_and_meters_a_finite_call_exactly() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());

    let mut burnt = vec![];
    for _ in 0..2 {
        let intent = run(&server, "fuel-spin").await;
        let s = failed_with(&intent, "validate", "OUT_OF_FUEL");
        // Out of fuel, not out of time: the 2 s deadline did not fire.
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("200000000"),
            "{s:#}"
        );
        burnt.push(
            s["detail"]["fuel_consumed"]
                .as_u64()
                .expect("fuel recorded"),
        );
    }
    assert_eq!(burnt, vec![200_000_000, 200_000_000]);

    let mut metered = vec![];
    for _ in 0..2 {
        let intent = run(&server, "slow").await;
        assert_eq!(intent["status"], "completed", "{intent:#}");
        metered.push(
            stage(&intent, "validate")["detail"]["fuel_consumed"]
                .as_u64()
                .expect("fuel recorded"),
        );
    }
    assert!(metered[0] > 300_000_000, "{metered:?}");
    assert_eq!(metered[0], metered[1], "the same call burnt different fuel");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn log_flooding_is_capped_and_stripped_of_control_characters() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let intent = run(&server, "log-flood").await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    server.stop();

    let log = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    let from_plugin: Vec<&str> = log.lines().filter(|l| l.contains("forged")).collect();
    assert_eq!(from_plugin.len(), 200, "the per-call cap of log lines");
    assert!(
        !log.contains('\u{1b}') && !log.contains("\\u001b"),
        "an escape sequence reached the log"
    );
    assert!(!log.contains("\\r"), "a carriage return reached the log");
    assert!(
        log.lines()
            .any(|l| l.contains("dropped") && l.contains("9800")),
        "the dropped lines were not counted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_adapter_cannot_leave_its_directory() {
    let data = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let granted = data.path().join("escape");
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::write(outside.path().join("target.txt"), "untouched").unwrap();
    std::fs::write(data.path().join("secret.txt"), "top secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), granted.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("target.txt"), granted.join("link-file"))
        .unwrap();
    let absolute = std::path::Path::new("/tmp/qlp-escape-absolute.txt");
    let _ = std::fs::remove_file(absolute);

    let server = Server::start_with_fixtures(data.path());
    let intent = run(&server, "escape").await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let id = intent["id"].as_str().unwrap();
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let details: Vec<(String, String)> =
        serde_json::from_value(capsule["receipt"]["details"].clone()).unwrap();
    assert_eq!(details.len(), 9, "{details:?}");
    for (path, outcome) in &details {
        if path == "inside.txt" {
            assert_eq!(outcome, "written");
        } else {
            assert!(
                outcome.starts_with("refused: "),
                "`{path}` was not refused: {outcome}"
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(outside.path().join("target.txt")).unwrap(),
        "untouched"
    );
    assert!(!outside.path().join("escaped.txt").exists());
    assert!(!data.path().join("escaped.txt").exists());
    assert!(!absolute.exists());
    assert!(granted.join("inside.txt").is_file());
    assert!(
        std::fs::symlink_metadata(granted.join("link-file"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capability_used_without_a_grant_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    // What each plugin's calls get is on the record: declared and granted.
    let plugins = server.get_json("/v1/plugins").await;
    let granted = |name: &str| {
        plugins["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not loaded"))["granted"]
            .clone()
    };
    let ungranted = granted("fixture/ungranted");
    assert_eq!(ungranted["directory"], Value::Null, "{ungranted}");
    assert_eq!(ungranted["http"], json!([]), "{ungranted}");
    assert_eq!(
        granted("qlp/filesystem")["directory"],
        json!({ "path": "deliveries", "writable": true })
    );
    // A grant to a plugin that does not declare the capability gives it
    // nothing.
    assert_eq!(granted("qlp/secrets")["directory"], Value::Null);
    let intent = run(&server, "ungranted").await;
    let s = failed_with(&intent, "deliver", "WRITE_FAILED");
    assert!(
        s["error"]["message"]
            .as_str()
            .unwrap()
            .contains("capability not granted"),
        "{s:#}"
    );
    assert!(
        std::fs::read_dir(data.path())
            .unwrap()
            .flatten()
            .all(|e| e.file_name() != "out.bin")
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_intents_on_a_slow_plugin_queue_and_all_finish() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let mut ids = vec![];
    for _ in 0..8 {
        ids.push(
            server
                .submit(json!({ "description": INTENT, "tier": "slow" }))
                .await,
        );
    }
    // While they queue, the API still answers.
    let health = tokio::time::timeout(Duration::from_secs(5), server.get_json("/healthz")).await;
    assert!(health.is_ok(), "the API stalled behind slow plugins");

    let mut spans = vec![];
    for id in &ids {
        let intent = server.wait(id).await;
        assert_eq!(intent["status"], "completed", "{intent:#}");
        let s = stage(&intent, "validate");
        let time = |k: &str| humantime::parse_rfc3339(s[k].as_str().unwrap()).unwrap();
        spans.push((time("started_at"), time("finished_at")));
    }
    // The server runs two intents at a time (--workers 2): at no instant
    // were more than two slow calls running.
    for (start, _) in &spans {
        let running = spans
            .iter()
            .filter(|(s, e)| s <= start && start < e)
            .count();
        assert!(running <= 2, "{running} slow calls ran at once");
    }
    server.stop();
}

fn runtime() -> (Runtime, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    (Runtime::new(cache.path().to_owned()).unwrap(), cache)
}

#[test]
fn malformed_oversized_and_foreign_components_are_refused_before_they_run() {
    let (rt, _cache) = runtime();

    let too_large = vec![0u8; 100 << 20];
    assert!(matches!(
        rt.load(&too_large),
        Err(LoadError::TooLarge { .. })
    ));

    // A component header followed by garbage: refused by the validator.
    let mut garbage = b"\0asm\x0d\x00\x01\x00".to_vec();
    garbage.extend_from_slice(&[0xff; 64]);
    let err = rt.load(&garbage).unwrap_err();
    assert!(
        matches!(err, LoadError::Invalid(ref m) if m.contains("malformed")),
        "{err}"
    );

    assert!(matches!(
        rt.load(b"not wasm at all"),
        Err(LoadError::NotAComponent(_))
    ));
    let core_module = b"\0asm\x01\x00\x00\x00";
    let err = rt.load(core_module).unwrap_err();
    assert!(err.to_string().contains("core module"), "{err}");

    let wrong_world = std::fs::read(fixtures().join("qlp_fixture_wrong_world.wasm")).unwrap();
    assert!(matches!(
        rt.load(&wrong_world),
        Err(LoadError::UnknownWorld)
    ));
}

/// Sets every table of a core module to start at `elements`.
struct BigTables {
    elements: u64,
}

impl wasm_encoder::reencode::Reencode for BigTables {
    type Error = std::convert::Infallible;

    fn table_type(
        &mut self,
        table: wasmparser::TableType,
    ) -> Result<wasm_encoder::TableType, wasm_encoder::reencode::Error<Self::Error>> {
        Ok(wasm_encoder::TableType {
            element_type: self.ref_type(table.element_type)?,
            minimum: self.elements,
            maximum: None,
            table64: table.table64,
            shared: table.shared,
        })
    }
}

#[test]
fn a_table_of_a_million_elements_is_refused_before_it_runs() {
    use wasm_encoder::reencode::Reencode;
    // The noop validator's own core module, its function table declared
    // with a million elements, made a component the way `qlp plugin build`
    // makes one.
    let core = std::fs::read(
        crate::support::target_dir().join("wasm32-unknown-unknown/release/qlp_fixture_noop.wasm"),
    )
    .expect("the fixtures are built (deploy/dev.sh plugins)");
    let mut module = wasm_encoder::Module::new();
    BigTables {
        elements: 1_000_000,
    }
    .parse_core_module(&mut module, wasmparser::Parser::new(0), &core)
    .unwrap();
    let component = qlp_runtime::build::componentize(&module.finish()).unwrap();

    let (rt, _cache) = runtime();
    let err = rt.load(&component).unwrap_err().to_string();
    assert!(
        err.contains("table") && err.contains("1000000"),
        "a table of a million elements was accepted: {err}"
    );
    // The same module with the table it was built with loads.
    let mut module = wasm_encoder::Module::new();
    wasm_encoder::reencode::RoundtripReencoder
        .parse_core_module(&mut module, wasmparser::Parser::new(0), &core)
        .unwrap();
    let component = qlp_runtime::build::componentize(&module.finish()).unwrap();
    rt.load(&component).expect("the unchanged module loads");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_skips_components_it_refuses_and_serves_the_rest() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("components");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(plugins()).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::copy(
        fixtures().join("qlp_fixture_wrong_world.wasm"),
        dir.join("wrong_world.wasm"),
    )
    .unwrap();
    std::fs::write(
        dir.join("garbage.wasm"),
        b"\0asm\x0d\x00\x01\x00\xff\xff\xff",
    )
    .unwrap();

    let server = Server::start(
        &data.path().join("data"),
        &["--plugin-dir", dir.to_str().unwrap()],
    );
    let loaded = server.get_json("/v1/plugins").await;
    let names: Vec<&str> = loaded["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, crate::support::first_party_names());
    assert_eq!(run(&server, "standard").await["status"], "completed");
    server.stop();
    let log = std::fs::read_to_string(data.path().join("data/server.log")).unwrap();
    assert!(
        log.contains("garbage.wasm") && log.contains("malformed"),
        "the refusal was not logged"
    );
    assert!(
        log.contains("wrong_world.wasm") && log.contains("QLP world"),
        "the refusal was not logged"
    );
}

/// A loopback HTTP server that answers `hello` and records each request's
/// head.
fn receiver() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
            // `/big` answers 5 MiB, over the host's 4 MiB response cap.
            let body = if head.starts_with("GET /big ") {
                vec![b'x'; 5 << 20]
            } else {
                b"hello".to_vec()
            };
            log.lock().unwrap().push(head);
            let _ = (&stream).write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = (&stream).write_all(&body);
        }
    });
    (port, seen)
}

fn http_tiers(dir: &std::path::Path, grant: &str, urls: &str) -> std::path::PathBuf {
    let path = dir.join("http-tiers.toml");
    let text = format!(
        r#"
[tiers.http]
agents = ["qlp/template-fastapi"]
validators = ["fixture/http-probe"]
exporter = "qlp/zip"
gate = {{ min_score = 0, max_critical = 0 }}

[plugins."fixture/http-probe"]
{grant}
config = {{ urls = "{urls}" }}
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

async fn probe_summary(data: &std::path::Path, tiers: &std::path::Path) -> Vec<String> {
    probe_summary_env(data, tiers, &[]).await
}

async fn probe_summary_env(
    data: &std::path::Path,
    tiers: &std::path::Path,
    env: &[(&str, &str)],
) -> Vec<String> {
    let dirs = format!("{}:{}", plugins().display(), fixtures().display());
    let server = Server::start_env(
        data,
        &["--plugin-dir", &dirs, "--tiers", tiers.to_str().unwrap()],
        env,
    );
    let intent = run(&server, "http").await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let id = intent["id"].as_str().unwrap();
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    server.stop();
    let probe = capsule["validations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["validator"] == "fixture/http-probe")
        .expect("the probe ran");
    let summary = probe["report"]["summary"].as_str().unwrap();
    summary.lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_reaches_only_allowed_hosts_with_the_hosts_own_host_header() {
    let (port, seen) = receiver();
    let (rebound_port, rebound_seen) = receiver();
    let data = tempfile::tempdir().unwrap();
    let urls = [
        format!("http://127.0.0.1:{port}/allowed"),
        // On the list by name, but the name resolves to loopback.
        format!("http://localhost:{rebound_port}/rebound"),
        // A private address that is not on the list.
        "http://10.0.0.1/private".to_owned(),
        // Same address, another port.
        format!("http://127.0.0.1:{}/other-port", port.wrapping_add(1)),
        // A scheme other than http and https.
        format!("ftp://127.0.0.1:{port}/file"),
    ];
    let grant = format!(r#"http = ["127.0.0.1:{port}", "localhost:{rebound_port}"]"#);
    let tiers = http_tiers(data.path(), &grant, &urls.join(" "));
    let lines = probe_summary(&data.path().join("granted"), &tiers).await;

    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0], "ok 200 hello");
    assert!(
        lines[1].starts_with("refused: capability not granted") && lines[1].contains("non-public"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("refused: capability not granted") && lines[2].contains("allow-list"),
        "{}",
        lines[2]
    );
    assert!(lines[3].contains("allow-list"), "{}", lines[3]);
    assert!(lines[4].contains("`http` and `https` only"), "{}", lines[4]);

    // Only the allowed request arrived, with the Host header the host wrote.
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("GET /allowed HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{}",
        heads[0]
    );
    assert!(
        !heads[0].contains("evil.example"),
        "the forged Host header went out: {}",
        heads[0]
    );
    assert!(heads[0].contains("X-Probe: 1\r\n"));
    assert!(
        rebound_seen.lock().unwrap().is_empty(),
        "a name resolving to loopback was let through"
    );

    // Without a grant, nothing goes out at all.
    let tiers = http_tiers(data.path(), "", &urls[0]);
    let lines = probe_summary(&data.path().join("ungranted"), &tiers).await;
    assert!(
        lines[0].starts_with("refused: capability not granted"),
        "{lines:?}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "a request went out without a grant"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_requests_and_response_bytes_are_capped_per_call() {
    let (port, seen) = receiver();
    let data = tempfile::tempdir().unwrap();
    let cap = qlp_runtime::http::MAX_REQUESTS_PER_CALL as usize;
    let mut urls = vec![format!("http://127.0.0.1:{port}/big")];
    urls.extend((1..=cap).map(|i| format!("http://127.0.0.1:{port}/small{i}")));
    let grant = format!(r#"http = ["127.0.0.1:{port}"]"#);
    let tiers = http_tiers(data.path(), &grant, &urls.join(" "));
    let lines = probe_summary(&data.path().join("capped"), &tiers).await;
    assert_eq!(lines.len(), cap + 1, "{lines:?}");
    assert!(
        lines[0].starts_with("refused: ") && lines[0].contains(&format!("over {} bytes", 4 << 20)),
        "{}",
        lines[0]
    );
    assert!(
        lines[1..cap].iter().all(|l| l == "ok 200 hello"),
        "{lines:?}"
    );
    assert_eq!(
        lines[cap],
        format!("refused: over {cap} HTTP requests in one call")
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        cap,
        "a request past the cap went out"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_sees_only_the_configuration_assigned_to_it() {
    let (port, seen) = receiver();
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/leaked");
    // The probe is granted the host, but `urls` is assigned to another
    // plugin of the same tier: the probe must not see it.
    let tiers = data.path().join("config-tiers.toml");
    std::fs::write(
        &tiers,
        format!(
            r#"
[tiers.http]
agents = ["qlp/template-fastapi"]
validators = ["fixture/http-probe", "qlp/secrets"]
exporter = "qlp/zip"
gate = {{ min_score = 0, max_critical = 0 }}

[plugins."fixture/http-probe"]
http = ["127.0.0.1:{port}"]

[plugins."qlp/secrets"]
config = {{ urls = "{url}" }}
"#
        ),
    )
    .unwrap();
    let lines = probe_summary(&data.path().join("isolated"), &tiers).await;
    assert!(
        lines.is_empty(),
        "the probe read another plugin's config: {lines:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_component_importing_what_it_does_not_declare_is_refused_at_load() {
    let (rt, _cache) = runtime();
    let undeclared = std::fs::read(fixtures().join("qlp_fixture_undeclared.wasm")).unwrap();
    let err = rt.load(&undeclared).unwrap_err().to_string();
    assert!(
        err.contains(
            "`qlp:plugin/workspace@0.2.0` needs a `directory-read` or `directory-write` capability"
        ),
        "the refusal does not name the workspace import: {err}"
    );
    assert!(
        err.contains("`qlp:plugin/http@0.2.0` needs an `http` capability"),
        "the refusal does not name the http import: {err}"
    );
    // The same imports, declared, load: the check is about declarations.
    let declared = std::fs::read(fixtures().join("qlp_fixture_ungranted.wasm")).unwrap();
    assert_eq!(rt.load(&declared).unwrap().info.name, "fixture/ungranted");
}

#[test]
fn a_wasip2_component_asking_for_sockets_is_refused_at_load_with_the_import_named() {
    let (rt, _cache) = runtime();
    let socket = std::fs::read(fixtures().join("qlp_fixture_wasi_socket.wasm")).unwrap();
    let err = rt.load(&socket).unwrap_err().to_string();
    assert!(
        err.contains("component imports instance `wasi:sockets/"),
        "the refusal does not name the import: {err}"
    );
    // Clocks and random need no grant.
    let clock = std::fs::read(fixtures().join("qlp_fixture_wasi_clock.wasm")).unwrap();
    let plugin = rt
        .load(&clock)
        .expect("a component importing clocks and random loads");
    assert_eq!(plugin.info.name, "fixture/wasi-clock");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wasip2_component_gets_clocks_and_random_and_cannot_sleep_past_its_deadline() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_fixtures(data.path());
    let intent = run(&server, "wasi").await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let capsule = server
        .get_json(&format!("/v1/capsules/{}", intent["id"].as_str().unwrap()))
        .await;
    let summary = capsule["validations"][0]["report"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(summary.contains("16 random bytes"), "{summary}");

    // Ten minutes of sleep on the monotonic clock, under a one-second
    // deadline: the wait ends at the deadline and the call with TIMEOUT.
    let id = server
        .submit(json!({ "description": INTENT, "tier": "wasi", "constraints": { "sleep_ms": "600000" } }))
        .await;
    let slept = server.wait(&id).await;
    failed_with(&slept, "validate", "TIMEOUT");
    assert_eq!(run(&server, "standard").await["status"], "completed");
    server.stop();
}

/// The test CA's files (tests/data/tls): a CA and a server certificate for
/// 127.0.0.1 and localhost that it signed, for tests only.
fn tls_file(name: &str) -> String {
    crate::support::test_file(&format!("data/tls/{name}"))
        .display()
        .to_string()
}

fn https_server(host: &str) -> crate::support::Loopback {
    let script = crate::support::test_file("servers/https_server.py");
    crate::support::Loopback::start(
        "python3",
        &[
            script.to_str().unwrap(),
            "--cert",
            &tls_file("server-test-only.pem"),
            "--key",
            &tls_file("server-test-only.key"),
            "--host",
            host,
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn plugins_reach_https_servers_only_when_a_trusted_ca_vouches_for_them() {
    let tls = https_server("127.0.0.1");
    let port = tls.port();
    // The same certificate, which names 127.0.0.1 and localhost, served
    // on another address.
    let misnamed = https_server("127.0.0.2");
    let other = misnamed.port();
    let urls = [
        format!("https://127.0.0.1:{port}/over-tls"),
        format!("https://127.0.0.2:{other}/wrong-name"),
    ];
    let grant = format!(r#"http = ["127.0.0.1:{port}", "127.0.0.2:{other}"]"#);

    // The operator's CA bundle makes the test CA trusted.
    let data = tempfile::tempdir().unwrap();
    let tiers = http_tiers(data.path(), &grant, &urls.join(" "));
    let ca = tls_file("ca-test-only.pem");
    let lines = probe_summary_env(
        &data.path().join("with-ca"),
        &tiers,
        &[("QLP_CA_FILE", ca.as_str())],
    )
    .await;
    assert_eq!(lines[0], "ok 200 hello over tls", "{lines:?}");
    assert!(
        lines[1].starts_with("refused:") && lines[1].contains("certificate"),
        "a certificate for another name was accepted: {lines:?}"
    );
    let served = tls.printed();
    assert_eq!(served, ["request GET /over-tls 0"], "{served:?}");
    assert!(
        misnamed.printed().is_empty(),
        "a request went to the misnamed server"
    );

    // Without it, the system roots alone do not know the test CA.
    let lines = probe_summary(&data.path().join("without-ca"), &tiers).await;
    assert!(
        lines[0].starts_with("refused:") && lines[0].contains("certificate"),
        "{lines:?}"
    );
    assert!(tls.printed().is_empty(), "a request went out unverified");
}

#[test]
fn a_ca_bundle_that_is_not_pem_stops_the_server_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let bogus = data.path().join("bundle.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let outcome = Server::try_start_env(
        data.path(),
        &["--plugin-dir", plugins().to_str().unwrap()],
        &[("QLP_CA_FILE", bogus.to_str().unwrap())],
    );
    let Err(crate::support::NotStarted { log, .. }) = outcome else {
        panic!("the server started with a broken CA bundle");
    };
    assert!(
        log.contains("CA bundle") && log.contains("bundle.pem"),
        "{log}"
    );
}

/// When the client of a [`dripping_server`] hung up.
type HungUp = std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>;

/// A server that answers with a head, then one byte of body every 300 ms,
/// for a minute: the connection of a plugin that waits for it must be cut
/// at the call's deadline, not at each read's.
fn dripping_server() -> (u16, HungUp) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hung_up = HungUp::default();
    let seen = hung_up.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
                for _ in 0..200 {
                    if stream
                        .write_all(b"x")
                        .and_then(|()| stream.flush())
                        .is_err()
                    {
                        *seen.lock().unwrap() = Some(std::time::Instant::now());
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
            });
        }
    });
    (port, hung_up)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_dripping_its_answer_fails_the_call_with_timeout_at_its_deadline() {
    let (port, hung_up) = dripping_server();
    let data = tempfile::tempdir().unwrap();
    let grant = format!("http = [\"127.0.0.1:{port}\"]\nlimits = {{ timeout_ms = 2000 }}");
    let tiers = http_tiers(
        data.path(),
        &grant,
        &format!("http://127.0.0.1:{port}/drip"),
    );
    let dirs = format!("{}:{}", plugins().display(), fixtures().display());
    let server = Server::start(
        &data.path().join("data"),
        &["--plugin-dir", &dirs, "--tiers", tiers.to_str().unwrap()],
    );
    let intent = run(&server, "http").await;
    let probe = failed_with(&intent, "validate", "TIMEOUT");
    // The call ended at its 2 s deadline, not when the server stopped
    // dripping a minute later.
    let took = probe["duration_ms"].as_i64().expect("a duration");
    assert!(
        (2_000..10_000).contains(&took),
        "the call took {took} ms: {probe:#}"
    );
    // The host hung up then: the connection, and the thread waiting on
    // it, were let go (the server notices at its next write, 300 ms on).
    let ended = std::time::Instant::now();
    let mut waited = Duration::ZERO;
    while hung_up.lock().unwrap().is_none() && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    let when = hung_up.lock().unwrap().expect("the host never hung up");
    assert!(when <= ended + Duration::from_secs(1), "hung up late");
    // The server is still up.
    let tiers = server.get_json("/v1/tiers").await;
    assert!(
        tiers["tiers"].as_array().is_some_and(|t| !t.is_empty()),
        "{tiers}"
    );
}
