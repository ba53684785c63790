use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// Runs migfix with a clean environment from `cwd`.
pub fn migfix(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("migfix runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// insta settings: snapshots in the top-level snapshots/ folder, temp
/// paths shown as [TMP].
pub fn snapshot_settings(tmp: Option<&Path>) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(repo().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    if let Some(tmp) = tmp {
        let shown = regex::escape(&tmp.display().to_string());
        s.add_filter(&shown, "[TMP]");
    }
    s
}

/// Writes `files` (path, contents) below `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A small linear Alembic revision file in the house style.
pub fn revision_file(id: &str, down: Option<&str>) -> String {
    let down_lit = down.map_or("None".to_string(), |d| format!("\"{d}\""));
    format!(
        "\"\"\"step {id}\n\nRevision ID: {id}\nRevises: {}\n\"\"\"\nfrom alembic import op\n\nrevision: str = \"{id}\"\ndown_revision = {down_lit}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
        down.unwrap_or("")
    )
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            if e.file_name() != "__pycache__" {
                copy_tree(&e.path(), &target);
            }
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A git repository holding `dir`'s files in one commit on `main`.
pub fn git_init(dir: &Path) -> git2::Repository {
    let repo =
        git2::Repository::init_opts(dir, git2::RepositoryInitOptions::new().initial_head("main"))
            .unwrap();
    {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("test", "test@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[])
            .unwrap();
    }
    repo
}

/// A branch off HEAD that adds `files`, committed without touching the
/// work tree or the index (as a pushed PR branch looks after a fetch).
pub fn git_branch(repo: &git2::Repository, name: &str, files: &[(&str, &str)]) {
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let mut index = git2::Index::new().unwrap();
    index.read_tree(&head.tree().unwrap()).unwrap();
    for (path, text) in files {
        let oid = repo.blob(text.as_bytes()).unwrap();
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: text.len() as u32,
            id: oid,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).unwrap();
    }
    let tree = repo.find_tree(index.write_tree_to(repo).unwrap()).unwrap();
    let sig = git2::Signature::now("test", "test@example.com").unwrap();
    repo.commit(
        Some(&format!("refs/heads/{name}")),
        &sig,
        &sig,
        name,
        &tree,
        &[&head],
    )
    .unwrap();
}

/// Every file below `dir` (but .git) with its bytes.
pub fn tree_bytes(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(p);
                }
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Runs real Alembic in `dir` (which holds alembic.ini); returns stdout.
pub fn alembic(dir: &Path, args: &[&str]) -> Option<String> {
    let alembic = crate::oracle::alembic_bin()?;
    let out = Command::new(alembic)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "alembic {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A fixture copied into a fresh git repository.
pub fn repo_from(fixture_name: &str) -> (tempfile::TempDir, git2::Repository) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(fixture_name), dir.path());
    let repo = git_init(dir.path());
    (dir, repo)
}

/// Runs git in `dir` as a test user; its stdout. A failure fails the test.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// migfix with `-C dir`: exit code, stdout and stderr.
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["-C", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = migfix(dir, &all);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// The output of `script`, run by the test Python (`MIGFIX_PYTHON`) with
/// `srcs` on its standard input, each as a little-endian u32 length and
/// its bytes: one process for many sources.
pub fn python_over(script: &str, srcs: &[impl AsRef<[u8]>]) -> Vec<u8> {
    let python = std::env::var("MIGFIX_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut input = Vec::new();
    for src in srcs {
        let src = src.as_ref();
        input.extend_from_slice(&(src.len() as u32).to_le_bytes());
        input.extend_from_slice(src);
    }
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out.stdout
}

/// The work tree is what the index holds: nothing left unstaged.
pub fn index_holds_everything(dir: &Path) {
    assert_eq!(git(dir, &["diff", "--stat"]), "", "work tree = index");
    assert_eq!(
        git(dir, &["status", "--porcelain", "--untracked-files=all"])
            .lines()
            .filter(|l| !l.starts_with("M  "))
            .collect::<Vec<_>>(),
        Vec::<&str>::new()
    );
}

/// A superproject at `top` holding the repository at `origin` as its
/// submodule `services/api`, committed.
pub fn superproject_of(origin: &Path, top: &Path) {
    write_tree(top, &[("README.md", "the product\n")]);
    git_init(top);
    let url = origin.to_str().unwrap();
    let add = [
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        url,
        "services/api",
    ];
    git(top, &add);
    git(
        top,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            "api",
        ],
    );
}

/// Runs `trial` on every item, two at a time (the machine has two cores),
/// and gives the message of each that panicked, after `name` of its item.
pub fn two_at_a_time<T: Sync>(
    items: &[T],
    name: impl Fn(&T) -> String + Sync,
    trial: impl Fn(&T) + Sync,
) -> Vec<String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let run = std::panic::AssertUnwindSafe(|| trial(item));
                if let Err(e) = std::panic::catch_unwind(run) {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                    failures.lock().unwrap().push(format!(
                        "{}: {}",
                        name(item),
                        msg.unwrap_or_default()
                    ));
                }
            });
        }
    });
    failures.into_inner().unwrap()
}
