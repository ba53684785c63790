//! The tree-sitter parse of a whole file, after the tokenizer rules: where
//! both tree readers, `full` for the constants and `calls` for `upgrade()`,
//! start.

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

use super::data::BLANKED_FROM;
use super::tokens::tokens;
use crate::python::SyntaxError;

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
/// with where its logical lines end. Large displays of rows are given to
/// the parse blanked after their first row (see [`super::data`]).
pub(in crate::python) fn parse(body: &[u8]) -> Result<(Tree, Vec<usize>), SyntaxError> {
    parse_blanking(body, BLANKED_FROM)
}

/// [`parse`], blanking displays of rows of `from` bytes or more: tests
/// compare the answers with every display blanked and with none.
pub(in crate::python) fn parse_blanking(
    body: &[u8],
    from: usize,
) -> Result<(Tree, Vec<usize>), SyntaxError> {
    let lines = tokens(body, from)?;
    // Python ends a line at a lone `\r`; the grammar does not. Replacing it
    // with `\n`, and the blanks with spaces, keeps every byte offset.
    let lone_cr = |i: usize| body[i] == b'\r' && body.get(i + 1) != Some(&b'\n');
    let normalized: Option<Vec<u8>> = (!lines.blanks.is_empty()
        || !lines.bytes_letters.is_empty()
        || (0..body.len()).any(lone_cr))
    .then(|| {
        let mut text: Vec<u8> = (0..body.len())
            .map(|i| if lone_cr(i) { b'\n' } else { body[i] })
            .collect();
        for &i in &lines.bytes_letters {
            text[i] = b'\\';
        }
        // After the letters: one in a blanked row is blanked with it.
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
