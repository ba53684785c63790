//! Hostile or careless input: no write outside the chain's folders, exit 2
//! and nothing changed. A sibling folder of the repository is hashed before
//! and after each command to prove it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

/// Every file below `dir`, path to bytes (symlinks not followed).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file() {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// A repository (the 0144 fork) beside a sibling folder, both in one temp dir.
fn world() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    let sibling = top.path().join("sibling");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&sibling).unwrap();
    std::fs::write(sibling.join("keep.txt"), "untouched\n").unwrap();
    copy_tree(&fixture("incident-2026-06-05"), &repo);
    (top, repo, sibling)
}

/// `args` exits 2 with an error that says `says`, and neither the
/// repository nor the sibling changes.
fn refused_and_unchanged(repo: &Path, sibling: &Path, args: &[&str], says: &str) {
    let (before_repo, before_sibling) = (snapshot(repo), snapshot(sibling));
    let mut all = vec!["-C", repo.to_str().unwrap()];
    all.extend(args);
    let o = migfix(repo, &all);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{args:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    assert_eq!(
        snapshot(repo),
        before_repo,
        "{args:?} changed the repository"
    );
    assert_eq!(
        snapshot(sibling),
        before_sibling,
        "{args:?} wrote beside the repository"
    );
}

#[test]
fn new_ids_that_are_paths_or_not_names_are_refused() {
    let (_top, repo, sibling) = world();
    let escape = format!("{}/pwn", sibling.display());
    for to in [
        escape.as_str(),
        "../x",
        "../sibling/pwn",
        ".",
        "..",
        "a b",
        "0151 ",
        "~",
        "*",
        "0151\\x",
        "a'b",
        "a\"b",
        "0151/x",
        "",
    ] {
        refused_and_unchanged(
            &repo,
            &sibling,
            &["renumber", "0148", "--to", to, "--yes"],
            "error: --to:",
        );
        refused_and_unchanged(
            &repo,
            &sibling,
            &[
                "--chain",
                "console/migrations",
                "merge-heads",
                "--rev-id",
                to,
                "--yes",
            ],
            "error: --rev-id:",
        );
    }
    // A plain new id still works.
    let o = migfix(
        &repo,
        &[
            "-C",
            repo.to_str().unwrap(),
            "renumber",
            "0148",
            "--to",
            "0151",
            "--yes",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_file_template_that_climbs_out_writes_nothing() {
    let (_top, repo, sibling) = world();
    let ini = repo.join("console/migrations/alembic.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    let line = regex::Regex::new(r"(?m)^file_template\s*=.*$").unwrap();
    for template in [
        "../../../../sibling/%%(rev)s_%%(slug)s",
        "/tmp/migfix-pwn-%%(rev)s",
    ] {
        let changed = if text.contains("file_template") {
            line.replace(&text, format!("file_template = {template}"))
                .into_owned()
        } else {
            text.replacen(
                "[alembic]\n",
                &format!("[alembic]\nfile_template = {template}\n"),
                1,
            )
        };
        assert_ne!(changed, text);
        std::fs::write(&ini, &changed).unwrap();
        refused_and_unchanged(
            &repo,
            &sibling,
            &["--chain", "console/migrations", "merge-heads", "--yes"],
            "outside",
        );
    }
    assert!(std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with("migfix-pwn-")));
}

#[test]
fn a_versions_folder_linked_outside_the_repository_is_not_written() {
    let (_top, repo, sibling) = world();
    let versions = repo.join("console/migrations/versions");
    let outside = sibling.join("versions");
    std::fs::rename(&versions, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &versions).unwrap();
    for args in [
        &["renumber", "0148", "--to", "0151", "--yes"][..],
        &["--chain", "console/migrations", "merge-heads", "--yes"][..],
    ] {
        refused_and_unchanged(&repo, &sibling, args, "outside");
    }
}

/// A revision file CPython cannot compile, beside the incident's chain.
fn world_with(file: &[u8]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (top, repo, sibling) = world();
    let versions = repo.join("console/migrations/versions");
    std::fs::write(versions.join("0149_bad.py"), file).unwrap();
    (top, repo, sibling)
}

/// Each command that reads the chain gives one verdict on a bad file: exit
/// 2, naming the file and its line, with nothing written, and no crash.
fn every_command_refuses(file: &[u8], line: usize, says: &str) {
    let (_top, repo, sibling) = world_with(file);
    let at = format!("0149_bad.py:{line}: ");
    for args in [
        &["check"][..],
        &["heads"],
        &["history"],
        &["chains"],
        &["diagnose"],
        &["check", "--format", "json"],
        &["merge-heads", "--yes"],
        &["renumber", "0148", "--to", "0190", "--yes"],
    ] {
        refused_and_unchanged(&repo, &sibling, args, &at);
        refused_and_unchanged(&repo, &sibling, args, says);
    }
}

fn revision_with(body: &str) -> Vec<u8> {
    format!("revision = \"0149\"\ndown_revision = \"0148\"\n\n\ndef upgrade():\n{body}")
        .into_bytes()
}

#[test]
fn deep_nesting_around_revision_is_an_error_naming_the_line() {
    let deep = format!(
        "\"\"\"deep\"\"\"\nrevision = {}\"0149\"{}\ndown_revision = \"0148\"\n",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    every_command_refuses(deep.as_bytes(), 2, "too many nested parentheses");
    let chain = format!(
        "revision = \"0149\"\ndown_revision = \"0148\"\nx = a{}\n",
        ".b".repeat(20_000)
    );
    every_command_refuses(chain.as_bytes(), 3, "nested more than 3200 levels");
}

#[test]
fn what_cpython_refuses_every_command_refuses() {
    every_command_refuses(&revision_with("    print \"x\"\n"), 6, "print");
    every_command_refuses(
        &revision_with("    try:\n        pass\n    except ValueError, e:\n        pass\n"),
        8,
        "multiple exception types must be parenthesized",
    );
    every_command_refuses(
        &revision_with("    if True:\n\tx = 1\n        y = 2\n"),
        7,
        "inconsistent use of tabs and spaces",
    );
    every_command_refuses(
        &revision_with(&format!(
            "    x = {}1{}\n",
            "(".repeat(1000),
            ")".repeat(1000)
        )),
        6,
        "too many nested parentheses",
    );
    every_command_refuses(
        &revision_with("    x = 1\n      y = 2\n"),
        7,
        "unexpected indent",
    );
    every_command_refuses(&revision_with("    pass  # a \0 here\n"), 6, "null bytes");
}

#[test]
fn a_file_over_the_read_cap_is_refused_before_it_is_read() {
    let (_top, repo, sibling) = world();
    let versions = repo.join("console/migrations/versions");
    // 300 MiB, sparse: nothing is written to disk, and nothing may be read.
    let big = std::fs::File::create(versions.join("0149_big.py")).unwrap();
    big.set_len(300 << 20).unwrap();
    for args in [&["check"][..], &["heads"]] {
        refused_and_unchanged(
            &repo,
            &sibling,
            args,
            "0149_big.py: cannot read: 300.0 MiB, over the 256 MiB migfix reads of one file",
        );
    }
}
