//! The last steps of a write, as git would take them: the whole change
//! staged in the index, folders the renames emptied removed. Shared
//! by `apply` and by `journal` when it completes an interrupted write.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Plan;
use crate::git::holding;

/// As `git mv` does: a folder the renames left empty goes.
pub(super) fn remove_emptied(plan: &Plan) {
    for c in plan.changes.iter().filter(|c| c.is_rename()) {
        let from = c.from.as_deref().expect("a rename has a source");
        for dir in from.ancestors().skip(1) {
            if dir.as_os_str().is_empty() || std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// What the write left in the git index.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    /// Renamed, edited and added files, staged with their new bytes.
    pub staged: Vec<PathBuf>,
    /// Tracked files the write changed but the index does not hold: their
    /// index entry was not the bytes the write started from (staged or
    /// unstaged changes of the user's own), which `git add` would take too.
    pub left: Vec<PathBuf>,
}

/// The work tree of each repository that holds a file of `plan` (found
/// once per file), canonical, the one at `git_root` first, with the
/// changes it holds: a file inside a submodule belongs to the submodule.
pub(crate) fn by_repository<'p>(
    plan: &'p Plan,
    git_root: &Path,
) -> Vec<(PathBuf, Vec<&'p super::Change>)> {
    let top = git_root
        .canonicalize()
        .unwrap_or_else(|_| git_root.to_path_buf());
    let mut out: Vec<(PathBuf, Vec<&super::Change>)> = vec![(top, Vec::new())];
    for c in &plan.changes {
        let Some(workdir) = holding(&c.to).and_then(|r| r.workdir()?.canonicalize().ok()) else {
            continue;
        };
        match out.iter_mut().find(|(w, _)| *w == workdir) {
            Some((_, changes)) => changes.push(c),
            None => out.push((workdir, vec![c])),
        }
    }
    out
}

/// The whole repair in the index, so that `git commit` commits a tree that
/// loads: a tracked file renamed or edited is staged at its new path with
/// its new bytes (`git mv` plus `git add`), a new file is added. A tracked
/// file whose index entry is not the bytes the plan started from is left
/// to the user, and named. Untracked files stay untracked. Each file goes
/// into the index of the repository that holds it (see [`by_repository`]).
pub(super) fn stage_in_index(plan: &Plan, git_root: &Path) -> Result<Staged> {
    let mut out = Staged::default();
    for (workdir, inside) in by_repository(plan, git_root) {
        let repo = git2::Repository::open(&workdir)
            .with_context(|| format!("opening the git repository at {}", workdir.display()))?;
        stage_in(&repo, &workdir, &inside, &mut out)?;
    }
    Ok(out)
}

/// [`stage_in_index`] for the files of one repository.
fn stage_in(
    repo: &git2::Repository,
    workdir: &Path,
    changes: &[&super::Change],
    out: &mut Staged,
) -> Result<()> {
    let mut index = repo.index().context("reading the git index")?;
    let rel = |p: &Path| -> Option<PathBuf> {
        let abs = p.parent()?.canonicalize().ok()?.join(p.file_name()?);
        abs.strip_prefix(workdir).ok().map(Path::to_path_buf)
    };
    for c in changes {
        let Some(to) = rel(&c.to) else { continue };
        let Some(from) = &c.from else {
            index.add_path(&to)?;
            out.staged.push(c.to.clone());
            continue;
        };
        let Some(from_rel) = rel_existing_or_removed(workdir, from) else {
            continue;
        };
        let Some(entry) = index.get_path(&from_rel, 0) else {
            continue;
        };
        let clean = repo
            .find_blob(entry.id)
            .is_ok_and(|b| b.content() == c.before.as_slice());
        if !clean {
            out.left.push(c.to.clone());
            continue;
        }
        if c.is_rename() {
            index.remove_path(&from_rel)?;
        }
        index.add_path(&to)?;
        out.staged.push(c.to.clone());
    }
    index.write().context("writing the git index")?;
    Ok(())
}

/// A path relative to the work tree, for a file that may be gone already.
fn rel_existing_or_removed(workdir: &Path, p: &Path) -> Option<PathBuf> {
    let abs = p.parent()?.canonicalize().ok()?.join(p.file_name()?);
    abs.strip_prefix(workdir).ok().map(Path::to_path_buf)
}
