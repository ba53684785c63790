//! Crash safety: a write killed at any moment is undone exactly (files and
//! git index) or finished, from its journal, and never leaves a tree that
//! another command takes for whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;

/// Renumbers the first revision of a chain of up to 1,000.
const COMMAND: &[&str] = &["renumber", "00001", "--to", "01001", "--yes"];

/// A committed chain of `n` revisions, each after the one before and each
/// depending on the first, so that renumbering the first edits every file.
fn chain(dir: &Path, n: usize) {
    let versions = dir.join("migrations/versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(
        dir.join("alembic.ini"),
        "[alembic]\nscript_location = migrations\n",
    )
    .unwrap();
    for i in 1..=n {
        let id = format!("{i:05}");
        let (down, dep) = if i == 1 {
            ("None".to_string(), String::new())
        } else {
            (
                format!("\"{:05}\"", i - 1),
                "depends_on = \"00001\"\n".to_string(),
            )
        };
        std::fs::write(
            versions.join(format!("{id}_rev_{i}.py")),
            format!(
                "\"\"\"rev {i}\n\nRevision ID: {id}\nRevises: {:05}\n\"\"\"\nrevision = \"{id}\"\ndown_revision = {down}\n{dep}\n\ndef upgrade():\n    pass\n",
                i - 1
            ),
        )
        .unwrap();
    }
    git_init(dir);
}

/// Every file below `dir` but `.git`, and the git index's bytes.
fn state(dir: &Path) -> (BTreeMap<PathBuf, Vec<u8>>, Vec<u8>) {
    (
        tree_bytes(dir),
        std::fs::read(dir.join(".git/index")).unwrap_or_default(),
    )
}

/// The index as entries (path, blob, mode): what a re-run must match, the
/// file's bytes holding timestamps too.
fn index_entries(dir: &Path) -> Vec<(Vec<u8>, git2::Oid, u32)> {
    let repo = git2::Repository::open(dir).unwrap();
    let index = repo.index().unwrap();
    index.iter().map(|e| (e.path, e.id, e.mode)).collect()
}

pub(crate) fn spawn(dir: &Path, args: &[&str]) -> Child {
    spawn_as(Command::new(env!("CARGO_BIN_EXE_migfix")), dir, args)
}

/// `program` run with `-C dir` and `args`, in a clean environment, quiet.
fn spawn_as(mut program: Command, dir: &Path, args: &[&str]) -> Child {
    program
        .arg("-C")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) fn journal_of(dir: &Path) -> PathBuf {
    dir.join(".git/migfix-journal")
}

/// Files named as the applier's temp files, anywhere below `dir`.
pub(crate) fn temp_files(dir: &Path) -> Vec<PathBuf> {
    tree_bytes(dir)
        .into_keys()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(".migfix-") && name.ends_with(".tmp")
        })
        .collect()
}

/// A small xorshift, seeded, so that a failing kill repeats.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn a_write_killed_at_any_moment_is_undone_exactly_then_redone_exactly() {
    let top = tempfile::tempdir().unwrap();
    let original = top.path().join("original");
    chain(&original, 500);
    crate::journal_kills::kill_writes(top.path(), &original, COMMAND, 50);
}

/// A tree's files, and its git index entries (path, blob, mode).
type Outcome = (BTreeMap<PathBuf, Vec<u8>>, Vec<(Vec<u8>, git2::Oid, u32)>);

/// A committed chain of `n` in `top/original`, and what an unkilled run of
/// `command` makes of a copy of it: files and index entries.
fn original_and_result(top: &Path, n: usize, command: &[&str]) -> (PathBuf, Outcome) {
    let original = top.join("original");
    chain(&original, n);
    let reference = top.join("reference");
    copy_tree(&original, &reference);
    assert!(spawn(&reference, command).wait().unwrap().success());
    (
        original,
        (tree_bytes(&reference), index_entries(&reference)),
    )
}

/// A kill between the journal and the end: what every other command says,
/// and `undo --finish` completing it as an unkilled run would have.
#[test]
fn an_interrupted_write_blocks_writers_warns_readers_and_can_be_finished() {
    let top = tempfile::tempdir().unwrap();
    let (original, (after, after_index)) = original_and_result(top.path(), 300, COMMAND);

    // Killed as soon as the journal is there, the new files are not all
    // written: finishing is refused with nothing changed. Killed after the
    // first file moved into place, every new content is whole: finishing
    // completes the write.
    let work = top.path().join("work");
    let (mut refused, mut caught) = (false, false);
    for attempt in 0..40 {
        if work.exists() {
            std::fs::remove_dir_all(&work).unwrap();
        }
        copy_tree(&original, &work);
        let mut child = spawn(&work, COMMAND);
        let moved = work.join("migrations/versions/01001_rev_1.py");
        let early = attempt % 2 == 0;
        while child.try_wait().unwrap().is_none()
            && !(if early {
                journal_of(&work).join("journal.json").exists()
            } else {
                moved.exists()
            })
        {
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        let _ = child.kill();
        child.wait().unwrap();
        if !journal_of(&work).join("journal.json").exists() {
            continue;
        }
        if !early {
            caught = true;
            break;
        }
        let before = state(&work);
        let o = migfix(&work, &["-C", work.to_str().unwrap(), "undo", "--finish"]);
        if o.status.code() == Some(2) {
            assert!(stderr(&o).contains("cannot be completed"), "{}", stderr(&o));
            assert!(state(&work) == before, "a refused finish changed nothing");
            refused = true;
        }
    }
    assert!(caught, "no kill landed after the first move in 40 tries");
    eprintln!("a finish was refused for a kill before the new files were whole: {refused}");

    let dir = work.to_str().unwrap();
    let o = migfix(&work, &["-C", dir, "merge-heads", "--yes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("was interrupted before it finished"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("migfix undo --finish"),
        "{}",
        stderr(&o)
    );
    let o = migfix(&work, &["-C", dir, "chains"]);
    assert!(
        stderr(&o).contains("WARNING: an earlier write (migfix -C"),
        "{}",
        stderr(&o)
    );
    let o = migfix(&work, &["-C", dir, "recover"]);
    assert_eq!(o.status.code(), Some(2), "no terminal: it says what to run");
    assert!(stderr(&o).contains("migfix undo"), "{}", stderr(&o));

    let o = migfix(&work, &["-C", dir, "undo", "--finish"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("completed the interrupted write: migfix -C"),
        "{}",
        stdout(&o)
    );
    assert!(
        tree_bytes(&work) == after,
        "finishing differs from an unkilled run"
    );
    assert_eq!(index_entries(&work), after_index);
    assert!(!journal_of(&work).exists());
    let o = migfix(&work, &["-C", dir, "undo"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "nothing to undo: no interrupted write\n")
    );
}

#[test]
fn a_second_writer_refuses_naming_the_first_ones_lock() {
    let top = tempfile::tempdir().unwrap();
    let (original, (after, _)) = original_and_result(top.path(), 500, COMMAND);

    // The first is stopped while it holds the lock, so that the second
    // surely runs then; tried again where the first finished before it
    // could be stopped.
    for attempt in 0..10 {
        let work = top.path().join(format!("work-{attempt}"));
        copy_tree(&original, &work);
        let mut first = spawn(&work, COMMAND);
        while !journal_of(&work).join("journal.json").exists()
            && first.try_wait().unwrap().is_none()
        {
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        let pid = first.id() as libc::pid_t;
        // SAFETY: kill sends a signal to our own child.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        if first.try_wait().unwrap().is_some() {
            continue; // done before it could be stopped
        }
        let second = migfix(
            &work,
            &[&["-C", work.to_str().unwrap()][..], COMMAND].concat(),
        );
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
        assert!(
            first.wait().unwrap().success(),
            "the first writer completes"
        );
        assert!(
            tree_bytes(&work) == after,
            "the first writer's result is untouched"
        );
        assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
        assert!(
            stderr(&second).contains("another migfix (pid "),
            "{}",
            stderr(&second)
        );
        assert!(
            stderr(&second).contains(".git/migfix-journal"),
            "{}",
            stderr(&second)
        );
        return;
    }
    panic!("the first writer always finished before it could be stopped");
}

#[test]
fn a_locked_git_index_stops_the_write_before_anything_changes() {
    let top = tempfile::tempdir().unwrap();
    let work = top.path().join("work");
    chain(&work, 20);
    std::fs::write(work.join(".git/index.lock"), b"").unwrap();
    let before = state(&work);
    let o = migfix(
        &work,
        &[&["-C", work.to_str().unwrap()][..], COMMAND].concat(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the git index is locked"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert_eq!(state(&work), before);
    assert!(!journal_of(&work).exists());
}

/// A full disk: a small tmpfs, in a mount namespace of its own, where the
/// journal or the new files do not fit. Exit 2, every file as it was.
#[test]
fn a_full_disk_stops_the_write_with_nothing_changed() {
    let top = tempfile::tempdir().unwrap();
    let src = top.path().join("src");
    chain(&src, 400);
    let script = r#"
        set -e
        mnt=$1; src=$2; bin=$3
        mount -t tmpfs -o size=16m tmpfs "$mnt" || exit 125
        cp -a "$src" "$mnt/repo"
        # Fill the disk but for 200 KB: less than the write's new files
        # need (a block each), more than its journal.
        avail=$(df --output=avail -B1 "$mnt" | tail -n 1)
        head -c $((avail - 200000)) /dev/zero > "$mnt/filler"
        sum() { (cd "$mnt/repo" && find . -path ./.git/objects -prune -o -type f -print0 | sort -z | xargs -0 sha1sum); }
        before=$(sum)
        set +e
        "$bin" -C "$mnt/repo" renumber 00001 --to 01001 --yes > "$mnt/out" 2>&1
        echo "exit=$?"
        set -e
        after=$(sum)
        [ "$before" = "$after" ] && echo same || echo changed
        ls -a "$mnt/repo/.git" | grep -c migfix-journal || true
        cat "$mnt/out"
    "#;
    let mnt = top.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let o = in_mount_namespace(script)
        .arg(&mnt)
        .arg(&src)
        .arg(env!("CARGO_BIN_EXE_migfix"))
        .output();
    let o = match o {
        Ok(o) if o.status.code() != Some(125) && o.status.success() => o,
        other => {
            eprintln!("skipped: cannot mount a small tmpfs here: {other:?}");
            return;
        }
    };
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("exit=2"), "{out}{}", stderr(&o));
    assert_eq!(lines.next(), Some("same"), "{out}");
    assert_eq!(lines.next(), Some("0"), "no journal left: {out}");
    let message = lines.collect::<Vec<_>>().join("\n");
    assert!(message.contains("No space left on device"), "{message}");
    assert!(message.contains("nothing was"), "{message}");
}

/// `sh -c script` in a mount namespace of its own (and, not as root, a
/// user namespace), where it may mount; the caller adds the arguments.
fn in_mount_namespace(script: &str) -> Command {
    let mut c = Command::new("unshare");
    c.args(if is_root() {
        &["-m"][..]
    } else {
        &["-r", "-m"][..]
    })
    .args(["sh", "-c", script, "sh"]);
    c
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn check_warns_of_a_temp_file_left_in_a_chain_folder_and_reads_past_it() {
    let top = tempfile::tempdir().unwrap();
    let work = top.path().join("work");
    chain(&work, 5);
    let temp = work.join("migrations/versions/.migfix-4242-3.tmp");
    std::fs::write(&temp, "revision = \"99999\"\ndown_revision = \"00005\"\n").unwrap();
    let o = migfix(&work, &["-C", work.to_str().unwrap(), "check"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains(
            "migrations/versions/.migfix-4242-3.tmp: a temp file left by a migfix write that was interrupted"
        ),
        "{}",
        stderr(&o)
    );
    // Never taken for a migration: the head is still the chain's own.
    let o = migfix(&work, &["-C", work.to_str().unwrap(), "heads"]);
    assert_eq!(stdout(&o), "00005 (head)\n");
}

/// The lock is the OS's, held by the writing process: a writer whose
/// program has another name (a renamed copy, started as `exec -a` would)
/// is still known to be at work while it is stopped mid-write. A second
/// writer and `undo` refuse, and the write then completes.
#[cfg(unix)]
#[test]
fn a_writer_under_another_name_keeps_its_lock_while_it_writes() {
    use std::os::unix::process::CommandExt;
    let top = tempfile::tempdir().unwrap();
    let original = top.path().join("original");
    chain(&original, 500);
    let renamed = top.path().join("bin/dbtool");
    std::fs::create_dir_all(renamed.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_migfix"), &renamed).unwrap();

    for attempt in 0..10 {
        let work = top.path().join(format!("work-{attempt}"));
        copy_tree(&original, &work);
        let mut program = Command::new(&renamed);
        program.arg0("dbtool");
        let mut first = spawn_as(program, &work, COMMAND);
        while !journal_of(&work).join("journal.json").exists()
            && first.try_wait().unwrap().is_none()
        {
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        let pid = first.id() as libc::pid_t;
        // SAFETY: kill sends a signal to our own child.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        if first.try_wait().unwrap().is_some() {
            continue; // done before it could be stopped
        }
        let stopped = state(&work);
        let dir = work.to_str().unwrap();
        let writing = format!("migfix (pid {pid}) is writing this tree");
        for args in [COMMAND, &["undo"], &["undo", "--finish"]] {
            let o = migfix(&work, &[&["-C", dir][..], args].concat());
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(&writing), "{args:?}: {}", stderr(&o));
        }
        assert!(state(&work) == stopped, "nothing ran under the live writer");
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
        assert!(first.wait().unwrap().success(), "the writer completes");
        assert!(!journal_of(&work).exists());
        assert!(work.join("migrations/versions/01001_rev_1.py").is_file());
        return;
    }
    panic!("the writer always finished before it could be stopped");
}

/// A versions folder the write cannot change: a read-only mount (where
/// even removing a file that is not there fails), in a mount namespace of
/// its own so that it works as root too, and a folder without write
/// permission where permissions bite (not as root). The write stops with
/// nothing changed and leaves no journal to block the next one.
#[test]
fn a_read_only_folder_stops_the_write_and_blocks_no_later_one() {
    let top = tempfile::tempdir().unwrap();
    let work = top.path().join("work");
    chain(&work, 5);
    let versions = work.join("migrations/versions");
    let before = state(&work);
    let write = [&["-C", work.to_str().unwrap()][..], COMMAND].concat();
    let stopped = |how: &str, code: Option<i32>, err: &str| {
        assert_eq!(code, Some(2), "{how}: {err}");
        assert!(err.contains("nothing was written"), "{how}: {err}");
        assert!(state(&work) == before, "{how}: the tree changed");
        assert!(!journal_of(&work).exists(), "{how}: a journal was left");
    };
    let mut tried = Vec::new();

    let script = r#"
        dir=$1; bin=$2; shift 2
        mount --bind "$dir" "$dir" && mount -o remount,ro,bind "$dir" || exit 125
        "$bin" "$@"
    "#;
    let o = in_mount_namespace(script)
        .arg(&versions)
        .arg(env!("CARGO_BIN_EXE_migfix"))
        .args(&write)
        .output();
    match o {
        Ok(o) if o.status.code() != Some(125) => {
            assert!(
                stderr(&o).contains("Read-only file system"),
                "{}",
                stderr(&o)
            );
            stopped("read-only mount", o.status.code(), &stderr(&o));
            tried.push("a read-only mount");
        }
        other => eprintln!("no read-only mount here: {other:?}"),
    }

    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |m| std::fs::set_permissions(&versions, std::fs::Permissions::from_mode(m));
        mode(0o555).unwrap();
        let o = migfix(&work, &write);
        mode(0o755).unwrap();
        assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
        stopped("no write permission", o.status.code(), &stderr(&o));
        tried.push("a folder without write permission");
    }
    if tried.is_empty() {
        eprintln!("skipped: as root, without a mount namespace, no folder is read-only");
        return;
    }
    let o = migfix(&work, &write);
    assert_eq!(o.status.code(), Some(0), "after {tried:?}: {}", stderr(&o));
}
