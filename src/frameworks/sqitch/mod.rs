//! Sqitch behind the common interface: everything migfix knows of it.

pub(crate) mod claims;
pub(crate) mod config;
pub(crate) mod conflicts;
pub(crate) mod dedupe;
pub(crate) mod facts;
pub(crate) mod gate;
pub(crate) mod lint;
pub(crate) mod plan;
pub(crate) mod planned;
pub(crate) mod rebase;
pub(crate) mod repair;
pub(crate) mod repoint;
pub(crate) mod targets;

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::interface::{Framework, Moved, Onto, Read, Trip};
use crate::chains::scheme::number_prefix;
use crate::chains::{Chain, Naming, Scheme};
use crate::cli::{Global, RenumberArgs};
use crate::config::discover::{Found, Markers};
use crate::config::profile::{Profile, Rules, Words};
use crate::config::{ChainSpec, Config, TomlChain};
use crate::error::{Diag, Refused};
use crate::findings::Lint;
use crate::plan::Builder;
use crate::repair::Preview;
pub(crate) use config::SqitchSpec;
use lint::{lint, projects};
use plan::Plan;
use planned::{read, read_plan};
use repair::renumber;

pub(crate) struct Sqitch;

/// The plan lint reports duplicates and unknown requirements with plan
/// lines; requirements on other projects or change ids are sqitch's.
pub(crate) static PROFILE: Profile = Profile {
    name: "sqitch",
    words: Words {
        one: "change",
        many: "changes",
        revises: "requires",
        ..Words::COMMON
    },
    rules: Rules {
        own_lint: true,
        plan_order: true,
        external: |dep| {
            dep.contains(':') || (dep.len() == 40 && dep.bytes().all(|b| b.is_ascii_hexdigit()))
        },
        ..Rules::COMMON
    },
};

/// The chain's own account, which every sqitch chain has.
pub(crate) fn spec_of(spec: &ChainSpec) -> &SqitchSpec {
    spec.source().expect("a sqitch chain's spec")
}

impl Framework for Sqitch {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn markers(&self) -> Markers {
        config::MARKERS
    }

    fn looks_for(&self) -> &'static [&'static str] {
        &["sqitch.conf", "sqitch.plan"]
    }

    fn discover(
        &self,
        root: &Path,
        found: &Found,
        _occupied: &[PathBuf],
    ) -> (Vec<ChainSpec>, Vec<Diag>) {
        config::discover(root, found)
    }

    fn table_keys(&self) -> &'static [&'static str] {
        config::TABLE_KEYS
    }

    fn table_spec(
        &self,
        root: &Path,
        table: &TomlChain,
        at: &dyn Fn(&str, String) -> Diag,
    ) -> Result<ChainSpec, Diag> {
        config::from_table(root, table, at)
    }

    fn flag_specs(&self, root: &Path, cwd: &Path, global: &Global) -> (Vec<ChainSpec>, Vec<Diag>) {
        config::from_flags(root, cwd, global)
    }

    fn read(&self, root: &Path, spec: &crate::config::ChainSpec) -> Result<Read, Vec<Diag>> {
        read(root, spec_of(spec)).map(|(revisions, warnings)| Read {
            revisions,
            replaced: Vec::new(),
            warnings,
        })
    }

    fn lint(&self, chain: &Chain, chains: &[Chain]) -> Vec<Lint> {
        let spec = spec_of(&chain.spec);
        match read_plan(&spec.plan) {
            Ok(text) => lint(&Plan::parse(&text), spec, &projects(chains)),
            Err(_) => Vec::new(),
        }
    }

    /// The `NN` of `NN-slug` names; sqitch names no files by id.
    fn conventions(&self, chain: &Chain) -> (Scheme, Naming) {
        (
            Scheme::detect_prefixed(chain.revisions.iter().map(|r| r.id.as_str())),
            Naming::default_template(),
        )
    }

    fn upgrade_command(
        &self,
        _root: &Path,
        _spec: &crate::config::ChainSpec,
        target: &str,
    ) -> String {
        if target == "head" {
            "sqitch deploy".to_string()
        } else {
            format!("sqitch deploy --to {target}")
        }
    }

    fn facts(&self, chain: &Chain) -> Vec<crate::facts::RevFacts> {
        let spec = spec_of(&chain.spec);
        facts::facts(chain, spec)
    }

    fn gate_tool(&self, _args: &crate::cli::GateArgs) -> Option<(Vec<String>, String)> {
        Some((
            vec!["sqitch".to_string()],
            "install sqitch (Debian: sqitch libdbd-pg-perl)".to_string(),
        ))
    }

    fn round_trip(&self, trip: &mut dyn Trip, chain: &Chain) -> Result<bool> {
        let spec = spec_of(&chain.spec);
        gate::round_trip(trip, spec)
    }

    /// A change by its sequence number: `07` for `07-billing-...`.
    fn find(&self, chain: &Chain, target: &str, name: Option<&str>) -> Vec<usize> {
        if name.is_some() {
            return Vec::new();
        }
        let mut names: Vec<(usize, &str)> = chain
            .revisions
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.id.contains(['@', ' ']) && number_prefix(&r.id) == Some(target))
            .map(|(i, r)| (i, r.id.as_str()))
            .collect();
        names.dedup_by_key(|(_, n)| *n);
        names.into_iter().map(|(i, _)| i).collect()
    }

    fn renumber(
        &self,
        config: &Config,
        chains: &[Chain],
        chain: &Chain,
        idx: usize,
        args: &RenumberArgs,
        _repo: Option<&crate::git::Repo>,
    ) -> Result<(Preview, crate::plan::Plan)> {
        renumber(config, chains, chain, idx, args)
    }

    fn repoint(
        &self,
        config: &Config,
        chains: &[Chain],
        chain: &Chain,
        old: &str,
        new: Option<&str>,
    ) -> Result<Option<(Preview, crate::plan::Plan)>> {
        repoint::repoint(config, chains, chain, old, new)
    }

    fn dedupe(
        &self,
        config: &Config,
        chains: &[Chain],
        chain: &Chain,
        name: &str,
    ) -> Result<Option<(Preview, crate::plan::Plan)>> {
        dedupe::dedupe(config, chains, chain, name)
    }

    /// A plan is one line: it never forks.
    fn merge_heads(
        &self,
        _config: &Config,
        chain: &Chain,
        _args: &crate::cli::MergeHeadsArgs,
        _repo: Option<&crate::git::Repo>,
    ) -> Result<crate::repair::merge::Prepared> {
        Err(Refused::new(format!(
            "{} is a sqitch plan, deployed in order: nothing to merge",
            chain.name()
        ))
        .into())
    }

    fn rebase(
        &self,
        onto: &Onto<'_>,
        chain: &Chain,
        builder: &mut Builder,
    ) -> Result<Option<Moved>> {
        let spec = spec_of(&chain.spec);
        let moved = rebase::rebase(
            onto.repo,
            chain,
            spec,
            (onto.base_name, onto.base),
            onto.merge_base,
            builder,
        )?;
        Ok(moved.map(|(note, head)| Moved {
            note,
            head,
            at_base: None,
            merge_hint: Some(format!(
                "the sqitch plan already holds {b}'s changes: where git reports a conflict in it, keep this branch's side (git merge -X ours {b})",
                b = onto.base_name
            )),
        }))
    }

    fn collisions(
        &self,
        repo: &crate::git::Repo,
        chain: &Chain,
        (base_name, base): (&str, git2::Oid),
        branches: &[(String, git2::Oid)],
        analysis: &mut crate::outcome::Analysis,
    ) {
        let spec = spec_of(&chain.spec);
        claims::collisions(repo, chain, &spec.plan, base_name, base, branches, analysis)
    }
}
