//! The delivery logic against a scripted remote: settings, the
//! exactly-once rules, the retry after a lost answer, the non-atomic
//! rollback and the mapping of refusals. The real protocol against real
//! git is in `tests/all/`.

use std::collections::VecDeque;
use std::io::Write;

use qlp_sdk::http::{Request, Response};

use super::*;
use crate::pktline::{write_flush, write_line};

/// Answers from a script, recording every request.
#[derive(Default)]
struct Script {
    answers: VecDeque<Result<Response, String>>,
    requests: Vec<Request>,
}

impl Transport for Script {
    fn send(&mut self, request: &Request) -> Result<Response, String> {
        self.requests.push(request.clone());
        self.answers
            .pop_front()
            .unwrap_or_else(|| Err("no more scripted answers".into()))
    }
}

fn ok(content_type: &str, body: Vec<u8>) -> Result<Response, String> {
    Ok(Response {
        status: 200,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    })
}

fn status(code: u16) -> Result<Response, String> {
    Ok(Response {
        status: code,
        headers: vec![],
        body: b"no".to_vec(),
    })
}

/// An advertisement with these refs and capabilities.
fn advertised(refs: &[(&str, ObjectId)], caps: &str) -> Result<Response, String> {
    let mut body = Vec::new();
    write_line(&mut body, b"# service=git-receive-pack\n");
    write_flush(&mut body);
    if refs.is_empty() {
        write_line(
            &mut body,
            format!("{} capabilities^{{}}\0{caps}\n", ObjectId::ZERO).as_bytes(),
        );
    }
    for (i, (name, id)) in refs.iter().enumerate() {
        let line = if i == 0 {
            format!("{id} {name}\0{caps}\n")
        } else {
            format!("{id} {name}\n")
        };
        write_line(&mut body, line.as_bytes());
    }
    write_flush(&mut body);
    ok("application/x-git-receive-pack-advertisement", body)
}

fn report(lines: &[&str]) -> Result<Response, String> {
    let mut body = Vec::new();
    for line in lines {
        write_line(&mut body, format!("{line}\n").as_bytes());
    }
    write_flush(&mut body);
    ok("application/x-git-receive-pack-result", body)
}

const CAPS: &str = "report-status delete-refs atomic object-format=sha1";
const KEY: &str = "intent-1/capsule.tar.gz";

fn artifact() -> Artifact {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in [
        ("capsule-1/README.md", "# hi\n"),
        ("capsule-1/src/app.py", "x = 1\n"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    Artifact {
        media_type: "application/gzip".into(),
        file_name: "capsule.tar.gz".into(),
        bytes: gz.finish().unwrap(),
    }
}

fn target(options: &[(&str, &str)]) -> DeliveryTarget {
    let mut all = vec![
        ("qlp.delivery-key".to_string(), KEY.to_string()),
        ("qlp.artifact-blake3".to_string(), "ab".repeat(32)),
        ("qlp.created-at".to_string(), "1700000000".to_string()),
    ];
    all.extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    DeliveryTarget {
        destination: "http://git.test:8080/team/app.git/".into(),
        options: all,
    }
}

fn no_config(_: &str) -> Option<String> {
    None
}

fn with_token(key: &str) -> Option<String> {
    match key {
        "token" => Some("tok-3n".into()),
        "username" => Some("ci".into()),
        _ => None,
    }
}

fn detail<'a>(receipt: &'a Receipt, key: &str) -> &'a str {
    receipt
        .details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// The pkt-lines of a push request's commands, up to the flush.
fn commands(request: &Request) -> Vec<String> {
    let mut body = &request.body[..];
    let mut out = Vec::new();
    loop {
        let len = usize::from_str_radix(std::str::from_utf8(&body[..4]).unwrap(), 16).unwrap();
        if len == 0 {
            return out;
        }
        out.push(String::from_utf8_lossy(&body[4..len]).into_owned());
        body = &body[len..];
    }
}

#[test]
fn a_new_repository_gets_an_orphan_commit_and_the_delivery_ref_atomically() {
    let mut script = Script::default();
    script.answers.push_back(advertised(&[], CAPS));
    let delivery = delivery_ref(KEY);
    script.answers.push_back(report(&[
        "unpack ok",
        "ok refs/heads/main",
        &format!("ok {delivery}"),
    ]));
    let receipt = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap();
    assert_eq!(receipt.location, "http://git.test:8080/team/app.git#main");
    assert_eq!(detail(&receipt, "branch"), "main");
    assert_eq!(detail(&receipt, "files"), "2");
    assert_eq!(detail(&receipt, "delivery-ref"), delivery);
    assert_eq!(detail(&receipt, "already-delivered"), "false");
    let commit = detail(&receipt, "commit").to_string();

    let [get, post] = &script.requests[..] else {
        panic!("two requests")
    };
    assert_eq!(get.method, "GET");
    assert_eq!(
        get.url,
        "http://git.test:8080/team/app.git/info/refs?service=git-receive-pack"
    );
    assert_eq!(
        post.url,
        "http://git.test:8080/team/app.git/git-receive-pack"
    );
    assert!(
        post.headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "application/x-git-receive-pack-request")
    );
    assert!(!post.headers.iter().any(|(k, _)| k == "Authorization"));
    let zero = ObjectId::ZERO;
    assert_eq!(
        commands(post),
        [
            format!("{zero} {commit} refs/heads/main\0report-status atomic\n"),
            format!("{zero} {commit} {delivery}\n"),
        ]
    );
    let pack_at = post.body.windows(4).position(|w| w == b"PACK").unwrap();
    // README, app.py, src/, the root tree and the commit.
    assert_eq!(&post.body[pack_at + 8..pack_at + 12], &[0, 0, 0, 5]);
}

#[test]
fn the_same_inputs_give_the_same_commit_and_an_existing_branch_is_the_parent() {
    let parent = ObjectId([7; 20]);
    let run = || {
        let mut script = Script::default();
        script
            .answers
            .push_back(advertised(&[("refs/heads/release", parent)], CAPS));
        script.answers.push_back(report(&[
            "unpack ok",
            "ok refs/heads/release",
            &format!("ok {}", delivery_ref(KEY)),
        ]));
        let receipt = deliver_with(
            &mut script,
            &no_config,
            &artifact(),
            &target(&[("branch", "refs/heads/release")]),
        )
        .unwrap();
        (receipt, script.requests)
    };
    let (first, requests) = run();
    let (second, _) = run();
    assert_eq!(first.details, second.details);
    assert_eq!(first.location, "http://git.test:8080/team/app.git#release");
    let commit = detail(&first, "commit");
    assert_eq!(
        commands(&requests[1])[0],
        format!("{parent} {commit} refs/heads/release\0report-status atomic\n")
    );
}

#[test]
fn a_delivery_ref_already_there_means_delivered_and_nothing_is_pushed() {
    let earlier = ObjectId([9; 20]);
    let mut script = Script::default();
    script.answers.push_back(advertised(
        &[
            ("refs/heads/main", ObjectId([8; 20])),
            (&delivery_ref(KEY), earlier),
        ],
        CAPS,
    ));
    let receipt = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap();
    assert_eq!(detail(&receipt, "commit"), earlier.hex());
    assert_eq!(detail(&receipt, "already-delivered"), "true");
    assert_eq!(detail(&receipt, "files"), "2");
    assert_eq!(script.requests.len(), 1, "no push");
}

#[test]
fn a_lost_answer_is_retried_and_the_landed_push_is_recognised_as_this_ones() {
    let mut script = Script::default();
    script.answers.push_back(advertised(&[], CAPS));
    script.answers.push_back(Err("connection reset".into()));
    // What the first push made, seen on the retry.
    script.answers.push_back(advertised(&[], CAPS));
    script.answers.push_back(status(502));
    let mut first = Script::default();
    first.answers.push_back(advertised(&[], CAPS));
    first
        .answers
        .push_back(report(&["unpack ok", "ok refs/heads/main"]));
    let commit = deliver_with(&mut first, &no_config, &artifact(), &target(&[])).unwrap();
    let commit = ObjectId::from_hex(detail(&commit, "commit")).unwrap();
    script.answers.push_back(advertised(
        &[("refs/heads/main", commit), (&delivery_ref(KEY), commit)],
        CAPS,
    ));
    let receipt = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap();
    assert_eq!(detail(&receipt, "commit"), commit.hex());
    assert_eq!(detail(&receipt, "already-delivered"), "false");
    assert_eq!(script.requests.len(), 5);
}

#[test]
fn unreachable_after_every_attempt() {
    let mut script = Script::default();
    for _ in 0..MAX_ATTEMPTS {
        script.answers.push_back(status(503));
    }
    let error = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap_err();
    assert_eq!(error.code, "UNREACHABLE");
    assert_eq!(script.requests.len(), MAX_ATTEMPTS);
}

#[test]
fn refusals_map_to_conflict_or_push_rejected() {
    let delivery = delivery_ref(KEY);
    let atomic_failure = format!("ng {delivery} atomic transaction failed");
    let cases = [
        ("unpack ok", "failed to update ref", "CONFLICT"),
        ("unpack ok", "non-fast-forward", "CONFLICT"),
        ("unpack ok", "stale info", "CONFLICT"),
        ("unpack ok", "pre-receive hook declined", "PUSH_REJECTED"),
        (
            "unpack index-pack failed",
            "unpacker error",
            "PUSH_REJECTED",
        ),
    ];
    for (unpack, reason, code) in cases {
        let mut script = Script::default();
        script.answers.push_back(advertised(&[], CAPS));
        let branch = format!("ng refs/heads/main {reason}");
        script
            .answers
            .push_back(report(&[unpack, &branch, &atomic_failure]));
        let error = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap_err();
        assert_eq!(error.code, code, "{reason}: {}", error.message);
        let said = if unpack == "unpack ok" {
            reason
        } else {
            "index-pack failed"
        };
        assert!(error.message.contains(said), "{}", error.message);
        assert_eq!(script.requests.len(), 2, "no rollback after an atomic push");
    }
}

#[test]
fn an_atomic_refusal_is_classified_by_the_ref_that_caused_it() {
    let delivery = delivery_ref(KEY);
    let mut script = Script::default();
    script.answers.push_back(advertised(&[], CAPS));
    script.answers.push_back(report(&[
        "unpack ok",
        "ng refs/heads/main atomic push failure",
        &format!("ng {delivery} deny updating a hidden ref"),
    ]));
    let error = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap_err();
    assert_eq!(error.code, "PUSH_REJECTED", "{}", error.message);
    assert!(
        error.message.contains("deny updating a hidden ref"),
        "{}",
        error.message
    );
}

#[test]
fn without_atomic_a_refused_branch_takes_its_delivery_ref_back() {
    let delivery = delivery_ref(KEY);
    let mut script = Script::default();
    script
        .answers
        .push_back(advertised(&[], "report-status delete-refs"));
    script.answers.push_back(report(&[
        "unpack ok",
        "ng refs/heads/main failed to update ref",
        &format!("ok {delivery}"),
    ]));
    script
        .answers
        .push_back(report(&["unpack ok", &format!("ok {delivery}")]));
    let error = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap_err();
    assert_eq!(error.code, "CONFLICT");
    let [_, push, rollback] = &script.requests[..] else {
        panic!("three requests")
    };
    assert!(commands(push)[0].ends_with("refs/heads/main\0report-status\n"));
    let commit = commands(push)[0][41..81].to_string();
    assert_eq!(
        commands(rollback),
        [format!(
            "{commit} {} {delivery}\0report-status delete-refs\n",
            ObjectId::ZERO
        )]
    );
    assert!(!rollback.body.windows(4).any(|w| w == b"PACK"));
}

#[test]
fn a_remote_the_operator_did_not_grant_is_not_retried() {
    let mut script = Script::default();
    script.answers.push_back(Err(
        "capability not granted: git.test:8080 is not on this plugin's allow-list".into(),
    ));
    let error = deliver_with(&mut script, &no_config, &artifact(), &target(&[])).unwrap_err();
    assert_eq!(error.code, "UNREACHABLE");
    assert!(error.message.contains("tiers file"), "{}", error.message);
    assert_eq!(script.requests.len(), 1);
}

#[test]
fn http_statuses_map_to_codes_and_the_token_stays_secret() {
    for (answer, code) in [
        (status(401), "AUTH_FAILED"),
        (status(403), "AUTH_FAILED"),
        (status(404), "TARGET_NOT_FOUND"),
        (ok("text/plain", b"dumb".to_vec()), "PROTOCOL_ERROR"),
        (Err("refused tok-3n".into()), "UNREACHABLE"),
    ] {
        let mut script = Script::default();
        for _ in 0..MAX_ATTEMPTS {
            script.answers.push_back(answer.clone());
        }
        let error = deliver_with(&mut script, &with_token, &artifact(), &target(&[])).unwrap_err();
        assert_eq!(error.code, code);
        assert!(!error.message.contains("tok-3n"), "{}", error.message);
        let auth = script.requests[0]
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.as_str());
        // base64("ci:tok-3n")
        assert_eq!(auth, Some("Basic Y2k6dG9rLTNu"));
    }
}

#[test]
fn settings_are_checked() {
    let code = |target: DeliveryTarget, config: &dyn Fn(&str) -> Option<String>| {
        settings(&artifact(), &target, config)
            .err()
            .map(|e| e.code)
            .unwrap_or_default()
    };
    let mut t = target(&[]);
    for bad in [
        "ftp://h/r.git",
        "http://",
        "http://u:pw@h/r.git",
        "http://h/r.git?x=1",
        "/srv/r.git",
    ] {
        t.destination = bad.into();
        let error = settings(&artifact(), &t, &no_config).unwrap_err();
        assert_eq!(error.code, "INVALID_DESTINATION", "{bad}");
        assert!(!error.message.contains("pw"), "{}", error.message);
    }
    t.destination = "HTTPS://git.example.com/a/b.git".into();
    assert_eq!(
        settings(&artifact(), &t, &no_config).unwrap().url,
        t.destination
    );
    for (key, value) in [
        ("branch", "a..b"),
        ("branch", "x.lock"),
        ("branch", "has space"),
        ("strip-root", "yes"),
        ("qlp.created-at", "yesterday"),
    ] {
        assert_eq!(
            code(target(&[(key, value)]), &no_config),
            "INVALID_OPTION",
            "{key}={value}"
        );
    }
    assert_eq!(
        code(target(&[]), &|k| (k == "author-email")
            .then(|| "a>b".into())),
        "INVALID_OPTION"
    );
    let mut no_key = target(&[]);
    no_key.options.retain(|(k, _)| k != "qlp.delivery-key");
    assert_eq!(code(no_key, &no_config), "INVALID_OPTION");

    let s = settings(&artifact(), &target(&[]), &no_config).unwrap();
    assert_eq!(s.branch, "main");
    assert!(s.strip_root);
    assert_eq!(s.author.time, 1_700_000_000);
    assert_eq!(
        (s.author.name.as_str(), s.author.email.as_str()),
        ("QLP", "qlp@localhost")
    );
    assert_eq!(s.token, None);
    assert_eq!(
        s.message,
        format!(
            "QLP capsule {KEY}\n\nQLP-Delivery: {KEY}\nQLP-Artifact-Blake3: {}\n",
            "ab".repeat(32)
        )
    );
    assert_eq!(s.delivery_ref().len(), DELIVERY_REF_PREFIX.len() + 32);
    let config = |k: &str| match k {
        "branch" => Some("from-config".into()),
        "strip-root" => Some("false".into()),
        _ => None,
    };
    let s = settings(&artifact(), &target(&[("message", "Release 1\n")]), &config).unwrap();
    assert_eq!(s.branch, "from-config");
    assert!(!s.strip_root);
    assert!(s.message.starts_with("Release 1\n\nQLP-Delivery: "));
    let s = settings(&artifact(), &target(&[("branch", "feature/x")]), &config).unwrap();
    assert_eq!(s.branch, "feature/x");
}

#[test]
fn the_root_directory_is_kept_with_strip_root_false() {
    let stripped = files_of(&artifact(), true).unwrap();
    assert_eq!(stripped[0].path, "README.md");
    let kept = files_of(&artifact(), false).unwrap();
    assert_eq!(kept[0].path, "capsule-1/README.md");
    let sbom = Artifact {
        media_type: "application/json".into(),
        file_name: "sbom.json".into(),
        bytes: b"{}".to_vec(),
    };
    assert_eq!(
        files_of(&sbom, true).unwrap_err().code,
        "UNSUPPORTED_ARTIFACT"
    );
}

#[test]
fn describe_declares_http_and_the_token_secret() {
    let info = Git::describe();
    assert_eq!(info.name, "qlp/git");
    assert!(matches!(info.kind, PluginKind::Delivery));
    assert!(matches!(
        info.capabilities.as_slice(),
        [Capability::Http(_), Capability::Secret(key)] if key == "token"
    ));
}

/// The archive readers' tests as this adapter sees them (moved here when
/// its own unpacker gave way to the SDK's): its limits and its codes.
mod unpacking {
    use std::io::{Cursor, Write};

    use super::*;

    fn tar_gz(entries: &[(&str, &[u8], u32, tar::EntryType)]) -> Artifact {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (path, content, mode, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(*mode);
            header.set_size(content.len() as u64);
            // `set_path` refuses `..`; write the raw name as a hostile
            // archive would.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("target").unwrap();
            }
            header.set_cksum();
            builder.append(&header, *content).unwrap();
        }
        Artifact {
            media_type: "application/gzip".into(),
            file_name: "capsule.tar.gz".into(),
            bytes: builder.into_inner().unwrap().finish().unwrap(),
        }
    }

    fn zip_bytes(bytes: Vec<u8>) -> Artifact {
        Artifact {
            media_type: "application/zip".into(),
            file_name: "capsule.zip".into(),
            bytes,
        }
    }

    fn zip_of(entries: &[(&str, &[u8], u32)]) -> Artifact {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (path, content, mode) in entries {
            // Stored: deflating the bound-sized entries would dominate the
            // test's time in a debug build.
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .unix_permissions(*mode);
            writer.start_file(*path, options).unwrap();
            writer.write_all(content).unwrap();
        }
        zip_bytes(writer.finish().unwrap().into_inner())
    }

    const FILE: tar::EntryType = tar::EntryType::Regular;

    fn code<T>(result: Result<T, PluginError>) -> String {
        result.err().map(|e| e.code).unwrap_or_default()
    }

    #[test]
    fn a_tar_gz_gives_its_files_with_the_executable_bit() {
        let artifact = tar_gz(&[
            ("./app/", b"", 0o755, tar::EntryType::Directory),
            ("./app/main.py", b"print(1)\n", 0o644, FILE),
            ("./app/run.sh", b"#!/bin/sh\n", 0o755, FILE),
        ]);
        let files = files_of(&artifact, false).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "app/main.py");
        assert!(!files[0].executable);
        assert_eq!(files[1].path, "app/run.sh");
        assert!(files[1].executable);
        assert_eq!(files[1].content, b"#!/bin/sh\n");
    }

    #[test]
    fn a_zip_gives_its_files_with_the_executable_bit() {
        let artifact = zip_of(&[("a.txt", b"a", 0o644), ("bin/x", b"x", 0o755)]);
        let files = files_of(&artifact, false).unwrap();
        assert_eq!(files.len(), 2);
        assert!(!files[0].executable);
        assert!(files[1].executable);
        assert_eq!(files[1].path, "bin/x");
    }

    #[test]
    fn hostile_entries_are_invalid_artifacts() {
        for bad in [
            "/etc/passwd",
            "a/../../b",
            "../x",
            ".git/config",
            "a/.GIT/x",
        ] {
            let artifact = tar_gz(&[(bad, b"x", 0o644, FILE)]);
            assert_eq!(code(files_of(&artifact, true)), "INVALID_ARTIFACT", "{bad}");
        }
        let link = tar_gz(&[("l", b"", 0o777, tar::EntryType::Symlink)]);
        assert_eq!(code(files_of(&link, true)), "INVALID_ARTIFACT");
        let device = tar_gz(&[("d", b"", 0o600, tar::EntryType::Char)]);
        assert_eq!(code(files_of(&device, true)), "INVALID_ARTIFACT");
        let twice = tar_gz(&[("a", b"1", 0o644, FILE), ("./a", b"2", 0o644, FILE)]);
        assert_eq!(code(files_of(&twice, true)), "INVALID_ARTIFACT");
        let nested = tar_gz(&[("a", b"1", 0o644, FILE), ("a/b", b"2", 0o644, FILE)]);
        assert_eq!(code(files_of(&nested, true)), "INVALID_ARTIFACT");
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer
            .add_symlink("l", "target", zip::write::SimpleFileOptions::default())
            .unwrap();
        let zip_link = zip_bytes(writer.finish().unwrap().into_inner());
        assert_eq!(code(files_of(&zip_link, true)), "INVALID_ARTIFACT");
        let not_zip = zip_bytes(b"not a zip".to_vec());
        assert_eq!(code(files_of(&not_zip, true)), "INVALID_ARTIFACT");
        let mut not_gzip = tar_gz(&[]);
        not_gzip.bytes = b"not gzip".to_vec();
        assert_eq!(code(files_of(&not_gzip, true)), "INVALID_ARTIFACT");
    }

    #[test]
    fn archives_beyond_the_bounds_are_refused() {
        let half = (UNPACK_LIMITS.max_total_bytes / 2 + 1) as usize;
        let big = vec![0u8; half];
        let artifact = zip_of(&[("a", &big, 0o644), ("b", &big, 0o644)]);
        let error = files_of(&artifact, true).unwrap_err();
        assert_eq!(error.code, "INVALID_ARTIFACT");
        assert!(error.message.contains("more than"), "{}", error.message);

        let names: Vec<String> = (0..=UNPACK_LIMITS.max_entries)
            .map(|i| format!("f{i}"))
            .collect();
        let entries: Vec<(&str, &[u8], u32)> = names
            .iter()
            .map(|n| (n.as_str(), &b""[..], 0o644))
            .collect();
        let error = files_of(&zip_of(&entries), true).unwrap_err();
        assert!(error.message.contains("entries"), "{}", error.message);
    }
}
