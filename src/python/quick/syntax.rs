//! The syntax tree the quick parser builds, as much of it as the walker of
//! `upgrade()` needs; its nodes live in the parse's arena.

use std::collections::HashMap;
use std::ops::Range;

use super::tokens::Tok;
use crate::python::calls::SqlText;

/// An expression, as much of it as `calls` looks at. `span` is its source.
/// Nodes live in the per-thread arena of one file's parse: no allocation
/// or drop per node.
#[derive(Debug, Clone)]
pub(super) struct Ex<'a> {
    pub(super) span: Range<usize>,
    pub(super) line: usize,
    pub(super) k: K<'a>,
}

#[derive(Debug, Clone)]
pub(super) enum K<'a> {
    Name,
    Attr(&'a Ex<'a>, Range<usize>),
    Call(&'a Ex<'a>, &'a [Arg<'a>]),
    /// One or more adjacent literals (more: a concatenated string).
    Str(&'a [Tok]),
    Paren(&'a Ex<'a>),
    Subscript(&'a Ex<'a>, &'a Ex<'a>),
    Tuple(&'a [Ex<'a>]),
    List(&'a [Ex<'a>]),
    /// Entries in source order: a pair, or a `**` value (no key).
    Dict(&'a [(Ex<'a>, Option<Ex<'a>>)]),
    Plus(&'a Ex<'a>, &'a Ex<'a>),
    /// Anything else, with its sub-expressions in source order.
    Other(&'a [Ex<'a>]),
}

#[derive(Debug, Clone)]
pub(super) enum Arg<'a> {
    Pos(Ex<'a>),
    Star(Ex<'a>),
    Kw(Range<usize>, Ex<'a>),
    DStar(Ex<'a>),
}

/// A block of statements.
pub(super) type Body<'a> = &'a [St<'a>];

/// A statement of a function body, as much as the walker needs.
#[derive(Debug, Clone)]
pub(super) enum St<'a> {
    Expr(Ex<'a>),
    With(&'a [Ex<'a>], Body<'a>),
    Return(Option<Ex<'a>>),
    /// `target = value`, `target op= value` (`aug`) or `target: T [= value]`.
    Assign {
        target: Ex<'a>,
        value: Option<Ex<'a>>,
        aug: bool,
    },
    /// `if`/`elif` arms (or a `while`) and the `else` body.
    If {
        arms: &'a [(Ex<'a>, Body<'a>)],
        other: Option<Body<'a>>,
    },
    For {
        target: Ex<'a>,
        iter: Ex<'a>,
        body: Body<'a>,
        other: Option<Body<'a>>,
    },
    /// `raise [exception [from cause]]`, with the keyword's line.
    Raise(usize, &'a [Ex<'a>]),
    /// `del`, `assert`: expressions walked in order.
    Exprs(&'a [Ex<'a>]),
    /// `pass`, `import`, a nested `def`: nothing the walker follows.
    Inert,
    /// `a = b = x`: valid, but the walker declines it.
    Chained,
}

/// A top-level `class NAME(...):` and its body.
pub(super) struct Class<'a> {
    pub(super) name: Range<usize>,
    /// The line of `class`.
    pub(super) line: usize,
    pub(super) body: Body<'a>,
}

pub(super) struct Module<'a> {
    pub(super) src: &'a str,
    pub(super) defs: HashMap<String, Body<'a>>,
    pub(super) consts: HashMap<String, SqlText>,
}

pub(super) const AUGMENTED: [&str; 12] = [
    "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "|=", "^=",
];

pub(super) fn is_subscript(e: &Ex) -> bool {
    matches!(e.k, K::Subscript(..))
}

/// What Python lets one assign to: names, attributes, subscripts, and
/// tuples or lists of them.
pub(super) fn assignable(e: &Ex) -> bool {
    match &e.k {
        K::Name | K::Attr(..) => true,
        K::Tuple(items) | K::List(items) => !items.is_empty() && items.iter().all(assignable),
        K::Paren(inner) => assignable(inner),
        _ => is_subscript(e),
    }
}
