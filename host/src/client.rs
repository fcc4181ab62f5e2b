//! `qlp submit` and `qlp plugin list`: a small client of the REST API.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// How often `--wait` polls the intent.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn check(resp: reqwest::Response) -> anyhow::Result<reqwest::Response> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        bail!(
            "{} {}: {}",
            status.as_u16(),
            body["code"].as_str().unwrap_or("ERROR"),
            body["message"].as_str().unwrap_or("(no message)")
        )
    }

    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
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
        let mut body = json!({ "description": description });
        if let Some(tier) = tier {
            body["tier"] = json!(tier);
        }
        let resp = self
            .http
            .post(format!("{}/v1/intents", self.base))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let v: Value = Self::check(resp).await?.json().await?;
        Ok(v["id"]
            .as_str()
            .context("the server returned no id")?
            .to_owned())
    }

    /// Polls until the intent finishes or waits for approval, printing each
    /// stage once it ends.
    pub async fn wait(&self, id: &str, timeout: Duration) -> anyhow::Result<Value> {
        let started = Instant::now();
        let mut printed = 0;
        loop {
            let intent = self.get_json(&format!("/v1/intents/{id}")).await?;
            let stages = intent["stages"].as_array().cloned().unwrap_or_default();
            for stage in stages.iter().skip(printed) {
                if stage["status"] == "running" {
                    break;
                }
                eprintln!(
                    "  {:<9} {:<24} {:<9} {:>6} ms{}",
                    stage["stage"].as_str().unwrap_or(""),
                    stage["plugin"].as_str().unwrap_or("-"),
                    stage["status"].as_str().unwrap_or(""),
                    stage["duration_ms"].as_i64().unwrap_or(0),
                    stage["error"]["message"]
                        .as_str()
                        .map(|m| format!("  {m}"))
                        .unwrap_or_default()
                );
                printed += 1;
            }
            if matches!(
                intent["status"].as_str(),
                Some(
                    "completed"
                        | "gate_failed"
                        | "failed"
                        | "rejected"
                        | "cancelled"
                        | "awaiting_approval"
                )
            ) {
                return Ok(intent);
            }
            if started.elapsed() > timeout {
                bail!("intent {id} did not finish within {timeout:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub async fn capsule(&self, id: &str) -> anyhow::Result<Value> {
        self.get_json(&format!("/v1/capsules/{id}")).await
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

    pub async fn plugins(&self) -> anyhow::Result<Value> {
        self.get_json("/v1/plugins").await
    }
}
