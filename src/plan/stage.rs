//! The last steps of a write, as git would take them: renames and new
//! files staged in the index, folders the renames emptied removed. Shared
//! by `apply` and by `journal` when it completes an interrupted write.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use super::Plan;

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

/// `git mv` for renames of tracked files: the index entry moves to the new
/// path with its old content, so the edits show as unstaged changes, as
/// after `git mv` and an edit. New files are added whole.
pub(super) fn stage_in_index(plan: &Plan, root: &Path) -> Result<Vec<PathBuf>> {
    let repo = git2::Repository::open(root)
        .with_context(|| format!("opening the git repository at {}", root.display()))?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| anyhow!("{} has no work tree", root.display()))?
        .canonicalize()?;
    let mut index = repo.index().context("reading the git index")?;
    let mut staged = Vec::new();
    let rel = |p: &Path| -> Option<PathBuf> {
        let abs = p.parent()?.canonicalize().ok()?.join(p.file_name()?);
        abs.strip_prefix(&workdir).ok().map(Path::to_path_buf)
    };
    for c in &plan.changes {
        let Some(to) = rel(&c.to) else { continue };
        match &c.from {
            Some(from) if c.is_rename() => {
                let Some(from_rel) = rel_existing_or_removed(&workdir, from) else {
                    continue;
                };
                if let Some(mut entry) = index.get_path(&from_rel, 0) {
                    index.remove_path(&from_rel)?;
                    entry.path = index_path(&to);
                    entry.flags = (entry.flags & !0xfff) | (entry.path.len().min(0xfff) as u16);
                    index.add(&entry)?;
                    staged.push(c.to.clone());
                }
            }
            None => {
                index.add_path(&to)?;
                staged.push(c.to.clone());
            }
            Some(_) => {}
        }
    }
    index.write().context("writing the git index")?;
    Ok(staged)
}

/// A path as the git index holds it: its bytes (a name need not be
/// UTF-8), `/` between components.
#[cfg(unix)]
fn index_path(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn index_path(p: &Path) -> Vec<u8> {
    p.to_string_lossy().replace('\\', "/").into_bytes()
}

/// A path relative to the work tree, for a file that may be gone already.
fn rel_existing_or_removed(workdir: &Path, p: &Path) -> Option<PathBuf> {
    let abs = p.parent()?.canonicalize().ok()?.join(p.file_name()?);
    abs.strip_prefix(workdir).ok().map(Path::to_path_buf)
}
