//! Dynamic shell completion (`source <(COMPLETE=bash migfix)`): chain names
//! for `--chain`, and the repository's revision ids, Django apps and
//! migration names for `renumber` and `--onto`, read as the command would
//! read them (`-C` and `--chain` on the line being completed are followed).
//! A repository that cannot be read completes nothing, never an error.

use std::ffi::{OsStr, OsString};
use std::sync::OnceLock;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};

use crate::chains::Chain;
use crate::cli::{Cli, Global};

/// The words of the line being completed (set before clap's engine runs).
static WORDS: OnceLock<Vec<OsString>> = OnceLock::new();

/// Answers the shell when it asks for completions (`COMPLETE` is set), and
/// exits; otherwise returns at once.
pub fn answer() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if std::env::var_os("COMPLETE").is_some_and(|v| !v.is_empty() && v != "0") {
        // The words after `--`, as the shell's registration passes them.
        let words = match args.iter().position(|a| a == "--") {
            Some(n) => args[n + 1..].to_vec(),
            None => Vec::new(),
        };
        let _ = WORDS.set(words);
    }
    clap_complete::CompleteEnv::with_factory(command).complete();
}

/// The command line with the completers that read the repository (here,
/// not in `cli`, which knows nothing of chains).
fn command() -> clap::Command {
    let with = |f: fn(&OsStr) -> Vec<CompletionCandidate>| {
        move |a: clap::Arg| a.add(ArgValueCompleter::new(f))
    };
    Cli::command()
        .mut_arg("chain", with(chain_names))
        .mut_subcommand("renumber", |s| {
            s.mut_arg("target", with(revisions))
                .mut_arg("name", with(migration_names))
                .mut_arg("onto", with(revisions))
        })
}

/// `-C DIR` and `--chain NAME` as typed so far on the line.
fn global() -> Global {
    let mut g = Global::default();
    let words = WORDS.get().map(Vec::as_slice).unwrap_or_default();
    let mut it = words.iter().map(|w| w.to_string_lossy());
    while let Some(w) = it.next() {
        let value = |flag: &str, it: &mut dyn Iterator<Item = std::borrow::Cow<'_, str>>| {
            w.strip_prefix(&format!("{flag}="))
                .map(str::to_string)
                .or_else(|| {
                    (w == flag)
                        .then(|| it.next().map(|v| v.into_owned()))
                        .flatten()
                })
        };
        if let Some(v) = value("--root", &mut it).or_else(|| value("-C", &mut it)) {
            g.root = Some(v.into());
        } else if let Some(v) = value("--chain", &mut it) {
            g.chain = Some(v);
        }
    }
    g
}

fn chains(every: bool) -> Vec<Chain> {
    let mut g = global();
    if every {
        g.chain = None;
    }
    let Ok(config) = crate::frameworks::configure(&g) else {
        return Vec::new();
    };
    crate::frameworks::load(&config).unwrap_or_default()
}

fn matching(current: &OsStr, found: Vec<(String, String)>) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let mut seen = std::collections::BTreeSet::new();
    found
        .into_iter()
        .filter(|(v, _)| v.starts_with(current.as_ref()) && seen.insert(v.clone()))
        .map(|(v, help)| CompletionCandidate::new(v).help(Some(help.into())))
        .collect()
}

/// `--chain`: every chain's name, and the parts (apps) it may name.
pub(crate) fn chain_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let found = chains(true)
        .iter()
        .flat_map(|c| {
            let own = (c.name().to_string(), format!("{} chain", c.kind()));
            let parts = c
                .spec
                .source
                .parts()
                .into_iter()
                .map(|p| (p, format!("an app of {}", c.name())));
            std::iter::once(own).chain(parts).collect::<Vec<_>>()
        })
        .collect();
    matching(current, found)
}

/// `renumber REV` and `--onto REV`: every revision's id (with its file),
/// and for a project of apps, each app's label.
pub(crate) fn revisions(current: &OsStr) -> Vec<CompletionCandidate> {
    let file = |r: &crate::chains::Revision| {
        let name = r.path.file_name().unwrap_or_default().to_string_lossy();
        format!("{name}:{}", r.line)
    };
    let found = chains(false)
        .iter()
        .flat_map(|c| {
            let ids = c
                .revisions
                .iter()
                .filter(|r| c.in_focus(r))
                .map(|r| (r.id.clone(), file(r)));
            let apps = c
                .revisions
                .iter()
                .filter_map(|r| r.part.as_ref())
                .map(|p| (p.label.clone(), "an app".to_string()));
            ids.chain(apps).collect::<Vec<_>>()
        })
        .collect();
    matching(current, found)
}

/// `renumber APP NAME`: the migration names (of the app typed before, when
/// it is one).
pub(crate) fn migration_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let words = WORDS.get().map(Vec::as_slice).unwrap_or_default();
    // The word before the one being completed.
    let app = words
        .iter()
        .rev()
        .nth(1)
        .map(|w| w.to_string_lossy().into_owned());
    let found = chains(false)
        .iter()
        .flat_map(|c| {
            c.revisions
                .iter()
                .filter_map(|r| r.part.as_ref())
                .filter(|p| app.as_deref().is_none_or(|a| a == p.label))
                .map(|p| (p.name.clone(), format!("a migration of {}", p.label)))
                .collect::<Vec<_>>()
        })
        .collect();
    matching(current, found)
}
