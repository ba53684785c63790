//! Django's migrations on other branches: numbers claimed twice per app,
//! and branches built on an old leaf.

use std::collections::BTreeSet;
use std::path::PathBuf;

use git2::Oid;

use crate::chains::Chain;
use crate::git::{Claim, Repo};
use crate::graph::Graph;
use crate::outcome::{record_collisions, Analysis, Stale};

/// [`Repo::claims_against`] of every other branch against HEAD.
pub(crate) fn from_head(repo: &Repo, apps: &[(String, PathBuf)]) -> Vec<Claim> {
    let Some(head) = repo.head_commit() else {
        return Vec::new();
    };
    claims_against(repo, apps, head, &repo.other_branches())
}

/// Claims on a Django project's branches: each app's new migrations,
/// as `app.name`, with their parents in the same app.
pub(crate) fn claims_against(
    repo: &Repo,
    apps: &[(String, PathBuf)],
    base: Oid,
    branches: &[(String, Oid)],
) -> Vec<Claim> {
    // One scan of every app's folder; a file's folder gives its app.
    let dirs: Vec<PathBuf> = apps.iter().map(|(_, d)| d.clone()).collect();
    let labels: Vec<(PathBuf, &str)> = apps
        .iter()
        .filter_map(|(l, d)| Some((repo.rel(d)?, l.as_str())))
        .collect();
    repo.claims_by(
        &dirs,
        false,
        base,
        branches,
        |name| {
            name.strip_suffix(".py").is_some_and(|s| {
                s != "__init__" && crate::frameworks::django::parse::skipped(s).is_none()
            })
        },
        |path, bytes| {
            let label = labels
                .iter()
                .find(|(d, _)| Some(d.as_path()) == path.parent())?
                .1;
            let class = crate::frameworks::django::parse::read(bytes).ok()??;
            let stem = path.file_stem()?.to_str()?;
            let down = class
                .dependencies
                .items
                .iter()
                .filter_map(|i| match i {
                    crate::frameworks::django::parse::DepItem::Key { app, name }
                        if app.value == label =>
                    {
                        Some(format!("{}.{}", app.value, name.value))
                    }
                    _ => None,
                })
                .collect();
            Some((format!("{label}.{stem}"), down))
        },
    )
}

/// A Django project as a commit has it, read from its tree.
pub(crate) fn chain_at(repo: &Repo, chain: &Chain, spec: &super::DjangoSpec, commit: Oid) -> Chain {
    let mut classes = Vec::new();
    for app in &spec.apps {
        for (path, oid) in repo.files_at(commit, std::slice::from_ref(&app.dir), false, &|n| {
            n.ends_with(".py") && !n.starts_with(".#") && !n.starts_with("__init__")
        }) {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if crate::frameworks::django::read::skipped(stem).is_some() {
                continue;
            }
            let Some(class) = repo
                .blob(oid)
                .and_then(|b| crate::frameworks::django::parse::read(&b).ok().flatten())
            else {
                continue;
            };
            classes.push((
                (
                    app.label.clone(),
                    stem.to_string(),
                    repo.workdir().join(&path),
                ),
                class,
            ));
        }
    }
    let read = super::read::assemble(repo.workdir(), spec, classes);
    let mut at = Chain::new(chain.spec.clone(), read.revisions, Vec::new(), |c| {
        super::conventions(c)
    });
    at.replaced = read.replaced;
    at
}

/// Numbers claimed per app across branches, and branches that add to an
/// app on a migration that is not its leaf on the base.
pub(crate) fn collisions(
    repo: &Repo,
    chain: &Chain,
    spec: &super::DjangoSpec,
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
    a: &mut Analysis,
) {
    let name = chain.name().to_string();
    let at_base = chain_at(repo, chain, spec, base);
    let graph = Graph::build(&at_base);
    let leaves: Vec<String> = graph
        .heads()
        .into_iter()
        .map(|i| graph.rev(i).id.clone())
        .collect();
    let claims = claims_against(repo, &spec.app_dirs(), base, branches);
    // A number of an app, squashes counted as Django counts them.
    let number_key = |id: &str| -> Option<String> {
        let (app, m) = id.split_once('.')?;
        Some(format!("{app}.{:04}", super::numbers::parse_number(m)?))
    };
    let base_revs = at_base.revisions.iter().chain(&at_base.replaced);
    record_collisions(repo, &name, base_name, base_revs, &claims, number_key, a);
    for c in &claims {
        let app = c.id.split('.').next().unwrap_or_default();
        let own: BTreeSet<&str> = claims
            .iter()
            .filter(|o| o.branch == c.branch)
            .map(|o| o.id.as_str())
            .collect();
        let app_leaves: Vec<&String> = leaves
            .iter()
            .filter(|l| l.split('.').next() == Some(app))
            .collect();
        let attaches: Vec<&String> = c
            .down
            .iter()
            .filter(|d| !own.contains(d.as_str()))
            .collect();
        if !attaches.is_empty()
            && (app_leaves.len() != 1 || attaches.iter().any(|d| *d != app_leaves[0]))
        {
            a.stale.push(Stale {
                chain: name.clone(),
                branch: c.branch.clone(),
                revision: c.id.clone(),
                path: c.path.clone(),
                down_revisions: c.down.clone(),
                should: match app_leaves.as_slice() {
                    [one] => one.to_string(),
                    _ => format!("a merge of app {app}'s leaves (run `migfix --chain {app} merge-heads` on {base_name} first)"),
                },
            });
        }
    }
    a.base_heads.insert(name.clone(), leaves);
    let mut apps: Vec<&str> = a
        .collisions
        .iter()
        .filter(|c| c.chain == name)
        .filter_map(|c| c.id.split('.').next())
        .collect();
    apps.dedup();
    if !apps.is_empty() {
        let mut all = at_base;
        all.revisions.extend(chain.revisions.iter().cloned());
        let next: Vec<String> = apps
            .iter()
            .map(|app| {
                format!(
                    "{app}.{:04}",
                    super::numbers::next_number(&all, app, &claims)
                )
            })
            .collect();
        a.next_free.insert(name, next.join(", "));
    }
}
