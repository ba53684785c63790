//! Bad input: a clear message naming file and line, exit 2, never a panic.

use crate::common::*;

fn chain_with(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                "[alembic]\nscript_location = %(here)s/migrations\n",
            ),
            (
                "migrations/versions/0001_a.py",
                &revision_file("0001", None),
            ),
        ],
    );
    write_tree(dir.path(), extra);
    dir
}

fn fails_with(dir: &tempfile::TempDir, expected: &str) {
    for cmd in ["heads", "check"] {
        let o = migfix(dir.path(), &[cmd]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{cmd}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(expected),
            "{cmd}: expected `{expected}` in:\n{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn unparsable_python() {
    let dir = chain_with(&[(
        "migrations/versions/0002_b.py",
        "revision = '0002'\ndown_revision = '0001'\n\ndef upgrade(:\n    pass\n",
    )]);
    fails_with(&dir, "migrations/versions/0002_b.py:4: Python syntax error");
}

#[test]
fn merge_conflict_markers() {
    let dir = chain_with(&[(
        "migrations/versions/0002_b.py",
        "revision = '0002'\n<<<<<<< HEAD\ndown_revision = '0001'\n=======\ndown_revision = '0000'\n>>>>>>> feature\n",
    )]);
    fails_with(&dir, "migrations/versions/0002_b.py:2:");
}

#[test]
fn non_utf8_file() {
    let dir = chain_with(&[]);
    std::fs::write(
        dir.path().join("migrations/versions/0002_b.py"),
        b"revision = '0002'\ndown_revision = '0001'\n# caf\xe9\n",
    )
    .unwrap();
    fails_with(&dir, "migrations/versions/0002_b.py:3: not valid UTF-8");
}

#[test]
fn missing_revision() {
    let dir = chain_with(&[("migrations/versions/0002_b.py", "down_revision = '0001'\n")]);
    fails_with(
        &dir,
        "migrations/versions/0002_b.py: no module-level `revision` assignment",
    );
}

#[test]
fn missing_down_revision() {
    let dir = chain_with(&[("migrations/versions/0002_b.py", "revision = '0002'\n")]);
    fails_with(
        &dir,
        "migrations/versions/0002_b.py:1: no module-level `down_revision`",
    );
}

#[test]
fn non_literal_revision_is_an_error_naming_the_line() {
    let dir = chain_with(&[(
        "migrations/versions/0002_b.py",
        "import ids\nrevision = ids.next()\ndown_revision = '0001'\n",
    )]);
    fails_with(
        &dir,
        "migrations/versions/0002_b.py:2: `revision` is not a literal (a call: `ids.next()`)",
    );
    let dir = chain_with(&[(
        "migrations/versions/0002_b.py",
        "from base import PARENT\nrevision = '0002'\ndown_revision = PARENT\n",
    )]);
    fails_with(
        &dir,
        "migrations/versions/0002_b.py:3: `down_revision` is not a literal",
    );
}

#[test]
fn non_literal_branch_labels_is_a_warning() {
    let dir = chain_with(&[(
        "migrations/versions/0002_b.py",
        "from cli import EXPAND\nrevision = '0002'\ndown_revision = '0001'\nbranch_labels = (EXPAND,)\ndepends_on = None\n",
    )]);
    let o = migfix(dir.path(), &["heads"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0002 (head)\n");
    assert!(
        stderr(&o)
            .contains("warning: migrations/versions/0002_b.py:4: `branch_labels` is not a literal"),
        "{}",
        stderr(&o)
    );
    let o = migfix(dir.path(), &["history", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["chains"][0]["revisions"][0]["branch_labels"],
        serde_json::Value::Null,
        "unknown, not guessed"
    );
    assert_eq!(v["warnings"][0]["line"], 4);
    let o = migfix(dir.path(), &["-q", "heads"]);
    assert_eq!(stderr(&o), "", "-q silences warnings");
}

#[test]
fn empty_versions_directory() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", "[alembic]\nscript_location = migrations\n"),
            ("migrations/versions/README", ""),
        ],
    );
    fails_with(&dir, "migrations/versions: no revision files");
}

#[test]
fn alembic_ini_pointing_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "alembic.ini",
            "[alembic]\n# where\nscript_location = %(here)s/nowhere\n",
        )],
    );
    fails_with(&dir, "alembic.ini:3: script_location `");
    let dir = chain_with(&[(
        "alembic.ini",
        "[alembic]\nscript_location = migrations\nversion_locations = migrations/versions other\n",
    )]);
    fails_with(&dir, "alembic.ini:3: version_locations names `other`");
    let dir = chain_with(&[(
        "alembic.ini",
        "[alembic]\nscript_location = migrations\npath_separator = comma\nversion_locations = a\n",
    )]);
    fails_with(&dir, "alembic.ini:3: `comma` is not a valid path separator");
}

#[test]
fn every_error_is_listed_not_just_the_first() {
    let dir = chain_with(&[
        ("migrations/versions/0002_b.py", "down_revision = '0001'\n"),
        (
            "migrations/versions/0003_c.py",
            "revision = x()\ndown_revision = '0002'\n",
        ),
    ]);
    let o = migfix(dir.path(), &["heads"]);
    assert!(
        stderr(&o).contains("0002_b.py") && stderr(&o).contains("0003_c.py:1:"),
        "{}",
        stderr(&o)
    );
}
