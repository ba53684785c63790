//! Alembic's re-point: every `down_revision` or `depends_on` naming a
//! revision that is not there (and its docstring's `Revises:` token) made
//! to name an existing one, byte for byte; or, with `--drop`, each
//! `depends_on` entry naming it removed.

use anyhow::Result;

use super::planned::checked;
use super::renumber::reference_edits;
use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors};
use crate::graph::Graph;
use crate::plan::{Builder, Edit, Plan};
use crate::python::Assigned;
use crate::repair::{missing_new, nearest, Preview};
use std::ops::Range;

pub(crate) fn repoint(
    config: &Config,
    chain: &Chain,
    old: &str,
    new: Option<&str>,
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
    if let Some(new) = new.filter(|new| graph.resolve(new).is_none()) {
        let near = nearest(new, chain.revisions.iter().map(|r| r.id.as_str()));
        return Err(missing_new(new, "revision", chain.name(), &near).into());
    }
    if let (None, Some(child)) = (new, naming.iter().find(|r| r.down.iter().any(|d| d == old))) {
        return Err(InputErrors::one(Diag::new(
            rel(&config.root, &child.path),
            child
                .consts
                .as_ref()
                .and_then(|c| c.down_revision.as_ref())
                .map(|a| a.line),
            format!(
                "{old} is the down_revision of {}: a parent is re-pointed, not dropped",
                child.id
            ),
        ))
        .with_help(format!("migfix repoint {old} NEW"))
        .into());
    }
    let mut builder = Builder::default();
    let mut files = Vec::new();
    for r in &naming {
        let consts = r.consts.as_ref().expect("filtered");
        let src = crate::files::read(&r.path)?;
        let edits = match new {
            Some(new) => reference_edits(&src, consts, old, new).0,
            None => consts
                .depends_on
                .as_ref()
                .map_or_else(Vec::new, |a| drop_edits(&src, a, old)),
        };
        builder.edit(&r.path, &src, edits);
        files.push(format!("{} ({})", r.id, rel(&config.root, &r.path)));
    }
    let mut plan = builder.build()?;
    let what = match new {
        Some(new) => format!("re-pointing {old} at {new}"),
        None => format!("dropping {old}"),
    };
    let (_, heads_after, tracked) = checked(config, chain, &mut plan, &what)?;
    let (title, did) = match new {
        Some(new) => (
            format!("re-point {old} -> {new}"),
            format!("references to {old} now name {new}"),
        ),
        None => (
            format!("drop {old}"),
            format!("depends_on no longer names {old}"),
        ),
    };
    let mut notes = vec![format!("{did} in: {}", files.join(", "))];
    notes.extend(tracked);
    let preview = Preview {
        chain: chain.name().to_string(),
        title: format!("{title} in {}", chain.name()),
        notes,
        heads_after,
        parts_after: Vec::new(),
    };
    Ok(Some((preview, plan)))
}

/// The edits that take every entry naming `old` out of a `depends_on`
/// value: `None` when nothing else is left; else each run of dropped
/// entries goes with the separator up to the next kept one (or, at the
/// end, from the last kept one), so the rest stays byte for byte.
fn drop_edits(src: &[u8], assigned: &Assigned, old: &str) -> Vec<Edit> {
    let items = assigned.value.literals();
    if items.iter().all(|l| l.value == old) {
        return vec![Edit::new(assigned.value_span.clone(), "None")];
    }
    let spans: Vec<Range<usize>> = items.iter().map(|l| outer(src, &l.inner)).collect();
    let mut edits = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if items[i].value != old {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < items.len() && items[j + 1].value == old {
            j += 1;
        }
        let range = if j + 1 < items.len() {
            spans[i].start..spans[j + 1].start
        } else {
            // A kept entry comes before: the run is not the whole value.
            spans[i - 1].end..spans[j].end
        };
        edits.push(Edit::new(range, ""));
        i = j + 1;
    }
    edits
}

/// A string literal's whole span, prefix and quotes included, from the
/// span of its contents.
fn outer(src: &[u8], inner: &Range<usize>) -> Range<usize> {
    let quote = src[inner.start - 1];
    let triple = inner.start >= 3 && src[inner.start - 3..inner.start] == [quote; 3];
    let n = if triple { 3 } else { 1 };
    let mut start = inner.start - n;
    while start > 0 && b"rRuU".contains(&src[start - 1]) {
        start -= 1;
    }
    start..inner.end + n
}
