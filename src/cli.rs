//! The command line: clap derive types only. Turning them into a checked
//! configuration is `config`'s job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

// The long help (`--help`, `migfix help COMMAND`) ends with sections that
// the man pages reuse: a heading line ending in `:`, then lines indented by
// two spaces: `TERM  text` entries (exit codes, variables, files), prose,
// or, under `Examples:`, command lines.

/// The exit status of the commands that only read and list.
macro_rules! reading_exit {
    () => {
        "Exit status:\n  \
0\n      the chains were read and printed\n  \
2\n      a usage error, an unreadable or unparsable file, a bad configuration, or no chain found\n\n"
    };
}

/// What every repair does, and its exit status.
macro_rules! repair_notes {
    () => {
        "Writing:\n  Every repair shows a unified diff first and verifies the whole repository as the \
repair leaves it: a plan that would give any chain a problem it does not have now writes \
nothing, unless --force. On a terminal it asks `Apply? [y/N]`; --yes applies without asking, \
--dry-run only prints. It applies all or nothing (see `migfix undo`), stages the change in git \
and prints how to undo it.\n\n\
Exit status:\n  \
0\n      written (with --dry-run: would be written), and the chain passes check afterwards\n  \
1\n      refused with nothing written (a problem the repair would add, uncommitted changes \
without --allow-dirty, no --yes and no terminal, not confirmed), or written to a chain that \
still fails check\n  \
2\n      a usage error, an unknown revision, an unreadable or unparsable file, a bad \
configuration, or a write the system refused; nothing was written\n\n"
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "migfix",
    version,
    about = "Finds and repairs broken database-migration chains (Alembic, sqitch and Django)",
    long_about = "Finds and repairs broken database-migration chains: Alembic revision graphs, \
sqitch plans and Django migrations. Every chain is read statically; repository code is never \
imported or executed.\n\n\
Run it from anywhere inside a repository: migfix finds every chain below the root, or reads the \
ones that --versions, --plan or migfix.toml name. `migfix help COMMAND` shows a command's \
details, exit status and examples.",
    after_long_help = TOP_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Global options")]
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
    #[arg(long, value_name = "NAME", global = true)]
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
    ///
    /// Each Alembic chain shows its id scheme (sequential with its width, hash ids, mixed or
    /// named) and its file naming in Alembic's `file_template` notation, with where that comes
    /// from (`file_template`, inferred or default).
    #[command(after_long_help = concat!(
        reading_exit!(),
        "Examples:\n  migfix chains\n  migfix chains --format json\n  migfix --chain console chains"
    ))]
    Chains,
    /// Print the heads of each chain
    ///
    /// With one chain selected it prints exactly what `alembic heads` would, one `ID (head)` line
    /// per head; with several, each group is headed by the chain's name. -v adds each head's file.
    #[command(after_long_help = concat!(
        reading_exit!(),
        "Examples:\n  migfix heads\n  migfix --chain console heads | wc -l      # count the heads\n  \
migfix heads --format json"
    ))]
    Heads,
    /// Print each chain's graph, newest first, with branch and merge points marked
    ///
    /// With --dot, a Graphviz digraph: heads are bold, depends_on edges dashed and a dangling
    /// down_revision a red edge labelled `missing`.
    #[command(after_long_help = concat!(
        reading_exit!(),
        "Examples:\n  migfix --chain console history\n  migfix history --dot | dot -Tsvg > history.svg"
    ))]
    History(HistoryArgs),
    /// The CI gate: one head, one base, no duplicate, dangling or cyclic revisions, per chain
    ///
    /// For each chain it prints `NAME: OK (...)` or every problem with its file, line, failure
    /// class, fix and, where migfix can carry it out, the command that fixes it (`run:`). Every
    /// revision file is parsed in full, and the static failure classes A-F are checked too. No
    /// database and no Python are needed.
    #[command(after_long_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Give a revision a new number: rename its file, edit its id, and make its children follow
    ///
    /// The new id defaults to the next number free in the chain and on every other local or
    /// remote-tracking branch. A head beside another head of the same parent goes onto that
    /// head, so the chain ends linear. For sqitch it renames a change (plan, requirements and
    /// scripts); for Django, a migration and every reference to it.
    #[command(after_long_help = concat!(
        repair_notes!(),
        "Examples:\n  \
migfix renumber 0148                   # the next free number, onto the other head\n  \
migfix renumber 0146 --to 0193 --dry-run\n  \
migfix renumber migrations/versions/0038_promote_demo_paper_fill.py   # one of two 0038s\n  \
migfix renumber shop 0005_product_weight   # a Django migration of app shop"
    ))]
    Renumber(RenumberArgs),
    /// Re-point every reference to a missing revision at an existing one
    ///
    /// OLD must be declared by no revision, NEW by one. Alembic: every down_revision and
    /// depends_on naming OLD, and the `Revises:` line; Django: every dependency, replaces and
    /// run_before entry; sqitch: each requirement, in the plan. Only those tokens are edited.
    #[command(after_long_help = concat!(
        repair_notes!(),
        "Examples:\n  \
migfix repoint 4f1c2d9e8a7b --drop   # an Alembic depends_on on a revision that exists nowhere\n  \
migfix repoint 0059_backfill_invoices_currency 0059   # an Alembic depends_on\n  \
migfix repoint shop.0005_product_wieght shop.0005_product_weight   # a Django dependency\n  \
migfix repoint oss_chef:rolse oss_chef:roles   # a sqitch requirement on another project"
    ))]
    Repoint(RepointArgs),
    /// Drop the later declaration of a sqitch change declared twice with no tag between
    ///
    /// The first declaration stays byte for byte (sqitch knows a deployed change by a hash of its
    /// line); the later one goes, and what only it listed is named. A change planned again after
    /// a tag is a rework, which is sqitch's way, and is left alone.
    #[command(after_long_help = concat!(
        repair_notes!(),
        "Examples:\n  migfix dedupe 08-job-owner --dry-run\n  \
migfix --chain queue/migrations/sqitch dedupe 08-job-owner --yes"
    ))]
    Dedupe(DedupeArgs),
    /// Add a no-DDL merge revision over the current heads, numbered past every claim
    ///
    /// Unlike `alembic merge heads`, it keeps the chain's numbering and file naming: the id is
    /// the next number free in the chain and on every other branch, the content comes from the
    /// chain's script.py.mako. Heads on distinct labelled branches are intended and not merged.
    /// Afterwards it lists the open branches that still revise an older revision.
    #[command(after_long_help = concat!(
        repair_notes!(),
        "Examples:\n  migfix merge-heads --dry-run\n  \
migfix --chain console merge-heads --label tax_heads --yes"
    ))]
    MergeHeads(MergeHeadsArgs),
    /// Classify migration failures (runbook classes A–F) statically from the tree, or from a CI log
    ///
    /// The classes: A a missing seed row, B a missing Postgres role, C a duplicate revision or
    /// several heads, D a non-IMMUTABLE function in an index, E a broken down_revision, F a
    /// table created twice. Without --log the tree is read statically, with the checks `check`
    /// runs. With --log a failed CI or deploy log is classified, and the tree, where it can be
    /// read, names the failing migration. Each finding has its evidence, the fix, ready SQL where
    /// one applies, and the migfix command.
    #[command(after_long_help = DIAGNOSE_HELP)]
    Diagnose(DiagnoseArgs),
    /// Find sequence-number collisions and stale parents across branches
    ///
    /// Everything is read from git refs, without a checkout, `gh` or a token, so fetch the pull
    /// requests first. For each branch, the migrations it adds since its merge-base with the
    /// base are compared with the base and with every other branch: a collision is one id (or
    /// sqitch sequence number) claimed twice, a stale parent a migration that revises something
    /// other than the base's head, so that it adds a head when merged.
    #[command(after_long_help = COLLISIONS_HELP)]
    Collisions(CollisionsArgs),
    /// Move this branch's new migrations after the base branch's head, renumbered past every claim
    ///
    /// The migrations this branch adds since its merge-base with the base are renumbered to the
    /// next free numbers above the base's head and every claim on other branches; the first is
    /// pointed at the base's head, read from the base's tree. A base with several heads is
    /// refused: run `migfix merge-heads` there first.
    #[command(after_long_help = concat!(
        repair_notes!(),
        "Examples:\n  git fetch origin && migfix rebase --dry-run\n  \
migfix rebase --base origin/main --yes && git merge origin/main"
    ))]
    Rebase(RebaseArgs),
    /// Walk through an incident: diagnose, choose a fix, preview, apply, check again
    ///
    /// On a terminal it asks: arrow keys move, Enter picks, Esc or Ctrl-C stops with nothing
    /// written. It offers the fixes that apply, recommended first, shows the diff, applies all or
    /// nothing, runs check again, then prints what is not a chain edit (a seed row, a role) and
    /// the branches that must rebase. Without a terminal (or with `--log -`) it does not prompt:
    /// it prints the diagnosis and the commands that would fix it.
    #[command(after_long_help = RECOVER_HELP)]
    Recover(RecoverArgs),
    /// Run each chain's migration round trip on a fresh database of a real Postgres
    ///
    /// Alembic chains: `alembic upgrade head`, a single-head check, `alembic downgrade -1`,
    /// `alembic upgrade head`; sqitch chains: `sqitch deploy --verify`, `sqitch revert --to
    /// @HEAD^ -y`, `sqitch deploy --verify`. Roles and seed rows come from migfix.toml. A failed
    /// step's output is classified as `diagnose --log` does. Without --database-url a throwaway
    /// server is started from the installed Postgres binaries and removed afterwards.
    #[command(after_long_help = GATE_HELP)]
    Gate(GateArgs),
    /// Put back every file of a write that was killed or crashed while applying (from its journal)
    ///
    /// A write (renumber, repoint, dedupe, merge-heads, rebase, recover) keeps a journal while it
    /// applies: in the git directory (migfix-journal), or in .migfix at the root outside git. If
    /// the process is killed, the journal stays and every migfix command says so; writes refuse
    /// to start until it is undone or finished. undo puts back every file's bytes and the git
    /// index; with no journal it does nothing.
    #[command(after_long_help = UNDO_HELP)]
    Undo(UndoArgs),
    /// Print a shell completion script
    ///
    /// A static script of the commands and flags, for packagers. Completions that also know the
    /// repository (chain names, revision ids, Django apps and migration names) come from migfix
    /// itself as you type: `source <(COMPLETE=bash migfix)` in ~/.bashrc (`COMPLETE=zsh` in
    /// ~/.zshrc, `COMPLETE=fish migfix | source` for fish).
    #[command(
        after_long_help = "Exit status:\n  0\n      the script was printed\n  2\n      a usage error\n\n\
Examples:\n  migfix completions bash > ~/.local/share/bash-completion/completions/migfix\n  \
migfix completions zsh > ~/.zfunc/_migfix\n  \
migfix completions fish > ~/.config/fish/completions/migfix.fish\n  \
echo 'source <(COMPLETE=bash migfix)' >> ~/.bashrc   # completes ids and chains too"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
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
pub struct UndoArgs {
    /// Complete the interrupted write instead of putting the files back (refused, with nothing changed, when a new file was not written whole)
    #[arg(long)]
    pub finish: bool,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// A failed CI or deploy log to diagnose as well; `-` reads standard input (and so cannot prompt)
    #[arg(long, value_name = "FILE|-")]
    pub log: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct RebaseArgs {
    /// The branch to follow [default: origin/main, else main]
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
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
pub struct RenumberArgs {
    /// The revision: its id, a sqitch change name or its sequence number, or its file
    /// (needed when two files claim one id)
    #[arg(value_name = "REV|PATH|APP")]
    pub target: String,
    /// Django: the migration's name, after its app (`renumber shop 0005_b`)
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// The new id [default: the next number free in the chain and on every other branch]
    #[arg(long, value_name = "ID")]
    pub to: Option<String>,
    /// The new parent [default: the other head when REV forks beside it, else the parent stays]
    #[arg(long, value_name = "REV")]
    pub onto: Option<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
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

const TOP_HELP: &str = "Exit status:\n  \
0\n      success: nothing wrong found, or the change was applied\n  \
1\n      problems found (check, diagnose, collisions, recover), a failed round trip (gate), a change \
refused or not confirmed, or a repair written to a chain that still fails check\n  \
2\n      a usage error, an unreadable or unparsable input, a bad configuration, or no chain found\n\n\
Environment:\n  \
NO_COLOR\n      set and not empty: no colour with --color auto\n  \
CLICOLOR_FORCE\n      set and not 0: colour with --color auto even when piped (NO_COLOR wins)\n  \
CI\n      set, not empty and not false: no progress line on stderr\n  \
GITHUB_ACTIONS\n      true: with --output-file, GitHub annotations on stdout instead of the text \
report\n  \
GITHUB_STEP_SUMMARY\n      a file: --format github appends a Markdown table of every finding \
to it\n\n\
Files:\n  \
migfix.toml\n      at the root: the chains ([[chain]] tables), their roles and gate seeds, and \
ignore\n  \
pyproject.toml\n      [tool.migfix], read as migfix.toml is when there is none; \
[tool.alembic], as Alembic reads it\n  \
alembic.ini\n      each section with a script_location is an Alembic chain\n  \
sqitch.conf\n      the plans its targets and engines read are sqitch chains\n  \
sqitch.plan\n      a sqitch chain, read with sqitch's defaults where no sqitch.conf is above it\n  \
migrations/\n      a Django app's migrations package; the apps below one manage.py are one \
chain\n  \
migfix-journal\n      in the git directory (.migfix at the root outside git): the journal of \
a write being applied, left behind if it is killed; see migfix undo\n\n\
Examples:\n  \
migfix chains\n  \
migfix heads --format json\n  \
migfix check\n  \
migfix history --dot | dot -Tsvg > history.svg\n  \
migfix help check";

const CHECK_HELP: &str = "Exit status:\n  \
0\n      no chain has an error (warnings and suppressed findings do not count)\n  \
1\n      a chain has an error\n  \
2\n      a usage error, an unreadable or unparsable file, a bad configuration, or no chain found\n\n\
Warnings and errors:\n  \
An error fails the gate: several heads, a duplicate id, a dangling down_revision or \
depends_on, a cycle, an invalid id, a sqitch plan that sqitch refuses, and classes D and F. A \
warning does not: a file name that disagrees with its id, several bases, classes A and B (a \
seed row or a role that production has and the gate's fresh database must be given), what \
sqitch deploys anyway, a suppression that suppresses nothing. Warnings go to stderr (to \
`warnings` in JSON; -q hides them) and never change the exit status.\n\n  \
A finding the team has judged is suppressed by `# migfix: ignore[F]` on its line (`-- migfix: \
ignore[F]` in SQL), by `ignore = [...]` in migfix.toml or [tool.migfix], or by --ignore; it is \
counted, not failed. A code is a class (A-F) or a finding's kind (duplicate-table).\n\n\
Examples:\n  \
migfix check\n  \
migfix --chain console check -q             # errors only, one chain\n  \
migfix check --ignore F                     # tables created twice were judged\n  \
migfix check --format sarif --output-file migfix.sarif   # SARIF to a file, text on stdout\n  \
migfix check --format json";

const DIAGNOSE_HELP: &str = "Exit status:\n  \
0\n      nothing found\n  \
1\n      a finding (in the tree, or in the log with --log)\n  \
2\n      a usage error, an unreadable log, an unreadable or unparsable file, a bad configuration, or \
no chain found (without --log)\n\n\
Warnings and errors:\n  \
Every finding counts, also those that check only warns about (classes A and B, a file name \
that disagrees with its id): diagnose answers what will fail, so any finding exits 1. Its \
warnings are what it could not judge or what needs a word: a part of the tree it could not \
read (with --log the log is classified anyway, and the exit status is the log's), a \
suppression that suppresses nothing. Warnings go to stderr (to `warnings` in JSON; -q hides \
them) and never change the exit status. --ignore and --select work as for check (not with \
--log).\n\n\
Examples:\n  \
migfix diagnose                        # the tree, statically\n  \
migfix diagnose --log gate.log         # a failed CI or deploy log\n  \
migfix diagnose --log - < gate.log     # the log on standard input\n  \
migfix diagnose --select A,B --format json";

const COLLISIONS_HELP: &str = "Exit status:\n  \
0\n      no collision and no stale parent\n  \
1\n      a collision or a stale parent\n  \
2\n      a usage error, not a git work tree, no base branch, an unreadable or unparsable file, a \
bad configuration, or no chain found\n\n\
Warnings and errors:\n  \
Every collision and every stale parent is a finding and exits 1; collisions has no warnings \
of its own. It does not judge the chains themselves: that is check's job.\n\n\
Examples:\n  \
git fetch origin '+refs/pull/*/head:refs/remotes/pr/*'\n  \
migfix collisions --refs 'pr/*'\n  \
migfix collisions --base origin/main --format json";

const RECOVER_HELP: &str = "Exit status:\n  \
0\n      nothing is left to do: nothing was wrong, or every fix was applied and the chains pass\n  \
1\n      something is left: no terminal (the commands were printed), a fix declined, refused or \
left to do by hand, or a chain that still fails\n  \
2\n      a usage error, an unreadable log, an unreadable or unparsable file, a bad configuration, or \
no chain found\n\n\
Examples:\n  \
migfix recover\n  \
migfix recover --log gate.log\n  \
migfix recover < /dev/null           # no terminal: print the diagnosis and the commands";

const GATE_HELP: &str = "Exit status:\n  \
0\n      every chain passed\n  \
1\n      a step failed (classified, with its fix), or a chain of a kind the gate does not run\n  \
2\n      a usage error, a server it cannot reach, no Postgres binaries, no alembic or sqitch, \
Ctrl-C, an unreadable or unparsable file, or a bad configuration\n\n\
Examples:\n  \
migfix gate\n  \
migfix gate --postgres-bin /usr/lib/postgresql/15/bin --keep\n  \
migfix gate --database-url postgresql://postgres@127.0.0.1:5432/postgres";

const UNDO_HELP: &str = "Exit status:\n  \
0\n      the write was put back (or, with --finish, completed), or there was nothing to undo\n  \
2\n      it could not be: another migfix holds the lock, --finish was refused with nothing \
changed, or a file could not be put back (the journal is kept; run undo again)\n\n\
Examples:\n  \
migfix undo\n  \
migfix undo --finish";
