//! `migfix repoint OLD NEW`: every reference to OLD, which no revision
//! declares, made to name NEW, which must exist. Each chain's framework
//! finds the references and edits their tokens only; the write goes
//! through the same flow as every repair.

use anyhow::Result;

use super::write::{one_chain, repair};
use crate::chains::Chain;
use crate::cli::RepointArgs;
use crate::config::Config;
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
