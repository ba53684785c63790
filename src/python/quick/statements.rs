//! The quick parser's statements: the module, `def`, blocks and simple
//! statements, down to the expressions in them.

use std::collections::HashMap;

use bumpalo::collections::Vec as BVec;

use super::codes::{c, code_of};
use super::parser::Parser;
use super::syntax::{assignable, is_subscript, Body, Class, Ex, Module, St, AUGMENTED, K};
use super::tokens::{BYTES, FSTRING, T};
use super::values::{string, Env};
use crate::python::calls::SqlText;

/// A module's docstring as CPython sees one: a str literal, alone.
fn is_docstring(e: &Ex) -> bool {
    matches!(e.k, K::Str(parts) if parts.iter().all(|p| p.prefix & (BYTES | FSTRING) == 0))
}

impl<'a> Parser<'a> {
    /// The whole module; its string constants as `calls` reads them.
    pub(super) fn file(&mut self) -> Option<HashMap<String, SqlText>> {
        let assigned = self.module()?;
        let m = Module {
            src: self.src,
            defs: HashMap::new(),
            consts: HashMap::new(),
        };
        let mut consts = HashMap::new();
        for (name, value) in assigned {
            match string(
                &m,
                &value,
                Env {
                    local: None,
                    module: &consts,
                },
            ) {
                Some(s) => consts.insert(name, s),
                None => consts.remove(&name),
            };
        }
        self.plain.then_some(consts)
    }

    /// The module's statements; its `NAME = value` assignments in order.
    pub(super) fn module(&mut self) -> Option<Vec<(String, Ex<'a>)>> {
        let mut assigned: Vec<(String, Ex<'a>)> = Vec::new();
        let mut first = true;
        while self.peek().t != T::End {
            if self.peek().t == T::Newline {
                self.at += 1;
                continue;
            }
            if self.is(c!("def")) {
                let (name, body) = self.def()?;
                self.defs.insert(name, body);
                self.prologue = false;
                continue;
            }
            self.future = false;
            let st = self.statement()?;
            // Only a docstring and future imports may stand before one.
            let docstring = first && matches!(&st, St::Expr(e) if is_docstring(e));
            self.prologue &= self.future || docstring;
            first = false;
            match st {
                // `NAME = value` at module level: a constant (or no longer one).
                St::Assign {
                    target,
                    value: Some(value),
                    aug: false,
                } if matches!(target.k, K::Name) => {
                    assigned.push((self.src[target.span].to_string(), value));
                }
                // tree-sitter nests `a = b = x`; calls.rs reads that oddly.
                St::Chained => self.plain = false,
                _ => {}
            }
        }
        Some(assigned)
    }

    /// `class NAME[(bases)]:` at module level, its body read as a block.
    fn class(&mut self) -> Option<()> {
        let line = self.bump().line;
        let name = self.name()?.span;
        if self.is(c!("(")) {
            self.arguments()?;
        }
        self.expect(c!(":"))?;
        self.in_class = true;
        let body = self.suite()?;
        self.in_class = false;
        self.classes.push(Class { name, line, body });
        Some(())
    }

    fn def(&mut self) -> Option<(String, Body<'a>)> {
        self.expect(c!("def"))?;
        let name = self.name()?;
        let name = self.text(&name).to_string();
        self.params()?;
        if self.eat(c!("->")) {
            self.test()?;
        }
        self.expect(c!(":"))?;
        self.in_def += 1;
        let body = self.suite()?;
        self.in_def -= 1;
        Some((name, body))
    }

    /// `(a, b: int = 1, *args, c=2, **kw)`: no default-less parameter after
    /// one with a default (before `*`), no name twice.
    fn params(&mut self) -> Option<()> {
        self.expect(c!("("))?;
        let mut seen: Vec<&str> = Vec::new();
        let mut defaulted = false;
        let mut star = false;
        while !self.is(c!(")")) {
            let kind = if self.eat(c!("**")) {
                2
            } else if self.eat(c!("*")) {
                1
            } else {
                0
            };
            if kind == 1 && (star || self.is(c!(","))) {
                // A bare `*` is in Python too, but keep the subset small.
                return None;
            }
            let n = self.name()?;
            let n = self.text(&n);
            if seen.contains(&n) {
                return None;
            }
            seen.push(n);
            if self.eat(c!(":")) {
                self.test()?;
            }
            match kind {
                0 if self.eat(c!("=")) => {
                    self.test()?;
                    defaulted = true;
                }
                0 if defaulted && !star => return None,
                1 => star = true,
                2 => {
                    self.eat(c!(","));
                    return self.expect(c!(")"));
                }
                _ => {}
            }
            if !self.eat(c!(",")) {
                break;
            }
        }
        self.expect(c!(")"))
    }

    fn suite(&mut self) -> Option<Body<'a>> {
        self.blocks += 1;
        let body = self.block()?;
        self.blocks -= 1;
        Some(body)
    }

    fn block(&mut self) -> Option<Body<'a>> {
        if self.peek().t != T::Newline {
            return Some(std::slice::from_ref(self.arena.alloc(self.simple()?)));
        }
        self.at += 1;
        if self.peek().t != T::Indent {
            return None;
        }
        self.at += 1;
        let mut body = BVec::new_in(self.arena);
        while self.peek().t != T::Dedent {
            body.push(self.statement()?);
        }
        self.at += 1;
        Some(body.into_bump_slice())
    }

    fn statement(&mut self) -> Option<St<'a>> {
        self.deeper()?;
        let out = if self.is(c!("def")) {
            self.def()?;
            St::Inert
        } else if self.is(c!("if")) || self.is(c!("while")) {
            let looped = self.is(c!("while"));
            self.at += 1;
            let mut arms = BVec::new_in(self.arena);
            let cond = self.test()?;
            self.expect(c!(":"))?;
            arms.push((cond, self.suite()?));
            while !looped && self.eat(c!("elif")) {
                let cond = self.test()?;
                self.expect(c!(":"))?;
                arms.push((cond, self.suite()?));
            }
            St::If {
                arms: arms.into_bump_slice(),
                other: self.else_suite()?,
            }
        } else if self.eat(c!("for")) {
            let target = self.test_list_no_in()?;
            if !assignable(&target) {
                return None;
            }
            self.expect(c!("in"))?;
            let iter = self.test_list()?;
            self.expect(c!(":"))?;
            let body = self.suite()?;
            St::For {
                target,
                iter,
                body,
                other: self.else_suite()?,
            }
        } else if self.eat(c!("with")) {
            let mut items = BVec::new_in(self.arena);
            loop {
                items.push(self.test()?);
                if self.eat(c!("as")) {
                    self.target()?;
                }
                if !self.eat(c!(",")) {
                    break;
                }
            }
            self.expect(c!(":"))?;
            let body = self.suite()?;
            St::With(items.into_bump_slice(), body)
        } else if self.wide && self.is(c!("class")) && self.top() {
            self.class()?;
            St::Inert
        } else if self.peek().t == T::Name
            && matches!(self.text(self.peek()), "class" | "try" | "async" | "match")
            && self.starts_compound()
        {
            return None;
        } else {
            self.simple()?
        };
        self.depth -= 1;
        Some(out)
    }

    /// `class`, `try`, `async` open a statement; `match` only before a subject.
    fn starts_compound(&self) -> bool {
        self.text(self.peek()) != "match"
            || self
                .toks
                .get(self.at + 1)
                .is_some_and(|t| !matches!(t.t, T::Op | T::Newline))
    }

    /// An `else:` body, if there is one; `None` inside is a syntax error.
    fn else_suite(&mut self) -> Option<Option<Body<'a>>> {
        if self.eat(c!("else")) {
            self.expect(c!(":"))?;
            return Some(Some(self.suite()?));
        }
        Some(None)
    }

    /// One simple statement and its newline (no `;` in the subset).
    fn simple(&mut self) -> Option<St<'a>> {
        let st = if self.eat(c!("pass")) {
            St::Inert
        } else if self.is(c!("return")) {
            if self.in_def == 0 {
                return None;
            }
            self.at += 1;
            let value = if self.peek().t == T::Newline {
                None
            } else {
                Some(self.test_list()?)
            };
            St::Return(value)
        } else if self.is(c!("raise")) {
            let line = self.bump().line;
            let mut exprs = BVec::new_in(self.arena);
            if self.peek().t != T::Newline {
                exprs.push(self.test()?);
                if self.eat(c!("from")) {
                    exprs.push(self.test()?);
                }
            }
            St::Raise(line, exprs.into_bump_slice())
        } else if self.eat(c!("import")) {
            loop {
                self.dotted()?;
                if self.eat(c!("as")) {
                    self.name()?;
                }
                if !self.eat(c!(",")) {
                    break;
                }
            }
            St::Inert
        } else if self.eat(c!("from")) {
            let mut dots = false;
            let module_start = self.peek().span.start;
            while self.eat(c!(".")) || self.eat(c!("...")) {
                dots = true;
            }
            if !dots && self.text(self.peek()) == "__future__" {
                return self.future_import();
            }
            if !(dots && self.is(c!("import"))) {
                self.dotted()?;
            }
            let module = module_start..self.toks[self.at - 1].span.end;
            self.expect(c!("import"))?;
            if self.eat(c!("*")) {
                // Only at module level.
                if self.in_def > 0 || self.in_class {
                    return None;
                }
            } else {
                let paren = self.eat(c!("("));
                loop {
                    let mut bound = self.name()?.span;
                    if self.eat(c!("as")) {
                        bound = self.name()?.span;
                    }
                    if self.wide && self.top() {
                        self.imports.push((module.clone(), bound));
                    }
                    if !self.eat(c!(",")) || (paren && self.is(c!(")"))) {
                        break;
                    }
                }
                if paren {
                    self.expect(c!(")"))?;
                }
            }
            St::Inert
        } else if self.eat(c!("del")) {
            let t = self.test_list_no_in()?;
            if !assignable(&t) {
                return None;
            }
            St::Exprs(std::slice::from_ref(self.arena.alloc(t)))
        } else if self.eat(c!("assert")) {
            let mut exprs = bumpalo::vec![in self.arena; self.test()?];
            if self.eat(c!(",")) {
                exprs.push(self.test()?);
            }
            St::Exprs(exprs.into_bump_slice())
        } else {
            self.expression_statement()?
        };
        (self.bump().t == T::Newline).then_some(st)
    }

    /// `from __future__ import a [as b], ...` and its newline, in the
    /// module's prologue, of a feature of Python 3 that leaves its grammar
    /// as it is; declined anywhere else (the full parse checks those).
    fn future_import(&mut self) -> Option<St<'a>> {
        if !(self.wide && self.top() && self.prologue) {
            return None;
        }
        self.at += 1;
        self.expect(c!("import"))?;
        let paren = self.eat(c!("("));
        loop {
            let feature = self.name()?;
            // `barry_as_FLUFL` changes the grammar: the full parse decides.
            let feature = self.text(&feature);
            if feature == "barry_as_FLUFL" || !crate::python::FUTURE_FEATURES.contains(&feature) {
                return None;
            }
            if self.eat(c!("as")) {
                self.name()?;
            }
            if !self.eat(c!(",")) || (paren && self.is(c!(")"))) {
                break;
            }
        }
        if paren {
            self.expect(c!(")"))?;
        }
        self.future = true;
        (self.bump().t == T::Newline).then_some(St::Inert)
    }

    fn dotted(&mut self) -> Option<()> {
        self.name()?;
        while self.eat(c!(".")) {
            self.name()?;
        }
        Some(())
    }

    fn expression_statement(&mut self) -> Option<St<'a>> {
        let first = self.test_list()?;
        if self.is(c!(":")) {
            // An annotation: one plain target.
            if !matches!(first.k, K::Name | K::Attr(..)) && !is_subscript(&first) {
                return None;
            }
            self.at += 1;
            self.test()?;
            let value = if self.eat(c!("=")) {
                Some(self.test_list()?)
            } else {
                None
            };
            return Some(St::Assign {
                target: first,
                value,
                aug: false,
            });
        }
        if self.peek().t == T::Op && AUGMENTED.contains(&self.text(self.peek())) {
            if !matches!(first.k, K::Name | K::Attr(..)) && !is_subscript(&first) {
                return None;
            }
            self.at += 1;
            let value = self.test_list()?;
            return Some(St::Assign {
                target: first,
                value: Some(value),
                aug: true,
            });
        }
        if self.eat(c!("=")) {
            if !assignable(&first) {
                return None;
            }
            let value = self.test_list()?;
            if self.is(c!("=")) {
                // `a = b = x`: tree-sitter nests the assignments; neither
                // reader here mirrors that.
                let mut target = value;
                while self.eat(c!("=")) {
                    if !assignable(&target) {
                        return None;
                    }
                    target = self.test_list()?;
                }
                return Some(St::Chained);
            }
            return Some(St::Assign {
                target: first,
                value: Some(value),
                aug: false,
            });
        }
        Some(St::Expr(first))
    }

    fn target(&mut self) -> Option<()> {
        let t = self.or_expr()?;
        assignable(&t).then_some(())
    }
}
