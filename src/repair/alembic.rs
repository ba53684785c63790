//! Alembic's repairs behind the common interface: each delegates to the
//! command module that holds its plan.

use anyhow::Result;

use super::{merge_heads, rebase, renumber, Commands, Moved, Onto, Preview};
use crate::chains::Chain;
use crate::cli::{MergeHeadsArgs, RenumberArgs};
use crate::config::{Config, Source};
use crate::git::Repo;
use crate::plan::{Builder, Plan};

pub(crate) struct Alembic;

fn spec_of(chain: &Chain) -> &crate::config::AlembicSpec {
    match &chain.spec.source {
        Source::Alembic(a) => a,
        _ => unreachable!("commands() gives each chain its own framework's"),
    }
}

impl Commands for Alembic {
    fn facts(&self, chain: &Chain) -> Vec<crate::diagnose::facts::RevFacts> {
        crate::diagnose::facts::alembic(chain)
    }

    fn gate_tool(&self, args: &crate::cli::GateArgs) -> Option<(Vec<String>, String)> {
        Some((
            args.alembic.split_whitespace().map(String::from).collect(),
            "--alembic CMD".to_string(),
        ))
    }

    fn round_trip(&self, trip: &mut crate::gate::Trip<'_>, chain: &Chain) -> Result<bool> {
        crate::gate::alembic_trip(trip, chain, spec_of(chain))
    }

    fn renumber(
        &self,
        config: &Config,
        _chains: &[Chain],
        chain: &Chain,
        idx: usize,
        args: &RenumberArgs,
        repo: Option<&Repo>,
    ) -> Result<(Preview, Plan)> {
        renumber::alembic(config, chain, idx, args, repo)
    }

    fn merge_heads(
        &self,
        config: &Config,
        chain: &Chain,
        args: &MergeHeadsArgs,
        repo: Option<&Repo>,
    ) -> Result<merge_heads::Prepared> {
        merge_heads::alembic(config, chain, args, repo)
    }

    fn rebase(
        &self,
        onto: &Onto<'_>,
        chain: &Chain,
        builder: &mut Builder,
    ) -> Result<Option<Moved>> {
        let spec = spec_of(chain);
        let moved = rebase::alembic_chain(
            onto.repo,
            chain,
            &spec.versions,
            spec.recursive,
            (onto.base_name, onto.base),
            onto.merge_base,
            onto.others,
            builder,
        )?;
        Ok(moved.map(|(note, head, at_base)| Moved {
            note,
            head,
            at_base: Some(at_base),
            merge_hint: None,
        }))
    }

    fn check_against_base(
        &self,
        config: &Config,
        chain: &Chain,
        at_base: &Chain,
        plan: &Plan,
    ) -> Result<()> {
        rebase::alembic_check_against_base(config, chain, at_base, plan)
    }

    fn collisions(
        &self,
        repo: &Repo,
        chain: &Chain,
        (base_name, base): (&str, git2::Oid),
        branches: &[(String, git2::Oid)],
        analysis: &mut crate::outcome::Analysis,
    ) {
        let spec = spec_of(chain);
        crate::collisions::alembic_chain(
            repo,
            chain,
            &spec.versions,
            spec.recursive,
            base_name,
            base,
            branches,
            analysis,
        )
    }
}
