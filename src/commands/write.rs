//! Every repair command's last steps: show the plan, ask, hand it to the
//! applier, read the chains again, and say how to undo it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::chains::Chain;
use crate::cli::WriteArgs;
use crate::config::{rel, Config};
use crate::error::{Diag, ExitStatus, InputErrors, Refused};
use crate::git::Repo;
use crate::graph::Graph;
use crate::outcome::Preview;
use crate::plan::{apply, Plan};
use crate::report;

/// How a repair is verified before it writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The whole work tree read again as the plan leaves it.
    Tree,
    /// The plan is whole only once another branch is merged (a rebase):
    /// the command checked it against that branch's tree itself.
    Done,
}

/// A repair over the whole repository: `prepare` gets the chains `--chain`
/// selected, every chain (for references from one to another) and the git
/// repository, and plans; the plan is then verified as a whole tree and
/// written as [`finish`] does.
pub(crate) fn repair(
    config: &Config,
    write: &WriteArgs,
    prepare: impl FnOnce(&[Chain], &[Chain], Option<&Repo>) -> Result<(Preview, Plan)>,
) -> Result<ExitStatus> {
    let (chains, every) = crate::frameworks::load_every(config)?;
    let repo = Repo::discover(&config.root);
    let (preview, plan) = prepare(&chains, &every, repo.as_ref())?;
    finish(config, &preview, &plan, write, repo.as_ref(), Check::Tree)
}

/// Shows the plan, verifies it, then applies it if `--yes`, or if the user
/// says so on a terminal. Refuses without a terminal and without `--yes`.
pub(crate) fn finish(
    config: &Config,
    preview: &Preview,
    plan: &Plan,
    write: &WriteArgs,
    repo: Option<&Repo>,
    check: Check,
) -> Result<ExitStatus> {
    report::preview(config, preview, plan)?;
    let verdict = match check {
        Check::Tree => super::verify::verify(config, &preview.chain, plan)?,
        Check::Done => crate::outcome::Verdict {
            target_healthy: true,
            ..Default::default()
        },
    };
    if check == Check::Tree {
        report::verified(config, &preview.chain, &verdict)?;
    }
    if !verdict.worse.is_empty() && !write.force {
        return Err(Refused::new(format!(
            "the repository, read again as the repair leaves it, would have new problems:\n  {}",
            verdict.worse.join("\n  ")
        ))
        .help("fix those first (migfix check), or run again with --force to write anyway")
        .into());
    }
    // Exit 0 only for a chain that `check` passes afterwards.
    let status = if verdict.target_healthy {
        ExitStatus::Success
    } else {
        ExitStatus::Problems
    };
    if write.dry_run {
        report::done(config, preview, plan, false, None, &[], Some(&verdict))?;
        return Ok(status);
    }
    if let Some(repo) = repo {
        if !write.allow_dirty {
            let sources: Vec<_> = plan.changes.iter().filter_map(|c| c.from.clone()).collect();
            let dirty = repo.uncommitted(&sources);
            if !dirty.is_empty() {
                let list: Vec<String> = dirty.iter().map(|p| rel(&config.root, p)).collect();
                return Err(
                    Refused::new(format!("uncommitted changes in {}", list.join(", ")))
                        .help("commit or stash them first, or pass --allow-dirty")
                        .into(),
                );
            }
        }
    }
    if !write.yes {
        let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        if !interactive {
            return Err(Refused::new("no terminal to confirm on")
                .help("review the diff above, then run again with --yes")
                .into());
        }
        if !report::confirm("Apply?")? {
            return Err(Refused::new("not confirmed").into());
        }
    }
    let undo = undo_note(config, plan, repo);
    report::undo(config, &undo)?;
    let git_root = repo.map(|r| r.workdir().to_path_buf());
    let applied = apply::apply(plan, &config.root, git_root.as_deref())?;
    let after = crate::frameworks::load(config)?;
    let heads: Vec<String> = after
        .iter()
        .filter(|c| c.name() == preview.chain)
        .flat_map(|c| {
            let g = Graph::build(c);
            g.heads()
                .into_iter()
                .map(|i| g.rev(i).id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    report::done(
        config,
        preview,
        plan,
        true,
        Some(&applied),
        &heads,
        Some(&verdict),
    )?;
    Ok(status)
}

/// How to put things back: the commands, with HEAD as it was before. Files
/// inside a submodule are put back by its own git (`git -C SUBMODULE`).
fn undo_note(config: &Config, plan: &Plan, repo: Option<&Repo>) -> Vec<String> {
    let Some(top) = repo else {
        return plan
            .changes
            .iter()
            .filter(|c| c.is_rename())
            .map(|c| {
                let shown = |p: &Path| shell_word(p.strip_prefix(&config.root).unwrap_or(p));
                format!(
                    "mv {} {} (then undo the edits shown above)",
                    shown(&c.to),
                    shown(c.from.as_deref().expect("a rename has a source"))
                )
            })
            .collect();
    };
    let mut lines = Vec::new();
    for (workdir, changes) in crate::plan::stage::by_repository(plan, top.workdir()) {
        let Some(own) = Repo::discover(&workdir) else {
            continue;
        };
        let sub = (own.workdir() != top.workdir()).then(|| own.workdir().to_path_buf());
        let Some(head) = own.head().filter(|_| !changes.is_empty()) else {
            continue;
        };
        let (git, base) = match &sub {
            None => ("git".to_string(), config.root.clone()),
            Some(dir) => (
                format!("git -C {}", shell_word(&rel_path(&config.root, dir))),
                dir.clone(),
            ),
        };
        let shown = |p: &Path| shell_word(&rel_path(&base, p));
        let short = &head.sha[..head.sha.len().min(12)];
        lines.push(format!(
            "HEAD{} was {short}{}",
            sub.as_ref()
                .map(|d| format!(" of {}", rel_path(&config.root, d).display()))
                .unwrap_or_default(),
            head.branch.map(|b| format!(" on {b}")).unwrap_or_default()
        ));
        for c in changes.iter().filter(|c| c.is_new()) {
            lines.push(format!("{git} rm -f {}", shown(&c.to)));
        }
        for c in changes.iter().filter(|c| c.is_rename()) {
            lines.push(format!(
                "{git} mv {} {}",
                shown(&c.to),
                shown(c.from.as_deref().expect("a rename has a source"))
            ));
        }
        let restored: Vec<String> = changes
            .iter()
            .filter_map(|c| c.from.as_deref().map(shown))
            .collect();
        if !restored.is_empty() {
            lines.push(format!("{git} checkout {short} -- {}", restored.join(" ")));
        }
    }
    lines
}

/// `path` below `base`, canonically where both exist, else as given.
fn rel_path(base: &Path, path: &Path) -> PathBuf {
    let canon = |p: &Path| {
        p.canonicalize()
            .ok()
            .or_else(|| Some(p.parent()?.canonicalize().ok()?.join(p.file_name()?)))
    };
    match (canon(base), canon(path)) {
        (Some(b), Some(p)) if p.starts_with(&b) => p.strip_prefix(&b).unwrap_or(&p).to_path_buf(),
        _ => path.strip_prefix(base).unwrap_or(path).to_path_buf(),
    }
}

/// A path as a shell word, so that the undo commands can be pasted: as it
/// is when plain, else quoted; a name that is not UTF-8 in bash's `$'...'`
/// with its bytes escaped, since a lossy name would name another file.
fn shell_word(p: &Path) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"_./@%+=:,-".contains(&b);
    match p.to_str() {
        Some(s) if !s.is_empty() && s.bytes().all(plain) => s.to_string(),
        Some(s) => format!("'{}'", s.replace('\'', r"'\''")),
        None => {
            let mut out = String::from("$'");
            for &b in path_bytes(p).iter() {
                match b {
                    b'\'' | b'\\' => out.extend(['\\', char::from(b)]),
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02x}")),
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().into()
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> std::borrow::Cow<'_, [u8]> {
    p.to_string_lossy().into_owned().into_bytes().into()
}

/// Of the chains `among`, the one repair `plan` finds something to do in:
/// none is an error (`nothing` names where it looked), and so are several
/// (`again` is the command for one of them). Chains that read one file (a
/// plan's engines) plan one edit.
pub(crate) fn one_chain(
    config: &Config,
    among: &[Chain],
    subject: &str,
    plan: impl Fn(&Chain) -> Result<Option<(Preview, Plan)>>,
    nothing: String,
    help: &str,
    again: impl Fn(&str) -> String,
) -> Result<(Preview, Plan)> {
    let mut found: Vec<(&Chain, Preview, Plan)> = Vec::new();
    for chain in among {
        if let Some((preview, planned)) = plan(chain)? {
            if !found.iter().any(|(_, _, p)| same_changes(p, &planned)) {
                found.push((chain, preview, planned));
            }
        }
    }
    match found.len() {
        1 => {
            let (_, preview, plan) = found.pop().expect("one");
            Ok((preview, plan))
        }
        0 => Err(InputErrors::one(Diag::new(
            subject,
            None,
            format!(
                "{nothing} {}",
                match among {
                    [one] => one.name().to_string(),
                    _ => "any chain".to_string(),
                }
            ),
        ))
        .with_help(help)
        .into()),
        _ => {
            let names: Vec<&str> = found.iter().map(|(c, _, _)| c.name()).collect();
            let files: Vec<String> = found
                .iter()
                .flat_map(|(_, _, p)| p.changes.iter().map(|c| rel(&config.root, &c.to)))
                .collect();
            Err(InputErrors::one(Diag::new(
                subject,
                None,
                format!(
                    "several chains name {subject}: {} (in {})",
                    names.join(", "),
                    files.join(", ")
                ),
            ))
            .with_help(format!("pick one: {}", again(names[0])))
            .into())
        }
    }
}

/// Whether two plans change the same files the same way.
fn same_changes(a: &Plan, b: &Plan) -> bool {
    a.changes.len() == b.changes.len()
        && a.changes
            .iter()
            .zip(&b.changes)
            .all(|(x, y)| x.to == y.to && x.from == y.from && x.after == y.after)
}
