//! Publishing to a server's registry over REST and with `qlp plugin
//! publish`: publisher tokens, the same verification as an import at
//! start-up, nothing refused stored, yanking, and a restarted server
//! loading what was published.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{Server, eventually, fixtures, plugins, qlp, qlp_ok, target_dir, trust};

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A publishers file with a publisher for `namespace`; returns its token.
fn add_publisher(file: &Path, name: &str, namespace: &str) -> String {
    let token = qlp_ok(&[
        "publisher",
        "add",
        name,
        "--namespace",
        namespace,
        "--file",
        path(file),
    ]);
    token.trim().to_owned()
}

/// The publish body of `component` with its sidecars as given.
fn body(component: &[u8], manifest: &[u8], signatures: &[u8]) -> Value {
    json!({
        "component": base64::engine::general_purpose::STANDARD.encode(component),
        "manifest": serde_json::from_slice::<Value>(manifest).unwrap(),
        "signatures": serde_json::from_slice::<Value>(signatures).unwrap(),
    })
}

/// The publish body of a component file and the sidecars beside it.
fn body_of(component: &Path) -> Value {
    let read = |ext: &str| std::fs::read(component.with_extension(ext)).unwrap();
    body(
        &std::fs::read(component).unwrap(),
        &read("manifest.json"),
        &read("sig.json"),
    )
}

async fn publish(server: &Server, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = server
        .http
        .post(server.endpoint("/v1/registry/packages"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(server: &Server, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = server.http.post(server.endpoint(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The names and latest versions the registry lists.
async fn listed(server: &Server) -> Vec<(String, Value)> {
    server.get_json("/v1/registry/packages").await["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["latest"].clone()))
        .collect()
}

fn version_of(component: &Path) -> String {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(component.with_extension("manifest.json")).unwrap())
            .unwrap();
    manifest["version"].as_str().unwrap().to_owned()
}

fn dev_key() -> qlp_registry::SecretKey {
    let text = std::fs::read_to_string(target_dir().join("dev-signing.key")).unwrap();
    qlp_registry::SecretKey::parse(&text).unwrap()
}

/// `component` copied into `dir` under `name`, with its sidecars.
fn copy_package(component: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(format!("{name}.wasm"));
    std::fs::copy(component, &to).unwrap();
    for ext in ["manifest.json", "sig.json"] {
        std::fs::copy(component.with_extension(ext), to.with_extension(ext)).unwrap();
    }
    to
}

/// A tier running the FastAPI agent and the zip exporter, nothing else.
const STANDARD: &str = "[tiers.standard]\nagents = [\"qlp/template-fastapi\"]\nexporter = \"qlp/zip\"\ngate = { min_score = 0 }\n";

/// Under `dir`: a plugin directory with the two plugins [`STANDARD`]
/// needs, and a tiers file holding it.
fn fastapi_and_zip(dir: &Path) -> (PathBuf, PathBuf) {
    let base = dir.join("base");
    std::fs::create_dir_all(&base).unwrap();
    for name in ["qlp_plugin_template_fastapi", "qlp_plugin_zip"] {
        copy_package(&plugins().join(format!("{name}.wasm")), &base, name);
    }
    let tiers = dir.join("tiers.toml");
    std::fs::write(&tiers, STANDARD).unwrap();
    (base, tiers)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_package_is_published_listed_fetched_yanked_and_loaded_at_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let publishers = tmp.path().join("publishers.toml");
    let qlp_token = add_publisher(&publishers, "qlp-team", "qlp/*");
    let fixture_token = add_publisher(&publishers, "fixture-ci", "fixture/*");
    // The server starts with the two plugins its tiers need; the others
    // come through the registry API.
    let (base, tiers) = fastapi_and_zip(tmp.path());
    let data = tmp.path().join("data");
    let server = Server::start(
        &data,
        &[
            "--plugin-dir",
            path(&base),
            "--tiers",
            path(&tiers),
            "--publishers",
            path(&publishers),
        ],
    );
    let names: Vec<String> = listed(&server).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["qlp/template-fastapi", "qlp/zip"]);

    // A first-party component, signed by the trusted development key.
    let secrets = plugins().join("qlp_plugin_secrets.wasm");
    let secrets_version = version_of(&secrets);
    let (status, entry) = publish(&server, Some(&qlp_token), &body_of(&secrets)).await;
    assert_eq!(status, 201, "{entry}");
    assert_eq!(entry["name"], "qlp/secrets");
    assert_eq!(entry["yanked"], false);
    // The identical package again: nothing new, same entry.
    let (status, again) = publish(&server, Some(&qlp_token), &body_of(&secrets)).await;
    assert_eq!((status, &again), (200, &entry));
    // Put in force without a restart: the running server loads it.
    until(
        "the published plugin loaded",
        || server.get_json("/v1/plugins"),
        |loaded| {
            loaded["plugins"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "qlp/secrets")
        },
    )
    .await;

    let found = server
        .get_json("/v1/registry/packages?kind=validator&q=secrets")
        .await;
    assert_eq!(found["packages"][0]["name"], "qlp/secrets", "{found}");
    assert_eq!(found["packages"][0]["latest"], secrets_version.as_str());
    let none = server.get_json("/v1/registry/packages?kind=delivery").await;
    assert_eq!(none["packages"], json!([]), "{none}");
    let bad_kind = server.get("/v1/registry/packages?kind=robot").await;
    assert_eq!(bad_kind.status(), 422);

    let versions = server.get_json("/v1/registry/packages/qlp/secrets").await;
    assert_eq!(versions["versions"][0]["version"], secrets_version.as_str());
    assert_eq!(versions["versions"][0]["yanked"], false);
    let package = server
        .get_json(&format!(
            "/v1/registry/packages/qlp/secrets/{secrets_version}"
        ))
        .await;
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(secrets.with_extension("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(package["manifest"], manifest);
    assert_eq!(package["signatures"].as_array().unwrap().len(), 1);
    let component = server
        .get(&format!(
            "/v1/registry/packages/qlp/secrets/{secrets_version}/component"
        ))
        .await;
    assert_eq!(component.status(), 200);
    assert_eq!(component.headers()["content-type"], "application/wasm");
    assert_eq!(
        component.bytes().await.unwrap().to_vec(),
        std::fs::read(&secrets).unwrap()
    );
    let missing = server.get("/v1/registry/packages/qlp/nothing").await;
    assert_eq!(missing.status(), 404);

    // Credentials: none, a wrong one, and one for another namespace.
    let zip = plugins().join("qlp_plugin_zip.wasm");
    let (status, err) = publish(&server, None, &body_of(&zip)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, err) = publish(&server, Some("qlpp_not-a-token"), &body_of(&zip)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, err) = publish(&server, Some(&fixture_token), &body_of(&zip)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("NAMESPACE_NOT_ALLOWED_FOR_PUBLISHER")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("fixture-ci"),
        "{err}"
    );

    // Refusals by the trust policy keep its codes.
    let noop = fixtures().join("qlp_fixture_noop.wasm");
    let noop_bytes = std::fs::read(&noop).unwrap();
    let noop_manifest = std::fs::read(noop.with_extension("manifest.json")).unwrap();
    let (status, err) = publish(
        &server,
        Some(&fixture_token),
        &body(&noop_bytes, &noop_manifest, b"[]"),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("UNSIGNED")),
        "{err}"
    );

    let stranger = tmp.path().join("stranger.key");
    qlp_ok(&["key", "generate", path(&stranger)]);
    let strange = copy_package(&noop, tmp.path(), "strange");
    std::fs::remove_file(strange.with_extension("sig.json")).unwrap();
    qlp_ok(&["plugin", "sign", path(&strange), "--key", path(&stranger)]);
    let (status, err) = publish(&server, Some(&fixture_token), &body_of(&strange)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("UNKNOWN_KEY")),
        "{err}"
    );

    let spin = fixtures().join("qlp_fixture_spin.wasm");
    let edited = String::from_utf8(std::fs::read(spin.with_extension("manifest.json")).unwrap())
        .unwrap()
        .replace("Never returns", "Returns at once");
    let (status, err) = publish(
        &server,
        Some(&fixture_token),
        &body(
            &std::fs::read(&spin).unwrap(),
            edited.as_bytes(),
            &std::fs::read(spin.with_extension("sig.json")).unwrap(),
        ),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("BAD_SIGNATURE")),
        "{err}"
    );

    // A manifest for another contract (the component is 0.2.0), properly
    // signed: refused naming both.
    let mut other_wit = qlp_registry::Manifest::from_json(&noop_manifest).unwrap();
    assert_eq!(other_wit.wit, semver::Version::new(0, 2, 0));
    other_wit.wit = semver::Version::new(0, 1, 0);
    let key = dev_key();
    let (status, err) = publish(
        &server,
        Some(&fixture_token),
        &body(
            &noop_bytes,
            other_wit.to_json_pretty().as_bytes(),
            qlp_registry::Signature::list_to_json(&[key.sign(&other_wit)]).as_bytes(),
        ),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("WIT_INCOMPATIBLE")),
        "{err}"
    );
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("0.2.0") && message.contains("0.1.0"),
        "{message}"
    );
    // A contract the host does not serve at all: refused before the
    // component is loaded.
    other_wit.wit = semver::Version::new(0, 3, 0);
    let (status, err) = publish(
        &server,
        Some(&fixture_token),
        &body(
            &noop_bytes,
            other_wit.to_json_pretty().as_bytes(),
            qlp_registry::Signature::list_to_json(&[key.sign(&other_wit)]).as_bytes(),
        ),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("WIT_INCOMPATIBLE")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("qlp:plugin@0.3.0"),
        "{err}"
    );

    // Other bytes under a published version: the same component with a
    // custom section appended, signed as what it is.
    let (status, noop_entry) = publish(&server, Some(&fixture_token), &body_of(&noop)).await;
    assert_eq!(status, 201, "{noop_entry}");
    let other = tmp.path().join("other.wasm");
    let mut bytes = noop_bytes.clone();
    bytes.extend_from_slice(&[0, 6, 5, b'e', b'x', b't', b'r', b'a']);
    std::fs::write(&other, &bytes).unwrap();
    qlp_ok(&[
        "plugin",
        "sign",
        path(&other),
        "--key",
        path(&target_dir().join("dev-signing.key")),
    ]);
    let (status, err) = publish(&server, Some(&fixture_token), &body_of(&other)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("VERSION_CONFLICT")),
        "{err}"
    );

    // Nothing refused was stored.
    let names: Vec<String> = listed(&server).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "fixture/noop",
            "qlp/secrets",
            "qlp/template-fastapi",
            "qlp/zip"
        ]
    );

    // Yanking: hidden from `latest`, still fetchable by exact version.
    let yank = "/v1/registry/packages/fixture/noop/0.1.0/yank";
    assert_eq!(post(&server, None, yank).await.0, 401);
    assert_eq!(post(&server, Some(&qlp_token), yank).await.0, 403);
    let (status, answer) = post(&server, Some(&fixture_token), yank).await;
    assert_eq!((status, &answer["yanked"]), (200, &json!(true)), "{answer}");
    let latest: Vec<(String, Value)> = listed(&server).await;
    assert_eq!(latest[0], ("fixture/noop".to_owned(), Value::Null));
    let versions = server.get_json("/v1/registry/packages/fixture/noop").await;
    assert_eq!(versions["versions"][0]["yanked"], true);
    assert_eq!(versions["latest"], Value::Null);
    server
        .get_json("/v1/registry/packages/fixture/noop/0.1.0")
        .await;
    assert_eq!(
        server
            .get_bytes("/v1/registry/packages/fixture/noop/0.1.0/component")
            .await,
        noop_bytes
    );

    // The CLI: publish, list, versions, fetch, verify, yank.
    let unsigned = tmp.path().join("unsigned.wasm");
    std::fs::copy(&noop, &unsigned).unwrap();
    let out = qlp(&[
        "plugin",
        "publish",
        path(&unsigned),
        "--server",
        &server.url,
        "--token",
        &fixture_token,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("UNSIGNED"));
    let python = plugins().join("qlp_plugin_python.wasm");
    let python_version = version_of(&python);
    let printed = qlp_ok(&[
        "plugin",
        "publish",
        path(&python),
        "--server",
        &server.url,
        "--token",
        &qlp_token,
    ]);
    assert!(
        printed.starts_with(&format!("qlp/python@{python_version} ")),
        "{printed}"
    );
    let listing = qlp_ok(&[
        "plugin",
        "list",
        "--server",
        &server.url,
        "--kind",
        "analyzer",
    ]);
    assert!(
        listing.contains("qlp/python") && !listing.contains("qlp/secrets"),
        "{listing}"
    );
    let listing = qlp_ok(&["plugin", "versions", "qlp/python", "--server", &server.url]);
    assert!(listing.contains(&python_version), "{listing}");
    let fetched_dir = tmp.path().join("fetched");
    let spec = format!("qlp/python@{python_version}");
    let fetched = qlp_ok(&[
        "plugin",
        "fetch",
        &spec,
        "--out-dir",
        path(&fetched_dir),
        "--trust",
        path(&trust()),
        "--server",
        &server.url,
    ]);
    let fetched = PathBuf::from(fetched.trim());
    assert_eq!(
        fetched,
        fetched_dir.join(format!("qlp_python-{python_version}.wasm"))
    );
    assert_eq!(
        std::fs::read(&fetched).unwrap(),
        std::fs::read(&python).unwrap()
    );
    let verified = qlp_ok(&[
        "plugin",
        "verify",
        path(&fetched),
        "--trust",
        path(&trust()),
    ]);
    assert!(
        verified.contains(&format!("qlp/python@{python_version} analyzer")),
        "{verified}"
    );
    let refused = qlp(&[
        "plugin",
        "verify",
        path(&strange),
        "--trust",
        path(&trust()),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("UNKNOWN_KEY"));
    // A policy that does not trust the key: fetch refuses and writes nothing.
    let empty_policy = tmp.path().join("empty.toml");
    std::fs::write(&empty_policy, "").unwrap();
    let nowhere = tmp.path().join("nowhere");
    let out = qlp(&[
        "plugin",
        "fetch",
        &spec,
        "--out-dir",
        path(&nowhere),
        "--trust",
        path(&empty_policy),
        "--server",
        &server.url,
    ]);
    assert!(!out.status.success());
    assert!(!nowhere.exists() || std::fs::read_dir(&nowhere).unwrap().next().is_none());
    qlp_ok(&[
        "plugin",
        "yank",
        &spec,
        "--server",
        &server.url,
        "--token",
        &qlp_token,
    ]);
    let versions = server.get_json("/v1/registry/packages/qlp/python").await;
    assert_eq!(versions["versions"][0]["yanked"], true);
    qlp_ok(&[
        "plugin",
        "yank",
        &spec,
        "--undo",
        "--server",
        &server.url,
        "--token",
        &qlp_token,
    ]);
    let versions = server.get_json("/v1/registry/packages/qlp/python").await;
    assert_eq!(versions["versions"][0]["yanked"], false);
    server.stop();

    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("package published")
            && l.contains("qlp-team")
            && l.contains("qlp/secrets")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("yank") && l.contains("fixture-ci") && l.contains("fixture/noop")),
        "{log}"
    );

    // The next start loads what was published (and not the yanked noop).
    let server = Server::start(&data, &["--tiers", path(&tiers)]);
    let loaded = server.get_json("/v1/plugins").await;
    let names: Vec<&str> = loaded["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "qlp/python",
            "qlp/secrets",
            "qlp/template-fastapi",
            "qlp/zip"
        ],
        "{loaded}"
    );
    server.stop();
}

#[test]
fn a_scaffolded_validator_builds_signs_and_verifies() {
    let scratch = target_dir().join("scaffold-test");
    std::fs::create_dir_all(&scratch).unwrap();
    let tmp = tempfile::tempdir_in(&scratch).unwrap();
    let dir = tmp.path().join("scaffolded");
    qlp_ok(&[
        "plugin",
        "new",
        "validator",
        "fixture/scaffolded",
        "--dir",
        path(&dir),
    ]);
    let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("qlp-sdk = { path ="), "{cargo}");
    let dist = tmp.path().join("dist");
    let built = qlp_ok(&[
        "plugin",
        "build",
        path(&dir),
        "--out-dir",
        path(&dist),
        "--sign-with",
        path(&target_dir().join("dev-signing.key")),
    ]);
    let component = PathBuf::from(built.trim());
    assert_eq!(component, dist.join("fixture_scaffolded.wasm"));
    let verified = qlp_ok(&[
        "plugin",
        "verify",
        path(&component),
        "--trust",
        path(&trust()),
    ]);
    assert!(
        verified.starts_with("fixture/scaffolded@0.1.0 validator wit 0.2.0: verified"),
        "{verified}"
    );
}

/// Polls `read` until `done` holds of its answer, for at most 60 s.
async fn until<F, Fut>(what: &str, mut read: F, done: impl Fn(&Value) -> bool) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let done = &done;
    eventually(
        what,
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(200),
        || {
            let value = read();
            async move {
                let value = value.await;
                done(&value).then_some(value)
            }
        },
    )
    .await
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_a_yank_and_a_tiers_edit_reach_every_replica_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let publishers = tmp.path().join("publishers.toml");
    let token = add_publisher(&publishers, "qlp-team", "qlp/*");
    let (base, tiers) = fastapi_and_zip(tmp.path());
    // Two replicas: own data directories, one registry directory and one
    // tiers file between them (a shared volume, a ConfigMap).
    let registry = tmp.path().join("registry");
    let args = [
        "--plugin-dir",
        path(&base),
        "--tiers",
        path(&tiers),
        "--publishers",
        path(&publishers),
        "--registry-dir",
        path(&registry),
        "--watch-every",
        "1s",
    ];
    let a = Server::start(&tmp.path().join("a"), &args);
    let b = Server::start(&tmp.path().join("b"), &args);
    // Published through one, loaded by the other.
    let secrets = plugins().join("qlp_plugin_secrets.wasm");
    let version = version_of(&secrets);
    // Settled after the start (whose own import a watch may look at once).
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let before = watch_reloads(&a).await;
    let (status, entry) = publish(&a, Some(&token), &body_of(&secrets)).await;
    assert_eq!(status, 201, "{entry}");
    until(
        "replica b did not load what a published",
        || b.get_json("/v1/plugins"),
        |v| names(v, "plugins").contains(&"qlp/secrets".to_owned()),
    )
    .await;
    let listed = b.get_json("/v1/registry/packages/qlp/secrets").await;
    assert_eq!(listed["latest"], version.as_str(), "{listed}");
    // The replica that published loaded it at once; its own watch, which
    // sees the index it wrote, does not load it a second time.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(watch_reloads(&a).await, before);

    // Yanked through the other, seen by the first.
    let (status, yanked) = post(
        &b,
        Some(&token),
        &format!("/v1/registry/packages/qlp/secrets/{version}/yank"),
    )
    .await;
    assert_eq!((status, &yanked["yanked"]), (200, &json!(true)), "{yanked}");
    let seen = a.get_json("/v1/registry/packages/qlp/secrets").await;
    assert_eq!(seen["versions"][0]["yanked"], true, "{seen}");
    assert_eq!(seen["latest"], Value::Null, "{seen}");

    // The tiers file edited in place: both replicas run the new tier,
    // without SIGHUP.
    std::fs::write(
        &tiers,
        format!("{STANDARD}\n[tiers.strict]\nagents = [\"qlp/template-fastapi\"]\nexporter = \"qlp/zip\"\ngate = {{ min_score = 90 }}\n"),
    )
    .unwrap();
    for replica in [&a, &b] {
        until(
            "a replica did not reload the edited tiers file",
            || replica.get_json("/v1/tiers"),
            |v| names(v, "tiers").contains(&"strict".to_owned()),
        )
        .await;
    }
    // Each reload is in the audit trail, with why it happened: a's watch
    // saw b's yank and the edit (in one look or two).
    assert!(watch_reloads(&a).await > before);
    a.stop();
    b.stop();
}

/// The reloads `server`'s watch made, from its audit trail.
async fn watch_reloads(server: &Server) -> usize {
    let audit = server.get_json("/v1/audit?limit=500").await;
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "tiers.reload" && e["outcome"] == "ok")
        .filter(|e| e["target"] == "the registry or the tiers file changed")
        .count()
}
