//! `migfix merge-heads`: the runbook's "merge migration (pure chain node, no
//! DDL)", numbered past every claim and written in the chain's own style.

use anyhow::Result;

use super::write::{finish, Check};
use crate::chains::Chain;
use crate::cli::MergeHeadsArgs;
use crate::config::Config;
use crate::error::ExitStatus;
use crate::error::{Diag, InputErrors, Refused};
use crate::git::Repo;
use crate::graph::Graph;
use crate::repair::merge::Prepared;
use crate::report;

pub(crate) fn run(config: &Config, args: &MergeHeadsArgs) -> Result<ExitStatus> {
    let chains = crate::frameworks::load(config)?;
    let repo = Repo::discover(&config.root);
    let prepared = prepare(config, &chains, args, repo.as_ref())?;
    let status = finish(
        config,
        &prepared.preview,
        &prepared.plan,
        &args.write,
        repo.as_ref(),
        Check::Tree,
    )?;
    if !args.write.dry_run {
        let base = repo
            .as_ref()
            .and_then(|r| r.head())
            .and_then(|h| h.branch)
            .unwrap_or_else(|| "main".into());
        report::follow_ups(config, &prepared.preview.chain, &prepared.stale, &base)?;
    }
    Ok(status)
}

pub(crate) fn prepare(
    config: &Config,
    chains: &[Chain],
    args: &MergeHeadsArgs,
    repo: Option<&Repo>,
) -> Result<Prepared> {
    let chain = pick(chains)?;
    crate::frameworks::of(&chain.spec).merge_heads(config, chain, args, repo)
}

/// The chain to merge: `--chain`, else the only chain with a fork.
fn pick(chains: &[Chain]) -> Result<&Chain> {
    let all: Vec<&Chain> = chains.iter().collect();
    let forked: Vec<&Chain> = all
        .iter()
        .copied()
        .filter(|c| !Graph::build(c).forks().is_empty())
        .collect();
    match (all.as_slice(), forked.as_slice()) {
        (_, [one]) => Ok(one),
        ([], _) => Err(InputErrors::one(Diag::new("merge-heads", None, "no chain here")).into()),
        ([only], []) if Graph::build(only).heads().len() > 1 => Ok(only),
        ([only], []) => {
            let g = Graph::build(only);
            let heads: Vec<String> = g.heads().into_iter().map(|i| g.rev(i).id.clone()).collect();
            Err(Refused::new(format!(
                "{} has a single {} ({}): nothing to merge",
                only.name(),
                only.profile().words.head,
                heads.join(", ")
            ))
            .into())
        }
        (_, []) => Err(Refused::new("every chain has a single head: nothing to merge").into()),
        (_, many) => {
            let names: Vec<&str> = many.iter().map(|c| c.name()).collect();
            Err(InputErrors::one(Diag::new(
                "merge-heads",
                None,
                format!("several chains have several heads: {}", names.join(", ")),
            ))
            .with_help(format!("pick one: migfix --chain {} merge-heads", names[0]))
            .into())
        }
    }
}
