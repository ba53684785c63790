//! Sqitch behind the common interface: everything migfix knows of it.

pub(crate) mod plan;
pub(crate) mod repair;

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::interface::{Framework, Lint, Moved, Onto, Projects, Read, Rules, Words};
use crate::chains::scheme::sqitch_prefix;
use crate::chains::{Chain, Kind, Naming, Scheme};
use crate::cli::RenumberArgs;
use crate::config::{Config, SqitchSpec};
use crate::error::{Diag, Refused};
use crate::plan::Builder;
use crate::repair::Preview;
use plan::{lint, read, read_plan, Plan};
use repair::renumber;

pub(crate) struct Sqitch;

fn spec_of(spec: &crate::config::ChainSpec) -> &SqitchSpec {
    match &spec.source {
        crate::config::Source::Sqitch(s) => s,
        _ => unreachable!("framework::of gives each source its own framework"),
    }
}

impl Framework for Sqitch {
    fn kind(&self) -> Kind {
        Kind::Sqitch
    }

    fn words(&self) -> Words {
        Words {
            one: "change",
            many: "changes",
            revises: "requires",
            head: "head",
            branch: "branch",
        }
    }

    /// The plan lint reports duplicates and unknown requirements with plan
    /// lines; requirements on other projects or change ids are sqitch's.
    fn rules(&self) -> Rules {
        Rules {
            show_labels: false,
            bases_per_label: false,
            alembic_ids: false,
            own_lint: true,
            plan_order: true,
            external: |dep| {
                dep.contains(':') || (dep.len() == 40 && dep.bytes().all(|b| b.is_ascii_hexdigit()))
            },
        }
    }

    fn read(&self, root: &Path, spec: &crate::config::ChainSpec) -> Result<Read, Vec<Diag>> {
        read(root, spec_of(spec)).map(|(revisions, warnings)| Read {
            revisions,
            replaced: Vec::new(),
            warnings,
        })
    }

    fn lint(&self, chain: &Chain, projects: &Projects) -> Vec<Lint> {
        let spec = spec_of(&chain.spec);
        match read_plan(&spec.plan) {
            Ok(text) => lint(&Plan::parse(&text), spec, projects),
            Err(_) => Vec::new(),
        }
    }

    /// The `NN` of `NN-slug` names; sqitch names no files by id.
    fn conventions(&self, chain: &Chain) -> (Scheme, Naming) {
        (
            Scheme::detect_sqitch(chain.revisions.iter().map(|r| r.id.as_str())),
            Naming::default_template(),
        )
    }

    fn location(&self, spec: &crate::config::ChainSpec) -> PathBuf {
        spec_of(spec).plan.clone()
    }

    fn config_file(&self, spec: &crate::config::ChainSpec) -> Option<PathBuf> {
        spec_of(spec).conf.clone()
    }

    /// Scripts may live anywhere the configuration puts them.
    fn folders(&self, root: &Path, _spec: &crate::config::ChainSpec) -> Vec<PathBuf> {
        vec![root.to_path_buf()]
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

    fn facts(&self, chain: &Chain) -> Vec<crate::diagnose::facts::RevFacts> {
        let spec = spec_of(&chain.spec);
        crate::diagnose::facts::sqitch(chain, spec)
    }

    fn gate_tool(&self, _args: &crate::cli::GateArgs) -> Option<(Vec<String>, String)> {
        Some((
            vec!["sqitch".to_string()],
            "install sqitch (Debian: sqitch libdbd-pg-perl)".to_string(),
        ))
    }

    fn round_trip(&self, trip: &mut crate::gate::Trip<'_>, chain: &Chain) -> Result<bool> {
        let spec = spec_of(&chain.spec);
        crate::gate::sqitch_trip(trip, spec)
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
            .filter(|(_, r)| !r.id.contains('@') && sqitch_prefix(&r.id) == Some(target))
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

    /// A plan is one line: it never forks.
    fn merge_heads(
        &self,
        _config: &Config,
        chain: &Chain,
        _args: &crate::cli::MergeHeadsArgs,
        _repo: Option<&crate::git::Repo>,
    ) -> Result<crate::repair::merge_heads::Prepared> {
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
        let moved = crate::repair::rebase::sqitch_chain(
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
        crate::collisions::sqitch_chain(
            repo, chain, &spec.plan, base_name, base, branches, analysis,
        )
    }
}
