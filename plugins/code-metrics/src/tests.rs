use super::*;

fn run(path: &str, source: &str) -> Analysis {
    analyze(path, source.as_bytes()).expect("analysis")
}

/// (name, line, complexity, documented) of every function.
fn functions(a: &Analysis) -> Vec<(&str, u32, u32, bool)> {
    a.functions
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.line,
                f.cyclomatic_complexity,
                f.documented,
            )
        })
        .collect()
}

#[test]
fn go_functions_methods_and_closures() {
    let src = r#"package main

import (
	"fmt"
	str "strings"
	_ "embed"
)

// Greet says hello; if it must, twice.
func Greet(name string) string {
	if name == "" || name == "if" {
		return "hello" // for nobody && nothing
	}
	/* while ? */
	msg := `raw if for while && ||`
	return fmt.Sprint(msg, str.ToUpper(name))
}

type Server struct {
	handler func(int) error
}

// Serve handles one request.
func (s *Server) Serve(n int) error {
	switch {
	case n > 1 && n < 5:
		return nil
	case n > 9:
		return nil
	default:
	}
	f := func(x int) bool {
		return x > 0 || x < -5
	}
	_ = f
	return nil
}

func (List[T]) Len() int { return 0 }
"#;
    let a = run("main.go", src);
    assert_eq!(a.language, "go");
    assert_eq!(
        functions(&a),
        [
            ("Greet", 10, 3, true),
            ("Server.Serve", 24, 4, true),
            ("(anonymous)", 32, 2, false),
            ("List.Len", 39, 1, false),
        ]
    );
    assert_eq!(a.imports, ["fmt", "strings", "embed"]);
}

#[test]
fn go_generic_functions_are_found() {
    let a = run(
        "g.go",
        "package g\n\nfunc Map[T, U any](xs []T, f func(T) U) []U {\n\tfor range xs {\n\t}\n\treturn nil\n}\n",
    );
    assert_eq!(functions(&a), [("Map", 3, 2, false)]);
}

#[test]
fn go_comment_block_must_touch_the_declaration() {
    let a = run(
        "d.go",
        "package d\n\n// Orphan.\n\nfunc A() {}\n\n// B does.\nfunc B() {}\n",
    );
    assert_eq!(functions(&a), [("A", 5, 1, false), ("B", 8, 1, true)]);
}

#[test]
fn javascript_functions_methods_and_arrows() {
    let src = r#"const fs = require('fs')
import path from 'node:path'
import { a } from "./a.js"
export { b } from './b.js'

/**
 * Reads a file, if it exists.
 */
function read (file) {
  if (!fs.existsSync(file) && file !== 'if') {
    return null // if while
  }
  const re = /for|while?/g
  return `${file}: ${file ? 'while' : 'for'}`
}

class Store {
  /** Loads the store. */
  load (name) {
    for (const x of name) {
      if (x) { return x }
    }
  }

  save () {
    return this.items.map(item => item.id)
  }
}

const add = (a, b) => {
  return a > b ? a : b
}
module.exports = { read, Store }
"#;
    let a = run("lib/store.js", src);
    assert_eq!(a.language, "javascript");
    assert_eq!(
        functions(&a),
        [
            ("read", 9, 3, true),
            ("Store.load", 19, 3, true),
            ("Store.save", 25, 1, false),
            ("(anonymous)", 26, 1, false),
            ("add", 30, 2, false),
        ]
    );
    assert_eq!(a.imports, ["fs", "node:path", "./a.js", "./b.js"]);
}

#[test]
fn typescript_methods_with_return_types_and_optional_members() {
    let src = r#"import type { Options } from './options';

export interface Config {
  name?: string;
  port?: number;
}

/** Parses a port. */
export function parsePort(value?: string): number {
  const n = Number(value ?? '80');
  return n > 0 && n < 65536 ? n : 80;
}

export class Server {
  private config?: Config;

  @logged
  /** Starts listening. */
  start(port: number): Promise<void> {
    if (this.config?.port) {
      return Promise.resolve();
    }
    return Promise.reject(new Error('no port'));
  }
}

export const handler = async (req: Request): Promise<Response> => {
  try {
    return await fetch(req);
  } catch (e) {
    throw e;
  }
};
"#;
    let a = run("src/server.ts", src);
    assert_eq!(a.language, "typescript");
    assert_eq!(
        functions(&a),
        [
            ("parsePort", 9, 5, true),
            ("Server.start", 19, 2, true),
            ("handler", 27, 2, false),
        ]
    );
    assert_eq!(a.imports, ["./options"]);
}

#[test]
fn typescript_decorators_between_doc_and_method_are_allowed() {
    let src = "class A {\n  /** Runs. */\n  @traced()\n  run(): void {\n  }\n}\n";
    let a = run("a.ts", src);
    assert_eq!(functions(&a), [("A.run", 4, 1, true)]);
}

#[test]
fn jsx_text_and_attributes_are_no_code_but_their_expressions_are() {
    let src = r#"import React, { useState } from "react";

/** Lists the invoices; if there are none, says so. */
export function InvoiceList({ invoices }) {
  const [open, setOpen] = useState(false);
  return (
    <ul className="list if">
      {invoices.length === 0 && <li>None? if, for && while</li>}
      {invoices.map((invoice) => (
        <li key={invoice.id} onClick={() => setOpen(!open)}>
          {invoice.paid ? "paid" : "due"} for {invoice.customer}
        </li>
      ))}
      <></>
    </ul>
  );
}
"#;
    let a = run("src/InvoiceList.jsx", src);
    assert_eq!(
        functions(&a),
        [
            ("InvoiceList", 4, 2, true),
            ("(anonymous)", 9, 2, false),
            ("(anonymous)", 10, 1, false),
        ]
    );
    assert_eq!(a.imports, ["react"]);
    assert_eq!(
        (a.lines_of_code, a.comment_lines, a.blank_lines),
        (15, 1, 1)
    );
}

#[test]
fn rust_functions_methods_and_conditions() {
    let src = r##"use std::collections::HashMap;
use serde::Deserialize;
use crate::config::Settings;
use crate::{a, b};
use super::parent;
extern crate alloc;

/// Adds, if it must.
#[inline]
pub fn add<'a, T: Copy>(x: &'a T, y: Option<T>) -> Result<T, ()> where T: Default {
    let c = 'x';
    let s = r#"if "while" for"#;
    // if && ||
    let v = y.ok_or(())?;
    match v {
        _ if c == 'y' && s.is_empty() => Ok(v),
        _ => Ok(*x),
    }
}

pub struct Point {
    pub f: fn(i32) -> i32,
}

impl<T> Iterator for Wrapper<T> {
    type Item = T;

    #[doc = "Next item."]
    fn next(&mut self) -> Option<T> {
        if self.done || self.items.is_empty() {
            return None;
        }
        self.items.pop()
    }
}

impl Point {
    fn origin() -> Self {
        let close = |a: i32| a > 0;
        Point { f: |x| x }
    }
}
"##;
    let a = run("src/lib.rs", src);
    assert_eq!(a.language, "rust");
    assert_eq!(
        functions(&a),
        [
            ("add", 10, 6, true),
            ("Wrapper::next", 29, 3, true),
            ("Point::origin", 38, 1, false),
        ]
    );
    assert_eq!(
        a.imports,
        ["std", "serde", "crate::config", "crate", "alloc"]
    );
}

#[test]
fn rust_nested_block_comments_and_raw_strings_hide_code() {
    let src = "/* outer /* inner */ fn hidden() { if x {} } */\nfn shown() {\n    let s = r#\"fn fake() { if a {} }\"#;\n}\n";
    let a = run("c.rs", src);
    assert_eq!(functions(&a), [("shown", 2, 1, false)]);
}

#[test]
fn java_methods_constructors_and_nested_classes() {
    let src = r#"package org.example;

import java.util.List;
import static java.util.Objects.requireNonNull;
import java.util.concurrent.*;

/** A shop. */
public class Shop<T extends Item> {
    private final List<T> items;

    /** Creates a shop. */
    public Shop(List<T> items) {
        this.items = requireNonNull(items);
    }

    @Override
    public String toString() {
        String s = """
            if while for case
            """;
        return items.isEmpty() ? "empty" : s;
    }

    static class Cart {
        /**
         * Totals the cart.
         */
        @Deprecated
        int total(List<? extends Item> xs) throws IllegalStateException {
            int sum = 0;
            for (Item x : xs) {
                switch (x.kind()) {
                    case A: sum += 1; break;
                    case B: sum += 2; break;
                    default: break;
                }
            }
            return sum > 0 && sum < 100 ? sum : 0;
        }
    }
}
"#;
    let a = run("src/main/java/org/example/Shop.java", src);
    assert_eq!(a.language, "java");
    assert_eq!(
        functions(&a),
        [
            ("Shop.Shop", 12, 1, true),
            ("Shop.toString", 17, 2, false),
            ("Shop.Cart.total", 29, 6, true),
        ]
    );
    assert_eq!(
        a.imports,
        [
            "java.util.List",
            "java.util.Objects.requireNonNull",
            "java.util.concurrent.*"
        ]
    );
}

#[test]
fn lines_are_code_comment_or_blank() {
    let src = "// head\n\nfunc main() { // trailing\n\t/* a\n\n\t b */\n\ts := `x\n\n`\n}\n";
    let a = run("m.go", src);
    // Code: 3, 7, 8, 9, 10; comment: 1, 4, 6; blank: 2, 5.
    assert_eq!((a.lines_of_code, a.comment_lines, a.blank_lines), (5, 3, 2));
}

#[test]
fn doc_coverage_counts_named_functions_and_types() {
    let src = "package p\n\n// T is documented.\ntype T struct{}\n\ntype U int\n\n// F is.\nfunc F() { go func() {}() }\n\nfunc g() {}\n";
    let a = run("p.go", src);
    // Documented: T, F; not: U, g; the function literal is left out.
    assert!((a.doc_coverage - 0.5).abs() < 1e-6, "{}", a.doc_coverage);
    let empty = run("e.go", "package e\n");
    assert_eq!(empty.doc_coverage, 1.0);
}

#[test]
fn errors_for_large_non_utf8_and_unknown_files() {
    let big = vec![b'a'; MAX_FILE_BYTES + 1];
    assert_eq!(analyze("big.go", &big).unwrap_err().code, "FILE_TOO_LARGE");
    let err = analyze("bad.rs", b"fn a() {}\n\xff\xfe").unwrap_err();
    assert_eq!(err.code, "NOT_UTF8");
    assert!(err.message.contains("line 2"), "{}", err.message);
    assert_eq!(
        analyze("x.py", b"pass").unwrap_err().code,
        "UNSUPPORTED_LANGUAGE"
    );
}

#[test]
fn extensions_map_to_languages() {
    for (path, lang) in [
        ("a.go", "go"),
        ("a.jsx", "javascript"),
        ("a.mjs", "javascript"),
        ("a.tsx", "typescript"),
        ("a.rs", "rust"),
        ("A.java", "java"),
    ] {
        assert_eq!(run(path, "").language, lang, "{path}");
    }
}

/// A small deterministic generator, so the soup is the same on every run.
fn soup(seed: u64, len: usize, alphabet: &[&str]) -> String {
    let mut state = seed;
    let mut out = String::new();
    for _ in 0..len {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push_str(alphabet[(state >> 33) as usize % alphabet.len()]);
    }
    out
}

#[test]
fn garbage_and_truncated_sources_never_panic() {
    let alphabet = [
        "{", "}", "(", ")", "[", "]", "<", ">", "func", "fn", "function", "class", "impl", "=>",
        "'", "\"", "`", "${", "/", "*", "#", "@", "r#\"", "\"\"\"", "?", "&&", "if", "\n", " ",
        "x", "::", ".", ";", ":", "=", "/*", "*/", "//", "\\", "é", "import", "use", "type",
    ];
    let samples = [
        include_str!("../tests/corpus/java/org/example/util/JsonTokenizer.java"),
        include_str!("../tests/corpus/typescript/cac/Command.ts"),
        "package main\n\nfunc (s *S) A[T any]() { if x { go func() { } } }\n",
        "impl<'a> X for Y<'a> { fn a(&self) -> &'a str { r##\"x\"## } }\n",
    ];
    for path in ["a.go", "a.js", "a.ts", "a.rs", "a.java"] {
        for seed in 0..40 {
            let text = soup(seed, 400, &alphabet);
            let _ = analyze(path, text.as_bytes());
        }
        for sample in samples {
            for cut in (0..sample.len()).step_by(7) {
                let _ = analyze(path, &sample.as_bytes()[..cut]);
            }
        }
        // Deep nesting stays bounded.
        let deep = "{(".repeat(20_000);
        let _ = analyze(path, deep.as_bytes());
        let closes = "})".repeat(20_000);
        let _ = analyze(path, closes.as_bytes());
    }
}
