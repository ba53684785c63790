//! What CPython refuses and the tree-sitter grammar accepts: a file that
//! does not compile cannot be imported by Alembic, so it must not pass.
//!
//! [`tokens`] repeats the rules of CPython's tokenizer (indentation, tabs,
//! bracket depth, numbers, string prefixes, stray characters), before the
//! parse. [`tree`] walks the parse for the grammar and compiler rules the
//! grammar is more lenient about (Python 2 statements, argument order,
//! `return` outside a function, ...), and bounds the tree's depth so that
//! the readers after it never recurse without limit. The README lists what
//! is still not checked. [`parse`] is the tree-sitter parse after
//! [`tokens`] that both tree readers, `full` and `calls`, start from.

use std::cell::RefCell;

use tree_sitter::{Node, Parser, Tree};

use super::SyntaxError;

/// CPython's `MAXLEVEL`: brackets open at once.
const MAX_BRACKETS: usize = 200;
/// CPython's `MAXINDENT`: indentation levels.
const MAX_INDENT: usize = 100;
/// Deeper syntax trees are refused. CPython's compiler gives up near 3,000
/// levels of expression nesting; this leaves a margin above it, and the
/// recursive readers after this check have the stack for it.
pub(crate) const MAX_DEPTH: usize = 3_200;

fn error(line: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        message: format!("Python syntax error: {}", message.into()),
    }
}

/// What [`tokens`] learns of the file's lines.
pub(super) struct Lines {
    /// Where logical lines end: the offsets of their line breaks.
    pub newlines: Vec<usize>,
    /// Line breaks, comments and backslash continuations inside brackets.
    /// They mean nothing to Python, but the grammar stumbles on a line in
    /// brackets indented less than its statement; the parse is given
    /// spaces in their place (every offset kept).
    pub blanks: Vec<std::ops::Range<usize>>,
}

/// The rules of CPython's tokenizer. `body` is valid UTF-8 without a BOM.
pub(super) fn tokens(body: &[u8]) -> Result<Lines, SyntaxError> {
    let mut t = Tokenizer::new(body, 1, Vec::new());
    t.run()?;
    Ok(Lines {
        newlines: t.newlines,
        blanks: t.blanks,
    })
}

thread_local! {
    // One parser per thread: building one is cheap, but not free.
    static PARSER: RefCell<Parser> = RefCell::new({
        let mut p = Parser::new();
        p.set_language(&tree_sitter_python::LANGUAGE.into())
            .expect("the bundled Python grammar matches the tree-sitter runtime");
        p
    });
}

/// Parses a file after CPython's tokenizer rules (see [`tokens`]),
/// with where its logical lines end.
pub(super) fn parse(body: &[u8]) -> Result<(Tree, Vec<usize>), SyntaxError> {
    let lines = tokens(body)?;
    // Python ends a line at a lone `\r`; the grammar does not. Replacing it
    // with `\n`, and the blanks with spaces, keeps every byte offset.
    let lone_cr = |i: usize| body[i] == b'\r' && body.get(i + 1) != Some(&b'\n');
    let normalized: Option<Vec<u8>> = (!lines.blanks.is_empty() || (0..body.len()).any(lone_cr))
        .then(|| {
            let mut text: Vec<u8> = (0..body.len())
                .map(|i| if lone_cr(i) { b'\n' } else { body[i] })
                .collect();
            for r in &lines.blanks {
                text[r.clone()].fill(b' ');
            }
            text
        });
    let text = normalized.as_deref().unwrap_or(body);
    PARSER
        .with(|p| p.borrow_mut().parse(text, None))
        .map(|tree| (tree, lines.newlines))
        .ok_or_else(|| SyntaxError {
            line: 1,
            message: "the Python parser gave up".into(),
        })
}

/// The same rules on the expression of an f-string's field, which CPython
/// tokenizes on its own, as if inside brackets.
fn field_tokens(expr: &[u8], line: usize) -> Result<(), SyntaxError> {
    Tokenizer::new(expr, line, vec![(b'{', line)]).run()
}

impl<'a> Tokenizer<'a> {
    fn new(src: &'a [u8], line: usize, brackets: Vec<(u8, usize)>) -> Tokenizer<'a> {
        Tokenizer {
            src,
            i: 0,
            line,
            base_brackets: brackets.len(),
            nested_fstrings: 0,
            brackets,
            indents: vec![(0, 0)],
            at_line_start: true,
            logical_started: false,
            ends_with_colon: false,
            expect_indent: None,
            newlines: Vec::new(),
            blanks: Vec::new(),
        }
    }
}

struct Tokenizer<'a> {
    src: &'a [u8],
    i: usize,
    line: usize,
    /// Open brackets: the byte and its line.
    brackets: Vec<(u8, usize)>,
    /// How many of them the text started inside.
    base_brackets: usize,
    /// Strings inside f-string fields being read, one inside another.
    nested_fstrings: usize,
    /// Indentation stack: columns with tabs to 8 and with tabs as 1, as
    /// CPython compares both to find inconsistent tabs.
    indents: Vec<(usize, usize)>,
    at_line_start: bool,
    /// Whether the current logical line has a token yet.
    logical_started: bool,
    /// Whether its last token so far is `:`.
    ends_with_colon: bool,
    /// The line of a compound statement's header waiting for its block.
    expect_indent: Option<usize>,
    newlines: Vec<usize>,
    blanks: Vec<std::ops::Range<usize>>,
}

impl Tokenizer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.src.get(self.i + k).copied()
    }

    fn token(&mut self, colon: bool) {
        self.logical_started = true;
        self.ends_with_colon = colon;
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        loop {
            if self.at_line_start {
                self.at_line_start = false;
                self.indentation()?;
            }
            let Some(c) = self.peek(0) else {
                return self.end();
            };
            match c {
                b' ' | b'\t' | b'\x0c' => self.i += 1,
                b'#' => {
                    let start = self.i;
                    while !matches!(self.peek(0), None | Some(b'\n' | b'\r')) {
                        self.i += 1;
                    }
                    self.blank(start);
                }
                b'\n' | b'\r' => {
                    let at = self.i;
                    self.newline();
                    self.blank(at);
                    if self.brackets.is_empty() && self.logical_started {
                        self.newlines.push(at);
                        if self.ends_with_colon {
                            self.expect_indent = Some(self.line - 1);
                        }
                        self.logical_started = false;
                        self.ends_with_colon = false;
                    }
                    self.at_line_start = true;
                }
                b'\\' => {
                    let start = self.i;
                    self.i += 1;
                    match self.peek(0) {
                        Some(b'\n' | b'\r') => {
                            self.newline();
                            self.blank(start);
                            // A continuation into nothing.
                            if self.peek(0).is_none() {
                                return Err(error(self.line - 1, "unexpected EOF while parsing"));
                            }
                        }
                        None => return Err(error(self.line, "unexpected EOF while parsing")),
                        Some(_) => {
                            return Err(error(
                                self.line,
                                "unexpected character after line continuation character",
                            ))
                        }
                    }
                }
                b'(' | b'[' | b'{' => {
                    if self.brackets.len() >= MAX_BRACKETS {
                        return Err(error(self.line, "too many nested parentheses"));
                    }
                    self.brackets.push((c, self.line));
                    self.i += 1;
                    self.token(false);
                }
                b')' | b']' | b'}' => {
                    let want = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    match self
                        .brackets
                        .pop()
                        .filter(|_| self.brackets.len() >= self.base_brackets)
                    {
                        None => return Err(error(self.line, format!("unmatched '{}'", c as char))),
                        Some((open, _)) if open != want => {
                            return Err(error(
                                self.line,
                                format!(
                                "closing parenthesis '{}' does not match opening parenthesis '{}'",
                                c as char, open as char
                            ),
                            ))
                        }
                        Some(_) => {}
                    }
                    self.i += 1;
                    self.token(false);
                }
                b'0'..=b'9' => self.number()?,
                b'.' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => self.number()?,
                b'"' | b'\'' => self.string(b"")?,
                b':' => {
                    self.i += 1;
                    let walrus = self.peek(0) == Some(b'=');
                    if walrus {
                        self.i += 1;
                    }
                    self.token(!walrus);
                }
                b'<' if self.peek(1) == Some(b'>') => {
                    return Err(error(
                        self.line,
                        "invalid syntax (`<>` is Python 2; use `!=`)",
                    ))
                }
                b'!' if self.peek(1) != Some(b'=') => {
                    return Err(error(self.line, "invalid syntax"))
                }
                b'`' => {
                    return Err(error(
                        self.line,
                        "invalid syntax (backquotes are Python 2; use `repr()`)",
                    ))
                }
                b'$' | b'?' => return Err(error(self.line, "invalid syntax")),
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => self.name()?,
                c if c.is_ascii_control() => {
                    return Err(error(
                        self.line,
                        format!("invalid non-printable character U+{:04X}", c),
                    ))
                }
                _ => {
                    self.i += 1;
                    self.token(false);
                }
            }
        }
    }

    /// The character at the cursor; `src` is valid UTF-8 and the cursor on
    /// a character boundary.
    fn char_here(&self) -> char {
        let len = match self.src[self.i] {
            0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let end = (self.i + len).min(self.src.len());
        std::str::from_utf8(&self.src[self.i..end])
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or('\u{fffd}')
    }

    /// Records `start..` the cursor for blanking, inside brackets.
    fn blank(&mut self, start: usize) {
        if !self.brackets.is_empty() && start < self.i {
            self.blanks.push(start..self.i);
        }
    }

    /// Consumes one line ending (`\n`, `\r\n` or a lone `\r`).
    fn newline(&mut self) {
        if self.peek(0) == Some(b'\r') && self.peek(1) == Some(b'\n') {
            self.i += 1;
        }
        self.i += 1;
        self.line += 1;
    }

    /// CPython's indentation rules, at the start of a physical line.
    fn indentation(&mut self) -> Result<(), SyntaxError> {
        let (mut col, mut alt) = (0, 0);
        while let Some(c) = self.peek(0) {
            match c {
                b' ' => {
                    col += 1;
                    alt += 1;
                }
                b'\t' => {
                    col = (col / 8 + 1) * 8;
                    alt += 1;
                }
                b'\x0c' => {
                    col = 0;
                    alt = 0;
                }
                _ => break,
            }
            self.i += 1;
        }
        let blank = matches!(self.peek(0), None | Some(b'#' | b'\n' | b'\r'));
        if blank || !self.brackets.is_empty() || self.logical_started {
            return Ok(());
        }
        let tab_error = || {
            error(
                self.line,
                "inconsistent use of tabs and spaces in indentation (TabError)",
            )
        };
        let &(top, top_alt) = self.indents.last().expect("the stack keeps column 0");
        if col > top {
            if self.indents.len() >= MAX_INDENT {
                return Err(error(self.line, "too many levels of indentation"));
            }
            if alt <= top_alt {
                return Err(tab_error());
            }
            if self.expect_indent.take().is_none() {
                return Err(error(self.line, "unexpected indent (IndentationError)"));
            }
            self.indents.push((col, alt));
            return Ok(());
        }
        while self.indents.len() > 1 && col < self.indents.last().expect("not empty").0 {
            self.indents.pop();
        }
        let &(top, top_alt) = self.indents.last().expect("the stack keeps column 0");
        if col != top {
            return Err(error(
                self.line,
                "unindent does not match any outer indentation level (IndentationError)",
            ));
        }
        if alt != top_alt {
            return Err(tab_error());
        }
        self.no_block()
    }

    fn no_block(&mut self) -> Result<(), SyntaxError> {
        match self.expect_indent.take() {
            Some(header) => Err(error(
                self.line,
                format!("expected an indented block after the statement on line {header} (IndentationError)"),
            )),
            None => Ok(()),
        }
    }

    fn end(&mut self) -> Result<(), SyntaxError> {
        if let Some(&(open, line)) = self.brackets.get(self.base_brackets) {
            return Err(error(line, format!("'{}' was never closed", open as char)));
        }
        if self.logical_started && self.ends_with_colon {
            self.expect_indent = Some(self.line);
        }
        self.no_block()
    }

    /// A name, or a string's prefix.
    fn name(&mut self) -> Result<(), SyntaxError> {
        let start = self.i;
        while let Some(b) = self.peek(0) {
            if b.is_ascii_alphanumeric() || b == b'_' {
                self.i += 1;
                continue;
            }
            if b < 0x80 {
                break;
            }
            let ch = self.char_here();
            let first = self.i == start;
            let ok = if first {
                unicode_ident::is_xid_start(ch)
            } else {
                unicode_ident::is_xid_continue(ch)
            };
            if !ok {
                if first {
                    let what = if ch.is_whitespace() || ch.is_control() || ch == '\u{feff}' {
                        "invalid non-printable character"
                    } else {
                        "invalid character"
                    };
                    return Err(error(
                        self.line,
                        format!("{what} '{ch}' (U+{:04X})", ch as u32),
                    ));
                }
                break;
            }
            self.i += ch.len_utf8();
        }
        let word = std::str::from_utf8(&self.src[start..self.i]).unwrap_or("");
        if matches!(self.peek(0), Some(b'"' | b'\'')) {
            let lower = word.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "r" | "u" | "f" | "b" | "br" | "rb" | "fr" | "rf"
            ) {
                return self.string(lower.as_bytes());
            }
            if !is_keyword(word) {
                return Err(error(
                    self.line,
                    format!("invalid syntax (`{word}` is not a string prefix)"),
                ));
            }
        }
        self.token(false);
        Ok(())
    }

    /// A string literal; the prefix (lower case) is already consumed.
    fn string(&mut self, prefix: &[u8]) -> Result<(), SyntaxError> {
        let quote = self.src[self.i];
        let triple = self.peek(1) == Some(quote) && self.peek(2) == Some(quote);
        let start_line = self.line;
        self.i += if triple { 3 } else { 1 };
        let bytes = prefix.contains(&b'b');
        let raw = prefix.contains(&b'r');
        // An f-string's fields follow Python 3.12 (PEP 701): they may hold
        // strings in any quotes, and line breaks.
        let fstring = prefix.contains(&b'f');
        let mut fields = 0usize;
        loop {
            let Some(c) = self.peek(0) else {
                let what = if triple { "triple-quoted " } else { "" };
                return Err(error(
                    start_line,
                    format!(
                        "unterminated {what}string literal (detected at line {})",
                        self.line
                    ),
                ));
            };
            if fstring && (fields > 0 || c == b'{' || c == b'}') {
                match c {
                    b'{' if fields == 0 && self.peek(1) == Some(b'{') => self.i += 2,
                    b'}' if fields == 0 => self.i += if self.peek(1) == Some(b'}') { 2 } else { 1 },
                    b'{' => {
                        fields += 1;
                        self.i += 1;
                    }
                    b'}' => {
                        fields -= 1;
                        self.i += 1;
                    }
                    b'"' | b'\'' => {
                        self.nested_fstrings += 1;
                        if self.nested_fstrings > 150 {
                            return Err(error(
                                self.line,
                                "f-string: expressions nested too deeply",
                            ));
                        }
                        let prefix = self.src[..self.i]
                            .iter()
                            .rev()
                            .take_while(|b| b.is_ascii_alphabetic())
                            .map(u8::to_ascii_lowercase)
                            .collect::<Vec<u8>>();
                        self.string(&prefix)?;
                        self.nested_fstrings -= 1;
                    }
                    b'\n' | b'\r' => self.newline(),
                    _ => self.i += 1,
                }
                continue;
            }
            match c {
                b'\\' => {
                    self.i += 1;
                    match self.peek(0) {
                        Some(b'\n' | b'\r') => self.newline(),
                        Some(b'N') if !bytes && !raw => {
                            let name = &self.src[self.i + 1..];
                            let closed = name.first() == Some(&b'{')
                                && name
                                    .iter()
                                    .take_while(|&&b| b != b'\n' && b != quote)
                                    .any(|&b| b == b'}');
                            if !closed {
                                return Err(error(
                                    self.line,
                                    "(unicode error) malformed \\N character escape",
                                ));
                            }
                            self.i += 1;
                        }
                        Some(e @ (b'x' | b'u' | b'U')) if !raw && (e == b'x' || !bytes) => {
                            let n = match e {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let digits = &self.src[self.i + 1..];
                            let hex =
                                digits.len() >= n && digits[..n].iter().all(u8::is_ascii_hexdigit);
                            let valid = hex
                                && (e != b'U'
                                    || std::str::from_utf8(&digits[..n])
                                        .ok()
                                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                                        .is_some_and(|v| v <= 0x10FFFF));
                            if !valid {
                                return Err(error(
                                    self.line,
                                    format!(
                                        "(unicode error) truncated or invalid \\{} escape",
                                        e as char
                                    ),
                                ));
                            }
                            self.i += 1;
                        }
                        Some(d) if bytes && d >= 0x80 => {
                            return Err(error(
                                self.line,
                                "bytes can only contain ASCII literal characters",
                            ))
                        }
                        Some(_) => self.i += 1,
                        None => {}
                    }
                }
                b'\n' | b'\r' if !triple => {
                    return Err(error(
                        start_line,
                        format!("unterminated string literal (detected at line {start_line})"),
                    ))
                }
                b'\n' | b'\r' => self.newline(),
                c if c == quote
                    && (!triple
                        || (self.peek(1) == Some(quote) && self.peek(2) == Some(quote))) =>
                {
                    self.i += if triple { 3 } else { 1 };
                    self.token(false);
                    return Ok(());
                }
                c if bytes && c >= 0x80 => {
                    return Err(error(
                        self.line,
                        "bytes can only contain ASCII literal characters",
                    ))
                }
                _ => self.i += 1,
            }
        }
    }

    /// Digits with single underscores between them; returns how many digits.
    fn digits(&mut self, ok: fn(u8) -> bool, kind: &str) -> Result<usize, SyntaxError> {
        let mut n = 0;
        loop {
            while self.peek(0).is_some_and(ok) {
                self.i += 1;
                n += 1;
            }
            if self.peek(0) != Some(b'_') {
                return Ok(n);
            }
            self.i += 1;
            if !self.peek(0).is_some_and(ok) {
                return Err(error(self.line, format!("invalid {kind} literal")));
            }
        }
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let decimal = |b: u8| b.is_ascii_digit();
        if self.peek(0) == Some(b'0') {
            let base = self.peek(1).map(|b| b.to_ascii_lowercase());
            type Digits = (fn(u8) -> bool, &'static str);
            let radix: Option<Digits> = match base {
                Some(b'x') => Some((|b: u8| b.is_ascii_hexdigit(), "hexadecimal")),
                Some(b'o') => Some((|b: u8| (b'0'..=b'7').contains(&b), "octal")),
                Some(b'b') => Some((|b: u8| b == b'0' || b == b'1', "binary")),
                _ => None,
            };
            if let Some((ok, kind)) = radix {
                self.i += 2;
                if self.peek(0) == Some(b'_') {
                    self.i += 1;
                }
                if self.digits(ok, kind)? == 0 || self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                    return Err(error(self.line, format!("invalid {kind} literal")));
                }
                return self.end_of_number(kind);
            }
        }
        let leading_zero = self.peek(0) == Some(b'0');
        let start = self.i;
        self.digits(decimal, "decimal")?;
        let int_part = &self.src[start..self.i];
        let mut float = false;
        if self.peek(0) == Some(b'.') {
            self.i += 1;
            float = true;
            if self.peek(0).is_some_and(decimal) {
                self.digits(decimal, "decimal")?;
            }
        }
        if matches!(self.peek(0), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.peek(0), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.peek(0).is_some_and(decimal) {
                // `1else`: CPython reads a keyword after a number.
                self.i = save;
                return self.end_of_number("decimal");
            }
            self.digits(decimal, "decimal")?;
            float = true;
        }
        let imaginary = matches!(self.peek(0), Some(b'j' | b'J'));
        if imaginary {
            self.i += 1;
        }
        if leading_zero && !float && !imaginary && int_part.iter().any(|&b| b != b'0' && b != b'_')
        {
            return Err(error(
                self.line,
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
            ));
        }
        self.end_of_number("decimal")
    }

    /// CPython 3.11's `verify_end_of_number`: a name may follow a number only
    /// when it is one of a few keywords (`1if x else 2`).
    fn end_of_number(&mut self, kind: &str) -> Result<(), SyntaxError> {
        let rest = &self.src[self.i..];
        let starts_name = rest
            .first()
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80);
        if starts_name
            && !["and", "else", "for", "if", "in", "is", "not", "or"]
                .iter()
                .any(|k| rest.starts_with(k.as_bytes()))
        {
            return Err(error(self.line, format!("invalid {kind} literal")));
        }
        self.token(false);
        Ok(())
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "False"
            | "None"
            | "True"
            | "and"
            | "as"
            | "assert"
            | "async"
            | "await"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "nonlocal"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
            | "match"
            | "case"
            | "type"
            | "_"
    )
}

/// What encloses a node, for the rules that depend on it.
#[derive(Clone, Copy, Default)]
struct Ctx {
    /// Inside a function body (a `def` or a `lambda`), and whether async.
    function: Option<bool>,
    /// Directly inside a `def` (not a lambda or a class) for `return`.
    def: bool,
    in_loop: bool,
    module: bool,
    /// Inside a function that another function encloses, where `nonlocal`
    /// can find a binding.
    outer_function: bool,
}

/// A node to visit: its context, depth, parent and grandparent.
type Visit<'a> = (Node<'a>, Ctx, usize, Option<Node<'a>>, Option<Node<'a>>);

/// The grammar and compiler rules that tree-sitter's grammar does not make,
/// and the depth bound. `root` is a parse without error nodes; `newlines`
/// are where [`tokens`] found logical lines to end.
pub(super) fn tree(root: Node<'_>, body: &[u8], newlines: &[usize]) -> Result<(), SyntaxError> {
    let lines = super::LineIndex::new(body);
    let line = |n: Node<'_>| lines.line(n.start_byte());
    future_imports(root, body, &line)?;
    let text = |n: Node<'_>| std::str::from_utf8(&body[n.byte_range()]).unwrap_or("");
    // Each node with its parent and grandparent: asking tree-sitter for a
    // parent walks down from the root, which costs most of a parse.
    let mut stack: Vec<Visit<'_>> = vec![(
        root,
        Ctx {
            module: true,
            ..Ctx::default()
        },
        0usize,
        None,
        None,
    )];
    while let Some((node, ctx, depth, parent, grand)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                line: line(node),
                message: format!(
                    "nested more than {MAX_DEPTH} levels deep; CPython cannot compile it either"
                ),
            });
        }
        let fail = |m: &str| Err(error(line(node), m));
        // Decorators and what they decorate are lines of their own.
        let statement = node.kind() != "decorated_definition"
            && parent
                .is_some_and(|p| matches!(p.kind(), "module" | "block" | "decorated_definition"));
        // A comment's node takes in the `\r` of a CRLF.
        if (statement && node.kind() != "comment") || node.kind().ends_with("_clause") {
            one_logical_line(node, newlines, line)?;
        }
        match node.kind() {
            "print_statement"
                if node.child_by_field_name("argument").is_some()
                    && !has_child(node, "chevron") =>
            {
                return fail("Missing parentheses in call to 'print' (a Python 2 print statement)")
            }
            "exec_statement" => {
                return fail("Missing parentheses in call to 'exec' (a Python 2 exec statement)")
            }
            "except_clause" | "except_group_clause" => {
                let mut c = node.walk();
                if node.children_by_field_name("value", &mut c).count() > 1 {
                    return fail("multiple exception types must be parenthesized (`except X, e` is Python 2; use `except X as e`)");
                }
            }
            "raise_statement" if has_child(node, "expression_list") => {
                return fail("invalid syntax (`raise E, value` is Python 2; use `raise E(value)`)")
            }
            "parameters" | "lambda_parameters" => parameters(node, body, line)?,
            "argument_list" => arguments(node, line)?,
            "return_statement" if !ctx.def => return fail("'return' outside function"),
            "yield" if ctx.function.is_none() => return fail("'yield' outside function"),
            "yield" if ctx.function == Some(true) && text(node).starts_with("yield from") => {
                return fail("'yield from' inside async function")
            }
            "await" if ctx.function.is_none() => return fail("'await' outside function"),
            "await" if ctx.function == Some(false) => {
                return fail("'await' outside async function")
            }
            "break_statement" if !ctx.in_loop => return fail("'break' outside loop"),
            "continue_statement" if !ctx.in_loop => return fail("'continue' not properly in loop"),
            "import_statement" | "import_from_statement" | "future_import_statement"
                if node
                    .child(node.child_count().saturating_sub(1))
                    .is_some_and(|last| last.kind() == ",")
                    && !has_child(node, "(") =>
            {
                return fail("trailing comma not allowed without surrounding parentheses")
            }
            "future_import_statement" if parent.is_some_and(|p| p.kind() != "module") => {
                return fail("from __future__ imports must occur at the beginning of the file")
            }
            "nonlocal_statement" if ctx.module => {
                return fail("nonlocal declaration not allowed at module level")
            }
            "nonlocal_statement" if !ctx.outer_function => {
                return fail("no binding for nonlocal found: no enclosing function")
            }
            "delete_statement" => {
                let mut c = node.walk();
                for target in node.named_children(&mut c) {
                    deletable(target, line)?;
                }
            }
            "augmented_assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    if !matches!(left.kind(), "identifier" | "attribute" | "subscript") {
                        return fail(&format!(
                            "'{}' is an illegal expression for augmented assignment",
                            left.kind().replace("_pattern", "")
                        ));
                    }
                }
            }
            "list_splat"
                if parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "keyword_argument"
                            | "default_parameter"
                            | "typed_default_parameter"
                            | "parenthesized_expression"
                            | "assignment"
                            | "augmented_assignment"
                            | "pair"
                            | "binary_operator"
                            | "comparison_operator"
                            | "boolean_operator"
                            | "unary_operator"
                            | "not_operator"
                            | "conditional_expression"
                            | "attribute"
                            | "lambda"
                            | "await"
                    )
                }) =>
            {
                return fail("can't use starred expression here")
            }
            "as_pattern"
                if !parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "with_item" | "except_clause" | "except_group_clause" | "case_pattern"
                    )
                }) =>
            {
                return fail("invalid syntax (`as` outside `import`, `with`, `except` and `case`)")
            }
            // `x := 1` needs brackets but where Python's grammar takes a
            // named expression.
            "named_expression"
                if !parent.is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "parenthesized_expression"
                            | "argument_list"
                            | "if_statement"
                            | "elif_clause"
                            | "while_statement"
                            | "list"
                            | "set"
                            | "tuple"
                            | "subscript"
                            | "list_comprehension"
                            | "set_comprehension"
                            | "generator_expression"
                    ) || (p.kind() == "if_clause"
                        && grand.is_some_and(|g| g.kind() == "case_clause"))
                }) =>
            {
                return fail("invalid syntax (an assignment expression `:=` needs brackets here)")
            }
            // `x: A: B`, a type parameter's bound: not Python 3.11's.
            "constrained_type" => return fail("invalid syntax"),
            "assignment" => {
                // `a = b: T` and `a: T = b = c`: the grammar takes them as
                // chains; Python does not.
                let typed = node.child_by_field_name("type").is_some();
                if node.child_by_field_name("right").is_some_and(|r| {
                    r.kind() == "assignment" && (typed || r.child_by_field_name("type").is_some())
                }) {
                    return fail("invalid syntax (an annotated assignment cannot be chained)");
                }
                if let Some(left) = node.child_by_field_name("left") {
                    let mut c = left.walk();
                    if left
                        .named_children(&mut c)
                        .filter(|n| n.kind() == "list_splat_pattern")
                        .count()
                        > 1
                    {
                        return fail("multiple starred expressions in assignment");
                    }
                }
            }
            "for_in_clause" => {
                let mut c = node.walk();
                if node.children_by_field_name("right", &mut c).count() > 1 {
                    return fail("invalid syntax (a comprehension's iterable with commas must be parenthesized)");
                }
            }
            "interpolation" => {
                if let Some(expr) = node.child_by_field_name("expression") {
                    field_tokens(&body[expr.byte_range()], line(expr))?;
                }
            }
            "type_conversion" if !matches!(text(node), "!r" | "!s" | "!a") => {
                return fail("f-string: invalid conversion character: expected 's', 'r', or 'a'")
            }
            _ => {}
        }
        // The context the children see.
        let enclosed = ctx.function.is_some() || ctx.outer_function;
        let inner = match node.kind() {
            "function_definition" => Ctx {
                function: Some(node.child(0).is_some_and(|c| c.kind() == "async")),
                def: true,
                in_loop: false,
                module: false,
                outer_function: enclosed,
            },
            "lambda" => Ctx {
                function: Some(false),
                def: false,
                in_loop: false,
                module: false,
                outer_function: enclosed,
            },
            "class_definition" => Ctx {
                outer_function: enclosed,
                ..Ctx::default()
            },
            _ => ctx,
        };
        let loop_body = matches!(node.kind(), "for_statement" | "while_statement")
            .then(|| node.child_by_field_name("body"))
            .flatten();
        let mut c = node.walk();
        let kids: Vec<Node<'_>> = node.children(&mut c).collect();
        for kid in kids.into_iter().rev() {
            let mut k = inner;
            if loop_body == Some(kid) {
                k.in_loop = true;
            }
            // A lambda's default values belong to the enclosing scope; close enough
            // for these rules, as neither holds statements.
            stack.push((kid, k, depth + 1, Some(node), parent));
        }
    }
    Ok(())
}

/// A simple statement, or a compound statement's header, is one logical
/// line. The grammar reads on over a line break where a statement cannot
/// end yet (`x +=` then `1` on the next line); CPython does not.
fn one_logical_line(
    node: Node<'_>,
    newlines: &[usize],
    line: impl Fn(Node<'_>) -> usize,
) -> Result<(), SyntaxError> {
    let mut c = node.walk();
    let kids: Vec<Node<'_>> = node.children(&mut c).collect();
    let header_end = match kids.iter().position(|k| k.kind() == "block") {
        Some(0) => return Ok(()),
        // The header ends at its `:`; comments may sit before the block.
        Some(b) => kids[..b]
            .iter()
            .rev()
            .find(|k| k.kind() != "comment")
            .map_or(node.start_byte(), |k| k.end_byte()),
        None if node.kind().ends_with("_clause") => return Ok(()),
        None => node.end_byte(),
    };
    let first = newlines.partition_point(|&at| at < node.start_byte());
    match newlines.get(first) {
        Some(&at) if at < header_end => Err(SyntaxError {
            line: line(node),
            message: "Python syntax error: invalid syntax (the statement does not end at the line break; continue it inside brackets or after a backslash)".into(),
        }),
        _ => Ok(()),
    }
}

/// `from __future__ import x` only before everything but the docstring and
/// other future imports, and only of features CPython knows.
fn future_imports(
    root: Node<'_>,
    body: &[u8],
    line: &impl Fn(Node<'_>) -> usize,
) -> Result<(), SyntaxError> {
    const FEATURES: [&str; 10] = [
        "nested_scopes",
        "generators",
        "division",
        "absolute_import",
        "with_statement",
        "print_function",
        "unicode_literals",
        "barry_as_FLUFL",
        "generator_stop",
        "annotations",
    ];
    let mut c = root.walk();
    let (mut seen_other, mut first) = (false, true);
    for stmt in root.named_children(&mut c) {
        if stmt.kind() == "comment" {
            continue;
        }
        let docstring = first && is_docstring(stmt);
        first = false;
        match stmt.kind() {
            _ if docstring => {}
            "future_import_statement" => {
                if seen_other {
                    return Err(error(
                        line(stmt),
                        "from __future__ imports must occur at the beginning of the file",
                    ));
                }
                let mut cc = stmt.walk();
                for name in stmt.children_by_field_name("name", &mut cc) {
                    let name = name.child_by_field_name("name").unwrap_or(name);
                    let text = std::str::from_utf8(&body[name.byte_range()]).unwrap_or("");
                    if !FEATURES.contains(&text) {
                        return Err(error(
                            line(stmt),
                            format!("future feature {text} is not defined"),
                        ));
                    }
                }
            }
            _ => seen_other = true,
        }
    }
    Ok(())
}

/// Whether a statement is one plain string, as a docstring is.
fn is_docstring(stmt: Node<'_>) -> bool {
    docstring(stmt).is_some()
}

/// The module docstring: a first statement that is one plain string.
pub(super) fn docstring(stmt: Node<'_>) -> Option<Node<'_>> {
    // `"""doc""",` is a tuple, not a docstring: count every child.
    if stmt.kind() != "expression_statement" || stmt.child_count() != 1 {
        return None;
    }
    let s = stmt.named_child(0)?;
    (s.kind() == "string").then_some(s)
}

fn has_child(node: Node<'_>, kind: &str) -> bool {
    let mut c = node.walk();
    let found = node.children(&mut c).any(|n| n.kind() == kind);
    found
}

/// `def f(a=1, b)`, `def f(**k, a)`, `def f(*)`, `def f((a, b))`, `def f(a, a)`.
fn parameters(
    node: Node<'_>,
    body: &[u8],
    line: impl Fn(Node<'_>) -> usize,
) -> Result<(), SyntaxError> {
    let fail = |n: Node<'_>, m: &str| Err(error(line(n), m));
    let mut seen_default = false;
    let mut keyword_only = false;
    let mut bare_star: Option<Node<'_>> = None;
    let mut after_kwargs = false;
    let mut names: Vec<&[u8]> = Vec::new();
    let mut c = node.walk();
    for p in node.named_children(&mut c) {
        if after_kwargs {
            return fail(p, "arguments cannot follow var-keyword argument");
        }
        let name = match p.kind() {
            "identifier" => Some(p),
            "typed_parameter" => {
                let mut cc = p.walk();
                let first = p.named_children(&mut cc).next();
                first.and_then(|n| match n.kind() {
                    "identifier" => Some(n),
                    "list_splat_pattern" | "dictionary_splat_pattern" => n.named_child(0),
                    _ => None,
                })
            }
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
            "list_splat_pattern" | "dictionary_splat_pattern" => p.named_child(0),
            _ => None,
        };
        match p.kind() {
            "tuple_pattern" | "list_pattern" => {
                return fail(
                    p,
                    "function parameters cannot be parenthesized (Python 2 tuple parameters)",
                )
            }
            "identifier" | "typed_parameter" => {
                let splat = p
                    .named_child(0)
                    .is_some_and(|n| n.kind().ends_with("splat_pattern"));
                if splat {
                    let kw = p
                        .named_child(0)
                        .is_some_and(|n| n.kind() == "dictionary_splat_pattern");
                    after_kwargs |= kw;
                    keyword_only |= !kw;
                    bare_star = None;
                } else {
                    if seen_default && !keyword_only {
                        return fail(p, "non-default argument follows default argument");
                    }
                    bare_star = None;
                }
            }
            "default_parameter" | "typed_default_parameter" => {
                seen_default = true;
                bare_star = None;
            }
            "list_splat_pattern" => {
                keyword_only = true;
                bare_star = None;
            }
            "keyword_separator" => {
                keyword_only = true;
                bare_star = Some(p);
            }
            "dictionary_splat_pattern" => {
                if let Some(star) = bare_star {
                    return fail(star, "named arguments must follow bare *");
                }
                after_kwargs = true;
            }
            _ => {}
        }
        if let Some(n) = name.filter(|n| n.kind() == "identifier") {
            let text = &body[n.byte_range()];
            if names.contains(&text) {
                return fail(
                    n,
                    &format!(
                        "duplicate argument '{}' in function definition",
                        String::from_utf8_lossy(text)
                    ),
                );
            }
            names.push(text);
        }
    }
    if let Some(star) = bare_star {
        return fail(star, "named arguments must follow bare *");
    }
    Ok(())
}

/// `f(a=1, b)`, `f(**k, a)`, `f(**k, *a)`.
fn arguments(node: Node<'_>, line: impl Fn(Node<'_>) -> usize) -> Result<(), SyntaxError> {
    let mut keyword = false;
    let mut kwargs = false;
    let mut c = node.walk();
    for a in node.named_children(&mut c) {
        match a.kind() {
            "keyword_argument" => keyword = true,
            "dictionary_splat" => kwargs = true,
            "list_splat" if kwargs => {
                return Err(error(
                    line(a),
                    "iterable argument unpacking follows keyword argument unpacking",
                ))
            }
            "list_splat" | "comment" => {}
            _ if kwargs => {
                return Err(error(
                    line(a),
                    "positional argument follows keyword argument unpacking",
                ))
            }
            _ if keyword => {
                return Err(error(
                    line(a),
                    "positional argument follows keyword argument",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// What `del` can take: names, attributes, subscripts, and brackets of them.
fn deletable(target: Node<'_>, line: impl Fn(Node<'_>) -> usize + Copy) -> Result<(), SyntaxError> {
    match target.kind() {
        "identifier" | "attribute" | "subscript" | "comment" => Ok(()),
        "expression_list" | "tuple" | "list" | "parenthesized_expression" => {
            let mut c = target.walk();
            let kids: Vec<_> = target.named_children(&mut c).collect();
            for k in kids {
                deletable(k, line)?;
            }
            Ok(())
        }
        other => Err(error(
            line(target),
            format!("cannot delete {}", other.replace('_', " ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn fstring_fields_follow_python_3_12() {
        for ok in [
            "x = f\"{d[\"k\"]}\"\n",
            "x = f'{a!r:>{w}}'\n",
            "x = f\"{{a}}\" + f'}}'\n",
            "x = f\"{ {1: 2}[1] }\"\n",
            "x = f'''{\na\n}'''\n",
            "x = rf\"\\d{x}\"\n",
            "x = f\"{x:{'a'}}\"\n",
            "x = f'{f\"{f'{1}'}\"}'\n",
        ] {
            assert!(tokens(ok.as_bytes()).is_ok(), "{ok}");
        }
        for bad in ["x = f\"{a\"\n", "x = f'{a'\n", "x = f\"{'a}\"\n"] {
            assert!(tokens(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
