//! The rules of CPython's tokenizer, checked on the bytes before the
//! parse: indentation, tabs, bracket depth, numbers, string prefixes,
//! stray characters; and the error both halves of the checks give.

use super::data::Data;
use crate::python::SyntaxError;

/// CPython's `MAXLEVEL`: brackets open at once.
const MAX_BRACKETS: usize = 200;
/// CPython's `MAXINDENT`: indentation levels.
const MAX_INDENT: usize = 100;

pub(super) fn error(line: usize, message: impl Into<String>) -> SyntaxError {
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
    /// The letters of `\N`, `\u` and `\U` in bytes literals, where they
    /// are no escapes but the grammar loses them: the parse is given `\\`.
    pub bytes_letters: Vec<usize>,
}

/// The rules of CPython's tokenizer. `body` is valid UTF-8 without a BOM.
/// Displays of rows of `from` bytes or more are among the blanks (see
/// [`super::data`]); the readers blank from [`super::data::BLANKED_FROM`].
pub(super) fn tokens(body: &[u8], from: usize) -> Result<Lines, SyntaxError> {
    let mut t = Tokenizer::new(body, 1, Vec::new());
    if body.len() >= from {
        t.data = Some(Data::new(from));
    }
    t.run()?;
    let mut blanks = t.blanks;
    if let Some(data) = t.data {
        blanks.extend(data.blanked);
    }
    Ok(Lines {
        newlines: t.newlines,
        blanks,
        bytes_letters: t.bytes_letters,
    })
}

/// The tokenizer's rules, and the displays of rows of `from` bytes or more
/// that [`super::data`] would have blanked.
pub(in crate::python) fn tokens_blanking(
    body: &[u8],
    from: usize,
) -> Result<Vec<std::ops::Range<usize>>, SyntaxError> {
    let mut t = Tokenizer::new(body, 1, Vec::new());
    t.data = Some(Data::new(from));
    t.run()?;
    Ok(t.data.map(|d| d.blanked).unwrap_or_default())
}

/// The same rules on the expression of an f-string's field, which CPython
/// tokenizes on its own, as if inside brackets.
pub(super) fn field_tokens(expr: &[u8], line: usize) -> Result<(), SyntaxError> {
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
            bytes_letters: Vec::new(),
            data: None,
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
    bytes_letters: Vec<usize>,
    /// Follows the brackets for rows of data, in a large file.
    data: Option<Data>,
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
            let (start, first) = (self.i, !self.logical_started);
            self.one(c)?;
            if let Some(data) = &mut self.data {
                data.token(self.src, start, self.i, first && self.logical_started);
            }
        }
    }

    /// One token (or blank, comment, line break) starting with `c`.
    fn one(&mut self, c: u8) -> Result<(), SyntaxError> {
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
            b'!' if self.peek(1) != Some(b'=') => return Err(error(self.line, "invalid syntax")),
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
        Ok(())
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
                        Some(b'N' | b'u' | b'U') if bytes && !raw => {
                            self.bytes_letters.push(self.i);
                            self.i += 1;
                        }
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

#[cfg(test)]
mod tests {
    use super::tokens as tokens_from;

    fn tokens(body: &[u8]) -> Result<super::Lines, crate::python::SyntaxError> {
        tokens_from(body, usize::MAX)
    }

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
