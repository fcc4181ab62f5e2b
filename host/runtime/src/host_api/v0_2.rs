//! `qlp:plugin@0.2.0`'s imported interfaces, on the capabilities written
//! once in the parent module: each answer's error is the typed
//! `host-error`. New in 0.2: `secrets` (apart from `config`),
//! `remaining-time`, and the `capsule` resource a plugin reads one file at
//! a time.

use std::time::Instant;

use wasmtime::component::Resource;

use super::State;
use crate::bindings::LogLevel as LogLevel0_1;
use crate::bindings::v0_2::{LogLevel, agent, delivery, wit};
use crate::host_error::HostError;
use qlp_contract::bindings::v0_2::Capsule;

use agent::qlp::plugin::{host, http, secrets, types};

impl From<HostError> for wit::HostError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::NotGranted(m) => Self::NotGranted(m),
            HostError::LimitExceeded(m) => Self::LimitExceeded(m),
            HostError::InvalidInput(m) => Self::InvalidInput(m),
            HostError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

impl host::Host for State {
    fn log(&mut self, level: LogLevel, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            LogLevel::Trace => LogLevel0_1::Trace,
            LogLevel::Debug => LogLevel0_1::Debug,
            LogLevel::Info => LogLevel0_1::Info,
            LogLevel::Warn => LogLevel0_1::Warn,
            LogLevel::Error => LogLevel0_1::Error,
        };
        self.log_line(level, &message, &fields);
    }

    /// The operator's configuration alone: secrets are `secrets.get`'s.
    fn config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    fn remaining_time(&mut self) -> u64 {
        self.deadline
            .saturating_duration_since(Instant::now())
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

impl secrets::Host for State {
    fn get(&mut self, key: String) -> Result<String, wit::HostError> {
        self.secrets.get(&key).cloned().ok_or_else(|| {
            wit::HostError::NotGranted(format!(
                "capability not granted: no secret `{}` was declared and granted",
                super::sanitize(&key, 128)
            ))
        })
    }
}

impl http::Host for State {
    fn fetch(&mut self, request: http::Request) -> Result<http::Response, wit::HostError> {
        let request = crate::http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        self.http_fetch(request)
            .map(|r| http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(Into::into)
    }
}

impl delivery::qlp::plugin::workspace::Host for State {
    fn write_file(&mut self, path: String, contents: Vec<u8>) -> Result<(), wit::HostError> {
        self.workspace_write(path, contents).map_err(Into::into)
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, wit::HostError> {
        self.workspace_read(path).map_err(Into::into)
    }

    fn exists(&mut self, path: String) -> Result<bool, wit::HostError> {
        self.workspace_exists(path).map_err(Into::into)
    }
}

impl types::Host for State {}

impl State {
    fn capsule(&self, handle: &Resource<Capsule>) -> &Capsule {
        // The host made the handle for this call and keeps it until the
        // call ends: a plugin can name no other.
        self.table
            .get(handle)
            .expect("the capsule lives as long as its call")
    }
}

impl types::HostCapsule for State {
    fn intent(&mut self, capsule: Resource<Capsule>) -> wit::Intent {
        (&self.capsule(&capsule).view().intent).into()
    }

    fn files(&mut self, capsule: Resource<Capsule>) -> Vec<wit::FileEntry> {
        self.capsule(&capsule).entries()
    }

    fn read(
        &mut self,
        capsule: Resource<Capsule>,
        path: String,
    ) -> Result<Vec<u8>, wit::HostError> {
        let Some(file) = self.capsule(&capsule).view().file(&path) else {
            return Err(wit::HostError::InvalidInput(format!(
                "the capsule holds no file `{}`",
                super::sanitize(&path, 256)
            )));
        };
        let read = self.capsule_read + file.content.len();
        if read > self.max_input {
            return Err(wit::HostError::LimitExceeded(format!(
                "reading `{}` would take the call past its input limit of {} bytes",
                super::sanitize(&path, 256),
                self.max_input
            )));
        }
        let content = file.content.clone();
        self.capsule_read = read;
        Ok(content)
    }

    fn analyses(&mut self, capsule: Resource<Capsule>) -> Vec<wit::Analysis> {
        let view = self.capsule(&capsule).view();
        view.analyses.iter().map(Into::into).collect()
    }

    fn validations(&mut self, capsule: Resource<Capsule>) -> Vec<wit::Validation> {
        let view = self.capsule(&capsule).view();
        view.validations.iter().map(Into::into).collect()
    }

    fn quality_score(&mut self, capsule: Resource<Capsule>) -> Option<u8> {
        self.capsule(&capsule).view().quality_score
    }

    fn drop(&mut self, capsule: Resource<Capsule>) -> wasmtime::Result<()> {
        self.table.delete(capsule)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use delivery::qlp::plugin::workspace::Host as _;
    use host::Host as _;
    use qlp_contract::model;
    use types::HostCapsule as _;

    fn granted(dir: &std::path::Path, writable: bool) -> State {
        let mut s = super::super::tests::state(dir, writable);
        s.config = Arc::new(BTreeMap::from([("region".to_owned(), "eu".to_owned())]));
        s.secrets = Arc::new(BTreeMap::from([("TOKEN".to_owned(), "t0ken".to_owned())]));
        s
    }

    /// The capsule of two six-byte files, `names` (in any order).
    fn capsule(names: [&str; 2]) -> model::CapsuleView {
        let intent = model::Intent {
            id: "i".into(),
            description: "d".into(),
            requirements: vec![],
            constraints: vec![],
            tier: "standard".into(),
            kind: model::IntentKind::Generate,
        };
        let files = names.map(|p| model::File {
            path: p.into(),
            content: b"123456".to_vec(),
        });
        model::CapsuleView::project(intent, files.into())
    }

    #[test]
    fn secrets_are_read_apart_from_config_and_an_ungranted_key_is_not_granted() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = granted(tmp.path(), false);
        assert_eq!(secrets::Host::get(&mut s, "TOKEN".into()).unwrap(), "t0ken");
        assert!(matches!(
            secrets::Host::get(&mut s, "OTHER".into()),
            Err(wit::HostError::NotGranted(m)) if m.contains("OTHER")
        ));
        assert_eq!(host::Host::config(&mut s, "TOKEN".into()), None);
        assert_eq!(
            host::Host::config(&mut s, "region".into()).as_deref(),
            Some("eu")
        );
        // 0.1 has no `secrets`: its `config` answers them as before.
        assert_eq!(
            crate::bindings::agent::qlp::plugin::host::Host::config(&mut s, "TOKEN".into())
                .as_deref(),
            Some("t0ken")
        );
    }

    #[test]
    fn workspace_refusals_are_typed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = granted(tmp.path(), false);
        assert!(matches!(
            s.write_file("a.txt".into(), vec![]),
            Err(wit::HostError::NotGranted(_))
        ));
        assert!(matches!(
            s.read_file("../etc/passwd".into()),
            Err(wit::HostError::InvalidInput(_))
        ));
        assert!(matches!(
            s.read_file("missing.txt".into()),
            Err(wit::HostError::InvalidInput(m)) if m.contains("missing.txt")
        ));
        let mut rw = granted(tmp.path(), true);
        rw.write_file("out/a.txt".into(), b"x".to_vec()).unwrap();
        assert!(s.exists("out/a.txt".into()).unwrap());
    }

    #[test]
    fn the_capsule_is_read_one_file_at_a_time_within_the_input_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = granted(tmp.path(), false);
        s.max_input = 10;
        let view = capsule(["b.txt", "a.txt"]);
        let handle = s.table.push(Capsule::new(Arc::new(view))).unwrap();
        let own = |h: &Resource<Capsule>| Resource::<Capsule>::new_borrow(h.rep());
        let names: Vec<String> = s.files(own(&handle)).into_iter().map(|e| e.path).collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert_eq!(s.intent(own(&handle)).tier, "standard");
        assert_eq!(s.read(own(&handle), "a.txt".into()).unwrap(), b"123456");
        assert!(matches!(
            s.read(own(&handle), "c.txt".into()),
            Err(wit::HostError::InvalidInput(_))
        ));
        // 6 + 6 bytes would pass the limit of 10: refused, and not counted.
        assert!(matches!(
            s.read(own(&handle), "b.txt".into()),
            Err(wit::HostError::LimitExceeded(_))
        ));
        assert_eq!(s.capsule_read, 6);
    }

    #[test]
    fn remaining_time_counts_down_to_zero() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = granted(tmp.path(), false);
        s.deadline = Instant::now() + Duration::from_secs(60);
        let left = s.remaining_time();
        assert!((59_000..=60_000).contains(&left), "{left}");
        s.deadline = Instant::now() - Duration::from_secs(1);
        assert_eq!(s.remaining_time(), 0);
    }

    #[test]
    fn the_capsule_answers_its_analyses_reports_and_score_and_reads_up_to_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = granted(tmp.path(), false);
        s.max_input = 12;
        let region = model::Region {
            start_line: 2,
            start_column: Some(3),
            end_line: None,
            end_column: Some(8),
        };
        let finding = model::Finding {
            path: Some("a.py".into()),
            line: Some(2),
            region: Some(region),
            snippet: Some("12345".into()),
            tags: vec!["cwe:CWE-798".into()],
            ..model::Finding::new("qlp/secrets/key", model::Severity::High, "a key")
        };
        let report = model::Report {
            findings: vec![finding],
            score: 90,
            summary: "ok".into(),
        };
        let view = model::CapsuleView {
            analyses: vec![model::Analysis {
                path: "a.py".into(),
                language: "python".into(),
                analyzer: "qlp/python".into(),
                lines_of_code: 1,
                comment_lines: 0,
                blank_lines: 0,
                functions: vec![],
                imports: vec![],
                doc_coverage: 1.0,
            }],
            validations: vec![model::Validation {
                validator: "qlp/secrets".into(),
                report,
            }],
            quality_score: Some(87),
            ..capsule(["a.py", "b.py"])
        };
        let handle = s.table.push(Capsule::new(Arc::new(view))).unwrap();
        let own = |h: &Resource<Capsule>| Resource::<Capsule>::new_borrow(h.rep());
        assert_eq!(s.analyses(own(&handle))[0].language, "python");
        let validations = s.validations(own(&handle));
        assert_eq!(validations[0].report.score, 90);
        // An earlier validator's finding reaches the plugin whole.
        let seen = &validations[0].report.findings[0];
        let location = seen.location.as_ref().unwrap();
        assert_eq!(location.path, "a.py");
        let r = location.region.unwrap();
        assert_eq!(
            (r.start_line, r.start_column, r.end_column),
            (2, Some(3), Some(8))
        );
        assert_eq!(seen.snippet.as_deref(), Some("12345"));
        assert_eq!(seen.tags, ["cwe:CWE-798"]);
        assert_eq!(s.quality_score(own(&handle)), Some(87));
        // Exactly the limit: both files.
        s.read(own(&handle), "a.py".into()).unwrap();
        s.read(own(&handle), "b.py".into()).unwrap();
        assert_eq!(s.capsule_read, 12);
        let rep = handle.rep();
        s.drop(handle).unwrap();
        assert!(s.table.get(&Resource::<Capsule>::new_own(rep)).is_err());
    }

    #[test]
    fn exists_answers_for_what_is_there_and_log_lines_are_counted() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("here.txt"), "x").unwrap();
        let mut s = granted(tmp.path(), false);
        assert!(s.exists("here.txt".into()).unwrap());
        assert!(!s.exists("gone.txt".into()).unwrap());
        host::Host::log(&mut s, LogLevel::Info, "hello".into(), vec![]);
        assert_eq!(s.log_lines, 1);
    }
}
