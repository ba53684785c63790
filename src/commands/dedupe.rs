//! `migfix dedupe CHANGE`: a change declared twice with no tag between
//! keeps its first declaration. Each chain's framework plans the edit; the
//! write goes through the same flow as every repair.

use anyhow::Result;

use super::write::{one_chain, repair};
use crate::cli::DedupeArgs;
use crate::config::Config;
use crate::error::ExitStatus;

pub(crate) fn run(config: &Config, args: &DedupeArgs) -> Result<ExitStatus> {
    let name = &args.name;
    repair(config, &args.write, |chains, every, _| {
        one_chain(
            config,
            chains,
            name,
            |chain| crate::frameworks::of(&chain.spec).dedupe(config, every, chain, name),
            format!("no change `{name}` declared twice in"),
            "`migfix check` lists each change declared twice, with its command",
            |chain| format!("migfix --chain {chain} dedupe {name}"),
        )
    })
}
