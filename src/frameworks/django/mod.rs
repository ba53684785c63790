//! Django behind the common interface: everything migfix knows of it.

pub(crate) mod claims;
mod class;
pub(crate) mod config;
pub(crate) mod merge;
pub(crate) mod numbers;
pub(crate) mod parse;
mod quick;
pub(crate) mod read;
pub(crate) mod rebase;
pub(crate) mod renumber;
pub(crate) mod repoint;
pub(crate) mod settings;
pub(crate) mod swappable;

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::interface::{Framework, Moved, Onto, Read};
use crate::chains::{Chain, Naming, Scheme};
use crate::cli::{MergeHeadsArgs, RenumberArgs};
use crate::config::discover::{Found, Markers};
use crate::config::profile::{Profile, Rules, Words};
use crate::config::{rel, ChainSpec, Config, TomlChain};
use crate::error::Diag;
use crate::git::{Claim, Repo};
use crate::plan::{Builder, Plan};
use crate::repair::Preview;
pub(crate) use config::{DjangoApp, DjangoSpec};
use merge::merge_heads;
use numbers::find;
use read::read;
use rebase::{check_against_base, rebase};
use renumber::renumber;

pub(crate) struct Django;

/// Each app has a first migration of its own.
pub(crate) static PROFILE: Profile = Profile {
    name: "django",
    words: Words {
        one: "migration",
        many: "migrations",
        revises: "depends on",
        revise: "depend on",
        revised: "depended on",
        head: "leaf node",
        heads: "leaf nodes",
        branch: "app",
        branches: "apps",
        bases: "first migrations",
        no_parent: "no dependency in their app",
        parent_field: "dependency",
        history_table: "django_migrations",
        join_bases: "add the later first migration's predecessor in its app to its `dependencies` (and drop its `initial = True`), unless the app is meant to have several first migrations",
        fork: fork_words,
        dangling: dangling_words,
        help: help_words,
    },
    rules: Rules {
        bases_per_label: true,
        ..Rules::COMMON
    },
};

/// The chain's own account, which every Django chain has.
pub(crate) fn spec_of(spec: &ChainSpec) -> &DjangoSpec {
    spec.source().expect("a Django chain's spec")
}

/// A fork in Django's words (migrate and makemigrations).
fn fork_words(
    leaves: &[String],
    label: Option<&str>,
    parent: Option<&str>,
) -> Option<(String, String, String)> {
    let app = label.unwrap_or_default();
    let names: Vec<&str> = leaves
        .iter()
        .map(|l| l.split_once('.').map_or(l.as_str(), |(_, n)| n))
        .collect();
    let on = parent
        .map(|p| format!(" (all depend on {p})"))
        .unwrap_or_default();
    Some((
        format!(
            "Conflicting migrations detected; multiple leaf nodes in the migration graph: ({} in {app}){on}",
            names.join(", ")
        ),
        "add a merge migration that depends on every leaf (as `python manage.py makemigrations --merge` \
         writes), or renumber the later migration onto the other leaf so the app stays linear"
            .to_string(),
        format!("migfix --chain {app} merge-heads"),
    ))
}

/// A reference to nothing as Django's NodeNotFoundError says it.
fn dangling_words(rev: &str, target: &str, suggestion: Option<&str>) -> Option<(String, String)> {
    let (app, migration) = target.split_once('.').unwrap_or((target, ""));
    let hint = suggestion
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default();
    Some((
        format!("Migration {rev} dependencies reference nonexistent parent node ('{app}', '{migration}'){hint}"),
        match suggestion {
            Some(s) => format!("point the dependency at {s}"),
            None => "point the dependency at an existing migration (see `migfix history`)".to_string(),
        },
    ))
}

/// Each kind of finding's title and meaning for a Django project, for CI
/// reports.
fn help_words(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "multiple-heads" => ("conflicting migrations", "An app has more than one leaf node, so `migrate` and `makemigrations` stop with \"Conflicting migrations detected; multiple leaf nodes in the migration graph\". Add a merge migration (`migfix merge-heads`, as `makemigrations --merge` writes it), or renumber the later migration onto the other leaf (`migfix renumber`)."),
        "dangling-down-revision" | "dangling-depends-on" => ("nonexistent parent node", "A migration's dependencies name a migration of the project that no file is (Django's NodeNotFoundError), usually after a rename. Point the dependency at an existing migration, or restore the missing file."),
        "cycle" => ("circular dependency", "Migrations depend on each other in a circle (Django's CircularDependencyError), so they have no order."),
        "no-head" => ("no leaf node", "Every migration is depended on by another, so the graph has a cycle and no leaf node."),
        "multiple-bases" => ("several first migrations", "An app has more than one first migration (no dependency in its own app). Django applies them all, but this is usually a missing dependency."),
        "duplicate-file-number" => ("reused number", "A leaf migration shares its number with one of its ancestors in the app: a branch rebased without a new number."),
        "number-collision" => ("number collision", "A branch adds a migration with a number that another branch or the base also adds to the app. Renumber the branch's migration past every claim (`migfix rebase`)."),
        "stale-parent" => ("stale dependency", "A branch's migrations depend on a migration that is no longer the app's leaf node on the base. Rebase them onto the leaf (`migfix rebase`)."),
        "read-warning" => ("read warning", "A migration or settings file could not be read completely statically (a `dependencies` list built with `+` from a module's value, a setting that is not a string literal); what it adds is left out of the graph."),
        _ => return None,
    })
}

/// Numbers per app (`0005_…`); files are named by the migration.
pub(crate) fn conventions(chain: &Chain) -> (Scheme, Naming) {
    (
        Scheme::detect_prefixed(
            chain
                .revisions
                .iter()
                .filter_map(|r| r.part.as_ref().map(|d| d.name.as_str())),
        ),
        Naming::default_template(),
    )
}

impl Framework for Django {
    fn profile(&self) -> &'static Profile {
        &PROFILE
    }

    fn markers(&self) -> Markers {
        config::MARKERS
    }

    fn looks_for(&self) -> &'static [&'static str] {
        &["Django migrations packages"]
    }

    fn discover(
        &self,
        root: &Path,
        found: &Found,
        occupied: &[PathBuf],
    ) -> (Vec<ChainSpec>, Vec<Diag>) {
        (config::discover(root, found, occupied), Vec::new())
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

    fn read(&self, root: &Path, spec: &ChainSpec) -> Result<Read, Vec<Diag>> {
        read(root, spec_of(spec))
    }

    fn conventions(&self, chain: &Chain) -> (Scheme, Naming) {
        conventions(chain)
    }

    fn claims(&self, repo: &Repo, spec: &ChainSpec) -> Vec<Claim> {
        claims::from_head(repo, &spec_of(spec).app_dirs())
    }

    fn verify_commands(&self, root: &Path, chain: &Chain) -> Vec<String> {
        let dir = rel(root, &spec_of(&chain.spec).project);
        vec![
            format!(
                "verify {}: cd {dir} && python manage.py makemigrations --check --dry-run   (no conflict, no changes)",
                chain.name()
            ),
            format!("verify {}: cd {dir} && python manage.py migrate --plan", chain.name()),
        ]
    }

    fn upgrade_command(&self, _root: &Path, _spec: &ChainSpec, target: &str) -> String {
        match target.split_once('.') {
            Some((app, name)) if target != "head" => {
                format!("python manage.py migrate {app} {name}")
            }
            _ => "python manage.py migrate".to_string(),
        }
    }

    fn find(&self, chain: &Chain, target: &str, name: Option<&str>) -> Vec<usize> {
        find(chain, target, name)
            .map(|i| vec![i])
            .unwrap_or_default()
    }

    fn renumber(
        &self,
        config: &Config,
        _chains: &[Chain],
        chain: &Chain,
        idx: usize,
        args: &RenumberArgs,
        repo: Option<&crate::git::Repo>,
    ) -> Result<(Preview, Plan)> {
        renumber(
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
        repo: Option<&crate::git::Repo>,
    ) -> Result<crate::repair::merge::Prepared> {
        let (preview, plan, stale) = merge_heads(
            config,
            chain,
            args,
            &repo
                .map(|r| self.claims(r, &chain.spec))
                .unwrap_or_default(),
        )?;
        Ok(crate::repair::merge::Prepared {
            preview,
            plan,
            stale,
        })
    }

    fn rebase(
        &self,
        onto: &Onto<'_>,
        chain: &Chain,
        builder: &mut Builder,
    ) -> Result<Option<Moved>> {
        let moved = rebase(
            onto.repo,
            chain,
            spec_of(&chain.spec),
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
        check_against_base(config, chain, spec_of(&chain.spec), at_base, plan)
    }

    fn collisions(
        &self,
        repo: &crate::git::Repo,
        chain: &Chain,
        (base_name, base): (&str, git2::Oid),
        branches: &[(String, git2::Oid)],
        analysis: &mut crate::outcome::Analysis,
    ) {
        claims::collisions(
            repo,
            chain,
            spec_of(&chain.spec),
            base_name,
            base,
            branches,
            analysis,
        )
    }
}
