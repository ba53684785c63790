//! The command line: clap derive types only. Turning them into a checked
//! configuration is `config`'s job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

#[derive(Debug, Parser)]
#[command(
    name = "migfix",
    version,
    about = "Finds and repairs broken database-migration chains (Alembic, sqitch and Django)",
    long_about = "Finds and repairs broken database-migration chains: Alembic revision graphs, \
sqitch plans and Django migrations. Every chain is read statically; repository code is never imported or executed.\n\n\
Exit codes: 0 nothing wrong, 1 problems found or a change refused, 2 usage or input errors.",
    after_help = "Examples:\n  migfix chains\n  migfix heads --format json\n  migfix check\n  migfix history --dot | dot -Tsvg > history.svg"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Repository root [default: the enclosing git work tree, else the current directory]
    #[arg(short = 'C', long = "root", value_name = "DIR", global = true)]
    pub root: Option<PathBuf>,
    /// Read this Alembic versions directory as a chain, instead of discovery (repeatable)
    #[arg(long, value_name = "DIR", global = true)]
    pub versions: Vec<PathBuf>,
    /// Read this sqitch plan as a chain, instead of discovery (repeatable)
    #[arg(long, value_name = "FILE", global = true)]
    pub plan: Vec<PathBuf>,
    /// Only this chain: its name, a unique part of it, or a Django app's label
    #[arg(long, value_name = "NAME", global = true, add = ArgValueCompleter::new(crate::complete::chain_names))]
    pub chain: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// When to use colour
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Print only what was asked for: no warnings or hints
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (repeat for more)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    /// GitHub workflow annotations, and a job summary when GITHUB_STEP_SUMMARY is set (check, diagnose, collisions)
    Github,
    /// SARIF 2.1.0 (check, diagnose, collisions)
    Sarif,
    /// JUnit XML, one test case per chain (check, diagnose, collisions)
    Junit,
    /// GitLab Code Quality JSON (check, diagnose, collisions)
    Gitlab,
}

impl Format {
    /// The formats for CI systems, which only the finding commands print.
    pub fn is_ci(self) -> bool {
        !matches!(self, Format::Text | Format::Json)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every chain: name, kind, location, revision count and numbering scheme
    Chains,
    /// Print the heads of each chain
    Heads,
    /// Print each chain's graph, newest first, with branch and merge points marked
    History(HistoryArgs),
    /// The CI gate: one head, one base, no duplicate, dangling or cyclic revisions, per chain
    Check(CheckArgs),
    /// Give a revision a new number: rename its file, edit its id, and make its children follow
    Renumber(RenumberArgs),
    /// Re-point every reference to a missing revision at an existing one
    Repoint(RepointArgs),
    /// Drop the later declaration of a sqitch change declared twice with no tag between
    Dedupe(DedupeArgs),
    /// Add a no-DDL merge revision over the current heads, numbered past every claim
    MergeHeads(MergeHeadsArgs),
    /// Classify migration failures (runbook classes A–F) statically from the tree, or from a CI log
    Diagnose(DiagnoseArgs),
    /// Find sequence-number collisions and stale parents across branches
    Collisions(CollisionsArgs),
    /// Move this branch's new migrations after the base branch's head, renumbered past every claim
    Rebase(RebaseArgs),
    /// Walk through an incident: diagnose, choose a fix, preview, apply, check again
    Recover(RecoverArgs),
    /// Run each chain's migration round trip on a fresh database of a real Postgres
    Gate(GateArgs),
    /// Put back every file of a write that was killed or crashed while applying (from its journal)
    Undo(UndoArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  migfix gate\n  migfix gate --database-url postgresql://postgres@127.0.0.1:5432/postgres"
)]
pub struct GateArgs {
    /// A Postgres server to create the throwaway databases on (the user must be allowed to CREATE DATABASE); without it, a throwaway server is started from the installed Postgres binaries
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// The folder of the Postgres server binaries (initdb, pg_ctl, postgres) for the throwaway server
    #[arg(long, value_name = "DIR", conflicts_with = "database_url")]
    pub postgres_bin: Option<std::path::PathBuf>,
    /// Keep the databases afterwards, to look at them
    #[arg(long)]
    pub keep: bool,
    /// The Alembic command to run
    #[arg(long, value_name = "CMD", default_value = "alembic")]
    pub alembic: String,
}

#[derive(Debug, Args)]
#[command(
    after_help = "A write (renumber, repoint, merge-heads, rebase, recover) keeps a journal while it applies: in the git\ndirectory (migfix-journal), or in .migfix at the root outside git. If the process is killed,\nthe journal stays, and every migfix command says so; writes refuse to start until it is undone\nor finished. With no journal, undo does nothing.\n\nExamples:\n  migfix undo\n  migfix undo --finish"
)]
pub struct UndoArgs {
    /// Complete the interrupted write instead of putting the files back (refused, with nothing changed, when a new file was not written whole)
    #[arg(long)]
    pub finish: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "On a terminal it asks; arrow keys move, Enter picks, Esc or Ctrl-C stops with nothing written.\nWithout a terminal it prints the diagnosis and the commands that would fix it, and exits 1."
)]
pub struct RecoverArgs {
    /// A failed CI or deploy log to diagnose as well; `-` reads standard input (and so cannot prompt)
    #[arg(long, value_name = "FILE|-")]
    pub log: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  git fetch origin && migfix rebase --dry-run\n  migfix rebase --base origin/main --yes && git merge origin/main"
)]
pub struct RebaseArgs {
    /// The branch to follow [default: origin/main, else main]
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  git fetch origin '+refs/pull/*/head:refs/remotes/pr/*'\n  migfix collisions --refs 'pr/*'\n  migfix collisions --base origin/main --format json"
)]
pub struct CollisionsArgs {
    /// The branch everything merges into [default: origin/main, else main]
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Only branches matching this glob (repeatable) [default: every local and remote-tracking branch but the base]
    #[arg(long = "refs", value_name = "GLOB")]
    pub refs: Vec<String>,
    /// Write the report in the chosen --format to PATH (whole, or not at all) and print the text report on stdout (GitHub annotations when GITHUB_ACTIONS=true)
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// A CI or deploy log to classify (`-` reads standard input); without it, the tree is read statically
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["ignore", "select"])]
    pub log: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub choice: ChoiceArgs,
    /// Write the report in the chosen --format to PATH (whole, or not at all) and print the text report on stdout (GitHub annotations when GITHUB_ACTIONS=true)
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
}

/// Which findings a reading command reports, besides what migfix.toml's
/// `ignore` and `# migfix: ignore[...]` comments suppress.
#[derive(Debug, Args, Clone, Default)]
pub struct ChoiceArgs {
    /// Do not report these: classes A–F or findings' kinds, comma-separated (repeatable); counted as suppressed
    #[arg(long, value_name = "CODE", value_delimiter = ',', value_parser = code)]
    pub ignore: Vec<String>,
    /// Report only these: classes A–F or findings' kinds, comma-separated (repeatable)
    #[arg(long, value_name = "CODE", value_delimiter = ',', value_parser = code)]
    pub select: Vec<String>,
}

fn code(s: &str) -> Result<String, String> {
    s.parse::<crate::config::ignore::Code>()
        .map(|c| c.to_string())
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  migfix merge-heads --dry-run\n  migfix --chain console merge-heads --label tax_heads --yes"
)]
pub struct MergeHeadsArgs {
    /// Words for the file name and docstring [default: the head ids]
    #[arg(long, value_name = "SLUG")]
    pub label: Option<String>,
    /// The merge revision's id [default: the next free number, or a fresh hash id in a hash chain]
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
    /// Merge the heads of this labelled branch only (where several branches have forked)
    #[arg(long, value_name = "LABEL")]
    pub branch: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// How a command that writes behaves.
#[derive(Debug, Args, Clone, Default)]
pub struct WriteArgs {
    /// Print the diff and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Write even when a file to be changed has uncommitted changes
    #[arg(long)]
    pub allow_dirty: bool,
    /// Write even when the repository, read again as the repair leaves it,
    /// would have problems it does not have now (and, for sqitch, rename a
    /// change that a tag follows, so probably deployed)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  migfix renumber 0148                   # the next free number, onto the other head\n  migfix renumber 0145 --to 0193 --dry-run\n  migfix renumber migrations/versions/0038_promote_demo_paper_fill.py   # one of two files claiming 0038\n  migfix renumber shop 0005_product_weight   # a Django migration of app shop"
)]
pub struct RenumberArgs {
    /// The revision: its id, a sqitch change name or its sequence number, or its file
    /// (needed when two files claim one id)
    #[arg(value_name = "REV|PATH|APP", add = ArgValueCompleter::new(crate::complete::revisions))]
    pub target: String,
    /// Django: the migration's name, after its app (`renumber shop 0005_b`)
    #[arg(value_name = "NAME", add = ArgValueCompleter::new(crate::complete::migration_names))]
    pub name: Option<String>,
    /// The new id [default: the next number free in the chain and on every other branch]
    #[arg(long, value_name = "ID")]
    pub to: Option<String>,
    /// The new parent [default: the other head when REV forks beside it, else the parent stays]
    #[arg(long, value_name = "REV", add = ArgValueCompleter::new(crate::complete::revisions))]
    pub onto: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "OLD must be declared by no revision, NEW by one. Only the reference tokens are edited.\n\nExamples:\n  migfix repoint 4f1c2d9e8a7b --drop   # an Alembic depends_on on a revision that exists nowhere\n  migfix repoint 0059_backfill_invoices_currency 0059   # an Alembic depends_on\n  migfix repoint shop.0005_product_wieght shop.0005_product_weight   # a Django dependency\n  migfix repoint oss_chef:rolse oss_chef:roles   # a sqitch requirement on another project"
)]
pub struct RepointArgs {
    /// The missing revision that references name (sqitch: `PROJECT:CHANGE` for another project's)
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The existing revision they should name instead
    #[arg(value_name = "NEW", required_unless_present = "drop")]
    pub new: Option<String>,
    /// Take each Alembic depends_on entry naming OLD out instead (a dependency on a revision that exists nowhere)
    #[arg(long, conflicts_with = "new")]
    pub drop: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The first declaration stays byte for byte (sqitch knows a deployed change by a hash of its line); the later one goes, and what only it listed is named. A change planned again after a tag is a rework, which is sqitch's way, and is left alone.\n\nExample:\n  migfix dedupe 08-job-owner"
)]
pub struct DedupeArgs {
    /// The sqitch change declared twice
    #[arg(value_name = "CHANGE")]
    pub name: String,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print a Graphviz digraph instead
    #[arg(long)]
    pub dot: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub choice: ChoiceArgs,
    /// Write the report in the chosen --format to PATH (whole, or not at all) and print the text report on stdout (GitHub annotations when GITHUB_ACTIONS=true)
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
