//! The tree-sitter parse of a whole file, after the tokenizer rules: where
//! both tree readers, `full` for the constants and `calls` for `upgrade()`,
//! start.

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

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
/// with where its logical lines end.
pub(in crate::python) fn parse(body: &[u8]) -> Result<(Tree, Vec<usize>), SyntaxError> {
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
