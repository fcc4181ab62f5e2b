//! Tests of the pack as a whole: parsing errors name the rule and the
//! reason, limits hold, and `check` reports lines, columns, severities,
//! substituted messages and fixes.

use super::*;

const PACK: &str = r#"
rules:
  - id: acme/no-print-in-services
    message: Use the structured logger instead of print($ARG).
    severity: medium
    languages: [python]
    paths: { include: ["src/**"], exclude: ["**/tests/**"] }
    pattern: print($ARG)
    fix: logger.info($ARG)
    metadata: { tags: [logging], controls: ["SOC2 CC7.2"], cwe: ["CWE-532"], references: [x] }
  - id: acme/no-todo
    message: Track work in the issue tracker ($WHO).
    severity: INFO
    languages: [generic]
    pattern-regex: 'TODO\((?P<WHO>\w+)\)'
"#;

#[test]
fn check_reports_position_severity_and_substitutions() {
    let pack = Pack::parse(PACK).unwrap();
    let code = "import x\n\nif ok:\n    print(user)  # TODO(ann)\n";
    let found = pack.check("src/app.py", code);
    assert_eq!(found.len(), 2, "{found:#?}");
    let print = &found[0];
    assert_eq!(print.rule_id, "acme/no-print-in-services");
    assert_eq!((print.line, print.column), (4, 5));
    assert_eq!(print.severity, Severity::Medium);
    assert_eq!(print.snippet, "print(user)");
    assert_eq!(
        print.message,
        "Use the structured logger instead of print(user)."
    );
    assert_eq!(print.fix.as_deref(), Some("logger.info(user)"));
    assert_eq!(print.metadata.controls, ["SOC2 CC7.2"]);
    assert_eq!(print.metadata.cwe, ["CWE-532"]);
    assert_eq!(print.metadata.tags, ["logging"]);
    let todo = &found[1];
    assert_eq!(todo.rule_id, "acme/no-todo");
    assert_eq!(todo.severity, Severity::Low, "Semgrep's INFO is low");
    assert_eq!((todo.line, todo.column), (4, 20));
    assert_eq!(todo.message, "Track work in the issue tracker (ann).");
}

#[test]
fn paths_and_languages_choose_the_files() {
    let pack = Pack::parse(PACK).unwrap();
    let code = "print(x)\n";
    assert_eq!(pack.check("src/app.py", code).len(), 1);
    assert!(
        pack.check("src/tests/test_app.py", code).is_empty(),
        "excluded"
    );
    assert!(
        pack.check("scripts/app.py", code).is_empty(),
        "not included"
    );
    assert!(pack.check("src/app.js", code).is_empty(), "not python");
    assert_eq!(
        pack.check("README.md", "TODO(bob) x").len(),
        1,
        "generic reads any file"
    );
}

#[test]
fn oversized_files_are_skipped() {
    let pack = Pack::parse(PACK).unwrap();
    let mut big = "print(x)\n".to_string();
    big.push_str(&" ".repeat(MAX_FILE_BYTES));
    assert!(pack.check("src/app.py", &big).is_empty());
}

#[test]
fn pattern_not_and_pattern_either() {
    let pack = Pack::parse(
        r#"
rules:
  - id: t/timeout
    message: requests call without timeout
    severity: high
    languages: [python]
    pattern-either:
      - pattern: requests.get(...)
      - pattern: requests.post(...)
    pattern-not: requests.$M(..., timeout=$T, ...)
"#,
    )
    .unwrap();
    let code = "requests.get(u)\nrequests.post(u, timeout=3)\nrequests.post(u, json=b)\n";
    let lines: Vec<u32> = pack.check("a.py", code).iter().map(|m| m.line).collect();
    assert_eq!(lines, [1, 3]);
}

fn err(yaml: &str) -> String {
    Pack::parse(yaml).unwrap_err().to_string()
}

fn one_rule(body: &str) -> String {
    format!("rules:\n  - id: acme/r\n{body}")
}

const BASE: &str = "    message: m\n    severity: low\n    languages: [python]\n";

#[test]
fn every_refusal_names_the_rule_and_the_reason() {
    assert_eq!(
        err("rules:\n  - message: m\n    severity: low\n    languages: [go]\n    pattern: x\n"),
        "rule #1 (no id): missing `id`"
    );
    assert_eq!(
        err("rules:\n  - id: Acme/R\n    message: m\n"),
        "rule #1 (no id): invalid id `Acme/R`: use [a-z0-9._/-], at most 128 bytes"
    );
    let dup = format!("rules:\n  - id: a\n{BASE}    pattern: x\n  - id: a\n{BASE}    pattern: y\n");
    assert_eq!(err(&dup), "rule `a`: duplicate id (also rule #1)");
    assert_eq!(
        err(&one_rule(
            "    message: m\n    severity: urgent\n    languages: [go]\n    pattern: x\n"
        )),
        "rule `acme/r`: unknown severity `urgent` (info, low, medium, high, critical; or INFO, WARNING, ERROR)"
    );
    assert_eq!(
        err(&one_rule(
            "    message: m\n    severity: low\n    languages: [cobol]\n    pattern: x\n"
        )),
        "rule `acme/r`: unknown language `cobol` (python, javascript, typescript, go, rust, java, generic)"
    );
    assert_eq!(
        err(&one_rule(BASE)),
        "rule `acme/r`: no pattern: give one of `pattern`, `pattern-regex`, `pattern-either`"
    );
    assert_eq!(
        err(&one_rule(&format!(
            "{BASE}    pattern: x\n    pattern-regex: y\n"
        ))),
        "rule `acme/r`: two kinds of pattern: `pattern` and `pattern-regex` (give exactly one)"
    );
    assert!(
        err(&one_rule(&format!("{BASE}    pattern-regex: 'a(b'\n")))
            .starts_with("rule `acme/r`: `pattern-regex`: invalid regex:")
    );
    assert_eq!(
        err(&one_rule(&format!("{BASE}    pattern: foo(x\n"))),
        "rule `acme/r`: `pattern` does not tokenise as python: unclosed `(`"
    );
    assert_eq!(
        err(&one_rule(&format!(
            "{BASE}    pattern: x\n    pattern-not: \"f('a)\"\n"
        ))),
        "rule `acme/r`: `pattern-not` does not tokenise as python: line 1 column 3: unterminated string"
    );
    assert_eq!(
        err(&one_rule(&format!(
            "{BASE}    pattern: x\n    paths: {{ include: [\"src/[ab\"] }}\n"
        ))),
        "rule `acme/r`: invalid glob `src/[ab`: unclosed `[`"
    );
    assert_eq!(
        err(&one_rule(&format!("{BASE}    patterns: [x]\n"))),
        "rule `acme/r`: unknown key `patterns`"
    );
    assert_eq!(
        err(&one_rule(&format!(
            "{BASE}    pattern: x\n    paths: {{ only: [a] }}\n"
        ))),
        "rule `acme/r`: unknown key `paths.only`"
    );
    assert_eq!(
        err(&one_rule(&format!(
            "{BASE}    pattern-either:\n      - pattern-inside: x\n"
        ))),
        "rule `acme/r`: unknown key `pattern-either[].pattern-inside`"
    );
    assert_eq!(
        err(&one_rule(
            "    severity: low\n    languages: [go]\n    pattern: x\n"
        )),
        "rule `acme/r`: missing `message`"
    );
    assert_eq!(
        err(&one_rule(
            "    message: m\n    severity: low\n    pattern: x\n"
        )),
        "rule `acme/r`: missing `languages`"
    );
}

#[test]
fn pack_level_refusals() {
    assert!(err("rules: [").starts_with("the rule pack is not valid YAML"));
    assert_eq!(
        err("- a\n- b\n"),
        "the rule pack must be a mapping with a `rules:` list"
    );
    assert_eq!(
        err(""),
        "the rule pack must be a mapping with a `rules:` list (the text is empty)"
    );
    assert_eq!(
        err("rules: []\nextra: 1\n"),
        "the rule pack must be a mapping with a `rules:` list (unknown top-level key `extra`)"
    );
    let dup_key = format!("rules:\n  - id: a\n{BASE}    pattern: x\n    pattern: y\n");
    assert!(
        err(&dup_key).contains("duplicated key"),
        "{}",
        err(&dup_key)
    );
}

#[test]
fn limits_hold() {
    let mut many = String::from("rules:\n");
    for i in 0..=pack::MAX_RULES {
        many.push_str(&format!("  - id: r{i}\n{BASE}    pattern: x\n"));
    }
    assert_eq!(
        err(&many),
        "the rule pack has 1001 rules; at most 1000 are allowed"
    );
    let long = format!(
        "{BASE}    pattern-regex: '{}'\n",
        "a".repeat(pack::MAX_PATTERN_BYTES + 1)
    );
    assert_eq!(
        err(&one_rule(&long)),
        "rule `acme/r`: `pattern-regex` is 4097 bytes; at most 4096 are allowed"
    );
    // Small to write, huge to compile: refused by the size limit.
    let huge = format!("{BASE}    pattern-regex: '(\\w{{100}}){{100}}'\n");
    assert!(
        err(&one_rule(&huge)).contains("size limit"),
        "{}",
        err(&one_rule(&huge))
    );
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nrules: []\n";
    assert!(err(laughs).contains("aliases"), "{}", err(laughs));
    let deep = format!("rules: {}{}\n", "[".repeat(200), "]".repeat(200));
    assert!(err(&deep).contains("nested more than"), "{}", err(&deep));
    let too_many_tokens = format!(
        "{BASE}    pattern: '{}'\n",
        "a ".repeat(pattern::MAX_PATTERN_TOKENS + 1)
    );
    assert!(err(&one_rule(&too_many_tokens)).contains("tokens; at most 512"));
}

#[test]
fn substitute_replaces_only_bound_names() {
    let b = vec![
        ("$X".to_string(), "a.b".to_string()),
        ("$X_2".to_string(), "c".to_string()),
    ];
    assert_eq!(
        substitute("$X and $X_2, $Y, $ and $x", &b),
        "a.b and c, $Y, $ and $x"
    );
}

/// A tiny deterministic generator for the byte-soup tests.
struct Soup(u64);

impl Soup {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, len: usize, alphabet: &[u8]) -> String {
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[test]
fn tokenizer_matcher_and_parser_never_panic_on_byte_soup() {
    let code_alphabet = b"abcXYZ_$019 \n\t'\"`#/*\\{}[]()<>.,;:=!-+rbf\xc3\xa9\xff";
    let yaml_alphabet = b"rules:- id\n  \t[]{},&*!|>'\"#%@`?abc123";
    let mut soup = Soup(0x9e37_79b9_7f4a_7c15);
    let pack = Pack::parse(
        "rules:\n  - id: a\n    message: $X\n    severity: low\n    languages: [python, javascript, typescript, go, rust, java, generic]\n    pattern: $X(..., \"...\", $X)\n    pattern-not: f(...)\n",
    )
    .unwrap();
    for round in 0..400 {
        let text = soup.text(1 + round * 3, code_alphabet);
        for lang in Language::ALL {
            let _ = token::tokenize(&text, lang, token::Mode::Source);
            let _ = token::tokenize(&text, lang, token::Mode::Pattern);
            let _ = pattern::Pattern::compile(&text, lang);
        }
        for path in ["a.py", "a.js", "a.ts", "a.go", "a.rs", "A.java", "a.txt"] {
            let _ = pack.check(path, &text);
        }
        let _ = Pack::parse(&text);
        let _ = Pack::parse(&soup.text(1 + round * 2, yaml_alphabet));
        // Truncations of a valid pack.
        let cut_at = round % PACK.len();
        if PACK.is_char_boundary(cut_at) {
            let _ = Pack::parse(&PACK[..cut_at]);
        }
    }
}
