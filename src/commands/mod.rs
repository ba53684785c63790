//! The commands, one module each (the read-only ones here): load the
//! chains, ask their frameworks, compute, and hand the outcome to `report`.

pub(crate) mod cluster;
pub(crate) mod collisions;
pub(crate) mod dedupe;
pub(crate) mod diagnose;
pub(crate) mod gate;
pub(crate) mod judge;
pub(crate) mod merge_heads;
pub(crate) mod rebase;
pub(crate) mod recover;
pub(crate) mod renumber;
pub(crate) mod repoint;
pub(crate) mod verify;
pub(crate) mod write;

use anyhow::Result;
use clap::CommandFactory;

use crate::chains::{self};
use crate::cli::{CheckArgs, Cli, CompletionsArgs, HistoryArgs};
use crate::config::Config;
use crate::error::ExitStatus;
use crate::findings;
use crate::report;

pub(crate) fn chains(config: &Config) -> Result<ExitStatus> {
    let chains = crate::frameworks::load(config)?;
    report::chains(config, &chains)?;
    config.status(ExitStatus::Success)
}

pub(crate) fn heads(config: &Config) -> Result<ExitStatus> {
    let chains = crate::frameworks::load(config)?;
    report::heads(config, &chains)?;
    config.status(ExitStatus::Success)
}

pub(crate) fn history(config: &Config, args: &HistoryArgs) -> Result<ExitStatus> {
    let chains = crate::frameworks::load(config)?;
    report::history(config, &chains, args.dot)?;
    config.status(ExitStatus::Success)
}

/// The CI gate. Files are parsed in full, so a syntax error anywhere in a
/// revision fails the gate just as importing it would. The static failure
/// classes run too: D and F fail the gate, A and B (what the gate's fresh
/// database must be given) are warnings. So is what Alembic itself does not
/// stop at: file names that disagree with the chain's naming, several bases.
pub(crate) fn check(config: &Config, args: &CheckArgs) -> Result<ExitStatus> {
    let choice = crate::suppress::Choice::of(&args.choice);
    let mut chains = crate::frameworks::load(config)?;
    let ci = diagnose::ci_roles(&config.root);
    let mut judged: Vec<_> = chains
        .iter()
        .map(|c| {
            // The static classes read every migration's body: seconds on a
            // chain of thousands, so say what is happening.
            let _progress = report::Progress::start(
                config,
                c.revisions.len(),
                &format!("checking {}", c.name()),
            );
            judge::judge(&config.root, c, &chains, &ci, &choice)
        })
        .collect();
    let mut found = Vec::with_capacity(chains.len());
    let mut warned = Vec::with_capacity(chains.len());
    let mut suppressed = Vec::with_capacity(chains.len());
    for (chain, j) in chains.iter_mut().zip(judged.drain(..)) {
        chain
            .warnings
            .extend(j.naming.iter().map(findings::as_warning));
        chain.warnings.extend(left_temp_files(&config.root, chain));
        chain
            .warnings
            .extend(j.classes.iter().map(diagnose::as_warning));
        warned.push(j.warnings().cloned().collect::<Vec<_>>());
        found.push(j.failing);
        suppressed.push(j.suppressed);
    }
    let per_chain: Vec<_> = chains.iter().zip(found).collect();
    let file = args.output_file.as_deref();
    report::sink::report(config, file, |c| {
        report::check(c, &per_chain, &warned, &suppressed)
    })?;
    config.status(if per_chain.iter().any(|(_, f)| !f.is_empty()) {
        ExitStatus::Problems
    } else {
        ExitStatus::Success
    })
}

pub(crate) fn completions(args: &CompletionsArgs) -> Result<ExitStatus> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "migfix", &mut out);
    report::raw(&out)?;
    Ok(ExitStatus::Success)
}

/// Puts back (or, with `finish`, completes) a write that was interrupted.
pub(crate) fn undo(config: &Config, finish: bool) -> Result<ExitStatus> {
    let undone = if finish {
        crate::plan::journal::finish(&config.root)?
    } else {
        crate::plan::journal::undo(&config.root)?
    };
    report::undone(config, undone.as_ref())?;
    Ok(ExitStatus::Success)
}

/// The applier's temp files left in a chain's folders by a write that was
/// killed: never read as migrations, but worth a word.
fn left_temp_files(root: &std::path::Path, chain: &chains::Chain) -> Vec<crate::error::Diag> {
    let mut dirs: Vec<&std::path::Path> = chain
        .revisions
        .iter()
        .flat_map(|r| {
            let scripts = r.scripts.iter().flat_map(|s| s.paths.iter());
            std::iter::once(&r.path).chain(scripts)
        })
        .filter_map(|p| p.parent())
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<_> = entries
            .flatten()
            .filter(|e| crate::plan::journal::is_temp_name(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        names.sort();
        for path in names {
            out.push(crate::error::Diag::new(
                crate::config::rel(root, &path),
                None,
                "a temp file left by a migfix write that was interrupted; `migfix undo` removes it (or delete it)",
            ));
        }
    }
    out
}
