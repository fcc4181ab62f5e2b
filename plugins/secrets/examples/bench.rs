//! Times `qlp/secrets` natively on about 5,000 lines of mixed source and
//! configuration: `cargo run --release -p qlp-plugin-secrets --example bench`.

use std::time::Instant;

/// Lines of one block; the block is repeated to reach [`TARGET_LINES`].
const BLOCK: &[&str] = &[
    "import os",
    "from fastapi import FastAPI, Depends, HTTPException",
    "app = FastAPI(title=\"invoices\")",
    "JWT_SECRET = os.environ[\"JWT_SECRET\"]",
    "DATABASE_URL = os.getenv(\"DATABASE_URL\", \"postgresql://localhost/app\")",
    "def total(items: list[dict]) -> float:",
    "    return sum(i[\"price\"] * i[\"qty\"] for i in items)",
    "    # the checksum is sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "const config = { apiBase: \"/api/v1\", retries: 3, timeoutMs: 2500 };",
    "export async function fetchInvoices(token: string) { return fetch(url, { headers: { Authorization: `Bearer ${token}` } }); }",
    "  image: postgres:16-alpine",
    "  environment:",
    "    POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}",
    "\"integrity\": \"sha512-Xk2mP9qR4vT7wZ1bN6cLXk2mP9qR4vT7wZ1bN6cLXk2mP9qR4vT7wZ1bN6cL==\",",
    "id = \"123e4567-e89b-12d3-a456-426614174000\"",
    "password = \"MyS3cureP@ssw0rd2024\"",
    "func handler(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }",
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
    "",
    "# end of block",
];

/// About how many lines are scanned.
const TARGET_LINES: usize = 5_000;

/// Scans repeated this many times; the median is printed.
const ROUNDS: usize = 21;

fn main() {
    let mut text = String::new();
    let mut lines = 0;
    while lines < TARGET_LINES {
        for line in BLOCK {
            text.push_str(line);
            text.push('\n');
        }
        lines += BLOCK.len();
    }
    let mut times = Vec::with_capacity(ROUNDS);
    let mut found = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        found = qlp_plugin_secrets::scan_text("app/main.py", &text).len();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{lines} lines, {} bytes: median {:?} per scan, {found} findings",
        text.len(),
        times[ROUNDS / 2]
    );
}
