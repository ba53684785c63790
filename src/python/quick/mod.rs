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

mod codes;
mod expressions;
mod parser;
mod statements;
mod syntax;
mod tokens;
mod upgrade;
mod values;

use std::cell::RefCell;
use std::collections::HashMap;

use bumpalo::Bump;

use crate::python::calls::{Scope, Step};
use parser::Parser;
use syntax::Module;
use tokens::tokenize;
use upgrade::Walker;

/// The steps of `upgrade()`, from the quick parse; `None` where it declines.
/// `body` is the file after any byte-order mark.
pub(crate) fn upgrade_steps(body: &str) -> Option<Vec<Step>> {
    let tokens = tokenize(body.as_bytes())?;
    ARENA.with(|arena| {
        let mut arena = arena.borrow_mut();
        arena.reset();
        let steps = walk(body, &tokens, &arena);
        // A large file's nodes are given back now, not kept until the
        // thread's next file (see `ARENA`).
        if arena.allocated_bytes() > KEPT_ARENA {
            *arena = Bump::new();
        }
        steps
    })
}

fn walk(body: &str, tokens: &[tokens::Tok], arena: &Bump) -> Option<Vec<Step>> {
    let mut p = Parser {
        src: body,
        toks: tokens,
        arena,
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
}

/// The most arena memory a thread keeps between files.
const KEPT_ARENA: usize = 16 << 20;

thread_local! {
    /// The syntax nodes of the file being read, freed at once for the next;
    /// its memory stays at the largest file's, up to [`KEPT_ARENA`].
    static ARENA: RefCell<Bump> = RefCell::new(Bump::new());
}
