//! Alembic's rebase: this branch's new revisions moved after the base's
//! head, renumbered past every claim.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::claims::{chain_at, claims_against};
use crate::chains::scheme::is_number_of;
use crate::chains::{Chain, Scheme};
use crate::config::Config;
use crate::error::{Diag, InputErrors, Refused};
use crate::git::Repo;
use crate::graph::Graph;
use crate::plan::{Builder, Edit};
use crate::python::{ModuleConsts, PyValue};
use crate::repair::{new_problems, next_file_number, next_free, renamed};

/// The base's chain plus this branch's planned files must have one head and
/// nothing dangling: what the chain will be once the branch is merged.
pub(crate) fn check_against_base(
    config: &Config,
    chain: &Chain,
    at_base: &Chain,
    plan: &crate::plan::Plan,
) -> Result<()> {
    let spec = super::spec_of(&chain.spec);
    let mut merged = at_base.clone();
    for change in plan
        .changes
        .iter()
        .filter(|c| spec.versions.iter().any(|v| c.to.starts_with(v)))
    {
        let consts = crate::python::read_full(&change.after).map_err(|e| {
            anyhow::anyhow!(
                "the edited {} would not parse ({e}); nothing was written",
                change.to.display()
            )
        })?;
        let shown = crate::config::rel(&config.root, &change.to);
        let (rev, _) = super::read::to_revision(&shown, &change.to, consts)
            .map_err(|d| anyhow::anyhow!("{d}"))?;
        merged.revisions.push(rev);
    }
    let problems = new_problems(at_base, &merged);
    if !problems.is_empty() {
        bail!(
            "the planned rebase would break {} ({}); nothing was written",
            chain.name(),
            problems.join("; ")
        );
    }
    let g = Graph::build(&merged);
    if !g.forks().is_empty() || g.heads().len() != Graph::build(at_base).heads().len() {
        let heads: Vec<&str> = g
            .heads()
            .into_iter()
            .map(|i| g.rev(i).id.as_str())
            .collect();
        bail!(
            "the planned rebase would leave {} with heads {}; nothing was written",
            chain.name(),
            heads.join(", ")
        );
    }
    Ok(())
}

/// One Alembic chain: the branch's new revisions, renumbered in order past
/// every claim, the first pointing at the base's head. Returns a note, the
/// head it leaves, and the base's chain (to check the plan against).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rebase(
    repo: &Repo,
    chain: &Chain,
    versions: &[PathBuf],
    recursive: bool,
    (base_name, base): (&str, git2::Oid),
    mb: git2::Oid,
    others: &[(String, git2::Oid)],
    builder: &mut Builder,
) -> Result<Option<(String, String, Chain)>> {
    let before: HashSet<PathBuf> = super::claims::revision_files_at(repo, mb, versions, recursive)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let graph = Graph::build(chain);
    // Parents first.
    let mut added: Vec<usize> = graph
        .newest_first()
        .into_iter()
        .rev()
        .filter(|&i| {
            repo.rel(&graph.rev(i).path)
                .is_some_and(|p| !before.contains(&p))
        })
        .collect();
    if added.is_empty() {
        return Ok(None);
    }
    added.dedup();
    let at_base = chain_at(repo, chain, versions, recursive, base);
    let base_graph = Graph::build(&at_base);
    let base_heads: Vec<String> = base_graph
        .heads()
        .into_iter()
        .map(|i| base_graph.rev(i).id.clone())
        .collect();
    let added_ids: HashSet<&str> = added.iter().map(|&i| graph.rev(i).id.as_str()).collect();
    let base_head = match base_heads.as_slice() {
        [one] => one.clone(),
        [] => bail!(InputErrors::one(Diag::new(
            base_name,
            None,
            format!("{} has no revisions on {base_name}", chain.name())
        ))),
        many => {
            // Heads on labelled branches of their own: the one that follows
            // what this branch built on.
            let built_on: Vec<usize> = added
                .iter()
                .flat_map(|&i| graph.rev(i).down.iter())
                .filter(|d| !added_ids.contains(d.as_str()))
                .filter_map(|d| base_graph.resolve(d))
                .collect();
            let following: Vec<String> = base_graph
                .heads()
                .into_iter()
                .filter(|&h| {
                    built_on
                        .iter()
                        .any(|&p| p == h || base_graph.descendants(p).contains(&h))
                })
                .map(|h| base_graph.rev(h).id.clone())
                .collect();
            match following.as_slice() {
                [one] if base_graph.forks().is_empty() => one.clone(),
                _ => {
                    return Err(Refused::new(format!(
                        "{base_name} has {} heads in {} ({}): merge them there first",
                        many.len(),
                        chain.name(),
                        many.join(", ")
                    ))
                    .help(format!(
                        "on {base_name}: migfix --chain {} merge-heads",
                        chain.name()
                    ))
                    .into())
                }
            }
        }
    };
    if added.iter().all(|&i| {
        graph
            .rev(i)
            .down
            .iter()
            .all(|d| added_ids.contains(d.as_str()) || *d == base_head)
    }) {
        return Ok(None);
    }

    // Numbers in use: the base's, every other branch's new ones, and ours
    // that stay.
    let claims = claims_against(repo, versions, recursive, base, others);
    let mut taken = at_base.clone();
    taken.revisions.extend(
        chain
            .revisions
            .iter()
            .enumerate()
            .filter(|(i, _)| !added.contains(i))
            .map(|(_, r)| r.clone()),
    );
    // Only numbers are renumbered: a hash id is unique wherever it goes.
    let numbered = |id: &str| match chain.scheme {
        Scheme::Sequential { width } | Scheme::Mixed { width } => is_number_of(id, width),
        Scheme::Hash | Scheme::Named => false,
    };
    let mut mapping: BTreeMap<String, String> = BTreeMap::new();
    let mut new_paths: BTreeMap<String, PathBuf> = BTreeMap::new();
    for &i in &added {
        let rev = graph.rev(i);
        let old = rev.id.clone();
        let new = if numbered(&old) {
            next_free(&taken, &claims).unwrap_or_else(|| old.clone())
        } else {
            old.clone()
        };
        let number = next_file_number(&taken, &claims);
        let mut r = rev.clone();
        if let Some(path) = renamed(chain, rev, &new, number) {
            r.path = path.clone();
            new_paths.insert(old.clone(), path);
        }
        r.id = new.clone();
        taken.revisions.push(r);
        mapping.insert(old, new);
    }
    let point = |d: &String| mapping.get(d).cloned().unwrap_or_else(|| base_head.clone());
    for &i in &added {
        let rev = graph.rev(i);
        let src = crate::files::read(&rev.path)
            .with_context(|| format!("reading {}", rev.path.display()))?;
        let consts = rev
            .consts
            .as_ref()
            .expect("Alembic revisions carry their constants");
        let new_id = &mapping[&rev.id];
        let mut down: Vec<String> = rev.down.iter().map(point).collect();
        down.dedup();
        builder.edit(
            &rev.path,
            &src,
            edits(&src, consts, &rev.id, new_id, &rev.down, &down, &mapping),
        );
        if let Some(path) = new_paths.get(&rev.id) {
            builder.rename(&rev.path, &src, path.clone());
        }
    }
    let moved: Vec<String> = added
        .iter()
        .map(|&i| {
            let old = &graph.rev(i).id;
            if mapping[old] == *old {
                old.clone()
            } else {
                format!("{old} -> {}", mapping[old])
            }
        })
        .collect();
    let last = mapping[&graph.rev(*added.last().expect("non-empty")).id].clone();
    Ok(Some((
        format!("{} onto {base_head}", moved.join(", ")),
        last,
        at_base,
    )))
}

/// Edits in one of the branch's files: its id, its parents (mapped, or the
/// base head), its docstring header and `depends_on` among the moved ones.
fn edits(
    src: &[u8],
    consts: &ModuleConsts,
    old: &str,
    new: &str,
    old_down: &[String],
    new_down: &[String],
    mapping: &BTreeMap<String, String>,
) -> Vec<Edit> {
    let mut out = Vec::new();
    let header = crate::python::header_spans(src, consts);
    if old != new {
        if let Some(lit) = consts
            .revision
            .as_ref()
            .and_then(|a| a.value.literals().first())
        {
            out.push(Edit::new(lit.inner.clone(), new));
        }
        if let Some(span) = &header.revision_id {
            if &src[span.clone()] == old.as_bytes() {
                out.push(Edit::new(span.clone(), new));
            }
        }
    }
    if old_down != new_down {
        if let Some(down) = &consts.down_revision {
            let lits = down.value.literals();
            if lits.len() == new_down.len() && !lits.is_empty() {
                for (lit, d) in lits.iter().zip(new_down) {
                    if lit.value != *d {
                        out.push(Edit::new(lit.inner.clone(), d.clone()));
                    }
                }
            } else {
                let q = lits
                    .first()
                    .and_then(|l| l.inner.start.checked_sub(1))
                    .map_or('"', |at| src[at] as char);
                let text = match new_down {
                    [one] => format!("{q}{one}{q}"),
                    many => format!(
                        "({})",
                        many.iter()
                            .map(|d| format!("{q}{d}{q}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                out.push(Edit::new(down.value_span.clone(), text));
            }
        }
        if let Some(span) = &header.revises {
            if src[span.clone()] == *old_down.join(", ").as_bytes() {
                out.push(Edit::new(span.clone(), new_down.join(", ")));
            }
        }
    }
    if let Some(dep) = &consts.depends_on {
        if let PyValue::Str(_) | PyValue::Seq { .. } = dep.value {
            for lit in dep.value.literals() {
                if let Some(n) = mapping.get(&lit.value).filter(|n| **n != lit.value) {
                    out.push(Edit::new(lit.inner.clone(), n.clone()));
                }
            }
        }
    }
    out
}
