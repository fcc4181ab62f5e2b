//! Java methods and constructors: a port of lizard's `CLikeStates` with
//! `JavaStates`, and of `CLikeNestingStackStates` beside it. Every
//! identifier outside a method body is a candidate name; a candidate
//! followed by a parameter list and `{` becomes a method whose body is
//! skipped to its matching brace. The nesting reader names classes
//! (`class Name … {`), so methods are qualified `Outer.Inner.method`.
//! Lambdas and anonymous classes belong to the method holding them.

use super::{Ctx, St, drive, is_identifier_start};
use crate::Lang;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Global,
    Function,
    TemplateInName,
    NameWithSpace,
    Dec,
    DecToImp,
    Throw,
    Throws,
    TrailingReturn,
    Noexcept,
    OldCParams,
    InitList,
    OneInit,
    InitValue1,
    InitValue2,
    Imp,
    Attribute,
    Decorator,
    PostDecorator,
}

struct Reader {
    state: State,
    br: i64,
    brackets: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NState {
    Global,
    Template,
    Dot,
    ReadNamespace,
    ReadNamespaceName,
    ReadAttribute,
}

struct Nesting {
    state: NState,
    br: i64,
    saved: Vec<String>,
}

/// Most tokens of a class header kept for its name.
const MAX_HEADER_TOKENS: usize = 64;

pub fn read(stream: &[St<'_>], ctx: &mut Ctx) {
    let mut reader = Reader {
        state: State::Global,
        br: 0,
        brackets: 0,
    };
    let mut nesting = Nesting {
        state: NState::Global,
        br: 0,
        saved: Vec::new(),
    };
    drive(Lang::Java, stream, ctx, |ctx, tok| {
        reader.step(ctx, tok.text);
        nesting.step(ctx, tok.text);
    });
}

impl Reader {
    fn bracket(&mut self, token: &str, open: &str, close: &str) {
        if token == open {
            self.br += 1;
        } else if token == close {
            self.br -= 1;
        }
    }

    fn step(&mut self, ctx: &mut Ctx, token: &str) {
        match self.state {
            State::Global => {
                if token == "@" {
                    self.state = State::Decorator;
                } else if is_identifier_start(token) {
                    ctx.try_new_function(token);
                    self.state = State::Function;
                }
            }
            State::Decorator => self.state = State::PostDecorator,
            State::PostDecorator => {
                if token == "." {
                    self.state = State::Decorator;
                } else {
                    self.state = State::Global;
                    self.step(ctx, token);
                }
            }
            State::Function => {
                if token == "(" {
                    self.state = State::Dec;
                    self.step(ctx, token);
                } else if token == "::" {
                    ctx.add_to_function_name(token);
                    self.state = State::NameWithSpace;
                } else if token == "<" {
                    self.state = State::TemplateInName;
                    self.step(ctx, token);
                } else {
                    self.state = State::Global;
                    self.step(ctx, token);
                }
            }
            State::TemplateInName => {
                self.bracket(token, "<", ">");
                ctx.add_to_function_name(token);
                if self.br == 0 {
                    self.state = State::Function;
                }
            }
            State::NameWithSpace => {
                self.state = State::Function;
                ctx.add_to_function_name(token);
            }
            State::Dec => {
                self.bracket(token, "(", ")");
                if token == "(" || token == "<" {
                    self.brackets += 1;
                } else if token == ")" || token == ">" {
                    if self.brackets > 0 {
                        self.brackets -= 1;
                    } else {
                        self.state = State::Global;
                    }
                }
                if self.br == 0 {
                    self.state = State::DecToImp;
                }
            }
            State::DecToImp => self.dec_to_imp(ctx, token),
            State::Throw => {
                self.bracket(token, "(", ")");
                if self.br == 0 {
                    self.state = State::DecToImp;
                }
            }
            State::Throws | State::TrailingReturn => {
                if token == ";" || token == "{" {
                    self.state = State::DecToImp;
                    self.step(ctx, token);
                }
            }
            State::Noexcept => {
                self.state = if token == "(" {
                    State::Throw
                } else {
                    State::DecToImp
                };
                self.step(ctx, token);
            }
            State::OldCParams => {
                if token == "{" {
                    self.dec_to_imp(ctx, token);
                }
            }
            State::InitList => {
                self.state = State::OneInit;
                if token == "{" {
                    self.enter_imp(ctx, token);
                }
            }
            State::OneInit => {
                if token == "(" || token == "{" {
                    self.state = if token == "(" {
                        State::InitValue1
                    } else {
                        State::InitValue2
                    };
                    self.step(ctx, token);
                }
            }
            State::InitValue1 => {
                self.bracket(token, "(", ")");
                if self.br == 0 {
                    self.state = State::InitList;
                }
            }
            State::InitValue2 => {
                self.bracket(token, "{", "}");
                if self.br == 0 {
                    self.state = State::InitList;
                }
            }
            State::Imp => {
                self.bracket(token, "{", "}");
                if self.br == 0 {
                    self.state = State::Global;
                }
            }
            State::Attribute => {
                self.bracket(token, "[", "]");
                if self.br == 0 {
                    self.state = State::DecToImp;
                }
            }
        }
    }

    fn enter_imp(&mut self, ctx: &mut Ctx, token: &str) {
        ctx.confirm_new_function();
        self.state = State::Imp;
        self.step(ctx, token);
    }

    fn dec_to_imp(&mut self, ctx: &mut Ctx, token: &str) {
        match token {
            "const" | "&" | "&&" => {}
            "throw" => self.state = State::Throw,
            "throws" => self.state = State::Throws,
            "->" => self.state = State::TrailingReturn,
            "noexcept" => self.state = State::Noexcept,
            "(" => {
                let name = ctx.arena[ctx.current].name.clone();
                ctx.try_new_function(&name);
                self.state = State::Function;
                self.step(ctx, token);
            }
            "{" => self.enter_imp(ctx, token),
            ":" => self.state = State::InitList,
            "[" => {
                self.state = State::Attribute;
                self.step(ctx, token);
            }
            _ if !is_identifier_start(token) => {
                self.state = State::Global;
                self.step(ctx, token);
            }
            _ => self.state = State::OldCParams,
        }
    }
}

impl Nesting {
    fn step(&mut self, ctx: &mut Ctx, token: &str) {
        match self.state {
            NState::Global => match token {
                "template" => self.state = NState::Template,
                "." => self.state = NState::Dot,
                "class" | "struct" | "namespace" | "union" => self.state = NState::ReadNamespace,
                "{" => ctx.add_bare_nesting(),
                "}" => ctx.pop_nesting(),
                _ => {}
            },
            NState::Dot => self.state = NState::Global,
            NState::ReadNamespace => {
                self.state = if token == "[" {
                    NState::ReadAttribute
                } else {
                    NState::ReadNamespaceName
                };
                self.step(ctx, token);
            }
            NState::ReadNamespaceName => {
                if matches!(token, ")" | "(" | "{" | ";") {
                    self.state = NState::Global;
                    if token == "{" {
                        let name: String = self
                            .saved
                            .iter()
                            .take_while(|t| {
                                !matches!(
                                    t.as_str(),
                                    "<" | ":" | "final" | "[" | "extends" | "implements"
                                )
                            })
                            .map(String::as_str)
                            .collect();
                        ctx.add_namespace(name);
                    }
                    self.saved.clear();
                } else if self.saved.len() < MAX_HEADER_TOKENS {
                    self.saved.push(token.to_string());
                }
            }
            NState::ReadAttribute => {
                if token == "[" {
                    self.br += 1;
                } else if token == "]" {
                    self.br -= 1;
                }
                if self.br == 0 {
                    self.state = NState::ReadNamespace;
                }
            }
            NState::Template => {
                if token == "<" {
                    self.br += 1;
                } else if token == ">" {
                    self.br -= 1;
                }
                if self.br == 0 {
                    self.state = NState::Global;
                }
            }
        }
    }
}
