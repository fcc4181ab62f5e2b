//! Tests of `qlp/container`: clean Dockerfiles and manifests stay silent,
//! each rule finds its planted problem at the right line, the YAML reader
//! keeps structure and lines, and suppressions are counted.

use super::*;
use qlp_sdk::Severity;

fn hits(path: &str, text: &str) -> Vec<(&'static str, u32)> {
    scan_text(path, text)
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h.rule.id, h.line))
        .collect()
}

const CLEAN_DOCKERFILE: &str = "\
# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
ARG APP_VERSION=1.0
WORKDIR /src
COPY requirements.txt .
RUN pip install --prefix=/install -r requirements.txt

FROM python:3.12-slim@sha256:2f3ae1b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2
COPY --from=build /install /usr/local
COPY .env.example /srv/.env.example
RUN useradd --uid 10001 app
USER app
ENV PORT=8000 \\
    LOG_LEVEL=info
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tgz /opt/
HEALTHCHECK CMD [\"python\", \"-c\", \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')\"]
CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\"]
";

const CLEAN_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: invoices
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: invoices}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: api
          image: registry.example.com/invoices:1.4.2  # pinned
          ports: [8000]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits:
              cpu: 500m
              memory: 256Mi
          readinessProbe:
            httpGet: {path: /health, port: 8000}
          livenessProbe:
            httpGet: {path: /health, port: 8000}
      volumes:
      - name: tmp
        emptyDir: {}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cleanup
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: cleanup
            image: registry.example.com/cleanup:2.0.0
            securityContext:
              runAsUser: 1000
            resources:
              limits:
                memory: 64Mi
---
apiVersion: v1
kind: Service
metadata:
  name: invoices
spec:
  ports:
  - port: 80
";

#[test]
fn clean_dockerfiles_and_manifests_have_no_findings() {
    let report = check(&[
        File::text("Dockerfile", CLEAN_DOCKERFILE),
        File::text("deploy/k8s/app.yaml", CLEAN_DEPLOYMENT),
        File::text(
            "docker-compose.yml",
            "services:\n  app:\n    image: app:latest\n",
        ),
        File::text(".github/workflows/ci.yml", "on: push\njobs: {}\n"),
    ]);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(report.summary, "2 files read: no findings");
}

#[test]
fn every_dockerfile_rule_finds_its_planted_problem() {
    let text = "\
FROM node:latest AS build
ARG NPM_TOKEN
COPY .npmrc package.json ./
RUN npm ci

FROM nginx
ENV DB_PASSWORD=hunter2hunter2
ENV API_TOKEN ${API_TOKEN}
ADD https://example.com/install.sh /tmp/
COPY --from=build /app/dist /usr/share/nginx/html
USER root
";
    assert_eq!(
        hits("web/Dockerfile", text),
        [
            ("container/unpinned-base-image", 1),
            ("container/secret-in-image", 2),
            ("container/secret-in-image", 3),
            ("container/missing-healthcheck", 6),
            ("container/unpinned-base-image", 6),
            ("container/secret-in-image", 7),
            ("container/secret-in-image", 8),
            ("container/add-remote-url", 9),
            ("container/root-user", 11),
        ]
    );
    let found = scan_text("web/Dockerfile", text).unwrap();
    let arg = found.iter().find(|h| h.line == 2).unwrap();
    assert_eq!(arg.rule.severity, Severity::Medium);
    assert!(arg.message.contains("`ARG NPM_TOKEN`"), "{}", arg.message);
    let base = found
        .iter()
        .find(|h| h.line == 6 && h.rule.id.ends_with("base-image"))
        .unwrap();
    assert!(
        base.message.contains("`nginx` has no tag"),
        "{}",
        base.message
    );
}

#[test]
fn a_final_stage_without_user_runs_as_root_even_if_an_earlier_stage_had_one() {
    let text = "FROM golang:1.22 AS build\nUSER builder\nRUN go build\n\nFROM debian:12-slim\nCOPY --from=build /out /app\nHEALTHCHECK NONE\n";
    assert_eq!(hits("Dockerfile", text), [("container/root-user", 5)]);
}

#[test]
fn dockerfile_instructions_join_continuations_and_skip_comments() {
    let ins = dockerfile::instructions("# c\nRUN a \\\n  # inner comment\n  && b\nenv X=1\n");
    let got: Vec<(&str, &str, u32)> = ins
        .iter()
        .map(|i| (i.keyword.as_str(), i.args.as_str(), i.line))
        .collect();
    assert_eq!(got, [("RUN", "a && b", 2), ("ENV", "X=1", 5)]);
}

#[test]
fn every_kubernetes_rule_finds_its_planted_problem() {
    let text = "\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: agent
        image: agent:1.0
        securityContext:
          privileged: true
      - name: sidecar
        image: sidecar:1.0
        securityContext:
          runAsNonRoot: true
        resources:
          limits:
            cpu: 100m
        readinessProbe: {exec: {command: [true]}}
        livenessProbe: {exec: {command: [true]}}
      initContainers:
      - name: setup
        image: setup:1.0
        securityContext:
          runAsUser: 0
          runAsNonRoot: true
        resources:
          limits: {memory: 32Mi}
      volumes:
      - name: docker
        hostPath:
          path: /var/run/docker.sock
";
    assert_eq!(
        hits("deploy/agent.yml", text),
        [
            ("container/k8s-host-namespace", 8),
            ("container/k8s-missing-limits", 10),
            ("container/k8s-missing-probes", 10),
            ("container/k8s-run-as-root", 10),
            ("container/k8s-privileged", 13),
            ("container/k8s-missing-limits", 14),
            ("container/k8s-run-as-root", 24),
            ("container/k8s-host-path", 33),
        ]
    );
    let found = scan_text("deploy/agent.yml", text).unwrap();
    let mount = found.iter().find(|h| h.line == 33).unwrap();
    assert!(
        mount.message.contains("`/var/run/docker.sock`"),
        "{}",
        mount.message
    );
    let limits = found.iter().find(|h| h.line == 14).unwrap();
    assert!(
        limits.message.contains("has no memory limit"),
        "{}",
        limits.message
    );
}

#[test]
fn suppressions_and_the_healthcheck_exemption_are_counted() {
    let dockerfile = "\
# qlp-ignore: container/missing-healthcheck the Kubernetes probes check /health
FROM gcr.io/distroless/static-debian12:nonroot
USER nonroot
";
    let manifest = "\
apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  # qlp-ignore: k8s-missing-probes a one-off debugging pod
  - name: shell
    image: busybox:1.36
    resources: {limits: {memory: 16Mi}}
";
    let report = check(&[
        File::text("Dockerfile", dockerfile),
        File::text("debug-pod.yaml", manifest),
    ]);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        report.summary,
        "2 files read: no findings; 2 suppressed (container/k8s-missing-probes 1, container/missing-healthcheck 1)"
    );
}

#[test]
fn score_and_summary() {
    let report = check(&[File::text(
        "Dockerfile",
        "FROM alpine:3.20\nUSER 0:0\nHEALTHCHECK NONE\n",
    )]);
    assert_eq!(report.score, 80);
    assert_eq!(report.summary, "1 file read: 1 finding: 1 high");
    assert_eq!(
        check(&[]).summary,
        "no Dockerfile or Kubernetes manifest found"
    );
}

#[test]
fn every_rule_id_is_documented() {
    let docs = include_str!("lib.rs");
    for id in rules::RULE_IDS {
        assert!(docs.contains(&format!("| `{id}` |")), "{id}");
    }
}

#[test]
fn describe_names_the_plugin() {
    let info = Container::describe();
    assert_eq!(info.name, "qlp/container");
    assert!(matches!(info.kind, PluginKind::Validator));
}

#[test]
fn a_five_thousand_line_manifest_set_is_checked_quickly() {
    let docs: Vec<&str> = std::iter::repeat_n(CLEAN_DEPLOYMENT, 100).collect();
    let text = docs.join("---\n");
    let lines = text.lines().count();
    let files = [
        File::text("deploy/all.yaml", text),
        File::text("Dockerfile", CLEAN_DOCKERFILE),
    ];
    let start = std::time::Instant::now();
    let report = check(&files);
    println!(
        "qlp/container checked {lines} manifest lines in {:.2} ms (native, this build profile)",
        start.elapsed().as_secs_f64() * 1e3
    );
    assert!(report.findings.is_empty(), "{}", report.summary);
}

/// Every prefix of `text` (at char boundaries, every `step` bytes), and
/// `text` with one troublesome character inserted at each of those points:
/// the truncated and half-edited files a validator must survive, since a
/// panic inside the component is a trap that fails the stage.
fn mangled(text: &str, step: usize) -> Vec<String> {
    const INSERTS: [&str; 13] = [
        "\"", "'", "`", "(", ")", "[", "{", "}", "\\", "/*", "#", "é\n", "- ",
    ];
    let mut out = Vec::new();
    let cuts = (0..=text.len())
        .step_by(step)
        .filter(|i| text.is_char_boundary(*i));
    for (n, cut) in cuts.enumerate() {
        out.push(text[..cut].to_string());
        let insert = INSERTS[n % INSERTS.len()];
        out.push(format!("{}{insert}{}", &text[..cut], &text[cut..]));
    }
    out
}

#[test]
fn truncated_and_mangled_files_never_panic() {
    let mut checked = 0;
    for (path, sample) in [
        ("Dockerfile", CLEAN_DOCKERFILE),
        ("k8s.yaml", CLEAN_DEPLOYMENT),
    ] {
        for text in mangled(sample, 2) {
            let _ = scan_text(path, &text);
            let _ = yaml::documents(&text);
            checked += 1;
        }
    }
    assert!(checked > 1_000, "{checked}");
}
