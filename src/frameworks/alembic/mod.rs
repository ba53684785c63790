//! Alembic behind the common interface: everything migfix knows of it.

pub(crate) mod claims;
pub(crate) mod config;
pub(crate) mod facts;
pub(crate) mod gate;
pub(crate) mod merge;
pub(crate) mod planned;
pub(crate) mod read;
pub(crate) mod rebase;
pub(crate) mod renumber;
pub(crate) mod template;

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::interface::{Framework, Moved, Onto, Read, Trip};
use crate::chains::{Chain, Naming, Scheme};
use crate::cli::{Global, MergeHeadsArgs, RenumberArgs};
use crate::config::discover::{Found, Markers};
use crate::config::profile::{Profile, Rules, Words};
use crate::config::{rel, ChainSpec, Config, TomlChain};
use crate::error::Diag;
use crate::git::{Claim, Repo};
use crate::plan::{Builder, Plan};
use crate::repair::merge::Prepared;
use crate::repair::Preview;
pub(crate) use config::AlembicSpec;
use read::read;

pub(crate) struct Alembic;

pub(crate) static PROFILE: Profile = Profile {
    name: "alembic",
    words: Words::COMMON,
    rules: Rules {
        show_labels: true,
        id_files: true,
        ..Rules::COMMON
    },
};

/// The chain's own account, which every Alembic chain has.
pub(crate) fn spec_of(spec: &ChainSpec) -> &AlembicSpec {
    spec.source().expect("an Alembic chain's spec")
}

impl Framework for Alembic {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn markers(&self) -> Markers {
        config::MARKERS
    }

    fn looks_for(&self) -> &'static [&'static str] {
        &["alembic.ini", "[tool.alembic] in pyproject.toml"]
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

    fn from_table(
        &self,
        root: &Path,
        table: &TomlChain,
        at: &dyn Fn(String) -> Diag,
    ) -> Result<ChainSpec, Diag> {
        config::from_table(root, table, at)
    }

    fn from_flags(&self, root: &Path, cwd: &Path, global: &Global) -> (Vec<ChainSpec>, Vec<Diag>) {
        config::from_flags(root, cwd, global)
    }

    fn read(&self, root: &Path, spec: &ChainSpec) -> Result<Read, Vec<Diag>> {
        read(root, spec_of(spec)).map(|(revisions, warnings)| Read {
            revisions,
            replaced: Vec::new(),
            warnings,
        })
    }

    /// The scheme of the ids newest first, and the naming `file_template`
    /// sets or the names show.
    fn conventions(&self, chain: &Chain) -> (Scheme, Naming) {
        let order = crate::graph::Graph::build(chain).newest_first();
        let ids: Vec<&str> = order
            .iter()
            .map(|&i| chain.revisions[i].id.as_str())
            .collect();
        let configured = spec_of(&chain.spec)
            .file_template
            .as_deref()
            .and_then(Naming::from_template);
        let naming = configured.unwrap_or_else(|| {
            let stems: Vec<_> = order
                .iter()
                .filter_map(|&i| {
                    let r = &chain.revisions[i];
                    Some((crate::chains::files::stem_of(r)?, r.id.as_str()))
                })
                .collect();
            Naming::infer(stems.iter().map(|(stem, id)| (stem.as_ref(), *id)))
        });
        (Scheme::detect(&ids), naming)
    }

    fn claims(&self, repo: &Repo, spec: &ChainSpec) -> Vec<Claim> {
        let a = spec_of(spec);
        claims::from_head(repo, &a.versions, a.recursive)
    }

    fn verify_commands(&self, root: &Path, chain: &Chain) -> Vec<String> {
        let Some(ini) = &spec_of(&chain.spec).config else {
            return Vec::new();
        };
        let dir = ini
            .parent()
            .map(|d| rel(root, d))
            .unwrap_or_else(|| ".".into());
        vec![
            format!(
                "verify {}: cd {dir} && alembic heads   (expect one line)",
                chain.name()
            ),
            format!(
                "verify {}: cd {dir} && alembic upgrade head --sql > /dev/null",
                chain.name()
            ),
        ]
    }

    /// Relative locations in alembic.ini are resolved from where Alembic
    /// runs, which is the ini's folder.
    fn upgrade_command(&self, root: &Path, spec: &ChainSpec, target: &str) -> String {
        match spec_of(spec)
            .config
            .as_ref()
            .filter(|c| c.extension().is_some_and(|e| e == "ini"))
        {
            Some(ini) => {
                let dir = ini
                    .parent()
                    .filter(|d| *d != root)
                    .map(|d| format!("cd {} && ", rel(root, d)));
                let name = ini
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                let flag = if name == "alembic.ini" {
                    String::new()
                } else {
                    format!("-c {name} ")
                };
                format!("{}alembic {flag}upgrade {target}", dir.unwrap_or_default())
            }
            None => format!("alembic upgrade {target}"),
        }
    }

    fn facts(&self, chain: &Chain) -> Vec<crate::facts::RevFacts> {
        facts::facts(chain)
    }

    fn gate_tool(&self, args: &crate::cli::GateArgs) -> Option<(Vec<String>, String)> {
        Some((
            args.alembic.split_whitespace().map(String::from).collect(),
            "--alembic CMD".to_string(),
        ))
    }

    fn round_trip(&self, trip: &mut dyn Trip, chain: &Chain) -> Result<bool> {
        gate::round_trip(trip, chain, spec_of(&chain.spec))
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
        renumber::renumber(
            config,
            chain,
            idx,
            args,
            &repo
                .map(|r| self.claims(r, &chain.spec))
                .unwrap_or_default(),
        )
    }

    fn merge_heads(
        &self,
        config: &Config,
        chain: &Chain,
        args: &MergeHeadsArgs,
        repo: Option<&Repo>,
    ) -> Result<Prepared> {
        merge::merge_heads(
            config,
            chain,
            args,
            &repo
                .map(|r| self.claims(r, &chain.spec))
                .unwrap_or_default(),
        )
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
        rebase::check_against_base(config, chain, at_base, plan)
    }

    fn collisions(
        &self,
        repo: &Repo,
        chain: &Chain,
        (base_name, base): (&str, git2::Oid),
        branches: &[(String, git2::Oid)],
        analysis: &mut crate::outcome::Analysis,
    ) {
        let spec = spec_of(&chain.spec);
        claims::collisions(
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
