//! JavaScript and TypeScript functions: a port of lizard's
//! `JavaScriptStyleLanguageStates`, `ES6ObjectStates` and
//! `TypeScriptStates`. A function opens at the `(` after `function name`,
//! at a method name followed by `(` inside a class or object literal, and
//! at the token after `=>`; it takes the name of the last assignment target
//! (`a.b = function…`) or object key. A braced body ends at its `}`, an
//! arrow function without braces at the end of its line or `;`.
//!
//! Deliberate differences from lizard, each where lizard loses functions:
//! - the TypeScript return-type rule (`): T {`) applies at every level, not
//!   only outside any block, so that methods with a declared return type
//!   are found;
//! - a parameter list ends at its matching `)`, so default values with
//!   calls (`n = Math.floor(x)`) keep the function;
//! - TypeScript type parameters (`function f<T>(…)`) are skipped, and a
//!   signature ending in `;` (interface member, overload) is no function;
//! - a call inside an object literal or class body (`key: make(x),`) that
//!   lizard opens as a method and never closes is dropped when no `{`
//!   follows its parentheses, so the enclosing function keeps its body.

use super::{Ctx, MAX_READER_DEPTH, St, drive};
use crate::Lang;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Global,
    Field,
    Function,
    TypeParams,
    Dec,
    ExpectingFuncOpeningBracket,
    ArrowFunction,
    ConditionAndStatementBlock,
    StatementOrBlock,
    ExpectingDefault,
    FunctionReturnType,
    Sub,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Callback {
    None,
    /// After a condition's parentheses: expect a statement or block.
    Condition,
    /// After a statement block: back to global.
    Statement,
    /// After a function body: the function ends.
    PopFunction,
}

struct Frame {
    state: State,
    /// Depth of `<…>` in a TypeScript function's type parameters, then of
    /// `(…)` in its parameter list.
    angle: u32,
    saved: State,
    callback: Callback,
    last_tokens: String,
    function_name: String,
    started: bool,
    /// An `ES6ObjectStates` machine: a class body or object literal.
    object: bool,
    ts: bool,
    to_exit: bool,
}

/// Longest assignment target kept as a function name.
const MAX_NAME: usize = 256;

impl Frame {
    fn new(object: bool, ts: bool) -> Self {
        Frame {
            state: State::Global,
            angle: 0,
            saved: State::Global,
            callback: Callback::None,
            last_tokens: String::new(),
            function_name: String::new(),
            started: false,
            object,
            ts,
            to_exit: false,
        }
    }

    fn push_function(&mut self, ctx: &mut Ctx) {
        self.started = true;
        let name = if self.function_name.is_empty() {
            "(anonymous)"
        } else {
            &self.function_name
        };
        ctx.push_new_function(name);
    }

    fn pop_function(&mut self, ctx: &mut Ctx) {
        if self.started {
            ctx.end_of_function();
        }
        self.started = false;
    }

    fn set_last(&mut self, token: &str) {
        self.last_tokens.clear();
        self.last_tokens.push_str(token);
    }
}

/// What a token asks of the frame stack.
enum Action {
    None,
    /// Start a sub-machine (object literal or not) after saving the state.
    Sub {
        object: bool,
        callback: Callback,
    },
}

pub fn read(lang: Lang, stream: &[St<'_>], ctx: &mut Ctx) {
    let ts = lang == Lang::TypeScript;
    let mut frames = vec![Frame::new(false, ts)];
    drive(lang, stream, ctx, |ctx, tok| {
        let top = frames.len() - 1;
        let action = step(&mut frames[top], ctx, tok);
        if let Action::Sub { object, callback } = action
            && frames.len() < MAX_READER_DEPTH
        {
            let frame = &mut frames[top];
            frame.saved = frame.state;
            frame.callback = callback;
            frame.state = State::Sub;
            frames.push(Frame::new(object, ts));
        }
        let top = frames.len() - 1;
        if frames[top].to_exit && top > 0 {
            frames.pop();
            let parent = &mut frames[top - 1];
            parent.state = parent.saved;
            match parent.callback {
                Callback::None => {}
                Callback::Condition => parent.state = State::StatementOrBlock,
                Callback::Statement => parent.state = State::Global,
                Callback::PopFunction => parent.pop_function(ctx),
            }
        }
    });
    // lizard's `statemachine_before_return` at the end of the file.
    frames[0].pop_function(ctx);
}

fn step(frame: &mut Frame, ctx: &mut Ctx, tok: St<'_>) -> Action {
    let token = tok.text;
    match frame.state {
        State::Global => global(frame, ctx, tok),
        State::Field => {
            if frame.last_tokens.len() < MAX_NAME {
                frame.last_tokens.push_str(token);
            }
            frame.state = State::Global;
            Action::None
        }
        State::Function => {
            if token == "*" {
                return Action::None;
            }
            if token == "<" && frame.ts && !frame.function_name.is_empty() {
                frame.state = State::TypeParams;
                return step(frame, ctx, tok);
            }
            function(frame, ctx, token);
            Action::None
        }
        State::TypeParams => {
            match token {
                "<" => frame.angle += 1,
                ">" => frame.angle = frame.angle.saturating_sub(1),
                _ => {}
            }
            if frame.angle == 0 {
                frame.state = State::Function;
            }
            Action::None
        }
        State::Dec => {
            match token {
                "(" => frame.angle += 1,
                ")" if frame.angle > 1 => frame.angle -= 1,
                ")" => {
                    frame.angle = 0;
                    frame.state = State::ExpectingFuncOpeningBracket;
                }
                _ => {}
            }
            Action::None
        }
        State::ExpectingFuncOpeningBracket => {
            if frame.ts && token == ":" {
                frame.state = State::ExpectingDefault;
                return Action::None;
            }
            if token != "{" {
                // A call (`new Foo<T>(…)` in an object literal), not a
                // function: lizard leaves it open as the function being
                // read, which swallows the rest of its enclosing function.
                if frame.started {
                    ctx.forget_function();
                }
                frame.started = false;
            }
            frame.state = State::Global;
            step(frame, ctx, tok)
        }
        State::ExpectingDefault => {
            frame.state = State::FunctionReturnType;
            if token == "{" {
                return Action::Sub {
                    object: true,
                    callback: Callback::None,
                };
            }
            Action::None
        }
        State::FunctionReturnType => {
            if token == ";" {
                // A signature without a body (an interface member, an
                // overload): no function to measure.
                if frame.started {
                    ctx.forget_function();
                }
                frame.started = false;
                frame.state = State::Global;
            } else if token == "{" {
                frame.state = State::ExpectingFuncOpeningBracket;
                return step(frame, ctx, tok);
            }
            Action::None
        }
        State::ArrowFunction => {
            frame.push_function(ctx);
            frame.state = State::Global;
            step(frame, ctx, tok)
        }
        State::ConditionAndStatementBlock => {
            if token == "await" {
                return Action::None;
            }
            if token != "(" {
                frame.state = State::Global;
                return step(frame, ctx, tok);
            }
            Action::Sub {
                object: false,
                callback: Callback::Condition,
            }
        }
        State::StatementOrBlock => {
            if token == "{" {
                return Action::Sub {
                    object: false,
                    callback: Callback::Statement,
                };
            }
            frame.state = State::Global;
            step(frame, ctx, tok)
        }
        State::Sub => Action::None,
    }
}

/// lizard's `_function`: a name, or the `(` that opens the function.
fn function(frame: &mut Frame, ctx: &mut Ctx, token: &str) {
    if token != "(" {
        frame.function_name.clear();
        frame.function_name.push_str(token);
    } else {
        frame.push_function(ctx);
        frame.state = State::Dec;
        frame.angle = 1;
    }
}

fn global(frame: &mut Frame, ctx: &mut Ctx, tok: St<'_>) -> Action {
    let token = tok.text;
    if frame.object {
        if token == ":" {
            frame.function_name = frame.last_tokens.clone();
            return Action::None;
        }
        // Inside an arrow function's body (`key: () => call(x),`) a `(` is a
        // call, not a method.
        if token == "(" && !frame.started {
            let last = std::mem::take(&mut frame.last_tokens);
            if last != "*" {
                function(frame, ctx, &last);
            }
            frame.last_tokens = last;
            frame.state = State::Function;
            function(frame, ctx, token);
            return Action::None;
        }
    }
    if token == "." {
        frame.state = State::Field;
        if frame.last_tokens.len() < MAX_NAME {
            frame.last_tokens.push_str(token);
        }
        return Action::None;
    }
    let mut action = Action::None;
    match token {
        "function" => frame.state = State::Function,
        "if" | "switch" | "for" | "while" | "catch" => {
            frame.state = State::ConditionAndStatementBlock;
        }
        "else" | "do" | "try" | "final" => frame.state = State::StatementOrBlock,
        "=>" => frame.state = State::ArrowFunction,
        "=" => frame.function_name = frame.last_tokens.clone(),
        "(" => {
            action = Action::Sub {
                object: false,
                callback: Callback::None,
            };
        }
        "{" => {
            action = if frame.started {
                Action::Sub {
                    object: false,
                    callback: Callback::PopFunction,
                }
            } else {
                Action::Sub {
                    object: true,
                    callback: Callback::None,
                }
            };
        }
        "}" | ")" => {
            frame.to_exit = true;
            frame.pop_function(ctx);
        }
        _ => {
            if ctx.newline || token == ";" {
                frame.function_name.clear();
                frame.pop_function(ctx);
            }
        }
    }
    frame.set_last(token);
    action
}
