//! Unit tests of the secret scanner: each rule's positive and negative
//! cases, line numbering, suppression and score arithmetic. The fake secrets
//! are assembled with `concat!` so this file itself does not look like a leak
//! to other scanners.

use super::*;

const AWS_KEY_ID: &str = concat!("AK", "IA", "UJZDE8GXD6NCF10E");
const AWS_SECRET: &str = concat!("El2hpChYgCfrL1sp", "NxnyVmihA+2O76UMFxFkM+R5");
const GITHUB_CLASSIC: &str = concat!("gh", "p_", "sMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8");
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

fn rule_ids(findings: &[Finding]) -> Vec<(&str, u32)> {
    findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.line.unwrap_or(0)))
        .collect()
}

fn finding(severity: Severity) -> Finding {
    Finding {
        rule_id: "x".into(),
        severity,
        message: String::new(),
        path: None,
        line: None,
    }
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
    assert!(
        findings
            .iter()
            .all(|f| f.path.as_deref() == Some("settings.py"))
    );
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
        .map(|f| (f.rule_id.as_str(), f.path.as_deref(), f.line))
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

#[test]
fn describe_names_the_plugin() {
    let info = Secrets::describe();
    assert_eq!(info.name, "qlp/secrets");
    assert_eq!(info.version, "0.1.0");
    assert!(matches!(info.kind, PluginKind::Validator));
    assert!(info.capabilities.is_empty());
}
