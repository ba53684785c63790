//! Commands that change the tree. Each builds a [`Plan`] in memory; this
//! module checks it, shows it, asks, and hands it to the applier.

pub(crate) mod merge;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Result;

use crate::chains::Chain;
use crate::config::{rel, Config};
use crate::error::{Diag, InputErrors};
use crate::graph::{Graph, Problem};
use crate::plan::Plan;

pub(crate) use crate::chains::ids::{
    default_id, in_width, next_file_number, next_free, renamed, retokened, taken_by,
};
pub(crate) use crate::outcome::{PartAfter, Preview};

/// Problems the plan would add: dangling pointers, cycles, duplicates or
/// heads that were not there before. Any of them means a bug in the plan.
pub(crate) fn new_problems(before: &Chain, after: &Chain) -> Vec<String> {
    let describe = |c: &Chain| -> BTreeSet<String> {
        let g = Graph::build(c);
        g.problems()
            .into_iter()
            .filter_map(|p| match p {
                Problem::Dangling { rev, target, .. } => {
                    Some(format!("{} points at missing {target}", g.rev(rev).id))
                }
                Problem::Cycle { revs } => Some(format!(
                    "cycle through {}",
                    revs.iter()
                        .map(|&i| g.rev(i).id.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Problem::DuplicateId { id, .. } => Some(format!("{id} declared twice")),
                _ => None,
            })
            .collect()
    };
    let old = describe(before);
    describe(after)
        .into_iter()
        .filter(|p| !old.contains(p))
        .collect()
}

/// Refuses a plan that would touch a file outside the repository, or, for
/// an Alembic chain, outside its versions folders (symlinks resolved): a
/// hostile id, `file_template` or symlinked folder must not write elsewhere.
pub(crate) fn confine(config: &Config, chains: &[&Chain], plan: &Plan) -> Result<()> {
    let folders: Vec<PathBuf> = chains
        .iter()
        .flat_map(|chain| chain.spec.source.folders(&config.root))
        .collect();
    // A folder that resolves outside the repository admits nothing.
    let root = crate::plan::resolved(&config.root);
    let inside: Vec<PathBuf> = folders
        .iter()
        .filter_map(|f| crate::plan::resolved(f))
        .filter(|f| root.as_ref().is_some_and(|r| f.starts_with(r)))
        .collect();
    match crate::plan::outside_of(plan, &inside) {
        None => Ok(()),
        Some(p) => {
            Err(InputErrors::one(Diag::new(
                p.display().to_string(),
                None,
                format!(
                "outside {}: migfix writes only inside the chain's own folders, in the repository",
                folders.iter().map(|f| rel(&config.root, f)).collect::<Vec<_>>().join(", ")
            ),
            ))
            .into())
        }
    }
}

/// Every part's heads in `after`, the chain as `plan` leaves it, and
/// whether the plan changes one of the part's revisions; empty unless the
/// chain's heads count per part. The `after:` line summarises the parts
/// and names only the touched ones and those without exactly one head, so
/// that a project of many apps does not read as many heads.
pub(crate) fn parts_after(after: &Chain, plan: &Plan) -> Vec<PartAfter> {
    if !after.profile().rules.bases_per_label {
        return Vec::new();
    }
    let changed: BTreeSet<&std::path::Path> = plan.changes.iter().map(|c| c.to.as_path()).collect();
    let mut parts: BTreeMap<&str, PartAfter> = BTreeMap::new();
    for r in &after.revisions {
        let Some(p) = &r.part else { continue };
        let entry = parts.entry(&p.label).or_insert_with(|| PartAfter {
            part: p.label.clone(),
            heads: Vec::new(),
            names: Vec::new(),
            touched: false,
        });
        entry.touched |= changed.contains(r.path.as_path());
    }
    let g = Graph::build(after);
    let mut heads: Vec<&crate::chains::Revision> =
        g.heads().into_iter().map(|h| g.rev(h)).collect();
    heads.sort_by(|a, b| a.id.cmp(&b.id));
    for r in heads {
        let Some(p) = &r.part else { continue };
        if let Some(entry) = parts.get_mut(p.label.as_str()) {
            entry.heads.push(r.id.clone());
            entry.names.push(p.name.clone());
        }
    }
    parts.into_values().collect()
}

/// Of `names`, up to five nearest to `target`: closest spelling first (a
/// transposition counts as one edit), then the numerically closest.
pub(crate) fn nearest<'n>(target: &str, names: impl Iterator<Item = &'n str>) -> Vec<String> {
    let number = |s: &str| {
        let name = s.rsplit(['.', ':']).next().unwrap_or(s);
        crate::chains::scheme::number_prefix(name)
            .unwrap_or(name)
            .parse::<i64>()
            .ok()
    };
    let mut near: Vec<(usize, i64, &str)> = names
        .map(|n| {
            let gap = number(target)
                .zip(number(n))
                .map_or(0, |(a, b)| (a - b).abs());
            (strsim::osa_distance(target, n), gap, n)
        })
        .collect();
    near.sort();
    near.dedup();
    near.into_iter()
        .take(5)
        .map(|(_, _, n)| n.to_string())
        .collect()
}

/// `repoint OLD --drop` where a reference cannot be lost: `what` would no
/// longer say where it belongs.
pub(crate) fn drop_refused(old: &str, what: &str) -> InputErrors {
    InputErrors::one(Diag::new(
        old,
        None,
        format!(
            "--drop takes an Alembic depends_on entry out; {what} on {old} is re-pointed instead"
        ),
    ))
    .with_help(format!(
        "migfix repoint {old} NEW (`migfix check` offers NEW)"
    ))
}

/// The input error of a re-point whose NEW does not exist: what is
/// nearby, in `what` (the chain or project).
pub(crate) fn missing_new(new: &str, noun: &str, what: &str, near: &[String]) -> InputErrors {
    InputErrors::one(Diag::new(
        new,
        None,
        format!(
            "no {noun} {new} in {what}; nearest: {}",
            if near.is_empty() {
                "none".to_string()
            } else {
                near.join(", ")
            }
        ),
    ))
    .with_help("re-point the references at an existing one: migfix repoint OLD NEW")
}
