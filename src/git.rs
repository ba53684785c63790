//! git2 calls that return owned data: HEAD, uncommitted files, and the
//! revision ids other branches claim, read from their trees without
//! checking anything out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{BranchType, ObjectType, Oid, Repository, Status, Tree};

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

/// The repository whose work tree holds `path` (a submodule's own for a
/// file inside one), found from its nearest existing folder.
pub(crate) fn holding(path: &Path) -> Option<Repository> {
    let dir = path.ancestors().skip(1).find(|d| d.is_dir())?;
    Repository::discover(dir)
        .ok()
        .filter(|r| r.workdir().is_some())
}

impl Repo {
    /// The repository whose work tree holds `root`, if any.
    pub fn discover(root: &Path) -> Option<Repo> {
        // migfix only reads objects; re-hashing every one it reads (libgit2's
        // default) doubles the cost of scanning hundreds of branches.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::discover(root).ok()?;
        let workdir = repo.workdir()?.canonicalize().ok()?;
        Some(Repo { repo, workdir })
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    pub fn rel(&self, path: &Path) -> Option<PathBuf> {
        let abs = path
            .canonicalize()
            .ok()
            .or_else(|| Some(path.parent()?.canonicalize().ok()?.join(path.file_name()?)))?;
        abs.strip_prefix(&self.workdir).ok().map(Path::to_path_buf)
    }

    pub fn head(&self) -> Option<Head> {
        let head = self.repo.head().ok()?;
        let sha = head.peel_to_commit().ok()?.id().to_string();
        let branch = head
            .is_branch()
            .then(|| head.shorthand().ok().map(String::from))
            .flatten();
        Some(Head { sha, branch })
    }

    /// Which of `paths` differ from HEAD (modified, staged or untracked),
    /// each asked of the repository that holds it: a submodule's own for a
    /// file inside one.
    pub fn uncommitted(&self, paths: &[PathBuf]) -> Vec<PathBuf> {
        paths
            .iter()
            .filter(|p| {
                let own = holding(p).and_then(|repo| {
                    let workdir = repo.workdir()?.canonicalize().ok()?;
                    Some(Repo { repo, workdir })
                });
                let repo = own.as_ref().unwrap_or(self);
                let Some(rel) = repo.rel(p) else { return false };
                match repo.repo.status_file(&rel) {
                    Ok(s) => !(s.is_empty() || s == Status::CURRENT || s.contains(Status::IGNORED)),
                    Err(_) => false,
                }
            })
            .cloned()
            .collect()
    }

    /// The most recent commit on HEAD's history that added `path`: its short
    /// id, summary and time (seconds since the epoch).
    pub fn added_in(&self, path: &Path) -> Option<(String, String, i64)> {
        let rel = self.rel(path)?;
        let mut walk = self.repo.revwalk().ok()?;
        walk.push_head().ok()?;
        walk.set_sorting(git2::Sort::TIME).ok()?;
        for oid in walk.flatten() {
            let commit = self.repo.find_commit(oid).ok()?;
            let has =
                |c: &git2::Commit<'_>| c.tree().ok().and_then(|t| t.get_path(&rel).ok()).is_some();
            if has(&commit) && !commit.parents().any(|p| has(&p)) {
                let short = oid.to_string()[..10].to_string();
                let summary = commit
                    .summary()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .to_string();
                return Some((short, summary, commit.time().seconds()));
            }
        }
        None
    }

    /// When each of `paths` reached HEAD's branch: how many commits back
    /// along its first parents (a merge counts as the moment its files
    /// arrive), `Some(0)` for a file HEAD does not hold yet, and `None`
    /// where the history is too long to walk.
    pub fn arrivals(&self, paths: &[PathBuf]) -> Option<Vec<usize>> {
        const LIMIT: usize = 200_000;
        let rels: Vec<Option<PathBuf>> = paths.iter().map(|p| self.rel(p)).collect();
        let mut commit = self.repo.head().ok()?.peel_to_commit().ok()?;
        let has = |c: &git2::Commit<'_>, rel: &Path| {
            c.tree().ok().is_some_and(|t| t.get_path(rel).is_ok())
        };
        // Depth 0 is the work tree: files HEAD lacks arrive there.
        let mut out: Vec<Option<usize>> = rels
            .iter()
            .map(|r| match r {
                Some(r) if has(&commit, r) => None,
                _ => Some(0),
            })
            .collect();
        for depth in 1..LIMIT {
            let parent = commit.parent(0).ok();
            for (slot, rel) in out.iter_mut().zip(&rels) {
                if slot.is_none()
                    && !parent
                        .as_ref()
                        .is_some_and(|p| has(p, rel.as_ref().expect("a file HEAD holds")))
                {
                    *slot = Some(depth);
                }
            }
            match parent {
                Some(p) if out.iter().any(Option::is_none) => commit = p,
                _ => return out.into_iter().collect(),
            }
        }
        None
    }

    /// A branch or any revision git understands, as its short name and commit.
    pub fn resolve(&self, name: &str) -> Option<(String, Oid)> {
        for full in [format!("refs/heads/{name}"), format!("refs/remotes/{name}")] {
            if let Ok(r) = self.repo.find_reference(&full) {
                if let Ok(c) = r.peel_to_commit() {
                    return Some((name.to_string(), c.id()));
                }
            }
        }
        let obj = self.repo.revparse_single(name).ok()?;
        Some((name.to_string(), obj.peel_to_commit().ok()?.id()))
    }

    pub fn head_commit(&self) -> Option<Oid> {
        self.repo.head().ok()?.peel_to_commit().ok().map(|c| c.id())
    }

    pub fn merge_base(&self, a: Oid, b: Oid) -> Option<Oid> {
        self.repo.merge_base(a, b).ok()
    }

    /// Local and remote-tracking branches whose short names match one of
    /// `globs` (every branch when there are none), but `except_names` and
    /// the remotes' `HEAD`.
    pub fn branches_matching(&self, globs: &[String], except_names: &[&str]) -> Vec<(String, Oid)> {
        let mut out = Vec::new();
        let Ok(branches) = self.repo.branches(None) else {
            return out;
        };
        for (branch, _) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else {
                continue;
            };
            let name = name.to_string();
            if name.ends_with("/HEAD") || except_names.contains(&name.as_str()) {
                continue;
            }
            if !globs.is_empty() && !globs.iter().any(|g| glob_match(g, &name)) {
                continue;
            }
            if let Ok(commit) = branch.get().peel_to_commit() {
                out.push((name, commit.id()));
            }
        }
        out.sort();
        out
    }

    /// The bytes of `path` (relative to the work tree) in a commit.
    pub fn file_at(&self, commit: Oid, path: &Path) -> Option<Vec<u8>> {
        let tree = self.repo.find_commit(commit).ok()?.tree().ok()?;
        let entry = tree.get_path(path).ok()?;
        Some(self.repo.find_blob(entry.id()).ok()?.content().to_vec())
    }

    /// The files `accept` takes under each folder in a commit's tree, with
    /// blob ids, sorted per folder.
    pub fn files_at(
        &self,
        commit: Oid,
        versions: &[PathBuf],
        recursive: bool,
        accept: &dyn Fn(&str) -> bool,
    ) -> Vec<(PathBuf, Oid)> {
        let mut out = Vec::new();
        for dir in versions.iter().filter_map(|d| self.rel(d)) {
            let mut files = self.files_unsorted(commit, &[dir], recursive, accept);
            files.sort();
            out.extend(files);
        }
        out
    }

    /// [`Repo::files_at`] under folders already relative to the work tree,
    /// in no particular order: for sets, where sorting thousands of paths
    /// per branch was a tenth of `collisions`.
    fn files_unsorted(
        &self,
        commit: Oid,
        dirs: &[PathBuf],
        recursive: bool,
        accept: &dyn Fn(&str) -> bool,
    ) -> Vec<(PathBuf, Oid)> {
        let Ok(tree) = self.repo.find_commit(commit).and_then(|c| c.tree()) else {
            return Vec::new();
        };
        dirs.iter()
            .flat_map(|dir| self.files_in(&tree, dir, recursive, accept))
            .collect()
    }

    pub fn blob(&self, oid: Oid) -> Option<Vec<u8>> {
        self.repo.find_blob(oid).ok().map(|b| b.content().to_vec())
    }

    /// Every local and remote-tracking branch but the checked-out one.
    pub fn other_branches(&self) -> Vec<(String, Oid)> {
        let current = self.head().and_then(|h| h.branch);
        let mut out = Vec::new();
        let Ok(branches) = self.repo.branches(None) else {
            return out;
        };
        for (branch, kind) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else {
                continue;
            };
            let name = name.to_string();
            if (kind == BranchType::Local && Some(&name) == current.as_ref())
                || name.ends_with("/HEAD")
            {
                continue;
            }
            if let Ok(commit) = branch.get().peel_to_commit() {
                out.push((name, commit.id()));
            }
        }
        out.sort();
        out
    }

    /// Claims with the files a framework counts and reads: `accept`
    /// picks file names, `declare` gives a file's id and parents. The
    /// branches are read on every core, each thread with its own handle on
    /// the repository (libgit2's are not shared between threads).
    pub fn claims_by(
        &self,
        versions: &[PathBuf],
        recursive: bool,
        base: Oid,
        branches: &[(String, Oid)],
        accept: impl Fn(&str) -> bool + Sync,
        declare: impl Fn(&Path, &[u8]) -> Option<Declared> + Sync,
    ) -> Vec<Claim> {
        // Relative once, not for every branch (each is a canonicalize).
        let dirs: Vec<PathBuf> = versions.iter().filter_map(|d| self.rel(d)).collect();
        let versions = &dirs[..];
        let base_files: HashMap<PathBuf, Oid> = self
            .files_unsorted(base, versions, recursive, &accept)
            .into_iter()
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(branches.len() / 32 + 1);
        let mut claims = if threads <= 1 {
            self.claims_of(
                versions,
                recursive,
                base,
                &base_files,
                branches.iter(),
                &accept,
                &declare,
            )
        } else {
            let path = self.repo.path().to_path_buf();
            let workdir = &self.workdir;
            let (base_files, accept, declare) = (&base_files, &accept, &declare);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let path = &path;
                        s.spawn(move || {
                            let Ok(repo) = Repository::open(path) else {
                                return Err(());
                            };
                            let mine = Repo {
                                repo,
                                workdir: workdir.clone(),
                            };
                            let share = branches.iter().skip(t).step_by(threads);
                            Ok(mine.claims_of(
                                versions, recursive, base, base_files, share, accept, declare,
                            ))
                        })
                    })
                    .collect();
                let mut all = Vec::new();
                for (t, h) in handles.into_iter().enumerate() {
                    match h.join().expect("a branch reader does not panic") {
                        Ok(mut found) => all.append(&mut found),
                        // The repository could not be opened again: read
                        // this thread's share here.
                        Err(()) => all.extend(self.claims_of(
                            versions,
                            recursive,
                            base,
                            base_files,
                            branches.iter().skip(t).step_by(threads),
                            accept,
                            declare,
                        )),
                    }
                }
                all
            })
        };
        claims.sort();
        claims
    }

    /// [`Repo::claims_by`] over some of the branches, unsorted; `versions`
    /// relative to the work tree.
    #[allow(clippy::too_many_arguments)]
    fn claims_of<'b>(
        &self,
        versions: &[PathBuf],
        recursive: bool,
        base: Oid,
        base_files: &HashMap<PathBuf, Oid>,
        branches: impl Iterator<Item = &'b (String, Oid)>,
        accept: &(impl Fn(&str) -> bool + ?Sized),
        declare: &(impl Fn(&Path, &[u8]) -> Option<Declared> + ?Sized),
    ) -> Vec<Claim> {
        // The claims are sorted at the end: the files' order is no matter.
        let list = |commit: Oid| self.files_unsorted(commit, versions, recursive, &accept);
        // By blob and path: a Django migration's name and app are its
        // file's, so one blob may declare different ids in two places.
        let mut parsed: HashMap<(Oid, PathBuf), Option<Declared>> = HashMap::new();
        // Branches mostly share a merge-base: list its files once.
        let mut listed: HashMap<Oid, std::collections::HashSet<PathBuf>> = HashMap::new();
        let mut claims = Vec::new();
        for (branch, commit) in branches {
            let Some(mb) = self.merge_base(*commit, base) else {
                continue;
            };
            if mb == *commit {
                continue;
            }
            let before = listed
                .entry(mb)
                .or_insert_with(|| list(mb).into_iter().map(|(p, _)| p).collect());
            for (path, oid) in list(*commit) {
                if before.contains(&path) || base_files.get(&path) == Some(&oid) {
                    continue;
                }
                let declared = parsed.entry((oid, path.clone())).or_insert_with(|| {
                    let blob = self.repo.find_blob(oid).ok()?;
                    declare(&path, blob.content())
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
        claims
    }

    /// Revision files (Alembic's rule) under `dir` in a tree, with blob ids.
    fn files_in(
        &self,
        tree: &Tree<'_>,
        dir: &Path,
        recursive: bool,
        accept: &dyn Fn(&str) -> bool,
    ) -> Vec<(PathBuf, Oid)> {
        let mut out = Vec::new();
        let Ok(entry) = tree.get_path(dir) else {
            return out;
        };
        let Ok(sub) = self.repo.find_tree(entry.id()) else {
            return out;
        };
        let mut stack = vec![(dir.to_path_buf(), sub)];
        while let Some((path, t)) = stack.pop() {
            for e in t.iter() {
                let Ok(name) = e.name() else { continue };
                match e.kind() {
                    Some(ObjectType::Blob) if accept(name) => out.push((path.join(name), e.id())),
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

/// What a file declares: its id and its parents.
pub(crate) type Declared = (String, Vec<String>);

/// Shell-style matching of branch names: `*` and `?`.
pub(crate) fn glob_match(glob: &str, name: &str) -> bool {
    fn go(g: &[u8], n: &[u8]) -> bool {
        match (g.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&g[1..], n) || (!n.is_empty() && go(g, &n[1..])),
            (Some(b'?'), Some(_)) => go(&g[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&g[1..], &n[1..]),
            _ => false,
        }
    }
    go(glob.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn globs() {
        assert!(super::glob_match("origin/pr/*", "origin/pr/3323"));
        assert!(super::glob_match("feature/*", "feature/tax-s1256-tagger"));
        assert!(!super::glob_match("feature/*", "origin/feature/x"));
        assert!(super::glob_match("*", "anything/at/all"));
        assert!(super::glob_match("pr-?", "pr-1") && !super::glob_match("pr-?", "pr-12"));
    }
}
