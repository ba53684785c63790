//! A Django rebase: this branch's new migrations moved after the base's
//! leaves, app by app.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::Refused;
use crate::frameworks::django::parse::DepItem;
use crate::frameworks::django::read::{self as dj, DjangoMigration};
use crate::graph::Graph;
use crate::plan::{Builder, Change, Edit, Plan};

use super::numbers::{dj_prefix, next_number, width};

/// `rebase` for a Django project: this branch's new migrations, app by
/// app, renumbered in order past every number the base and other branches
/// use, the first re-pointed at the base's leaf, every reference following.
/// Returns a note, the leaves it leaves, and the project as the base has it.
pub(crate) fn rebase(
    repo: &crate::git::Repo,
    chain: &Chain,
    spec: &super::DjangoSpec,
    (base_name, base): (&str, git2::Oid),
    mb: git2::Oid,
    others: &[(String, git2::Oid)],
    builder: &mut Builder,
) -> Result<Option<(String, String, Chain)>> {
    use std::collections::{BTreeMap, HashSet};
    let before: HashSet<PathBuf> = repo
        .files_at(
            mb,
            &spec.apps.iter().map(|a| a.dir.clone()).collect::<Vec<_>>(),
            false,
            &|n| n.ends_with(".py") && !n.starts_with(".#") && !n.starts_with("__init__"),
        )
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let graph = Graph::build(chain);
    // Parents first, only this branch's new files.
    let added: Vec<usize> = graph
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
    let at_base = super::claims::chain_at(repo, chain, spec, base);
    let bg = Graph::build(&at_base);
    let claims = super::claims::claims_against(repo, &spec.app_dirs(), base, others);
    let mut renames: BTreeMap<(String, String), String> = BTreeMap::new();
    // Dependency names to point at the base's leaf, by file.
    let mut repoints: BTreeMap<PathBuf, Vec<Edit>> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut leaves_after = Vec::new();
    let apps: BTreeSet<&str> = added
        .iter()
        .filter_map(|&i| {
            graph
                .rev(i)
                .detail::<DjangoMigration>()
                .map(|d| d.app.as_str())
        })
        .collect();
    for app in apps {
        let base_leaves: Vec<&DjangoMigration> = bg
            .heads()
            .into_iter()
            .filter_map(|i| bg.rev(i).detail::<DjangoMigration>())
            .filter(|d| d.app == app)
            .collect();
        let base_leaf = match base_leaves.as_slice() {
            [one] => Some(one.name.clone()),
            [] => None,
            many => {
                let names: Vec<&str> = many.iter().map(|d| d.name.as_str()).collect();
                return Err(Refused::new(format!(
                    "app {app} has {} leaf nodes on {base_name} ({}): merge them there first",
                    many.len(),
                    names.join(", ")
                ))
                .help(format!("on {base_name}: migfix --chain {app} merge-heads"))
                .into());
            }
        };
        let mine: Vec<usize> = added
            .iter()
            .copied()
            .filter(|&i| {
                graph
                    .rev(i)
                    .detail::<DjangoMigration>()
                    .is_some_and(|d| d.app == app)
            })
            .collect();
        let mine_names: HashSet<&str> = mine
            .iter()
            .filter_map(|&i| {
                graph
                    .rev(i)
                    .detail::<DjangoMigration>()
                    .map(|d| d.name.as_str())
            })
            .collect();
        let first = next_number(&at_base, app, &claims);
        let mut last = String::new();
        for (next, &i) in (first..).zip(&mine) {
            let d = graph.rev(i).detail::<DjangoMigration>().expect("Django");
            let rest = dj_prefix(&d.name)
                .map_or(format!("_{}", d.name), |p| d.name[p.len()..].to_string());
            let new = format!("{next:0w$}{rest}", w = width(chain));
            if new != d.name {
                renames.insert((app.to_string(), d.name.clone()), new.clone());
            }
            // What the branch built on in its app follows the base's leaf.
            if let Some(leaf) = &base_leaf {
                let edits: Vec<Edit> = d
                    .class
                    .dependencies
                    .items
                    .iter()
                    .filter_map(|it| match it {
                        DepItem::Key { app: a, name }
                            if a.value == app
                                && name.value != "__first__"
                                && name.value != *leaf
                                && !mine_names.contains(name.value.as_str()) =>
                        {
                            Some(Edit::new(name.inner.clone(), leaf.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                if !edits.is_empty() {
                    repoints.insert(graph.rev(i).path.clone(), edits);
                }
            }
            last = new;
        }
        notes.push(format!(
            "{app}: {} migration{} after {}",
            mine.len(),
            if mine.len() == 1 { "" } else { "s" },
            base_leaf
                .as_deref()
                .map_or("its first".to_string(), |l| format!("{app}.{l}"))
        ));
        leaves_after.push(format!("{app}.{last}"));
    }
    if renames.is_empty() && repoints.is_empty() {
        return Ok(None);
    }
    for r in chain.revisions.iter().chain(&chain.replaced) {
        let Some(d) = r.detail::<DjangoMigration>() else {
            continue;
        };
        let mut edits: Vec<Edit> = d
            .references()
            .filter_map(|(a, n)| {
                renames
                    .get(&(a.value.clone(), n.value.clone()))
                    .map(|new| Edit::new(n.inner.clone(), new.clone()))
            })
            .collect();
        edits.extend(repoints.remove(&r.path).unwrap_or_default());
        let rename = renames.get(&(d.app.clone(), d.name.clone()));
        if edits.is_empty() && rename.is_none() {
            continue;
        }
        let src = crate::files::read(&r.path)?;
        if !edits.is_empty() {
            builder.edit(&r.path, &src, edits);
        }
        if let Some(new) = rename {
            builder.rename(&r.path, &src, r.path.with_file_name(format!("{new}.py")));
        }
    }
    Ok(Some((notes.join("; "), leaves_after.join(", "), at_base)))
}

/// The base's project plus this branch's planned files: one leaf per app
/// and nothing dangling, as it will be once the branch is merged. Returns
/// each app's leaves in it.
pub(crate) fn check_against_base(
    config: &Config,
    chain: &Chain,
    spec: &super::DjangoSpec,
    at_base: &Chain,
    plan: &Plan,
) -> Result<Vec<crate::repair::PartAfter>> {
    let mut classes = Vec::new();
    let planned: Vec<(&Change, &crate::frameworks::django::DjangoApp)> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c, spec.app_of(&c.to)?)))
        .collect();
    let gone: Vec<&Path> = planned
        .iter()
        .filter_map(|(c, _)| c.from.as_deref())
        .collect();
    for r in at_base.revisions.iter().chain(&at_base.replaced) {
        if gone.contains(&r.path.as_path()) || planned.iter().any(|(c, _)| c.to == r.path) {
            continue;
        }
        let d = r.detail::<DjangoMigration>().expect("Django");
        classes.push((
            (d.app.clone(), d.name.clone(), r.path.clone()),
            d.class.clone(),
        ));
    }
    for (c, app) in &planned {
        let stem =
            c.to.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
        let class = crate::frameworks::django::parse::read(&c.after)
            .ok()
            .flatten()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the edited {} would not read; nothing was written",
                    rel(&config.root, &c.to)
                )
            })?;
        classes.push(((app.label.clone(), stem, c.to.clone()), class));
    }
    let read = dj::assemble(&config.root, spec, classes);
    let mut merged = Chain::new(chain.spec.clone(), read.revisions, Vec::new(), |c| {
        super::conventions(c)
    });
    merged.replaced = read.replaced;
    let problems = crate::repair::new_problems(at_base, &merged);
    if !problems.is_empty() {
        bail!(
            "the planned rebase would break {} ({}); nothing was written",
            chain.name(),
            problems.join("; ")
        );
    }
    let forks = Graph::build(&merged).forks();
    if let Some((heads, app)) = forks.first() {
        let g = Graph::build(&merged);
        let ids: Vec<&str> = heads.iter().map(|&h| g.rev(h).id.as_str()).collect();
        bail!(
            "the planned rebase would leave app {} with leaves {}; nothing was written",
            app.clone().unwrap_or_default(),
            ids.join(", ")
        );
    }
    Ok(crate::repair::parts_after(&merged, plan))
}
