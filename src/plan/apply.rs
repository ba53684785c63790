//! The only code that writes to the repository. All or nothing:
//! 1. check that every file is still what the plan was built from;
//! 2. write every new content to a temp file beside its target;
//! 3. move them into place in order, restoring the originals if any step
//!    fails;
//! 4. stage renames in the git index the way `git mv` does, and new files
//!    like `git add`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use tempfile::NamedTempFile;

use super::{Change, Plan};

/// What `apply` did beyond writing files.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Paths staged in the git index (renames and new files).
    pub staged: Vec<PathBuf>,
}

pub(crate) fn apply(plan: &Plan, git_root: Option<&Path>) -> Result<Applied> {
    apply_with(plan, git_root, None)
}

/// `fail_at` injects a failure before move number `n`, for tests.
fn apply_with(plan: &Plan, git_root: Option<&Path>, fail_at: Option<usize>) -> Result<Applied> {
    preflight(plan)?;
    // A rename into a sub-folder (a nested sqitch change) may need it made.
    let mut created = Vec::new();
    let staged_temps = create_parents(plan, &mut created)
        .and_then(|()| plan.changes.iter().map(stage).collect::<Result<Vec<_>>>());
    let temps = match staged_temps {
        Ok(t) => t,
        Err(err) => {
            remove_created(&created);
            return Err(err);
        }
    };
    let mut done = Vec::new();
    let result = (|| -> Result<Applied> {
        for (i, (tmp, change)) in temps.into_iter().zip(&plan.changes).enumerate() {
            let step = (|| -> Result<()> {
                if fail_at == Some(i) {
                    bail!("injected failure before writing {}", change.to.display());
                }
                tmp.persist(&change.to)
                    .with_context(|| format!("writing {}", change.to.display()))?;
                Ok(())
            })();
            if let Err(err) = step {
                return Err(rollback(plan, &done, err));
            }
            done.push(i);
            if change.is_rename() {
                let from = change.from.as_deref().expect("a rename has a source");
                if let Err(err) = std::fs::remove_file(from)
                    .with_context(|| format!("removing {}", from.display()))
                {
                    return Err(rollback(plan, &done, err));
                }
            }
        }
        let staged = match git_root {
            Some(root) => match stage_in_index(plan, root) {
                Ok(staged) => staged,
                Err(err) => return Err(rollback(plan, &done, err)),
            },
            None => Vec::new(),
        };
        Ok(Applied { staged })
    })();
    match result {
        Ok(applied) => {
            // As `git mv` does: a folder the renames left empty goes.
            for c in plan.changes.iter().filter(|c| c.is_rename()) {
                let from = c.from.as_deref().expect("a rename has a source");
                for dir in from.ancestors().skip(1) {
                    if dir.as_os_str().is_empty() || std::fs::remove_dir(dir).is_err() {
                        break;
                    }
                }
            }
            Ok(applied)
        }
        Err(err) => {
            remove_created(&created);
            Err(err)
        }
    }
}

/// Makes each missing folder a target needs, shallowest first, noting it.
fn create_parents(plan: &Plan, created: &mut Vec<PathBuf>) -> Result<()> {
    for c in &plan.changes {
        let Some(dir) = c.to.parent() else { continue };
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        for d in missing.into_iter().rev() {
            std::fs::create_dir(d)
                .with_context(|| format!("creating the folder {}", d.display()))?;
            created.push(d.to_path_buf());
        }
    }
    Ok(())
}

/// Removes the folders `create_parents` made, deepest first.
fn remove_created(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// Every source still holds what the plan read, and no target is in the way.
fn preflight(plan: &Plan) -> Result<()> {
    for c in &plan.changes {
        if let Some(from) = &c.from {
            let now = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
            if now != c.before {
                bail!(
                    "{} changed while migfix was working; nothing was written",
                    from.display()
                );
            }
        }
        if (c.is_new() || c.is_rename()) && c.to.symlink_metadata().is_ok() {
            bail!("{} already exists; nothing was written", c.to.display());
        }
    }
    Ok(())
}

/// The new content in a temp file in the target's folder, so that the
/// final move is a rename within one file system. Permissions are the
/// original's (a temp file starts at 0600).
fn stage(change: &Change) -> Result<NamedTempFile> {
    let dir = change
        .to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".migfix-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(&change.after)
        .and_then(|_| tmp.flush())
        .with_context(|| format!("writing into {}", dir.display()))?;
    let perms = match &change.from {
        Some(from) => std::fs::metadata(from)
            .with_context(|| format!("reading {}", from.display()))?
            .permissions(),
        None => default_permissions(),
    };
    tmp.as_file()
        .set_permissions(perms)
        .with_context(|| format!("setting permissions in {}", dir.display()))?;
    Ok(tmp)
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    std::fs::metadata(".")
        .map(|m| m.permissions())
        .expect("the current directory is readable")
}

/// Puts back every completed step, newest first, and returns the error
/// that caused it (with any failure to restore attached).
fn rollback(plan: &Plan, done: &[usize], cause: anyhow::Error) -> anyhow::Error {
    let mut failures = Vec::new();
    for &i in done.iter().rev() {
        let c = &plan.changes[i];
        let restored = (|| -> std::io::Result<()> {
            match &c.from {
                None => std::fs::remove_file(&c.to),
                Some(from) if from == &c.to => std::fs::write(from, &c.before),
                Some(from) => {
                    if !from.exists() {
                        std::fs::write(from, &c.before)?;
                        if let Ok(meta) = std::fs::metadata(&c.to) {
                            std::fs::set_permissions(from, meta.permissions())?;
                        }
                    }
                    std::fs::remove_file(&c.to)
                }
            }
        })();
        if let Err(e) = restored {
            failures.push(format!("{}: {e}", c.to.display()));
        }
    }
    if failures.is_empty() {
        cause.context("nothing was changed: every file was restored")
    } else {
        cause.context(anyhow!(
            "restoring failed for {}; check these files by hand",
            failures.join(", ")
        ))
    }
}

/// `git mv` for renames of tracked files: the index entry moves to the new
/// path with its old content, so the edits show as unstaged changes, as
/// after `git mv` and an edit. New files are added whole.
fn stage_in_index(plan: &Plan, root: &Path) -> Result<Vec<PathBuf>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out: Vec<_> = walk(dir)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        out.sort();
        out
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
        out
    }

    fn two_file_plan(dir: &Path) -> Plan {
        std::fs::create_dir_all(dir.join("v")).unwrap();
        std::fs::write(dir.join("v/0148_a.py"), "revision = '0148'\n").unwrap();
        std::fs::write(dir.join("v/0149_b.py"), "down_revision = '0148'\n").unwrap();
        std::fs::create_dir_all(dir.join("w")).unwrap();
        std::fs::write(dir.join("w/0150_c.py"), "revision = '0150'\n").unwrap();
        Plan {
            changes: vec![
                Change {
                    from: Some(dir.join("v/0148_a.py")),
                    to: dir.join("v/0151_a.py"),
                    before: b"revision = '0148'\n".to_vec(),
                    after: b"revision = '0151'\n".to_vec(),
                },
                Change {
                    from: Some(dir.join("v/0149_b.py")),
                    to: dir.join("v/0149_b.py"),
                    before: b"down_revision = '0148'\n".to_vec(),
                    after: b"down_revision = '0151'\n".to_vec(),
                },
                Change {
                    from: None,
                    to: dir.join("v/0152_merge.py"),
                    before: vec![],
                    after: b"new\n".to_vec(),
                },
                Change {
                    from: Some(dir.join("w/0150_c.py")),
                    to: dir.join("w/0153_c.py"),
                    before: b"revision = '0150'\n".to_vec(),
                    after: b"revision = '0153'\n".to_vec(),
                },
            ],
        }
    }

    #[test]
    fn applies_renames_edits_and_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let plan = two_file_plan(dir.path());
        apply(&plan, None).unwrap();
        assert!(!dir.path().join("v/0148_a.py").exists());
        assert_eq!(
            std::fs::read(dir.path().join("v/0151_a.py")).unwrap(),
            b"revision = '0151'\n"
        );
        assert_eq!(
            std::fs::read(dir.path().join("v/0149_b.py")).unwrap(),
            b"down_revision = '0151'\n"
        );
        assert_eq!(
            std::fs::read(dir.path().join("v/0152_merge.py")).unwrap(),
            b"new\n"
        );
        // No temp files are left behind.
        assert_eq!(
            std::fs::read(dir.path().join("w/0153_c.py")).unwrap(),
            b"revision = '0153'\n"
        );
        assert_eq!(walk(dir.path()).len(), 4);
    }

    #[test]
    fn a_failure_at_any_step_restores_everything() {
        // Before the first move, between the two renames, and before the last.
        for fail_at in 0..4 {
            let dir = tempfile::tempdir().unwrap();
            let plan = two_file_plan(dir.path());
            let before = snapshot(dir.path());
            let err = apply_with(&plan, None, Some(fail_at)).unwrap_err();
            assert!(
                format!("{err:#}").contains("nothing was changed"),
                "{err:#}"
            );
            assert_eq!(
                snapshot(dir.path()),
                before,
                "failure before step {fail_at}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plan = two_file_plan(dir.path());
        std::fs::set_permissions(
            dir.path().join("v/0149_b.py"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        apply(&plan, None).unwrap();
        let mode = std::fs::metadata(dir.path().join("v/0149_b.py"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        let mode = std::fs::metadata(dir.path().join("v/0152_merge.py"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn refuses_when_a_file_changed_since_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let plan = two_file_plan(dir.path());
        std::fs::write(dir.path().join("v/0149_b.py"), "edited meanwhile\n").unwrap();
        let before = snapshot(dir.path());
        assert!(apply(&plan, None).is_err());
        assert_eq!(snapshot(dir.path()), before);
    }
}
