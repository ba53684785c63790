//! The quick reader: a tokenizer and recursive-descent parser for the part
//! of Python that migrations are written in, fast enough to read thousands
//! of files in the time tree-sitter parses a few hundred.
//!
//! It accepts only what is valid Python and declines (returns `None`) on
//! anything outside its subset: f-string fields other than a name, classes,
//! decorators, lambdas, generator arguments, `try`, `break`, tabs, line
//! continuations, non-ASCII names. A file
//! it declines goes to the full tree-sitter parse, which then decides. What
//! it reads of `upgrade()` follows `calls` exactly: assignments, `if`,
//! loops, `raise` and `with` included; an `upgrade()` that calls a helper
//! of the module, or chains assignments, is declined too. Tests prove both
//! halves against the full parse.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use bumpalo::collections::Vec as BVec;
use bumpalo::Bump;

use super::calls::{Param, PyExpr, Scope, SqlText, Step, StepKind, UNKNOWN};
use super::unescape;

/// Nesting deeper than this is declined rather than recursed into.
const MAX_DEPTH: usize = 100;

/// The steps of `upgrade()`, from the quick parse; `None` where it declines.
/// `body` is the file after any byte-order mark.
pub(crate) fn upgrade_steps(body: &str) -> Option<Vec<Step>> {
    let tokens = tokenize(body.as_bytes())?;
    ARENA.with(|arena| {
        let mut arena = arena.borrow_mut();
        arena.reset();
        let mut p = Parser {
            src: body,
            toks: &tokens,
            arena: &arena,
            at: 0,
            depth: 0,
            in_def: 0,
            defs: HashMap::new(),
            plain: true,
        };
        let module = p.file()?;
        let m = Module {
            src: body,
            defs: p.defs,
            consts: module,
        };
        let mut w = Walker {
            m: &m,
            steps: Vec::new(),
        };
        if let Some(upgrade) = m.defs.get("upgrade") {
            w.block(upgrade, &mut Scope::default())?;
        }
        Some(w.steps)
    })
}

thread_local! {
    /// The syntax nodes of the file being read, freed at once for the next;
    /// its memory stays at the largest file's.
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Name,
    Number,
    Str,
    Op,
    Newline,
    Indent,
    Dedent,
    End,
}

#[derive(Debug, Clone)]
struct Tok {
    t: T,
    span: Range<usize>,
    line: usize,
    /// For operators and keywords: [`code`].
    code: u8,
    /// For strings: prefix letters (lower case) and the content's span.
    prefix: u8,
    inner: Range<usize>,
}

const RAW: u8 = 1;
const BYTES: u8 = 2;
const FSTRING: u8 = 4;

/// The length of the operator at the start of `rest`, longest first.
fn operator_len(rest: &[u8]) -> Option<usize> {
    let at = |k: usize| rest.get(k).copied().unwrap_or(0);
    match (rest[0], at(1), at(2)) {
        (b'*', b'*', b'=')
        | (b'/', b'/', b'=')
        | (b'>', b'>', b'=')
        | (b'<', b'<', b'=')
        | (b'.', b'.', b'.') => Some(3),
        (b'-', b'>', _) | (b'*', b'*', _) | (b'/', b'/', _) | (b'<', b'<', _) | (b'>', b'>', _) => {
            Some(2)
        }
        (
            b'<' | b'>' | b'=' | b'!' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^'
            | b'@',
            b'=',
            _,
        ) => Some(2),
        (
            b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'~' | b'<' | b'>',
            _,
            _,
        ) => Some(1),
        (b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b':' | b'.' | b';' | b'=', _, _) => {
            Some(1)
        }
        _ => None,
    }
}

/// ASCII letters, digits and `_`: the bytes that continue a name.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

fn tokenize(src: &[u8]) -> Option<Vec<Tok>> {
    let mut out: Vec<Tok> = Vec::with_capacity(src.len() / 4);
    let mut indents = vec![0usize];
    let mut brackets: Vec<u8> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let mut line_start = true;
    let tok = |t: T, span: Range<usize>, line: usize| Tok {
        t,
        span,
        line,
        code: 0,
        prefix: 0,
        inner: 0..0,
    };
    while i < src.len() {
        if line_start && brackets.is_empty() {
            let mut j = i;
            while j < src.len() && src[j] == b' ' {
                j += 1;
            }
            match src.get(j) {
                Some(b'\t' | b'\x0c' | b'\\') => return None,
                // A blank or comment-only line: no tokens, no indentation.
                None | Some(b'\n' | b'#' | b'\r') => {
                    while j < src.len() && src[j] != b'\n' {
                        if src[j] == b'\r' && src.get(j + 1) != Some(&b'\n') {
                            return None;
                        }
                        j += 1;
                    }
                    i = j + 1;
                    line += 1;
                    continue;
                }
                _ => {}
            }
            let width = j - i;
            let top = *indents.last().expect("the base level stays");
            if width > top {
                indents.push(width);
                out.push(tok(T::Indent, j..j, line));
            } else {
                while width < *indents.last().expect("the base level stays") {
                    indents.pop();
                    out.push(tok(T::Dedent, j..j, line));
                }
                if width != *indents.last().expect("the base level stays") {
                    return None;
                }
            }
            i = j;
            line_start = false;
        }
        let c = src[i];
        match c {
            b' ' => i += 1,
            b'\n' | b'\r' => {
                if c == b'\r' && src.get(i + 1) != Some(&b'\n') {
                    return None;
                }
                if brackets.is_empty() {
                    out.push(tok(T::Newline, i..i, line));
                    line_start = true;
                }
                i += if c == b'\r' { 2 } else { 1 };
                line += 1;
            }
            b'#' => {
                while i < src.len() && src[i] != b'\n' && src[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let (t, next, lines) = string_token(src, i, i, line)?;
                if !plain_escapes(&src[t.inner.clone()]) {
                    return None;
                }
                out.push(t);
                i = next;
                line += lines;
            }
            b'0'..=b'9' => {
                let end = number(src, i)?;
                out.push(tok(T::Number, i..end, line));
                i = end;
            }
            b'.' if src.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = number(src, i)?;
                out.push(tok(T::Number, i..end, line));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = i;
                while end < src.len() && NAME_BYTE[src[end] as usize] {
                    end += 1;
                }
                if matches!(src.get(end), Some(b'"' | b'\'')) {
                    let flags = match src[i..end].to_ascii_lowercase().as_slice() {
                        b"r" => RAW,
                        b"u" => 0,
                        b"b" => BYTES,
                        b"br" | b"rb" => RAW | BYTES,
                        b"f" => FSTRING,
                        b"fr" | b"rf" => FSTRING | RAW,
                        // t-strings are not in the subset; any other letters
                        // before a quote are a syntax error.
                        _ => return None,
                    };
                    let (mut t, next, lines) = string_token(src, i, end, line)?;
                    t.prefix = flags;
                    if flags & BYTES != 0 && !src[t.inner.clone()].is_ascii() {
                        return None;
                    }
                    if flags & RAW == 0 && !plain_escapes(&src[t.inner.clone()]) {
                        return None;
                    }
                    if flags & FSTRING != 0 {
                        fields(&src[t.inner.clone()], t.inner.start)?;
                    }
                    out.push(t);
                    i = next;
                    line += lines;
                    continue;
                }
                if src.get(end).is_some_and(|b| !b.is_ascii()) {
                    return None;
                }
                out.push(Tok {
                    code: code(&src[i..end]),
                    ..tok(T::Name, i..end, line)
                });
                i = end;
            }
            _ => {
                let len = operator_len(&src[i..])?;
                match c {
                    b'(' => brackets.push(b')'),
                    b'[' => brackets.push(b']'),
                    b'{' => brackets.push(b'}'),
                    b')' | b']' | b'}' if brackets.pop() != Some(c) => {
                        return None;
                    }
                    _ => {}
                }
                out.push(Tok {
                    code: code(&src[i..i + len]),
                    ..tok(T::Op, i..i + len, line)
                });
                i += len;
            }
        }
    }
    if !brackets.is_empty() {
        return None;
    }
    if out
        .last()
        .is_some_and(|t| !matches!(t.t, T::Newline | T::Dedent))
    {
        out.push(tok(T::Newline, src.len()..src.len(), line));
    }
    for _ in 1..indents.len() {
        out.push(tok(T::Dedent, src.len()..src.len(), line));
    }
    out.push(tok(T::End, src.len()..src.len(), line));
    Some(out)
}

/// A string literal whose prefix starts at `start` and quote at `quote`:
/// the token, the offset after it, and the line breaks inside it.
fn string_token(
    src: &[u8],
    start: usize,
    quote: usize,
    line: usize,
) -> Option<(Tok, usize, usize)> {
    let q = src[quote];
    let triple = src.get(quote + 1) == Some(&q) && src.get(quote + 2) == Some(&q);
    let open = if triple { 3 } else { 1 };
    let mut j = quote + open;
    let mut lines = 0;
    loop {
        let c = *src.get(j)?;
        match c {
            b'\\' => {
                // A backslash before a line break continues the string; not in the subset.
                if matches!(src.get(j + 1), Some(b'\n' | b'\r') | None) {
                    return None;
                }
                j += 2;
            }
            b'\n' | b'\r' if !triple => return None,
            b'\r' if src.get(j + 1) != Some(&b'\n') => return None,
            b'\n' => {
                lines += 1;
                j += 1;
            }
            c if c == q
                && (!triple || (src.get(j + 1) == Some(&q) && src.get(j + 2) == Some(&q))) =>
            {
                let tok = Tok {
                    t: T::Str,
                    span: start..j + open,
                    line,
                    code: 0,
                    prefix: 0,
                    inner: quote + open..j,
                };
                return Some((tok, j + open, lines));
            }
            _ => j += 1,
        }
    }
}

/// Escapes in a non-raw literal that Python surely accepts: `\x`, `\u`,
/// `\U` and `\N` are declined rather than checked.
fn plain_escapes(inner: &[u8]) -> bool {
    let mut k = 0;
    while k < inner.len() {
        if inner[k] == b'\\' {
            if matches!(inner.get(k + 1), Some(b'x' | b'u' | b'U' | b'N')) {
                return false;
            }
            k += 2;
        } else {
            k += 1;
        }
    }
    true
}

/// The replacement fields of an f-string's content starting at `base`,
/// as (the field with its braces, the name in it). A field in the subset is
/// a plain name, with an optional `!r`, `!s` or `!a` and a format spec that
/// holds no field, quote or backslash.
fn fields(inner: &[u8], base: usize) -> Option<Vec<(Range<usize>, Range<usize>)>> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < inner.len() {
        match inner[k] {
            b'{' | b'}' if inner.get(k + 1) == Some(&inner[k]) => k += 2,
            b'}' => return None,
            b'\\' if matches!(inner.get(k + 1), Some(b'{' | b'}')) => return None,
            b'\\' => k += 2,
            b'{' => {
                let start = k;
                k += 1;
                let name_start = k;
                while k < inner.len() && (inner[k].is_ascii_alphanumeric() || inner[k] == b'_') {
                    k += 1;
                }
                let name = std::str::from_utf8(&inner[name_start..k]).ok()?;
                let keyword = is_keyword(name) && !matches!(name, "None" | "True" | "False");
                if name.is_empty() || name.as_bytes()[0].is_ascii_digit() || keyword {
                    return None;
                }
                let name_end = k;
                if inner.get(k) == Some(&b'!') {
                    if !matches!(inner.get(k + 1), Some(b'r' | b's' | b'a')) {
                        return None;
                    }
                    k += 2;
                }
                if inner.get(k) == Some(&b':') {
                    k += 1;
                    while k < inner.len() && inner[k] != b'}' {
                        if matches!(inner[k], b'{' | b'\\' | b'\'' | b'"') {
                            return None;
                        }
                        k += 1;
                    }
                }
                if inner.get(k) != Some(&b'}') {
                    return None;
                }
                k += 1;
                out.push((base + start..base + k, base + name_start..base + name_end));
            }
            _ => k += 1,
        }
    }
    Some(out)
}

/// A decimal or hex number without underscores; the offset after it.
fn number(src: &[u8], i: usize) -> Option<usize> {
    let digits = |mut k: usize| {
        while k < src.len() && src[k].is_ascii_digit() {
            k += 1;
        }
        k
    };
    let mut k;
    if src[i] == b'0' && matches!(src.get(i + 1), Some(b'x' | b'X')) {
        k = i + 2;
        while k < src.len() && src[k].is_ascii_hexdigit() {
            k += 1;
        }
        if k == i + 2 {
            return None;
        }
    } else {
        k = digits(i);
        // `01` is a syntax error in Python 3; `0`, `00` and `0.5` are not.
        let int = &src[i..k];
        if int.len() > 1
            && int[0] == b'0'
            && int.iter().any(|b| *b != b'0')
            && src.get(k) != Some(&b'.')
        {
            return None;
        }
        if src.get(k) == Some(&b'.') {
            k = digits(k + 1);
        }
        if matches!(src.get(k), Some(b'e' | b'E')) {
            let mut e = k + 1;
            if matches!(src.get(e), Some(b'+' | b'-')) {
                e += 1;
            }
            let end = digits(e);
            if end == e {
                return None;
            }
            k = end;
        }
        if matches!(src.get(k), Some(b'j' | b'J')) {
            k += 1;
        }
    }
    if src
        .get(k)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
    {
        return None;
    }
    Some(k)
}

// ---------------------------------------------------------------- syntax

/// An expression, as much of it as `calls` looks at. `span` is its source.
/// Nodes live in the per-thread arena of one file's parse: no allocation
/// or drop per node.
#[derive(Debug, Clone)]
struct Ex<'a> {
    span: Range<usize>,
    line: usize,
    k: K<'a>,
}

#[derive(Debug, Clone)]
enum K<'a> {
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
enum Arg<'a> {
    Pos(Ex<'a>),
    Star(Ex<'a>),
    Kw(Range<usize>, Ex<'a>),
    DStar(Ex<'a>),
}

/// A block of statements.
type Body<'a> = &'a [St<'a>];

/// A statement of a function body, as much as the walker needs.
#[derive(Debug, Clone)]
enum St<'a> {
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

/// Declares [`CODES`] and [`code`] from one list, so that the tokenizer's
/// `match` and the parser's table cannot drift apart.
macro_rules! codes {
    ($($text:literal => $code:literal,)*) => {
        /// A number for each operator and keyword, so that the parser
        /// compares one byte per token rather than text.
        const CODES: &[(&[u8], u8)] = &[$(($text, $code)),*];

        /// The code of a token's text, for the tokenizer; 0 for anything
        /// else (plain names, strings, numbers).
        fn code(s: &[u8]) -> u8 {
            match s {
                $($text => $code,)*
                _ => 0,
            }
        }
    };
}

codes! {
    b"(" => 1,
    b")" => 2,
    b"[" => 3,
    b"]" => 4,
    b"{" => 5,
    b"}" => 6,
    b"," => 7,
    b":" => 8,
    b"." => 9,
    b";" => 10,
    b"=" => 11,
    b"->" => 12,
    b"**" => 13,
    b"*" => 14,
    b"/" => 15,
    b"//" => 16,
    b"%" => 17,
    b"@" => 18,
    b"+" => 19,
    b"-" => 20,
    b"~" => 21,
    b"<" => 22,
    b">" => 23,
    b"<<" => 24,
    b">>" => 25,
    b"&" => 26,
    b"|" => 27,
    b"^" => 28,
    b"==" => 29,
    b"!=" => 30,
    b"<=" => 31,
    b">=" => 32,
    b"..." => 33,
    b"+=" => 34,
    b"-=" => 35,
    b"*=" => 36,
    b"/=" => 37,
    b"//=" => 38,
    b"%=" => 39,
    b"**=" => 40,
    b">>=" => 41,
    b"<<=" => 42,
    b"&=" => 43,
    b"|=" => 44,
    b"^=" => 45,
    b"@=" => 46,
    b"False" => 100,
    b"None" => 101,
    b"True" => 102,
    b"and" => 103,
    b"as" => 104,
    b"assert" => 105,
    b"async" => 106,
    b"await" => 107,
    b"break" => 108,
    b"class" => 109,
    b"continue" => 110,
    b"def" => 111,
    b"del" => 112,
    b"elif" => 113,
    b"else" => 114,
    b"except" => 115,
    b"finally" => 116,
    b"for" => 117,
    b"from" => 118,
    b"global" => 119,
    b"if" => 120,
    b"import" => 121,
    b"in" => 122,
    b"is" => 123,
    b"lambda" => 124,
    b"nonlocal" => 125,
    b"not" => 126,
    b"or" => 127,
    b"pass" => 128,
    b"raise" => 129,
    b"return" => 130,
    b"try" => 131,
    b"while" => 132,
    b"with" => 133,
    b"yield" => 134,
}

/// The code of an operator or keyword written in the parser, found at
/// compile time.
const fn code_of(s: &str) -> u8 {
    let mut i = 0;
    while i < CODES.len() {
        if eq(CODES[i].0, s.as_bytes()) {
            return CODES[i].1;
        }
        i += 1;
    }
    panic!("neither an operator nor a keyword")
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! c {
    ($s:literal) => {{
        const C: u8 = code_of($s);
        C
    }};
}

/// Codes from here on are keywords.
const FIRST_KEYWORD: u8 = 100;
const NONE_TRUE_FALSE: [u8; 3] = [c!("False"), c!("None"), c!("True")];

/// Python's keywords, which are never names.
fn is_keyword(s: &str) -> bool {
    code(s.as_bytes()) >= FIRST_KEYWORD
}

struct Parser<'a> {
    src: &'a str,
    toks: &'a [Tok],
    arena: &'a Bump,
    at: usize,
    depth: usize,
    in_def: usize,
    /// Module-level functions, the last definition of a name winning.
    defs: HashMap<String, Body<'a>>,
    /// False once the module does something the walker cannot mirror.
    plain: bool,
}

struct Module<'a> {
    src: &'a str,
    defs: HashMap<String, Body<'a>>,
    consts: HashMap<String, SqlText>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at]
    }

    /// Token boundaries fall on ASCII bytes, so slicing the text is safe.
    fn text(&self, t: &Tok) -> &'a str {
        &self.src[t.span.clone()]
    }

    /// Whether the next token is the operator or keyword with code `c`
    /// (see [`c!`]).
    fn is(&self, c: u8) -> bool {
        self.peek().code == c
    }

    /// The precedence of the binary operator ahead, lowest 0 (`|`).
    fn binary_op(&self) -> Option<usize> {
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

    fn eat(&mut self, c: u8) -> bool {
        if self.is(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    fn bump(&mut self) -> Tok {
        let t = self.toks[self.at].clone();
        self.at += 1;
        t
    }

    fn name(&mut self) -> Option<Tok> {
        let t = self.peek();
        (t.t == T::Name && t.code < FIRST_KEYWORD).then(|| self.bump())
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// The whole module; its string constants as `calls` reads them.
    fn file(&mut self) -> Option<HashMap<String, SqlText>> {
        let mut assigned: Vec<(String, Ex<'a>)> = Vec::new();
        while self.peek().t != T::End {
            if self.peek().t == T::Newline {
                self.at += 1;
                continue;
            }
            if self.is(c!("def")) {
                let (name, body) = self.def()?;
                self.defs.insert(name, body);
                continue;
            }
            match self.statement()? {
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
            while self.eat(c!(".")) || self.eat(c!("...")) {
                dots = true;
            }
            if !(dots && self.is(c!("import"))) {
                // Where a future import may stand, and which features
                // exist, the full parse checks.
                if !dots && self.text(self.peek()) == "__future__" {
                    return None;
                }
                self.dotted()?;
            }
            self.expect(c!("import"))?;
            if self.eat(c!("*")) {
                // Only at module level.
                if self.in_def > 0 {
                    return None;
                }
            } else {
                let paren = self.eat(c!("("));
                loop {
                    self.name()?;
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

    /// `a, b` as a tuple, or one expression.
    fn test_list(&mut self) -> Option<Ex<'a>> {
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
    fn test_list_no_in(&mut self) -> Option<Ex<'a>> {
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

    fn test(&mut self) -> Option<Ex<'a>> {
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
    fn or_expr(&mut self) -> Option<Ex<'a>> {
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

    fn arguments(&mut self) -> Option<&'a [Arg<'a>]> {
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

const AUGMENTED: [&str; 12] = [
    "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "|=", "^=",
];

fn is_subscript(e: &Ex) -> bool {
    matches!(e.k, K::Subscript(..))
}

/// What Python lets one assign to: names, attributes, subscripts, and
/// tuples or lists of them.
fn assignable(e: &Ex) -> bool {
    match &e.k {
        K::Name | K::Attr(..) => true,
        K::Tuple(items) | K::List(items) => !items.is_empty() && items.iter().all(assignable),
        K::Paren(inner) => assignable(inner),
        _ => is_subscript(e),
    }
}

// ---------------------------------------------------------------- upgrade()

fn text<'s>(m: &Module<'s>, span: &Range<usize>) -> &'s str {
    &m.src[span.clone()]
}

/// The string constants in scope: the function's, then the module's.
#[derive(Clone, Copy)]
struct Env<'a> {
    local: Option<&'a HashMap<String, SqlText>>,
    module: &'a HashMap<String, SqlText>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<&SqlText> {
        self.local
            .and_then(|l| l.get(name))
            .or_else(|| self.module.get(name))
    }
}

/// `calls::Module::string`: the string an expression evaluates to.
fn string(m: &Module<'_>, e: &Ex, consts: Env<'_>) -> Option<SqlText> {
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

fn callee<'e, 's>(m: &Module<'s>, func: &'e Ex<'e>) -> (Option<&'e Ex<'e>>, &'s str) {
    match &func.k {
        K::Attr(object, name) => (Some(object), text(m, name)),
        K::Name => (None, text(m, &func.span)),
        _ => (None, ""),
    }
}

fn positional<'e>(args: &'e [Arg<'e>]) -> impl Iterator<Item = &'e Ex<'e>> {
    args.iter()
        .map_while(|a| if let Arg::Pos(e) = a { Some(e) } else { None })
}

fn keyword<'e>(m: &Module<'_>, args: &'e [Arg<'e>], key: &str) -> Option<&'e Ex<'e>> {
    args.iter().find_map(|a| match a {
        Arg::Kw(name, value) if text(m, name) == key => Some(value),
        _ => None,
    })
}

/// An expression's sub-expressions, in source order (tree-sitter's named
/// children, as far as calls are concerned).
fn children<'e>(e: &'e Ex<'e>) -> Vec<&'e Ex<'e>> {
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
fn each_child<'e>(e: &'e Ex<'e>, f: &mut impl FnMut(&'e Ex<'e>) -> Option<()>) -> Option<()> {
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

fn arg_value<'e>(a: &'e Arg<'e>) -> &'e Ex<'e> {
    match a {
        Arg::Pos(e) | Arg::Star(e) | Arg::Kw(_, e) | Arg::DStar(e) => e,
    }
}

struct Walker<'m, 's> {
    m: &'m Module<'s>,
    steps: Vec<Step>,
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

    fn block(&mut self, body: &[St], scope: &mut Scope) -> Option<()> {
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
        scope.guards.push((names, inside));
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
                                vec![Step {
                                    line,
                                    what: StepKind::Execute {
                                        sql,
                                        params,
                                        raises: None,
                                    },
                                }],
                                Then::WalkObjectFirst,
                            ))
                        }
                        None => None,
                    }
                }
                (true, "create_table") => {
                    let step = table(0, "table_name").map(|t| Step {
                        line,
                        what: StepKind::CreateTable { table: t },
                    });
                    Some((step.into_iter().collect(), Then::Children))
                }
                (true, "drop_table") => {
                    let step = table(0, "table_name").map(|t| Step {
                        line,
                        what: StepKind::DropTable { table: t },
                    });
                    Some((step.into_iter().collect(), Then::Nothing))
                }
                (true, "rename_table") => {
                    let step = match (table(0, "old_table_name"), table(1, "new_table_name")) {
                        (Some(from), Some(to)) => Some(Step {
                            line,
                            what: StepKind::RenameTable { from, to },
                        }),
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
                    Some((vec![Step { line, what }], Then::Nothing))
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
                    Some((vec![Step { line, what }], Then::Nothing))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_codes_match_the_parser_codes() {
        for &(text, c) in CODES {
            let name = std::str::from_utf8(text).unwrap();
            assert_eq!(code(text), c, "{name}");
            assert_eq!(code_of(name), c, "{name}");
        }
        let mut codes: Vec<u8> = CODES.iter().map(|(_, c)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CODES.len(), "codes are unique");
        assert!(codes.iter().all(|&c| c != 0));
        assert_eq!(code(b"match"), 0);
        assert_eq!(code(b"sa"), 0);
        for &(text, c) in CODES {
            assert_eq!(
                c >= FIRST_KEYWORD,
                text[0].is_ascii_alphabetic(),
                "{text:?}"
            );
        }
    }
}
