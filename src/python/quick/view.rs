//! The quick parse's view of a module's top-level classes, for readers of
//! class attributes: the values assigned to chosen names in each class
//! body, as owned trees of the shapes such a reader tells apart, and the
//! names the module's top-level `from` imports bind.

use std::ops::Range;

use super::parser::Parser;
use super::syntax::{Arg, Ex, St, K};
use super::tokens::{Tok, RAW};
use crate::python::{unescape, StrLit};

/// What the quick parse read of a module. Spans and lines are the file's
/// (after any byte-order mark, as [`StrLit`]'s are).
#[derive(Debug)]
pub(crate) struct View {
    pub classes: Vec<ClassView>,
    /// Each top-level `from M import a [as b]`, in order: (M as written,
    /// the name it binds).
    pub imports: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct ClassView {
    pub name: String,
    /// The line of `class`.
    pub line: usize,
    /// `NAME = value` and `NAME: T = value` directly in the body, for the
    /// names asked for, in order.
    pub assigned: Vec<(String, Value)>,
}

#[derive(Debug)]
pub(crate) struct Value {
    pub span: Range<usize>,
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Name,
    /// `object.name`.
    Attr(Box<Value>, String),
    /// A call and its arguments; one other than positional is [`Kind::Other`].
    Call(Box<Value>, Vec<Value>),
    /// One str literal with no prefix but `u` or `r`, decoded.
    Str(StrLit),
    /// `(value)`.
    Paren(Box<Value>),
    /// `(a, b)` or `()`: always in brackets.
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// `left + right`.
    Plus(Box<Value>, Box<Value>),
    True,
    False,
    /// Anything else.
    Other,
}

/// The view of a parsed module; `None` where a value assigned to one of
/// `names` is a tuple without brackets, whose span the full parse draws
/// otherwise (with a trailing comma).
pub(super) fn of(p: &Parser<'_>, base: usize, names: &[&str]) -> Option<View> {
    let text = |r: &Range<usize>| p.src[r.clone()].to_string();
    let mut classes = Vec::with_capacity(p.classes.len());
    for class in &p.classes {
        let mut assigned = Vec::new();
        for st in class.body {
            let St::Assign {
                target,
                value: Some(value),
                aug: false,
            } = st
            else {
                continue;
            };
            let name = &p.src[target.span.clone()];
            if matches!(target.k, K::Name) && names.contains(&name) {
                assigned.push((name.to_string(), value_of(p.src, base, value)?));
            }
        }
        classes.push(ClassView {
            name: text(&class.name),
            line: class.line,
            assigned,
        });
    }
    let imports = p
        .imports
        .iter()
        .map(|(module, bound)| (text(module), text(bound)))
        .collect();
    Some(View { classes, imports })
}

fn value_of(src: &str, base: usize, e: &Ex<'_>) -> Option<Value> {
    let boxed = |e: &Ex<'_>| value_of(src, base, e).map(Box::new);
    let all = |items: &[Ex<'_>]| -> Option<Vec<Value>> {
        items.iter().map(|i| value_of(src, base, i)).collect()
    };
    let kind = match &e.k {
        K::Name => Kind::Name,
        K::Attr(object, name) => Kind::Attr(boxed(object)?, src[name.clone()].to_string()),
        K::Call(func, args) => Kind::Call(
            boxed(func)?,
            args.iter()
                .map(|a| match a {
                    Arg::Pos(e) => value_of(src, base, e),
                    Arg::Star(e) | Arg::Kw(_, e) | Arg::DStar(e) => Some(Value {
                        span: e.span.start + base..e.span.end + base,
                        line: e.line,
                        kind: Kind::Other,
                    }),
                })
                .collect::<Option<_>>()?,
        ),
        K::Str([one]) => plain_string(src, base, one).map_or(Kind::Other, Kind::Str),
        K::Paren(inner) => Kind::Paren(boxed(inner)?),
        K::Tuple(items) if items.first().is_some_and(|i| i.span.start == e.span.start) => {
            return None
        }
        K::Tuple(items) => Kind::Tuple(all(items)?),
        K::List(items) => Kind::List(all(items)?),
        K::Plus(left, right) => Kind::Plus(boxed(left)?, boxed(right)?),
        K::Other([]) if &src[e.span.clone()] == "True" => Kind::True,
        K::Other([]) if &src[e.span.clone()] == "False" => Kind::False,
        _ => Kind::Other,
    };
    Some(Value {
        span: e.span.start + base..e.span.end + base,
        line: e.line,
        kind,
    })
}

/// A str literal as the full parse's `plain_string` reads one: no prefix
/// but `u` or `r`, escapes decoded where Python's are plain.
fn plain_string(src: &str, base: usize, t: &Tok) -> Option<StrLit> {
    if t.prefix & !RAW != 0 {
        return None;
    }
    let raw = &src[t.inner.clone()];
    let value = if t.prefix & RAW != 0 || !raw.contains('\\') {
        raw.to_string()
    } else {
        unescape(raw)?
    };
    Some(StrLit {
        value,
        inner: t.inner.start + base..t.inner.end + base,
        line: t.line,
    })
}
