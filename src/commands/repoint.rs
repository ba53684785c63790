//! `migfix repoint OLD NEW`: every reference to OLD, which no revision
//! declares, made to name NEW, which must exist. Each chain's framework
//! finds the references and edits their tokens only; the write goes
//! through the same flow as every repair.

use anyhow::Result;

use super::write::repair;
use crate::chains::Chain;
use crate::cli::RepointArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, ExitStatus, InputErrors};
use crate::plan::Plan;
use crate::repair::Preview;

pub(crate) fn run(config: &Config, args: &RepointArgs) -> Result<ExitStatus> {
    repair(config, &args.write, |chains, every, _| {
        prepare(config, chains, every, &args.old, args.new.as_deref())
    })
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
    new: Option<&str>,
) -> Result<(Preview, Plan)> {
    if Some(old) == new {
        return Err(
            InputErrors::one(Diag::new(old, None, "NEW is OLD: nothing to re-point")).into(),
        );
    }
    one_chain(
        config,
        among,
        old,
        |chain| crate::frameworks::of(&chain.spec).repoint(config, every, chain, old, new),
        format!("no reference to {old} in"),
        "`migfix check` lists each reference to a missing revision, with its command",
        |chain| {
            format!(
                "migfix --chain {chain} repoint {old} {}",
                new.unwrap_or("--drop")
            )
        },
    )
}

/// Of the chains `among`, the one repair `plan` finds something to do in:
/// none is an error (`nothing` names where it looked), and so are several
/// (`again` is the command for one of them). Chains that read one file (a
/// plan's engines) plan one edit.
pub(crate) fn one_chain(
    config: &Config,
    among: &[Chain],
    subject: &str,
    plan: impl Fn(&Chain) -> Result<Option<(Preview, Plan)>>,
    nothing: String,
    help: &str,
    again: impl Fn(&str) -> String,
) -> Result<(Preview, Plan)> {
    let mut found: Vec<(&Chain, Preview, Plan)> = Vec::new();
    for chain in among {
        if let Some((preview, planned)) = plan(chain)? {
            if !found.iter().any(|(_, _, p)| same_changes(p, &planned)) {
                found.push((chain, preview, planned));
            }
        }
    }
    match found.len() {
        1 => {
            let (_, preview, plan) = found.pop().expect("one");
            Ok((preview, plan))
        }
        0 => Err(InputErrors::one(Diag::new(
            subject,
            None,
            format!(
                "{nothing} {}",
                match among {
                    [one] => one.name().to_string(),
                    _ => "any chain".to_string(),
                }
            ),
        ))
        .with_help(help)
        .into()),
        _ => {
            let names: Vec<&str> = found.iter().map(|(c, _, _)| c.name()).collect();
            let files: Vec<String> = found
                .iter()
                .flat_map(|(_, _, p)| p.changes.iter().map(|c| rel(&config.root, &c.to)))
                .collect();
            Err(InputErrors::one(Diag::new(
                subject,
                None,
                format!(
                    "several chains name {subject}: {} (in {})",
                    names.join(", "),
                    files.join(", ")
                ),
            ))
            .with_help(format!("pick one: {}", again(names[0])))
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
