//! The LLM agent end to end: `qlp/llm-agent` writes through the host's
//! `qlp:llm/chat`, which sends to `tests/servers/llm_recorded_server.py`, a
//! recorded stand-in for an OpenAI-compatible endpoint on loopback (no
//! package registry this machine reaches ships a model with a runtime
//! that serves the API).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::operate::{sample, scrape};
use crate::support::{Loopback, Server, author, plugins, stages, test_file};

const KEY: &str = "sk-recorded-endpoint-key-7f3a";
const KEY_ENV: &str = "QLP_TEST_LLM_KEY";
const MODEL: &str = "coder-recorded";

const INVENTORY: &str = "Create a Go REST API for warehouse inventory with PostgreSQL";

/// A PEM private key, split so this file itself does not trip scanners.
fn pem() -> String {
    format!(
        "{}\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n{}",
        concat!("-----BEGIN RSA ", "PRIVATE KEY-----"),
        concat!("-----END RSA ", "PRIVATE KEY-----"),
    )
}

fn files(files: &[(&str, String)]) -> String {
    json!({
        "files": files
            .iter()
            .map(|(path, content)| json!({ "path": path, "content": content }))
            .collect::<Vec<_>>()
    })
    .to_string()
}

/// The answers: a malformed one, the repair, the first draft (with a key
/// the secrets validator reports), in the order they are matched.
fn recordings(dir: &Path) -> PathBuf {
    let handler = "package inventory\n\n// Routes: GET /inventory/items, POST /inventory/items.\n\
                   func Routes() []string { return []string{\"/inventory/items\"} }\n"
        .to_owned();
    let leaky = format!("package config\n\nconst signingKey = `{}`\n", pem());
    let fixed = "package config\n\nimport \"os\"\n\nvar signingKey = os.Getenv(\"SIGNING_KEY\")\n"
        .to_owned();
    let recordings = json!([
        { "when": "MALFORMED-CASE", "answer": "Sure! Here is your project:\n\nmain.go ..." },
        { "when": "CUT-CASE", "answer": "{\"files\": [{\"path\": \"a.go\", \"cont", "finish_reason": "length" },
        { "when": "Repair round 1", "answer": files(&[("internal/config/secrets.go", fixed)]) },
        { "when": "", "answer": format!("```json\n{}\n```", files(&[
            ("internal/inventory/routes.go", handler),
            ("internal/config/secrets.go", leaky),
        ])) },
    ]);
    let path = dir.join("recordings.json");
    std::fs::write(&path, recordings.to_string()).unwrap();
    path
}

/// The tokens an intent may spend unless a test says otherwise: far more
/// than the recorded rounds use.
const BUDGET: u64 = 200_000;

/// A tiers file whose `llm` tier runs the Go scaffold and the LLM agent;
/// with `url`, the `[llm]` endpoint there and `budget` tokens per intent.
fn tiers(dir: &Path, url: Option<&str>, budget: u64) -> PathBuf {
    let endpoint = url.map_or_else(String::new, |url| {
        format!(
            "[llm]\nurl = \"{url}/v1\"\napi_key = \"env:{KEY_ENV}\"\n\
             models = [\"{MODEL}\", \"coder-large\"]\nmax_tokens_per_call = 2048\n\
             max_tokens_per_intent = {budget}\ntimeout_ms = 20000\n\n\
             [plugins.\"qlp/llm-agent\"]\nllm = true\nconfig = {{ temperature = \"0.1\" }}\n\n"
        )
    });
    let text = format!(
        "{endpoint}[tiers.llm]\n\
         agents = [\"qlp/template-go\", \"qlp/llm-agent\"]\n\
         validators = [\"qlp/secrets\"]\n\
         exporter = \"qlp/zip\"\n\
         gate = {{ min_score = 70, max_critical = 0 }}\n\
         max_iterations = 2\n"
    );
    let path = dir.join("tiers.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(data: &Path, tiers: &Path) -> Server {
    let plugins = plugins();
    Server::start_env(
        data,
        &[
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--tiers",
            tiers.to_str().unwrap(),
        ],
        &[(KEY_ENV, KEY)],
    )
}

/// The recorded endpoint, and a server whose `llm` tier reaches it with
/// `budget` tokens per intent.
fn start_with_endpoint(dir: &Path, budget: u64) -> (Loopback, Server) {
    let endpoint = Loopback::start(
        "python3",
        &[
            test_file("servers/llm_recorded_server.py")
                .to_str()
                .unwrap(),
            recordings(dir).to_str().unwrap(),
            "--key",
            KEY,
        ],
    );
    let tiers = tiers(dir, Some(&endpoint.url), budget);
    let server = start(&dir.join("data"), &tiers);
    (endpoint, server)
}

/// The requests the endpoint answered, as it printed them.
fn requests(endpoint: &Loopback) -> Vec<Value> {
    endpoint
        .printed()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_llm_agent_writes_and_repairs_a_project_through_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, server) = start_with_endpoint(dir.path(), BUDGET);

    let id = server
        .submit(json!({
            "description": INVENTORY,
            "tier": "llm",
            "requirements": ["List items by SKU"],
        }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");

    // Round 0's key failed the gate; the agent fixed it in round 1.
    let gates = stages(&intent, "gate");
    assert_eq!(
        gates
            .iter()
            .map(|g| g["status"].clone())
            .collect::<Vec<_>>(),
        [json!("failed"), json!("succeeded")],
        "{intent:#}"
    );
    let llm_stages: Vec<&Value> = stages(&intent, "generate")
        .into_iter()
        .filter(|s| s["plugin"] == "qlp/llm-agent")
        .collect();
    assert_eq!(llm_stages.len(), 2, "{intent:#}");
    for s in &llm_stages {
        assert_eq!(s["status"], "succeeded", "{s:#}");
        let llm = &s["detail"]["llm"];
        assert_eq!(llm["completions"], 1, "{s:#}");
        assert!(llm["prompt_tokens"].as_u64().unwrap() > 0, "{s:#}");
        assert!(llm["completion_tokens"].as_u64().unwrap() > 0, "{s:#}");
    }

    // What the host sent: the operator's key and default model, the
    // plugin's temperature, the call's token cap; the intent and the Go
    // scaffold in round 0; the validator's finding in round 1.
    let sent = requests(&endpoint);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    for r in &sent {
        assert_eq!(r["authorized"], true, "{r:#}");
        assert_eq!(r["model"], MODEL);
        assert_eq!(r["max_tokens"], 2048);
        assert!((r["temperature"].as_f64().unwrap() - 0.1).abs() < 1e-6);
    }
    let user = |r: &Value| r["messages"][1]["content"].as_str().unwrap().to_owned();
    let first = user(&sent[0]);
    assert!(
        first.contains(INVENTORY) && first.contains("- List items by SKU"),
        "{first}"
    );
    assert!(
        first.contains("go.mod"),
        "the Go scaffold was not shown: {first}"
    );
    let second = user(&sent[1]);
    assert!(
        second.contains("Repair round 1") && second.contains("internal/config/secrets.go"),
        "{second}"
    );

    // The capsule holds the scaffold, the model's files and the repair.
    let secrets = server
        .get_bytes(&format!(
            "/v1/capsules/{id}/files/internal/config/secrets.go"
        ))
        .await;
    let secrets = String::from_utf8(secrets).unwrap();
    assert!(
        secrets.contains("os.Getenv") && !secrets.contains("PRIVATE KEY"),
        "{secrets}"
    );
    let routes = server
        .get_bytes(&format!(
            "/v1/capsules/{id}/files/internal/inventory/routes.go"
        ))
        .await;
    assert!(
        String::from_utf8(routes)
            .unwrap()
            .contains("/inventory/items")
    );
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    assert_eq!(
        author(&capsule, "internal/config/secrets.go"),
        Some(json!("qlp/llm-agent"))
    );
    assert_eq!(author(&capsule, "go.mod"), Some(json!("qlp/template-go")));

    // The tokens are counted against the tenant, and the key appears
    // nowhere the server writes.
    let samples = scrape(&server).await;
    let counted = |kind| {
        sample(
            &samples,
            "qlp_llm_tokens_total",
            &[
                ("tenant", "default"),
                ("plugin", "qlp/llm-agent"),
                ("kind", kind),
            ],
        )
    };
    assert!(counted("prompt").unwrap() > 0.0 && counted("completion").unwrap() > 0.0);
    let log = std::fs::read_to_string(dir.path().join("data/server.log")).unwrap();
    assert!(
        !log.contains(KEY),
        "the endpoint's key reached the server log"
    );
    assert!(!intent.to_string().contains(KEY));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_or_cut_answer_fails_the_stage_and_stores_no_capsule() {
    let dir = tempfile::tempdir().unwrap();
    // The endpoint must outlive the server's calls.
    let (_endpoint, server) = start_with_endpoint(dir.path(), BUDGET);
    for (case, code) in [
        ("MALFORMED-CASE", "LLM_MALFORMED_ANSWER"),
        ("CUT-CASE", "LLM_ANSWER_CUT"),
    ] {
        let id = server
            .submit(json!({ "description": format!("{INVENTORY} ({case})"), "tier": "llm" }))
            .await;
        let intent = server.wait(&id).await;
        assert_eq!(intent["status"], "failed", "{intent:#}");
        assert_eq!(intent["error"]["code"], code, "{intent:#}");
        let failed = stages(&intent, "generate")
            .into_iter()
            .find(|s| s["plugin"] == "qlp/llm-agent")
            .unwrap()
            .clone();
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["error"]["code"], code, "{failed:#}");
        let capsule = server.get(&format!("/v1/capsules/{id}")).await;
        assert_eq!(capsule.status(), 404, "a capsule was stored for {case}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tier_needing_a_model_is_refused_at_start_without_an_endpoint_or_a_grant() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |tiers: &Path, data: &str| {
        let plugins = plugins();
        let started = Server::try_start_env(
            &dir.path().join(data),
            &[
                "--plugin-dir",
                plugins.to_str().unwrap(),
                "--tiers",
                tiers.to_str().unwrap(),
            ],
            &[(KEY_ENV, KEY)],
        );
        let Err(refused) = started else {
            panic!("a tier whose agent needs a model started without it");
        };
        refused.log
    };
    let log = refused(&tiers(dir.path(), None, BUDGET), "no-endpoint");
    assert!(
        log.contains("tier `llm`")
            && log.contains("qlp/llm-agent")
            && log.contains("no model endpoint is configured"),
        "{log}"
    );
    // An endpoint, but the agent is not granted it.
    let path = tiers(dir.path(), Some("http://127.0.0.1:9"), BUDGET);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("llm = true\n", "")).unwrap();
    let log = refused(&path, "no-grant");
    assert!(
        log.contains("tier `llm`")
            && log.contains("is not granted the model endpoint")
            && log.contains("llm = true"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_intents_token_budget_caps_its_calls_and_ends_its_repair_rounds() {
    let dir = tempfile::tempdir().unwrap();
    // Round 0's prompt alone (the intent and the Go scaffold) is over this.
    let (endpoint, server) = start_with_endpoint(dir.path(), 1000);
    let id = server
        .submit(json!({ "description": INVENTORY, "tier": "llm" }))
        .await;
    let intent = server.wait(&id).await;
    // Round 0 asked for no more than the budget and spent it; round 1's
    // call was refused by the host before anything was sent.
    assert_eq!(intent["status"], "failed", "{intent:#}");
    assert_eq!(intent["error"]["code"], "LLM_LIMIT_EXCEEDED", "{intent:#}");
    let sent = requests(&endpoint);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["max_tokens"], 1000);
    let llm_stages: Vec<&Value> = stages(&intent, "generate")
        .into_iter()
        .filter(|s| s["plugin"] == "qlp/llm-agent")
        .collect();
    assert_eq!(
        llm_stages
            .iter()
            .map(|s| (s["iteration"].clone(), s["status"].clone()))
            .collect::<Vec<_>>(),
        [(json!(0), json!("succeeded")), (json!(1), json!("failed"))],
        "{intent:#}"
    );
    assert!(
        llm_stages[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("budget of 1000 tokens"),
        "{intent:#}"
    );
    server.stop();
}

/// The tokens an intent's stages spent on the model endpoint.
fn tokens_spent(intent: &Value) -> u64 {
    stages(intent, "generate")
        .iter()
        .map(|s| &s["detail"]["llm"])
        .map(|l| {
            l["prompt_tokens"].as_u64().unwrap_or(0) + l["completion_tokens"].as_u64().unwrap_or(0)
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_daily_tokens_are_shared_by_its_intents_and_refused_once_spent() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, server) = start_with_endpoint(dir.path(), BUDGET);
    let admin = server.admin_key.clone();
    // Spent before any quota: counted all the same.
    let first = server
        .submit(json!({ "description": INVENTORY, "tier": "llm" }))
        .await;
    let first = server.wait(&first).await;
    assert_eq!(first["status"], "completed", "{first:#}");
    let spent = tokens_spent(&first);
    assert!(spent > 0, "{first:#}");

    // A quota of exactly what the tenant spent today: the next intent's
    // model call is refused before anything is sent.
    let (status, body) = crate::tenancy::put_policy(
        &server,
        &admin,
        "default",
        json!({ "max_llm_tokens_per_day": spent }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        requests(&endpoint).len(),
        2,
        "the first intent's two rounds"
    );
    let second = server
        .submit(json!({ "description": INVENTORY, "tier": "llm" }))
        .await;
    let second = server.wait(&second).await;
    assert_eq!(second["status"], "failed", "{second:#}");
    assert_eq!(second["error"]["code"], "LLM_LIMIT_EXCEEDED", "{second:#}");
    assert!(
        second["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "the tenant's daily quota of {spent} tokens is spent"
            )),
        "{second:#}"
    );
    assert_eq!(requests(&endpoint), Vec::<Value>::new(), "nothing was sent");

    // Raised by one intent's budget: the next one runs, and spends no
    // more than the quota left it.
    let (status, _) = crate::tenancy::put_policy(
        &server,
        &admin,
        "default",
        json!({ "max_llm_tokens_per_day": spent + BUDGET }),
    )
    .await;
    assert_eq!(status, 200);
    let third = server
        .submit(json!({ "description": INVENTORY, "tier": "llm" }))
        .await;
    let third = server.wait(&third).await;
    assert_eq!(third["status"], "completed", "{third:#}");
    assert!(tokens_spent(&third) <= BUDGET);
    let policy = server.get_json("/v1/tenants/default/policy").await;
    assert_eq!(policy["max_llm_tokens_per_day"], spent + BUDGET, "{policy}");
    server.stop();
}
