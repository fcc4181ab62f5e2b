//! Air-gapped install bundles: `qlp bundle create` on the built plugins,
//! `qlp bundle import` into fresh data directories, `qlp serve` on what it
//! installed — and every way a bundle can be broken refused with the entry
//! named and the data directory untouched.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use qlp_runtime::{Runtime, RuntimeOptions};
use qlp_server::bundle::{CreateOptions, ImportOptions};

use crate::support::{self, Server, qlp};

fn s(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The compile cache the e2e servers share, so a bundle's components are
/// compiled once per run.
fn test_cache() -> PathBuf {
    support::target_dir().join("qlp-test-cache")
}

fn key() -> PathBuf {
    support::target_dir().join("dev-signing.key")
}

/// One plain-tar bundle of the first-party plugins with the shipped tiers
/// and precompiled artifacts, made once per run.
fn bundle() -> &'static Path {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let out = dir.join("qlp-bundle.tar");
        create(&out, &support::trust(), &key(), true);
        out
    })
}

/// `qlp bundle create` of the first-party plugins and the shipped tiers.
fn create(out: &Path, trust: &Path, key: &Path, precompile: bool) {
    let tiers = support::workspace().join("host/server/tiers.toml");
    create_from(out, &support::plugins(), &tiers, trust, key, precompile);
}

fn create_from(
    out: &Path,
    plugins: &Path,
    tiers: &Path,
    trust: &Path,
    key: &Path,
    precompile: bool,
) {
    // One at a time: concurrent first compiles of the same components on
    // a small machine can exceed the runtime's compile time limit.
    static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let mut args = vec![
        "bundle",
        "create",
        s(out),
        "--plugin-dir",
        s(plugins),
        "--tiers",
        s(tiers),
        "--trust",
        s(trust),
        "--sign-with",
        s(key),
    ];
    let cache = test_cache();
    args.extend(["--cache-dir", s(&cache)]);
    if precompile {
        args.push("--precompile");
    }
    let output = qlp(&args);
    assert!(
        output.status.success(),
        "bundle create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file under `dir` with its blake3.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.insert(path.clone(), "dir".to_owned());
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("readable");
                files.insert(path, blake3::hash(&bytes).to_hex().to_string());
            }
        }
    }
    files
}

/// Imports `bundle` into a data directory holding one file, and checks
/// the import is refused with `code` naming `entry`, leaving the data
/// directory exactly as it was.
fn assert_refused(bundle: &Path, trust: &Path, code: &str, entry: &str) {
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(data.path().join("node-id"), "node-before").expect("write");
    let before = snapshot(data.path());
    let output = qlp(&[
        "bundle",
        "import",
        s(bundle),
        "--data-dir",
        s(data.path()),
        "--trust",
        s(trust),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "import accepted a bad bundle");
    assert!(
        stderr.contains(code) && stderr.contains(&format!("`{entry}`")),
        "expected {code} naming `{entry}`, got: {stderr}"
    );
    assert_eq!(
        snapshot(data.path()),
        before,
        "a refused import changed the data directory"
    );
}

/// The offset and size of `path`'s data inside a plain tar.
fn locate(tar_bytes: &[u8], path: &str) -> (usize, usize) {
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive.entries().expect("a tar") {
        let entry = entry.expect("an entry");
        if entry.path_bytes().as_ref() == path.as_bytes() {
            return (entry.raw_file_position() as usize, entry.size() as usize);
        }
    }
    panic!("{path} is not in the bundle");
}

const COMPONENT: &str = "plugins/qlp_plugin_zip.wasm";

#[test]
fn a_component_with_one_byte_flipped_is_refused() {
    let mut bytes = std::fs::read(bundle()).expect("bundle");
    let (offset, size) = locate(&bytes, COMPONENT);
    bytes[offset + size / 2] ^= 0x01;
    let dir = tempfile::tempdir().expect("tempdir");
    let tampered = dir.path().join("tampered.tar");
    std::fs::write(&tampered, bytes).expect("write");
    assert_refused(&tampered, &support::trust(), "BUNDLE_DIGEST", COMPONENT);
}

#[test]
fn a_truncated_bundle_is_refused() {
    let bytes = std::fs::read(bundle()).expect("bundle");
    let (offset, size) = locate(&bytes, COMPONENT);
    let dir = tempfile::tempdir().expect("tempdir");
    let truncated = dir.path().join("truncated.tar");
    std::fs::write(&truncated, &bytes[..offset + size / 2]).expect("write");
    assert_refused(&truncated, &support::trust(), "BUNDLE_TRUNCATED", COMPONENT);

    // Cut between two entries, the rest of the listed entries is missing.
    let (next_entry, _) = locate(&bytes, "plugins/qlp_plugin_zip.manifest.json");
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..next_entry - 512]).expect("write");
    assert_refused(
        &cut,
        &support::trust(),
        "BUNDLE_TRUNCATED",
        "plugins/qlp_plugin_zip.manifest.json",
    );
}

#[test]
fn an_entry_the_index_does_not_list_is_refused() {
    let bytes = std::fs::read(bundle()).expect("bundle");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("extra.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&out).expect("create"));
    let mut archive = tar::Archive::new(bytes.as_slice());
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let header = entry.header().clone();
        builder.append(&header, &mut entry).expect("append");
    }
    let extra = b"\0asm\x0d\0\x01\0";
    let mut header = tar::Header::new_ustar();
    header.set_size(extra.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "plugins/extra.wasm", &extra[..])
        .expect("append");
    builder.finish().expect("finish");
    drop(builder);
    assert_refused(
        &out,
        &support::trust(),
        "BUNDLE_UNLISTED",
        "plugins/extra.wasm",
    );
}

#[test]
fn a_bundle_signed_by_an_untrusted_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("other.key");
    assert!(qlp(&["key", "generate", s(&key)]).status.success());
    // The maker's policy trusts the new key too, so create accepts it; the
    // importer's (the development policy) does not know it.
    let policy = dir.path().join("maker-trust.toml");
    std::fs::copy(support::trust(), &policy).expect("copy");
    let public = dir.path().join("other.key.pub");
    let trusted = qlp(&[
        "key",
        "trust",
        s(&public),
        "--namespace",
        "qlp/*",
        "--policy",
        s(&policy),
    ]);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let out = dir.path().join("other.tar.gz");
    let (plugins, tiers) = small_plugin_dir(dir.path());
    create_from(&out, &plugins, &tiers, &policy, &key, false);
    assert_refused(
        &out,
        &support::trust(),
        "BUNDLE_SIGNATURE",
        "index.sig.json",
    );
}

#[test]
fn create_refuses_an_unsigned_plugin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).expect("mkdir");
    std::fs::copy(
        support::plugins().join("qlp_plugin_zip.wasm"),
        plugins.join("qlp_plugin_zip.wasm"),
    )
    .expect("copy");
    let out = dir.path().join("b.tar");
    let output = qlp(&[
        "bundle",
        "create",
        s(&out),
        "--plugin-dir",
        s(&plugins),
        "--tiers",
        s(&support::workspace().join("host/server/tiers.toml")),
        "--trust",
        s(&support::trust()),
        "--sign-with",
        s(&key()),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("BUNDLE_UNSIGNED"), "{stderr}");
    assert!(!out.exists(), "a refused bundle was written");
}

#[tokio::test]
async fn a_bundle_round_trips_into_a_server_without_plugin_dirs() {
    let data = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let output = qlp(&[
        "bundle",
        "import",
        s(bundle()),
        "--data-dir",
        s(data.path()),
        "--trust",
        s(&support::trust()),
        "--cache-dir",
        s(cache.path()),
    ]);
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What was imported: the digests of the components in the plugin dir.
    let mut expected = BTreeMap::new();
    for entry in std::fs::read_dir(support::plugins())
        .expect("plugins")
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let manifest: serde_json::Value = serde_json::from_slice(
                &std::fs::read(path.with_extension("manifest.json")).expect("manifest"),
            )
            .expect("json");
            let digest = blake3::hash(&std::fs::read(&path).expect("wasm"))
                .to_hex()
                .to_string();
            expected.insert(manifest["name"].as_str().expect("name").to_owned(), digest);
        }
    }
    let imported: BTreeMap<String, String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_owned(), f[2].to_owned())
        })
        .collect();
    assert_eq!(imported, expected);
    // Every precompiled artifact matched this build's engine and is in the
    // cache under this engine's name.
    let artifacts = std::fs::read_dir(cache.path())
        .expect("cache")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .count();
    assert_eq!(artifacts, expected.len());
    assert!(data.path().join("tiers.toml").is_file());
    assert!(data.path().join("tiers.lock").is_file());

    // No --plugin-dir and no --tiers: the registry and DATA_DIR/tiers.toml,
    // at exactly the versions of the bundle's lock.
    let server = Server::start(data.path(), &["--locked"]);
    let plugins = server.get_json("/v1/plugins").await;
    let loaded: BTreeMap<String, String> = plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_owned(),
                p["digest"].as_str().expect("digest").to_owned(),
            )
        })
        .collect();
    assert_eq!(loaded, expected);
    server.stop();

    // Importing the same bundle again changes nothing and succeeds.
    let again = qlp(&[
        "bundle",
        "import",
        s(bundle()),
        "--data-dir",
        s(data.path()),
        "--trust",
        s(&support::trust()),
        "--cache-dir",
        s(cache.path()),
    ]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// Two plugins and a tier that needs only them, so compiling for a second
/// engine configuration stays quick.
fn small_plugin_dir(dir: &Path) -> (PathBuf, PathBuf) {
    let plugins = dir.join("plugins");
    std::fs::create_dir(&plugins).expect("mkdir");
    for stem in ["qlp_plugin_zip", "qlp_plugin_template_fastapi"] {
        for ext in ["wasm", "manifest.json", "sig.json"] {
            let file = format!("{stem}.{ext}");
            std::fs::copy(support::plugins().join(&file), plugins.join(&file)).expect("copy");
        }
    }
    let tiers = dir.join("tiers.toml");
    std::fs::write(
        &tiers,
        r#"
[tiers.small]
agents = ["qlp/template-fastapi"]
exporter = "qlp/zip"
gate = { min_score = 0, max_critical = 0 }
"#,
    )
    .expect("write");
    (plugins, tiers)
}

fn cwasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "cwasm"));
    files.sort();
    files
}

/// A bundle precompiled by an engine that meters fuel (another
/// compatibility hash) imported for tiers that do not: the artifacts are
/// skipped, never put where the server would load them, and the
/// components compile afresh. Were the engine check removed, import would
/// install them under this engine's name and the cache would not be empty.
#[test]
fn precompiled_code_of_another_engine_is_skipped_and_recompiled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (plugins, tiers) = small_plugin_dir(dir.path());
    let bundle = |name: &str, engine: Option<RuntimeOptions>| {
        let out = dir.path().join(name);
        qlp_server::bundle::create(&CreateOptions {
            out: out.clone(),
            plugin_dirs: vec![plugins.clone()],
            tiers: tiers.clone(),
            trust: support::trust(),
            key: qlp_registry::SecretKey::parse(&std::fs::read_to_string(key()).expect("key"))
                .expect("key"),
            precompile: true,
            engine,
            cache_dir: Some(test_cache()),
        })
        .expect("create");
        out
    };
    let import = |bundle: &Path| {
        let data = tempfile::tempdir().expect("tempdir").keep();
        let imported = qlp_server::bundle::import(
            bundle,
            &ImportOptions {
                data_dir: data.clone(),
                trust: support::trust(),
                cache_dir: None,
            },
        )
        .expect("import");
        (data, imported)
    };

    let fuel = bundle(
        "fuel.tar",
        Some(RuntimeOptions {
            fuel: true,
            ..RuntimeOptions::default()
        }),
    );
    let (data, imported) = import(&fuel);
    assert_eq!(imported.plugins.len(), 2);
    assert_eq!(
        (imported.artifacts_installed, imported.artifacts_skipped),
        (0, 2)
    );
    let cache = data.join("cache");
    assert_eq!(cwasm_files(&cache), Vec::<PathBuf>::new());
    // The server's engine compiles the component itself, under its own hash.
    let runtime = Runtime::new(cache.clone()).expect("runtime");
    let component = std::fs::read(plugins.join("qlp_plugin_zip.wasm")).expect("wasm");
    let plugin = runtime.load(&component).expect("loads");
    assert_eq!(
        cwasm_files(&cache),
        vec![cache.join(qlp_runtime::artifact_file_name(
            &plugin.digest,
            runtime.engine_hash()
        ))]
    );

    // Made for the engine the tiers call for, the same artifacts install.
    let same = bundle("same.tar", None);
    let (data, imported) = import(&same);
    assert_eq!(
        (imported.artifacts_installed, imported.artifacts_skipped),
        (2, 0)
    );
    assert_eq!(cwasm_files(&data.join("cache")).len(), 2);
    let _ = std::fs::remove_dir_all(&data);
}

/// A bundle whose signer the operator trusts for its namespaces but not as
/// the release key (a vendor's key) installs its packages only: the tiers
/// and lock in force stay, and its native code is skipped.
#[test]
fn a_bundle_not_signed_by_the_release_key_brings_packages_but_no_tiers_or_native_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (plugins, tiers) = small_plugin_dir(dir.path());
    let out = dir.path().join("vendor.tar");
    qlp_server::bundle::create(&CreateOptions {
        out: out.clone(),
        plugin_dirs: vec![plugins.clone()],
        tiers,
        trust: support::trust(),
        key: qlp_registry::SecretKey::parse(&std::fs::read_to_string(key()).expect("key"))
            .expect("key"),
        precompile: true,
        engine: None,
        cache_dir: Some(test_cache()),
    })
    .expect("create");
    // The same key, trusted for the same namespaces, but not as release.
    let policy = std::fs::read_to_string(support::trust()).expect("policy");
    assert!(policy.contains("release = true"), "{policy}");
    let vendor_trust = dir.path().join("vendor-trust.toml");
    std::fs::write(&vendor_trust, policy.replace("release = true\n", "")).expect("write");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let (tiers_path, lock_path) = qlp_server::bundle::installed_tiers(&data);
    std::fs::write(&tiers_path, "# the operator's own tiers\n").expect("write");
    let imported = qlp_server::bundle::import(
        &out,
        &ImportOptions {
            data_dir: data.clone(),
            trust: vendor_trust,
            cache_dir: None,
        },
    )
    .expect("import");
    assert_eq!(imported.plugins.len(), 2);
    assert!(!imported.tiers_installed);
    assert_eq!(
        (imported.artifacts_installed, imported.artifacts_skipped),
        (0, 2)
    );
    assert_eq!(
        std::fs::read_to_string(&tiers_path).expect("tiers"),
        "# the operator's own tiers\n"
    );
    assert!(!lock_path.exists());
    assert_eq!(cwasm_files(&data.join("cache")), Vec::<PathBuf>::new());
}

/// The counters of the network namespace `pid` lives in.
fn snmp(pid: u32) -> BTreeMap<String, i64> {
    let mut counters = BTreeMap::new();
    for file in ["snmp", "snmp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")).expect("snmp");
        if file == "snmp" {
            // Pairs of lines: `Proto: Name Name…` then `Proto: value value…`.
            let lines: Vec<&str> = text.lines().collect();
            for pair in lines.chunks(2) {
                let names = pair[0].split_whitespace();
                let values = pair[1].split_whitespace();
                let proto = pair[0].split(':').next().unwrap_or_default().to_owned();
                for (n, v) in names.zip(values).skip(1) {
                    counters.insert(format!("{proto}{n}"), v.parse().unwrap_or(0));
                }
            }
        } else {
            for line in text.lines() {
                let mut f = line.split_whitespace();
                if let (Some(n), Some(v)) = (f.next(), f.next()) {
                    counters.insert(n.to_owned(), v.parse().unwrap_or(0));
                }
            }
        }
    }
    counters
}

/// The whole air-gapped path: a bundle made here, imported and served in
/// a network namespace that has only loopback, and an intent run there.
///
/// How "nothing reached for the network" is checked: the kernel keeps
/// per-namespace counters (`/proc/PID/net/snmp`, `snmp6`). In a
/// namespace with only loopback, any connect or datagram to another
/// address finds no route and counts `Ip: OutNoRoutes` (`Ip6OutNoRoutes`);
/// a DNS lookup is a UDP send (`Udp: OutDatagrams`), even to a resolver on
/// loopback; and a TCP connect to anything on loopback other than the
/// server counts an `ActiveOpens` without a matching `PassiveOpens`. The
/// only traffic allowed is the client's TCP connections to the server, so
/// the test requires no route failures, no UDP, and every active open
/// accepted by the server. A probe at the end connects to a routable
/// address from inside the namespace and checks that `OutNoRoutes` does
/// count it, so the detector itself is known to work.
#[test]
fn an_air_gapped_server_runs_an_intent_without_touching_the_network() {
    assert!(
        Command::new("id").arg("-u").output().expect("id").stdout == b"0\n",
        "this test creates network namespaces: run it as root"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("qlp-bundle.tar.gz");
    create(&out, &support::trust(), &key(), true);
    let data = dir.path().join("data");
    let qlp_bin = env!("CARGO_BIN_EXE_qlp");

    let mut server = Command::new("unshare")
        .args(["-n", "sh", "-c"])
        .arg(
            r#"set -e
ip link set lo up
"$0" bundle import "$1" --data-dir "$2" --trust "$3" >&2
exec "$0" --log-format json serve --listen 127.0.0.1:0 --data-dir "$2" --trust "$3""#,
        )
        .arg(qlp_bin)
        .arg(&out)
        .arg(&data)
        .arg(support::trust())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare");
    let pid = server.id();
    let stderr = server.stderr.take().expect("stderr");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = log.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let mut url = None;
    for line in BufReader::new(server.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        if let Some(u) = line.strip_prefix("qlp listening on ") {
            url = Some(u.trim().to_owned());
            break;
        }
    }
    let Some(url) = url else {
        let _ = server.wait();
        panic!("the server did not start: {}", log.lock().expect("log"));
    };
    let before = snmp(pid);

    let nsenter = |args: &[&str]| {
        Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-n", qlp_bin])
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .env_remove("QLP_API_KEY")
            // The first start's admin key, which `qlp` reads from there.
            .env("QLP_DATA_DIR", &data)
            .args(args)
            .output()
            .expect("nsenter")
    };
    let submitted = nsenter(&[
        "submit",
        "--wait",
        "--timeout",
        "300",
        "--tier",
        "standard",
        "--server",
        &url,
        "Create a FastAPI service for invoices with JWT auth and PostgreSQL",
    ]);
    let after = snmp(pid);
    let id = String::from_utf8_lossy(&submitted.stdout).trim().to_owned();
    let status = nsenter(&["plugin", "list", "--server", &url]);

    // The intent completed (submit exits 0 only for a completed intent
    // that passed its gate).
    assert!(
        submitted.status.success(),
        "intent {id} did not complete: {}\nserver log:\n{}",
        String::from_utf8_lossy(&submitted.stderr),
        log.lock().expect("log")
    );
    assert!(status.status.success());

    let delta =
        |name: &str| after.get(name).copied().unwrap_or(0) - before.get(name).copied().unwrap_or(0);
    assert_eq!(
        after.get("IpOutNoRoutes").copied().unwrap_or(0),
        0,
        "something tried to leave loopback: {after:?}"
    );
    assert_eq!(
        after.get("Ip6OutNoRoutes").copied().unwrap_or(0),
        0,
        "something tried to leave loopback over IPv6"
    );
    assert_eq!(
        after.get("UdpOutDatagrams").copied().unwrap_or(0),
        0,
        "a datagram was sent (DNS?)"
    );
    assert_eq!(
        after.get("Udp6OutDatagrams").copied().unwrap_or(0),
        0,
        "a datagram was sent (DNS?)"
    );
    assert!(delta("TcpActiveOpens") > 0, "the client never connected");
    assert_eq!(
        after.get("TcpActiveOpens"),
        after.get("TcpPassiveOpens"),
        "a TCP connect inside the namespace went to something other than the server"
    );

    // The detector works: a connect to a routable address from inside the
    // namespace is counted.
    let _ = nsenter(&["plugin", "list", "--server", "http://192.0.2.1:8080"]);
    assert!(
        snmp(pid)["IpOutNoRoutes"] > 0,
        "OutNoRoutes did not count a connect off loopback"
    );

    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_carries_a_signed_rule_pack_to_an_air_gapped_server_that_runs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = qlp(args);
        assert!(
            output.status.success(),
            "qlp {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    // The plugins the tier runs, and the enterprise's pack beside them.
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for name in ["template_fastapi", "zip", "secrets", "rules"] {
        let from = support::plugins().join(format!("qlp_plugin_{name}.wasm"));
        let to = plugins.join(format!("qlp_plugin_{name}.wasm"));
        std::fs::copy(&from, &to).unwrap();
        for ext in ["manifest.json", "sig.json"] {
            std::fs::copy(from.with_extension(ext), to.with_extension(ext)).unwrap();
        }
    }
    // The site's release key vouches for the bundle; the plugins keep the
    // development key's signatures, the pack gets the release key's.
    let release = tmp.path().join("release.key");
    run(&["key", "generate", s(&release)]);
    let trust = tmp.path().join("trust.toml");
    std::fs::copy(support::trust(), &trust).unwrap();
    let public = format!("{}.pub", s(&release));
    run(&[
        "key",
        "trust",
        &public,
        "--namespace",
        "qlp/*",
        "--namespace",
        "acme/*",
        "--release",
        "--policy",
        s(&trust),
    ]);
    let pack = plugins.join("acme_rules.yaml");
    std::fs::copy(
        support::workspace().join("tests/data/rules/acme.yaml"),
        &pack,
    )
    .unwrap();
    run(&[
        "rules",
        "sign",
        s(&pack),
        "--name",
        "acme/rules",
        "--version",
        "1.0.0",
        "--key",
        s(&release),
    ]);
    let tiers = tmp.path().join("tiers.toml");
    std::fs::write(
        &tiers,
        "[tiers.packed]\n\
         agents = [\"qlp/template-fastapi\"]\n\
         validators = [\"qlp/secrets\", \"qlp/rules\"]\n\
         rules = [\"acme/rules@^1\"]\n\
         exporter = \"qlp/zip\"\n\
         gate = { min_score = 50, max_critical = 0, max_findings = { high = 0 } }\n",
    )
    .unwrap();
    let bundle = tmp.path().join("site.tar.gz");
    create_from(&bundle, &plugins, &tiers, &trust, &release, false);

    // The pack's entry is in the signed index, and the lock pins it.
    let data = tmp.path().join("data");
    run(&[
        "bundle",
        "import",
        s(&bundle),
        "--data-dir",
        s(&data),
        "--trust",
        s(&trust),
    ]);
    let lock = std::fs::read_to_string(data.join("tiers.lock")).unwrap();
    assert!(lock.contains("acme/rules"), "{lock}");
    let server = Server::start(&data, &["--trust", s(&trust)]);
    let output = crate::support::qlp_command()
        .args([
            "check",
            s(&support::workspace().join("tests/data/checks/acme-service")),
            "--tier",
            "packed",
        ])
        .env("QLP_SERVER", &server.url)
        .env("QLP_API_KEY", &server.admin_key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("acme/go-sql-sprintf store/orders.go:12"),
        "{stdout}"
    );
    // The import is in the server's audit trail, naming what it installed.
    let audit = server.get_json("/v1/audit").await;
    let import = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "bundle.import")
        .unwrap_or_else(|| panic!("no bundle.import entry: {audit}"));
    assert_eq!(import["identity"], "cli:bundle-import");
    assert!(
        import["outcome"]
            .as_str()
            .unwrap()
            .contains("acme/rules@1.0.0"),
        "{import}"
    );
    server.stop();

    // A pack edited after signing is refused when the bundle is made.
    let tampered = tmp.path().join("tampered.tar");
    let mut broken = std::fs::read_to_string(&pack).unwrap();
    broken.push_str("# edited\n");
    std::fs::write(&pack, broken).unwrap();
    let output = qlp(&[
        "bundle",
        "create",
        s(&tampered),
        "--plugin-dir",
        s(&plugins),
        "--tiers",
        s(&tiers),
        "--trust",
        s(&trust),
        "--sign-with",
        s(&release),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("acme_rules.yaml") && stderr.contains("DIGEST"),
        "{stderr}"
    );
}
