//! The quick reader: a tokenizer and recursive-descent parser for the part
//! of Python that migrations are written in, fast enough to read thousands
//! of files in the time tree-sitter parses a few hundred.
//!
//! It accepts only what is valid Python and declines (returns `None`) on
//! anything outside its subset: f-string fields other than a name, classes
//! (but the top-level ones [`view`] reads), decorators, lambdas, generator
//! arguments, `try`, `break`, tabs, line continuations, non-ASCII names. A
//! file it declines goes to the full tree-sitter parse, which then decides. What
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
mod view;

use std::cell::RefCell;

use bumpalo::Bump;

use crate::python::calls::{Scope, Step};
use parser::Parser;
use syntax::Module;
use tokens::tokenize;
use upgrade::Walker;
pub(crate) use view::{Kind, Value, View};

/// The steps of `upgrade()`, from the quick parse; `None` where it declines.
/// `body` is the file after any byte-order mark.
pub(crate) fn upgrade_steps(body: &str) -> Option<Vec<Step>> {
    let tokens = tokenize(body.as_bytes())?;
    in_arena(|arena| walk(body, &tokens, arena))
}

/// The module's top-level classes, with the values assigned to `names` in
/// their bodies, and its top-level `from` imports (see [`View`]); `None`
/// where it declines. Unlike [`upgrade_steps`], it reads classes and
/// `from __future__` imports. `body` is the file after a byte-order mark
/// of `base` bytes.
pub(crate) fn view(body: &str, base: usize, names: &[&str]) -> Option<View> {
    let tokens = tokenize(body.as_bytes())?;
    in_arena(|arena| {
        let mut p = Parser::new(body, &tokens, arena, true);
        p.module()?;
        view::of(&p, base, names)
    })
}

/// `f` with the thread's arena, emptied.
fn in_arena<T>(f: impl FnOnce(&Bump) -> T) -> T {
    ARENA.with(|arena| {
        let mut arena = arena.borrow_mut();
        arena.reset();
        let out = f(&arena);
        // A large file's nodes are given back now, not kept until the
        // thread's next file (see `ARENA`).
        if arena.allocated_bytes() > KEPT_ARENA {
            *arena = Bump::new();
        }
        out
    })
}

fn walk(body: &str, tokens: &[tokens::Tok], arena: &Bump) -> Option<Vec<Step>> {
    let mut p = Parser::new(body, tokens, arena, false);
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
