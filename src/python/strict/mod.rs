//! What CPython refuses and the tree-sitter grammar accepts: a file that
//! does not compile cannot be imported by Alembic, so it must not pass.
//!
//! [`tokens`] repeats the rules of CPython's tokenizer (indentation, tabs,
//! bracket depth, numbers, string prefixes, stray characters), before the
//! parse. [`tree`] walks the parse for the grammar and compiler rules the
//! grammar is more lenient about (Python 2 statements, argument order,
//! `return` outside a function, ...), and bounds the tree's depth so that
//! the readers after it never recurse without limit. The README lists what
//! is still not checked. [`parse()`] is the tree-sitter parse after
//! [`tokens`] that both tree readers, `full` and `calls`, start from; in a
//! large file, [`data`] checks the rows of literal data the parse is given
//! blanked.

mod data;
mod grammar;
mod parse;
mod scopes;
mod tokens;

pub(super) use data::BLANKED_FROM;
pub(super) use grammar::{docstring, tree};
pub(super) use parse::{parse, parse_blanking};
pub(super) use tokens::tokens_blanking;
