//! What diagnose reads of Alembic revisions: each `upgrade()`.

use crate::chains::Chain;
use crate::facts::{from_python, from_steps, RevFacts};
use crate::parallel::parallel_map;

/// Alembic's: what each `upgrade()` does, from the parse the chain was
/// read with.
pub(crate) fn facts(chain: &Chain) -> Vec<RevFacts> {
    parallel_map(&chain.revisions, |r| match &r.steps {
        Some(steps) => from_steps(&r.path, steps),
        None => match crate::files::read(&r.path) {
            Ok(bytes) => from_python(&r.path, &bytes),
            Err(_) => RevFacts {
                file: r.path.clone(),
                ..RevFacts::default()
            },
        },
    })
}
