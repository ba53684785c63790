//! Alembic's renumber: the id in the file, its name and header, and every
//! `down_revision` or `depends_on` naming it, byte for byte.

use anyhow::{bail, Context, Result};

use super::planned::checked;
use crate::chains::{Chain, Revision};
use crate::cli::RenumberArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors, Refused};
use crate::git::Claim;
use crate::graph::Graph;
use crate::plan::{Builder, Edit, Plan};
use crate::python::{ModuleConsts, PyValue};
use crate::repair::{
    default_id, in_width, next_file_number, next_free, renamed, retokened, taken_by, Preview,
};

/// Alembic's renumber: the id in the file, its name and header, and every
/// `down_revision` or `depends_on` naming it.
pub(crate) fn renumber(
    config: &Config,
    chain: &Chain,
    idx: usize,
    args: &RenumberArgs,
    claims: &[Claim],
) -> Result<(Preview, Plan)> {
    let graph = Graph::build(chain);
    let rev = graph.rev(idx);

    let new_id = match &args.to {
        Some(to) => in_width(chain, to),
        None => default_id(chain, claims),
    };
    // Keeping the id while changing the parent only re-points the revision
    // (a dangling down_revision, say).
    let repoint = new_id == rev.id && args.onto.is_some();
    if new_id == rev.id && !repoint {
        return Err(Refused::new(format!(
            "{} is already {new_id}",
            rel(&config.root, &rev.path)
        ))
        .help(format!(
            "to change only its parent: migfix renumber {} --to {new_id} --onto PARENT",
            args.target
        ))
        .into());
    }
    if let Some(reason) = crate::graph::invalid_new_id(&new_id) {
        return Err(InputErrors::one(Diag::new("--to", None, reason)).into());
    }
    if let Some(who) = taken_by(chain, claims, &new_id).filter(|_| !repoint) {
        let next =
            next_free(chain, claims).map(|n| format!("migfix renumber {} --to {n}", args.target));
        let mut refused = Refused::new(format!("{new_id} is already used: {who}"));
        if let Some(next) = next {
            refused = refused.help(next);
        }
        return Err(refused.into());
    }

    // Two files with one id: the other keeps it, and so keeps the children.
    let duplicate = chain
        .revisions
        .iter()
        .enumerate()
        .any(|(j, r)| j != idx && r.id == rev.id);
    let (parents, why) = match &args.onto {
        Some(onto) => {
            let target = graph.resolve(onto).ok_or_else(|| {
                InputErrors::one(Diag::new(
                    "--onto",
                    None,
                    format!("no revision {onto} in {}", chain.name()),
                ))
            })?;
            if target == idx || graph.descendants(idx).contains(&target) {
                return Err(Refused::new(format!(
                    "{onto} comes after {}: putting it there would make a cycle",
                    rev.id
                ))
                .into());
            }
            (Some(vec![graph.rev(target).id.clone()]), None)
        }
        None => default_onto(chain, &graph, idx, duplicate),
    };

    let mut builder = Builder::default();
    let src =
        crate::files::read(&rev.path).with_context(|| format!("reading {}", rev.path.display()))?;
    let consts = rev
        .consts
        .as_ref()
        .expect("Alembic revisions carry their constants");
    builder.edit(
        &rev.path,
        &src,
        own_edits(&src, consts, &rev.id, &new_id, rev, parents.as_deref()),
    );
    // A repoint keeps the name; a renumber moves the file past every
    // file number in use, where the names carry one.
    if let Some(to) =
        renamed(chain, rev, &new_id, next_file_number(chain, claims)).filter(|_| !repoint)
    {
        builder.rename(&rev.path, &src, to);
    }
    let mut children = Vec::new();
    if !duplicate && !repoint {
        for other in chain.revisions.iter().filter(|r| r.path != rev.path) {
            let Some(c) = &other.consts else { continue };
            let src = crate::files::read(&other.path)?;
            let (edits, follows) = reference_edits(&src, c, &rev.id, &new_id);
            builder.edit(&other.path, &src, edits);
            if follows {
                children.push(other.id.clone());
            }
            // No name is left carrying the old id (a merge named after it).
            if let Some(to) = retokened(chain, &other.path, &rev.id, &new_id) {
                builder.rename(&other.path, &src, to);
            }
        }
    }
    let mut plan = builder.build()?;
    let (after, heads_after, tracked) = checked(config, chain, &mut plan, "the planned renumber")?;
    if !duplicate && after.revisions.iter().filter(|r| r.id == new_id).count() != 1 {
        bail!("the planned renumber would not leave exactly one {new_id}; nothing was written");
    }

    let mut notes = Vec::new();
    match (&parents, &why) {
        (Some(p), Some(why)) => notes.push(format!(
            "onto {} (was {}): {why}",
            p.join(", "),
            show_parents(&rev.down)
        )),
        (Some(p), None) => notes.push(format!(
            "onto {} (was {})",
            p.join(", "),
            show_parents(&rev.down)
        )),
        (None, _) => notes.push(format!("parent stays {}", show_parents(&rev.down))),
    }
    if !children.is_empty() {
        notes.push(format!(
            "{} follow{} it: {}",
            children.len(),
            if children.len() == 1 { "s" } else { "" },
            children.join(", ")
        ));
    }
    if duplicate {
        notes.push(format!(
            "the other file declaring {} keeps the id and its children",
            rev.id
        ));
    }
    notes.extend(tracked);
    notes.insert(0, format!("file: {}", rel(&config.root, &rev.path)));
    let preview = Preview {
        chain: chain.name().to_string(),
        title: if repoint {
            format!("re-point {} in {}", rev.id, chain.name())
        } else {
            format!("renumber {} -> {new_id} in {}", rev.id, chain.name())
        },
        notes,
        heads_after,
        parts_after: Vec::new(),
    };
    Ok((preview, plan))
}

fn show_parents(down: &[String]) -> String {
    if down.is_empty() {
        "<base>".into()
    } else {
        down.join(", ")
    }
}

/// When REV is a head beside one other head that shares its parent (two
/// PRs on one base), the other head; the chain then ends linear.
fn default_onto(
    chain: &Chain,
    graph: &Graph<'_>,
    idx: usize,
    duplicate: bool,
) -> (Option<Vec<String>>, Option<String>) {
    let is_head = duplicate || graph.children(idx).is_empty();
    if !is_head {
        return (None, None);
    }
    let rev = graph.rev(idx);
    let mut without = chain.clone();
    without.revisions.remove(idx);
    let g = Graph::build(&without);
    let candidates: Vec<usize> = g
        .heads()
        .into_iter()
        .filter(|&h| {
            let line: std::collections::BTreeSet<&str> = g
                .ancestors(h)
                .into_iter()
                .chain([h])
                .map(|i| g.rev(i).id.as_str())
                .collect();
            rev.down.iter().all(|d| line.contains(d.as_str())) && !rev.down.contains(&g.rev(h).id)
        })
        .collect();
    match candidates.as_slice() {
        [h] => {
            let other = g.rev(*h).id.clone();
            let why = if duplicate {
                format!("{other} is the head once this file gives up {}", rev.id)
            } else {
                format!(
                    "{} and {other} fork from {}; following {other} makes the chain linear",
                    rev.id,
                    show_parents(&rev.down)
                )
            };
            (Some(vec![other]), Some(why))
        }
        _ => (None, None),
    }
}

fn quote_of(src: &[u8], consts: &ModuleConsts) -> char {
    consts
        .revision
        .as_ref()
        .and_then(|a| a.value.literals().first().map(|l| l.inner.start))
        .and_then(|at| at.checked_sub(1))
        .map(|at| src[at] as char)
        .filter(|c| *c == '"' || *c == '\'')
        .unwrap_or('"')
}

/// The edits inside REV's own file: `revision`, and `down_revision` when the
/// parent changes, plus the docstring's `Revision ID:` and `Revises:`.
fn own_edits(
    src: &[u8],
    consts: &ModuleConsts,
    old: &str,
    new: &str,
    rev: &Revision,
    parents: Option<&[String]>,
) -> Vec<Edit> {
    let mut edits = Vec::new();
    let header = crate::python::header_spans(src, consts);
    if let Some(lit) = consts
        .revision
        .as_ref()
        .and_then(|a| a.value.literals().first())
    {
        edits.push(Edit::new(lit.inner.clone(), new));
    }
    if let Some(span) = &header.revision_id {
        if &src[span.clone()] == old.as_bytes() {
            edits.push(Edit::new(span.clone(), new));
        }
    }
    if let (Some(parents), Some(down)) = (parents, &consts.down_revision) {
        let q = quote_of(src, consts);
        match &down.value {
            PyValue::Str(s) if parents.len() == 1 => {
                edits.push(Edit::new(s.inner.clone(), parents[0].clone()))
            }
            PyValue::Seq { items, .. } if items.len() == 1 && parents.len() == 1 => {
                edits.push(Edit::new(items[0].inner.clone(), parents[0].clone()))
            }
            _ => {
                let text = match parents {
                    [one] => format!("{q}{one}{q}"),
                    many => format!(
                        "({})",
                        many.iter()
                            .map(|p| format!("{q}{p}{q}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                edits.push(Edit::new(down.value_span.clone(), text));
            }
        }
        if let Some(span) = &header.revises {
            if src[span.clone()] == *rev.down.join(", ").as_bytes() {
                edits.push(Edit::new(span.clone(), parents.join(", ")));
            }
        }
    }
    edits
}

/// In another file: every `down_revision` or `depends_on` literal naming
/// `old`, and the token in its docstring's `Revises:` line, even where the
/// constants no longer name it (a header left stale must not name an id
/// that is gone); whether the constants named it.
pub(super) fn reference_edits(
    src: &[u8],
    consts: &ModuleConsts,
    old: &str,
    new: &str,
) -> (Vec<Edit>, bool) {
    let mut edits = Vec::new();
    for slot in [&consts.down_revision, &consts.depends_on] {
        for lit in slot.iter().flat_map(|a| a.value.literals()) {
            if lit.value == old {
                edits.push(Edit::new(lit.inner.clone(), new));
            }
        }
    }
    let names_it = !edits.is_empty();
    if let Some(span) = &crate::python::header_spans(src, consts).revises {
        for r in tokens(&src[span.clone()], old) {
            edits.push(Edit::new(span.start + r.start..span.start + r.end, new));
        }
    }
    (edits, names_it)
}

/// Where `id` stands as a whole token in a header line's `text`: not
/// inside a longer word.
pub(super) fn tokens(text: &[u8], id: &str) -> Vec<std::ops::Range<usize>> {
    let bounded = |b: Option<&u8>| b.is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_');
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find(&text[at..], id.as_bytes()) {
        let (start, end) = (at + i, at + i + id.len());
        if bounded(start.checked_sub(1).map(|j| &text[j])) && bounded(text.get(end)) {
            out.push(start..end);
        }
        at = end;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
