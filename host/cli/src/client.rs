//! `qlp submit`, `qlp check`, `qlp plugin list` and the registry commands (`publish`,
//! `versions`, `fetch`, `yank`): a small client of the REST API.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use qlp_server::api::types::{
    Accepted, CapsuleView, ErrorBody, IntentView, KeyCreated, KeyList, NewKey, NewTenant,
    PackageDetail, PackageList, PackageVersion, PackageVersions, PluginList, PublishBody,
    SubmitIntent, TenantCreated, TenantList, TierList, YankState,
};
use qlp_server::policy::TenantPolicy;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How often `--wait` polls the intent.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

pub struct Client {
    base: String,
    http: reqwest::Client,
}

/// The API key `qlp` commands present: `QLP_API_KEY`, else the first
/// admin key a server keeps in its data directory (`QLP_DATA_DIR`, or
/// `.qlp`), when this user can read it.
pub fn api_key() -> Option<String> {
    if let Ok(key) = std::env::var("QLP_API_KEY")
        && !key.trim().is_empty()
    {
        return Some(key.trim().to_owned());
    }
    let data = std::env::var_os("QLP_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| qlp_server::server::default_data_dir().to_owned());
    let key = std::fs::read_to_string(data.join(qlp_server::auth::ADMIN_KEY_FILE)).ok()?;
    Some(key.trim().to_owned()).filter(|k| !k.is_empty())
}

impl Client {
    /// A client of the server at `base`, presenting [`api_key`].
    pub fn new(base: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key()
            && let Ok(mut value) = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
        {
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: qlp_runtime::tls::client_builder()
                .default_headers(headers)
                .build()
                .unwrap_or_default(),
        }
    }

    async fn check(resp: reqwest::Response) -> anyhow::Result<reqwest::Response> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        match resp.json::<ErrorBody>().await {
            Ok(body) => bail!("{} {}: {}", status.as_u16(), body.code, body.message),
            Err(_) => bail!("{} ERROR: (no message)", status.as_u16()),
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        Ok(Self::check(resp).await?.json().await?)
    }

    /// Submits an intent; returns its id.
    pub async fn submit(&self, description: &str, tier: Option<&str>) -> anyhow::Result<String> {
        let body = SubmitIntent {
            description: description.to_owned(),
            requirements: None,
            constraints: None,
            tier: tier.map(str::to_owned),
        };
        let resp = self
            .http
            .post(format!("{}/v1/intents", self.base))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let accepted: Accepted = Self::check(resp).await?.json().await?;
        Ok(accepted.id)
    }

    /// Follows the intent's event stream until it finishes or waits for
    /// approval, showing its progress on stderr, and returns the intent.
    /// A dropped stream is reopened; the server replays it from the start
    /// and events already shown are skipped.
    pub async fn wait(&self, id: &str, timeout: Duration) -> anyhow::Result<IntentView> {
        let expected = self.expected_calls(id).await;
        let mut progress = Progress::new(expected);
        let follow = async {
            loop {
                match self.follow(id, &mut progress).await {
                    Ok(true) => return self.get_json(&format!("/v1/intents/{id}")).await,
                    Ok(false) => {}
                    Err(e) => tracing::debug!(error = %e, "event stream broke; reopening"),
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        };
        let result = tokio::time::timeout(timeout, follow).await;
        progress.clear();
        result.map_err(|_| anyhow::anyhow!("intent {id} did not finish within {timeout:?}"))?
    }

    /// Reads one opening of the event stream; true once the intent ended
    /// or waits for approval.
    async fn follow(&self, id: &str, progress: &mut Progress) -> anyhow::Result<bool> {
        let resp = self
            .http
            .get(format!("{}/v1/intents/{id}/events", self.base))
            .header("accept", "text/event-stream")
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let mut resp = Self::check(resp).await?;
        let mut buffer = String::new();
        let mut event = SseEvent::default();
        while let Some(chunk) = resp.chunk().await? {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find('\n') {
                let line: String = buffer.drain(..=end).collect();
                let line = line.trim_end_matches(['\n', '\r']);
                if !line.is_empty() {
                    event.push(line);
                    continue;
                }
                let done = std::mem::take(&mut event);
                if progress.show(&done) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// About how many stage records a run of the intent makes, from its
    /// tier's graph: the bar's length. `None` when the tier is unknown.
    async fn expected_calls(&self, id: &str) -> Option<u64> {
        let intent: IntentView = self.get_json(&format!("/v1/intents/{id}")).await.ok()?;
        let tiers: TierList = self.get_json("/v1/tiers").await.ok()?;
        let tier = tiers
            .tiers
            .iter()
            .find(|t| t.name == intent.record.intent.tier)?;
        let plugins: u64 = tier
            .stages
            .iter()
            .map(|s| s["plugins"].as_array().map_or(0, |p| p.len() as u64))
            .sum();
        let planner = u64::from(tiers.planner.is_some());
        let delivery = u64::from(tier.delivery.is_some());
        // Plugins of the graph, the gate, the exporter, delivery.
        Some(planner + plugins + 2 + delivery)
    }
    pub async fn capsule(&self, id: &str) -> anyhow::Result<CapsuleView> {
        self.get_json(&format!("/v1/capsules/{id}")).await
    }

    /// Uploads a project archive to be checked under `tier`; returns the
    /// check's id.
    pub async fn submit_check(
        &self,
        archive: Vec<u8>,
        tier: Option<&str>,
        name: &str,
    ) -> anyhow::Result<String> {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("name", name);
        if let Some(tier) = tier {
            query.append_pair("tier", tier);
        }
        let resp = self
            .http
            .post(format!("{}/v1/checks?{}", self.base, query.finish()))
            .header(reqwest::header::CONTENT_TYPE, "application/gzip")
            .body(archive)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let accepted: Accepted = Self::check(resp).await?.json().await?;
        Ok(accepted.id)
    }

    /// The capsule's validation reports as a SARIF log.
    pub async fn sarif(&self, id: &str) -> anyhow::Result<Value> {
        self.get_json(&format!("/v1/capsules/{id}/sarif")).await
    }

    /// Downloads the capsule's artifact into `out`.
    pub async fn download(&self, id: &str, out: &Path) -> anyhow::Result<u64> {
        let resp = self
            .http
            .get(format!("{}/v1/capsules/{id}/download", self.base))
            .send()
            .await?;
        let bytes = Self::check(resp).await?.bytes().await?;
        std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
        Ok(bytes.len() as u64)
    }

    pub async fn plugins(&self) -> anyhow::Result<PluginList> {
        self.get_json("/v1/plugins").await
    }

    // --- Tenants and API keys (admin) --------------------------------------

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
    ) -> anyhow::Result<Option<T>> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        let resp = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let resp = Self::check(resp).await?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        Ok(Some(resp.json().await?))
    }

    pub async fn create_tenant(&self, id: &str) -> anyhow::Result<TenantCreated> {
        let body = NewTenant { id: id.to_owned() };
        let answer = self
            .send_json(reqwest::Method::POST, "/v1/tenants", Some(&body))
            .await?;
        answer.context("the server answered nothing")
    }

    pub async fn tenants(&self) -> anyhow::Result<TenantList> {
        self.get_json("/v1/tenants").await
    }

    /// A tenant's policy; with `set`, replaces it first.
    /// `set` is sent as given: the server says what in it is wrong.
    pub async fn tenant_policy(
        &self,
        tenant: &str,
        set: Option<&Value>,
    ) -> anyhow::Result<TenantPolicy> {
        let path = format!("/v1/tenants/{tenant}/policy");
        match set {
            None => self.get_json(&path).await,
            Some(policy) => self
                .send_json(reqwest::Method::PUT, &path, Some(policy))
                .await?
                .context("the server answered nothing"),
        }
    }

    /// Makes an API key; the answer holds the key, shown this once.
    pub async fn create_key(
        &self,
        tenant: &str,
        name: &str,
        roles: &[String],
        expires_in: Option<&str>,
    ) -> anyhow::Result<KeyCreated> {
        let body = NewKey {
            tenant: tenant.to_owned(),
            name: name.to_owned(),
            roles: roles.to_vec(),
            expires_in: expires_in.map(str::to_owned),
        };
        let answer = self
            .send_json(reqwest::Method::POST, "/v1/keys", Some(&body))
            .await?;
        answer.context("the server answered nothing")
    }

    pub async fn keys(&self, tenant: Option<&str>) -> anyhow::Result<KeyList> {
        match tenant {
            Some(t) => self.get_json(&format!("/v1/keys?tenant={t}")).await,
            None => self.get_json("/v1/keys").await,
        }
    }

    pub async fn revoke_key(&self, id: &str) -> anyhow::Result<()> {
        self.send_json::<Value>(
            reqwest::Method::DELETE,
            &format!("/v1/keys/{id}"),
            None::<&()>,
        )
        .await?;
        Ok(())
    }

    // --- The registry -----------------------------------------------------

    /// Publishes a signed package; returns the entry and whether it was
    /// already published with the same content.
    pub async fn publish(
        &self,
        package: &qlp_registry::package::Package,
        token: &str,
    ) -> anyhow::Result<(PackageVersion, bool)> {
        use base64::Engine;
        let body = PublishBody {
            component: base64::engine::general_purpose::STANDARD.encode(&package.component),
            manifest: serde_json::from_slice(&package.manifest)?,
            signatures: serde_json::from_slice(&package.signatures)?,
        };
        let resp = self
            .http
            .post(format!("{}/v1/registry/packages", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let resp = Self::check(resp).await?;
        let replay = resp.status() == reqwest::StatusCode::OK;
        Ok((resp.json().await?, replay))
    }

    /// Packages of the registry, optionally of one kind and whose name
    /// contains `query`.
    pub async fn registry_packages(
        &self,
        kind: Option<&str>,
        query: Option<&str>,
    ) -> anyhow::Result<PackageList> {
        let mut url = reqwest::Url::parse(&format!("{}/v1/registry/packages", self.base))?;
        if let Some(kind) = kind {
            url.query_pairs_mut().append_pair("kind", kind);
        }
        if let Some(q) = query {
            url.query_pairs_mut().append_pair("q", q);
        }
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        Ok(Self::check(resp).await?.json().await?)
    }

    /// Every version of `name`.
    pub async fn versions(&self, name: &str) -> anyhow::Result<PackageVersions> {
        self.get_json(&format!("/v1/registry/packages/{name}"))
            .await
    }

    /// `name@version`'s manifest, signatures and component.
    pub async fn fetch(
        &self,
        name: &str,
        version: &str,
    ) -> anyhow::Result<(PackageDetail, Vec<u8>)> {
        let meta = self
            .get_json(&format!("/v1/registry/packages/{name}/{version}"))
            .await?;
        let resp = self
            .http
            .get(format!(
                "{}/v1/registry/packages/{name}/{version}/component",
                self.base
            ))
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let bytes = Self::check(resp).await?.bytes().await?;
        Ok((meta, bytes.to_vec()))
    }

    /// Yanks `name@version`, or unyanks it with `undo`.
    pub async fn yank(
        &self,
        name: &str,
        version: &str,
        undo: bool,
        token: &str,
    ) -> anyhow::Result<YankState> {
        let action = if undo { "unyank" } else { "yank" };
        let resp = self
            .http
            .post(format!(
                "{}/v1/registry/packages/{name}/{version}/{action}",
                self.base
            ))
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        Ok(Self::check(resp).await?.json().await?)
    }
}

/// One server-sent event as read off the stream.
#[derive(Debug, Default)]
struct SseEvent {
    event: String,
    id: String,
    data: String,
}

impl SseEvent {
    fn push(&mut self, line: &str) {
        if line.starts_with(':') {
            return; // a comment: the server's keep-alive
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_owned(),
            "id" => self.id = value.to_owned(),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            _ => {}
        }
    }
}

/// What `--wait` shows: a line per finished stage, and on a terminal a
/// progress bar of finished stages over the tier's expected count with the
/// stages running now.
struct Progress {
    expected: Option<u64>,
    finished: u64,
    running: std::collections::BTreeMap<i64, (String, Instant)>,
    seen: std::collections::HashSet<String>,
    terminal: bool,
    drawn: bool,
}

impl Progress {
    fn new(expected: Option<u64>) -> Self {
        use std::io::IsTerminal;
        Self {
            expected,
            finished: 0,
            running: Default::default(),
            seen: Default::default(),
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Shows one event; true when it says the wait is over.
    fn show(&mut self, event: &SseEvent) -> bool {
        if event.event.is_empty() {
            return false;
        }
        // A reopened stream replays what was shown already.
        if !event.id.is_empty() && !self.seen.insert(event.id.clone()) {
            return false;
        }
        let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
        match event.event.as_str() {
            "stage.started" => {
                let label = format!(
                    "{} {}",
                    data["stage"].as_str().unwrap_or(""),
                    data["plugin"].as_str().unwrap_or("")
                );
                self.running
                    .insert(data["seq"].as_i64().unwrap_or(0), (label, Instant::now()));
            }
            "stage.finished" | "gate" => {
                self.running.remove(&data["seq"].as_i64().unwrap_or(0));
                self.finished += 1;
                self.line(&stage_line(&data));
            }
            "iteration" => {
                let round = data["iteration"].as_u64().unwrap_or(0);
                if let Some(expected) = &mut self.expected {
                    // A repair round runs the graph and the gate again.
                    *expected += (*expected).saturating_sub(self.finished).max(1);
                }
                self.line(&format!("  -- repair round {round}"));
            }
            "status" => {
                let status = data["status"].as_str().unwrap_or("");
                return matches!(
                    status,
                    "completed"
                        | "gate_failed"
                        | "failed"
                        | "rejected"
                        | "cancelled"
                        | "awaiting_approval"
                );
            }
            _ => {}
        }
        self.draw();
        false
    }

    /// Prints a line above the bar.
    fn line(&mut self, text: &str) {
        self.clear();
        eprintln!("{text}");
    }

    fn draw(&mut self) {
        if !self.terminal {
            return;
        }
        const WIDTH: u64 = 24;
        let (bar, count) = match self.expected {
            Some(expected) => {
                let total = expected.max(self.finished).max(1);
                let filled = (self.finished * WIDTH / total) as usize;
                (
                    format!(
                        "{}{}",
                        "#".repeat(filled),
                        ".".repeat(WIDTH as usize - filled)
                    ),
                    format!("{}/{total}", self.finished),
                )
            }
            None => (".".repeat(WIDTH as usize), format!("{}", self.finished)),
        };
        let now: Vec<String> = self
            .running
            .values()
            .map(|(label, since)| format!("{label} {:.1}s", since.elapsed().as_secs_f64()))
            .collect();
        eprint!("\r\x1b[2K[{bar}] {count}  {}", now.join(", "));
        self.drawn = true;
    }

    /// Removes the bar, if drawn.
    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

/// A finished stage as a line: name, plugin, status, time, error.
fn stage_line(stage: &Value) -> String {
    let mark = match stage["status"].as_str() {
        Some("succeeded") => "ok",
        Some("skipped") => "--",
        _ => "!!",
    };
    format!(
        "  {mark} {:<10} {:<24} {:<11} {:>6} ms{}",
        stage["stage"].as_str().unwrap_or(""),
        stage["plugin"].as_str().unwrap_or("-"),
        stage["status"].as_str().unwrap_or(""),
        stage["duration_ms"].as_i64().unwrap_or(0),
        stage["error"]["message"]
            .as_str()
            .map(|m| format!("  {m}"))
            .unwrap_or_default()
    )
}
