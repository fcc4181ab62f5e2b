//! The walk over a parsed Python module that collects functions with their
//! McCabe complexity and docstring, classes with their docstring, and the
//! imported modules.
//!
//! Decision points, each adding one to the complexity of the innermost
//! enclosing `def`: `if` and `elif`, `for` and `async for`, `while`, each
//! `except` handler, each `and`/`or` operand beyond the first, each
//! conditional expression, each `for` and `if` clause of a comprehension and
//! each `case` arm of a `match` except a final catch-all (`case _:` or a bare
//! capture without guard), which like `else` adds no path. Decisions in a
//! lambda count for the function around it; decisions in a nested `def`
//! count for that `def` only. Decorators, default values and annotations are
//! evaluated where the `def` stands, so they count for the enclosing
//! function. Code at module level belongs to no function.

use std::collections::HashSet;

use qlp_sdk::FunctionMetrics;
use rustpython_parser::ast::{
    Arguments, Comprehension, Constant, ExceptHandler, Expr, Identifier, MatchCase, Pattern, Stmt,
};
use rustpython_parser::text_size::TextRange;

use crate::lines::LineIndex;

/// What the walk collected from one module.
#[derive(Debug, Default)]
pub struct Collected {
    pub functions: Vec<FunctionMetrics>,
    pub classes: u32,
    pub documented_classes: u32,
    pub imports: Vec<String>,
}

/// Walks a module body.
pub fn collect(body: &[Stmt], lines: &LineIndex) -> Collected {
    let mut walker = Walker {
        lines,
        out: Collected::default(),
        seen_imports: HashSet::new(),
        scope: Vec::new(),
        current: None,
    };
    walker.stmts(body);
    walker.out
}

struct Walker<'a> {
    lines: &'a LineIndex,
    out: Collected,
    seen_imports: HashSet<String>,
    /// Names of the enclosing classes and functions, outermost first.
    scope: Vec<String>,
    /// Index in `out.functions` of the innermost enclosing function.
    current: Option<usize>,
}

/// A `def` or `async def`, whichever it was.
struct Def<'s> {
    name: &'s Identifier,
    range: TextRange,
    args: &'s Arguments,
    body: &'s [Stmt],
    decorators: &'s [Expr],
    returns: Option<&'s Expr>,
}

impl Walker<'_> {
    /// Adds `n` decision points to the innermost enclosing function.
    fn decide(&mut self, n: usize) {
        if let Some(function) = self.current.and_then(|i| self.out.functions.get_mut(i)) {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            function.cyclomatic_complexity = function.cyclomatic_complexity.saturating_add(n);
        }
    }

    fn qualified(&self, name: &str) -> String {
        let mut qualified = self.scope.join(".");
        if !qualified.is_empty() {
            qualified.push('.');
        }
        qualified.push_str(name);
        qualified
    }

    fn import(&mut self, module: String) {
        if self.seen_imports.insert(module.clone()) {
            self.out.imports.push(module);
        }
    }

    fn stmts(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => self.def(Def {
                name: &def.name,
                range: def.range,
                args: &def.args,
                body: &def.body,
                decorators: &def.decorator_list,
                returns: def.returns.as_deref(),
            }),
            Stmt::AsyncFunctionDef(def) => self.def(Def {
                name: &def.name,
                range: def.range,
                args: &def.args,
                body: &def.body,
                decorators: &def.decorator_list,
                returns: def.returns.as_deref(),
            }),
            Stmt::ClassDef(class) => {
                self.exprs(&class.decorator_list);
                self.exprs(&class.bases);
                for keyword in &class.keywords {
                    self.expr(&keyword.value);
                }
                self.out.classes += 1;
                if has_docstring(&class.body) {
                    self.out.documented_classes += 1;
                }
                self.scope.push(class.name.to_string());
                self.stmts(&class.body);
                self.scope.pop();
            }
            Stmt::Return(s) => self.opt_expr(s.value.as_deref()),
            Stmt::Delete(s) => self.exprs(&s.targets),
            Stmt::Assign(s) => {
                self.exprs(&s.targets);
                self.expr(&s.value);
            }
            Stmt::TypeAlias(s) => self.expr(&s.value),
            Stmt::AugAssign(s) => {
                self.expr(&s.target);
                self.expr(&s.value);
            }
            Stmt::AnnAssign(s) => {
                self.expr(&s.target);
                self.expr(&s.annotation);
                self.opt_expr(s.value.as_deref());
            }
            Stmt::For(s) => {
                self.decide(1);
                self.expr(&s.target);
                self.expr(&s.iter);
                self.stmts(&s.body);
                self.stmts(&s.orelse);
            }
            Stmt::AsyncFor(s) => {
                self.decide(1);
                self.expr(&s.target);
                self.expr(&s.iter);
                self.stmts(&s.body);
                self.stmts(&s.orelse);
            }
            Stmt::While(s) => {
                self.decide(1);
                self.expr(&s.test);
                self.stmts(&s.body);
                self.stmts(&s.orelse);
            }
            // An `elif` is an `If` in the `orelse` of the one before it.
            Stmt::If(s) => {
                self.decide(1);
                self.expr(&s.test);
                self.stmts(&s.body);
                self.stmts(&s.orelse);
            }
            Stmt::With(s) => {
                for item in &s.items {
                    self.expr(&item.context_expr);
                    self.opt_expr(item.optional_vars.as_deref());
                }
                self.stmts(&s.body);
            }
            Stmt::AsyncWith(s) => {
                for item in &s.items {
                    self.expr(&item.context_expr);
                    self.opt_expr(item.optional_vars.as_deref());
                }
                self.stmts(&s.body);
            }
            Stmt::Match(s) => {
                self.expr(&s.subject);
                let arms = s.cases.len() - usize::from(s.cases.last().is_some_and(is_catch_all));
                self.decide(arms);
                for case in &s.cases {
                    self.opt_expr(case.guard.as_deref());
                    self.stmts(&case.body);
                }
            }
            Stmt::Raise(s) => {
                self.opt_expr(s.exc.as_deref());
                self.opt_expr(s.cause.as_deref());
            }
            Stmt::Try(s) => self.try_stmt(&s.body, &s.handlers, &s.orelse, &s.finalbody),
            Stmt::TryStar(s) => self.try_stmt(&s.body, &s.handlers, &s.orelse, &s.finalbody),
            Stmt::Assert(s) => {
                self.expr(&s.test);
                self.opt_expr(s.msg.as_deref());
            }
            Stmt::Import(s) => {
                for alias in &s.names {
                    self.import(alias.name.to_string());
                }
            }
            Stmt::ImportFrom(s) => {
                let level = s.level.map_or(0, |level| level.to_usize());
                let mut module = ".".repeat(level);
                if let Some(name) = &s.module {
                    module.push_str(name.as_str());
                }
                self.import(module);
            }
            Stmt::Expr(s) => self.expr(&s.value),
            Stmt::Global(_)
            | Stmt::Nonlocal(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_) => {}
        }
    }

    fn def(&mut self, def: Def<'_>) {
        self.exprs(def.decorators);
        self.arguments(def.args);
        self.opt_expr(def.returns);
        let metrics = FunctionMetrics {
            name: self.qualified(def.name.as_str()),
            line: self.lines.line_of(u32::from(def.range.start())),
            cyclomatic_complexity: 1,
            documented: has_docstring(def.body),
        };
        self.out.functions.push(metrics);
        let outer = self.current.replace(self.out.functions.len() - 1);
        self.scope.push(def.name.to_string());
        self.stmts(def.body);
        self.scope.pop();
        self.current = outer;
    }

    fn try_stmt(
        &mut self,
        body: &[Stmt],
        handlers: &[ExceptHandler],
        orelse: &[Stmt],
        finalbody: &[Stmt],
    ) {
        self.decide(handlers.len());
        self.stmts(body);
        for ExceptHandler::ExceptHandler(handler) in handlers {
            self.opt_expr(handler.type_.as_deref());
            self.stmts(&handler.body);
        }
        self.stmts(orelse);
        self.stmts(finalbody);
    }

    /// Default values and annotations of a parameter list.
    fn arguments(&mut self, args: &Arguments) {
        for arg in args
            .posonlyargs
            .iter()
            .chain(&args.args)
            .chain(&args.kwonlyargs)
        {
            self.opt_expr(arg.def.annotation.as_deref());
            self.opt_expr(arg.default.as_deref());
        }
        for arg in args.vararg.iter().chain(&args.kwarg) {
            self.opt_expr(arg.annotation.as_deref());
        }
    }

    fn comprehension(&mut self, generators: &[Comprehension]) {
        for generator in generators {
            self.decide(1 + generator.ifs.len());
            self.expr(&generator.target);
            self.expr(&generator.iter);
            self.exprs(&generator.ifs);
        }
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        for expr in exprs {
            self.expr(expr);
        }
    }

    fn opt_expr(&mut self, expr: Option<&Expr>) {
        if let Some(expr) = expr {
            self.expr(expr);
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::BoolOp(e) => {
                self.decide(e.values.len().saturating_sub(1));
                self.exprs(&e.values);
            }
            Expr::NamedExpr(e) => {
                self.expr(&e.target);
                self.expr(&e.value);
            }
            Expr::BinOp(e) => {
                self.expr(&e.left);
                self.expr(&e.right);
            }
            Expr::UnaryOp(e) => self.expr(&e.operand),
            Expr::Lambda(e) => {
                self.arguments(&e.args);
                self.expr(&e.body);
            }
            Expr::IfExp(e) => {
                self.decide(1);
                self.expr(&e.test);
                self.expr(&e.body);
                self.expr(&e.orelse);
            }
            Expr::Dict(e) => {
                for key in e.keys.iter().flatten() {
                    self.expr(key);
                }
                self.exprs(&e.values);
            }
            Expr::Set(e) => self.exprs(&e.elts),
            Expr::ListComp(e) => {
                self.comprehension(&e.generators);
                self.expr(&e.elt);
            }
            Expr::SetComp(e) => {
                self.comprehension(&e.generators);
                self.expr(&e.elt);
            }
            Expr::DictComp(e) => {
                self.comprehension(&e.generators);
                self.expr(&e.key);
                self.expr(&e.value);
            }
            Expr::GeneratorExp(e) => {
                self.comprehension(&e.generators);
                self.expr(&e.elt);
            }
            Expr::Await(e) => self.expr(&e.value),
            Expr::Yield(e) => self.opt_expr(e.value.as_deref()),
            Expr::YieldFrom(e) => self.expr(&e.value),
            Expr::Compare(e) => {
                self.expr(&e.left);
                self.exprs(&e.comparators);
            }
            Expr::Call(e) => {
                self.expr(&e.func);
                self.exprs(&e.args);
                for keyword in &e.keywords {
                    self.expr(&keyword.value);
                }
            }
            Expr::FormattedValue(e) => {
                self.expr(&e.value);
                self.opt_expr(e.format_spec.as_deref());
            }
            Expr::JoinedStr(e) => self.exprs(&e.values),
            Expr::Attribute(e) => self.expr(&e.value),
            Expr::Subscript(e) => {
                self.expr(&e.value);
                self.expr(&e.slice);
            }
            Expr::Starred(e) => self.expr(&e.value),
            Expr::List(e) => self.exprs(&e.elts),
            Expr::Tuple(e) => self.exprs(&e.elts),
            Expr::Slice(e) => {
                self.opt_expr(e.lower.as_deref());
                self.opt_expr(e.upper.as_deref());
                self.opt_expr(e.step.as_deref());
            }
            Expr::Constant(_) | Expr::Name(_) => {}
        }
    }
}

/// Whether a body opens with a string literal, Python's docstring.
fn has_docstring(body: &[Stmt]) -> bool {
    matches!(
        body.first(),
        Some(Stmt::Expr(s)) if matches!(&*s.value, Expr::Constant(c) if matches!(c.value, Constant::Str(_)))
    )
}

/// Whether a `case` matches anything without a guard, like an `else`.
fn is_catch_all(case: &MatchCase) -> bool {
    case.guard.is_none() && matches!(&case.pattern, Pattern::MatchAs(p) if p.pattern.is_none())
}
