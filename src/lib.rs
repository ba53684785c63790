//! migfix: finds and repairs broken database-migration chains.
//!
//! The pipeline: `cli` → `config` (where the chains are) → `chains` (read
//! them, statically) → `graph` (heads, problems) → `report` (the one
//! printer).

pub mod cli;
pub mod report;

mod chains;
mod commands;
mod complete;
mod config;
mod diff;
mod error;
mod facts;
mod files;
mod findings;
mod frameworks;
mod git;
mod graph;
mod outcome;
mod parallel;
mod plan;
mod python;
mod repair;
mod secrets;
mod sql;
mod suppress;
mod utc;

use anyhow::Result;

use crate::cli::{Cli, Command};

pub use complete::answer as answer_completion;
pub use error::ExitStatus;
pub use parallel::READER_STACK;

/// The format of what standard output shows: `--format`'s, or, where a
/// finding command writes that to `--output-file`, the text report (or
/// GitHub annotations in a GitHub Actions job).
pub fn stdout_format(cli: &Cli) -> cli::Format {
    let file = match &cli.command {
        Command::Check(a) => a.output_file.is_some(),
        Command::Diagnose(a) => a.output_file.is_some(),
        Command::Collisions(a) => a.output_file.is_some(),
        _ => false,
    };
    if file {
        report::sink::stdout_format()
    } else {
        cli.global.format
    }
}

/// Runs one command. Errors mean exit 2 (usage, unreadable input, bad
/// configuration); `main` renders them through `report::error`.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    if let Command::Completions(args) = &cli.command {
        return commands::completions(args);
    }
    if cli.global.format.is_ci()
        && !matches!(
            cli.command,
            Command::Check(_) | Command::Diagnose(_) | Command::Collisions(_)
        )
    {
        anyhow::bail!(
            "--format {} is for check, diagnose and collisions; use text or json here",
            clap::ValueEnum::to_possible_value(&cli.global.format)
                .map_or_else(String::new, |v| v.get_name().to_string())
        );
    }
    let config = frameworks::configure(&cli.global)?;
    // A write that was killed leaves its journal: writes wait until it is
    // undone or finished; reads say so and go on.
    let found = plan::journal::find(&config.root);
    match &cli.command {
        Command::Undo(_) | Command::Recover(_) => {}
        Command::Renumber(_)
        | Command::Repoint(_)
        | Command::Dedupe(_)
        | Command::MergeHeads(_)
        | Command::Rebase(_) => {
            if let Some(err) = plan::journal::refusal(&found) {
                return Err(err);
            }
        }
        _ => report::journal_left(&found),
    }
    // A repair checks the whole repository: every chain must be readable.
    let repair = match &cli.command {
        Command::Renumber(_) => Some("renumber"),
        Command::Repoint(_) => Some("repoint"),
        Command::Dedupe(_) => Some("dedupe"),
        Command::MergeHeads(_) => Some("merge-heads"),
        Command::Rebase(_) => Some("rebase"),
        Command::Recover(_) => Some("recover"),
        Command::Gate(_) => Some("gate"),
        _ => None,
    };
    if let Some(command) = repair {
        config.whole(command)?;
    }
    match &cli.command {
        Command::Chains => commands::chains(&config),
        Command::Heads => commands::heads(&config),
        Command::History(args) => commands::history(&config, args),
        Command::Check(args) => commands::check(&config, args),
        Command::Renumber(args) => commands::renumber::run(&config, args),
        Command::Repoint(args) => commands::repoint::run(&config, args),
        Command::Dedupe(args) => commands::dedupe::run(&config, args),
        Command::MergeHeads(args) => commands::merge_heads::run(&config, args),
        Command::Diagnose(args) => commands::diagnose::run(&config, args),
        Command::Collisions(args) => commands::collisions::run(&config, args),
        Command::Rebase(args) => commands::rebase::run(&config, args),
        Command::Recover(args) => commands::recover::run(&config, args),
        Command::Gate(args) => commands::gate::run(&config, args),
        Command::Undo(args) => commands::undo(&config, args.finish),
        Command::Completions(_) => unreachable!("handled above"),
    }
}

/// Hooks for the integration tests and the benchmark: the two Python
/// readers, so that tests can prove they agree.
#[doc(hidden)]
pub mod testing {
    pub use crate::frameworks::testing::*;

    /// The constants as a comparable string, from the full parse.
    pub fn read_full(src: &[u8]) -> Result<String, String> {
        crate::python::read_full(src)
            .map(|c| format!("{c:?}"))
            .map_err(|e| e.to_string())
    }

    /// The verdict every command gives on one file: `Err` with the line and
    /// message where it would stop, as importing the file would. Runs on a
    /// thread with the readers' stack, as the binary does.
    pub fn verdict(src: &[u8]) -> Result<(), String> {
        let src = src.to_vec();
        std::thread::Builder::new()
            .stack_size(crate::READER_STACK)
            .spawn(move || {
                crate::python::read_checked(&src)
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
            .expect("a reader thread can be spawned")
            .join()
            .expect("the readers do not panic")
    }

    /// The same from the fast path; `None` where it declines.
    pub fn read_fast(src: &[u8]) -> Option<String> {
        crate::python::read_fast(src).map(|c| format!("{c:?}"))
    }

    /// What `upgrade()` does, from the full parse, or the syntax error that
    /// stops the full reader. The parse is of the text as decoded for the
    /// readers (invalid UTF-8 in a comment, which CPython allows, made
    /// valid), as `check` reads it.
    pub fn steps_full(src: &[u8]) -> Result<String, String> {
        crate::python::read_full(src).map_err(|e| e.to_string())?;
        let s = crate::python::source(src).map_err(|e| e.to_string())?;
        Ok(format!(
            "{:?}",
            crate::python::calls::upgrade_steps(&s.bytes)
        ))
    }

    /// The constants and what `upgrade()` does from the full parse, or its
    /// syntax error, with every display of rows of `from` bytes or more
    /// blanked after its first row (`usize::MAX`: none).
    pub fn full_blanking(src: &[u8], from: usize) -> Result<String, String> {
        crate::python::read_full_blanking(src, from)
            .map(|r| format!("{r:?}"))
            .map_err(|e| e.to_string())
    }

    /// How many displays of rows of `from` bytes or more the parse is given
    /// blanked; `None` on a tokenizer error.
    pub fn rows_blanked(src: &[u8], from: usize) -> Option<usize> {
        crate::python::rows_blanked_count(src, from)
    }

    /// The same from the quick parse; `None` where it declines.
    pub fn steps_quick(src: &[u8]) -> Option<String> {
        crate::python::steps_quick(src).map(|s| format!("{s:?}"))
    }

    /// The quick parse's steps with displays of rows of `from` bytes or
    /// more blanked, as [`full_blanking`] gives them; `None` where it
    /// declines.
    pub fn steps_quick_blanking(src: &[u8], from: usize) -> Option<String> {
        crate::python::steps_quick_blanking(src, from).map(|s| format!("{s:?}"))
    }

    /// alembic.ini parsing, for the property tests.
    pub fn parse_ini(text: &str) -> Result<(), String> {
        crate::config::ini::Ini::parse(text)
            .map(drop)
            .map_err(|e| e.to_string())?;
        crate::config::ini::Ini::parse_git(text)
            .map(drop)
            .map_err(|e| e.to_string())
    }
}
