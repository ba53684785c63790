//! Alembic's re-point: every `down_revision` or `depends_on` naming a
//! revision that is not there (and its docstring's `Revises:` token) made
//! to name an existing one, byte for byte.

use anyhow::{bail, Result};

use super::planned::{planned_chain, track_heads};
use super::renumber::reference_edits;
use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors};
use crate::graph::Graph;
use crate::plan::{Builder, Plan};
use crate::repair::{confine, missing_new, nearest, new_problems, Preview};

pub(crate) fn repoint(
    config: &Config,
    chain: &Chain,
    old: &str,
    new: &str,
) -> Result<Option<(Preview, Plan)>> {
    let naming: Vec<_> = chain
        .revisions
        .iter()
        .filter(|r| {
            r.consts.is_some()
                && r.down
                    .iter()
                    .chain(r.depends_on.iter().flatten())
                    .any(|d| d == old)
        })
        .collect();
    if naming.is_empty() {
        return Ok(None);
    }
    let graph = Graph::build(chain);
    if let Some(i) = graph.resolve(old) {
        return Err(InputErrors::one(Diag::new(
            old,
            None,
            format!(
                "{old} is a revision of {} ({}): its references do not dangle",
                chain.name(),
                rel(&config.root, &graph.rev(i).path)
            ),
        ))
        .with_help(format!("to give it another id: migfix renumber {old}"))
        .into());
    }
    if graph.resolve(new).is_none() {
        let near = nearest(new, chain.revisions.iter().map(|r| r.id.as_str()));
        return Err(missing_new(new, "revision", chain.name(), &near).into());
    }
    let mut builder = Builder::default();
    let mut files = Vec::new();
    for r in &naming {
        let consts = r.consts.as_ref().expect("filtered");
        let src = crate::files::read(&r.path)?;
        let (edits, _) = reference_edits(&src, consts, old, new);
        builder.edit(&r.path, &src, edits);
        files.push(format!("{} ({})", r.id, rel(&config.root, &r.path)));
    }
    let mut plan = builder.build()?;
    confine(config, &[chain], &plan)?;
    let after = planned_chain(config, chain, &plan)?;
    let tracked = track_heads(config, chain, &after, &mut plan);
    let problems = new_problems(chain, &after);
    if !problems.is_empty() {
        bail!(
            "re-pointing {old} at {new} would leave the chain broken ({}); nothing was written",
            problems.join("; ")
        );
    }
    let g = Graph::build(&after);
    let heads_after = g.heads().into_iter().map(|i| g.rev(i).id.clone()).collect();
    let mut notes = vec![format!(
        "references to {old} now name {new} in: {}",
        files.join(", ")
    )];
    notes.extend(tracked);
    let preview = Preview {
        chain: chain.name().to_string(),
        title: format!("re-point {old} -> {new} in {}", chain.name()),
        notes,
        heads_after,
        parts_after: Vec::new(),
    };
    Ok(Some((preview, plan)))
}
