//! Whether a plugin built against one `qlp:plugin` WIT version runs on a host
//! serving another.
//!
//! The rules follow semver for interfaces: a released WIT version is frozen,
//! patch releases change nothing a component can see, and a minor release
//! only adds. So:
//!
//! - `0.x`: only the same minor (`0.1.x` runs on `0.1.y`, for any `x`, `y`);
//!   in `0.x` a minor is allowed to break.
//! - `1.x` and later: the same major, and a plugin minor no newer than the
//!   host's (a `1.2` plugin runs on a `1.3` host, not the other way round).
//! - A pre-release (`0.2.0-draft`) runs only on exactly that version.

use semver::Version;

use crate::{Error, Result};

/// Checks that a plugin targeting `qlp:plugin@{plugin}` may run on a host
/// serving `qlp:plugin@{host}`; the error names both versions and the rule.
pub fn check_wit(plugin: &Version, host: &Version) -> Result<()> {
    let refuse = |rule| {
        Err(Error::WitIncompatible {
            plugin: plugin.clone(),
            host: host.clone(),
            rule,
        })
    };
    let same_release =
        (plugin.major, plugin.minor, plugin.patch) == (host.major, host.minor, host.patch);
    if !plugin.pre.is_empty() || !host.pre.is_empty() {
        return if same_release && plugin.pre == host.pre {
            Ok(())
        } else {
            refuse("a pre-release contract runs only on exactly that version")
        };
    }
    if plugin.major != host.major {
        return refuse("a different major version is a different contract");
    }
    if plugin.major == 0 {
        if plugin.minor != host.minor {
            return refuse("before 1.0 each minor version is a different contract");
        }
    } else if plugin.minor > host.minor {
        return refuse("the plugin needs a newer minor version than the host serves");
    }
    Ok(())
}

/// [`check_wit`] against a host serving every version in `served`: the
/// plugin runs if one of them takes it; otherwise the error names the
/// newest.
pub fn check_wit_served(plugin: &Version, served: &[Version]) -> Result<()> {
    let mut refusal = None;
    for host in served {
        match check_wit(plugin, host) {
            Ok(()) => return Ok(()),
            Err(e) => refusal = Some(e),
        }
    }
    refusal.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(plugin: &str, host: &str) -> Result<()> {
        check_wit(&plugin.parse().unwrap(), &host.parse().unwrap())
    }

    #[test]
    fn zero_x_runs_within_its_minor() {
        for (plugin, host) in [("0.1.0", "0.1.0"), ("0.1.0", "0.1.9"), ("0.1.7", "0.1.2")] {
            check(plugin, host).unwrap();
        }
    }

    #[test]
    fn other_minors_and_majors_are_refused_with_both_versions() {
        for (plugin, host) in [
            ("0.2.0", "0.1.0"),
            ("0.1.0", "0.2.0"),
            ("1.0.0", "0.1.0"),
            ("0.1.0", "1.0.0"),
            ("2.0.0", "1.9.0"),
            ("1.3.0", "1.2.0"),
            ("0.2.0-draft", "0.2.0"),
            ("0.2.0", "0.2.0-draft"),
        ] {
            let err = check(plugin, host).unwrap_err();
            assert_eq!(err.code(), "WIT_INCOMPATIBLE");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("qlp:plugin@{plugin}"))
                    && msg.contains(&format!("qlp:plugin@{host}")),
                "{msg}"
            );
        }
    }

    #[test]
    fn after_one_zero_older_minors_run_on_newer_hosts() {
        check("1.2.0", "1.3.4").unwrap();
        check("1.3.1", "1.3.0").unwrap();
        check("0.2.0-draft", "0.2.0-draft").unwrap();
    }

    #[test]
    fn a_host_serving_two_contracts_takes_either_and_names_the_newest_when_refusing() {
        let served: Vec<Version> = ["0.1.0", "0.2.0"].map(|v| v.parse().unwrap()).into();
        for plugin in ["0.1.3", "0.2.0"] {
            check_wit_served(&plugin.parse().unwrap(), &served).unwrap();
        }
        let err = check_wit_served(&"0.3.0".parse().unwrap(), &served).unwrap_err();
        assert!(err.to_string().contains("qlp:plugin@0.2.0"), "{err}");
    }
}
