//! Alembic's revisions on other branches: numbers claimed twice, and
//! branches built on an old head.

use std::collections::BTreeSet;
use std::path::PathBuf;

use git2::Oid;

use super::read::counts;
use crate::chains::Chain;
use crate::git::{Claim, Repo};
use crate::graph::id_order;
use crate::graph::Graph;
use crate::outcome::{record_collisions, Analysis, Stale};
use crate::python::{self, Assigned, PyValue};

/// Revision files (Alembic's rule) of version directories in a commit,
/// as (path relative to the work tree, blob id).
pub(crate) fn revision_files_at(
    repo: &Repo,
    commit: Oid,
    versions: &[PathBuf],
    recursive: bool,
) -> Vec<(PathBuf, Oid)> {
    repo.files_at(commit, versions, recursive, &counts)
}

/// The revisions that other branches add in these version directories:
/// for the next free number of renumber and merge-heads.
pub(crate) fn from_head(repo: &Repo, versions: &[PathBuf], recursive: bool) -> Vec<Claim> {
    let Some(head) = repo.head_commit() else {
        return Vec::new();
    };
    claims_against(repo, versions, recursive, head, &repo.other_branches())
}

/// The one claim scan: for each branch, the revision files it adds since
/// its merge-base with `base` (new paths), read from its tree without a
/// checkout; a file the base has at the same path is not a claim.
pub(crate) fn claims_against(
    repo: &Repo,
    versions: &[PathBuf],
    recursive: bool,
    base: Oid,
    branches: &[(String, Oid)],
) -> Vec<Claim> {
    repo.claims_by(versions, recursive, base, branches, counts, |_, bytes| {
        let consts = python::read(bytes).ok()?;
        let id = match consts.revision? {
            Assigned {
                value: PyValue::Str(s),
                ..
            } => s.value,
            _ => return None,
        };
        let down = consts
            .down_revision
            .and_then(|d| d.value.ids())
            .unwrap_or_default();
        Some((id, down))
    })
}

/// The chain as the base has it, read from the base's tree.
pub(crate) fn chain_at(
    repo: &Repo,
    chain: &Chain,
    versions: &[PathBuf],
    recursive: bool,
    commit: Oid,
) -> Chain {
    let mut at = chain.clone();
    at.warnings.clear();
    at.revisions = revision_files_at(repo, commit, versions, recursive)
        .into_iter()
        .filter_map(|(path, oid)| {
            let consts = crate::python::read(&repo.blob(oid)?).ok()?;
            let abs = repo.workdir().join(&path);
            super::read::to_revision(&path.to_string_lossy(), &abs, consts)
                .ok()
                .map(|(r, _)| r)
        })
        .collect();
    at
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn collisions(
    repo: &Repo,
    chain: &Chain,
    versions: &[PathBuf],
    recursive: bool,
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
    a: &mut Analysis,
) {
    let name = chain.name().to_string();
    let at_base = chain_at(repo, chain, versions, recursive, base);
    let graph = Graph::build(&at_base);
    let mut heads: Vec<String> = graph
        .heads()
        .into_iter()
        .map(|i| graph.rev(i).id.clone())
        .collect();
    heads.sort_by(|x, y| id_order(x, y));
    heads.dedup();
    let claims = claims_against(repo, versions, recursive, base, branches);
    record_collisions(
        repo,
        &name,
        base_name,
        &at_base.revisions,
        &claims,
        |id| Some(id.to_string()),
        a,
    );
    let should = match heads.as_slice() {
        [one] => one.clone(),
        many => format!(
            "a merge of {} (run `migfix merge-heads` on {base_name} first)",
            many.join(", ")
        ),
    };
    for c in &claims {
        let own: BTreeSet<&str> = claims
            .iter()
            .filter(|o| o.branch == c.branch)
            .map(|o| o.id.as_str())
            .collect();
        let attaches: Vec<&String> = c
            .down
            .iter()
            .filter(|d| !own.contains(d.as_str()))
            .collect();
        if !attaches.is_empty() && (heads.len() != 1 || attaches.iter().any(|d| **d != heads[0])) {
            a.stale.push(Stale {
                chain: name.clone(),
                branch: c.branch.clone(),
                revision: c.id.clone(),
                path: c.path.clone(),
                down_revisions: c.down.clone(),
                should: should.clone(),
            });
        }
    }
    a.base_heads.insert(name.clone(), heads);
    let mut all = at_base.clone();
    all.revisions.extend(chain.revisions.iter().cloned());
    if let Some(next) = crate::repair::next_free(&all, &claims) {
        a.next_free.insert(name, next);
    }
}
