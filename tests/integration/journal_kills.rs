//! The kill test, for every kind of write, on a real disk: a nested sqitch
//! rename, a Django renumber, merge-heads, rebase, and `undo` itself. A
//! run is killed at a random moment; then `migfix undo` (or, for some
//! kills, `undo --finish`) must give back every byte, folder and the git
//! index, and a re-run must equal an unkilled run. `MIGFIX_KILLS=N` kills
//! each kind N times (by hand; the suite's default is small).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::journal::{journal_of, spawn, temp_files, Rng};

/// How many kills per kind: `MIGFIX_KILLS`, else `default`.
pub(crate) fn kills(default: usize) -> usize {
    std::env::var("MIGFIX_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Files with their bytes, folders (an emptied one must go, a removed one
/// come back), and the git index's bytes; `.git` aside.
#[derive(PartialEq, Eq)]
struct State {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
    index: Vec<u8>,
}

fn state(dir: &Path) -> State {
    // The repository's own index, then each submodule's.
    let mut index = std::fs::read(dir.join(".git/index")).unwrap_or_default();
    if let Ok(repo) = git2::Repository::open(dir) {
        for sm in repo.submodules().unwrap_or_default() {
            if let Ok(sub) = sm.open() {
                index.extend(std::fs::read(sub.path().join("index")).unwrap_or_default());
            }
        }
    }
    State {
        files: tree_bytes(dir),
        dirs: dirs(dir),
        index,
    }
}

fn dirs(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() && e.file_name() != ".git" {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf());
                stack.push(e.path());
            }
        }
    }
    out
}

/// A `Create Date:` line (a new Alembic revision's) holds the moment of
/// the run, which no two runs share: masked where runs are compared.
fn masked(bytes: &[u8]) -> Vec<u8> {
    bytes
        .split(|b| *b == b'\n')
        .map(|line| {
            if line.starts_with(b"Create Date: ") {
                &b"Create Date: *"[..]
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join(&b'\n')
}

/// Files and folders, dates masked, and the git index as entries (path,
/// content, mode): the index file holds timestamps.
#[derive(PartialEq, Eq)]
struct Outcome {
    files: BTreeMap<PathBuf, Vec<u8>>,
    dirs: BTreeSet<PathBuf>,
    index: Vec<(Vec<u8>, Vec<u8>, u32)>,
}

fn outcome(dir: &Path) -> Outcome {
    let repo = git2::Repository::open(dir).unwrap();
    let mut repos = vec![git2::Repository::open(dir).unwrap()];
    repos.extend(
        repo.submodules()
            .unwrap()
            .iter()
            .filter_map(|sm| sm.open().ok()),
    );
    let index = repos
        .iter()
        .flat_map(|r| {
            r.index()
                .unwrap()
                .iter()
                .filter(|e| e.mode != 0o160000)
                .map(|e| {
                    let blob = r.find_blob(e.id).unwrap();
                    (e.path, masked(blob.content()), e.mode)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Outcome {
        files: tree_bytes(dir)
            .into_iter()
            .map(|(p, b)| (p, masked(&b)))
            .collect(),
        dirs: dirs(dir),
        index,
    }
}

/// What a write must give: the tree before, and after an unkilled run.
struct Reference {
    before: State,
    after: Outcome,
    took: Duration,
}

impl Reference {
    fn of(top: &Path, original: &Path, command: &[&str]) -> Reference {
        let reference = top.join("reference");
        copy_tree(original, &reference);
        let started = Instant::now();
        let status = spawn(&reference, command).wait().unwrap();
        let took = started.elapsed();
        assert!(status.success(), "the unkilled run of {command:?}");
        let after = outcome(&reference);
        let before = state(original);
        assert!(after.files != before.files, "{command:?} changes the tree");
        assert!(!journal_of(&reference).exists());
        Reference {
            before,
            after,
            took,
        }
    }

    /// The tree is what an unkilled run leaves: files, folders, index.
    fn is_after(&self, work: &Path) -> bool {
        outcome(work) == self.after
    }
}

/// A journal that a killed write or undo left to mend (not one marked
/// done, which any later run tidies away).
fn journal_left(work: &Path) -> bool {
    journal_of(work).join("journal.json").exists() && !journal_of(work).join("done").exists()
}

/// Kills `child` at a random moment, as the kill test over a chain of
/// 1,000 always has: even kills anywhere from its start to a little after
/// its end (`took`), odd ones once `marker` appears, a little later.
pub(crate) fn kill_at_random(
    rng: &mut Rng,
    kill: usize,
    took: Duration,
    marker: &Path,
    mut child: Child,
) {
    if kill % 2 == 0 {
        let at = rng.below(took.as_micros() as u64 * 11 / 10);
        std::thread::sleep(Duration::from_micros(at));
    } else {
        while !marker.exists() && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_micros(100));
        }
        std::thread::sleep(Duration::from_micros(
            rng.below(took.as_micros() as u64 / 16),
        ));
    }
    let _ = child.kill();
    child.wait().unwrap();
}

/// How a killed run ended up.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Put back from the journal.
    pub undone: usize,
    /// Completed from the journal with `undo --finish`.
    pub finished: usize,
    /// Killed before the journal: nothing had changed.
    pub untouched: usize,
    /// Killed after the write was complete.
    pub completed: usize,
}

/// After a kill: `undo --finish` when `finish` and a journal is left (and
/// it can be), else `undo`; the tree must then be as before (and a re-run
/// as an unkilled run) or, finished, as after.
fn recover(work: &Path, command: &[&str], r: &Reference, label: &str, finish: bool) -> Tally {
    let dir = work.to_str().unwrap();
    let left = journal_left(work);
    let mut tally = Tally::default();
    if left && finish {
        let o = migfix(work, &["-C", dir, "undo", "--finish"]);
        if o.status.code() == Some(0) {
            assert!(
                r.is_after(work),
                "{label}: finishing differs from an unkilled run"
            );
            assert_clean(work, label);
            tally.finished = 1;
            return tally;
        }
        assert_eq!(o.status.code(), Some(2), "{label}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("cannot be completed") && stderr(&o).contains("migfix undo"),
            "{label}: {}",
            stderr(&o)
        );
    }
    let o = migfix(work, &["-C", dir, "undo"]);
    assert_eq!(o.status.code(), Some(0), "{label}: {}", stderr(&o));
    if !left && r.is_after(work) {
        tally.completed = 1;
        assert_clean(work, label);
        return tally;
    }
    if left {
        tally.undone = 1;
    } else {
        tally.untouched = 1;
    }
    let now = state(work);
    assert!(
        now.files == r.before.files,
        "{label}: undo did not give back the files"
    );
    assert!(
        now.dirs == r.before.dirs,
        "{label}: undo did not give back the folders"
    );
    assert!(
        now.index == r.before.index,
        "{label}: undo did not give back the git index"
    );
    assert_clean(work, label);

    let o = migfix(work, &[&["-C", dir][..], command].concat());
    assert_eq!(o.status.code(), Some(0), "{label}, re-run: {}", stderr(&o));
    assert!(
        r.is_after(work),
        "{label}: the re-run differs from an unkilled run"
    );
    tally
}

/// No temp file, journal or git index lock is left.
fn assert_clean(work: &Path, label: &str) {
    assert!(temp_files(work).is_empty(), "{label}: temp files left");
    assert!(!journal_of(work).exists(), "{label}: journal left");
    assert!(
        !work.join(".git/index.lock").exists(),
        "{label}: index lock left"
    );
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.undone += other.undone;
        self.finished += other.finished;
        self.untouched += other.untouched;
        self.completed += other.completed;
    }

    fn total(&self) -> usize {
        self.undone + self.finished + self.untouched + self.completed
    }
}

fn seeded() -> Rng {
    Rng(std::env::var("MIGFIX_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6b11_2026)
        | 1)
}

/// `command` run on a copy of `original` at `work`, killed as
/// `kill_at_random` does.
fn killed_write(
    rng: &mut Rng,
    kill: usize,
    r: &Reference,
    original: &Path,
    work: &Path,
    command: &[&str],
) {
    copy_tree(original, work);
    let child = spawn(work, command);
    let marker = journal_of(work).join("journal.json");
    kill_at_random(rng, kill, r.took, &marker, child);
}

/// Kills `command`, run on copies of the committed tree `original`, `n`
/// times, and checks what `undo` (every third kill: `undo --finish`) makes
/// of each. The copies stay until `top` goes: on ext4, creating files
/// right after deleting thousands costs several times more.
pub(crate) fn kill_writes(top: &Path, original: &Path, command: &[&str], n: usize) -> Tally {
    let r = Reference::of(top, original, command);
    let mut rng = seeded();
    let mut tally = Tally::default();
    for kill in 0..n {
        let work = top.join(format!("kill-{kill}"));
        killed_write(&mut rng, kill, &r, original, &work, command);
        let label = format!("{command:?}, kill {kill}");
        tally.add(recover(&work, command, &r, &label, kill % 3 == 2));
    }
    eprintln!("{command:?}, {n} kills: {tally:?}");
    assert_eq!(tally.total(), n);
    tally
}

/// Kills `command` inside its apply until it leaves a journal, then kills
/// the `undo` (every third time `undo --finish`) of it at a random moment,
/// `n` times or more; then `undo` (every other time `undo --finish`, refused once
/// an undo has begun) must complete.
fn kill_undos(top: &Path, original: &Path, command: &[&str], n: usize) -> Tally {
    let r = Reference::of(top, original, command);
    let mut rng = seeded();
    let mut tally = Tally::default();
    // Past `n`, until some kill landed while an undo had work left (an
    // undo is quick, and a loaded machine's timing varies), up to 4n.
    for kill in 0..4 * n {
        if kill >= n && tally.undone > 0 {
            break;
        }
        let work = top.join(format!("undo-{kill}"));
        let mut tries = 0;
        loop {
            killed_write(&mut rng, 1, &r, original, &work, command);
            if journal_left(&work) {
                break;
            }
            std::fs::remove_dir_all(&work).unwrap();
            tries += 1;
            assert!(tries < 40, "no kill left a journal in 40 tries");
        }
        // Every third, the killed mend is `undo --finish`.
        let (mend, mark): (&[&str], _) = if kill % 3 == 2 {
            (&["undo", "--finish"], "staging")
        } else {
            (&["undo"], "undoing")
        };
        let child = spawn(&work, mend);
        kill_at_random(&mut rng, kill, r.took, &journal_of(&work).join(mark), child);
        let label = format!("{mend:?} of {command:?}, kill {kill}");
        tally.add(recover(&work, command, &r, &label, kill % 2 == 1));
    }
    eprintln!("mends of {command:?}, {} kills: {tally:?}", tally.total());
    tally
}

/// A sqitch project whose change `121-roles/reporter/grants` has its
/// scripts in sub-folders, required by the changes after it.
fn nested_sqitch(dir: &Path) {
    let mut plan = String::from("%syntax-version=1.0.0\n%project=kill\n\n");
    let mut files = vec![(
        "sqitch.conf".to_string(),
        "[core]\n\tengine = pg\n".to_string(),
    )];
    let stamp = "2024-01-01T00:00:00Z Ann <ann@example.com>";
    plan.push_str(&format!("121-roles/reporter/grants {stamp} # grants\n"));
    for d in ["deploy", "revert", "verify"] {
        files.push((
            format!("{d}/121-roles/reporter/grants.sql"),
            format!("-- {d} grants\n"),
        ));
    }
    for i in 1..=20 {
        plan.push_str(&format!(
            "c{i} [121-roles/reporter/grants] {stamp} # c{i}\n"
        ));
        for d in ["deploy", "revert", "verify"] {
            files.push((format!("{d}/c{i}.sql"), format!("-- {d} c{i}\n")));
        }
    }
    files.push(("sqitch.plan".into(), plan));
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (&p[..], &t[..])).collect();
    write_tree(dir, &files);
    git_init(dir);
}

const SQITCH_RENAME: &[&str] = &[
    "renumber",
    "121-roles/reporter/grants",
    "--to",
    "121-roles/reporting/grants",
    "--yes",
];

/// A Django app of `n` migrations, each on the one before and on the
/// first, so that renumbering the first edits every file.
fn django_app(dir: &Path, n: usize) {
    let head = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n";
    let mut files = vec![
        ("manage.py".to_string(), String::new()),
        ("shop/__init__.py".into(), String::new()),
        ("shop/migrations/__init__.py".into(), String::new()),
        (
            "shop/migrations/0001_initial.py".into(),
            format!("{head}    initial = True\n    dependencies = []\n    operations = []\n"),
        ),
    ];
    for i in 2..=n {
        let before = if i == 2 {
            "0001_initial".to_string()
        } else {
            format!("{:04}_m{}", i - 1, i - 1)
        };
        files.push((
            format!("shop/migrations/{i:04}_m{i}.py"),
            format!("{head}    dependencies = [('shop', '{before}'), ('shop', '0001_initial')]\n    operations = []\n"),
        ));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (&p[..], &t[..])).collect();
    write_tree(dir, &files);
    git_init(dir);
}

/// Alembic revisions `from..=to`, each on the one before (`first_down`
/// for the first).
fn alembic_revisions(dir: &Path, from: usize, to: usize, first_down: Option<&str>) {
    for i in from..=to {
        let id = format!("{i:04}");
        let down = if i == from {
            first_down.map(str::to_string)
        } else {
            Some(format!("{:04}", i - 1))
        };
        write_tree(
            dir,
            &[(
                // Named apart, so that no rename's target is another's source.
                &format!("migrations/versions/{id}_r{i}.py"),
                &revision_file(&id, down.as_deref()),
            )],
        );
    }
    write_tree(
        dir,
        &[("alembic.ini", "[alembic]\nscript_location = migrations\n")],
    );
}

/// A chain of 100 with two heads on its last revision.
fn two_heads(dir: &Path) {
    alembic_revisions(dir, 1, 100, None);
    alembic_revisions(dir, 101, 101, Some("0100"));
    alembic_revisions(dir, 102, 102, Some("0100"));
    git_init(dir);
}

/// `main` with a chain of 12; `feature`, checked out, branched at 10 and
/// adding 11 to 90 of its own, which a rebase moves after main's 12.
fn branch_to_rebase(dir: &Path) {
    alembic_revisions(dir, 1, 10, None);
    git_init(dir);
    git(dir, &["branch", "feature"]);
    alembic_revisions(dir, 11, 12, Some("0010"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "main"]);
    git(dir, &["checkout", "-q", "feature"]);
    alembic_revisions(dir, 11, 90, Some("0010"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "feature"]);
}

/// `make` builds the committed tree in a temp folder; `kill` (`kill_writes`
/// or `kill_undos`) kills `command` on copies of it, `n` times.
fn killed(make: fn(&Path), kill: KillFn, command: &[&str], n: usize) -> Tally {
    let top = tempfile::tempdir().unwrap();
    let original = top.path().join("original");
    make(&original);
    kill(top.path(), &original, command, kills(n))
}

type KillFn = fn(&Path, &Path, &[&str], usize) -> Tally;

#[test]
fn a_killed_nested_sqitch_rename_is_undone_exactly() {
    killed(nested_sqitch, kill_writes, SQITCH_RENAME, 12);
}

#[test]
fn a_killed_django_renumber_is_undone_exactly() {
    let command = ["renumber", "shop", "0001_initial", "--to", "201", "--yes"];
    killed(|d| django_app(d, 200), kill_writes, &command, 10);
}

/// fixtures' Django app of `n` migrations as the submodule `services/api`
/// of a superproject.
fn django_submodule(dir: &Path) {
    let origin = dir.with_file_name("api-origin");
    django_app(&origin, 60);
    superproject_of(&origin, dir);
}

/// The submodule's index is put back as the repository's own is.
#[test]
fn a_killed_renumber_inside_a_submodule_is_undone_exactly() {
    let command = ["renumber", "shop", "0001_initial", "--to", "061", "--yes"];
    killed(django_submodule, kill_writes, &command, 6);
}

#[test]
fn a_killed_merge_heads_is_undone_exactly() {
    killed(two_heads, kill_writes, &["merge-heads", "--yes"], 8);
}

#[test]
fn a_killed_rebase_is_undone_exactly() {
    let command = ["rebase", "--base", "main", "--yes"];
    killed(branch_to_rebase, kill_writes, &command, 10);
}

#[test]
fn a_killed_undo_or_finish_is_completed_by_the_next() {
    let tally = killed(nested_sqitch, kill_undos, SQITCH_RENAME, 12);
    assert!(
        tally.undone > 0,
        "some undo was killed with work left: {tally:?}"
    );
}
