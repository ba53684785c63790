//! The quick parser's expressions, by precedence, down to atoms; each
//! node allocated in the parse's arena.

use bumpalo::collections::Vec as BVec;

use super::codes::{c, code_of, FIRST_KEYWORD, NONE_TRUE_FALSE};
use super::parser::Parser;
use super::syntax::{assignable, Arg, Ex, AUGMENTED, K};
use super::tokens::{BYTES, T};

impl<'a> Parser<'a> {
    /// `a, b` as a tuple, or one expression.
    pub(super) fn test_list(&mut self) -> Option<Ex<'a>> {
        let first = self.test()?;
        if !self.is(c!(",")) {
            return Some(first);
        }
        let mut items = bumpalo::vec![in self.arena; first];
        while self.eat(c!(",")) {
            if self.ends_list() {
                break;
            }
            items.push(self.test()?);
        }
        Some(self.node_of(items, K::Tuple))
    }

    /// A `for` target list, which stops before `in`.
    pub(super) fn test_list_no_in(&mut self) -> Option<Ex<'a>> {
        let first = self.or_expr()?;
        if !self.is(c!(",")) {
            return Some(first);
        }
        let mut items = bumpalo::vec![in self.arena; first];
        while self.eat(c!(",")) {
            if self.is(c!("in")) {
                break;
            }
            items.push(self.or_expr()?);
        }
        Some(self.node_of(items, K::Tuple))
    }

    fn ends_list(&self) -> bool {
        let t = self.peek();
        matches!(t.t, T::Newline | T::End)
            || (t.t == T::Op && matches!(self.text(t), "=" | ")" | "]" | "}" | ":"))
            || AUGMENTED.contains(&self.text(t))
    }

    fn node_of(&self, items: BVec<'a, Ex<'a>>, k: fn(&'a [Ex<'a>]) -> K<'a>) -> Ex<'a> {
        let span = items[0].span.start..items.last().expect("one at least").span.end;
        let line = items[0].line;
        Ex {
            span,
            line,
            k: k(items.into_bump_slice()),
        }
    }

    pub(super) fn test(&mut self) -> Option<Ex<'a>> {
        self.deeper()?;
        // Most expressions in a migration are a call, a name or a string
        // followed by `,` or a closing bracket: skip the precedence levels.
        let t = self.peek();
        let simple = match t.t {
            T::Str | T::Number => true,
            T::Name => t.code < FIRST_KEYWORD || NONE_TRUE_FALSE.contains(&t.code),
            _ => false,
        };
        if simple {
            let save = self.at;
            let e = self.primary()?;
            let next = self.peek();
            let ends = next.t == T::Newline
                || [c!(","), c!(")"), c!("]"), c!("}"), c!(":"), c!("=")].contains(&next.code);
            if ends {
                self.depth -= 1;
                return Some(e);
            }
            self.at = save;
        }
        if self.is(c!("lambda")) || self.is(c!("yield")) || self.is(c!("await")) {
            return None;
        }
        let cond = self.or_test()?;
        let out = if self.eat(c!("if")) {
            let test = self.or_test()?;
            self.expect(c!("else"))?;
            let other = self.test()?;
            self.combine(bumpalo::vec![in self.arena; cond, test, other])
        } else {
            cond
        };
        self.depth -= 1;
        Some(out)
    }

    fn combine(&self, parts: BVec<'a, Ex<'a>>) -> Ex<'a> {
        self.node_of(parts, K::Other)
    }

    fn or_test(&mut self) -> Option<Ex<'a>> {
        let mut parts = bumpalo::vec![in self.arena; self.and_test()?];
        while self.eat(c!("or")) {
            parts.push(self.and_test()?);
        }
        Some(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            self.combine(parts)
        })
    }

    fn and_test(&mut self) -> Option<Ex<'a>> {
        let mut parts = bumpalo::vec![in self.arena; self.not_test()?];
        while self.eat(c!("and")) {
            parts.push(self.not_test()?);
        }
        Some(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            self.combine(parts)
        })
    }

    fn not_test(&mut self) -> Option<Ex<'a>> {
        if self.is(c!("not")) {
            let start = self.bump();
            self.deeper()?;
            let inner = self.not_test()?;
            self.depth -= 1;
            return Some(Ex {
                span: start.span.start..inner.span.end,
                line: start.line,
                k: K::Other(std::slice::from_ref(self.arena.alloc(inner))),
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Option<Ex<'a>> {
        let mut parts = bumpalo::vec![in self.arena; self.or_expr()?];
        loop {
            if self.eat(c!("not")) {
                self.expect(c!("in"))?;
            } else if self.eat(c!("is")) {
                self.eat(c!("not"));
            } else if !(self.eat(c!("in")) || self.eat_any(&["<", ">", "==", ">=", "<=", "!="])) {
                break;
            }
            parts.push(self.or_expr()?);
        }
        Some(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            self.combine(parts)
        })
    }

    fn eat_any(&mut self, ops: &[&str]) -> bool {
        let t = self.peek();
        if t.t == T::Op && ops.contains(&self.text(t)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Binary operators, by precedence, folded left; `+` is kept apart, as
    /// string concatenation reads it.
    pub(super) fn or_expr(&mut self) -> Option<Ex<'a>> {
        self.binary(0)
    }

    /// Precedence climbing: operators binding at least as tight as `min`.
    fn binary(&mut self, min: usize) -> Option<Ex<'a>> {
        let mut left = self.factor()?;
        // Each fold nests the tree one level: count it, as brackets are.
        let depth = self.depth;
        while let Some(level) = self.binary_op().filter(|&l| l >= min) {
            self.deeper()?;
            let plus = self.is(c!("+"));
            self.at += 1;
            let right = self.binary(level + 1)?;
            let span = left.span.start..right.span.end;
            let line = left.line;
            let k = if plus {
                K::Plus(self.arena.alloc(left), self.arena.alloc(right))
            } else {
                K::Other(bumpalo::vec![in self.arena; left, right].into_bump_slice())
            };
            left = Ex { span, line, k };
        }
        self.depth = depth;
        Some(left)
    }

    fn factor(&mut self) -> Option<Ex<'a>> {
        if self.is(c!("-")) || self.is(c!("+")) || self.is(c!("~")) {
            let start = self.bump();
            self.deeper()?;
            let inner = self.factor()?;
            self.depth -= 1;
            return Some(Ex {
                span: start.span.start..inner.span.end,
                line: start.line,
                k: K::Other(std::slice::from_ref(self.arena.alloc(inner))),
            });
        }
        let base = self.primary()?;
        if self.eat(c!("**")) {
            self.deeper()?;
            let exp = self.factor()?;
            self.depth -= 1;
            return Some(self.combine(bumpalo::vec![in self.arena; base, exp]));
        }
        Some(base)
    }

    /// An atom and its trailers: calls, subscripts, attributes.
    fn primary(&mut self) -> Option<Ex<'a>> {
        let mut e = self.atom()?;
        // Each trailer nests the tree one level: count it, as brackets are.
        let depth = self.depth;
        loop {
            if self.is(c!("(")) || self.is(c!("[")) || self.is(c!(".")) {
                self.deeper()?;
            }
            if self.is(c!("(")) {
                let args = self.arguments()?;
                let end = self.toks[self.at - 1].span.end;
                e = Ex {
                    span: e.span.start..end,
                    line: e.line,
                    k: K::Call(self.arena.alloc(e), args),
                };
            } else if self.eat(c!("[")) {
                let index = self.subscript()?;
                let end = self.bump();
                if self.text(&end) != "]" {
                    return None;
                }
                e = Ex {
                    span: e.span.start..end.span.end,
                    line: e.line,
                    k: K::Subscript(self.arena.alloc(e), self.arena.alloc(index)),
                };
            } else if self.eat(c!(".")) {
                let n = self.name()?;
                e = Ex {
                    span: e.span.start..n.span.end,
                    line: e.line,
                    k: K::Attr(self.arena.alloc(e), n.span),
                };
            } else {
                self.depth = depth;
                return Some(e);
            }
        }
    }

    /// `a`, `a:b`, `a:b:c`, `a, b`: slices, as one expression.
    fn subscript(&mut self) -> Option<Ex<'a>> {
        let start = self.peek().span.start;
        let line = self.peek().line;
        let mut parts = BVec::new_in(self.arena);
        let bound_ahead = |p: &Self| !p.is(c!(":")) && !p.is(c!("]")) && !p.is(c!(","));
        loop {
            if !self.is(c!(":")) {
                parts.push(self.test()?);
            }
            if self.eat(c!(":")) {
                if bound_ahead(self) {
                    parts.push(self.test()?);
                }
                if self.eat(c!(":")) && bound_ahead(self) {
                    parts.push(self.test()?);
                }
            }
            if !self.eat(c!(",")) || self.is(c!("]")) {
                break;
            }
        }
        let end = self.peek().span.start;
        Some(Ex {
            span: start..end,
            line,
            k: K::Other(parts.into_bump_slice()),
        })
    }

    /// The `for … in … if …` clauses after a display's first element: the
    /// element, targets, iterables and conditions, in source order.
    fn comprehension(&mut self, mut parts: BVec<'a, Ex<'a>>) -> Option<Ex<'a>> {
        let start = parts[0].span.start;
        let line = parts[0].line;
        while self.eat(c!("for")) {
            let target = self.test_list_no_in()?;
            if !assignable(&target) {
                return None;
            }
            parts.push(target);
            self.expect(c!("in"))?;
            parts.push(self.or_test()?);
            while self.eat(c!("if")) {
                parts.push(self.or_test()?);
            }
        }
        let end = self.peek().span.start;
        Some(Ex {
            span: start..end,
            line,
            k: K::Other(parts.into_bump_slice()),
        })
    }

    pub(super) fn arguments(&mut self) -> Option<&'a [Arg<'a>]> {
        self.expect(c!("("))?;
        let mut args = BVec::new_in(self.arena);
        let mut keywords: Vec<&str> = Vec::new();
        let mut after_keyword = false;
        let mut after_dstar = false;
        while !self.is(c!(")")) {
            let arg = if self.eat(c!("**")) {
                after_dstar = true;
                Arg::DStar(self.test()?)
            } else if self.eat(c!("*")) {
                if after_dstar {
                    return None;
                }
                Arg::Star(self.test()?)
            } else if self.peek().t == T::Name
                && self
                    .toks
                    .get(self.at + 1)
                    .is_some_and(|t| t.t == T::Op && self.text(t) == "=")
            {
                let n = self.name()?;
                self.at += 1;
                let k = self.text(&n);
                if keywords.contains(&k) {
                    return None;
                }
                keywords.push(k);
                after_keyword = true;
                Arg::Kw(n.span, self.test()?)
            } else {
                if after_keyword || after_dstar {
                    return None;
                }
                let e = self.test()?;
                if self.is(c!("for")) {
                    return None;
                }
                Arg::Pos(e)
            };
            args.push(arg);
            if !self.eat(c!(",")) {
                break;
            }
        }
        self.expect(c!(")"))?;
        Some(args.into_bump_slice())
    }

    fn atom(&mut self) -> Option<Ex<'a>> {
        let toks = self.toks;
        let t = &toks[self.at];
        match t.t {
            T::Name => {
                let constant = NONE_TRUE_FALSE.contains(&t.code);
                if t.code >= FIRST_KEYWORD && !constant {
                    return None;
                }
                self.at += 1;
                let k = if constant { K::Other(&[]) } else { K::Name };
                Some(Ex {
                    span: t.span.clone(),
                    line: t.line,
                    k,
                })
            }
            T::Number => {
                self.at += 1;
                Some(Ex {
                    span: t.span.clone(),
                    line: t.line,
                    k: K::Other(&[]),
                })
            }
            T::Str => {
                let first = self.at;
                while self.peek().t == T::Str {
                    self.at += 1;
                }
                let parts = &toks[first..self.at];
                // Bytes and str cannot be concatenated.
                if parts.iter().any(|p| p.prefix & BYTES != 0)
                    && parts.iter().any(|p| p.prefix & BYTES == 0)
                {
                    return None;
                }
                let span = parts[0].span.start..parts.last().expect("one").span.end;
                Some(Ex {
                    span,
                    line: t.line,
                    k: K::Str(parts),
                })
            }
            T::Op => match self.text(t) {
                "(" => {
                    self.at += 1;
                    self.deeper()?;
                    let out = if self.is(c!(")")) {
                        K::Tuple(&[])
                    } else {
                        let first = self.test()?;
                        if self.is(c!("for")) {
                            self.comprehension(bumpalo::vec![in self.arena; first])?.k
                        } else if self.is(c!(",")) {
                            let mut items = bumpalo::vec![in self.arena; first];
                            while self.eat(c!(",")) {
                                if self.is(c!(")")) {
                                    break;
                                }
                                items.push(self.test()?);
                            }
                            K::Tuple(items.into_bump_slice())
                        } else {
                            K::Paren(self.arena.alloc(first))
                        }
                    };
                    self.depth -= 1;
                    let end = self.bump();
                    (self.text(&end) == ")").then_some(Ex {
                        span: t.span.start..end.span.end,
                        line: t.line,
                        k: out,
                    })
                }
                "[" => {
                    self.at += 1;
                    self.deeper()?;
                    let mut items = BVec::new_in(self.arena);
                    let mut comprehension = None;
                    while !self.is(c!("]")) {
                        items.push(self.test()?);
                        if self.is(c!("for")) && items.len() == 1 {
                            comprehension = Some(
                                self.comprehension(std::mem::replace(
                                    &mut items,
                                    BVec::new_in(self.arena),
                                ))?
                                .k,
                            );
                            break;
                        }
                        if !self.eat(c!(",")) {
                            break;
                        }
                    }
                    self.depth -= 1;
                    let end = self.bump();
                    let k = comprehension.unwrap_or(K::List(items.into_bump_slice()));
                    (self.text(&end) == "]").then_some(Ex {
                        span: t.span.start..end.span.end,
                        line: t.line,
                        k,
                    })
                }
                "{" => {
                    self.at += 1;
                    self.deeper()?;
                    // A dict's entries in source order: a pair, or `**value`.
                    let mut entries: BVec<'a, (Ex<'a>, Option<Ex<'a>>)> = BVec::new_in(self.arena);
                    let mut set: BVec<'a, Ex<'a>> = BVec::new_in(self.arena);
                    let mut comprehension = None;
                    while !self.is(c!("}")) {
                        let first = entries.is_empty() && set.is_empty();
                        if self.eat(c!("**")) {
                            if !set.is_empty() {
                                return None;
                            }
                            entries.push((self.or_expr()?, None));
                        } else {
                            let key = self.test()?;
                            if self.eat(c!(":")) {
                                if !set.is_empty() {
                                    return None;
                                }
                                let value = self.test()?;
                                if first && self.is(c!("for")) {
                                    comprehension = Some(
                                        self.comprehension(
                                            bumpalo::vec![in self.arena; key, value],
                                        )?
                                        .k,
                                    );
                                    break;
                                }
                                entries.push((key, Some(value)));
                            } else {
                                if !entries.is_empty() {
                                    return None;
                                }
                                if first && self.is(c!("for")) {
                                    comprehension = Some(
                                        self.comprehension(bumpalo::vec![in self.arena; key])?.k,
                                    );
                                    break;
                                }
                                set.push(key);
                            }
                        }
                        if !self.eat(c!(",")) {
                            break;
                        }
                    }
                    self.depth -= 1;
                    let end = self.bump();
                    if self.text(&end) != "}" {
                        return None;
                    }
                    let k = comprehension.unwrap_or(if set.is_empty() {
                        K::Dict(entries.into_bump_slice())
                    } else {
                        K::Other(set.into_bump_slice())
                    });
                    Some(Ex {
                        span: t.span.start..end.span.end,
                        line: t.line,
                        k,
                    })
                }
                "..." => {
                    self.at += 1;
                    Some(Ex {
                        span: t.span.clone(),
                        line: t.line,
                        k: K::Other(&[]),
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }
}
