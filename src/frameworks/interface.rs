//! The one interface every framework answers: how its chains are read,
//! numbered, named and shown, what other branches claim, its repairs, what
//! diagnose reads of its revisions and the gate's round trip. Commands ask
//! a chain's framework rather than asking which framework it is.

use std::path::{Path, PathBuf};

use crate::chains::{Chain, Kind, Naming, Revision, Scheme};
use anyhow::Result;

use crate::cli::{MergeHeadsArgs, RenumberArgs};
use crate::config::{ChainSpec, Config};
use crate::error::Diag;
use crate::git::{Claim, Repo};
use crate::plan::{Builder, Plan};
use crate::repair::merge_heads::Prepared;
use crate::repair::Preview;

/// What reading a chain gives: its revisions in the framework's load order,
/// those a squash replaces (Django), and warnings.
pub(crate) struct Read {
    pub revisions: Vec<Revision>,
    pub replaced: Vec<Revision>,
    pub warnings: Vec<Diag>,
}

/// The revisions of each project of the repository by project name (sqitch's
/// `%project`), for references from one chain into another.
pub(crate) type Projects = std::collections::HashMap<String, Vec<String>>;

/// One finding of a framework's own lint.
#[derive(Debug)]
pub(crate) struct Lint {
    pub line: usize,
    pub kind: &'static str,
    pub message: String,
    pub fix: String,
}

/// How a framework speaks of its revisions.
pub(crate) struct Words {
    pub one: &'static str,
    pub many: &'static str,
    /// What a revision does to its parent.
    pub revises: &'static str,
    /// A revision nothing follows, and what a branch label stands for.
    pub head: &'static str,
    pub branch: &'static str,
}

/// How the common graph reads a framework's revisions.
pub(crate) struct Rules {
    /// Branch labels are shown beside ids (Alembic's labels; Django's
    /// label is the app, already in the id).
    pub show_labels: bool,
    /// Heads, bases and numbers count per branch label (Django: per app,
    /// where a head is a leaf node and two leaves are a fork).
    pub bases_per_label: bool,
    /// The chain is a plan, deployed in its order (sqitch): revisions are
    /// shown by plan line, and what runs before one is what precedes it.
    pub plan_order: bool,
    /// Ids, file names and labels follow Alembic's rules.
    pub alembic_ids: bool,
    /// Duplicate ids and dangling pointers are reported by the framework's
    /// own lint, with its own lines (sqitch's plan).
    pub own_lint: bool,
    /// A reference left to another project or tool (sqitch's
    /// `project:change`), never dangling.
    pub external: fn(&str) -> bool,
}

pub(crate) trait Framework: Sync {
    fn kind(&self) -> Kind;

    fn words(&self) -> Words {
        Words {
            one: "revision",
            many: "revisions",
            revises: "revises",
            head: "head",
            branch: "branch",
        }
    }

    fn rules(&self) -> Rules {
        Rules {
            show_labels: false,
            bases_per_label: false,
            alembic_ids: false,
            own_lint: false,
            plan_order: false,
            external: |_| false,
        }
    }

    /// A fork in the framework's own words: message, fix and command, or
    /// `None` for the common ones. `leaves` are the heads' ids, `label` the
    /// branch they share, `parent` the one revision they all revise.
    fn fork_words(
        &self,
        _leaves: &[String],
        _label: Option<&str>,
        _parent: Option<&str>,
    ) -> Option<(String, String, String)> {
        None
    }

    /// A reference to nothing in the framework's own words: message and
    /// fix (towards `suggestion`, the revision it most likely meant), or
    /// `None` for the common ones.
    fn dangling_words(
        &self,
        _rev: &str,
        _target: &str,
        _suggestion: Option<&str>,
    ) -> Option<(String, String)> {
        None
    }

    /// The framework's own lint of a chain beyond the graph (sqitch's
    /// plan), each with its line in [`Framework::lint_file`]; `projects`
    /// are the repository's chains by project name, for references across
    /// them.
    fn lint(&self, _chain: &Chain, _projects: &Projects) -> Vec<Lint> {
        Vec::new()
    }

    /// The file the lint's lines are in.
    fn lint_file(&self, spec: &ChainSpec) -> PathBuf {
        self.location(spec)
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

    /// The folder or file shown as the chain's location.
    fn location(&self, spec: &ChainSpec) -> PathBuf;

    /// The configuration file the chain comes from, if any.
    fn config_file(&self, spec: &ChainSpec) -> Option<PathBuf>;

    /// The folders a repair may write in.
    fn folders(&self, root: &Path, spec: &ChainSpec) -> Vec<PathBuf>;

    /// What other branches add to the chain, against HEAD.
    fn claims(&self, _repo: &Repo, _spec: &ChainSpec) -> Vec<Claim> {
        Vec::new()
    }

    /// The command that brings a database to `target` (`head` for all).
    fn upgrade_command(&self, root: &Path, spec: &ChainSpec, target: &str) -> String;

    /// What diagnose knows of each revision for classes A, B, D and F;
    /// nothing where the framework's operations are not read.
    fn facts(&self, chain: &Chain) -> Vec<crate::diagnose::facts::RevFacts> {
        crate::diagnose::facts::none(chain)
    }

    /// The tool the gate's round trip runs, and how to get it; `None`
    /// where the gate has no round trip for the framework.
    fn gate_tool(&self, _args: &crate::cli::GateArgs) -> Option<(Vec<String>, String)> {
        None
    }

    /// The gate's round trip on a fresh database; `Ok(true)` when it passed.
    fn round_trip(&self, _trip: &mut crate::gate::Trip<'_>, _chain: &Chain) -> Result<bool> {
        Ok(false)
    }

    /// Ways to name a revision besides its id and file: a sqitch sequence
    /// number; Django's `APP NAME`, or a name or number of one app.
    fn find(&self, _chain: &Chain, _target: &str, _name: Option<&str>) -> Vec<usize> {
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

    /// The base's chain plus the planned files must be whole.
    fn check_against_base(
        &self,
        _config: &Config,
        _chain: &Chain,
        _at_base: &Chain,
        _plan: &Plan,
    ) -> Result<()> {
        Ok(())
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
