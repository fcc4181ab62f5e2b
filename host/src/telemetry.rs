//! Logs and traces. Logs go to stderr (text or JSON lines, `QLP_LOG`
//! filters them); with an OTLP endpoint (`--otlp-endpoint`, or the
//! standard `OTEL_EXPORTER_OTLP_ENDPOINT`), the same spans are exported as
//! OpenTelemetry traces over OTLP/HTTP (JSON): one per request (with its
//! request id), per intent run, per stage and per plugin call (with the
//! plugin, outcome, fuel and peak memory).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Keeps the trace exporter running; dropping it sends what is buffered.
pub struct Guard(Option<SdkTracerProvider>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            // The exporter's blocking HTTP client must not be shut down on
            // an async runtime's thread.
            let _ = std::thread::spawn(move || provider.shutdown()).join();
        }
    }
}

/// The service name traces carry: `OTEL_SERVICE_NAME`, else `qlp`.
fn service_name() -> String {
    std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "qlp".into())
}

/// Installs the subscriber: the log lines of `format` and, when `otlp` is
/// an endpoint (`http://collector:4318`), the trace exporter to its
/// `/v1/traces`.
pub fn init(format: LogFormat, otlp: Option<&str>) -> anyhow::Result<Guard> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QLP_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,qlp=info,tower_http=warn,sqlx=warn")
    });
    let provider = match otlp.filter(|e| !e.is_empty()) {
        Some(endpoint) => Some(provider(endpoint)?),
        None => None,
    };
    let traces = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("qlp")));
    let (pretty, json) = match format {
        LogFormat::Pretty => (
            Some(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            ),
        ),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(pretty)
        .with(json)
        .with(traces)
        .init();
    if let Some(endpoint) = otlp.filter(|e| !e.is_empty()) {
        tracing::info!(endpoint, service = %service_name(), "exporting traces over OTLP");
    }
    Ok(Guard(provider))
}

fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url)
        .with_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot export traces to {endpoint}: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
