//! What an expression of the quick parse stands for, as `calls` reads it:
//! the string it evaluates to, a call's name and arguments, its parts.

use std::collections::HashMap;
use std::ops::Range;

use super::syntax::{Arg, Ex, Module, K};
use super::tokens::{fields, Tok, BYTES, FSTRING, RAW};
use crate::python::calls::{SqlText, UNKNOWN};
use crate::python::unescape;

pub(super) fn text<'s>(m: &Module<'s>, span: &Range<usize>) -> &'s str {
    &m.src[span.clone()]
}

/// The string constants in scope: the function's, then the module's.
#[derive(Clone, Copy)]
pub(super) struct Env<'a> {
    pub(super) local: Option<&'a HashMap<String, SqlText>>,
    pub(super) module: &'a HashMap<String, SqlText>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<&SqlText> {
        self.local
            .and_then(|l| l.get(name))
            .or_else(|| self.module.get(name))
    }
}

/// `calls::Module::string`: the string an expression evaluates to.
pub(super) fn string(m: &Module<'_>, e: &Ex, consts: Env<'_>) -> Option<SqlText> {
    match &e.k {
        K::Str(parts) if parts.len() == 1 => literal(m, &parts[0], consts),
        K::Str(parts) => {
            let mut out = SqlText::default();
            for p in *parts {
                append(&mut out, literal(m, p, consts)?);
            }
            Some(out)
        }
        K::Paren(inner) => string(m, inner, consts),
        K::Name => consts.get(text(m, &e.span)).cloned(),
        K::Plus(l, r) => {
            let mut left = string(m, l, consts)?;
            append(&mut left, string(m, r, consts)?);
            Some(left)
        }
        K::Call(func, args) => match callee(m, func) {
            (_, "text") => string(m, positional(args).next()?, consts),
            (Some(object), "bindparams") => string(m, object, consts),
            _ => None,
        },
        _ => None,
    }
}

fn append(out: &mut SqlText, other: SqlText) {
    out.append(other);
}

/// `calls::Module::literal`: an f-string's fields become their constant's
/// value, or [`UNKNOWN`].
fn literal(m: &Module<'_>, t: &Tok, consts: Env<'_>) -> Option<SqlText> {
    if t.prefix & BYTES != 0 {
        return None;
    }
    let fstring = t.prefix & FSTRING != 0;
    let segment = |range: Range<usize>| -> String {
        let mut s = m.src[range].to_string();
        if fstring {
            s = s.replace("{{", "{").replace("}}", "}");
        }
        if t.prefix & RAW == 0 && s.contains('\\') {
            s = unescape(&s).unwrap_or(s);
        }
        s
    };
    let mut text = String::new();
    let mut pos = t.inner.start;
    if fstring {
        for (field, name) in fields(&m.src.as_bytes()[t.inner.clone()], t.inner.start)? {
            text.push_str(&segment(pos..field.start));
            match consts.get(&m.src[name]) {
                Some(v) => text.push_str(&v.text),
                None => text.push_str(UNKNOWN),
            }
            pos = field.end;
        }
    }
    text.push_str(&segment(pos..t.inner.end));
    Some(SqlText::new(&text, t.line))
}

pub(super) fn callee<'e, 's>(m: &Module<'s>, func: &'e Ex<'e>) -> (Option<&'e Ex<'e>>, &'s str) {
    match &func.k {
        K::Attr(object, name) => (Some(object), text(m, name)),
        K::Name => (None, text(m, &func.span)),
        _ => (None, ""),
    }
}

pub(super) fn positional<'e>(args: &'e [Arg<'e>]) -> impl Iterator<Item = &'e Ex<'e>> {
    args.iter()
        .map_while(|a| if let Arg::Pos(e) = a { Some(e) } else { None })
}

pub(super) fn keyword<'e>(m: &Module<'_>, args: &'e [Arg<'e>], key: &str) -> Option<&'e Ex<'e>> {
    args.iter().find_map(|a| match a {
        Arg::Kw(name, value) if text(m, name) == key => Some(value),
        _ => None,
    })
}

/// An expression's sub-expressions, in source order (tree-sitter's named
/// children, as far as calls are concerned).
pub(super) fn children<'e>(e: &'e Ex<'e>) -> Vec<&'e Ex<'e>> {
    match &e.k {
        K::Name | K::Str(_) => Vec::new(),
        K::Attr(object, _) => vec![object],
        K::Call(func, args) => std::iter::once(&**func)
            .chain(args.iter().map(arg_value))
            .collect(),
        K::Paren(inner) => vec![inner],
        K::Subscript(value, index) => vec![value, index],
        K::Tuple(items) | K::List(items) | K::Other(items) => items.iter().collect(),
        K::Dict(entries) => entries
            .iter()
            .flat_map(|(k, v)| std::iter::once(k).chain(v))
            .collect(),
        K::Plus(l, r) => vec![l, r],
    }
}

/// `f` on each sub-expression in source order, as [`children`] lists them,
/// stopping at the first `None`; without collecting them.
pub(super) fn each_child<'e>(
    e: &'e Ex<'e>,
    f: &mut impl FnMut(&'e Ex<'e>) -> Option<()>,
) -> Option<()> {
    match &e.k {
        K::Name | K::Str(_) => Some(()),
        K::Attr(object, _) => f(object),
        K::Call(func, args) => {
            f(func)?;
            args.iter().try_for_each(|a| f(arg_value(a)))
        }
        K::Paren(inner) => f(inner),
        K::Subscript(value, index) => {
            f(value)?;
            f(index)
        }
        K::Tuple(items) | K::List(items) | K::Other(items) => items.iter().try_for_each(f),
        K::Dict(entries) => entries.iter().try_for_each(|(k, v)| {
            f(k)?;
            v.as_ref().map_or(Some(()), &mut *f)
        }),
        K::Plus(l, r) => {
            f(l)?;
            f(r)
        }
    }
}

pub(super) fn arg_value<'e>(a: &'e Arg<'e>) -> &'e Ex<'e> {
    match a {
        Arg::Pos(e) | Arg::Star(e) | Arg::Kw(_, e) | Arg::DStar(e) => e,
    }
}
