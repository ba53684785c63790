//! Advice that names the right file and the right first step: "the one
//! merged later" read from git history (by name only outside git, and
//! saying so), files named where two declare one id, and a dangling
//! pointer re-pointed before any merge, as numbered steps that work.

use std::path::Path;

use crate::common::*;

const INI: &str = "[alembic]\nscript_location = migrations\n";
const TRACE: &str = "migrations/versions/0038_promote_trace_mode_transitions.py";
const DEMO: &str = "migrations/versions/0038_promote_demo_paper_fill.py";

/// A chain at 0037 on main, and two branches that each add a 0038:
/// trace mode (#1781) and demo paper fill (#1778), merged in `order`.
fn two_prs(order: [&str; 2]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_tree(
        root,
        &[
            ("alembic.ini", INI),
            ("migrations/env.py", ""),
            (
                "migrations/versions/0036_a.py",
                &revision_file("0036", None),
            ),
            (
                "migrations/versions/0037_b.py",
                &revision_file("0037", Some("0036")),
            ),
        ],
    );
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "base"]);
    for (branch, file) in [("trace", TRACE), ("demo", DEMO)] {
        git(root, &["checkout", "-qb", branch, "main"]);
        write_tree(root, &[(file, &revision_file("0038", Some("0037")))]);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", branch]);
    }
    git(root, &["checkout", "-q", "main"]);
    for branch in order {
        git(root, &["merge", "-q", "--no-ff", "-m", branch, branch]);
    }
    dir
}

/// The commands of the `run:` lines, numbered steps without their numbers.
fn run_lines(out: &str) -> Vec<String> {
    out.lines()
        .map(str::trim_start)
        .filter_map(|l| {
            l.strip_prefix("run: ")
                .or_else(|| l.split_once(". migfix ").map(|_| l))
        })
        .map(|l| match l.split_once(". ") {
            Some((n, rest)) if n.parse::<u32>().is_ok() => rest.to_string(),
            _ => l.to_string(),
        })
        .collect()
}

#[test]
fn the_file_merged_later_is_read_from_git_history() {
    // Demo paper fill sorts first by name but was merged last.
    let dir = two_prs(["trace", "demo"]);
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("by git history"), "{out}");
    for line in run_lines(&out) {
        assert_eq!(line, format!("migfix renumber {DEMO}"), "{out}");
    }
    // The other merge order names the other file.
    let dir = two_prs(["demo", "trace"]);
    let (_, out, _) = run(dir.path(), &["check"]);
    for line in run_lines(&out) {
        assert_eq!(line, format!("migfix renumber {TRACE}"), "{out}");
    }
    // renumber with the bare id points at the same file.
    let (code, _, err) = run(dir.path(), &["renumber", "0038"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("migfix renumber {TRACE}")), "{err}");
    // Following the advice leaves one head, as Alembic sees it.
    let (code, out, err) = run(dir.path(), &["renumber", TRACE, "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    if let Some(heads) = alembic(dir.path(), &["heads"]) {
        assert_eq!(heads.lines().count(), 1, "{heads}");
    }
}

#[test]
fn outside_git_the_later_file_is_the_last_by_name_and_says_so() {
    let dir = two_prs(["trace", "demo"]);
    std::fs::remove_dir_all(dir.path().join(".git")).unwrap();
    let (_, out, _) = run(dir.path(), &["check"]);
    assert!(out.contains("outside git"), "{out}");
    for line in run_lines(&out) {
        assert_eq!(line, format!("migfix renumber {TRACE}"), "{out}");
    }
}

#[test]
fn heads_of_one_id_are_told_apart_by_their_files() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", INI),
            ("migrations/versions/030_a.py", &revision_file("030", None)),
            (
                "migrations/versions/031_b.py",
                &revision_file("031", Some("030")),
            ),
            (
                "migrations/versions/031_c.py",
                &revision_file("031", Some("030")),
            ),
        ],
    );
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("031 (migrations/versions/031_b.py) and 031 (migrations/versions/031_c.py)"),
        "{out}"
    );
}

/// A chain 0001 <- 0002 <- 0003 whose 0004 names a missing parent.
fn dangling(parent: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", INI),
            ("migrations/env.py", ""),
            (
                "migrations/versions/0001_a.py",
                &revision_file("0001", None),
            ),
            (
                "migrations/versions/0002_b.py",
                &revision_file("0002", Some("0001")),
            ),
            (
                "migrations/versions/0003_c.py",
                &revision_file("0003", Some("0002")),
            ),
            (
                "migrations/versions/0004_d.py",
                &revision_file("0004", Some(parent)),
            ),
        ],
    );
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "chain"]);
    dir
}

/// Runs every step `check` prints for the heads, as printed, then asserts
/// that the chain is healthy and the git index holds the whole repair.
fn follow(dir: &Path, steps: &[String]) {
    for step in steps {
        let words: Vec<&str> = step.split_whitespace().collect();
        assert_eq!(words[0], "migfix", "{step}");
        let mut args = words[1..].to_vec();
        args.push("--yes");
        let (code, out, err) = run(dir, &args);
        let last = step == steps.last().unwrap();
        assert_eq!(code, if last { 0 } else { 1 }, "{step}:\n{out}{err}");
    }
    let (code, out, _) = run(dir, &["check"]);
    assert_eq!(code, 0, "{out}");
    // Staged whole: nothing differs between the index and the work tree.
    let status = git(dir, &["status", "--porcelain"]);
    assert!(status.lines().all(|l| l.as_bytes()[1] == b' '), "{status}");
    if let Some(heads) = alembic(dir, &["heads"]) {
        assert_eq!(heads.lines().count(), 1, "{heads}");
    }
}

#[test]
fn a_dangling_pointer_is_re_pointed_before_the_merge() {
    let dir = dangling("0002x");
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1);
    let heads = out.split("[E]").next().unwrap();
    assert!(
        heads.contains(
            "run: 1. migfix renumber migrations/versions/0004_d.py --to 0004 --onto 0002\n"
        ) && heads.contains("     2. migfix --chain "),
        "{out}"
    );
    // A merge alone is refused, and says what to run first.
    let (code, _, err) = run(dir.path(), &["merge-heads"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("help: migfix renumber migrations/versions/0004_d.py --to 0004 --onto 0002"),
        "{err}"
    );
    let steps = run_lines(heads);
    assert_eq!(steps.len(), 2, "{steps:?}");
    follow(dir.path(), &steps);
}

#[test]
fn a_dangling_pointer_that_alone_makes_the_fork_is_one_step() {
    let dir = dangling("0003x");
    let (_, out, _) = run(dir.path(), &["check"]);
    let heads = out.split("[E]").next().unwrap();
    let steps = run_lines(heads);
    assert_eq!(
        steps,
        ["migfix renumber migrations/versions/0004_d.py --to 0004 --onto 0003"],
        "{out}"
    );
    assert!(heads.contains("that alone leaves one head"), "{out}");
    follow(dir.path(), &steps);
}

#[test]
fn a_dangling_pointer_with_nothing_near_goes_onto_the_one_other_head() {
    let dir = dangling("zzzz");
    let (_, out, _) = run(dir.path(), &["check"]);
    assert!(
        out.contains("with none near zzzz, onto the head 0003"),
        "{out}"
    );
    let heads = out.split("[E]").next().unwrap();
    let steps = run_lines(heads);
    assert_eq!(
        steps,
        ["migfix renumber migrations/versions/0004_d.py --to 0004 --onto 0003"],
        "{out}"
    );
    follow(dir.path(), &steps);
}

#[test]
fn a_dangling_pointer_with_no_guess_gets_no_merge_to_run() {
    // Two other heads: where it belongs is anyone's guess.
    let dir = dangling("zzzz");
    write_tree(
        dir.path(),
        &[(
            "migrations/versions/0005_e.py",
            &revision_file("0005", Some("0002")),
        )],
    );
    let (_, out, _) = run(dir.path(), &["check"]);
    let heads = out.split("[E]").next().unwrap();
    assert!(run_lines(&out).is_empty(), "{out}");
    assert!(
        heads.contains("first point the down_revision in migrations/versions/0004_d.py at an existing revision"),
        "{out}"
    );
}
