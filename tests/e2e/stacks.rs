//! The capsule matches the stack asked for: the shipped tiers run the
//! agent of the stack the planner detects, an intent for a stack no agent
//! serves is refused before anything is stored, and what was detected is
//! shown before submitting.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::files_checked_against_manifest;
use crate::support::{Server, stage};

/// Submits `body`, waits for the intent and returns it with its capsule's
/// files (checked against the manifest).
async fn capsule_of(
    server: &Server,
    body: Value,
) -> (Value, std::collections::BTreeMap<String, Vec<u8>>) {
    let id = server.submit(body).await;
    let intent = server.wait(&id).await;
    assert_eq!(intent["status"], "completed", "{intent:#}");
    for name in ["plan", "generate", "validate", "gate"] {
        assert_eq!(stage(&intent, name)["status"], "succeeded", "{name}");
    }
    let zip = server
        .get_bytes(&format!("/v1/capsules/{id}/download"))
        .await;
    let (_, files) = files_checked_against_manifest(&zip);
    (intent, files)
}

fn text(files: &std::collections::BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(
        files
            .get(path)
            .unwrap_or_else(|| panic!("no {path} in {:?}", files.keys()))
            .clone(),
    )
    .unwrap()
}

/// Writes a capsule's files under `dir`.
fn write_out(dir: &Path, files: &std::collections::BTreeMap<String, Vec<u8>>) {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_stack_gets_its_own_agent_and_a_stack_nobody_serves_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());

    // Go: the resource and its fields from the intent, and the project's
    // own tests pass.
    let (intent, files) = capsule_of(
        &server,
        json!({
            "description": "Create a Go REST API for warehouse shipments with JWT auth",
            "requirements": ["Each shipment has a tracking number, a weight and a destination"],
            "tier": "standard",
        }),
    )
    .await;
    let plan = &stage(&intent, "plan")["detail"];
    assert!(
        plan["stack"].as_array().unwrap().contains(&json!("go")),
        "{plan:#}"
    );
    assert_eq!(stage(&intent, "generate")["plugin"], "qlp/template-go");
    assert!(files.contains_key("go.mod"), "{:?}", files.keys());
    assert!(
        !files.keys().any(|p| p.ends_with(".py")),
        "{:?}",
        files.keys()
    );
    let models = text(&files, "models.go");
    assert!(models.contains("type Shipment struct"), "{models}");
    assert!(models.contains("TrackingNumber"), "{models}");
    let server_go = text(&files, "server.go");
    assert!(server_go.contains("/shipments"), "{server_go}");
    assert!(files.contains_key("auth.go"), "JWT was asked for");
    let out = tempfile::tempdir().unwrap();
    write_out(out.path(), &files);
    let go = Command::new("go")
        .args(["test", "./..."])
        .current_dir(out.path())
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("go is installed by deploy/setup.sh");
    assert!(
        go.status.success(),
        "go test failed:\n{}{}",
        String::from_utf8_lossy(&go.stdout),
        String::from_utf8_lossy(&go.stderr)
    );

    // TypeScript on Express.
    let (intent, files) = capsule_of(
        &server,
        json!({
            "description": "Create a Node.js Express service for library books",
            "requirements": ["Each book has a title, an author and a page count"],
            "tier": "standard",
        }),
    )
    .await;
    assert_eq!(stage(&intent, "generate")["plugin"], "qlp/template-node");
    let package = text(&files, "package.json");
    assert!(package.contains("\"express\""), "{package}");
    let sources: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("src/") && p.ends_with(".ts"))
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert!(
        sources.contains("/books"),
        "routes are named from the intent"
    );
    assert!(
        sources.contains("page_count"),
        "fields are named from the intent"
    );

    // A front-end, a static site, a Rust and a Java service, each by its
    // agent, with the resources and fields the intent names in its routes
    // and models (their own test suites run in the agents' crate tests,
    // which build them).
    for (body, agent, marker, names) in [
        (
            json!({
                "description": "Build a React dashboard for warehouse parcels with login",
                "requirements": ["Each parcel has a tracking code, a weight and a recipient"],
                "tier": "standard",
            }),
            "qlp/template-react",
            "vite.config.ts",
            ["parcels", "tracking_code"],
        ),
        (
            json!({
                "description": "A static landing page for a bakery with a contact form",
                "requirements": ["The page lists opening hours"],
                "tier": "standard",
            }),
            "qlp/template-static",
            "index.html",
            ["Bakery", "<form"],
        ),
        (
            json!({
                "description": "Create a Rust REST API for parking permits with PostgreSQL",
                "requirements": ["Each permit has a plate number, a zone and a valid until date"],
                "constraints": { "auth": "JWT" },
                "tier": "standard",
            }),
            "qlp/template-rust",
            "Cargo.toml",
            ["/permits", "plate_number"],
        ),
        (
            json!({
                "description": "A Java Spring Boot service for hotel reservations",
                "requirements": ["Each reservation has a guest name, a room number and a night count"],
                "constraints": { "database": "PostgreSQL" },
                "tier": "standard",
            }),
            "qlp/template-java",
            "pom.xml",
            ["/reservations", "guestName"],
        ),
    ] {
        let description = body["description"].clone();
        let (intent, files) = capsule_of(&server, body).await;
        assert_eq!(stage(&intent, "generate")["plugin"], agent, "{description}");
        assert!(
            files.contains_key(marker),
            "{description}: {:?}",
            files.keys()
        );
        let sources: String = files
            .values()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        for name in names {
            assert!(
                sources.contains(name),
                "{description}: `{name}` is not in the project"
            );
        }
    }

    // Python stays the default where the intent names no language.
    let (intent, files) = capsule_of(
        &server,
        json!({ "description": "A service for tracking invoices", "tier": "standard" }),
    )
    .await;
    assert_eq!(stage(&intent, "generate")["plugin"], "qlp/template-fastapi");
    assert!(files.contains_key("app/main.py"), "{:?}", files.keys());

    // Nothing serves COBOL: refused at once, naming what was detected and
    // what is served, and nothing is stored.
    let before = server.get_json("/v1/intents?limit=100").await["intents"]
        .as_array()
        .unwrap()
        .len();
    for tier in [Some("standard"), None] {
        let mut body = json!({ "description": "Payroll batch in COBOL on a mainframe" });
        if let Some(tier) = tier {
            body["tier"] = json!(tier);
        }
        let (status, answer) = server.post_json("/v1/intents", body).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["code"], "UNSUPPORTED_STACK", "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains("cobol"), "{message}");
        assert!(
            message.contains("go") && message.contains("python"),
            "{message}"
        );
    }
    let after = server.get_json("/v1/intents?limit=100").await["intents"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing was stored");

    // The analysis says which agent would run, or why none would.
    let (status, analysis) = server
        .post_json(
            "/v1/analyses",
            json!({ "description": "Create a Go service for parcels", "tier": "starter" }),
        )
        .await;
    assert_eq!(status, 200, "{analysis}");
    assert_eq!(
        analysis["agents"],
        json!(["qlp/template-go"]),
        "{analysis:#}"
    );
    let (_, analysis) = server
        .post_json(
            "/v1/analyses",
            json!({ "description": "A Rust CLI tool that renames photos" }),
        )
        .await;
    assert_eq!(
        analysis["unsupported"]["code"], "UNSUPPORTED_STACK",
        "{analysis:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infrastructure_intent_is_served_by_the_terraform_agent_alone() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let (intent, files) = capsule_of(
        &server,
        json!({
            "description": "Terraform for an AWS VPC 10.42.0.0/16 with three private subnets in eu-central-1",
            "tier": "standard",
        }),
    )
    .await;
    assert_eq!(
        stage(&intent, "generate")["plugin"],
        "qlp/terraform-aws",
        "{intent:#}"
    );
    // Terraform and nothing else: no application was generated.
    let paths: Vec<&String> = files.keys().collect();
    assert!(
        paths.iter().all(|p| p.starts_with("terraform/")),
        "{paths:?}"
    );
    let network = text(&files, "terraform/network.tf");
    assert!(network.contains("aws_vpc"), "{network}");
    let variables = text(&files, "terraform/variables.tf");
    assert!(variables.contains("10.42.0.0/16"), "{variables}");
    assert!(
        text(&files, "terraform/main.tf").contains("eu-central-1")
            || variables.contains("eu-central-1")
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_enterprise_tier_adds_compose_ci_and_kubernetes_to_the_stacks_project() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let (intent, files) = capsule_of(
        &server,
        json!({
            "description": "Create a Go service for warehouse inventory with PostgreSQL, deployed on Kubernetes at inventory.example.com",
            "tier": "enterprise",
        }),
    )
    .await;
    let generators: Vec<&str> = crate::support::stages(&intent, "generate")
        .iter()
        .map(|s| s["plugin"].as_str().unwrap_or_default())
        .collect();
    for agent in [
        "qlp/template-go",
        "qlp/compose",
        "qlp/ci-workflow",
        "qlp/k8s-manifests",
    ] {
        assert!(
            generators.contains(&agent),
            "{agent} did not run: {generators:?}"
        );
    }
    // The Go project, and around it what runs, tests and deploys it.
    assert!(files.contains_key("go.mod"), "{:?}", files.keys());
    let compose = text(&files, "compose.yaml");
    assert!(compose.contains("postgres"), "{compose}");
    let ci = text(&files, ".github/workflows/ci.yml");
    assert!(ci.contains("go test"), "{ci}");
    let ingress = text(&files, "k8s/ingress.yaml");
    assert!(ingress.contains("inventory.example.com"), "{ingress}");
    // No Terraform was asked for: that agent wrote nothing.
    assert!(!files.keys().any(|p| p.starts_with("terraform/")));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_asking_for_terraform_gets_its_stacks_agent_and_then_the_terraform_agent() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_default(data.path());
    let body = json!({
        "description": "A Go REST API for shipments on AWS with Terraform and PostgreSQL, on port 9090",
        "requirements": ["Each shipment has a tracking code, a destination and a weight"],
        "tier": "standard",
    });
    // Shown before submitting: both agents, the project's first.
    let (status, analysis) = server.post_json("/v1/analyses", body.clone()).await;
    assert_eq!(status, 200, "{analysis}");
    assert_eq!(
        analysis["agents"],
        json!(["qlp/template-go", "qlp/terraform-aws"]),
        "{analysis:#}"
    );
    let (intent, files) = capsule_of(&server, body).await;
    let generators: Vec<&str> = crate::support::stages(&intent, "generate")
        .iter()
        .map(|s| s["plugin"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        generators,
        ["qlp/template-go", "qlp/terraform-aws"],
        "{intent:#}"
    );
    // The Go service the intent asked for, with its resource…
    assert!(files.contains_key("go.mod"), "{:?}", files.keys());
    assert!(
        files
            .keys()
            .any(|p| p.ends_with(".go") && text(&files, p).contains("/shipments")),
        "{:?}",
        files.keys()
    );
    // …and the Terraform that runs it: the container service on the Go
    // project's port, and the PostgreSQL database the intent names.
    let tf: String = files
        .keys()
        .filter(|p| p.starts_with("terraform/") && p.ends_with(".tf"))
        .map(|p| text(&files, p))
        .collect();
    assert!(tf.contains("aws_ecs_service"), "{tf}");
    assert!(tf.contains("9090"), "{tf}");
    assert!(
        tf.contains("aws_db_instance") && tf.contains("postgres"),
        "{tf}"
    );
    server.stop();
}
