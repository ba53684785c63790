//! The one interface every framework answers: how its chains are read,
//! numbered, named and shown, what other branches claim, its repairs, what
//! diagnose reads of its revisions and the gate's round trip. Commands ask
//! a chain's framework rather than asking which framework it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::chains::{Chain, Naming, Revision, Scheme};
use crate::cli::{Global, MergeHeadsArgs, RenumberArgs};
use crate::config::discover::{Found, Markers};
use crate::config::{ChainSpec, Config, Profile, TomlChain};
use crate::error::Diag;
use crate::findings::Lint;
use crate::git::{Claim, Repo};
use crate::plan::{Builder, Plan};
use crate::repair::merge::Prepared;
use crate::repair::{PartAfter, Preview};

/// What reading a chain gives: its revisions in the framework's load order,
/// those a squash replaces (Django), and warnings.
pub(crate) struct Read {
    pub revisions: Vec<Revision>,
    pub replaced: Vec<Revision>,
    pub warnings: Vec<Diag>,
}

pub(crate) trait Framework: Sync {
    /// Its name, words and graph rules, as the shared layers know them.
    fn profile(&self) -> &'static Profile;

    /// The files and folders its discovery looks for.
    fn markers(&self) -> Markers;

    /// The same in words, for the message that says no chain was found.
    fn looks_for(&self) -> &'static [&'static str];

    /// Its chains below the root: `found` holds every marker there, and
    /// `occupied` the folders of the chains earlier frameworks found. Each
    /// error names its file and line.
    fn discover(
        &self,
        root: &Path,
        found: &Found,
        occupied: &[PathBuf],
    ) -> (Vec<ChainSpec>, Vec<Diag>);

    /// The keys of a migfix.toml chain table that locate its chains.
    fn table_keys(&self) -> &'static [&'static str];

    /// A migfix.toml chain table of this framework, as a chain; `at` makes
    /// an error about the table, at the line of the key it names (the
    /// table's own line for a key not set).
    fn table_spec(
        &self,
        root: &Path,
        table: &TomlChain,
        at: &dyn Fn(&str, String) -> Diag,
    ) -> Result<ChainSpec, Diag>;

    /// The chains that the command line's own flags name.
    fn flag_specs(
        &self,
        _root: &Path,
        _cwd: &Path,
        _global: &Global,
    ) -> (Vec<ChainSpec>, Vec<Diag>) {
        (Vec::new(), Vec::new())
    }

    /// The framework's own lint of a chain beyond the graph (a plan's),
    /// each with its line in [`Framework::lint_file`]; `chains` are the
    /// repository's, for references from one to another.
    fn lint(&self, _chain: &Chain, _chains: &[Chain]) -> Vec<Lint> {
        Vec::new()
    }

    /// The file the lint's lines are in.
    fn lint_file(&self, spec: &ChainSpec) -> PathBuf {
        spec.source.location()
    }

    /// The runbook's checks once a repair is applied, as commands.
    fn verify_commands(&self, _root: &Path, _chain: &Chain) -> Vec<String> {
        Vec::new()
    }

    /// Reads every revision of the chain; any unreadable input is an error
    /// naming its file and line.
    fn read(&self, root: &Path, spec: &ChainSpec) -> Result<Read, Vec<Diag>>;

    /// The id scheme and file naming, judged from the chain's revisions.
    fn conventions(&self, chain: &Chain) -> (Scheme, Naming);

    /// What other branches add to the chain, against HEAD.
    fn claims(&self, _repo: &Repo, _spec: &ChainSpec) -> Vec<Claim> {
        Vec::new()
    }

    /// The command that brings a database to `target` (`head` for all).
    fn upgrade_command(&self, root: &Path, spec: &ChainSpec, target: &str) -> String;

    /// What diagnose knows of each revision for classes A, B, D and F;
    /// nothing where the framework's operations are not read.
    fn facts(&self, chain: &Chain) -> Vec<crate::facts::RevFacts> {
        crate::facts::none(chain)
    }

    /// The tool the gate's round trip runs, and how to get it; `None`
    /// where the gate has no round trip for the framework.
    fn gate_tool(&self, _args: &crate::cli::GateArgs) -> Option<(Vec<String>, String)> {
        None
    }

    /// The gate's round trip on a fresh database; `Ok(true)` when it passed.
    fn round_trip(&self, _trip: &mut dyn Trip, _chain: &Chain) -> Result<bool> {
        Ok(false)
    }

    /// Ways to name a revision besides its id and file: a sqitch sequence
    /// number; Django's `APP NAME`, or a name or number of one app.
    fn find(&self, _chain: &Chain, _target: &str, _name: Option<&str>) -> Vec<usize> {
        Vec::new()
    }

    /// Where the chain's files still carry an id a repair took away: `gone`
    /// maps each old id to the one its file now declares. Each with what to
    /// do about it; nothing where the framework keeps no copies of ids.
    fn leftover_ids(
        &self,
        _chain: &Chain,
        _gone: &BTreeMap<String, String>,
    ) -> Vec<(PathBuf, String)> {
        Vec::new()
    }

    /// A new number (or `--to`) for revision `idx`, with every reference.
    fn renumber(
        &self,
        config: &Config,
        chains: &[Chain],
        chain: &Chain,
        idx: usize,
        args: &RenumberArgs,
        repo: Option<&Repo>,
    ) -> Result<(Preview, Plan)>;

    /// Every reference in the chain to `old`, which no revision declares,
    /// made to name `new`, which must exist (an input error naming what
    /// exists nearby otherwise); byte-exact edits of the reference tokens.
    /// With no `new` (`--drop`), each reference is taken out where the
    /// framework can lose one; elsewhere that is refused.
    /// `Ok(None)` when nothing in the chain names `old`. `chains` are the
    /// repository's, for references from one chain to another.
    fn repoint(
        &self,
        config: &Config,
        chains: &[Chain],
        chain: &Chain,
        old: &str,
        new: Option<&str>,
    ) -> Result<Option<(Preview, Plan)>>;

    /// A change declared twice with nothing between that makes it a
    /// rework: the later declaration dropped. `Ok(None)` where the chain
    /// declares `name` once, or the framework cannot declare one twice.
    fn dedupe(
        &self,
        _config: &Config,
        _chains: &[Chain],
        _chain: &Chain,
        _name: &str,
    ) -> Result<Option<(Preview, Plan)>> {
        Ok(None)
    }

    /// A merge node over the chain's fork.
    fn merge_heads(
        &self,
        config: &Config,
        chain: &Chain,
        args: &MergeHeadsArgs,
        repo: Option<&Repo>,
    ) -> Result<Prepared>;

    /// This branch's new revisions moved after the base's head, into the
    /// shared plan; `None` when there is nothing to move.
    fn rebase(
        &self,
        onto: &Onto<'_>,
        chain: &Chain,
        builder: &mut Builder,
    ) -> Result<Option<Moved>>;

    /// The base's chain plus the planned files must be whole. Returns
    /// that chain's parts' heads where they count per part (see
    /// [`crate::repair::parts_after`]), else nothing.
    fn check_against_base(
        &self,
        _config: &Config,
        _chain: &Chain,
        _at_base: &Chain,
        _plan: &Plan,
    ) -> Result<Vec<PartAfter>> {
        Ok(Vec::new())
    }

    /// Numbers claimed across branches, and branches built on an old head.
    fn collisions(
        &self,
        repo: &Repo,
        chain: &Chain,
        base: (&str, git2::Oid),
        branches: &[(String, git2::Oid)],
        analysis: &mut crate::outcome::Analysis,
    );
}

/// What a rebase moved in one chain: a note, the head it leaves, the chain
/// as the base has it (to check the plan against), and what to say about
/// merging the base afterwards.
pub(crate) struct Moved {
    pub note: String,
    pub head: String,
    pub at_base: Option<Chain>,
    pub merge_hint: Option<String>,
}

/// The base a rebase moves onto, and the branches whose claims count.
pub(crate) struct Onto<'a> {
    pub repo: &'a Repo,
    pub base_name: &'a str,
    pub base: git2::Oid,
    pub merge_base: git2::Oid,
    pub others: &'a [(String, git2::Oid)],
}

/// What the gate gives a framework's round trip on a fresh database: each
/// step runs, is shown as it goes and recorded, and a failed one is
/// diagnosed.
pub(crate) trait Trip {
    /// The repository's root.
    fn root(&self) -> &Path;

    /// The fresh database's URL, as libpq and SQLAlchemy take it.
    fn url(&self) -> String;

    /// The same as a `db:` URI (sqitch's targets).
    fn db_uri(&self) -> String;

    /// Runs the framework's tool (`gate_tool`) with `args` in `dir` as the
    /// step `label`; true when it passed.
    fn tool_step(&mut self, label: &str, args: &[&str], dir: &Path, env: &[(&str, String)])
        -> bool;

    /// Runs SQL on the fresh database as the step `label`.
    fn sql_step(&mut self, label: &str, sql: &str) -> Result<bool>;

    /// A step the round trip judges itself; `why` says why it failed.
    fn check_step(&mut self, label: &str, ok: bool, why: String) -> bool;
}
