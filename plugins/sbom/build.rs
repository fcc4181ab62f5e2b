//! Test binaries of this crate link QLP agent and analyzer crates beside
//! each other to validate what they generate. Each of those crates carries
//! the native shims of its component exports (`describe`, `generate`, …)
//! under the same symbol names; the shims are never called natively, so
//! the test binaries (and only they) accept the duplicate definitions.

fn main() {
    println!("cargo::rustc-link-arg-tests=-Wl,--allow-multiple-definition");
}
