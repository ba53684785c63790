//! A repair proves itself before it writes: the whole repository is read
//! again as the plan leaves it, every chain judged as `check` judges it, and
//! compared with before. A repair that would leave any chain worse writes
//! nothing (unless forced); one that leaves its own chain unhealthy says so
//! and ends with exit 1.
//!
//! The repository as the plan leaves it is a scratch copy of the tree that
//! discovery reads (hard links where the file system allows, so it costs
//! little), with the plan's renames and edits made there, never in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::diagnose;
use super::judge::{judge, Judged};
use crate::chains::Chain;
use crate::cli::Global;
use crate::config::discover::is_skipped_dir;
use crate::config::{rel, user_path, Config};
use crate::findings::Finding;
use crate::outcome::Verdict;
use crate::plan::Plan;

/// Reads the repository before and after `plan`; `target` is the chain the
/// repair means to heal.
pub(crate) fn verify(config: &Config, target: &str, plan: &Plan) -> Result<Verdict> {
    let before = load_whole(&config.global, &config.root, &config.cwd)?;
    let scratch = scratch_dir(&config.root)?;
    let view = scratch.path().join("tree");
    // Where each chain lives: folders discovery skips (a `target` of SQL
    // scripts) are copied there too.
    let homes: Vec<PathBuf> = config
        .every
        .iter()
        .map(|c| c.source.location())
        .map(|l| {
            if l.is_file() {
                l.parent().map(Path::to_path_buf).unwrap_or(l)
            } else {
                l
            }
        })
        .collect();
    copy_tree(&config.root, &view, &homes)
        .and_then(|()| apply_in(&config.root, &view, plan))
        .context("cannot make the scratch copy that verifies the repair; nothing was written")?;
    let cwd = config
        .cwd
        .strip_prefix(&config.root)
        .map_or_else(|_| config.cwd.clone(), |r| view.join(r));
    let mut global = config.global.clone();
    global.versions = moved(&config.global.versions, &config.root, &view, &config.cwd);
    global.plan = moved(&config.global.plan, &config.root, &view, &config.cwd);
    let after = match load_whole(&global, &view, &cwd) {
        Ok(chains) => chains,
        Err(e) => {
            return Ok(Verdict {
                worse: vec![format!(
                    "the repository would not load: {}",
                    e.to_string().replace(&format!("{}/", view.display()), "")
                )],
                ..Verdict::default()
            })
        }
    };
    let renames: BTreeMap<String, String> = plan
        .changes
        .iter()
        .filter(|c| c.is_rename())
        .filter_map(|c| {
            Some((
                rel(&config.root, c.from.as_ref()?),
                rel(&config.root, &c.to),
            ))
        })
        .collect();
    let ci = diagnose::ci_roles(&config.root);
    // As `check` judges without flags: what the configuration ignores.
    let no_choice = crate::suppress::Choice::default();
    // Chains are matched by framework and location from the root: a chain
    // named after the root folder has another name in the copy.
    let judged = |root: &Path, chains: &[Chain]| -> BTreeMap<(String, String), (String, Judged)> {
        chains
            .iter()
            .map(|c| {
                let key = (c.kind().to_string(), rel(root, &c.location()));
                (
                    key,
                    (
                        c.name().to_string(),
                        judge(root, c, chains, &ci, &no_choice),
                    ),
                )
            })
            .collect()
    };
    let (was, now) = (judged(&config.root, &before), judged(&view, &after));
    let keyed = |root: &Path, chains: &'_ [Chain]| -> BTreeMap<(String, String), usize> {
        chains
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.kind().to_string(), rel(root, &c.location())), i))
            .collect()
    };
    let (before_at, after_at) = (keyed(&config.root, &before), keyed(&view, &after));
    let mut verdict = Verdict {
        read_again: after.len(),
        ..Verdict::default()
    };
    for (key, (name, b)) in &was {
        let Some((_, a)) = now.get(key) else {
            verdict.worse.push(format!("{name}: no longer found"));
            continue;
        };
        let mut old = keys(b, &renames);
        // A suppression comment a repair leaves idle (its finding healed)
        // is no harm done.
        let now_found = a.failing.iter().chain(a.warnings());
        for f in now_found.filter(|f| f.kind != crate::suppress::UNUSED) {
            match old.get_mut(&key_of(f, None)) {
                Some(n) if *n > 0 => *n -= 1,
                _ => verdict.worse.push(format!(
                    "{name}: {}{}",
                    f.path
                        .as_ref()
                        .map(|p| format!("{p}: "))
                        .unwrap_or_default(),
                    f.message
                )),
            }
        }
        // An id the plan takes away is left in no name, header or head file.
        if let (Some(&i), Some(&j)) = (before_at.get(key), after_at.get(key)) {
            let gone = gone_ids(&before[i], &after[j], (&config.root, &view), &renames);
            if !gone.is_empty() {
                let of = crate::frameworks::of(&after[j].spec);
                for (path, what) in of.leftover_ids(&after[j], &gone) {
                    verdict
                        .worse
                        .push(format!("{name}: {}: {what}", rel(&view, &path)));
                }
            }
        }
        if a.failing.len() < b.failing.len() {
            verdict.healed.push(name.clone());
        }
        if name == target {
            verdict.target_healthy = a.failing.is_empty();
            verdict.still = a.failing.iter().map(|f| f.message.clone()).collect();
        }
    }
    verdict.worse.sort();
    verdict.worse.dedup();
    Ok(verdict)
}

/// The ids the plan takes away from a chain: declared by a file before,
/// by no revision after; each with the id that file declares instead.
fn gone_ids(
    before: &Chain,
    after: &Chain,
    (root, view): (&Path, &Path),
    renames: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let now: BTreeMap<String, &str> = after
        .revisions
        .iter()
        .map(|r| (rel(view, &r.path), r.id.as_str()))
        .collect();
    let declared: std::collections::BTreeSet<&str> =
        after.revisions.iter().map(|r| r.id.as_str()).collect();
    before
        .revisions
        .iter()
        .filter(|r| !declared.contains(r.id.as_str()))
        .filter_map(|r| {
            let at = rel(root, &r.path);
            let at = renames.get(&at).unwrap_or(&at);
            Some((r.id.clone(), now.get(at)?.to_string()))
        })
        .collect()
}

/// Every chain of the repository at `root`, configured as the command line
/// said but whichever chain it named.
fn load_whole(global: &Global, root: &Path, cwd: &Path) -> Result<Vec<Chain>> {
    let mut global = global.clone();
    global.root = Some(root.to_path_buf());
    global.chain = None;
    let whole = crate::frameworks::configure_at(&global, cwd)?;
    crate::frameworks::load(&whole)
}

/// Paths given on the command line, as they are in the copy: relative ones
/// are resolved from `cwd` first.
fn moved(paths: &[PathBuf], root: &Path, view: &Path, cwd: &Path) -> Vec<PathBuf> {
    paths
        .iter()
        .map(|p| {
            let abs = user_path(root, cwd, p);
            let abs = abs.canonicalize().unwrap_or(abs);
            abs.strip_prefix(root)
                .map_or_else(|_| p.clone(), |r| view.join(r))
        })
        .collect()
}

/// How many findings of each kind a chain had in each file, with files the
/// plan renames under their new names: a finding after the repair beyond
/// those makes the repository worse.
fn keys(j: &Judged, renames: &BTreeMap<String, String>) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for f in j.failing.iter().chain(j.warnings()) {
        *out.entry(key_of(f, Some(renames))).or_insert(0) += 1;
    }
    out
}

fn key_of(f: &Finding, renames: Option<&BTreeMap<String, String>>) -> (String, String) {
    let path = f.path.clone().unwrap_or_default();
    let path = renames.and_then(|r| r.get(&path).cloned()).unwrap_or(path);
    (f.kind.to_string(), path)
}

/// A folder for the copy on the repository's own file system, so that hard
/// links work: inside `.git` where there is one (discovery never reads it),
/// else the system's temporary folder.
fn scratch_dir(root: &Path) -> Result<tempfile::TempDir> {
    let git = root.join(".git");
    let base = if git.is_dir() {
        git
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("migfix-verify-")
        .tempdir_in(&base)
        .or_else(|_| tempfile::tempdir())
        .context("cannot make a scratch folder to verify the repair in; nothing was written")
}

/// The tree discovery reads, linked (or copied) into `to`: folders it skips
/// are left out unless they are below one of `homes`; symlinks stay
/// symlinks.
fn copy_tree(from: &Path, to: &Path, homes: &[PathBuf]) -> Result<()> {
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
    while let Some((src, dst)) = stack.pop() {
        std::fs::create_dir_all(&dst).with_context(|| format!("creating {}", dst.display()))?;
        let Ok(entries) = std::fs::read_dir(&src) else {
            continue;
        };
        for entry in entries.flatten() {
            let (s, d) = (entry.path(), dst.join(entry.file_name()));
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let kept = entry.file_name() != ".git" && homes.iter().any(|h| s.starts_with(h));
                if kept || !is_skipped_dir(&s) {
                    stack.push((s, d));
                }
            } else if kind.is_symlink() {
                if let Ok(target) = std::fs::read_link(&s) {
                    let _ = symlink(&target, &d);
                }
            } else if kind.is_file() && std::fs::hard_link(&s, &d).is_err() {
                std::fs::copy(&s, &d).with_context(|| format!("copying {}", s.display()))?;
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::fs::copy(target, link).map(drop)
}

/// The plan made in the copy. A file is replaced, never written through, so
/// that a hard link never changes the repository's own file.
fn apply_in(root: &Path, view: &Path, plan: &Plan) -> Result<()> {
    let inside = |p: &Path| -> Result<PathBuf> {
        p.strip_prefix(root)
            .map(|r| view.join(r))
            .with_context(|| format!("{} is outside the repository", p.display()))
    };
    for c in &plan.changes {
        if c.is_rename() {
            let from = inside(c.from.as_deref().expect("a rename has a source"))?;
            let _ = std::fs::remove_file(from);
        }
    }
    for c in &plan.changes {
        let to = inside(&c.to)?;
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let _ = std::fs::remove_file(&to);
        std::fs::write(&to, &c.after).with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(())
}
