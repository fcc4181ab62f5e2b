//! Reading source code as tokens, for validators that look for patterns in
//! Python, JavaScript/TypeScript, Go, Rust and Java (`qlp/security`,
//! `qlp/compliance`). [`lex`] splits a file into tokens with their lines,
//! comments dropped; [`code`] finds calls, their callee names and their
//! arguments in that token stream. Neither is a parser: rules written on
//! them match shapes, and stay linear on malformed input.
//!
//! Behind the `source` feature, so that plugins that do not read code do
//! not compile it.

pub mod code;
pub mod lex;

#[cfg(test)]
mod tests;
