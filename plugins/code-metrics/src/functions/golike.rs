//! Go and Rust functions: a port of lizard's `GoLikeStates` (`func` in Go,
//! `fn` in Rust). A function opens at its keyword, takes the next word as
//! its name (a Go receiver in parentheses first), skips generic parameters
//! and the parameter list, and its body is the next brace block. Every
//! brace block outside a function body is read by a fresh machine, so
//! functions nest.
//!
//! Deliberate differences from lizard, each where lizard loses functions:
//! - Go type parameters in square brackets (`func Map[T any](…)`,
//!   `type Set[T any] struct {…}`) are skipped like Rust's `<…>`.
//! - A Go `func (…)` is a method when a name and `(` follow the
//!   parenthesis, a function literal otherwise; lizard decides by whether a
//!   function is open, which a literal in a composite literal at file level
//!   (`var p = sync.Pool{New: func() any {…}}`) leaves open for the rest of
//!   the file.
//! - A Rust `fn(` is a function pointer type, not a function, and a `fn`
//!   declaration ending in `;` (trait, `extern` block) has no body to
//!   measure; lizard reads on to the next `{` and gives the declaration
//!   the next function's body.
//! - A stray `}` at file level does not end later functions early (lizard's
//!   top-level reader keeps its exit flag and re-runs an old callback).

use super::{Ctx, MAX_READER_DEPTH, St, drive};
use crate::Lang;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Global,
    FunctionName,
    ExpectFunctionDec,
    Generalize,
    MemberFunction,
    FunctionDec,
    ExpectFunctionImpl,
    FunctionImpl,
    TypeDefinition,
    AfterTypeName,
    TypeParams,
    Skip,
    Sub,
}

struct Frame<'a> {
    state: State,
    saved: State,
    callback: bool,
    br: i32,
    last: &'a str,
    to_exit: bool,
}

impl Frame<'_> {
    fn new() -> Self {
        Frame {
            state: State::Global,
            saved: State::Global,
            callback: false,
            br: 0,
            last: "",
            to_exit: false,
        }
    }
}

pub fn read(lang: Lang, stream: &[St<'_>], ctx: &mut Ctx) {
    let keyword = if lang == Lang::Rust { "fn" } else { "func" };
    let methods = go_methods(stream);
    let mut frames = vec![Frame::new()];
    let mut method = false;
    drive(lang, stream, ctx, |ctx, tok| {
        let top = frames.len() - 1;
        if tok.text == keyword && frames[top].state == State::Global {
            method = methods.binary_search(&tok.index).is_ok();
        }
        let push = step(&mut frames[top], ctx, tok.text, keyword, lang, method);
        if push && frames.len() < MAX_READER_DEPTH {
            frames.push(Frame::new());
        } else if push {
            // Too deep: read the block at this level instead.
            let frame = &mut frames[top];
            frame.state = frame.saved;
            frame.callback = false;
        }
        for frame in &mut frames {
            frame.last = tok.text;
        }
        let top = frames.len() - 1;
        if frames[top].to_exit && top > 0 {
            frames.pop();
            let parent = &mut frames[top - 1];
            parent.state = parent.saved;
            if parent.callback {
                parent.state = State::Global;
                ctx.end_of_function();
            }
        }
    });
}

/// Lexer indices of the Go `func` tokens that open a method: `func (…)
/// Name(` or `func (…) Name[`.
fn go_methods(stream: &[St<'_>]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, tok) in stream.iter().enumerate() {
        if tok.text != "func" || stream.get(i + 1).map(|t| t.text) != Some("(") {
            continue;
        }
        let mut depth = 0;
        let mut close = None;
        for (j, t) in stream.iter().enumerate().skip(i + 1).take(64) {
            match t.text {
                "(" => depth += 1,
                ")" => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { continue };
        let name = stream.get(close + 1).map(|t| t.text);
        let after = stream.get(close + 2).map(|t| t.text);
        if name.is_some_and(super::is_identifier_start) && matches!(after, Some("(" | "[")) {
            out.push(tok.index);
        }
    }
    out
}

/// Reads one token in `frame`; true when a sub-machine must start.
/// `method` says whether the last `func` opened a Go method.
fn step(
    frame: &mut Frame<'_>,
    ctx: &mut Ctx,
    token: &str,
    keyword: &str,
    lang: Lang,
    method: bool,
) -> bool {
    match frame.state {
        State::Global => {
            if token == keyword {
                frame.state = State::FunctionName;
                ctx.push_new_function("");
            } else if token == "type" {
                frame.state = State::TypeDefinition;
            } else if token == "{" {
                frame.saved = frame.state;
                frame.callback = false;
                frame.state = State::Sub;
                return true;
            } else if token == "}" {
                frame.to_exit = true;
            }
        }
        State::TypeDefinition => frame.state = State::AfterTypeName,
        State::AfterTypeName if token == "[" && lang == Lang::Go => {
            frame.state = State::TypeParams;
            return step(frame, ctx, token, keyword, lang, method);
        }
        State::TypeParams => {
            bracket(frame, token, "[", "]");
            if frame.br == 0 {
                frame.state = State::AfterTypeName;
            }
        }
        State::AfterTypeName => {
            frame.state = if token == "struct" || token == "interface" {
                State::Skip
            } else {
                State::Global
            };
        }
        State::Skip => {
            // lizard's `read_inside_brackets_then("{}", "_state_global")`.
            bracket(frame, token, "{", "}");
            if frame.br == 0 {
                frame.state = State::Global;
            }
        }
        State::FunctionName => {
            if token != "`" {
                if token == "(" && lang == Lang::Rust {
                    // `fn(…)` is a function pointer type.
                    ctx.forget_function();
                    frame.state = State::Global;
                    return false;
                }
                if token == "(" {
                    frame.state = if !method {
                        State::FunctionDec
                    } else {
                        State::MemberFunction
                    };
                    return step(frame, ctx, token, keyword, lang, method);
                }
                if token == "{" {
                    frame.state = State::ExpectFunctionImpl;
                    return step(frame, ctx, token, keyword, lang, method);
                }
                ctx.add_to_function_name(token);
                frame.state = State::ExpectFunctionDec;
            }
        }
        State::ExpectFunctionDec => {
            if token == "(" {
                frame.state = State::FunctionDec;
                return step(frame, ctx, token, keyword, lang, method);
            } else if token == "<" || (token == "[" && lang == Lang::Go) {
                frame.state = State::Generalize;
                return step(frame, ctx, token, keyword, lang, method);
            } else {
                frame.state = State::Global;
            }
        }
        State::Generalize => {
            if lang == Lang::Go {
                bracket(frame, token, "[", "]");
            } else {
                bracket(frame, token, "<", ">");
            }
            if frame.br == 0 {
                frame.state = State::ExpectFunctionDec;
            }
        }
        State::MemberFunction => {
            bracket(frame, token, "(", ")");
            if frame.br == 0 {
                frame.state = State::FunctionName;
            }
        }
        State::FunctionDec => {
            bracket(frame, token, "(", ")");
            if frame.br == 0 {
                frame.state = State::ExpectFunctionImpl;
            }
        }
        State::ExpectFunctionImpl => {
            match token {
                "[" | "(" => frame.br += 1,
                "]" | ")" => frame.br -= 1,
                // A Rust declaration without a body (in a trait or an
                // `extern` block): no function to measure.
                ";" if frame.br == 0 && lang == Lang::Rust => {
                    ctx.forget_function();
                    frame.state = State::Global;
                    return false;
                }
                _ => {}
            }
            if token == "{" && frame.last != "interface" {
                frame.state = State::FunctionImpl;
                frame.saved = State::FunctionImpl;
                frame.callback = true;
                frame.state = State::Sub;
                return true;
            }
        }
        State::FunctionImpl | State::Sub => {}
    }
    false
}

fn bracket(frame: &mut Frame<'_>, token: &str, open: &str, close: &str) {
    if token == open {
        frame.br += 1;
    } else if token == close {
        frame.br -= 1;
    }
}
