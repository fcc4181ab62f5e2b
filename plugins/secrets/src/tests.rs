//! Unit tests of the secret scanner: each rule's positive and negative
//! cases, line numbering, suppression and score arithmetic. The fake secrets
//! are assembled with `concat!` so this file itself does not look like a leak
//! to other scanners.

use super::*;
use qlp_sdk::validator::Severity;

const AWS_KEY_ID: &str = concat!("AK", "IA", "UJZDE8GXD6NCF10E");
const AWS_SECRET: &str = concat!("El2hpChYgCfrL1sp", "NxnyVmihA+2O76UMFxFkM+R5");
const GITHUB_CLASSIC: &str = concat!("gh", "p_", "sMehGAkWvj7FAc9QeWJKY40uvSwMFL3LG9Sz");
const GITHUB_PAT: &str = concat!(
    "github",
    "_pat_",
    "rESQedUStPKR0CsTy4Qwb8DwkNhFdnXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAIxNK"
);
const SLACK: &str = concat!("xo", "xb-", "2184736521-", "u8iS2G8NPRVdD53X83RZJzzz");
const STRIPE: &str = concat!("sk", "_live_", "zgEOzdmenCkhvMdgaKjIg8xNbe3n");
const GOOGLE: &str = concat!("AI", "za", "WtGSU8po_799NksnRH9ucAUsdMlHUvTCQCy");
const JWT_TOKEN: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
);
const RSA_HEADER: &str = concat!("-----BEGIN RSA ", "PRIVATE KEY-----");
const NPM: &str = concat!("np", "m_", "u8jzPde0IgxLd6GncfBAepfJBd0Kh8024xXH");
const GITLAB: &str = concat!("gl", "pat-", "ChYgCfrL1spNxnyVmihA");
const OPENAI: &str = concat!(
    "sk",
    "-proj-",
    "FRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7FAc9QeWJKY"
);
const TWILIO: &str = concat!("S", "K", "aabfe228f219e9cb0eb53f16947ccf25");
const SENDGRID: &str = concat!(
    "S",
    "G.",
    "5ZJr3J1TWDtkwtDDb-xHKa",
    ".s1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799"
);
const PYPI: &str = concat!(
    "pypi-AgEIcHlwaS5vcmc",
    "NksnRH9ucAUsdMlHUvTCQCyEZDz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3Ql"
);
const AZURE_KEY: &str = concat!(
    "zfL4uGV2Zr7yFbkoK/4gByaX53fOpyWc05j6eajvWSeM",
    "jCEFA8z4uaYahr/vI2/83zHT3zYHQDZKgD3DllNCiw=="
);
const SLACK_HOOK: &str = concat!(
    "https://hooks.slack.com/services/",
    "T0IDW3706/BI8J76B2LAJ/ljENUhJduRHHJEYXg4Jdpmrc"
);
const AWS_SECRET_2: &str = concat!("m5di4PzJ59FHz5r1pY4O", "jE2jBMptUsGr7CmY+uCu");

/// The rule ids and lines of a scan of `text` as `path`.
fn scan(path: &str, text: &str) -> Vec<(String, u32)> {
    scan_text(path, text)
        .into_iter()
        .map(|f| {
            let line = f.line().unwrap_or(0);
            (f.rule_id, line)
        })
        .collect()
}

/// One expected finding.
fn one(rule: &str, line: u32) -> Vec<(String, u32)> {
    vec![(rule.to_string(), line)]
}

fn rule_ids(findings: &[Finding]) -> Vec<(&str, u32)> {
    findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.line().unwrap_or(0)))
        .collect()
}

fn finding(severity: Severity) -> Finding {
    Finding::new("x", severity, String::new())
}

#[test]
fn fixtures_have_the_documented_shapes() {
    assert_eq!(AWS_KEY_ID.len(), 4 + AWS_KEY_ID_TAIL_CHARS);
    assert_eq!(AWS_SECRET.len(), AWS_SECRET_CHARS);
    assert_eq!(GITHUB_CLASSIC.len(), 4 + GITHUB_TOKEN_TAIL_CHARS);
    assert_eq!(GITHUB_PAT.len(), 11 + GITHUB_PAT_TAIL_CHARS);
    assert_eq!(GOOGLE.len(), 4 + GOOGLE_KEY_TAIL_CHARS);
}

// --- secrets/private-key

#[test]
fn private_key_headers_of_every_kind_are_found() {
    assert_eq!(find_private_key(RSA_HEADER), Some("RSA"));
    assert_eq!(
        find_private_key(concat!("-----BEGIN ", "PRIVATE KEY-----")),
        Some("")
    );
    assert_eq!(
        find_private_key(concat!("-----BEGIN OPENSSH ", "PRIVATE KEY-----")),
        Some("OPENSSH")
    );
    assert_eq!(
        find_private_key(concat!("-----BEGIN EC ", "PRIVATE KEY-----")),
        Some("EC")
    );
    assert_eq!(
        find_private_key(concat!(
            "key = \"-----BEGIN ENCRYPTED ",
            "PRIVATE KEY-----\\nMII"
        )),
        Some("ENCRYPTED")
    );
    assert_eq!(
        find_private_key(concat!("-----BEGIN PGP ", "PRIVATE KEY BLOCK-----")),
        Some("PGP")
    );
}

#[test]
fn public_keys_and_certificates_are_not_private_keys() {
    assert_eq!(find_private_key("-----BEGIN PUBLIC KEY-----"), None);
    assert_eq!(find_private_key("-----BEGIN CERTIFICATE-----"), None);
    assert_eq!(
        find_private_key(concat!("-----BEGIN FOO ", "PRIVATE KEY-----")),
        None
    );
    assert_eq!(find_private_key(concat!("BEGIN RSA ", "PRIVATE KEY")), None);
}

// --- secrets/aws-access-key-id

#[test]
fn aws_access_key_ids_are_found_on_word_boundaries() {
    let line = format!("aws_access_key_id = \"{AWS_KEY_ID}\"");
    assert_eq!(find_aws_access_key_id(&line), Some(AWS_KEY_ID));
    let temporary = AWS_KEY_ID.replacen("AKIA", "ASIA", 1);
    assert_eq!(find_aws_access_key_id(&temporary), Some(temporary.as_str()));
}

#[test]
fn aws_lookalikes_and_the_documentation_key_are_not_reported() {
    assert_eq!(find_aws_access_key_id(&format!("X{AWS_KEY_ID}")), None);
    assert_eq!(find_aws_access_key_id(&format!("{AWS_KEY_ID}Z")), None);
    assert_eq!(find_aws_access_key_id(&AWS_KEY_ID[..19]), None);
    assert_eq!(find_aws_access_key_id(&AWS_KEY_ID.to_lowercase()), None);
    assert_eq!(
        find_aws_access_key_id(concat!("AKIA", "IOSFODNN7EXAMPLE")),
        None
    );
}

// --- secrets/aws-secret-access-key

#[test]
fn aws_secret_access_keys_are_found_quoted_or_not() {
    let ini = format!("aws_secret_access_key = {AWS_SECRET}");
    assert_eq!(find_aws_secret_access_key(&ini), Some(AWS_SECRET));
    let python = format!("AWS_SECRET_ACCESS_KEY = \"{AWS_SECRET}\"");
    assert_eq!(find_aws_secret_access_key(&python), Some(AWS_SECRET));
    let yaml = format!("  aws-secret-access-key: '{AWS_SECRET}'");
    assert_eq!(find_aws_secret_access_key(&yaml), Some(AWS_SECRET));
}

#[test]
fn aws_secret_references_and_wrong_lengths_are_not_reported() {
    let reference = "AWS_SECRET_ACCESS_KEY = os.environ[\"AWS_SECRET_ACCESS_KEY\"]";
    assert_eq!(find_aws_secret_access_key(reference), None);
    let short = format!("aws_secret_access_key = \"{}\"", &AWS_SECRET[..39]);
    assert_eq!(find_aws_secret_access_key(&short), None);
    let other_name = format!("some_secret = \"{AWS_SECRET}\"");
    assert_eq!(find_aws_secret_access_key(&other_name), None);
    let docs = concat!(
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/",
        "bPxRfiCYEXAMPLEKEY"
    );
    assert_eq!(find_aws_secret_access_key(docs), None);
}

// --- secrets/github-token

#[test]
fn github_tokens_are_found() {
    let line = format!("GH_TOKEN={GITHUB_CLASSIC}");
    assert_eq!(find_github_token(&line), Some(GITHUB_CLASSIC));
    let line = format!("token: \"{GITHUB_PAT}\"");
    assert_eq!(find_github_token(&line), Some(GITHUB_PAT));
    let oauth = GITHUB_CLASSIC.replacen("ghp_", "gho_", 1);
    assert_eq!(find_github_token(&oauth), Some(oauth.as_str()));
}

#[test]
fn github_lookalikes_are_not_reported() {
    assert_eq!(find_github_token(&GITHUB_CLASSIC[..39]), None);
    assert_eq!(find_github_token(&format!("{GITHUB_CLASSIC}a")), None);
    assert_eq!(find_github_token(&format!("x{GITHUB_CLASSIC}")), None);
    assert_eq!(
        find_github_token(&GITHUB_CLASSIC.replacen("ghp_", "ghx_", 1)),
        None
    );
    assert_eq!(
        find_github_token(concat!("gh", "p_", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
        None
    );
}

// --- secrets/slack-token

#[test]
fn slack_tokens_are_found() {
    let line = format!("SLACK_BOT_TOKEN=\"{SLACK}\"");
    assert_eq!(find_slack_token(&line), Some(SLACK));
    let user = SLACK.replacen("xoxb-", "xoxp-", 1);
    assert_eq!(find_slack_token(&user), Some(user.as_str()));
}

#[test]
fn slack_placeholders_and_short_tails_are_not_reported() {
    assert_eq!(find_slack_token("xoxb-your-bot-token-here"), None);
    assert_eq!(find_slack_token("xoxb-123"), None);
    assert_eq!(find_slack_token(&SLACK.replacen("xoxb-", "xoxz-", 1)), None);
}

// --- secrets/stripe-key

#[test]
fn live_stripe_keys_are_found() {
    let line = format!("stripe.api_key = '{STRIPE}'");
    assert_eq!(find_stripe_key(&line), Some(STRIPE));
    let restricted = STRIPE.replacen("sk_", "rk_", 1);
    assert_eq!(find_stripe_key(&restricted), Some(restricted.as_str()));
}

#[test]
fn test_mode_and_short_stripe_keys_are_not_reported() {
    assert_eq!(
        find_stripe_key(&STRIPE.replacen("_live_", "_test_", 1)),
        None
    );
    assert_eq!(find_stripe_key(&STRIPE[..30]), None);
}

// --- secrets/google-api-key

#[test]
fn google_api_keys_are_found() {
    let line = format!("const firebaseConfig = {{ apiKey: \"{GOOGLE}\" }};");
    assert_eq!(find_google_api_key(&line), Some(GOOGLE));
}

#[test]
fn google_lookalikes_are_not_reported() {
    assert_eq!(find_google_api_key(&GOOGLE[..38]), None);
    assert_eq!(find_google_api_key(&format!("{GOOGLE}x")), None);
    assert_eq!(find_google_api_key(&format!("x{GOOGLE}")), None);
}

// --- secrets/jwt

#[test]
fn signed_jwts_are_found() {
    let line = format!("headers = {{\"Authorization\": \"Bearer {JWT_TOKEN}\"}}");
    assert_eq!(find_jwt(&line), Some(JWT_TOKEN));
}

#[test]
fn jwt_lookalikes_are_not_reported() {
    let unsigned = &JWT_TOKEN[..JWT_TOKEN.rfind('.').unwrap_or(0) + 1];
    assert_eq!(find_jwt(unsigned), None);
    assert_eq!(
        find_jwt("eyJhbGciOiJIUzI1NiJ9.notjson.signature-signature"),
        None
    );
    assert_eq!(find_jwt("eyJ.eyJ.abc"), None);
    assert_eq!(find_jwt(&format!("x{JWT_TOKEN}")), None);
}

// --- secrets/high-entropy-assignment

#[test]
fn random_values_assigned_to_secret_names_are_found() {
    let cases = [
        ("JWT_SECRET = \"Xk2mP9qR4vT7wZ1bN6cL\"", "JWT_SECRET"),
        ("password: \"MyS3cureP@ssw0rd2024\"", "password"),
        (
            "{\"client_secret\": \"9f86d081884c7d659a2feaa0c55ad015\"}",
            "client_secret",
        ),
        (
            "settings = Settings(api_key='Xk2mP9qR4vT7wZ1bN6cL')",
            "api_key",
        ),
        (
            "SECRET_KEY: str = \"django-insecure-k2j4h5g6f7d8s9a0\"",
            "SECRET_KEY",
        ),
        ("const accessKey = `Xk2mP9qR4vT7wZ1bN6cL`;", "accessKey"),
        ("token := \"Xk2mP9qR4vT7wZ1bN6cL\"", "token"),
        ("'db_password' => 'Xk2mP9qR4vT7wZ1bN6cL',", "db_password"),
    ];
    for (line, name) in cases {
        let hit = find_high_entropy_assignment(line, false);
        assert_eq!(hit.map(|h| h.name), Some(name), "{line}");
    }
}

#[test]
fn unquoted_values_count_only_in_env_and_yaml_files() {
    let env = "export DB_PASSWORD=Xk2mP9qR4vT7wZ1bN6cL";
    assert_eq!(
        find_high_entropy_assignment(env, true).map(|h| h.value),
        Some("Xk2mP9qR4vT7wZ1bN6cL")
    );
    let yaml = "  api-token: Xk2mP9qR4vT7wZ1bN6cL  # rotated monthly";
    assert_eq!(
        find_high_entropy_assignment(yaml, true).map(|h| h.value),
        Some("Xk2mP9qR4vT7wZ1bN6cL")
    );
    let python = "token = generate_token_Xk2mP9qR4vT7wZ1bN6cL";
    assert_eq!(find_high_entropy_assignment(python, false), None);
    assert!(allows_unquoted_values(".env"));
    assert!(allows_unquoted_values("deploy/.env.production"));
    assert!(allows_unquoted_values("docker-compose.yml"));
    assert!(allows_unquoted_values("config/app.yaml"));
    assert!(!allows_unquoted_values("app/main.py"));
    assert!(!allows_unquoted_values("environment.py"));
}

#[test]
fn placeholders_references_and_plain_values_are_not_reported() {
    let quiet = [
        "JWT_SECRET = os.environ[\"JWT_SECRET\"]",
        "JWT_SECRET = os.environ.get(\"JWT_SECRET\")",
        "password = \"changeme\"",
        "os.environ.setdefault(\"JWT_SECRET\", \"test-only-secret\")",
        "JWT_SECRET = \"test-only-secret-Xk2mP9qR4vT7\"",
        "api_key = \"your-api-key-goes-here-1234\"",
        "API_TOKEN = \"<PASTE-YOUR-TOKEN-HERE-123>\"",
        "secret: \"${JWT_SECRET_FROM_VAULT_1}\"",
        "password = \"xxxxxxxxxxxxxxxxxxxxxxxx\"",
        "PASSWORD = \"AAAAAAAAAAAAAAAAAAAA\"",
        "db_password = \"example-Password-1234567\"",
        "token_url = \"https://auth.service.local/oauth2/Token1\"",
        "password_reset_template = \"emails/password_reset.html\"",
        "secret_file = \"/run/secrets/Jwt_Secret_Key1\"",
        "oauth2 = OAuth2PasswordBearer(tokenUrl=\"api/v1/auth/login/access-token\")",
        "password_hint = \"Use 16 characters Or More\"",
        "if password == \"Xk2mP9qR4vT7wZ1bN6cL\":",
        "username = \"Xk2mP9qR4vT7wZ1bN6cL\"",
        "tokenizer = \"bert-base-uncased\"",
        "    backend: \"Backend\", private_key: \"_EllipticCurvePrivateKey\", data: bytes",
        "    AttributeOID.CHALLENGE_PASSWORD: \"challengePassword\",",
        "/// `secrets/jwt`: `eyJ….eyJ….signature` in base64url",
        "AuthPlugin::CachingSha2Password => \"caching_sha2_password\",",
        "{\"password\": \"%20!$%&()*+,-./:;<=>?@[]^_{|}~a1\"}",
        "password = \"Sh0rtPass1\"",
    ];
    for line in quiet {
        assert_eq!(find_high_entropy_assignment(line, true), None, "{line}");
    }
}

#[test]
fn words_and_identifiers_are_told_from_random_letters() {
    for words in [
        "_EllipticCurvePrivateKey",
        "challengePassword1",
        "caching_sha2_password",
        "api.v2-Token",
    ] {
        assert!(reads_as_words(words), "{words}");
    }
    for random in [
        "XkbmPQRvTwZbNcLa",
        "k2j4h5g6f7d8s9a0",
        "9f86d081884c7d659a2feaa0c55ad015",
        "Xk2mP9qR4vT7wZ1b",
    ] {
        assert!(!reads_as_words(random), "{random}");
    }
}

#[test]
fn entropy_measures_bits_per_character() {
    assert_eq!(shannon_entropy(""), 0.0);
    assert_eq!(shannon_entropy("aaaa"), 0.0);
    assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    assert!((shannon_entropy("Xk2mP9qR4vT7wZ1b") - 4.0).abs() < 1e-9);
    assert!(shannon_entropy("bert-base-uncased") < ENTROPY_THRESHOLD_BITS);
}

#[test]
fn assignments_are_split_into_name_and_value() {
    let found = assignments("a = 1, \"b\": 'two', c := `3`; d == 4; e::f");
    let pairs: Vec<(&str, &str, bool)> =
        found.iter().map(|a| (a.name, a.value, a.quoted)).collect();
    assert_eq!(
        pairs,
        [("a", "1", false), ("b", "two", true), ("c", "3", true)]
    );
    let typed = assignments("api_key: Optional[str] = \"k\"");
    assert_eq!(typed.last().map(|a| a.name), Some("api_key"));
}

// --- whole files

#[test]
fn line_numbers_are_one_based_with_crlf_bom_and_no_final_newline() {
    let text =
        format!("\u{feff}# config\r\nx = 1\r\n\r\nkey_id = \"{AWS_KEY_ID}\"\r\n{RSA_HEADER}");
    let findings = scan_text("settings.py", &text);
    assert_eq!(
        rule_ids(&findings),
        [("secrets/aws-access-key-id", 4), ("secrets/private-key", 5)]
    );
    assert!(findings.iter().all(|f| f.path() == Some("settings.py")));
}

#[test]
fn a_rule_fires_once_per_line_and_the_catch_all_defers_to_specific_rules() {
    let line = format!("GITHUB_TOKEN = \"{GITHUB_CLASSIC}\"  # also {GITHUB_CLASSIC}");
    let findings = scan_text("ci.py", &line);
    assert_eq!(rule_ids(&findings), [("secrets/github-token", 1)]);
    let both = format!("ids = [\"{AWS_KEY_ID}\", \"{GOOGLE}\"]");
    assert_eq!(
        rule_ids(&scan_text("a.py", &both)),
        [
            ("secrets/aws-access-key-id", 1),
            ("secrets/google-api-key", 1)
        ]
    );
}

#[test]
fn the_allow_marker_suppresses_its_line_only() {
    let text = format!("TOKEN = \"{SLACK}\"  # qlp:allow-secret\nTOKEN2 = \"{SLACK}\"\n");
    assert_eq!(
        rule_ids(&scan_text("bot.py", &text)),
        [("secrets/slack-token", 2)]
    );
}

#[test]
fn messages_never_show_more_than_a_short_prefix() {
    let text = format!("STRIPE = \"{STRIPE}\"\nJWT_SECRET = \"Xk2mP9qR4vT7wZ1bN6cL\"");
    let findings = scan_text("pay.py", &text);
    assert_eq!(findings.len(), 2);
    assert!(
        findings[0].message.contains("`sk_l…`"),
        "{}",
        findings[0].message
    );
    assert!(!findings[0].message.contains(STRIPE));
    assert!(
        findings[1].message.contains("`Xk2m…`"),
        "{}",
        findings[1].message
    );
    assert!(!findings[1].message.contains("Xk2mP"));
    assert_eq!(redact("ab"), "ab…");
}

#[test]
fn a_finding_points_at_the_secrets_columns_quotes_its_line_masked_and_names_cwe_798() {
    // Two secrets on one line: each finding's snippet shows neither.
    let text = format!("x = 1\n  KEYS = [\"{AWS_KEY_ID}\", \"{STRIPE}\"]  \n");
    let findings = scan_text("conf/keys.py", &text);
    assert_eq!(findings.len(), 2, "{findings:?}");
    let key = &findings[0];
    let region = key.region().unwrap();
    // `  KEYS = ["` is 11 characters: the key starts at column 12.
    let start = 12;
    let end = start + AWS_KEY_ID.len() as u32;
    assert_eq!(
        (
            region.start_line,
            region.start_column,
            region.end_line,
            region.end_column
        ),
        (2, Some(start), Some(2), Some(end))
    );
    for f in &findings {
        let snippet = f.snippet.as_deref().unwrap();
        assert!(snippet.starts_with("KEYS = [\""), "{snippet}");
        assert!(
            !snippet.contains(AWS_KEY_ID) && !snippet.contains(STRIPE),
            "{snippet}"
        );
        assert!(
            snippet.contains("AKIA…") && snippet.contains("sk_l…"),
            "{snippet}"
        );
        assert_eq!(f.tags, [CWE_HARD_CODED_CREDENTIALS]);
    }
    // Words without digits stay readable; a line is cut to 200 characters.
    assert_eq!(
        masked("  SIGNING_KEY = os.environ  ", ""),
        "SIGNING_KEY = os.environ"
    );
    assert_eq!(masked(&"x".repeat(300), "").chars().count(), 200);
    // A secret that is not a stretch of its line has no columns.
    assert!(columns("abc", "abc".to_owned().as_str(), 1).is_none());
    let line = "ab€cd";
    let region = columns(line, &line[5..], 4).unwrap();
    assert_eq!((region.start_column, region.end_column), (Some(4), Some(6)));
}

#[test]
fn env_files_are_scanned_for_unquoted_values() {
    let text = "JWT_SECRET=Xk2mP9qR4vT7wZ1bN6cL\nJWT_SECRET=${JWT_SECRET}\nDEBUG=true\n";
    assert_eq!(
        rule_ids(&scan_text(".env", text)),
        [("secrets/high-entropy-assignment", 1)]
    );
    assert!(scan_text("main.py", "JWT_SECRET=Xk2mP9qR4vT7wZ1bN6cL_value").is_empty());
}

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let binary = File {
        path: "logo.png".into(),
        content: vec![0x89, b'P', b'N', b'G', 0xff, 0xfe],
    };
    let mut big = "a".repeat(MAX_SCAN_BYTES);
    big.push_str(RSA_HEADER);
    let files = [
        binary,
        File::text("big.txt", big),
        File::text("ok.txt", "hello"),
    ];
    let report = scan_files(&files);
    assert!(report.findings.is_empty());
    assert_eq!(report.score, 100);
    assert_eq!(
        report.summary,
        format!("no secrets found; 2 files not scanned (binary or over {MAX_SCAN_BYTES} bytes)")
    );
}

#[test]
fn a_clean_capsule_scores_100() {
    let files = [
        File::text("app/config.py", "JWT_SECRET = os.environ[\"JWT_SECRET\"]\n"),
        File::text(
            "tests/conftest.py",
            "os.environ.setdefault(\"JWT_SECRET\", \"test-only-secret\")\n",
        ),
        File::text(
            ".env.example",
            "JWT_SECRET=changeme\nDATABASE_URL=postgresql://localhost/app\n",
        ),
    ];
    let report = scan_files(&files);
    assert!(
        report.findings.is_empty(),
        "{:?}",
        rule_ids(&report.findings)
    );
    assert_eq!(report.score, 100);
    assert_eq!(report.summary, "no secrets found");
}

#[test]
fn score_subtracts_a_penalty_per_severity_and_floors_at_zero() {
    let one_each = [
        finding(Severity::Critical),
        finding(Severity::High),
        finding(Severity::Medium),
        finding(Severity::Low),
        finding(Severity::Info),
    ];
    assert_eq!(score(&one_each), 100 - 40 - 20 - 10 - 5);
    assert_eq!(
        score(&[finding(Severity::Critical), finding(Severity::Critical)]),
        20
    );
    assert_eq!(score(&vec![finding(Severity::Critical); 3]), 0);
    assert_eq!(score(&[]), 100);
}

#[test]
fn summary_counts_findings_by_severity() {
    assert_eq!(summary(&[]), "no secrets found");
    assert_eq!(
        summary(&[finding(Severity::Critical)]),
        "1 finding: 1 critical"
    );
    assert_eq!(
        summary(&[
            finding(Severity::High),
            finding(Severity::Critical),
            finding(Severity::High)
        ]),
        "3 findings: 1 critical, 2 high"
    );
}

#[test]
fn a_leaky_capsule_is_reported_with_paths_lines_and_score() {
    let files = [
        File::text(
            "app/settings.py",
            format!("DEBUG = True\nAWS_KEY = \"{AWS_KEY_ID}\"\n"),
        ),
        File::text("deploy/id_rsa", format!("{RSA_HEADER}\nMIIEowIBAAKCAQEA\n")),
        File::text("web/app.js", format!("\n\nconst t = \"{JWT_TOKEN}\";\n")),
    ];
    let report = scan_files(&files);
    let located: Vec<(&str, Option<&str>, Option<u32>)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.path(), f.line()))
        .collect();
    assert_eq!(
        located,
        [
            (
                "secrets/aws-access-key-id",
                Some("app/settings.py"),
                Some(2)
            ),
            ("secrets/private-key", Some("deploy/id_rsa"), Some(1)),
            ("secrets/jwt", Some("web/app.js"), Some(3)),
        ]
    );
    assert_eq!(report.score, 100 - 40 - 40 - 10);
    assert_eq!(report.summary, "3 findings: 2 critical, 1 medium");
}

// --- the rule table

#[test]
fn rule_ids_are_unique_and_namespaced_and_the_catch_all_is_last() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    assert!(ids.iter().all(|id| id.starts_with("secrets/")));
    assert!(RULES[RULES.len() - 1].catch_all);
    assert_eq!(RULES.iter().filter(|r| r.catch_all).count(), 1);
    assert!(
        RULES
            .iter()
            .all(|r| r.keywords.iter().all(|k| *k == k.to_ascii_lowercase()))
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
}

// --- checksums

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(checksum::crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(&checksum::base62(0), b"000000");
    assert_eq!(&checksum::base62(61), b"00000z");
}

#[test]
fn github_and_npm_tokens_are_reported_only_with_a_valid_checksum() {
    assert!(checksum::token_checksum_ok(GITHUB_CLASSIC));
    assert!(checksum::token_checksum_ok(NPM));
    assert!(checksum::token_checksum_ok(GITHUB_PAT));
    let forged = format!("{}AAAAAA", &GITHUB_CLASSIC[..34]);
    assert!(!checksum::token_checksum_ok(&forged));
    assert_eq!(
        scan("ci.py", &format!("GH_TOKEN = \"{GITHUB_CLASSIC}\"")),
        one("secrets/github-token", 1)
    );
    assert_eq!(scan("ci.py", &format!("GH_TOKEN = \"{forged}\"")), []);
    let made = checksum::with_checksum("ghp_", "abcdefghijklmnopqrstuvwxyzABCD");
    assert!(checksum::token_checksum_ok(&made));
}

#[test]
fn npm_tokens_are_found_and_bad_checksums_ignored() {
    let npmrc = format!("//registry.npmjs.org/:_authToken={NPM}");
    assert_eq!(scan(".npmrc", &npmrc), one("secrets/npm-token", 1));
    let forged = format!("{}000000", &NPM[..34]);
    assert_eq!(scan(".npmrc", &format!("//r/:_authToken={forged}")), []);
}

// --- provider rules

#[test]
fn gitlab_tokens_are_found_but_not_placeholders() {
    assert_eq!(
        scan("ci.yml", &format!("token: {GITLAB}")),
        one("secrets/gitlab-token", 1)
    );
    assert_eq!(scan("ci.yml", "token: glpat-xxxxxxxxxxxxxxxxxxxx"), []);
    assert_eq!(scan("ci.yml", "token: glpat-aaaaaaaaaabbbbbbbbbb"), []);
}

#[test]
fn openai_style_keys_are_found_but_not_kebab_identifiers() {
    assert_eq!(
        scan("ai.py", &format!("client = OpenAI(api_key=\"{OPENAI}\")")),
        one("secrets/openai-key", 1)
    );
    assert_eq!(
        scan(
            "a.css",
            ".sk-some-very-long-kebab-case-identifier-for-a-skeleton-loader {}"
        ),
        []
    );
    assert_eq!(
        find_openai_key("task-FRIBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7"),
        None
    );
}

#[test]
fn twilio_sendgrid_and_pypi_keys_are_found() {
    assert_eq!(
        scan("sms.js", &format!("const key = '{TWILIO}';")),
        one("secrets/twilio-api-key", 1)
    );
    assert_eq!(
        scan(
            "mail.py",
            &format!("sg = SendGridAPIClient(\"{SENDGRID}\")")
        ),
        one("secrets/sendgrid-key", 1)
    );
    assert_eq!(
        scan(".pypirc", &format!("password = {PYPI}")),
        one("secrets/pypi-token", 1)
    );
}

#[test]
fn twilio_sendgrid_and_pypi_lookalikes_are_not_reported() {
    assert_eq!(find_twilio_api_key(&TWILIO.to_uppercase()), None);
    assert_eq!(find_twilio_api_key(&TWILIO[..33]), None);
    assert_eq!(find_sendgrid_key(&SENDGRID[..60]), None);
    assert_eq!(find_pypi_token("pypi-AgEIcHlwaS5vcmc"), None);
    assert_eq!(find_pypi_token(&PYPI.replacen("AgEI", "AgXX", 1)), None);
}

#[test]
fn azure_storage_keys_are_found_in_connection_strings() {
    let line = format!(
        "\"DefaultEndpointsProtocol=https;AccountName=invoices;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net\""
    );
    assert_eq!(scan("app.json", &line), one("secrets/azure-storage-key", 1));
    let dev = "UseDevelopmentStorage=true;AccountKey=<your-key>";
    assert_eq!(scan("app.json", dev), []);
    assert_eq!(
        find_azure_storage_key(&format!("AccountKey={}", &AZURE_KEY[..80])),
        None
    );
}

#[test]
fn service_account_keys_need_the_key_file_nearby_and_replace_the_pem_finding() {
    let key_file = format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"invoices\",\n  \"private_key\": \"{RSA}\\nMIIEv\\n\",\n  \"client_email\": \"ci@invoices.iam.gserviceaccount.com\"\n}}",
        RSA = concat!("-----BEGIN ", "PRIVATE KEY-----")
    );
    assert_eq!(
        scan("sa.json", &key_file),
        one("secrets/gcp-service-account", 4)
    );
    let other = format!(
        "{{\"private_key\": \"{}\\nMIIE\"}}",
        concat!("-----BEGIN ", "PRIVATE KEY-----")
    );
    assert_eq!(scan("cfg.json", &other), one("secrets/private-key", 1));
}

#[test]
fn database_and_basic_auth_urls_with_real_passwords_are_found() {
    assert_eq!(
        scan(
            "settings.py",
            "DATABASE_URL = \"postgres://billing:Qx7vR2mK9pLw@db.internal:5432/billing\""
        ),
        one("secrets/database-url-password", 1)
    );
    assert_eq!(
        scan(
            "app.js",
            "const uri = 'mongodb+srv://app:T4kz9WqP1s@cluster0.mongodb.net/app';"
        ),
        one("secrets/database-url-password", 1)
    );
    assert_eq!(
        scan(
            "fetch.sh",
            "curl https://deploy:Zr8Kq2Lm5Vx1@artifacts.internal/pkg.tgz"
        ),
        one("secrets/url-basic-auth", 1)
    );
}

#[test]
fn url_placeholders_defaults_and_references_are_not_reported() {
    for line in [
        "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
        "DATABASE_URL=postgresql://app:${DB_PASSWORD}@db/app",
        "url = \"mysql://user:<password>@host/db\"",
        "redis://:secretpassword@redis:6379/0",
        "amqp://guest:guest@rabbitmq:5672/",
        "url = f\"postgresql://{user}:{password}@{host}/{db}\"",
        "mongodb://admin:123456@localhost",
        "https://user:****@example.com",
        "https://github.com/org/repo.git",
        "url = \"postgres://app@db/app\"",
    ] {
        assert_eq!(scan("cfg.env", line), [], "{line}");
    }
}

#[test]
fn slack_webhooks_are_found() {
    assert_eq!(
        scan("notify.py", &format!("WEBHOOK = \"{SLACK_HOOK}\"")),
        one("secrets/slack-webhook", 1)
    );
    assert_eq!(
        scan(
            "notify.py",
            "WEBHOOK = \"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\""
        ),
        []
    );
}

#[test]
fn an_aws_secret_under_any_secret_name_needs_a_key_id_nearby() {
    let pair = format!(
        "const creds = {{\n  accessKeyId: \"{AWS_KEY_ID}\",\n  secretAccessKey: \"{AWS_SECRET_2}\",\n}};"
    );
    assert_eq!(
        scan("s3.js", &pair),
        [
            ("secrets/aws-access-key-id".to_string(), 2),
            ("secrets/aws-secret-near-key-id".to_string(), 3)
        ]
    );
    let alone = format!("const secretAccessKey = \"{AWS_SECRET_2}\";");
    assert_eq!(
        scan("s3.js", &alone),
        one("secrets/high-entropy-assignment", 1),
        "without a key id the catch-all still reports it"
    );
    let far = format!("id = \"{AWS_KEY_ID}\"\n\n\n\n\n\n\nfoo_secret = \"{AWS_SECRET_2}\"");
    assert_eq!(
        scan("s3.py", &far),
        [
            ("secrets/aws-access-key-id".to_string(), 1),
            ("secrets/high-entropy-assignment".to_string(), 8)
        ]
    );
    let named = format!("aws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}");
    assert_eq!(
        scan("credentials.ini", &named),
        [
            ("secrets/aws-access-key-id".to_string(), 1),
            ("secrets/aws-secret-access-key".to_string(), 2)
        ],
        "the named rule shadows the multi-part one"
    );
}

#[test]
fn digests_and_public_values_under_secret_names_are_not_reported() {
    for line in [
        "token_hash = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
        "password_digest = \"Xk2mP9qR4vT7wZ1bN6cLXk2mP9qR\"",
        "public_key = \"Xk2mP9qR4vT7wZ1bN6cLXk2mP9qR\"",
        "csrf_token_nonce = \"Xk2mP9qR4vT7wZ1bN6cL\"",
        "  \"private_key_id\": \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b\",",
    ] {
        assert_eq!(scan("a.py", line), [], "{line}");
    }
}

// --- allow-lists and suppression

#[test]
fn lock_minified_and_vendored_files_are_not_scanned_and_are_counted() {
    let secret = format!("token = \"{GITHUB_CLASSIC}\"");
    for path in [
        "package-lock.json",
        "web/yarn.lock",
        "Cargo.lock",
        "go.sum",
        "static/app.min.js",
        "static/app.js.map",
        "node_modules/x/index.js",
        "web/vendor/lib.php",
    ] {
        assert!(is_globally_allowed(path), "{path}");
    }
    assert!(!is_globally_allowed("tests/fixtures/keys.py"));
    assert!(!is_globally_allowed("src/vendors.py"));
    let report = scan_files(&[File::text("package-lock.json", secret.clone())]);
    assert!(report.findings.is_empty());
    assert_eq!(
        report.summary,
        "no secrets found; 1 file allow-listed (lock, minified or vendored)"
    );
    assert_eq!(
        scan("tests/fixtures/keys.py", &secret),
        one("secrets/github-token", 1)
    );
}

#[test]
fn template_files_are_exempt_from_the_catch_all_only() {
    let text = format!("JWT_SECRET=Xk2mP9qR4vT7wZ1bN6cL\nGH={GITHUB_CLASSIC}\n");
    assert_eq!(scan(".env.example", &text), one("secrets/github-token", 2));
    assert_eq!(
        scan(".env", &text),
        [
            ("secrets/high-entropy-assignment".to_string(), 1),
            ("secrets/github-token".to_string(), 2)
        ]
    );
}

#[test]
fn gitleaks_and_detect_secrets_markers_exempt_their_lines() {
    let text = format!(
        "a = \"{SLACK}\"  # gitleaks:allow\nb = \"{SLACK}\"  # pragma: allowlist secret\n# pragma: allowlist nextline secret\nc = \"{SLACK}\"\nd = \"{SLACK}\"\n"
    );
    assert_eq!(scan("bot.py", &text), one("secrets/slack-token", 5));
}

#[test]
fn qlp_ignore_suppresses_a_named_rule_and_is_counted() {
    let text = format!(
        "a = \"{SLACK}\"  # qlp-ignore: slack-token revoked sample from the docs\n# qlp-ignore: secrets/slack-token rotated\nb = \"{SLACK}\"\nc = \"{SLACK}\"  # qlp-ignore: slack-token\nd = \"{SLACK}\"  # qlp-ignore: jwt not this one\n"
    );
    let report = scan_files(&[File::text("bot.py", text)]);
    assert_eq!(
        rule_ids(&report.findings),
        [("secrets/slack-token", 4), ("secrets/slack-token", 5)],
        "a marker without a reason, or naming another rule, suppresses nothing"
    );
    assert_eq!(
        report.summary,
        "2 findings: 2 high; 2 suppressed (secrets/slack-token 2)"
    );
}

#[test]
fn messages_carry_the_cwe_and_the_redacted_secret() {
    let findings = scan_text("a.py", &format!("k = \"{NPM}\""));
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].message,
        "npm access token `npm_…` is hard-coded (CWE-798)"
    );
    assert_eq!(findings[0].severity, Severity::High);
}

#[test]
fn truncated_and_garbage_input_never_panics() {
    let samples = [
        format!("{RSA_HEADER}\n{AWS_KEY_ID}\n{GITHUB_CLASSIC}\n{NPM}\n{SENDGRID}\n{PYPI}\n"),
        format!(
            "AccountKey={AZURE_KEY}\n{SLACK_HOOK}\n{JWT_TOKEN}\n\"private_key\": \"-----BEGIN\n"
        ),
        "postgres://u:Qx7vR2mK9pLw@h mongodb://:@ ://@ a://b:c@ \"x\" = 'é€' :: := => =="
            .to_string(),
        "SG.\nsk-\nAKIA\nxoxb-\nglpat-\npypi-AgEIcHlwaS5vcmc\nhooks.slack.com/services/T\n"
            .to_string(),
    ];
    for sample in &samples {
        let bytes = sample.as_bytes();
        for cut in 0..=bytes.len() {
            if let Ok(prefix) = std::str::from_utf8(&bytes[..cut]) {
                let _ = scan_text("x.env", prefix);
                let _ = scan_text("x.py", &prefix[prefix.len() / 2..]);
            }
        }
    }
    let mut garbage = Vec::new();
    let mut state = 0x2545_f491_u32;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let alphabet = b" =:\"'`/@.-_\nAKIAghp_sk-SG.xoxbeyJ0123456789abcdefXYZ\r\t\\";
        garbage.push(alphabet[state as usize % alphabet.len()]);
    }
    let text = String::from_utf8_lossy(&garbage);
    let _ = scan_files(&[File::text("g.yaml", text.to_string())]);
}

#[test]
fn describe_names_the_plugin() {
    let info = Secrets::describe();
    assert_eq!(info.name, "qlp/secrets");
    assert_eq!(info.version, "0.1.0");
    assert!(matches!(info.kind, PluginKind::Validator));
    assert!(info.capabilities.is_empty());
}
