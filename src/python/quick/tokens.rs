//! The quick reader's tokenizer: Python's tokens for the subset it reads,
//! declining (`None`) on anything outside it.

use std::ops::Range;

use super::codes::{code, is_keyword};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum T {
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
pub(super) struct Tok {
    pub(super) t: T,
    pub(super) span: Range<usize>,
    pub(super) line: usize,
    /// For operators and keywords: [`code`].
    pub(super) code: u8,
    /// For strings: prefix letters (lower case) and the content's span.
    pub(super) prefix: u8,
    pub(super) inner: Range<usize>,
}

pub(super) const RAW: u8 = 1;
pub(super) const BYTES: u8 = 2;
pub(super) const FSTRING: u8 = 4;

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

pub(super) fn tokenize(src: &[u8]) -> Option<Vec<Tok>> {
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
                // Where `__debug__` may not be assigned, the full parse checks.
                if src.get(end).is_some_and(|b| !b.is_ascii()) || &src[i..end] == b"__debug__" {
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
pub(super) fn fields(inner: &[u8], base: usize) -> Option<Vec<(Range<usize>, Range<usize>)>> {
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
