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
pub(crate) mod repoint;
pub(crate) mod stale;
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
pub(crate) use config::{AlembicSpec, Run};
use read::read;

pub(crate) struct Alembic;

pub(crate) static PROFILE: Profile = Profile {
    name: "alembic",
    words: Words::COMMON,
    rules: Rules {
        show_labels: true,
        id_files: true,
        droppable: true,
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

    fn read(&self, root: &Path, spec: &ChainSpec) -> Result<Read, Vec<Diag>> {
        let spec = spec_of(spec);
        read(root, spec).map(|(revisions, warnings)| Read {
            revisions,
            replaced: Vec::new(),
            warnings: spec.notes.iter().cloned().chain(warnings).collect(),
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
        let spec = spec_of(&chain.spec);
        let Some(ini) = &spec.config else {
            return Vec::new();
        };
        let dir = ini
            .parent()
            .map(|d| rel(root, d))
            .unwrap_or_else(|| ".".into());
        let (heads, sql) = match spec.run {
            Run::IniFolder => (
                format!("cd {dir} && alembic heads"),
                format!("cd {dir} && alembic upgrade head --sql > /dev/null"),
            ),
            Run::Root | Run::Flask => (
                tool_command(root, spec, "heads"),
                format!(
                    "{} > /dev/null",
                    tool_command(root, spec, "upgrade head --sql")
                ),
            ),
        };
        vec![
            format!("verify {}: {heads}   (expect one line)", chain.name()),
            format!("verify {}: {sql}", chain.name()),
        ]
    }

    /// Relative locations resolve from where the chain's tool runs: the
    /// ini's folder, the root (`-c`), or Flask-Migrate's app folder.
    fn upgrade_command(&self, root: &Path, spec: &ChainSpec, target: &str) -> String {
        tool_command(root, spec_of(spec), &format!("upgrade {target}"))
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

    fn leftover_ids(
        &self,
        chain: &Chain,
        gone: &std::collections::BTreeMap<String, String>,
    ) -> Vec<(PathBuf, String)> {
        stale::leftovers(chain, gone)
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

    fn repoint(
        &self,
        config: &Config,
        _chains: &[Chain],
        chain: &Chain,
        old: &str,
        new: Option<&str>,
    ) -> Result<Option<(Preview, Plan)>> {
        repoint::repoint(config, chain, old, new)
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
    ) -> Result<Vec<crate::repair::PartAfter>> {
        rebase::check_against_base(config, chain, at_base, plan)?;
        Ok(Vec::new())
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

/// The command that runs Alembic's `args` on the chain, from where its
/// configuration resolves: `cd DIR && alembic ARGS` in the ini's folder,
/// `alembic -c INI ARGS` from the root, or `flask db ARGS` (`-d DIR` where
/// the migrations folder is not Flask-Migrate's default) above the
/// Flask-Migrate directory.
fn tool_command(root: &Path, spec: &AlembicSpec, args: &str) -> String {
    let Some(ini) = spec
        .config
        .as_ref()
        .filter(|c| c.extension().is_some_and(|e| e == "ini"))
    else {
        return format!("alembic {args}");
    };
    let cd = |d: Option<&Path>| {
        d.filter(|d| *d != root)
            .map(|d| format!("cd {} && ", rel(root, d)))
            .unwrap_or_default()
    };
    let dir = ini.parent();
    match spec.run {
        Run::IniFolder => {
            let name = ini
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let flag = if name == "alembic.ini" {
                String::new()
            } else {
                format!("-c {name} ")
            };
            format!("{}alembic {flag}{args}", cd(dir))
        }
        Run::Root => format!("alembic -c {} {args}", rel(root, ini)),
        Run::Flask => {
            let name = dir
                .and_then(Path::file_name)
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let flag = if name == "migrations" {
                String::new()
            } else {
                format!(" -d {name}")
            };
            let (verb, rest) = args.split_once(' ').unwrap_or((args, ""));
            let rest = if rest.is_empty() {
                String::new()
            } else {
                format!(" {rest}")
            };
            format!(
                "{}flask db {verb}{flag}{rest}",
                cd(dir.and_then(Path::parent))
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(root: &Path, ini: &str, run: Run) -> AlembicSpec {
        AlembicSpec {
            config: Some(root.join(ini)),
            script_location: None,
            versions: Vec::new(),
            recursive: false,
            file_template: None,
            run,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_tool_runs_where_the_configuration_resolves() {
        let root = Path::new("/repo");
        let cases = [
            ("alembic.ini", Run::IniFolder, "alembic upgrade head"),
            (
                "db/alembic.ini",
                Run::IniFolder,
                "cd db && alembic upgrade head",
            ),
            (
                "db/prod.ini",
                Run::IniFolder,
                "cd db && alembic -c prod.ini upgrade head",
            ),
            (
                "mlflow/store/db_migrations/alembic.ini",
                Run::Root,
                "alembic -c mlflow/store/db_migrations/alembic.ini upgrade head",
            ),
            (
                "migrations/alembic.ini",
                Run::Flask,
                "flask db upgrade head",
            ),
            (
                "zou/migrations/alembic.ini",
                Run::Flask,
                "cd zou && flask db upgrade head",
            ),
            ("db/alembic.ini", Run::Flask, "flask db upgrade -d db head"),
        ];
        for (ini, run, expected) in cases {
            assert_eq!(
                tool_command(root, &spec(root, ini, run), "upgrade head"),
                expected
            );
        }
        assert_eq!(
            tool_command(
                root,
                &spec(root, "migrations/alembic.ini", Run::Flask),
                "heads"
            ),
            "flask db heads"
        );
    }
}
