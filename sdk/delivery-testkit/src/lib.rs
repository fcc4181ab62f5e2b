//! What the tests of QLP's delivery adapters (`plugins/webhook`,
//! `plugins/github`, `plugins/gitlab`) share: a loopback HTTP server whose
//! answers a test writes as a closure and which records every request
//! ([`StandIn`]), artifacts built in memory ([`archives`]), the targets and
//! host options the server would pass ([`target`]), and the check for an
//! outside tool that skips a test locally but fails it under CI
//! ([`tool_available`]). A dev-dependency only: no plugin links it.

use std::io::Write;
use std::process::Command;

use qlp_sdk::delivery::DeliveryTarget;

pub mod archives;
mod server;

pub use server::{Recorded, Reply, StandIn, percent_decode};

/// A `DeliveryTarget` with the host's options (`qlp.delivery-key`,
/// `qlp.artifact-blake3` of `bytes`, `qlp.created-at`) and the test's own.
pub fn target(
    destination: &str,
    delivery_key: &str,
    bytes: &[u8],
    options: &[(&str, &str)],
) -> DeliveryTarget {
    let mut all = vec![
        ("qlp.delivery-key".to_string(), delivery_key.to_string()),
        ("qlp.artifact-blake3".to_string(), blake3_hex(bytes)),
        ("qlp.created-at".to_string(), "1700000000".to_string()),
    ];
    all.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    DeliveryTarget {
        destination: destination.into(),
        options: all,
    }
}

/// Lowercase hex of the blake3 digest of `bytes`, as the host passes it.
pub fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// An address with nothing listening: a port that was free a moment ago.
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Whether `command` runs and succeeds; when it does not, panics under CI
/// (`CI` set and not empty) and prints `SKIPPED: <what> is missing: <hint>`
/// elsewhere.
pub fn tool_available(mut command: Command, what: &str, hint: &str) -> bool {
    let ok = command.output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "{what} is missing under CI: {hint}"
        );
        // Straight to the process's stderr: the test harness would swallow
        // an eprintln! of a passing test.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {what} is missing: {hint}");
    }
    ok
}
