//! The only code that writes to the repository. All or nothing, even when
//! the process is killed:
//! 1. check that every file is still what the plan was built from;
//! 2. write the journal (`journal`): the plan and every original, synced;
//! 3. write every new content to a temp file beside its target;
//! 4. move them into place in order, putting everything back from the
//!    journal if any step fails;
//! 5. stage the whole change in the git index (`git mv`, then `git add`
//!    of the files it changed); then remove the journal.
//!
//! A failure is an error naming the file, relative to the root, and the OS
//! error as the system gives it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

use super::journal;
use super::stage::stage_in_index;
use super::{Change, Plan};
use crate::config::rel;

/// What `apply` did beyond writing files.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Paths staged in the git index with their new bytes.
    pub staged: Vec<PathBuf>,
    /// Tracked paths the write changed but left out of the index: they had
    /// changes of the user's own.
    pub left: Vec<PathBuf>,
}

/// Applies `plan`; paths in messages are shown relative to `root`.
pub(crate) fn apply(plan: &Plan, root: &Path, git_root: Option<&Path>) -> Result<Applied> {
    apply_with(plan, root, git_root, None)
}

/// `fail_at` injects a failure before move number `n`, for tests.
fn apply_with(
    plan: &Plan,
    root: &Path,
    git_root: Option<&Path>,
    fail_at: Option<usize>,
) -> Result<Applied> {
    let failed = |what: &str, path: &Path, e: std::io::Error| {
        anyhow!("cannot {what} {}: {e}", rel(root, path))
    };
    // The index of each repository that holds a file of the plan: the
    // repository's own, then its submodules'.
    let indexes: Vec<PathBuf> = git_root
        .map(|g| super::stage::by_repository(plan, g))
        .unwrap_or_default()
        .iter()
        .filter_map(|(w, _)| git2::Repository::open(w).ok())
        .map(|r| r.path().join("index"))
        .collect();
    preflight(plan, root, &indexes)?;
    let created = missing_parents(plan);
    let journal = journal::begin(root, plan, &created, &indexes)?;
    let mut moved = false;
    let result = (|| -> Result<Applied> {
        for d in &created {
            std::fs::create_dir(d).map_err(|e| failed("create the folder", d, e))?;
        }
        for (i, c) in plan.changes.iter().enumerate() {
            write_temp(c, &journal.temp(i)).map_err(|(p, what, e)| failed(what, &p, e))?;
        }
        journal::sync(root);
        for (i, change) in plan.changes.iter().enumerate() {
            if fail_at == Some(i) {
                bail!("injected failure before writing {}", rel(root, &change.to));
            }
            std::fs::rename(journal.temp(i), &change.to)
                .map_err(|e| failed("write", &change.to, e))?;
            moved = true;
            if change.is_rename() {
                let from = change.from.as_deref().expect("a rename has a source");
                std::fs::remove_file(from).map_err(|e| failed("remove", from, e))?;
            }
        }
        let staged = match git_root {
            Some(git) => {
                journal.staging();
                stage_in_index(plan, git)?
            }
            None => Default::default(),
        };
        Ok(Applied {
            staged: staged.staged,
            left: staged.left,
        })
    })();
    match result {
        Ok(applied) => {
            journal.end(plan);
            Ok(applied)
        }
        Err(err) => match journal.roll_back() {
            Ok(()) if !moved => Err(anyhow!("{err:#}; nothing was written")),
            Ok(()) => Err(anyhow!(
                "{err:#}; nothing was changed: every file was restored"
            )),
            Err(failures) => Err(anyhow!(
                "{err:#}; restoring failed for {}; the journal is kept: run `migfix undo` to try again",
                failures.join(", ")
            )),
        },
    }
}

/// Each missing folder a target needs (a nested sqitch change's),
/// shallowest first.
fn missing_parents(plan: &Plan) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for c in &plan.changes {
        let Some(dir) = c.to.parent() else { continue };
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        for d in missing.into_iter().rev() {
            if !out.iter().any(|o| o == d) {
                out.push(d.to_path_buf());
            }
        }
    }
    out
}

/// Every source still holds what the plan read, no target is in the way,
/// and the git index is not locked by another git command.
fn preflight(plan: &Plan, root: &Path, indexes: &[PathBuf]) -> Result<()> {
    for lock in indexes.iter().map(|i| i.with_extension("lock")) {
        if lock.exists() {
            bail!(
                "the git index is locked ({} exists: another git command is running, or one was killed); nothing was written",
                lock.display()
            );
        }
    }
    for c in &plan.changes {
        if let Some(from) = &c.from {
            let now = crate::files::read(from).map_err(|e| {
                anyhow!("cannot read {}: {e}; nothing was written", rel(root, from))
            })?;
            if now != c.before {
                bail!(
                    "{} changed while migfix was working; nothing was written",
                    rel(root, from)
                );
            }
        }
        if (c.is_new() || c.is_rename()) && c.to.symlink_metadata().is_ok() {
            bail!("{} already exists; nothing was written", rel(root, &c.to));
        }
    }
    Ok(())
}

/// The new content in its temp file in the target's folder, so that the
/// final move is a rename within one file system. Permissions are the
/// original's. The error names the target (what failed, and the OS
/// error): the temp file's own name helps nobody.
fn write_temp(change: &Change, tmp: &Path) -> Result<(), (PathBuf, &'static str, std::io::Error)> {
    let cannot = |what| move |e| (change.to.clone(), what, e);
    let mut file = std::fs::File::create(tmp).map_err(cannot("write"))?;
    file.write_all(&change.after)
        .and_then(|()| file.flush())
        .map_err(cannot("write"))?;
    let perms = match &change.from {
        Some(from) => std::fs::metadata(from)
            .map_err(|e| (from.clone(), "read", e))?
            .permissions(),
        None => default_permissions(),
    };
    file.set_permissions(perms)
        .map_err(cannot("set the permissions of"))?;
    Ok(())
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
        apply(&plan, dir.path(), None).unwrap();
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
            let err = apply_with(&plan, dir.path(), None, Some(fail_at)).unwrap_err();
            // Nothing moved yet is "nothing was written"; after a move,
            // every file was put back.
            let said = if fail_at == 0 {
                "; nothing was written"
            } else {
                "; nothing was changed: every file was restored"
            };
            assert!(format!("{err:#}").ends_with(said), "{err:#}");
            assert!(!dir.path().join(".migfix").exists(), "the journal is gone");
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
        apply(&plan, dir.path(), None).unwrap();
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
        assert!(apply(&plan, dir.path(), None).is_err());
        assert_eq!(snapshot(dir.path()), before);
    }
}
