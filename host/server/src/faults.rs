//! Crash points for fault-injection tests: named places in the server
//! where, when the operator (or a test) asks through `QLP_FAULTS`, the
//! process aborts on the spot, as a power cut or `kill -9` would stop it
//! there. They make the narrow windows that random kills rarely hit (after
//! a delivery adapter wrote but before the host recorded it; after an
//! intent was stored but before the client heard of it) reachable on
//! purpose, so the tests of crash recovery can aim at them.
//!
//! `QLP_FAULTS=POINT:N[,POINT:N…]` aborts at the Nth time the process
//! reaches `POINT` (counted from its start). Unset, a check reads a value
//! set once and does nothing else.
//!
//! The points: `submit` (an intent is committed, its 202 not yet sent),
//! `commit:<stage>` (a stage's plugin call returned, its record and output
//! not yet committed; `commit:deliver` is after the adapter delivered),
//! `recorded:<stage>` (committed, the next step not begun).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::OnceLock;

/// The environment variable naming the crash points.
pub const ENV: &str = "QLP_FAULTS";

struct Faults {
    /// Point → (hits so far, the hit that aborts).
    points: Mutex<HashMap<String, (u64, u64)>>,
}

fn faults() -> Option<&'static Faults> {
    static FAULTS: OnceLock<Option<Faults>> = OnceLock::new();
    FAULTS
        .get_or_init(|| {
            let spec = std::env::var(ENV).ok()?;
            let points = parse(&spec);
            if points.is_empty() {
                return None;
            }
            tracing::warn!(faults = %spec, "crash points armed: this process will abort on purpose");
            Some(Faults {
                points: Mutex::new(points.into_iter().map(|(p, n)| (p, (0, n))).collect()),
            })
        })
        .as_ref()
}

/// `POINT:N` pairs; malformed entries are ignored.
fn parse(spec: &str) -> Vec<(String, u64)> {
    spec.split(',')
        .filter_map(|entry| {
            let (point, n) = entry.trim().rsplit_once(':')?;
            let n: u64 = n.parse().ok().filter(|&n| n > 0)?;
            (!point.is_empty()).then(|| (point.to_owned(), n))
        })
        .collect()
}

/// Passes the point `kind` (`kind:name` when `name` is not empty); aborts
/// the process if this is the hit it was armed for.
pub fn point(kind: &str, name: &str) {
    let Some(faults) = faults() else { return };
    let point = if name.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}:{name}")
    };
    let mut points = faults.points.lock().expect("never poisoned");
    if let Some((hits, at)) = points.get_mut(&point) {
        *hits += 1;
        if *hits == *at {
            eprintln!("qlp: crash point `{point}` reached (hit {at}); aborting");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_points_and_their_hit_counts() {
        assert_eq!(
            parse("commit:deliver:2, submit:1,bad,zero:0,:3"),
            [("commit:deliver".to_owned(), 2), ("submit".to_owned(), 1)]
        );
    }
}
