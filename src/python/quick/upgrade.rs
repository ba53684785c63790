//! The walk of `upgrade()` on the quick parse: its steps, exactly as
//! `calls` finds them on the full parse.

use super::syntax::{Arg, Ex, Module, St, K};
use super::tokens::{fields, FSTRING};
use super::values::{
    arg_value, callee, children, each_child, keyword, positional, string, text, Env,
};
use crate::python::calls::{Param, PyExpr, Scope, Step, StepKind, When};

pub(super) struct Walker<'m, 's> {
    pub(super) m: &'m Module<'s>,
    pub(super) steps: Vec<Step>,
}

impl Walker<'_, '_> {
    fn env<'a>(&'a self, scope: &'a Scope) -> Env<'a> {
        Env {
            local: Some(&scope.consts),
            module: &self.m.consts,
        }
    }

    fn executes_since(&self, before: usize) -> Vec<usize> {
        (before..self.steps.len())
            .filter(|&i| matches!(self.steps[i].what, StepKind::Execute { .. }))
            .collect()
    }

    pub(super) fn block(&mut self, body: &[St], scope: &mut Scope) -> Option<()> {
        for st in body {
            match st {
                St::Expr(e) => self.walk(e, scope)?,
                St::Exprs(es) => es.iter().try_for_each(|e| self.walk(e, scope))?,
                St::With(items, inner) => {
                    for i in *items {
                        self.walk(i, scope)?;
                    }
                    self.block(inner, scope)?;
                }
                St::Return(value) => {
                    if let Some(v) = value {
                        self.walk(v, scope)?;
                    }
                }
                St::Assign { target, value, aug } => {
                    self.assign(target, value.as_ref(), *aug, scope)?
                }
                St::If { arms, other } => {
                    // The first arm's test guards everything after it; each
                    // `elif` guards its own body only.
                    let (cond, body) = &arms[0];
                    self.guarded(cond, scope, |w, scope| {
                        w.block(body, scope)?;
                        // `elif` and `else` run when the first test fails.
                        if let Some(g) = scope.guards.last_mut() {
                            g.2 = g.2.flip();
                        }
                        for (cond, body) in &arms[1..] {
                            w.guarded(cond, scope, |w, scope| w.block(body, scope))?;
                        }
                        match other {
                            Some(o) => w.block(o, scope),
                            None => Some(()),
                        }
                    })?;
                }
                St::For {
                    target,
                    iter,
                    body,
                    other,
                } => {
                    self.walk(target, scope)?;
                    self.walk(iter, scope)?;
                    self.block(body, scope)?;
                    if let Some(o) = other {
                        self.block(o, scope)?;
                    }
                }
                St::Raise(line, exprs) => {
                    for e in *exprs {
                        self.walk(e, scope)?;
                    }
                    scope.mark_raised(&mut self.steps, *line);
                }
                St::Inert => {}
                St::Chained => return None,
            }
        }
        Some(())
    }

    /// A test and what it guards.
    fn guarded(
        &mut self,
        cond: &Ex,
        scope: &mut Scope,
        inner: impl FnOnce(&mut Self, &mut Scope) -> Option<()>,
    ) -> Option<()> {
        let before = self.steps.len();
        self.walk(cond, scope)?;
        let mut names = Vec::new();
        identifiers(self.m, cond, &mut names);
        let inside = self.executes_since(before);
        scope.guards.push((names, inside, polarity(self.m, cond)));
        let out = inner(self, scope);
        scope.guards.pop();
        out
    }

    fn assign(
        &mut self,
        target: &Ex,
        value: Option<&Ex>,
        aug: bool,
        scope: &mut Scope,
    ) -> Option<()> {
        let before = self.steps.len();
        if let Some(v) = value {
            self.walk(v, scope)?;
        }
        let mut sources = self.executes_since(before);
        if let Some(v) = value {
            let mut names = Vec::new();
            identifiers(self.m, v, &mut names);
            for n in names {
                sources.extend(scope.results.get(&n).into_iter().flatten().copied());
            }
        }
        let string_value = value
            .filter(|_| !aug)
            .and_then(|v| string(self.m, v, self.env(scope)));
        let mut targets = Vec::new();
        identifiers(self.m, target, &mut targets);
        for t in targets {
            if sources.is_empty() {
                scope.results.remove(&t);
            } else {
                scope.results.insert(t.clone(), sources.clone());
            }
            match (&string_value, &target.k) {
                (Some(v), K::Name) => scope.consts.insert(t, v.clone()),
                _ => scope.consts.remove(&t),
            };
        }
        Some(())
    }

    fn walk(&mut self, e: &Ex, scope: &mut Scope) -> Option<()> {
        if let K::Call(func, args) = &e.k {
            return self.call(e, func, args, scope);
        }
        each_child(e, &mut |c| self.walk(c, scope))
    }

    fn call(&mut self, node: &Ex, func: &Ex, args: &[Arg], scope: &mut Scope) -> Option<()> {
        let m = self.m;
        let (object, name) = callee(m, func);
        let line = node.line;
        let steps = {
            let env = self.env(scope);
            let kw = |key: &str| keyword(m, args, key);
            let arg = |i: usize, key: &str| positional(args).nth(i).or_else(|| kw(key));
            let table = |i: usize, key: &str| -> Option<String> {
                let name = string(m, arg(i, key)?, env)?.text;
                Some(match kw("schema").and_then(|s| string(m, s, env)) {
                    Some(schema) => format!("{}.{name}", schema.text),
                    None => name,
                })
            };
            match (object.is_some(), name) {
                (true, "execute" | "exec_driver_sql") => {
                    let first = positional(args).next();
                    match first.and_then(|a| string(m, a, env)) {
                        Some(sql) => {
                            let mut params =
                                first.map(|a| bind_params(m, a, env)).unwrap_or_default();
                            if let Some(second) = positional(args).nth(1) {
                                params.extend(dict_params(m, second, env));
                            }
                            Some((
                                vec![Step::new(
                                    line,
                                    StepKind::Execute {
                                        sql,
                                        params,
                                        raises: None,
                                    },
                                )],
                                Then::WalkObjectFirst,
                            ))
                        }
                        None => None,
                    }
                }
                (true, "create_table") => {
                    let step = table(0, "table_name")
                        .map(|t| Step::new(line, StepKind::CreateTable { table: t }));
                    Some((step.into_iter().collect(), Then::Children))
                }
                (true, "drop_table") => {
                    let step = table(0, "table_name")
                        .map(|t| Step::new(line, StepKind::DropTable { table: t }));
                    Some((step.into_iter().collect(), Then::Nothing))
                }
                (true, "rename_table") => {
                    let step = match (table(0, "old_table_name"), table(1, "new_table_name")) {
                        (Some(from), Some(to)) => {
                            Some(Step::new(line, StepKind::RenameTable { from, to }))
                        }
                        _ => None,
                    };
                    Some((step.into_iter().collect(), Then::Nothing))
                }
                (true, "create_index") => {
                    let exprs = arg(2, "columns")
                        .map(|cols| index_elements(m, cols, env))
                        .unwrap_or_default();
                    let what = StepKind::CreateIndex {
                        name: arg(0, "index_name")
                            .and_then(|n| string(m, n, env))
                            .map(|s| s.text),
                        table: table(1, "table_name"),
                        predicate: kw("postgresql_where").map(|w| expr(m, w, env)),
                        exprs,
                    };
                    Some((vec![Step::new(line, what)], Then::Nothing))
                }
                (_, "Index") => {
                    let exprs = positional(args)
                        .skip(1)
                        .map(|e| expr(m, e, env))
                        .filter(|e| !is_plain_column(e))
                        .collect();
                    let what = StepKind::CreateIndex {
                        name: positional(args)
                            .next()
                            .and_then(|n| string(m, n, env))
                            .map(|s| s.text),
                        table: None,
                        predicate: kw("postgresql_where").map(|w| expr(m, w, env)),
                        exprs,
                    };
                    Some((vec![Step::new(line, what)], Then::Nothing))
                }
                // A module function called by name is followed by `calls`; not here.
                (false, helper) if m.defs.contains_key(helper) => return None,
                _ => None,
            }
        };
        match steps {
            Some((steps, Then::WalkObjectFirst)) => {
                if let Some(o) = object {
                    self.walk(o, scope)?;
                }
                self.steps.extend(steps);
                Some(())
            }
            Some((steps, Then::Children)) => {
                self.steps.extend(steps);
                each_child(node, &mut |c| self.walk(c, scope))
            }
            Some((steps, Then::Nothing)) => {
                self.steps.extend(steps);
                Some(())
            }
            None => each_child(node, &mut |c| self.walk(c, scope)),
        }
    }
}

/// What the walker does after a call it recognised.
enum Then {
    /// `execute()`: the object's own calls come before the statement.
    WalkObjectFirst,
    /// `create_table()`: the `Index(...)` arguments inside it.
    Children,
    Nothing,
}

fn dict_params(m: &Module<'_>, e: &Ex, env: Env<'_>) -> Vec<Param> {
    let K::Dict(entries) = &e.k else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| {
            Some((
                string(m, k, env)?.text,
                string(m, v.as_ref()?, env).map(|s| s.text),
            ))
        })
        .collect()
}

fn bind_params(m: &Module<'_>, e: &Ex, env: Env<'_>) -> Vec<Param> {
    let mut out = Vec::new();
    let mut current = Some(e);
    while let Some(K::Call(func, args)) = current.map(|c| &c.k) {
        let (object, name) = callee(m, func);
        if name == "bindparams" {
            for a in *args {
                if let Arg::Kw(k, v) = a {
                    out.push((text(m, k).to_string(), string(m, v, env).map(|s| s.text)));
                }
            }
        }
        current = object;
    }
    out
}

/// `calls::Module::expr`.
fn expr(m: &Module<'_>, e: &Ex, env: Env<'_>) -> PyExpr {
    let mut out = PyExpr::default();
    if let Some(s) = string(m, e, env) {
        out.sql.push(s);
        return out;
    }
    let mut stack = vec![e];
    while let Some(n) = stack.pop() {
        if let K::Call(func, args) = &n.k {
            let (object, name) = callee(m, func);
            if name == "text" {
                if let Some(s) = positional(args).next().and_then(|a| string(m, a, env)) {
                    out.sql.push(s);
                    continue;
                }
            }
            if object.is_some_and(|o| {
                let t = text(m, &o.span);
                t == "func" || t.ends_with(".func")
            }) {
                out.funcs.push((name.to_string(), n.line));
            }
        }
        let mut kids = children(n);
        kids.reverse();
        stack.extend(kids);
    }
    out
}

fn index_elements(m: &Module<'_>, cols: &Ex, env: Env<'_>) -> Vec<PyExpr> {
    match &cols.k {
        K::List(items) | K::Tuple(items) => items
            .iter()
            .map(|e| expr(m, e, env))
            .filter(|e| !is_plain_column(e))
            .collect(),
        _ => vec![expr(m, cols, env)]
            .into_iter()
            .filter(|e| !is_plain_column(e))
            .collect(),
    }
}

/// Every name in an expression, in order, as tree-sitter's identifiers:
/// attribute and keyword names too, `None`/`True`/`False` not.
fn identifiers(m: &Module<'_>, e: &Ex, out: &mut Vec<String>) {
    match &e.k {
        K::Name => {
            let t = text(m, &e.span);
            if !matches!(t, "None" | "True" | "False") {
                out.push(t.to_string());
            }
        }
        K::Attr(object, name) => {
            identifiers(m, object, out);
            out.push(text(m, name).to_string());
        }
        K::Call(func, args) => {
            identifiers(m, func, out);
            for a in *args {
                if let Arg::Kw(name, _) = a {
                    out.push(text(m, name).to_string());
                }
                identifiers(m, arg_value(a), out);
            }
        }
        K::Str(parts) => {
            for p in parts.iter().filter(|p| p.prefix & FSTRING != 0) {
                for (_, name) in
                    fields(&m.src.as_bytes()[p.inner.clone()], p.inner.start).unwrap_or_default()
                {
                    let n = &m.src[name];
                    if !matches!(n, "None" | "True" | "False") {
                        out.push(n.to_string());
                    }
                }
            }
        }
        _ => {
            let _ = each_child(e, &mut |c| {
                identifiers(m, c, out);
                Some(())
            });
        }
    }
}

fn is_plain_column(e: &PyExpr) -> bool {
    e.funcs.is_empty()
        && e.sql
            .iter()
            .all(|s| !s.text.contains('(') && !s.text.contains("::"))
}

/// When a test is true, as `calls::polarity` reads it on the full parse.
fn polarity(m: &Module<'_>, e: &Ex) -> When {
    let text = |e: &Ex| &m.src[e.span.clone()];
    let is_none = |e: &Ex| matches!(e.k, K::Other([])) && text(e) == "None";
    match &e.k {
        K::Paren(inner) => polarity(m, inner),
        K::Name | K::Attr(..) | K::Call(..) | K::Subscript(..) => When::Present,
        K::Other([inner]) if text(e).starts_with("not") => polarity(m, inner).flip(),
        K::Other([left, right]) if is_none(left) != is_none(right) => {
            let op = m.src[left.span.end..right.span.start]
                .split_whitespace()
                .collect::<Vec<_>>();
            match op[..] {
                ["is"] | ["=="] => When::Missing,
                ["is", "not"] | ["!="] => When::Present,
                _ => When::Unknown,
            }
        }
        _ => When::Unknown,
    }
}
