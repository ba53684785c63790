//! The fast reader: one pass over the bytes with a small tokenizer that knows
//! strings, comments, brackets and line continuations, and nothing more.
//!
//! It accepts only the shapes real migrations use (`name [: ann] = literal`
//! at column 0) and returns `None` for anything else, so the full parse
//! decides every unusual file. Where it answers, the answer must equal the
//! full reader's, spans and lines included.

use std::ops::Range;

use super::{doc_header, line_of, Assigned, ModuleConsts, PyValue, SeqKind, StrLit, NAMES};

#[derive(Debug, Clone, Copy)]
enum Block {
    None,
    Def,
    Other,
}

#[derive(Debug)]
enum Tok {
    Name(Range<usize>),
    Str(StrTok),
    /// An operator or bracket; `len` is 2 for `==`, `:=`, `+=` and the like.
    Op {
        at: usize,
        len: usize,
    },
    /// A number or `...`.
    Other,
}

#[derive(Debug)]
struct StrTok {
    prefix: Range<usize>,
    inner: Range<usize>,
    full: Range<usize>,
    backslash: bool,
}

struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
}

pub(super) fn scan(src: &[u8], base: usize) -> Option<ModuleConsts> {
    let mut s = Scanner { src, pos: 0 };
    let mut consts = ModuleConsts::default();
    let mut first_statement = true;
    // What the last column-0 statement opened: nothing, a `def`/`class`
    // body (whose names are local), or another block (`if`, `try`, ...).
    let mut block = Block::None;
    let mut toks = Vec::with_capacity(32);
    // The offset and line of the last assignment read.
    let mut lines = (0, 1);
    while s.pos < src.len() {
        let indent = s.skip_indent();
        match src.get(s.pos) {
            None => break,
            Some(b'\n') => {
                s.pos += 1;
                continue;
            }
            Some(b'\r') => {
                s.newline();
                continue;
            }
            Some(b'#') => {
                s.skip_comment();
                continue;
            }
            Some(_) => {}
        }
        let start = s.pos;
        if indent > 0 && matches!(block, Block::Def) {
            // A function or class body binds only local names: all that
            // matters is where it ends.
            s.skip_logical_line()?;
            continue;
        }
        toks.clear();
        s.logical_line(&mut toks)?;
        // A line that ends in an operator (`c.`, `x =`) is not Python; the
        // grammar may join it to the next line, so leave it to the full parse.
        if matches!(toks.last(), Some(Tok::Op { at, .. }) if !b")]}:,".contains(&src[*at])) {
            return None;
        }
        if indent > 0 {
            // Inside a block: a bare known name might be a conditional
            // assignment at module level, which only the full parse can tell.
            match block {
                Block::None => return None,
                Block::Other if mentions_known_name(src, &toks) => return None,
                _ => {}
            }
            continue;
        }
        let opens = matches!(toks.last(), Some(Tok::Op { at, len: 1 }) if src[*at] == b':');
        let is_def = matches!(toks.first(), Some(Tok::Name(r)) if matches!(&src[r.clone()], b"def" | b"class" | b"async"));
        block = match (opens, is_def) {
            (false, _) => Block::None,
            (true, true) => Block::Def,
            (true, false) => Block::Other,
        };
        // Several statements on one line are the full parse's business.
        if toks
            .iter()
            .any(|t| matches!(t, Tok::Op { at, len: 1 } if src[*at] == b';'))
        {
            return None;
        }
        // A statement cannot start with most operators: conflict markers
        // (`<<<<<<<`, `=======`) and other damage are the full parse's to report.
        if matches!(toks.first(), Some(Tok::Op { at, .. }) if !b"([{@-+~*.".contains(&src[*at])) {
            return None;
        }
        let was_first = std::mem::replace(&mut first_statement, false);
        match toks.as_slice() {
            [Tok::Str(t)] if was_first => {
                if plain_prefix(src, t).is_some() {
                    consts.doc = doc_header(&src[t.inner.clone()], t.inner.start + base);
                }
            }
            [Tok::Name(n), rest @ ..] if known(src, n).is_some() => {
                let name = known(src, n).unwrap_or_default();
                let value = assignment_value(src, rest)?;
                let span = span_of(value)?;
                // Lines are counted on from the last statement's, not from the top.
                let line = lines.1 + line_of(&src[lines.0..], start - lines.0) - 1;
                lines = (start, line);
                let assigned = Assigned {
                    line,
                    value: literal(src, value, base, lines)?,
                    value_span: span.start + base..span.end + base,
                };
                *consts.slot(name) = Some(assigned);
            }
            _ => {
                if mentions_known_name(src, &toks) {
                    return None;
                }
            }
        }
    }
    // Without `revision` the file is an error (or a legacy hex-named file):
    // let the full parse give the exact reason.
    consts.revision.as_ref()?;
    Some(consts)
}

fn known(src: &[u8], r: &Range<usize>) -> Option<&'static str> {
    let text = &src[r.clone()];
    NAMES.iter().copied().find(|n| n.as_bytes() == text)
}

/// True when a known name appears as a bare name (not after a `.`).
fn mentions_known_name(src: &[u8], toks: &[Tok]) -> bool {
    toks.iter().enumerate().any(|(i, t)| match t {
        Tok::Name(r) => {
            known(src, r).is_some()
                && !matches!(i.checked_sub(1).map(|j| &toks[j]), Some(Tok::Op { at, len: 1 }) if src[*at] == b'.')
        }
        _ => false,
    })
}

/// The tokens after `=` in `name = value` or `name: annotation = value`.
fn assignment_value<'t>(src: &[u8], rest: &'t [Tok]) -> Option<&'t [Tok]> {
    let is_op = |t: &Tok, c: u8| matches!(t, Tok::Op { at, len: 1 } if src[*at] == c);
    let eq = match rest.first()? {
        t if is_op(t, b'=') => 0,
        t if is_op(t, b':') => {
            // The annotation runs to the first `=` outside brackets.
            let mut depth = 0i32;
            let mut found = None;
            for (i, t) in rest.iter().enumerate().skip(1) {
                if let Tok::Op { at, len: 1 } = t {
                    match src[*at] {
                        b'(' | b'[' | b'{' => depth += 1,
                        b')' | b']' | b'}' => depth -= 1,
                        b'=' if depth == 0 => {
                            found = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
            }
            found?
        }
        _ => return None,
    };
    let value = &rest[eq + 1..];
    // `a = b = c`, `x; y` and the like are the full parse's business.
    if value.is_empty() || value.iter().any(|t| is_op(t, b'=') || is_op(t, b';')) {
        return None;
    }
    Some(value)
}

fn span_of(toks: &[Tok]) -> Option<Range<usize>> {
    let first = toks.first()?;
    let last = toks.last()?;
    let start = match first {
        Tok::Name(r) => r.start,
        Tok::Str(s) => s.full.start,
        Tok::Op { at, .. } => *at,
        Tok::Other => return None,
    };
    let end = match last {
        Tok::Name(r) => r.end,
        Tok::Str(s) => s.full.end,
        Tok::Op { at, len } => at + len,
        Tok::Other => return None,
    };
    Some(start..end)
}

/// `at`: the statement's offset and line.
fn literal(src: &[u8], toks: &[Tok], base: usize, at: (usize, usize)) -> Option<PyValue> {
    let op = |t: &Tok| match t {
        Tok::Op { at, len: 1 } => Some(src[*at]),
        _ => None,
    };
    match toks {
        [Tok::Name(r)] if &src[r.clone()] == b"None" => Some(PyValue::None),
        [Tok::Str(s)] => Some(PyValue::Str(str_lit(src, s, base, at)?)),
        [open, Tok::Str(s), close] if op(open) == Some(b'(') && op(close) == Some(b')') => {
            Some(PyValue::Str(str_lit(src, s, base, at)?))
        }
        [open, inner @ .., close] => {
            let kind = match (op(open)?, op(close)?) {
                (b'(', b')') => SeqKind::Tuple,
                (b'[', b']') => SeqKind::List,
                _ => return None,
            };
            // Strings separated by commas, an optional trailing comma.
            let mut items = Vec::new();
            let mut expect_str = true;
            for t in inner {
                match t {
                    Tok::Str(s) if expect_str => items.push(str_lit(src, s, base, at)?),
                    t if !expect_str && op(t) == Some(b',') => {}
                    _ => return None,
                }
                expect_str = !expect_str;
            }
            let span = span_of(toks)?;
            Some(PyValue::Seq {
                kind,
                items,
                span: span.start + base..span.end + base,
            })
        }
        _ => None,
    }
}

/// The prefix when it is one the literal reader accepts (`u`, `r` or none).
fn plain_prefix<'a>(src: &'a [u8], t: &StrTok) -> Option<&'a [u8]> {
    let p = &src[t.prefix.clone()];
    matches!(p, b"" | b"u" | b"U" | b"r" | b"R").then_some(p)
}

fn str_lit(src: &[u8], t: &StrTok, base: usize, at: (usize, usize)) -> Option<StrLit> {
    let prefix = plain_prefix(src, t)?;
    let raw = matches!(prefix, b"r" | b"R");
    if t.backslash && !raw {
        return None;
    }
    let value = std::str::from_utf8(&src[t.inner.clone()]).ok()?.to_string();
    Some(StrLit {
        value,
        inner: t.inner.start + base..t.inner.end + base,
        line: at.1 + line_of(&src[at.0..], t.full.start - at.0) - 1,
    })
}

impl Scanner<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.pos + ahead).copied()
    }

    fn skip_indent(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(0), Some(b' ' | b'\t' | b'\x0c')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn skip_comment(&mut self) {
        while !matches!(self.peek(0), None | Some(b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// A backslash that joins the next line; anything else after it is
    /// not Python, and declined.
    fn continuation(&mut self) -> Option<()> {
        self.pos += match (self.peek(1), self.peek(2)) {
            (Some(b'\n'), _) => 2,
            (Some(b'\r'), Some(b'\n')) => 3,
            (Some(b'\r'), _) => 2,
            _ => return None,
        };
        Some(())
    }

    /// Steps over one line ending: `\n`, `\r\n` or a lone `\r`.
    fn newline(&mut self) {
        if self.peek(0) == Some(b'\r') && self.peek(1) == Some(b'\n') {
            self.pos += 2;
        } else {
            self.pos += 1;
        }
    }

    /// Tokenizes one logical line and steps past its line ending. `None`
    /// for what this scanner does not handle (stray backslashes,
    /// unterminated strings, unbalanced brackets).
    fn logical_line(&mut self, toks: &mut Vec<Tok>) -> Option<()> {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'#' => self.skip_comment(),
                b'\\' => self.continuation()?,
                b'\n' | b'\r' => {
                    self.newline();
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    toks.push(Tok::Op {
                        at: self.pos,
                        len: 1,
                    });
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    toks.push(Tok::Op {
                        at: self.pos,
                        len: 1,
                    });
                    self.pos += 1;
                }
                b'\'' | b'"' => {
                    let at = self.pos;
                    toks.push(Tok::Str(self.string(at..at)?));
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    let start = self.pos;
                    while matches!(self.peek(0), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
                    {
                        self.pos += 1;
                    }
                    let word = start..self.pos;
                    if matches!(self.peek(0), Some(b'\'' | b'"'))
                        && is_string_prefix(&self.src[word.clone()])
                    {
                        toks.push(Tok::Str(self.string(word)?));
                    } else {
                        toks.push(Tok::Name(word));
                    }
                }
                c if c.is_ascii_digit()
                    || (c == b'.' && matches!(self.peek(1), Some(d) if d.is_ascii_digit())) =>
                {
                    while matches!(self.peek(0), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
                    {
                        self.pos += 1;
                    }
                    toks.push(Tok::Other);
                }
                b'.' if self.peek(1) == Some(b'.') && self.peek(2) == Some(b'.') => {
                    self.pos += 3;
                    toks.push(Tok::Other);
                }
                _ => {
                    // `==`, `:=`, `+=`, `->` and the like stay one token, so
                    // that only a lone `=` reads as assignment.
                    let len = if matches!(self.peek(1), Some(b'=' | b'>'))
                        && b"=:<>!+-*/%&|^@".contains(&c)
                    {
                        2
                    } else {
                        1
                    };
                    toks.push(Tok::Op { at: self.pos, len });
                    self.pos += len;
                }
            }
        }
        (depth == 0).then_some(())
    }

    /// Steps over one logical line without tokens: only strings, comments,
    /// brackets and continuations can move its end.
    fn skip_logical_line(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.pos += skip(self.src.get(self.pos..).unwrap_or_default(), &INTERESTING);
            let Some(c) = self.peek(0) else {
                return (depth == 0).then_some(());
            };
            match c {
                b'#' => self.skip_comment(),
                b'\\' => self.continuation()?,
                b'\n' | b'\r' => {
                    self.newline();
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    self.pos += 1;
                }
                _ => {
                    // A quote: its prefix is the letters just before it,
                    // unless they end a longer name.
                    let mut start = self.pos;
                    while start > 0
                        && self.pos - start < 2
                        && b"rRbBuUfFtT".contains(&self.src[start - 1])
                    {
                        start -= 1;
                    }
                    if start > 0 && is_name_byte(self.src[start - 1]) {
                        start = self.pos;
                    }
                    self.string(start..self.pos)?;
                }
            }
        }
    }

    /// A string literal starting at the quote under the cursor.
    fn string(&mut self, prefix: Range<usize>) -> Option<StrTok> {
        // Every string of a file comes here: no allocation for its prefix.
        let formatted = self.src[prefix.clone()]
            .iter()
            .any(|c| matches!(c.to_ascii_lowercase(), b'f' | b't'));
        let q = self.peek(0)?;
        let triple = self.peek(1) == Some(q) && self.peek(2) == Some(q);
        let qlen = if triple { 3 } else { 1 };
        self.pos += qlen;
        let inner_start = self.pos;
        let mut backslash = false;
        let mut braces = 0usize;
        loop {
            // Most of a string is bytes that cannot end it.
            self.pos += skip(self.src.get(self.pos..).unwrap_or_default(), &IN_STRING);
            let c = self.peek(0)?;
            match c {
                b'\\' => {
                    backslash = true;
                    self.pos += 2;
                    if self.pos > self.src.len() {
                        return None;
                    }
                }
                b'\n' | b'\r' if !triple => return None,
                c if c == q
                    && (!triple || (self.peek(1) == Some(q) && self.peek(2) == Some(q))) =>
                {
                    // A quote inside an f-string's braces may nest: not ours.
                    if formatted && braces > 0 {
                        return None;
                    }
                    let inner = inner_start..self.pos;
                    self.pos += qlen;
                    return Some(StrTok {
                        prefix: prefix.clone(),
                        inner,
                        full: prefix.start..self.pos,
                        backslash,
                    });
                }
                b'{' if formatted => {
                    if braces == 0 && self.peek(1) == Some(b'{') {
                        self.pos += 2;
                    } else {
                        braces += 1;
                        self.pos += 1;
                    }
                }
                b'}' if formatted && braces > 0 => {
                    braces -= 1;
                    self.pos += 1;
                }
                b'\'' | b'"' if formatted && braces > 0 => return None,
                _ => self.pos += 1,
            }
        }
    }
}

fn is_string_prefix(word: &[u8]) -> bool {
    let lower = word.to_ascii_lowercase();
    matches!(
        lower.as_slice(),
        b"r" | b"u" | b"b" | b"f" | b"t" | b"br" | b"rb" | b"fr" | b"rf" | b"tr" | b"rt"
    )
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// How many bytes of `rest` come before one that `stops` names (all of
/// them when none does): a slice walked by an iterator, without a bounds
/// check per byte.
fn skip(rest: &[u8], stops: &[bool; 256]) -> usize {
    rest.iter()
        .position(|&c| stops[usize::from(c)])
        .unwrap_or(rest.len())
}

/// The bytes `skip_logical_line` stops at.
static INTERESTING: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    let stops = b"'\"#\\\n\r()[]{}";
    while i < stops.len() {
        t[stops[i] as usize] = true;
        i += 1;
    }
    t
};

/// The bytes `string` stops at: all else is a string's plain content.
static IN_STRING: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    let stops = b"'\"\\\n\r{}";
    while i < stops.len() {
        t[stops[i] as usize] = true;
        i += 1;
    }
    t
};
