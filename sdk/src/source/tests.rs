//! Tests of the tokenizer and of the call navigation.

use super::code::{Code, Value, is_built_string, value_of};
use super::lex::{Kind, Lang, tokenize};

#[test]
fn the_tokenizer_drops_comments_and_keeps_strings_whole() {
    let toks = tokenize(
        Lang::Python,
        "x = f'{a}'  # eval(x)\ny = \"\"\"eval(\n)\"\"\"\nz = r'\\d'",
    );
    let kinds: Vec<(Kind, &str, u32)> = toks.iter().map(|t| (t.kind, t.text, t.line)).collect();
    assert_eq!(
        kinds,
        [
            (Kind::Ident, "x", 1),
            (Kind::Punct, "=", 1),
            (Kind::Str, "f'{a}'", 1),
            (Kind::Ident, "y", 2),
            (Kind::Punct, "=", 2),
            (Kind::Str, "\"\"\"eval(\n)\"\"\"", 2),
            (Kind::Ident, "z", 4),
            (Kind::Punct, "=", 4),
            (Kind::Str, "r'\\d'", 4),
        ]
    );
    assert!(toks[2].interpolated);
    assert!(!toks[5].interpolated);
}

#[test]
fn javascript_regexes_templates_and_rust_lifetimes_are_told_apart() {
    let js = tokenize(
        Lang::JavaScript,
        "const q = /'/g; const t = `a ${b + `c`} d`; x = a / b / c; /* ' */",
    );
    let strs: Vec<&str> = js
        .iter()
        .filter(|t| t.kind == Kind::Str)
        .map(|t| t.text)
        .collect();
    assert_eq!(strs, ["/'/g", "`a ${b + `c`} d`"]);
    assert_eq!(js.iter().filter(|t| t.is_punct("/")).count(), 2);
    let rust = tokenize(
        Lang::Rust,
        "fn f<'a>(s: &'a str) -> char { let r = r#\"a \"q\" b\"#; '\\'' }",
    );
    let strs: Vec<&str> = rust
        .iter()
        .filter(|t| t.kind == Kind::Str)
        .map(|t| t.text)
        .collect();
    assert_eq!(strs, ["r#\"a \"q\" b\"#", "'\\''"]);
}

#[test]
fn languages_are_chosen_by_extension() {
    assert_eq!(Lang::of_path("app/main.py"), Some(Lang::Python));
    assert_eq!(Lang::of_path("src/App.TSX"), Some(Lang::JavaScript));
    assert_eq!(Lang::of_path("cmd/main.go"), Some(Lang::Go));
    assert_eq!(Lang::of_path("src/lib.rs"), Some(Lang::Rust));
    assert_eq!(Lang::of_path("A.java"), Some(Lang::Java));
    assert_eq!(Lang::of_path("Dockerfile"), None);
    assert_eq!(Lang::of_path(".env"), None);
}

#[test]
fn calls_are_found_with_their_callee_and_arguments_and_definitions_are_not() {
    let text = "def run(x):\n    subprocess.run(['ls', x], shell=True)\n    q = f'{x}'\n";
    let code = Code::new(Lang::Python, tokenize(Lang::Python, text));
    let calls: Vec<usize> = code.calls().collect();
    assert_eq!(calls.len(), 1, "the definition `def run(x)` is not a call");
    let open = calls[0];
    assert_eq!(code.callee(open).0, "subprocess.run");
    assert_eq!(code.callee_name(open), "run");
    assert_eq!(code.tok(open).map(|t| t.line), Some(2));
    let args = code.args(open);
    assert_eq!(args.len(), 2);
    assert_eq!(value_of(code.slice(args[0])), Value::Dynamic);
    let shell = code.kwarg(&args, "shell").expect("shell=True");
    assert!(code.is_word(shell, "True"));
    let literal = tokenize(Lang::Python, "['ls', '-l']");
    assert_eq!(value_of(&literal), Value::Literal);
    assert_eq!(value_of(&[]), Value::Empty);
    assert!(is_built_string(&tokenize(Lang::Python, "f'{x}'")));
    assert!(is_built_string(&tokenize(Lang::Python, "'a' + x")));
    assert!(!is_built_string(&literal));

    let rust = "fn f(a: &str) { let s = format!(\"{a}\"); }";
    let code = Code::new(Lang::Rust, tokenize(Lang::Rust, rust));
    let callees: Vec<String> = code.calls().map(|open| code.callee(open).0).collect();
    assert_eq!(callees, ["format"]);
}

#[test]
fn truncated_and_mangled_sources_never_panic() {
    let samples = [
        "def f(x):\n    return eval(f'{x}' + \"\"\"a\n",
        "const t = `a ${b + `c ${d",
        "fn f<'a>(s: &'a str) { let r = r#\"x",
        "func main() { fmt.Sprintf(\"%s\", `raw",
        "class A { String s = \"\\",
        "/* unterminated ' \" ` comment",
        "\u{feff}é\u{0}\u{7f}(((((",
    ];
    for lang in [
        Lang::Python,
        Lang::JavaScript,
        Lang::Go,
        Lang::Rust,
        Lang::Java,
    ] {
        for text in samples {
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let code = Code::new(lang, tokenize(lang, &text[..end]));
                for open in code.calls() {
                    let _ = code.callee(open);
                    for arg in code.args(open) {
                        let _ = value_of(code.slice(arg));
                        let _ = is_built_string(code.slice(arg));
                    }
                }
                for i in 0..code.toks.len() {
                    let _ = code.in_definition(i);
                }
            }
        }
    }
}
