//! Logs and traces. Logs go to stderr (text or JSON lines, `QLP_LOG`
//! filters them); with an OTLP endpoint (`--otlp-endpoint`, or the
//! standard `OTEL_EXPORTER_OTLP_ENDPOINT`), the same spans are exported as
//! OpenTelemetry traces over OTLP/HTTP (JSON): one per request (with its
//! request id), per intent run, per stage and per plugin call (with the
//! plugin, outcome, fuel and peak memory).
//!
//! Traces cross process boundaries by W3C Trace Context: a request's
//! `traceparent` header makes its span a child of the caller's, and an
//! intent keeps the `traceparent` of the request that submitted it, so
//! its run, on whichever replica claims it, continues the same trace.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
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
        EXPORTING.store(true, std::sync::atomic::Ordering::Relaxed);
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

/// Whether traces are exported: only then is a trace context kept.
static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether traces are exported (an OTLP endpoint is configured).
pub fn exporting() -> bool {
    EXPORTING.load(std::sync::atomic::Ordering::Relaxed)
}

/// The header that carries a trace context (W3C Trace Context).
pub const TRACEPARENT: &str = "traceparent";

/// One header's value as the propagator reads and writes it.
struct Carrier<'a>(Option<&'a str>, Option<String>);

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0).flatten()
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

impl Injector for Carrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.1 = Some(value);
        }
    }
}

/// Makes `span` a child of the trace context `traceparent` names. A
/// malformed value, or one naming no valid trace, changes nothing.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    let cx = TraceContextPropagator::new().extract(&Carrier(Some(traceparent), None));
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The `traceparent` of the current span, when traces are exported.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = Carrier(None, None);
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_or_empty_traceparent_is_ignored() {
        for bad in [
            "",
            "00-00000000000000000000000000000000-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            let cx = TraceContextPropagator::new().extract(&Carrier(Some(bad), None));
            assert!(!cx.span().span_context().is_valid(), "{bad}");
            // And setting it as a parent is harmless.
            continue_trace(&tracing::Span::none(), bad);
        }
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cx = TraceContextPropagator::new().extract(&Carrier(Some(good), None));
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        // Without an exporter there is no context to pass on.
        assert_eq!(current_traceparent(), None);
    }
}
