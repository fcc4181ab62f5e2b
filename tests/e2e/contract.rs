//! The two contracts the host serves, side by side: agents, validators and
//! exporters of `qlp:plugin@0.1.0` and of `qlp:plugin@0.2.0` in the same
//! tier.

use serde_json::{Value, json};

use crate::support::Server;

const INTENT: &str = "Create a FastAPI service for invoices with JWT auth";
const TOKEN: &str = "contract-fixture-token-5f1c9e";

/// The test tiers with a `contracts` tier added, written into `dir` with
/// the secret file its grant reads: agents, validators and exporters of
/// qlp:plugin@0.1.0 (fixtures built on its frozen WIT alone) beside
/// first-party plugins of 0.2.0 (built with the SDK) and fixtures of 0.2.0
/// (built on its WIT alone).
fn contracts_tier(dir: &std::path::Path) -> std::path::PathBuf {
    let original = std::fs::read_to_string(crate::support::test_tiers()).unwrap();
    std::fs::write(dir.join("contract-token.txt"), format!("{TOKEN}\n")).unwrap();
    let tiers = dir.join("tiers.toml");
    std::fs::write(
        &tiers,
        format!(
            r#"{original}
[tiers.contracts]
agents = ["qlp/template-fastapi", "fixture/agent-0-1", "fixture/agent-0-2"]
analyzers = ["qlp/python"]
validators = ["fixture/validator-0-1", "qlp/secrets", "fixture/contract-0-2"]
exporters = ["fixture/exporter-0-1", "qlp/zip", "fixture/exporter-0-2"]
gate = {{ min_score = 0, max_critical = 0 }}

[plugins."fixture/contract-0-2"]
secrets = {{ TOKEN = "file:contract-token.txt" }}
"#
        ),
    )
    .unwrap();
    tiers
}

fn validation<'a>(capsule: &'a Value, validator: &str) -> &'a Value {
    capsule["validations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["validator"] == validator)
        .unwrap_or_else(|| panic!("no report of {validator}: {capsule:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn plugins_of_0_1_and_0_2_run_in_one_tier() {
    let data = tempfile::tempdir().unwrap();
    let tiers = contracts_tier(data.path());
    let server = Server::start_with_fixtures_on(data.path(), &tiers, &[]);
    let plugins = server.get_json("/v1/plugins").await;
    let wit = |name: &str| {
        plugins["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["wit"].clone())
    };
    for old in [
        "fixture/agent-0-1",
        "fixture/validator-0-1",
        "fixture/exporter-0-1",
    ] {
        assert_eq!(wit(old), Some(json!("0.1.0")), "{old}");
    }
    for new in [
        "qlp/template-fastapi",
        "qlp/python",
        "qlp/secrets",
        "qlp/zip",
        "fixture/agent-0-2",
        "fixture/contract-0-2",
        "fixture/exporter-0-2",
    ] {
        assert_eq!(wit(new), Some(json!("0.2.0")), "{new}");
    }
    let id = server
        .submit(json!({ "description": INTENT, "tier": "contracts" }))
        .await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    let capsule = server.get_json(&format!("/v1/capsules/{id}")).await;
    let paths: Vec<&str> = capsule["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();

    // The 0.1 agent was handed, whole in its request, what the 0.2 agent
    // before it wrote.
    let handed = server
        .get_bytes(&format!("/v1/capsules/{id}/files/V0_1.md"))
        .await;
    let handed = String::from_utf8(handed).unwrap();
    let scaffold = paths
        .iter()
        .filter(|p| !p.starts_with(".qlcapsule") && !["CONTRACT.md", "V0_1.md"].contains(p))
        .count();
    assert!(scaffold > 0);
    assert_eq!(
        handed.split(' ').next(),
        Some(format!("files={scaffold}").as_str()),
        "{handed}"
    );
    assert!(
        handed.trim_end().ends_with("round=0 tier=contracts"),
        "{handed}"
    );

    // The 0.2 agent read what both agents before it wrote, one file at a
    // time.
    let written = server
        .get_bytes(&format!("/v1/capsules/{id}/files/CONTRACT.md"))
        .await;
    let written = String::from_utf8(written).unwrap();
    let project = paths
        .iter()
        .filter(|p| !p.starts_with(".qlcapsule") && **p != "CONTRACT.md")
        .count();
    assert!(
        written.starts_with(&format!("files={project} bytes=")),
        "{written}"
    );
    assert!(
        written
            .trim_end()
            .ends_with("round=0 findings=0 tier=contracts"),
        "{written}"
    );

    // The first-party validator, built with the SDK on 0.2, reports as it
    // always has.
    let secrets = validation(&capsule, "qlp/secrets");
    assert_eq!(secrets["report"]["score"], 100, "{secrets:#}");

    // The 0.2 validator read every file through the capsule resource, was
    // refused a path the capsule does not hold with `invalid-input`, got
    // its granted secret from `secrets` and not from `config`, was refused
    // an undeclared one, and had time left.
    let new = validation(&capsule, "fixture/contract-0-2");
    let summary = new["report"]["summary"].as_str().unwrap();
    // The files the validators saw: the project without the manifest the
    // capsule adds once they have run.
    let seen = paths
        .iter()
        .filter(|p| !p.starts_with(".qlcapsule"))
        .count();
    for expected in [
        format!("files={seen} "),
        "missing=invalid-input".into(),
        format!("token={} bytes", TOKEN.len()),
        "other=not-granted".into(),
        "token-in-config=no".into(),
        "time-left=true".into(),
        "intent=contracts".into(),
    ] {
        assert!(summary.contains(&expected), "`{expected}` not in {summary}");
    }
    assert!(!summary.contains(TOKEN));

    // Its findings keep what 0.2 adds.
    let findings = new["report"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), seen, "{new:#}");
    for f in findings {
        let path = f["path"].as_str().unwrap();
        assert!(paths.contains(&path), "{path}");
        assert_eq!(f["line"], 1);
        let snippet = f["snippet"].as_str().unwrap();
        let region = &f["region"];
        assert_eq!(region["start_line"], 1);
        assert_eq!(region["start_column"], 1);
        assert_eq!(region["end_column"], snippet.chars().count() + 1, "{f:#}");
        assert_eq!(f["fix"]["replacements"][0]["text"], snippet);
        assert_eq!(f["fix"]["replacements"][0]["region"], *region);
        assert_eq!(f["tags"], json!(["cwe:CWE-1116", "fixture:contract-0.2"]));
    }
    // The 0.1 validator was handed the whole capsule and reported a path
    // and a line per file; its findings carry nothing more.
    let old = validation(&capsule, "fixture/validator-0-1");
    assert_eq!(old["report"]["score"], 100, "{old:#}");
    let summary = old["report"]["summary"].as_str().unwrap();
    assert!(summary.starts_with(&format!("files={seen} ")), "{summary}");
    assert!(summary.ends_with("intent=contracts"), "{summary}");
    let findings = old["report"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), seen, "{old:#}");
    for f in findings {
        assert!(paths.contains(&f["path"].as_str().unwrap()), "{f:#}");
        assert_eq!(f["line"], 1);
        for richer in ["region", "snippet", "fix", "tags"] {
            assert!(f.get(richer).is_none(), "{f:#}");
        }
    }

    // The 0.2 exporter listed every file it read, sizes as read, and saw
    // all three validators' reports, the 0.2 validator's findings whole.
    let base = format!("capsule-{}", &id[..8]);
    let listing = server
        .get_bytes(&format!("/v1/capsules/{id}/artifacts/{base}.v0-2.txt"))
        .await;
    let listing = String::from_utf8(listing).unwrap();
    let listed: Vec<&str> = listing.lines().collect();
    let analyses = paths.iter().filter(|p| p.ends_with(".py")).count();
    assert!(analyses > 0);
    assert_eq!(
        listed.last().copied(),
        Some(format!("analyses={analyses} validations=3 whole-findings={seen}").as_str()),
        "{listing}"
    );
    // Every file, and the capsule's manifest, which exporters see.
    assert_eq!(listed.len() - 1, seen + 1, "{listing}");
    for file in ["CONTRACT.md ", ".qlcapsule-manifest.json "] {
        assert!(listed.iter().any(|l| l.starts_with(file)), "{listing}");
    }

    // The 0.1 exporter, handed the same capsule whole, lists the same
    // files.
    let old_listing = server
        .get_bytes(&format!("/v1/capsules/{id}/artifacts/{base}.v0-1.txt"))
        .await;
    let old_listing = String::from_utf8(old_listing).unwrap();
    let old_listed: Vec<&str> = old_listing.lines().collect();
    assert_eq!(old_listed[..seen + 1], listed[..seen + 1], "{old_listing}");
    assert_eq!(
        old_listed.last().copied(),
        Some(format!("analyses={analyses} validations=3").as_str()),
        "{old_listing}"
    );

    // The SARIF log maps them on: columns, fixes, tags, and a CWE tag on
    // the rule; and it is valid SARIF 2.1.0.
    let sarif = server.get_json(&format!("/v1/capsules/{id}/sarif")).await;
    let run = sarif["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"]["driver"]["name"] == "fixture/contract-0-2")
        .expect("a run of the 0.2 validator");
    let result = &run["results"][0];
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], 1);
    assert!(region["endColumn"].as_u64().unwrap() >= 1);
    assert_eq!(
        result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        region["snippet"]["text"]
    );
    assert_eq!(result["properties"]["tags"][0], "cwe:CWE-1116");
    let rule_tags = run["tool"]["driver"]["rules"][0]["properties"]["tags"].to_string();
    assert!(rule_tags.contains("external/cwe/cwe-1116"), "{rule_tags}");
    let file = data.path().join("capsule.sarif");
    std::fs::write(&file, sarif.to_string()).unwrap();
    crate::checks::assert_valid_sarif(&file);

    // The secret the plugin logged is masked in the server's log.
    server.stop();
    let log = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    assert!(
        log.contains("token is ***"),
        "the plugin's log line is missing"
    );
    assert!(!log.contains(TOKEN), "the secret reached the server's log");
}

/// A component's `qlp:contract` section as `qlp plugin build` writes it.
fn stamp(package: &str) -> Vec<u8> {
    let name = b"qlp:contract";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(package.as_bytes());
    let mut section = vec![0, payload.len() as u8];
    section.extend_from_slice(&payload);
    section
}

#[test]
fn the_stamp_picks_the_contract_and_an_unstamped_component_is_read_from_its_imports() {
    let cache = tempfile::tempdir().unwrap();
    let rt = qlp_runtime::Runtime::new(cache.path().to_path_buf()).unwrap();
    let built =
        std::fs::read(crate::support::fixtures().join("qlp_fixture_contract_0_2.wasm")).unwrap();
    let own = stamp("qlp:plugin@0.2.0");
    assert!(
        built.ends_with(&own),
        "qlp plugin build stamps the component"
    );
    assert_eq!(
        rt.load(&built).unwrap().contract,
        qlp_runtime::Contract::V0_2
    );

    // Without its stamp, its imports of qlp:plugin@0.2.0 say which it is.
    let unstamped = &built[..built.len() - own.len()];
    let plugin = rt.load(unstamped).unwrap();
    assert_eq!(plugin.contract, qlp_runtime::Contract::V0_2);
    assert_eq!(plugin.info.name, "fixture/contract-0-2");

    // A contract this host does not serve is refused, named.
    let mut future = unstamped.to_vec();
    future.extend(stamp("qlp:plugin@9.0.0"));
    let err = rt.load(&future).unwrap_err().to_string();
    assert!(err.contains("qlp:plugin@9.0.0"), "{err}");

    // The stamp is believed: a 0.1 component stamped 0.2 does not link.
    let old =
        std::fs::read(crate::support::fixtures().join("qlp_fixture_validator_0_1.wasm")).unwrap();
    assert_eq!(rt.load(&old).unwrap().contract, qlp_runtime::Contract::V0_1);
    let old_stamp = stamp("qlp:plugin@0.1.0");
    assert!(old.ends_with(&old_stamp));
    let mut lying = old[..old.len() - old_stamp.len()].to_vec();
    lying.extend(own);
    let err = rt.load(&lying).unwrap_err().to_string();
    assert!(err.contains("cannot be linked as a QLP validator"), "{err}");
}
