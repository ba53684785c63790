//! sqitch's changes on other branches: sequence numbers claimed twice,
//! and branches built on an old last change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use git2::Oid;

use super::plan::Plan;
use crate::chains::scheme::number_prefix;
use crate::chains::Chain;
use crate::git::Repo;
use crate::outcome::{Analysis, Claimant, Collision, Stale};

pub(crate) fn collisions(
    repo: &Repo,
    chain: &Chain,
    plan_path: &Path,
    base_name: &str,
    base: Oid,
    branches: &[(String, Oid)],
    a: &mut Analysis,
) {
    let name = chain.name().to_string();
    let Some(rel) = repo.rel(plan_path) else {
        return;
    };
    let plan_at = |commit: Oid| -> Vec<String> {
        repo.file_at(commit, &rel)
            .and_then(|b| String::from_utf8(b).ok())
            .map(|t| {
                Plan::parse(&t)
                    .changes()
                    .map(|(_, e)| e.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let shown = rel.to_string_lossy().into_owned();
    let base_names = plan_at(base);
    let key = |n: &str| number_prefix(n).map_or_else(|| n.to_string(), str::to_string);
    let mut by_key: BTreeMap<String, Vec<(Claimant, String)>> = BTreeMap::new();
    for n in &base_names {
        by_key.entry(key(n)).or_default().push((
            Claimant {
                branch: base_name.to_string(),
                path: shown.clone(),
            },
            n.clone(),
        ));
    }
    let mut widest = 2;
    let mut max = base_names
        .iter()
        .filter_map(|n| number_prefix(n))
        .filter_map(|p| p.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    for (branch, commit) in branches {
        let Some(mb) = repo.merge_base(*commit, base) else {
            continue;
        };
        if mb == *commit {
            continue;
        }
        let before: BTreeSet<String> = plan_at(mb).into_iter().collect();
        let added: Vec<String> = plan_at(*commit)
            .into_iter()
            .filter(|n| !before.contains(n) && !base_names.contains(n))
            .collect();
        let base_moved = base_names.iter().any(|n| !before.contains(n));
        for n in &added {
            if let Some(p) = number_prefix(n) {
                widest = widest.max(p.len());
                max = max.max(p.parse().unwrap_or(0));
            }
            by_key.entry(key(n)).or_default().push((
                Claimant {
                    branch: branch.clone(),
                    path: shown.clone(),
                },
                n.clone(),
            ));
        }
        if base_moved {
            if let Some(first) = added.first() {
                a.stale.push(Stale {
                    chain: name.clone(),
                    branch: branch.clone(),
                    revision: first.clone(),
                    path: shown.clone(),
                    down_revisions: Vec::new(),
                    should: format!("after {}", base_names.last().cloned().unwrap_or_default()),
                });
            }
        }
    }
    for (k, claimants) in by_key {
        let branches: BTreeSet<&str> = claimants.iter().map(|(c, _)| c.branch.as_str()).collect();
        let names: BTreeSet<&str> = claimants.iter().map(|(_, n)| n.as_str()).collect();
        if branches.len() > 1
            && (names.len() > 1
                || claimants.len() > branches.len()
                || claimants
                    .iter()
                    .filter(|(c, _)| c.branch != base_name)
                    .count()
                    > 1)
        {
            a.collisions.push(Collision {
                chain: name.clone(),
                id: k,
                claims: claimants
                    .into_iter()
                    .map(|(c, n)| Claimant {
                        path: format!("{} ({n})", c.path),
                        ..c
                    })
                    .collect(),
            });
        }
    }
    let width = chain.scheme.width().unwrap_or(widest);
    a.next_free.insert(name, format!("{:0width$}", max + 1));
}
