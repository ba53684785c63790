//! The quick parser's state and its steps over the tokens; the statements
//! and expressions it reads are in `statements.rs` and `expressions.rs`.

use std::collections::HashMap;

use bumpalo::Bump;

use super::codes::FIRST_KEYWORD;
use super::syntax::Body;
use super::tokens::{Tok, T};

/// Nesting deeper than this is declined rather than recursed into.
const MAX_DEPTH: usize = 100;

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) toks: &'a [Tok],
    pub(super) arena: &'a Bump,
    pub(super) at: usize,
    pub(super) depth: usize,
    pub(super) in_def: usize,
    /// Module-level functions, the last definition of a name winning.
    pub(super) defs: HashMap<String, Body<'a>>,
    /// False once the module does something the walker cannot mirror.
    pub(super) plain: bool,
}

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.at]
    }

    /// Token boundaries fall on ASCII bytes, so slicing the text is safe.
    pub(super) fn text(&self, t: &Tok) -> &'a str {
        &self.src[t.span.clone()]
    }

    /// Whether the next token is the operator or keyword with code `c`
    /// (see [`c!`]).
    pub(super) fn is(&self, c: u8) -> bool {
        self.peek().code == c
    }

    /// The precedence of the binary operator ahead, lowest 0 (`|`).
    pub(super) fn binary_op(&self) -> Option<usize> {
        let t = self.peek();
        if t.t != T::Op {
            return None;
        }
        match self.text(t) {
            "|" => Some(0),
            "^" => Some(1),
            "&" => Some(2),
            "<<" | ">>" => Some(3),
            "+" | "-" => Some(4),
            "*" | "/" | "//" | "%" | "@" => Some(5),
            _ => None,
        }
    }

    pub(super) fn eat(&mut self, c: u8) -> bool {
        if self.is(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    pub(super) fn bump(&mut self) -> Tok {
        let t = self.toks[self.at].clone();
        self.at += 1;
        t
    }

    pub(super) fn name(&mut self) -> Option<Tok> {
        let t = self.peek();
        (t.t == T::Name && t.code < FIRST_KEYWORD).then(|| self.bump())
    }

    pub(super) fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }
}
