//! What `GET /metrics` tells a Prometheus server, in its text format
//! (version 0.0.4): counters and histograms kept in this process, gauges
//! read at each scrape.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `qlp_http_requests_total` | counter | `route` (the matched path template), `method`, `status` |
//! | `qlp_http_request_duration_seconds` | histogram | `route`, `method` |
//! | `qlp_intents_total` | counter | `tier`, `outcome` (`completed`, `failed`, `gate_failed`, …) |
//! | `qlp_gate_verdicts_total` | counter | `tier`, `decision` (`pass`, `fail`, `needs-review`) |
//! | `qlp_stage_duration_seconds` | histogram | `stage`, `plugin`, `outcome` |
//! | `qlp_plugin_call_duration_seconds` | histogram | `plugin`, `kind`, `outcome` (`returned`, or how the sandbox stopped it: `TIMEOUT`, `OUT_OF_FUEL`, `MEMORY_LIMIT`, `TRAP`…) |
//! | `qlp_plugin_call_fuel` | histogram | `plugin` (when fuel metering is on) |
//! | `qlp_plugin_call_peak_memory_bytes` | histogram | `plugin` |
//! | `qlp_webhook_deliveries_total` | counter | `outcome` (`delivered`, `failed`, `retrying`) |
//! | `qlp_queue_depth` | gauge | — intents waiting for a worker |
//! | `qlp_queue_oldest_age_seconds` | gauge | — how long the oldest of them has waited |
//! | `qlp_intents_running` | gauge | — intents a worker holds |
//! | `qlp_plugins_loaded` | gauge | — |
//! | `qlp_draining` | gauge | — 1 once a stop was asked for |
//!
//! Label values are bounded: routes are templates (`/v1/intents/{id}`),
//! plugins and tiers are what the operator installed, outcomes are codes.
//! A value is escaped as the format requires, so a plugin name cannot
//! forge a line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Bucket upper bounds for durations, in seconds: 1 ms to 2 min.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0,
];

/// Bucket upper bounds for peak memory, in bytes: 1 MiB to 1 GiB.
pub const MEMORY_BUCKETS: [f64; 8] = [
    1048576.0,
    4194304.0,
    16777216.0,
    33554432.0,
    67108864.0,
    134217728.0,
    268435456.0,
    1073741824.0,
];

/// Bucket upper bounds for fuel units: 1e4 to 1e10.
pub const FUEL_BUCKETS: [f64; 7] = [1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Default)]
struct Histogram {
    /// Observations at or under each bound, not cumulative.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// One metric family: its help, type and every labelled series.
#[derive(Debug)]
struct Family {
    help: &'static str,
    kind: Kind,
    counters: BTreeMap<Labels, u64>,
    histograms: BTreeMap<Labels, Histogram>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Histogram(&'static [f64]),
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    families: Mutex<BTreeMap<&'static str, Family>>,
}

/// The metrics of this process.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

impl Metrics {
    /// Adds one to the counter `name` with `pairs` as labels.
    pub fn inc(&self, name: &'static str, help: &'static str, pairs: &[(&'static str, &str)]) {
        self.add(name, help, pairs, 1);
    }

    /// Adds `n` to the counter `name` with `pairs` as labels.
    pub fn add(
        &self,
        name: &'static str,
        help: &'static str,
        pairs: &[(&'static str, &str)],
        n: u64,
    ) {
        let mut families = self.families.lock().expect("metrics lock");
        let family = families.entry(name).or_insert_with(|| Family {
            help,
            kind: Kind::Counter,
            counters: BTreeMap::new(),
            histograms: BTreeMap::new(),
        });
        *family.counters.entry(labels(pairs)).or_default() += n;
    }

    /// Records `value` in the histogram `name` with `pairs` as labels.
    pub fn observe(
        &self,
        name: &'static str,
        help: &'static str,
        buckets: &'static [f64],
        pairs: &[(&'static str, &str)],
        value: f64,
    ) {
        let mut families = self.families.lock().expect("metrics lock");
        let family = families.entry(name).or_insert_with(|| Family {
            help,
            kind: Kind::Histogram(buckets),
            counters: BTreeMap::new(),
            histograms: BTreeMap::new(),
        });
        let h = family.histograms.entry(labels(pairs)).or_default();
        if h.counts.is_empty() {
            h.counts = vec![0; buckets.len()];
        }
        if let Some(i) = buckets.iter().position(|b| value <= *b) {
            h.counts[i] += 1;
        }
        h.sum += value;
        h.count += 1;
    }

    /// Records a duration in seconds.
    pub fn observe_duration(
        &self,
        name: &'static str,
        help: &'static str,
        pairs: &[(&'static str, &str)],
        took: Duration,
    ) {
        self.observe(name, help, &DURATION_BUCKETS, pairs, took.as_secs_f64());
    }

    /// Every family in the text format, then `gauges` (name, help, value).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let families = self.families.lock().expect("metrics lock");
        let mut out = String::new();
        for (name, family) in families.iter() {
            let kind = match family.kind {
                Kind::Counter => "counter",
                Kind::Histogram(_) => "histogram",
            };
            let _ = writeln!(out, "# HELP {name} {}", family.help);
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, n) in &family.counters {
                let _ = writeln!(out, "{name}{} {n}", render_labels(labels, None));
            }
            if let Kind::Histogram(buckets) = family.kind {
                for (labels, h) in &family.histograms {
                    let mut cumulative = 0;
                    for (bound, n) in buckets.iter().zip(&h.counts) {
                        cumulative += n;
                        let le = format_float(*bound);
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {cumulative}",
                            render_labels(labels, Some(&le))
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {}",
                        render_labels(labels, Some("+Inf")),
                        h.count
                    );
                    let l = render_labels(labels, None);
                    let _ = writeln!(out, "{name}_sum{l} {}", format_float(h.sum));
                    let _ = writeln!(out, "{name}_count{l} {}", h.count);
                }
            }
        }
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", format_float(*value));
        }
        out
    }
}

fn format_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `{k="v",…}` with `le` last, values escaped (backslash, quote, newline);
/// empty when there are no labels.
fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Records one HTTP request.
pub fn http_request(route: &str, method: &str, status: u16, took: Duration) {
    let m = global();
    let status = status.to_string();
    m.inc(
        "qlp_http_requests_total",
        "HTTP requests answered, by route template, method and status.",
        &[("route", route), ("method", method), ("status", &status)],
    );
    m.observe_duration(
        "qlp_http_request_duration_seconds",
        "Time to answer an HTTP request (to its first byte for a stream).",
        &[("route", route), ("method", method)],
        took,
    );
}

/// Records one plugin call: its time, outcome, fuel and peak memory.
pub fn plugin_call(
    plugin: &str,
    kind: &str,
    outcome: &str,
    took: Duration,
    fuel: Option<u64>,
    peak_memory: u64,
) {
    let m = global();
    m.observe_duration(
        "qlp_plugin_call_duration_seconds",
        "Time of one plugin call, instantiation included, by plugin, kind and outcome (returned, or how the sandbox stopped it).",
        &[("plugin", plugin), ("kind", kind), ("outcome", outcome)],
        took,
    );
    m.observe(
        "qlp_plugin_call_peak_memory_bytes",
        "The most linear memory one plugin call held.",
        &MEMORY_BUCKETS,
        &[("plugin", plugin)],
        peak_memory as f64,
    );
    if let Some(fuel) = fuel {
        m.observe(
            "qlp_plugin_call_fuel",
            "Fuel one plugin call consumed (when fuel metering is on).",
            &FUEL_BUCKETS,
            &[("plugin", plugin)],
            fuel as f64,
        );
    }
}

/// Records one stage of an intent.
pub fn stage(stage: &str, plugin: &str, outcome: &str, took: Duration) {
    global().observe_duration(
        "qlp_stage_duration_seconds",
        "Time of one stage of an intent, by stage, plugin and outcome.",
        &[("stage", stage), ("plugin", plugin), ("outcome", outcome)],
        took,
    );
}

/// Records how an intent's run ended.
pub fn intent_finished(tier: &str, outcome: &str) {
    global().inc(
        "qlp_intents_total",
        "Intent runs that ended, by tier and outcome.",
        &[("tier", tier), ("outcome", outcome)],
    );
}

/// Records a quality gate's decision.
pub fn gate_verdict(tier: &str, decision: &str) {
    global().inc(
        "qlp_gate_verdicts_total",
        "Quality gate decisions, by tier and decision.",
        &[("tier", tier), ("decision", decision)],
    );
}

/// Records the tokens a stage spent on the model endpoint, by tenant.
pub fn llm_tokens(tenant: &str, plugin: &str, prompt: u64, completion: u64) {
    for (kind, n) in [("prompt", prompt), ("completion", completion)] {
        global().add(
            "qlp_llm_tokens_total",
            "Tokens spent on the model endpoint, by tenant, plugin and kind (prompt, completion).",
            &[("tenant", tenant), ("plugin", plugin), ("kind", kind)],
            n,
        );
    }
}

/// Records one webhook delivery attempt's outcome.
pub fn webhook_delivery(outcome: &str) {
    global().inc(
        "qlp_webhook_deliveries_total",
        "Webhook delivery attempts, by outcome (delivered, retrying, failed).",
        &[("outcome", outcome)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_the_text_format() {
        let m = Metrics::default();
        m.inc(
            "t_total",
            "Things.",
            &[("route", "/v1/intents/{id}"), ("status", "200")],
        );
        m.inc(
            "t_total",
            "Things.",
            &[("route", "/v1/intents/{id}"), ("status", "200")],
        );
        m.inc(
            "t_total",
            "Things.",
            &[("route", "a\"b\\c\nd"), ("status", "500")],
        );
        m.observe("t_seconds", "Time.", &[0.1, 1.0], &[("p", "x")], 0.05);
        m.observe("t_seconds", "Time.", &[0.1, 1.0], &[("p", "x")], 0.5);
        m.observe("t_seconds", "Time.", &[0.1, 1.0], &[("p", "x")], 5.0);
        let text = m.render(&[("t_depth", "Depth.", 3.0)]);
        let expected = "\
# HELP t_seconds Time.
# TYPE t_seconds histogram
t_seconds_bucket{p=\"x\",le=\"0.1\"} 1
t_seconds_bucket{p=\"x\",le=\"1\"} 2
t_seconds_bucket{p=\"x\",le=\"+Inf\"} 3
t_seconds_sum{p=\"x\"} 5.55
t_seconds_count{p=\"x\"} 3
# HELP t_total Things.
# TYPE t_total counter
t_total{route=\"/v1/intents/{id}\",status=\"200\"} 2
t_total{route=\"a\\\"b\\\\c\\nd\",status=\"500\"} 1
# HELP t_depth Depth.
# TYPE t_depth gauge
t_depth 3
";
        assert_eq!(text, expected);
    }
}
