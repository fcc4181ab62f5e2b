//! Running QLP as an operator does: the one `qlp` binary, with the
//! first-party plugins built into it, serves intents on a fresh data
//! directory with no plugin directory, trust policy or tiers file.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{INTENT_TIMEOUT, Loopback, client_with_key};

/// `qlp --version`, which names how many plugins the binary carries.
fn builtin_plugins() -> usize {
    let out = crate::support::qlp_command()
        .arg("--version")
        .output()
        .expect("qlp runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split('(')
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("`qlp --version` said `{text}`"))
}

#[tokio::test(flavor = "multi_thread")]
async fn qlp_serve_alone_serves_an_intent_end_to_end_on_a_fresh_data_directory() {
    if builtin_plugins() == 0 {
        let why = "this qlp binary has no built-in plugins: build it with QLP_EMBED_PLUGINS \
                   (deploy/dev.sh test and deploy/dev.sh release do)";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let cwd = tempfile::tempdir().unwrap();
    // Nothing but a free port: the data directory is ./.qlp, the tiers are
    // the shipped ones, the plugins and their trust come from the binary.
    // Only the compiled components are shared with the other tests, which
    // compiled them already (a debug build takes seconds for each).
    let cache = crate::support::target_dir().join("qlp-test-cache");
    let server = Loopback::start_in(
        env!("CARGO_BIN_EXE_qlp"),
        &["serve", "--listen", "127.0.0.1:0"],
        Some(cwd.path()),
        &[("QLP_CACHE_DIR", cache.to_str().unwrap())],
    );
    let data = cwd.path().join(".qlp");
    let key = std::fs::read_to_string(data.join("admin.key")).expect("the first start's admin key");
    let http = client_with_key(key.trim());
    let submitted: serde_json::Value = http
        .post(format!("{}/v1/intents", server.url))
        .json(&json!({ "description": "Create a FastAPI service for parcels with JWT auth" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = submitted["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"));
    let intent = crate::support::eventually(
        "the intent ended",
        INTENT_TIMEOUT,
        Duration::from_millis(200),
        || async {
            let intent: serde_json::Value = http
                .get(format!("{}/v1/intents/{id}", server.url))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = intent["status"].as_str().unwrap_or_default();
            (!["queued", "running"].contains(&status)).then_some(intent)
        },
    )
    .await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    // Delivered where the shipped tiers deliver: DATA_DIR/deliveries.
    let delivered = data.join("deliveries").join(id);
    let names: Vec<String> = std::fs::read_dir(&delivered)
        .unwrap_or_else(|e| panic!("{}: {e}", delivered.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".zip")), "{names:?}");
    // The shipped tiers' plugins came from the binary, trusted by digest.
    let plugins: serde_json::Value = http
        .get(format!("{}/v1/plugins", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for shipped in [
        "qlp/planner",
        "qlp/template-fastapi",
        "qlp/secrets",
        "qlp/zip",
        "qlp/filesystem",
    ] {
        assert!(
            names.contains(&shipped),
            "{shipped} is not served: {names:?}"
        );
    }
}

/// `GET /metrics` read with Prometheus's own parser
/// (tests/servers/prometheus_parse.py): every sample.
pub(crate) async fn scrape(server: &crate::support::Server) -> Vec<serde_json::Value> {
    let response = reqwest::get(server.endpoint("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200, "metrics need no key");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = response.text().await.unwrap();
    let out = crate::support::python(
        &crate::support::test_file("servers/prometheus_parse.py"),
        text.as_bytes(),
    );
    serde_json::from_slice(&out).expect("JSON")
}

/// The value of the sample `name` whose labels include `labels`; `None`
/// when there is none.
pub(crate) fn sample(
    samples: &[serde_json::Value],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(*v))
        })
        .map(|s| s["value"].as_f64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_readiness_tell_monitoring_what_the_server_did() {
    let data = tempfile::tempdir().unwrap();
    let server = crate::support::Server::start_default(data.path());
    let ready = reqwest::get(server.endpoint("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200, "readiness needs no key");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");

    let id = server
        .submit(
            json!({ "description": "Create a FastAPI service for parcels", "tier": "standard" }),
        )
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");

    let samples = scrape(&server).await;
    let get = |name: &str, labels: &[(&str, &str)]| sample(&samples, name, labels);
    assert_eq!(
        get(
            "qlp_intents_total",
            &[("tier", "standard"), ("outcome", "completed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            "qlp_gate_verdicts_total",
            &[("tier", "standard"), ("decision", "pass")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            "qlp_http_requests_total",
            &[
                ("route", "/v1/intents"),
                ("method", "POST"),
                ("status", "202")
            ]
        ),
        Some(1.0)
    );
    // Requests are named by their route, not their path: no intent id.
    assert!(
        get(
            "qlp_http_requests_total",
            &[("route", "/v1/intents/{id}"), ("method", "GET")]
        )
        .is_some()
    );
    assert!(!samples.iter().any(|s| s.to_string().contains(&id)));
    // Each stage and plugin call, as histograms.
    for validator in ["qlp/secrets", "qlp/security", "qlp/quality"] {
        let calls = get(
            "qlp_plugin_call_duration_seconds_count",
            &[
                ("plugin", validator),
                ("kind", "validator"),
                ("outcome", "returned"),
            ],
        );
        assert_eq!(calls, Some(1.0), "{validator}");
        let stage = get(
            "qlp_stage_duration_seconds_count",
            &[
                ("stage", "validate"),
                ("plugin", validator),
                ("outcome", "ok"),
            ],
        );
        assert_eq!(stage, Some(1.0), "{validator}");
        let memory = get(
            "qlp_plugin_call_peak_memory_bytes_count",
            &[("plugin", validator)],
        );
        assert_eq!(memory, Some(1.0), "{validator}");
    }
    let le_inf = get(
        "qlp_plugin_call_duration_seconds_bucket",
        &[("plugin", "qlp/secrets"), ("le", "+Inf")],
    );
    assert_eq!(le_inf, Some(1.0));
    assert_eq!(get("qlp_queue_depth", &[]), Some(0.0));
    assert_eq!(get("qlp_intents_running", &[]), Some(0.0));
    assert_eq!(get("qlp_draining", &[]), Some(0.0));
    assert!(get("qlp_plugins_loaded", &[]).is_some_and(|n| n >= 5.0));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopping_server_gives_a_running_intent_back_and_the_next_start_finishes_it() {
    let data = tempfile::tempdir().unwrap();
    let server = crate::support::Server::start_with_fixtures(data.path());
    // Far more work than the 2 s grace the tests give: the stage is still running when
    // the grace ends.
    let id = server
        .submit(json!({
            "description": "Create a FastAPI service for invoices",
            "tier": "durable",
            "constraints": { "burn": "20000000000" },
        }))
        .await;
    server
        .wait_until(&id, |i| {
            crate::support::stages(i, "validate")
                .iter()
                .any(|s| s["status"] == "running")
        })
        .await;
    let stopped = std::time::Instant::now();
    // `stop` sends SIGTERM and asserts a clean exit.
    server.stop();
    assert!(
        stopped.elapsed() < Duration::from_secs(15),
        "the stop took {:?}",
        stopped.elapsed()
    );

    // Given back, not failed or cancelled: the next start finishes it, the
    // interrupted stage recorded as such.
    let server = crate::support::Server::start_with_fixtures(data.path());
    let intent = server.get_json(&format!("/v1/intents/{id}")).await;
    let validate: Vec<&str> = crate::support::stages(&intent, "validate")
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(validate.first(), Some(&"interrupted"), "{intent:#}");
    assert_ne!(intent["status"], "cancelled", "{intent:#}");
    assert_ne!(intent["status"], "failed", "{intent:#}");
    let cancelled = server
        .post_json(&format!("/v1/intents/{id}/cancel"), json!({}))
        .await;
    assert!(matches!(cancelled.0, 200 | 202), "{cancelled:?}");
    server.stop();
}

/// Renders QLP's own chart (deploy/helm/qlp) with Helm's engine and checks
/// every object against the Kubernetes API schemas, through the helm
/// exporter's `render_chart.py` (helm-python-sdk and kubernetes-validate,
/// installed by deploy/setup.sh). Returns each case's answer.
fn render_qlp_chart(cases: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("qlp.tgz");
    let tar = Command::new("tar")
        .arg("czf")
        .arg(&chart)
        .arg("-C")
        .arg(crate::support::workspace().join("deploy/helm"))
        .arg("qlp")
        .status()
        .expect("tar runs");
    assert!(tar.success());
    let request = json!({
        "chart": chart,
        "versions": ["1.25.0", "1.37.0"],
        "cases": cases.iter().map(|v| json!({ "values": v })).collect::<Vec<_>>(),
    });
    let out = crate::support::python(
        &crate::support::workspace().join("plugins/helm/tests/render_chart.py"),
        request.to_string().as_bytes(),
    );
    let answer: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    answer["cases"].as_array().expect("cases").clone()
}

/// A StatefulSet of three replicas reading the database URL from its
/// Secret and mounting the shared volume of capsules and registry.
fn replicas_share_a_database_and_a_capsule_volume(set: &serde_json::Value) {
    assert_eq!(set["spec"]["replicas"], 3, "{set:#}");
    let container = &set["spec"]["template"]["spec"]["containers"][0];
    let database = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "QLP_DATABASE")
        .expect("QLP_DATABASE");
    assert_eq!(
        database["valueFrom"]["secretKeyRef"],
        json!({ "name": "qlp-database", "key": "url" })
    );
    assert!(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "QLP_CAPSULE_DIR" && e["value"] == "/var/lib/qlp-capsules")
    );
    assert!(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "QLP_REGISTRY_DIR"
                && e["value"] == "/var/lib/qlp-capsules/registry")
    );
    let volumes = &set["spec"]["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == "qlp-capsules"),
        "{volumes:#}"
    );
}

#[test]
fn the_helm_chart_renders_hardened_objects_and_its_schema_refuses_bad_values() {
    let cases = render_qlp_chart(&[
        json!({}),
        json!({
            "tiers": "[tiers.x]\nagents = ['qlp/template-go']\n",
            "caBundle": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "tls": { "secretName": "qlp-tls" },
            "secretEnvFrom": "qlp-delivery-secrets",
            "ingress": { "enabled": true, "host": "qlp.example.com", "tlsSecretName": "qlp-tls" },
        }),
        json!({ "replicaCount": 3 }),
        json!({ "persistence": { "size": "lots" } }),
        json!({ "image": { "repository": "qlp" }, "unknown": true }),
        json!({
            "replicaCount": 3,
            "database": { "existingSecret": "qlp-database" },
            "capsules": { "existingClaim": "qlp-capsules" },
        }),
        json!({
            "replicaCount": 2,
            "database": { "existingSecret": "qlp-database" },
            "capsules": { "existingClaim": "qlp-shared", "store": "s3://qlp-capsules/prod" },
            "secretEnvFrom": "qlp-aws",
        }),
        json!({ "capsules": { "store": "gs://elsewhere" } }),
    ]);
    let objects = |case: &serde_json::Value, template: &str| -> serde_json::Value {
        case["manifests"][format!("qlp/templates/{template}")][0].clone()
    };
    // Defaults: a StatefulSet on a volume, hardened, with probes.
    let set = objects(&cases[0], "statefulset.yaml");
    assert_eq!(set["kind"], "StatefulSet", "{:#}", cases[0]);
    let pod = &set["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["automountServiceAccountToken"], false);
    let container = &pod["containers"][0];
    let hardened = &container["securityContext"];
    assert_eq!(hardened["readOnlyRootFilesystem"], true);
    assert_eq!(hardened["allowPrivilegeEscalation"], false);
    assert_eq!(hardened["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(
        set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "data"
    );
    assert_eq!(
        objects(&cases[0], "pdb.yaml")["kind"],
        "PodDisruptionBudget"
    );
    assert!(
        cases[0]["manifests"]
            .get("qlp/templates/configmap.yaml")
            .is_none()
    );

    // Operator files become a ConfigMap, TLS a mounted Secret, probes HTTPS.
    let env =
        objects(&cases[1], "statefulset.yaml")["spec"]["template"]["spec"]["containers"][0].clone();
    let names: Vec<&str> = env["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for wanted in ["QLP_TIERS", "QLP_CA_FILE", "QLP_TLS_CERT", "QLP_TLS_KEY"] {
        assert!(names.contains(&wanted), "{wanted}: {names:?}");
    }
    assert_eq!(env["readinessProbe"]["httpGet"]["scheme"], "HTTPS");
    assert_eq!(
        env["envFrom"][0]["secretRef"]["name"],
        "qlp-delivery-secrets"
    );
    let config = objects(&cases[1], "configmap.yaml");
    assert!(
        config["data"]["tiers.toml"]
            .as_str()
            .unwrap()
            .contains("qlp/template-go")
    );
    assert_eq!(objects(&cases[1], "ingress.yaml")["kind"], "Ingress");

    // Replicas share a database named by a Secret and a capsule volume.
    replicas_share_a_database_and_a_capsule_volume(&objects(&cases[5], "statefulset.yaml"));

    // Capsules in a bucket: its URL, no capsule directory, the registry
    // still on the shared claim.
    let container =
        &objects(&cases[6], "statefulset.yaml")["spec"]["template"]["spec"]["containers"][0];
    let env: std::collections::BTreeMap<&str, &serde_json::Value> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), &e["value"]))
        .collect();
    assert_eq!(
        env["QLP_CAPSULE_STORE"], "s3://qlp-capsules/prod",
        "{env:?}"
    );
    assert!(!env.contains_key("QLP_CAPSULE_DIR"), "{env:?}");
    assert_eq!(env["QLP_REGISTRY_DIR"], "/var/lib/qlp-capsules/registry");
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], "qlp-aws");

    // The schema refuses what the chart cannot serve: several replicas
    // without a shared database, a size that is not one, unknown values,
    // a capsule store that is not S3's.
    for (case, why) in [
        (2, "existingSecret"),
        (3, "persistence/size"),
        (4, "unknown"),
        (7, "capsules/store"),
    ] {
        let refused = cases[case]["rejected"].as_str().unwrap_or_default();
        assert!(refused.contains(why), "case {case}: {:#}", cases[case]);
    }
}

/// Validates `deploy/compose.yaml` against the compose specification's
/// schema (`deploy/setup.sh` extracts it), and a copy with a wrong value,
/// which must fail; answers the parsed file and both verdicts.
const VALIDATE_COMPOSE: &str = r#"
import copy, json, os, sys, jsonschema, yaml
schema_path = os.path.join(
    os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
    "qlp/compose_spec.json")
schema = json.load(open(schema_path))
compose = yaml.safe_load(open(sys.argv[1]))
broken = copy.deepcopy(compose)
broken["services"]["qlp"]["read_only"] = "yes please"
errors = lambda doc: [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
print(json.dumps({"compose": compose, "errors": errors(compose), "broken": errors(broken)}))
"#;

#[test]
fn the_compose_file_is_valid_and_runs_qlp_hardened_on_postgresql() {
    let file = crate::support::workspace().join("deploy/compose.yaml");
    let out = Command::new("python3")
        .args(["-c", VALIDATE_COMPOSE])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(answer["errors"], json!([]), "{answer:#}");
    assert_ne!(answer["broken"], json!([]), "the schema checks nothing");
    let services = &answer["compose"]["services"];
    let (qlp, postgres) = (&services["qlp"], &services["postgres"]);
    // QLP waits for a healthy PostgreSQL and stores its records there.
    assert_eq!(
        qlp["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    assert!(
        postgres["healthcheck"]["test"]
            .to_string()
            .contains("pg_isready")
    );
    let database = qlp["environment"]["QLP_DATABASE"].as_str().unwrap();
    assert!(database.starts_with("postgres://qlp:"), "{database}");
    assert!(database.ends_with("@postgres:5432/qlp"), "{database}");
    // No password in the file: both take it from the environment, and
    // refuse to start without it.
    for value in [
        database,
        postgres["environment"]["POSTGRES_PASSWORD"]
            .as_str()
            .unwrap(),
    ] {
        assert!(value.contains("${QLP_DB_PASSWORD:?"), "{value}");
    }
    // Hardened as in the Helm chart; state on named volumes.
    assert_eq!(qlp["read_only"], true);
    assert_eq!(qlp["cap_drop"], json!(["ALL"]));
    assert_eq!(qlp["security_opt"], json!(["no-new-privileges:true"]));
    assert_eq!(qlp["volumes"][0], "qlp-data:/var/lib/qlp");
    assert_eq!(
        postgres["volumes"][0],
        "qlp-postgres:/var/lib/postgresql/data"
    );
    assert!(qlp["ports"][0].as_str().unwrap().starts_with("127.0.0.1:"));
}
