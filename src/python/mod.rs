//! Static reading of an Alembic revision file: the module-level `revision`,
//! `down_revision`, `branch_labels` and `depends_on`, and the docstring
//! header, each with the byte span the edit engine needs. Nothing is executed.
//!
//! Two readers give the same answer: [`full`] walks a tree-sitter parse of
//! the whole file; [`fast`] scans bytes and declines (returns `None`) on
//! anything it does not fully understand, so that [`read`] falls back to the
//! full parse. Tests assert they agree on every fixture and corpus.

pub(crate) mod calls;
mod coding;
mod fast;
pub(crate) mod full;
mod guards;
pub(crate) mod quick;
mod strict;

use std::ops::Range;

/// Python 3.11's `__future__` features: any other in a future import is a
/// syntax error.
pub(crate) const FUTURE_FEATURES: [&str; 10] = [
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

/// The four module constants Alembic reads.
pub(crate) const NAMES: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

/// One string literal: its decoded value and the span of the text between
/// its quotes (what an edit replaces, keeping prefix and quote style).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StrLit {
    pub value: String,
    pub inner: Range<usize>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeqKind {
    Tuple,
    List,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PyValue {
    None,
    Str(StrLit),
    /// A tuple or list of string literals. `span` covers the brackets.
    Seq {
        kind: SeqKind,
        items: Vec<StrLit>,
        span: Range<usize>,
    },
    /// Anything else: a call, a name, an f-string, an import. `why` is shown to users.
    NonLiteral {
        why: String,
    },
}

impl PyValue {
    /// Alembic's `util.to_tuple`: None and an empty sequence are "nothing",
    /// a bare string is one element.
    pub fn ids(&self) -> Option<Vec<String>> {
        match self {
            PyValue::None => Some(Vec::new()),
            PyValue::Str(s) => Some(vec![s.value.clone()]),
            PyValue::Seq { items, .. } => Some(items.iter().map(|s| s.value.clone()).collect()),
            PyValue::NonLiteral { .. } => None,
        }
    }

    /// Every string literal in the value, for edits.
    pub fn literals(&self) -> &[StrLit] {
        match self {
            PyValue::Str(s) => std::slice::from_ref(s),
            PyValue::Seq { items, .. } => items,
            _ => &[],
        }
    }
}

/// The last module-level assignment to one of [`NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assigned {
    pub line: usize,
    pub value: PyValue,
    /// Span of the whole value expression (after `=`).
    pub value_span: Range<usize>,
}

/// Spans inside the module docstring, for the `Revision ID:` and `Revises:`
/// header lines that `alembic revision` writes. Each span is the value text
/// after the colon, trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DocHeader {
    pub revision_id: Option<Range<usize>>,
    pub revises: Option<Range<usize>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ModuleConsts {
    pub revision: Option<Assigned>,
    pub down_revision: Option<Assigned>,
    pub branch_labels: Option<Assigned>,
    pub depends_on: Option<Assigned>,
    pub doc: DocHeader,
}

impl ModuleConsts {
    pub fn slot(&mut self, name: &str) -> &mut Option<Assigned> {
        match name {
            "revision" => &mut self.revision,
            "down_revision" => &mut self.down_revision,
            "branch_labels" => &mut self.branch_labels,
            _ => &mut self.depends_on,
        }
    }
}

/// A file that cannot be read as a revision. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// A file at least this large is parsed alone: while one thread parses it,
/// the others go on with smaller files and wait before a large one. A parse
/// takes memory in proportion to its file, so that the peak is that of the
/// largest file, not of two at once.
pub(crate) const PARSED_ALONE: usize = 1 << 20;

static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held while a file of [`PARSED_ALONE`] bytes or more is parsed (see
/// [`alone`]). The readers below take it once, at their entry, never
/// nested, and drop it last.
pub(crate) type Alone = Option<AloneGuard>;

pub(crate) struct AloneGuard {
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Drop for AloneGuard {
    /// Gives the memory the parse freed back to the system before the next
    /// large file's turn: the allocator would otherwise keep it for this
    /// thread, and the next parse, on another thread, would add to it.
    fn drop(&mut self) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free memory; it takes no
        // pointer and is safe to call at any time.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// The turn to parse a file of `len` bytes: for one of [`PARSED_ALONE`]
/// bytes or more, a wait until no other large file is being parsed.
pub(crate) fn alone(len: usize) -> Alone {
    (len >= PARSED_ALONE).then(|| AloneGuard {
        // A reader that panicked while holding it left nothing to repair.
        _turn: ALONE.lock().unwrap_or_else(|e| e.into_inner()),
    })
}

/// Reads the constants, taking the fast path when it can.
pub(crate) fn read(src: &[u8]) -> Result<ModuleConsts, SyntaxError> {
    let _alone = alone(src.len());
    let s = source(src)?;
    let consts = match fast::scan(s.text().as_bytes(), bom_len(&s.bytes)) {
        Some(consts) => consts,
        None => full::read(&s.bytes)?,
    };
    Ok(s.consts(consts))
}

/// Reads the constants and what `upgrade()` does, proving the whole file
/// free of syntax errors: with the quick parse where it answers, else with
/// one full parse.
pub(crate) fn read_checked(src: &[u8]) -> Result<(ModuleConsts, Vec<calls::Step>), SyntaxError> {
    let _alone = alone(src.len());
    let s = source(src)?;
    let text = s.text();
    if let Some(consts) = fast::scan(text.as_bytes(), bom_len(&s.bytes)) {
        if let Some(steps) = quick::upgrade_steps(&rows_blanked(text, strict::BLANKED_FROM)) {
            return Ok((s.consts(consts), steps));
        }
    }
    let (consts, steps) = full::read_with_steps(&s.bytes)?;
    Ok((s.consts(consts), steps))
}

/// The quick parse's view of a decoded module's top-level classes (see
/// [`quick::view`]), its displays of rows blanked as the full parse's are;
/// `None` where it declines. A module it answers for has no syntax error.
pub(crate) fn view_quick(s: &Source<'_>, names: &[&str]) -> Option<quick::View> {
    let _alone = alone(s.bytes.len());
    let text = rows_blanked(s.text(), strict::BLANKED_FROM);
    quick::view(&text, bom_len(&s.bytes), names)
}

/// The text the quick parser is given: a large file's displays of rows
/// blanked after their first row, line breaks kept, as the full parse sees
/// them (see `strict::data`); the text itself when there are none, or when
/// the tokenizer refuses it (the full parse then says why).
fn rows_blanked(text: &str, from: usize) -> std::borrow::Cow<'_, str> {
    if text.len() < from {
        return text.into();
    }
    match strict::tokens_blanking(text.as_bytes(), from) {
        Ok(rows) if !rows.is_empty() => {
            let mut bytes = text.as_bytes().to_vec();
            for r in rows {
                for b in &mut bytes[r] {
                    if *b != b'\n' && *b != b'\r' {
                        *b = b' ';
                    }
                }
            }
            String::from_utf8(bytes)
                .expect("blanking whole characters keeps UTF-8")
                .into()
        }
        _ => text.into(),
    }
}

/// Reads the constants with the full tree-sitter parse only.
pub(crate) fn read_full(src: &[u8]) -> Result<ModuleConsts, SyntaxError> {
    let _alone = alone(src.len());
    let s = source(src)?;
    Ok(s.consts(full::read(&s.bytes)?))
}

/// [`read_checked`]'s full parse alone, blanking displays of rows of
/// `from` bytes or more (see `strict::data`): tests prove the answer the
/// same for every `from`.
pub(crate) fn read_full_blanking(
    src: &[u8],
    from: usize,
) -> Result<(ModuleConsts, Vec<calls::Step>), SyntaxError> {
    let s = source(src)?;
    let (consts, steps) = full::read_with_steps_blanking(&s.bytes, from)?;
    Ok((s.consts(consts), steps))
}

/// How many displays of rows of `from` bytes or more are blanked for the
/// parse; `None` where the tokenizer refuses the file. For tests.
pub(crate) fn rows_blanked_count(src: &[u8], from: usize) -> Option<usize> {
    let s = source(src).ok()?;
    strict::tokens_blanking(s.text().as_bytes(), from)
        .ok()
        .map(|r| r.len())
}

/// Reads with the fast path only; `None` where it declines. For tests and
/// the benchmark, which must prove the two paths agree.
pub(crate) fn read_fast(src: &[u8]) -> Option<ModuleConsts> {
    let s = source(src).ok()?;
    let consts = fast::scan(s.text().as_bytes(), bom_len(&s.bytes))?;
    Some(s.consts(consts))
}

/// What `upgrade()` does, from the quick parse alone; `None` where it
/// declines. A file it answers for has no syntax error.
pub(crate) fn steps_quick(src: &[u8]) -> Option<Vec<calls::Step>> {
    steps_quick_blanking(src, strict::BLANKED_FROM)
}

/// [`steps_quick`], blanking displays of rows of `from` bytes or more.
pub(crate) fn steps_quick_blanking(src: &[u8], from: usize) -> Option<Vec<calls::Step>> {
    let _alone = alone(src.len());
    let s = source(src).ok()?;
    quick::upgrade_steps(&rows_blanked(s.text(), from))
}

pub(crate) fn bom_len(src: &[u8]) -> usize {
    if src.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

/// A Python file's bytes, read as every file of the tree is (see
/// [`crate::files::read`]); the error is what to tell after its name.
pub(crate) fn read_source(path: &std::path::Path) -> Result<Vec<u8>, String> {
    crate::files::read(path).map_err(|e| format!("cannot read: {e}"))
}

/// The file decoded for the parsers (see [`coding`]), or why CPython
/// would refuse to read it, with the line.
pub(crate) use coding::{comments, source, Source};

pub(crate) use crate::error::line_of;

/// Line numbers of byte offsets by binary search, for readers that ask for
/// many: the starts of lines, where a lone `\r` ends a line too.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(src: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        for (i, &b) in src.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && src.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex(starts)
    }

    /// The 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// Finds the `Revision ID:` and `Revises:` values inside a docstring whose
/// text (between the quotes) starts at byte `base`.
pub(crate) fn doc_header(content: &[u8], base: usize) -> DocHeader {
    let mut doc = DocHeader::default();
    let mut start = 0;
    while start < content.len() {
        let end = memchr(b'\n', &content[start..]).map_or(content.len(), |i| start + i);
        let line = &content[start..end];
        let trimmed_start = line
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let rest = &line[trimmed_start..];
        for (key, slot) in [(&b"Revision ID:"[..], 0), (&b"Revises:"[..], 1)] {
            if let Some(value) = rest.strip_prefix(key) {
                let lead = value
                    .iter()
                    .take_while(|b| **b == b' ' || **b == b'\t')
                    .count();
                let mut vend = value.len();
                while vend > lead && matches!(value[vend - 1], b' ' | b'\t' | b'\r') {
                    vend -= 1;
                }
                let at = base + start + trimmed_start + key.len();
                let span = at + lead..at + vend;
                let target = if slot == 0 {
                    &mut doc.revision_id
                } else {
                    &mut doc.revises
                };
                if target.is_none() {
                    *target = Some(span);
                }
            }
        }
        start = end + 1;
    }
    doc
}

/// The header lines a renumber keeps in step with the ids: the docstring's,
/// else the same lines written as comments (`# Revision ID: x`), as some
/// projects' templates do.
pub(crate) fn header_spans(src: &[u8], consts: &ModuleConsts) -> DocHeader {
    let mut doc = consts.doc.clone();
    if doc.revision_id.is_some() && doc.revises.is_some() {
        return doc;
    }
    let mut start = 0;
    while start < src.len() {
        let end = memchr(b'\n', &src[start..]).map_or(src.len(), |i| start + i);
        let line = &src[start..end];
        let lead = line
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if line.get(lead) == Some(&b'#') {
            let hashes = line[lead..].iter().take_while(|b| **b == b'#').count();
            let spaces = line[lead + hashes..]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            let body = lead + hashes + spaces;
            // The docstring's parser reads `key: value` from the line's start.
            let found = doc_header(&line[body..], start + body);
            doc.revision_id = doc.revision_id.or(found.revision_id);
            doc.revises = doc.revises.or(found.revises);
        }
        start = end + 1;
    }
    doc
}

pub(super) fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Decodes the escapes Python allows in a non-raw str literal. Returns `None`
/// for anything unusual (`\N{...}`, octal), which callers treat as non-literal.
pub(crate) fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'x' => out.push(hex_char(&mut chars, 2)?),
            'u' => out.push(hex_char(&mut chars, 4)?),
            'U' => out.push(hex_char(&mut chars, 8)?),
            // Python keeps unknown escapes as written.
            other if !other.is_ascii_digit() && other != 'N' => {
                out.push('\\');
                out.push(other);
            }
            _ => return None,
        }
    }
    Some(out)
}

fn hex_char(chars: &mut std::str::Chars<'_>, n: usize) -> Option<char> {
    let digits: String = chars.by_ref().take(n).collect();
    if digits.len() != n {
        return None;
    }
    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
}

#[cfg(test)]
mod tests;
