//! The quick parser's state and its steps over the tokens; the statements
//! and expressions it reads are in `statements.rs` and `expressions.rs`.

use std::collections::HashMap;
use std::ops::Range;

use bumpalo::Bump;

use super::codes::FIRST_KEYWORD;
use super::syntax::{Body, Class};
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
    /// Whether top-level classes and `from __future__` imports are read
    /// (see [`super::view`]); the walker of `upgrade()` declines them.
    pub(super) wide: bool,
    /// Blocks the statement being read is in (0: the module's own).
    pub(super) blocks: usize,
    pub(super) in_class: bool,
    /// Until a statement other than a docstring or a future import.
    pub(super) prologue: bool,
    /// Set by a `from __future__` import, for the module's loop.
    pub(super) future: bool,
    /// Top-level classes, in order.
    pub(super) classes: Vec<Class<'a>>,
    /// Top-level `from M import a [as b]`: (M's span, the bound name's span).
    pub(super) imports: Vec<(Range<usize>, Range<usize>)>,
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

    /// A parser over `toks`, `wide` or not (see [`Parser::wide`]).
    pub(super) fn new(src: &'a str, toks: &'a [Tok], arena: &'a Bump, wide: bool) -> Self {
        Parser {
            src,
            toks,
            arena,
            at: 0,
            depth: 0,
            in_def: 0,
            defs: HashMap::new(),
            plain: true,
            wide,
            blocks: 0,
            in_class: false,
            prologue: true,
            future: false,
            classes: Vec::new(),
            imports: Vec::new(),
        }
    }

    /// Whether the statement ahead stands in the module itself.
    pub(super) fn top(&self) -> bool {
        self.blocks == 0 && self.in_def == 0 && !self.in_class
    }

    pub(super) fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }
}
