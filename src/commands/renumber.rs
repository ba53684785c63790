//! `migfix renumber`: the runbooks' "rename + update internals", done with
//! byte-exact edits of the id tokens only.

use anyhow::{bail, Result};

use super::write::repair;
use crate::chains::Chain;
use crate::cli::RenumberArgs;
use crate::config::{rel, Config};
use crate::error::ExitStatus;
use crate::error::{Diag, InputErrors};
use crate::git::Repo;
use crate::plan::Plan;
use crate::repair::Preview;

pub(crate) fn run(config: &Config, args: &RenumberArgs) -> Result<ExitStatus> {
    repair(config, &args.write, |chains, every, repo| {
        prepare(config, chains, every, args, repo)
    })
}

/// The renumber as a plan, checked, not yet shown or applied: the revision
/// is one of `among` (what `--chain` selected); `every` chain of the
/// repository is read for references to it.
pub(crate) fn prepare(
    config: &Config,
    among: &[Chain],
    every: &[Chain],
    args: &RenumberArgs,
    repo: Option<&Repo>,
) -> Result<(Preview, Plan)> {
    let (chain, idx) = select(config, among, &args.target, args.name.as_deref())?;
    crate::frameworks::of(&chain.spec).renumber(config, every, chain, idx, args, repo)
}

/// REV, PATH or numeric prefix → the chain and the revision's index.
/// REV, PATH or another name the chain's framework knows (a sqitch
/// sequence number, Django's `APP NAME`) → the chain and the revision.
fn select<'c>(
    config: &Config,
    chains: &'c [Chain],
    target: &str,
    name: Option<&str>,
) -> Result<(&'c Chain, usize)> {
    let as_path = config.root.join(target);
    let cwd_path = std::env::current_dir()
        .map(|d| d.join(target))
        .unwrap_or_default();
    for candidate in [cwd_path, as_path] {
        if candidate.is_file() {
            let wanted = candidate.canonicalize()?;
            for chain in chains {
                if let Some(i) = chain
                    .revisions
                    .iter()
                    .position(|r| r.path.canonicalize().is_ok_and(|p| p == wanted))
                {
                    return Ok((chain, i));
                }
            }
            bail!(InputErrors::one(Diag::new(
                target,
                None,
                format!("this file is not a {} of any chain", noun(chains))
            )));
        }
    }
    let mut hits: Vec<(&Chain, usize)> = Vec::new();
    if name.is_none() {
        for chain in chains {
            for (i, r) in chain.revisions.iter().enumerate() {
                if r.id == target && chain.in_focus(r) {
                    hits.push((chain, i));
                }
            }
        }
    }
    if hits.is_empty() {
        for chain in chains {
            hits.extend(
                crate::frameworks::of(&chain.spec)
                    .find(chain, target, name)
                    .into_iter()
                    .map(|i| (chain, i)),
            );
        }
    }
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => {
            // Closest spelling first (a transposition counts as one edit),
            // then the numerically closest.
            let number = |s: &str| s.parse::<i64>().ok();
            let mut near: Vec<(usize, i64, &str)> = chains
                .iter()
                .flat_map(|c| c.revisions.iter())
                .map(|r| {
                    let gap = number(target)
                        .zip(number(&r.id))
                        .map_or(0, |(a, b)| (a - b).abs());
                    (strsim::osa_distance(target, &r.id), gap, r.id.as_str())
                })
                .collect();
            near.sort();
            near.dedup();
            let list: Vec<&str> = near.iter().take(5).map(|(_, _, id)| *id).collect();
            bail!(InputErrors::one(Diag::new(
                target,
                None,
                format!(
                    "no {} with this id; nearest: {}",
                    noun(chains),
                    if list.is_empty() {
                        "none".into()
                    } else {
                        list.join(", ")
                    }
                ),
            )))
        }
        many => {
            let same_chain = many.iter().all(|(c, _)| c.name() == many[0].0.name());
            if same_chain {
                let files: Vec<String> = many
                    .iter()
                    .map(|(c, i)| rel(&config.root, &c.revisions[*i].path))
                    .collect();
                bail!(InputErrors::one(Diag::new(
                    target,
                    None,
                    format!(
                        "{} files declare this id: {}",
                        files.len(),
                        files.join(", ")
                    )
                ))
                .with_help({
                    let paths: Vec<_> = many.iter().map(|(c, i)| c.revisions[*i].path.clone()).collect();
                    let (n, basis) = crate::findings::merged_later(&config.root, &paths);
                    format!(
                        "name the file to renumber, as a rule the one merged later ({basis}): migfix renumber {}",
                        files[n]
                    )
                }))
            }
            let names: Vec<&str> = many.iter().map(|(c, _)| c.name()).collect();
            bail!(InputErrors::one(Diag::new(
                target,
                None,
                format!("this id is in several chains: {}", names.join(", "))
            ))
            .with_help(format!(
                "pick one: migfix --chain {} renumber {target}",
                names[0]
            )))
        }
    }
}

/// What the chains call a revision, where they agree (a migration).
fn noun(chains: &[Chain]) -> &'static str {
    let words = |c: &Chain| c.profile().words.one;
    match chains.first().map(words) {
        Some(one) if chains.iter().all(|c| words(c) == one) => one,
        _ => "revision",
    }
}
