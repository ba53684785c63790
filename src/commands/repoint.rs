//! `migfix repoint OLD NEW`: every reference to OLD, which no revision
//! declares, made to name NEW, which must exist. Each chain's framework
//! finds the references and edits their tokens only; the write goes
//! through the same flow as every repair.

use anyhow::Result;

use super::write::{finish, Check};
use crate::chains::Chain;
use crate::cli::RepointArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, ExitStatus, InputErrors};
use crate::git::Repo;
use crate::plan::Plan;
use crate::repair::Preview;

pub(crate) fn run(config: &Config, args: &RepointArgs) -> Result<ExitStatus> {
    let (chains, every) = crate::frameworks::load_every(config)?;
    let repo = Repo::discover(&config.root);
    let (preview, plan) = prepare(config, &chains, &every, &args.old, &args.new)?;
    finish(
        config,
        &preview,
        &plan,
        &args.write,
        repo.as_ref(),
        Check::Tree,
    )
}

/// The re-point as a plan, checked, not yet shown or applied: of the
/// chains `among` (what `--chain` selected), the one whose files name
/// `old`; `every` chain of the repository is there for references from one
/// to another.
pub(crate) fn prepare(
    config: &Config,
    among: &[Chain],
    every: &[Chain],
    old: &str,
    new: &str,
) -> Result<(Preview, Plan)> {
    if old == new {
        return Err(
            InputErrors::one(Diag::new(new, None, "NEW is OLD: nothing to re-point")).into(),
        );
    }
    let mut found: Vec<(&Chain, Preview, Plan)> = Vec::new();
    for chain in among {
        let framework = crate::frameworks::of(&chain.spec);
        if let Some((preview, plan)) = framework.repoint(config, every, chain, old, new)? {
            // Chains that read one file (a plan's engines) plan one edit.
            if !found.iter().any(|(_, _, p)| same_changes(p, &plan)) {
                found.push((chain, preview, plan));
            }
        }
    }
    match found.len() {
        1 => {
            let (_, preview, plan) = found.pop().expect("one");
            Ok((preview, plan))
        }
        0 => Err(InputErrors::one(Diag::new(
            old,
            None,
            format!(
                "no reference to {old} in {}",
                match among {
                    [one] => one.name().to_string(),
                    _ => "any chain".to_string(),
                }
            ),
        ))
        .with_help("`migfix check` lists each reference to a missing revision, with its command")
        .into()),
        _ => {
            let names: Vec<&str> = found.iter().map(|(c, _, _)| c.name()).collect();
            let files: Vec<String> = found
                .iter()
                .flat_map(|(_, _, p)| p.changes.iter().map(|c| rel(&config.root, &c.to)))
                .collect();
            Err(InputErrors::one(Diag::new(
                old,
                None,
                format!(
                    "several chains name {old}: {} (in {})",
                    names.join(", "),
                    files.join(", ")
                ),
            ))
            .with_help(format!(
                "pick one: migfix --chain {} repoint {old} {new}",
                names[0]
            ))
            .into())
        }
    }
}

/// Whether two plans change the same files the same way.
fn same_changes(a: &Plan, b: &Plan) -> bool {
    a.changes.len() == b.changes.len()
        && a.changes
            .iter()
            .zip(&b.changes)
            .all(|(x, y)| x.to == y.to && x.from == y.from && x.after == y.after)
}
