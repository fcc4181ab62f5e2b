//! Tests of `qlp/security`: clean projects of each stack stay silent, every
//! rule finds its planted problem at the right path and line in each
//! language it covers, suppressions work and are counted, and the projects
//! QLP's own agents generate carry no high or critical finding.

use std::collections::BTreeMap;

use super::*;
use qlp_sdk::{CapsuleView, Severity};

/// Rule id, path and line of each finding.
fn located(report: &Report) -> Vec<(&str, &str, u32)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.path().unwrap_or(""),
                f.line().unwrap_or(0),
            )
        })
        .collect()
}

/// Rule id and line of each hit in one file.
fn hits(path: &str, text: &str) -> Vec<(&'static str, u32)> {
    scan_text(path, text)
        .into_iter()
        .map(|h| (h.rule.id, h.line))
        .collect()
}

fn capsule(files: Vec<File>) -> CapsuleView {
    CapsuleView {
        intent: qlp_sdk::Intent {
            id: "00000000-0000-0000-0000-000000000000".into(),
            description: "An API for invoices".into(),
            requirements: vec![],
            constraints: vec![],
            tier: "standard".into(),
        },
        files,
        analyses: vec![],
        validations: vec![],
        quality_score: None,
    }
}

// --- clean projects

const CLEAN_PYTHON: &str = r#""""Invoice API.

Never write `cursor.execute("SELECT * FROM invoices WHERE id = " + invoice_id)`;
eval(user_input) and pickle.loads(body) are mentioned here only as warnings.
"""
import hashlib
import subprocess

import bcrypt
import httpx
import yaml
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI(debug=settings.debug)
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com"],
    allow_credentials=True,
)
# cursor.execute(f"SELECT * FROM invoices WHERE id = {invoice_id}")  -- old code


def find(cursor, invoice_id: int):
    cursor.execute("SELECT * FROM invoices WHERE id = %s", (invoice_id,))
    sql = "SELECT id, total FROM invoices WHERE customer = ?"
    cursor.execute(sql, (invoice_id,))
    return cursor.fetchone()


def etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def legacy_etag(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def hash_password(password: str) -> bytes:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())


def archive(name: str) -> None:
    subprocess.run(["tar", "czf", name, "data"], check=True)
    subprocess.run("ls -l", shell=True, check=True)


def settings_file(path: str) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def fetch(url: str) -> httpx.Response:
    return httpx.get(url, verify=True, timeout=5)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="0.0.0.0", port=8000)
"#;

const CLEAN_TS: &str = r#"import express from "express";
import cors from "cors";
import { createHash, randomBytes, scryptSync } from "node:crypto";
import { execFile } from "node:child_process";

// eval(req.body.code) would be a disaster; so would exec(`rm -rf ${dir}`).
const app = express();
app.use(cors({ origin: ["https://app.example.com"], credentials: true }));

const quote = /'/g;
const sql = "SELECT * FROM invoices WHERE id = $1";

app.get("/invoices/:id", async (req, res) => {
  const rows = await pool.query(sql, [req.params.id]);
  const etag = createHash("sha256").update(JSON.stringify(rows)).digest("hex");
  res.setHeader("ETag", etag.replace(quote, ""));
  res.json(rows);
});

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return scryptSync(password, salt, 64).toString("hex");
}

export function listDir(dir: string): void {
  execFile("ls", ["-l", dir], () => {});
  const match = /(\d+)/.exec(dir);
  console.log(match);
}

app.listen(3000, "0.0.0.0");
"#;

const CLEAN_GO: &str = r#"package main

import (
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"net/http"
	"os/exec"
)

// db.Query("SELECT * FROM invoices WHERE id = " + id) is what we avoid.
func find(db *sql.DB, id string) (*sql.Rows, error) {
	return db.Query("SELECT id, total FROM invoices WHERE id = $1", id)
}

func etag(body []byte) [32]byte {
	return sha256.Sum256(body)
}

func list(dir string) ([]byte, error) {
	return exec.Command("ls", "-l", dir).Output()
}

func client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
}

func main() {
	w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
	http.ListenAndServe("0.0.0.0:8080", nil)
}
"#;

const CLEAN_RUST: &str = r#"//! Invoices. `danger_accept_invalid_certs(true)` is never used here.
use std::process::Command;

fn find<'a>(pool: &'a PgPool, id: i64) -> impl Future + 'a {
    let c = 'x';
    sqlx::query("SELECT id, total FROM invoices WHERE id = $1").bind(id).fetch_one(pool)
}

fn list(dir: &str) -> std::io::Result<std::process::Output> {
    Command::new("ls").arg("-l").arg(dir).output()
}

fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().danger_accept_invalid_certs(false).build()
}

fn cors() -> CorsLayer {
    CorsLayer::new().allow_origin("https://app.example.com".parse::<HeaderValue>().unwrap())
}
"#;

const CLEAN_JAVA: &str = r#"package com.example.invoices;

import java.security.MessageDigest;
import java.sql.PreparedStatement;

/** Never build "SELECT * FROM invoices WHERE id = " + id by hand. */
public class InvoiceRepository {
    public Invoice find(Connection conn, long id) throws Exception {
        PreparedStatement st = conn.prepareStatement("SELECT * FROM invoices WHERE id = ?");
        st.setLong(1, id);
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        return map(st.executeQuery());
    }
}
"#;

#[test]
fn clean_projects_of_every_stack_have_no_findings() {
    let files = vec![
        File::text("app/main.py", CLEAN_PYTHON),
        File::text("src/app.ts", CLEAN_TS),
        File::text("main.go", CLEAN_GO),
        File::text("src/lib.rs", CLEAN_RUST),
        File::text("src/main/java/InvoiceRepository.java", CLEAN_JAVA),
        File::text(
            ".env.example",
            "DEBUG=false\nNODE_TLS_REJECT_UNAUTHORIZED=1\n",
        ),
        File::text(
            "Dockerfile",
            "FROM python:3.12-slim\n# NODE_TLS_REJECT_UNAUTHORIZED=0 was needed once\nCMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\"]\n",
        ),
        File::text(
            "README.md",
            "Run `app.run(debug=True)` only on your laptop; never set\n\
             NODE_TLS_REJECT_UNAUTHORIZED=0 or `Access-Control-Allow-Origin: *`.\n",
        ),
    ];
    let report = Security::validate(&Capsule::from(&capsule(files))).unwrap();
    assert_eq!(located(&report), [], "{:#?}", report.findings);
    assert_eq!(report.score, 100);
    assert_eq!(report.summary, "no security findings");
}

// --- security/sql-injection

#[test]
fn sql_built_from_values_and_run_is_found_in_every_language() {
    let python = "\
def find(cursor, name, id):
    cursor.execute(f\"SELECT * FROM users WHERE name = '{name}'\")
    cursor.execute(\"SELECT * FROM users WHERE id = %s\" % id)
    cursor.execute(\"DELETE FROM users WHERE id = {}\".format(id))
    cursor.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\")
    query = f\"UPDATE users SET name = '{name}' WHERE id = {id}\"
    db.session.execute(text(query))
    cursor.execute(
        f\"\"\"
        SELECT * FROM users WHERE id = {id}
        \"\"\"
    )
";
    assert_eq!(
        hits("app/users.py", python),
        [
            ("security/sql-injection", 2),
            ("security/sql-injection", 3),
            ("security/sql-injection", 4),
            ("security/sql-injection", 5),
            ("security/sql-injection", 6),
            ("security/sql-injection", 9),
        ]
    );
    let ts = "const rows = await pool.query(`SELECT * FROM users WHERE id = ${req.params.id}`);\n\
              const q = \"SELECT * FROM users WHERE name = '\" + name + \"'\";\n\
              await db.query(q);\n";
    assert_eq!(
        hits("src/users.ts", ts),
        [("security/sql-injection", 1), ("security/sql-injection", 2)]
    );
    let go = "func f(db *sql.DB, id string) {\n\
              \tdb.Query(\"SELECT * FROM users WHERE id = \" + id)\n\
              \tq := fmt.Sprintf(\"DELETE FROM users WHERE id = %s\", id)\n\
              \tdb.Exec(q)\n}\n";
    assert_eq!(
        hits("users.go", go),
        [("security/sql-injection", 2), ("security/sql-injection", 3)]
    );
    let rust = "async fn f(pool: &PgPool, id: &str) {\n    sqlx::query(&format!(\"SELECT * FROM users WHERE id = {id}\")).execute(pool).await;\n}\n";
    assert_eq!(hits("src/db.rs", rust), [("security/sql-injection", 2)]);
    let java = "class R {\n  void f(Statement st, String id) {\n    st.executeQuery(\"SELECT * FROM users WHERE id = \" + id);\n  }\n}\n";
    assert_eq!(hits("R.java", java), [("security/sql-injection", 3)]);
}

#[test]
fn sql_messages_name_the_sink_cwe_and_fix() {
    let text = "q = f\"SELECT * FROM t WHERE a = {a}\"\nrows = cursor.execute(q)\n";
    let found = scan_text("a.py", text);
    assert_eq!(found.len(), 1);
    let message = &found[0].message;
    assert!(message.contains("`cursor.execute` on line 2"), "{message}");
    assert!(message.contains("CWE-89"), "{message}");
    assert!(message.contains("bound parameters"), "{message}");
}

#[test]
fn a_finding_is_tagged_with_its_rules_cwe_and_quotes_its_line() {
    let text =
        "def f(a):\n    q = f\"SELECT * FROM t WHERE a = {a}\"   \n    rows = cursor.execute(q)\n";
    let report = scan_files(&[File::text("a.py", text)]);
    let finding = &report.findings[0];
    // The finding is where the statement is built.
    assert_eq!((finding.path(), finding.line()), (Some("a.py"), Some(2)));
    assert_eq!(finding.tags, ["cwe:CWE-89"]);
    assert_eq!(
        finding.snippet.as_deref(),
        Some("q = f\"SELECT * FROM t WHERE a = {a}\"")
    );
    // Past the file's last line there is nothing to quote.
    let hit = scan_text("a.py", text).remove(0);
    let beyond = Hit { line: 9, ..hit };
    let lines: Vec<&str> = text.lines().collect();
    assert!(super::finding("a.py", &lines, beyond).snippet.is_none());
}

#[test]
fn tagged_sql_templates_bind_their_values_and_are_not_reported() {
    let ts = "const rows = await db.query(sql`SELECT * FROM users WHERE id = ${id}`);\n\
              const more = await prisma.$queryRaw`SELECT * FROM users WHERE id = ${id}`;\n";
    assert_eq!(hits("src/db.ts", ts), []);
}

#[test]
fn sql_that_is_only_formatted_and_never_run_is_not_reported() {
    let text = "message = f\"SELECT * FROM users WHERE id = {id} failed\"\nlog.info(message)\n";
    assert_eq!(hits("a.py", text), []);
}

// --- security/command-injection

#[test]
fn shell_commands_built_from_values_are_found() {
    let python = "import os, subprocess\n\
                  subprocess.run(f\"tar czf {name} data\", shell=True)\n\
                  subprocess.Popen(cmd, shell=True)\n\
                  os.system(\"rm -rf \" + path)\n\
                  subprocess.run(\"ls\", shell=True)\n";
    assert_eq!(
        hits("tasks.py", python),
        [
            ("security/command-injection", 2),
            ("security/command-injection", 3),
            ("security/command-injection", 4),
        ]
    );
    let js = "const { exec } = require(\"child_process\");\n\
              const cp = require(\"child_process\");\n\
              exec(`convert ${file} out.png`);\n\
              cp.execSync(\"ls \" + dir);\n\
              re.exec(input);\n";
    assert_eq!(
        hits("src/jobs.js", js),
        [
            ("security/command-injection", 3),
            ("security/command-injection", 4)
        ]
    );
    let go = "func run(name string) {\n\texec.Command(\"sh\", \"-c\", \"echo \"+name).Run()\n\texec.Command(\"sh\", \"-c\", \"echo hi\").Run()\n}\n";
    assert_eq!(hits("run.go", go), [("security/command-injection", 2)]);
    let java = "class J {\n  void f(String f) throws Exception {\n    Runtime.getRuntime().exec(\"convert \" + f);\n    new ProcessBuilder(\"sh\", \"-c\", cmd).start();\n  }\n}\n";
    assert_eq!(
        hits("J.java", java),
        [
            ("security/command-injection", 3),
            ("security/command-injection", 4)
        ]
    );
    let rust = "fn f(name: &str) {\n    Command::new(\"sh\")\n        .arg(\"-c\")\n        .arg(format!(\"echo {name}\"))\n        .status();\n}\n";
    assert_eq!(
        hits("src/run.rs", rust),
        [("security/command-injection", 2)]
    );
}

// --- security/code-injection and security/template-injection

#[test]
fn eval_of_values_and_templates_from_values_are_found() {
    let python = "from flask import render_template_string\n\
                  def calc(expr):\n    return eval(expr)\n\
                  def page(name):\n    return render_template_string(\"<h1>\" + name + \"</h1>\")\n\
                  value = ast.literal_eval(text)\n\
                  exec(\"print(1)\")\n";
    assert_eq!(
        hits("calc.py", python),
        [
            ("security/code-injection", 3),
            ("security/template-injection", 5)
        ]
    );
    let js = "const f = new Function(\"a\", body);\n\
              eval(req.query.code);\n\
              setTimeout(`run(${id})`, 10);\n\
              setTimeout(() => run(id), 10);\n\
              const html = ejs.render(req.body.template, data);\n";
    assert_eq!(
        hits("src/calc.ts", js),
        [
            ("security/code-injection", 1),
            ("security/code-injection", 2),
            ("security/code-injection", 3),
            ("security/template-injection", 5),
        ]
    );
}

// --- security/unsafe-deserialization

#[test]
fn unsafe_deserialisation_is_found() {
    let python = "import pickle, yaml\n\
                  data = pickle.loads(request.body)\n\
                  cfg = yaml.load(text)\n\
                  cfg = yaml.load(text, Loader=yaml.SafeLoader)\n\
                  cfg = yaml.load(text, Loader=yaml.FullLoader)\n\
                  cfg = yaml.safe_load(text)\n";
    assert_eq!(
        hits("load.py", python),
        [
            ("security/unsafe-deserialization", 2),
            ("security/unsafe-deserialization", 3),
            ("security/unsafe-deserialization", 5),
        ]
    );
    let java = "import java.io.ObjectInputStream;\nclass D {\n  Object f(InputStream in) throws Exception {\n    return new ObjectInputStream(in).readObject();\n  }\n}\n";
    assert_eq!(
        hits("D.java", java),
        [("security/unsafe-deserialization", 4)]
    );
    let js = "const serialize = require(\"node-serialize\");\nconst obj = serialize.unserialize(req.cookies.profile);\n";
    assert_eq!(
        hits("src/session.js", js),
        [("security/unsafe-deserialization", 2)]
    );
}

// --- security/weak-hash and security/weak-password-hash

#[test]
fn weak_hashes_and_fast_password_hashes_are_found() {
    let python = "digest = hashlib.md5(body).hexdigest()\n\
                  stored = hashlib.sha256(password.encode()).hexdigest()\n\
                  h = hashlib.new(\"sha1\", data)\n\
                  ok = hashlib.sha256(body).hexdigest()\n\
                  stored_reset = hashlib.sha256(password_reset_token.encode()).hexdigest()\n";
    assert_eq!(
        hits("hash.py", python),
        [
            ("security/weak-hash", 1),
            ("security/weak-password-hash", 2),
            ("security/weak-hash", 3),
        ]
    );
    let js = "const h = crypto.createHash(\"md5\").update(body).digest(\"hex\");\n\
              const p = crypto.createHash(\"sha1\").update(user.password).digest(\"hex\");\n";
    assert_eq!(
        hits("src/hash.ts", js),
        [
            ("security/weak-hash", 1),
            ("security/weak-password-hash", 2)
        ]
    );
    let go = "func f(password string) {\n\tsum := md5.Sum([]byte(body))\n\th := sha256.Sum256([]byte(password))\n}\n";
    assert_eq!(
        hits("hash.go", go),
        [
            ("security/weak-hash", 2),
            ("security/weak-password-hash", 3)
        ]
    );
    let java = "class H {\n  void f() {\n    MessageDigest md = MessageDigest.getInstance(\"MD5\");\n  }\n}\n";
    assert_eq!(hits("H.java", java), [("security/weak-hash", 3)]);
    let rust = "fn f(body: &[u8]) {\n    let d = md5::compute(body);\n    let s = Sha1::digest(body);\n}\n";
    assert_eq!(
        hits("src/h.rs", rust),
        [("security/weak-hash", 2), ("security/weak-hash", 3)]
    );
}

// --- security/weak-cipher

#[test]
fn weak_ciphers_and_ecb_are_found() {
    let python = "from Crypto.Cipher import AES, DES\n\
                  c = DES.new(key, DES.MODE_CBC, iv)\n\
                  e = AES.new(key, AES.MODE_ECB)\n\
                  g = AES.new(key, AES.MODE_GCM)\n";
    assert_eq!(
        hits("crypt.py", python),
        [("security/weak-cipher", 2), ("security/weak-cipher", 3)]
    );
    let js = "const c = crypto.createCipheriv(\"des-ede3-cbc\", key, iv);\n\
              const d = crypto.createCipheriv(\"aes-128-ecb\", key, null);\n\
              const g = crypto.createCipheriv(\"aes-256-gcm\", key, iv);\n";
    assert_eq!(
        hits("src/c.ts", js),
        [("security/weak-cipher", 1), ("security/weak-cipher", 2)]
    );
    let go =
        "func f(key []byte) {\n\tblock, _ := des.NewCipher(key)\n\tr, _ := rc4.NewCipher(key)\n}\n";
    assert_eq!(
        hits("c.go", go),
        [("security/weak-cipher", 2), ("security/weak-cipher", 3)]
    );
    let java = "class C {\n  void f() {\n    Cipher a = Cipher.getInstance(\"AES\");\n    Cipher b = Cipher.getInstance(\"DESede/CBC/PKCS5Padding\");\n  }\n}\n";
    assert_eq!(
        hits("C.java", java),
        [("security/weak-cipher", 3), ("security/weak-cipher", 4)]
    );
}

// --- security/tls-verification-disabled

#[test]
fn method_definitions_arrow_callbacks_and_ternaries_are_not_findings() {
    let js = "const cp = require(\"child_process\");\n\
              class Config {\n  async exec ([action, ...args]) {\n    return action;\n  }\n}\n\
              const t = setTimeout(() => {\n  log(\"a\" + b);\n}, 10);\n\
              const o = { strictSsl: secure ? !!options.rejectUnauthorized : false };\n";
    assert_eq!(hits("lib/config.js", js), []);
    let py =
        "def _create_unverified_context(cert_reqs=CERT_NONE, check_hostname=False):\n    pass\n";
    assert_eq!(hits("ssl.py", py), []);
}

#[test]
fn comparing_with_cert_none_is_not_disabling_it() {
    let text = "if ctx.verify_mode == ssl.CERT_NONE:\n    warn()\nctx.verify_mode = ssl.CERT_NONE\nssl.wrap_socket(s, cert_reqs=ssl.CERT_NONE)\n";
    assert_eq!(
        hits("tls.py", text),
        [
            ("security/tls-verification-disabled", 3),
            ("security/tls-verification-disabled", 4)
        ]
    );
}

#[test]
fn disabled_certificate_checks_are_found_in_code_and_configuration() {
    let cases: [(&str, &str, u32); 7] = [
        (
            "client.py",
            "import requests\n\nr = requests.get(url, verify=False)\n",
            3,
        ),
        (
            "client.go",
            "package c\n\nvar cfg = &tls.Config{InsecureSkipVerify: true}\n",
            3,
        ),
        (
            "src/client.ts",
            "const agent = new https.Agent({ rejectUnauthorized: false });\n",
            1,
        ),
        (
            "src/boot.js",
            "// dev only\nprocess.env.NODE_TLS_REJECT_UNAUTHORIZED = \"0\";\n",
            2,
        ),
        (
            "src/client.rs",
            "let c = reqwest::Client::builder()\n    .danger_accept_invalid_certs(true)\n    .build()?;\n",
            2,
        ),
        (
            "Dockerfile",
            "FROM node:20\nENV NODE_TLS_REJECT_UNAUTHORIZED=0\n",
            2,
        ),
        (
            "deploy/app.yaml",
            "env:\n  - name: NODE_TLS_REJECT_UNAUTHORIZED\n    value: \"1\"\n  - name: PYTHONHTTPSVERIFY=0\n",
            4,
        ),
    ];
    for (path, text, line) in cases {
        assert_eq!(
            hits(path, text),
            [("security/tls-verification-disabled", line)],
            "{path}"
        );
    }
}

// --- security/debug-enabled

#[test]
fn debug_modes_are_found() {
    let flask = "app = Flask(__name__)\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", debug=True)\n";
    assert_eq!(hits("app.py", flask), [("security/debug-enabled", 3)]);
    let django = "SECRET_KEY = os.environ[\"SECRET_KEY\"]\nDEBUG = True\nALLOWED_HOSTS = []\n";
    assert_eq!(
        hits("project/settings.py", django),
        [("security/debug-enabled", 2)]
    );
    let fastapi = "app = FastAPI(\n    title=\"Invoices\",\n    debug=True,\n)\n";
    let found = scan_text("main.py", fastapi);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, 3);
    assert!(found[0].message.contains("`FastAPI(debug=True)`"));
    let go = "func main() {\n\tgin.SetMode(gin.DebugMode)\n}\n";
    assert_eq!(hits("main.go", go), [("security/debug-enabled", 2)]);
    let spring = "server.port=8080\ndebug=true\n";
    assert_eq!(
        hits("src/main/resources/application.properties", spring),
        [("security/debug-enabled", 2)]
    );
    assert_eq!(hits("ok.py", "if DEBUG == True:\n    pass\n"), []);
    let not_web = "asyncio.run(main(), debug=True)\nparser.set_defaults(debug=True)\ndef serve(debug=True):\n    pass\n";
    assert_eq!(hits("tool.py", not_web), []);
}

// --- security/permissive-cors

#[test]
fn wildcard_cors_is_found_and_high_with_credentials() {
    let python = "app.add_middleware(\n    CORSMiddleware,\n    allow_origins=[\"*\"],\n    allow_credentials=True,\n)\n";
    let found = scan_text("main.py", python);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].rule.id, found[0].line),
        ("security/permissive-cors", 1)
    );
    assert_eq!(found[0].rule.severity, Severity::High);
    let public = "app.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n";
    let found = scan_text("main.py", public);
    assert_eq!(found[0].rule.severity, Severity::Medium);
    let js = "app.use(cors());\napp.use(cors({ origin: true, credentials: true }));\nres.setHeader(\"Access-Control-Allow-Origin\", \"*\");\n";
    let found = scan_text("src/app.ts", js);
    let got: Vec<(&str, u32, Severity)> = found
        .iter()
        .map(|h| (h.rule.id, h.line, h.rule.severity))
        .collect();
    assert_eq!(
        got,
        [
            ("security/permissive-cors", 1, Severity::Medium),
            ("security/permissive-cors", 2, Severity::High),
            ("security/permissive-cors", 3, Severity::Medium),
        ]
    );
    let go = "var c = cors.Options{\n\tAllowedOrigins:   []string{\"*\"},\n\tAllowCredentials: true,\n}\n";
    let found = scan_text("cors.go", go);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].rule.severity), (2, Severity::High));
    let nginx = "location / {\n    add_header Access-Control-Allow-Origin *;\n}\n";
    assert_eq!(
        hits("deploy/nginx.conf", nginx),
        [("security/permissive-cors", 2)]
    );
    let rust = "let app = Router::new().layer(CorsLayer::permissive());\n";
    assert_eq!(hits("src/main.rs", rust), [("security/permissive-cors", 1)]);
    let java = "@CrossOrigin\n@RestController\nclass Api {}\n";
    assert_eq!(hits("Api.java", java), [("security/permissive-cors", 1)]);
}

// --- suppressions

#[test]
fn suppressions_need_the_rule_and_a_reason_and_are_counted() {
    let text = "\
digest = hashlib.md5(body).hexdigest()  # qlp-ignore: security/weak-hash ETag only
# qlp-ignore: weak-hash cache key, not a security use
key = hashlib.md5(url).hexdigest()
r = requests.get(url, verify=False)  # qlp-ignore: security/weak-hash wrong rule
h = hashlib.sha1(x).hexdigest()  # qlp-ignore: security/weak-hash
cursor.execute(f\"SELECT * FROM t WHERE id = {id}\")  # qlp-ignore: security/sql-injection,security/weak-hash id is an int
";
    let report = scan_files(&[File::text("app/cache.py", text)]);
    assert_eq!(
        located(&report),
        [
            ("security/tls-verification-disabled", "app/cache.py", 4),
            ("security/weak-hash", "app/cache.py", 5),
        ]
    );
    assert_eq!(
        report.summary,
        "2 findings: 1 high, 1 medium; 3 suppressed (security/sql-injection 1, security/weak-hash 2)"
    );
    assert_eq!(report.score, 100 - 20 - 10);
}

#[test]
fn a_marker_on_a_code_line_above_does_not_reach_the_next_line() {
    let text = "a = hashlib.md5(x)  # qlp-ignore: security/weak-hash etag\nb = hashlib.md5(y)\n";
    assert_eq!(
        hits("a.py", text),
        [("security/weak-hash", 1), ("security/weak-hash", 2)]
    );
    let report = scan_files(&[File::text("a.py", text)]);
    assert_eq!(located(&report), [("security/weak-hash", "a.py", 2)]);
}

// --- report

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let mut big = "x = 1\n".repeat(MAX_SCAN_BYTES / 6 + 1);
    big.push_str("eval(x)\n");
    let files = [
        File {
            path: "logo.png".into(),
            content: vec![0x89, b'P', b'N', b'G', 0xff],
        },
        File::text("big.py", big),
    ];
    let report = scan_files(&files);
    assert!(report.findings.is_empty());
    assert_eq!(
        report.summary,
        format!(
            "no security findings; 2 files not scanned (binary or over {MAX_SCAN_BYTES} bytes)"
        )
    );
}

#[test]
fn score_subtracts_weighted_findings_and_floors_at_zero() {
    let text = "eval(a)\neval(b)\neval(c)\neval(d)\neval(e)\neval(f)\n";
    let report = scan_files(&[File::text("a.py", text)]);
    assert_eq!(report.findings.len(), 6);
    assert_eq!(report.score, 0);
    let one = scan_files(&[File::text("a.py", "h = hashlib.md5(b)\n")]);
    assert_eq!(one.score, 90);
    assert_eq!(one.summary, "1 finding: 1 medium");
}

#[test]
fn every_rule_id_is_namespaced_and_documented() {
    let docs = include_str!("lib.rs");
    for id in rules::RULE_IDS {
        assert!(id.starts_with("security/"), "{id}");
        assert!(
            docs.contains(&format!("| `{id}` |")),
            "{id} missing from the rule table"
        );
    }
}

#[test]
fn describe_names_the_plugin() {
    let info = Security::describe();
    assert_eq!(info.name, "qlp/security");
    assert!(matches!(info.kind, PluginKind::Validator));
    assert!(info.capabilities.is_empty());
}

// --- speed

#[test]
fn a_five_thousand_line_capsule_is_scanned_quickly() {
    let mut files = Vec::new();
    let mut lines = 0;
    let mut i = 0;
    while lines < 5_000 {
        for (ext, text) in [
            ("py", CLEAN_PYTHON),
            ("ts", CLEAN_TS),
            ("go", CLEAN_GO),
            ("rs", CLEAN_RUST),
            ("java", CLEAN_JAVA),
        ] {
            lines += text.lines().count();
            files.push(File::text(format!("src/m{i}.{ext}"), text));
        }
        i += 1;
    }
    let start = std::time::Instant::now();
    let report = scan_files(&files);
    let elapsed = start.elapsed();
    println!(
        "qlp/security scanned {lines} lines in {} files in {:.2} ms (native, this build profile)",
        files.len(),
        elapsed.as_secs_f64() * 1e3
    );
    assert!(report.findings.is_empty(), "{}", report.summary);
}

/// Scans a directory of real code named by `QLP_SECURITY_CORPUS` and
/// prints the findings per rule, to review false positives by hand:
/// `QLP_SECURITY_CORPUS=/usr/lib/python3.11 cargo test -p qlp-plugin-security
/// --lib corpus -- --ignored --nocapture`.
#[test]
#[ignore = "reads a corpus from the machine; run by hand"]
fn corpus() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let Ok(root) = std::env::var("QLP_SECURITY_CORPUS") else {
        return;
    };
    let mut paths = Vec::new();
    walk(std::path::Path::new(&root), &mut paths);
    paths.sort();
    let mut lines = 0usize;
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let start = std::time::Instant::now();
    for path in &paths {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let shown = path.display().to_string();
        if Lang::of_path(&shown).is_none() {
            continue;
        }
        lines += text.lines().count();
        for hit in scan_text(&shown, &text) {
            *per_rule.entry(hit.rule.id).or_default() += 1;
            println!(
                "{} {}:{} {}",
                hit.rule.id,
                shown,
                hit.line,
                text.lines().nth(hit.line as usize - 1).unwrap_or("").trim()
            );
        }
    }
    println!(
        "{lines} source lines in {:.2} s: {per_rule:?}",
        start.elapsed().as_secs_f64()
    );
}

/// Every prefix of `text` (at char boundaries, every `step` bytes), and
/// `text` with one troublesome character inserted at each of those points:
/// the truncated and half-edited files a validator must survive, since a
/// panic inside the component is a trap that fails the stage.
fn mangled(text: &str, step: usize) -> Vec<String> {
    const INSERTS: [&str; 13] = [
        "\"", "'", "`", "(", ")", "[", "{", "}", "\\", "/*", "#", "é\n", "- ",
    ];
    let mut out = Vec::new();
    let cuts = (0..=text.len())
        .step_by(step)
        .filter(|i| text.is_char_boundary(*i));
    for (n, cut) in cuts.enumerate() {
        out.push(text[..cut].to_string());
        let insert = INSERTS[n % INSERTS.len()];
        out.push(format!("{}{insert}{}", &text[..cut], &text[cut..]));
    }
    out
}

#[test]
fn truncated_and_mangled_sources_never_panic() {
    let samples = [CLEAN_PYTHON, CLEAN_TS, CLEAN_GO, CLEAN_RUST, CLEAN_JAVA];
    let paths = [
        "a.py",
        "a.ts",
        "a.go",
        "a.rs",
        "A.java",
        "Dockerfile",
        ".env",
    ];
    let mut scanned = 0;
    for (i, sample) in samples.iter().enumerate() {
        for text in mangled(sample, 5) {
            // Each text as its own language and as the next one's.
            for path in [paths[i], paths[(i + 1) % paths.len()]] {
                let _ = scan_text(path, &text);
                scanned += 1;
            }
        }
    }
    assert!(scanned > 1_000, "{scanned}");
}
