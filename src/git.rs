//! git2 calls that return owned data: HEAD, uncommitted files, and the
//! revision ids other branches claim, read from their trees without
//! checking anything out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{BranchType, ObjectType, Oid, Repository, Status, Tree};

use crate::chains::alembic::counts;
use crate::python::{self, Assigned, PyValue};

pub(crate) struct Repo {
    repo: Repository,
    workdir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub sha: String,
    pub branch: Option<String>,
}

/// A revision id declared by a migration file on another branch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Claim {
    pub id: String,
    pub branch: String,
    /// Relative to the work tree.
    pub path: String,
    pub down: Vec<String>,
}

impl Repo {
    /// The repository whose work tree holds `root`, if any.
    pub fn discover(root: &Path) -> Option<Repo> {
        let repo = Repository::discover(root).ok()?;
        let workdir = repo.workdir()?.canonicalize().ok()?;
        Some(Repo { repo, workdir })
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    pub fn rel(&self, path: &Path) -> Option<PathBuf> {
        let abs = path.canonicalize().ok().or_else(|| Some(path.parent()?.canonicalize().ok()?.join(path.file_name()?)))?;
        abs.strip_prefix(&self.workdir).ok().map(Path::to_path_buf)
    }

    pub fn head(&self) -> Option<Head> {
        let head = self.repo.head().ok()?;
        let sha = head.peel_to_commit().ok()?.id().to_string();
        let branch = head.is_branch().then(|| head.shorthand().ok().map(String::from)).flatten();
        Some(Head { sha, branch })
    }

    /// Which of `paths` differ from HEAD (modified, staged or untracked).
    pub fn uncommitted(&self, paths: &[PathBuf]) -> Vec<PathBuf> {
        paths
            .iter()
            .filter(|p| {
                let Some(rel) = self.rel(p) else { return false };
                match self.repo.status_file(&rel) {
                    Ok(s) => !(s.is_empty() || s == Status::CURRENT || s.contains(Status::IGNORED)),
                    Err(_) => false,
                }
            })
            .cloned()
            .collect()
    }

    /// Every local and remote-tracking branch but the checked-out one.
    fn other_branches(&self) -> Vec<(String, Oid)> {
        let current = self.head().and_then(|h| h.branch);
        let mut out = Vec::new();
        let Ok(branches) = self.repo.branches(None) else { return out };
        for (branch, kind) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else { continue };
            let name = name.to_string();
            if (kind == BranchType::Local && Some(&name) == current.as_ref()) || name.ends_with("/HEAD") {
                continue;
            }
            if let Ok(commit) = branch.get().peel_to_commit() {
                out.push((name, commit.id()));
            }
        }
        out.sort();
        out
    }

    /// The revisions that other branches declare in these version
    /// directories and that HEAD does not have byte for byte.
    pub fn alembic_claims(&self, versions: &[PathBuf], recursive: bool) -> Vec<Claim> {
        let head_tree = self.repo.head().ok().and_then(|h| h.peel_to_tree().ok());
        let dirs: Vec<PathBuf> = versions.iter().filter_map(|d| self.rel(d)).collect();
        let mut parsed: HashMap<Oid, Option<(String, Vec<String>)>> = HashMap::new();
        let mut claims = Vec::new();
        for (branch, commit) in self.other_branches() {
            let Ok(tree) = self.repo.find_commit(commit).and_then(|c| c.tree()) else { continue };
            for dir in &dirs {
                for (path, oid) in self.files_in(&tree, dir, recursive) {
                    let unchanged = head_tree.as_ref().and_then(|t| t.get_path(&path).ok()).is_some_and(|e| e.id() == oid);
                    if unchanged {
                        continue;
                    }
                    let declared = parsed.entry(oid).or_insert_with(|| {
                        let blob = self.repo.find_blob(oid).ok()?;
                        let consts = python::read(blob.content()).ok()?;
                        let id = match consts.revision? {
                            Assigned { value: PyValue::Str(s), .. } => s.value,
                            _ => return None,
                        };
                        let down = consts.down_revision.and_then(|d| d.value.ids()).unwrap_or_default();
                        Some((id, down))
                    });
                    if let Some((id, down)) = declared {
                        claims.push(Claim {
                            id: id.clone(),
                            branch: branch.clone(),
                            path: path.to_string_lossy().replace('\\', "/"),
                            down: down.clone(),
                        });
                    }
                }
            }
        }
        claims.sort();
        claims
    }

    /// Revision files (Alembic's rule) under `dir` in a tree, with blob ids.
    fn files_in(&self, tree: &Tree<'_>, dir: &Path, recursive: bool) -> Vec<(PathBuf, Oid)> {
        let mut out = Vec::new();
        let Ok(entry) = tree.get_path(dir) else { return out };
        let Ok(sub) = self.repo.find_tree(entry.id()) else { return out };
        let mut stack = vec![(dir.to_path_buf(), sub)];
        while let Some((path, t)) = stack.pop() {
            for e in t.iter() {
                let Ok(name) = e.name() else { continue };
                match e.kind() {
                    Some(ObjectType::Blob) if counts(name) => out.push((path.join(name), e.id())),
                    Some(ObjectType::Tree) if recursive && name != "__pycache__" => {
                        if let Ok(child) = self.repo.find_tree(e.id()) {
                            stack.push((path.join(name), child));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}
