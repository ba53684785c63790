//! A Python file's bytes as the text its parsers read, decoded as CPython
//! 3.11's `compile()` decodes them: a UTF-8 byte-order mark, a coding
//! cookie on line 1 or 2, and invalid UTF-8 allowed only in comments.
//!
//! The file's bytes are never rewritten: spans the parsers find in the
//! decoded text are mapped back to the file's bytes ([`Source::at`]), so
//! that an edit changes the ids and keeps every other byte.

use std::borrow::Cow;
use std::ops::Range;

use super::{bom_len, line_of, memchr, ModuleConsts, PyValue, SyntaxError};

/// CPython's codec names and aliases, each with its module
/// (`encodings.aliases` and the modules of `encodings`, in 3.11).
const CODECS: &str = include_str!("codecs.txt");

/// Modules of `encodings` that are not text encodings.
const NOT_TEXT: [&str; 7] = [
    "base64_codec",
    "bz2_codec",
    "hex_codec",
    "quopri_codec",
    "rot_13",
    "uu_codec",
    "zlib_codec",
];

/// How the body is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    /// No cookie, or one the tokenizer reads as `utf-8` itself: invalid
    /// UTF-8 is allowed in comments, which it skips as bytes.
    Utf8,
    /// A UTF-8 alias (`utf8`, `u8`) that the codec decodes whole: invalid
    /// UTF-8 is refused anywhere.
    Utf8Strict,
    Ascii,
    Latin1,
    Cp1252,
}

/// The text the parsers read: valid UTF-8 after any BOM, with the BOM of
/// the file kept, so that a span of it is the file's span unless the file
/// was transcoded.
pub(crate) struct Source<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// For a transcoded file, the offset in `bytes` of each byte of the
    /// file and of its end.
    map: Option<Vec<usize>>,
}

impl Source<'_> {
    /// The text after the BOM.
    pub fn text(&self) -> &str {
        let body = &self.bytes[bom_len(&self.bytes)..];
        // `source` proved it UTF-8; an empty text could only hide a bug.
        std::str::from_utf8(body).unwrap_or_default()
    }

    /// The file's offset of an offset of `bytes`.
    pub fn at(&self, offset: usize) -> usize {
        match &self.map {
            None => offset,
            Some(map) => map.binary_search(&offset).unwrap_or_else(|i| i),
        }
    }

    /// The file's span of a span of `bytes`.
    pub fn span(&self, r: &mut Range<usize>) {
        *r = self.at(r.start)..self.at(r.end);
    }

    /// The constants with their spans in the file's bytes.
    pub fn consts(&self, mut c: ModuleConsts) -> ModuleConsts {
        if self.map.is_none() {
            return c;
        }
        let assigned = [
            &mut c.revision,
            &mut c.down_revision,
            &mut c.branch_labels,
            &mut c.depends_on,
        ];
        for a in assigned.into_iter().flatten() {
            self.span(&mut a.value_span);
            match &mut a.value {
                PyValue::Str(s) => self.span(&mut s.inner),
                PyValue::Seq { items, span, .. } => {
                    self.span(span);
                    for s in items {
                        self.span(&mut s.inner);
                    }
                }
                PyValue::None | PyValue::NonLiteral { .. } => {}
            }
        }
        for r in [&mut c.doc.revision_id, &mut c.doc.revises]
            .into_iter()
            .flatten()
        {
            self.span(r);
        }
        c
    }
}

/// Decodes the file as CPython's `compile()` would, or says why it would
/// refuse it, with the line.
pub(crate) fn source<'a>(src: &'a [u8]) -> Result<Source<'a>, SyntaxError> {
    let bom = bom_len(src);
    let body = &src[bom..];
    let cookie = coding_cookie(body);
    let codec = match &cookie {
        None => Codec::Utf8,
        Some((name, line)) => {
            let normal = normal_name(name);
            // After a BOM, CPython takes no cookie but its own `utf-8`.
            if bom > 0 && normal != "utf-8" {
                return Err(SyntaxError {
                    line: *line,
                    message: format!("encoding problem: {normal} with BOM"),
                });
            }
            codec(&normal, *line)?
        }
    };
    // `contains` searches a word at a time; the byte's place is wanted
    // only for the error.
    if body.contains(&0) {
        let at = memchr(0, body).unwrap_or_default();
        return Err(SyntaxError {
            line: line_of(body, at),
            message: "source code cannot contain null bytes".into(),
        });
    }
    let whole = |bytes: Cow<'a, [u8]>| Source { bytes, map: None };
    match codec {
        Codec::Utf8 => utf8_outside_comments(src, bom).map(whole),
        Codec::Utf8Strict => match std::str::from_utf8(body) {
            Ok(_) => Ok(whole(src.into())),
            Err(e) => Err(undecodable(
                body,
                e.valid_up_to(),
                "utf-8",
                "not valid UTF-8",
            )),
        },
        Codec::Ascii => match body.iter().position(|b| !b.is_ascii()) {
            None => Ok(whole(src.into())),
            Some(at) => Err(undecodable(body, at, "ascii", "ordinal not in range(128)")),
        },
        Codec::Latin1 | Codec::Cp1252 if body.is_ascii() => Ok(whole(src.into())),
        Codec::Latin1 => Ok(transcode(body, |b| Some(char::from(b)))),
        Codec::Cp1252 => {
            if let Some(at) = body.iter().position(|&b| cp1252(b).is_none()) {
                return Err(undecodable(
                    body,
                    at,
                    "charmap",
                    "character maps to <undefined>",
                ));
            }
            Ok(transcode(body, cp1252))
        }
    }
}

fn undecodable(body: &[u8], at: usize, codec: &str, why: &str) -> SyntaxError {
    SyntaxError {
        line: line_of(body, at),
        message: format!(
            "(unicode error) '{codec}' codec can't decode byte 0x{:02x}: {why}",
            body[at]
        ),
    }
}

/// The tokenizer's own reading of a UTF-8 file: a comment is skipped as
/// bytes, so invalid UTF-8 there is allowed; it is masked (`?`, one byte
/// for one) for the parsers. Anywhere else it is refused.
fn utf8_outside_comments(src: &[u8], bom: usize) -> Result<Cow<'_, [u8]>, SyntaxError> {
    let body = &src[bom..];
    let Err(first) = std::str::from_utf8(body) else {
        return Ok(src.into());
    };
    let comments = comments(body);
    let mut masked = src.to_vec();
    let mut at = first.valid_up_to();
    loop {
        let rest = &body[at..];
        let (bad, next) = match std::str::from_utf8(rest) {
            Ok(_) => return Ok(masked.into()),
            Err(e) => {
                let start = at + e.valid_up_to();
                let len = e.error_len().unwrap_or(rest.len() - e.valid_up_to());
                (start..start + len, start + len)
            }
        };
        if !comments
            .iter()
            .any(|c| c.start <= bad.start && bad.end <= c.end)
        {
            return Err(undecodable(
                body,
                bad.start,
                "utf-8",
                "not valid UTF-8, which Python allows only in a comment",
            ));
        }
        masked[bom + bad.start..bom + bad.end].fill(b'?');
        at = next;
    }
}

/// The comments of a file as CPython 3.11's tokenizer finds them: a `#`
/// outside a string to the end of its line. (An f-string is one string
/// token in 3.11, quotes inside it included.)
pub(crate) fn comments(body: &[u8]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'#' => {
                let end = body[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(body.len(), |n| i + n);
                found.push(i..end);
                i = end;
            }
            q @ (b'\'' | b'"') => {
                let triple = body[i..].starts_with(&[q, q, q]);
                i += if triple { 3 } else { 1 };
                while i < body.len() {
                    match body[i] {
                        b'\\' => i += 1,
                        b if b == q && (!triple || body[i..].starts_with(&[q, q, q])) => {
                            i += if triple { 3 } else { 1 };
                            break;
                        }
                        // An unclosed string: the parsers say so.
                        b'\n' | b'\r' if !triple => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// Decodes a single-byte codec, each byte to one character, keeping where
/// each byte went.
fn transcode(body: &[u8], decode: fn(u8) -> Option<char>) -> Source<'static> {
    let mut text = String::with_capacity(body.len() + body.len() / 8);
    let mut map = Vec::with_capacity(body.len() + 1);
    for &b in body {
        map.push(text.len());
        text.push(decode(b).unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    map.push(text.len());
    Source {
        bytes: Cow::Owned(text.into_bytes()),
        map: Some(map),
    }
}

/// Windows-1252 as Python's `cp1252` codec reads it: Latin-1 but for
/// 0x80..0xA0, five bytes of which are undefined.
fn cp1252(b: u8) -> Option<char> {
    const HIGH: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
        0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => match HIGH[usize::from(b - 0x80)] {
            0 => None,
            c => char::from_u32(u32::from(c)),
        },
        _ => Some(char::from(b)),
    }
}

/// The tokenizer's `get_normal_name`: `utf-8` and `latin-1` spelled any
/// of their ways (first 12 characters, any case, `_` for `-`), else the
/// name as written.
fn normal_name(name: &str) -> String {
    let buf: String = name
        .chars()
        .take(12)
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let is = |n: &str| buf == n || buf.starts_with(&format!("{n}-"));
    if is("utf-8") {
        "utf-8".into()
    } else if ["latin-1", "iso-8859-1", "iso-latin-1"].into_iter().any(is) {
        "iso-8859-1".into()
    } else {
        name.into()
    }
}

/// The codec of a cookie's name, found as `codecs.lookup` finds it, or why
/// the file cannot be read.
fn codec(name: &str, line: usize) -> Result<Codec, SyntaxError> {
    if name == "utf-8" {
        return Ok(Codec::Utf8);
    }
    let err = |message: String| Err(SyntaxError { line, message });
    let key = lookup_key(name);
    let module = CODECS.lines().find_map(|row| {
        let (alias, module) = row.split_once(' ')?;
        (alias == key || alias == key.replace('.', "_")).then_some(module)
    });
    match module {
        None => err(format!("unknown encoding: {name}")),
        Some(m) if NOT_TEXT.contains(&m) => err(format!(
            "'{name}' is not a text encoding; use codecs.decode() to handle arbitrary codecs"
        )),
        Some("utf_8" | "utf_8_sig") => Ok(Codec::Utf8Strict),
        Some("ascii") => Ok(Codec::Ascii),
        Some("latin_1") => Ok(Codec::Latin1),
        Some("cp1252") => Ok(Codec::Cp1252),
        Some(_) => err(format!(
            "coding {name} is not supported by migfix (it reads UTF-8, ASCII, Latin-1 and cp1252 files; Python reads this one)"
        )),
    }
}

/// `encodings.normalize_encoding` of the lowercased name: runs of
/// characters other than letters, digits and `.` become one `_`.
fn lookup_key(name: &str) -> String {
    let mut key = String::new();
    let mut punct = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if punct && !key.is_empty() {
                key.push('_');
            }
            key.push(c.to_ascii_lowercase());
            punct = false;
        } else {
            punct = true;
        }
    }
    key
}

/// The coding cookie CPython's tokenizer reads, with its line: a comment
/// alone on line 1, or on line 2 after a line of only a comment or blanks,
/// holding `coding:` or `coding=` and a name.
fn coding_cookie(body: &[u8]) -> Option<(String, usize)> {
    for (i, line) in body.split(|&b| b == b'\n').take(2).enumerate() {
        let lead = line
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\x0c'))
            .count();
        if line.get(lead) != Some(&b'#') {
            // Blank lines let line 2 be read; code does not.
            if lead < line.len() && !matches!(line[lead], b'\r') {
                return None;
            }
            continue;
        }
        let found = line.windows(7).enumerate().find_map(|(at, w)| {
            let name: Vec<u8> = line[at + 7..]
                .iter()
                .skip_while(|b| matches!(b, b' ' | b'\t'))
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                .copied()
                .collect();
            (w.starts_with(b"coding") && matches!(w[6], b':' | b'=') && !name.is_empty())
                .then(|| String::from_utf8_lossy(&name).into_owned())
        });
        if let Some(name) = found {
            return Some((name, i + 1));
        }
    }
    None
}
