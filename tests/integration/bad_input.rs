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
        b"revision = '0002'\ndown_revision = '0001'\nNAME = 'caf\xe9'\n",
    )
    .unwrap();
    // In a comment the byte is skipped, as CPython skips it.
    fails_with(
        &dir,
        "migrations/versions/0002_b.py:3: (unicode error) 'utf-8' codec can't decode byte 0xe9: not valid UTF-8",
    );
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

/// Runs `chains`, `check` and a repair in `dir`: each exits 2 with exactly
/// `error: {expected}` on stderr (and `help: {help}`, when given), and
/// nothing below `dir` changes.
fn refused_exactly(dir: &std::path::Path, expected: &str, help: Option<&str>) {
    let help = help.map_or(String::new(), |h| format!("help: {h}\n"));
    let before = tree_bytes(dir);
    for args in [&["chains"][..], &["check"], &["renumber", "0001", "--yes"]] {
        let o = migfix(dir, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), format!("error: {expected}\n{help}"), "{args:?}");
    }
    assert_eq!(tree_bytes(dir), before, "nothing written");
}

/// A chain table's error names its file and the line of the key at fault,
/// in migfix.toml and in pyproject.toml's `[tool.migfix]` alike.
#[test]
fn chain_table_errors_name_the_line_of_the_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[[chain]]\nversions = []\n",
            "2: [[chain]] #1: `versions` names no folder",
        ),
        (
            "[[chain]]\nname = \"x\"\nkind = \"mysql\"\nversions = \"migrations/versions\"\n",
            "3: [[chain]] #1: unknown kind `mysql` (expected \"alembic\", \"sqitch\" or \"django\")",
        ),
        (
            "[[chain]]\nname = \"x\"\nconfig = \"alembic.ini\"\nplan = \"sqitch.plan\"\n",
            "3: [[chain]] #1: `config` is for an alembic chain, not sqitch",
        ),
        (
            "[[chain]]\nkind = \"sqitch\"\n\nconfig = \"alembic.ini\"\n",
            "4: [[chain]] #1: `config` is for an alembic chain, not sqitch",
        ),
        (
            "[[chain]]\nversions = \"migrations/versions\"\n\n[[chain]]\nname = \"y\"\nplan = \"nowhere.plan\"\n",
            "6: [[chain]] #2: `plan`: nowhere.plan is not a file",
        ),
        // No key to blame: the table's header.
        (
            "# chains\n[[chain]]\nname = \"x\"\n",
            "2: [[chain]] #1: an alembic chain needs `config` or `versions`",
        ),
        (
            "chain = [{ kind = \"sqitch\" }]\n",
            "1: [[chain]] #1: a sqitch chain needs `plan`",
        ),
    ];
    for (toml, expected) in cases {
        let dir = chain_with(&[("migfix.toml", toml)]);
        refused_exactly(dir.path(), &format!("migfix.toml:{expected}"), None);

        let dir = chain_with(&[]);
        let body = toml
            .replace("[[chain]]", "[[tool.migfix.chain]]")
            .replace("chain = [", "[tool.migfix]\nchain = [");
        let pyproject = format!("[project]\nname = \"app\"\n{body}");
        write_tree(dir.path(), &[("pyproject.toml", &pyproject)]);
        let (line, rest) = expected.split_once(": ").unwrap();
        let line: usize = line.parse().unwrap();
        let rest = rest.replace("[[chain]]", "[[tool.migfix.chain]]");
        let shift = if toml.starts_with("chain = [") { 3 } else { 2 };
        refused_exactly(
            dir.path(),
            &format!("pyproject.toml:{}: {rest}", line + shift),
            None,
        );
    }
}

/// A `file_template` that shows a field twice, as Alembic allows: read like
/// any other (it once panicked building the pattern), and a renumber
/// renames every showing of the id.
#[test]
fn file_template_showing_a_field_twice() {
    let dir = tempfile::tempdir().unwrap();
    let rev = |id: &str, down: &str| {
        format!("\"\"\"{id}\n\nRevision ID: {id}\nRevises: {down}\n\"\"\"\nrevision = \"{id}\"\ndown_revision = \"{down}\"\n")
    };
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                "[alembic]\nscript_location = migrations\nfile_template = %%(rev)s_%%(slug)s_%%(rev)s\n",
            ),
            ("migrations/versions/0001_init_0001.py", &revision_file("0001", None)),
            ("migrations/versions/0002_a_0002.py", &rev("0002", "0001")),
            ("migrations/versions/0003_b_0003.py", &rev("0003", "0002")),
            ("migrations/versions/0003_c_0003.py", &rev("0003", "0002")),
        ],
    );
    git_init(dir.path());
    let o = migfix(dir.path(), &["chains"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("files %(rev)s_%(slug)s_%(rev)s (file_template)"),
        "{}",
        stdout(&o)
    );
    let o = migfix(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = migfix(
        dir.path(),
        &["renumber", "migrations/versions/0003_c_0003.py", "--yes"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let versions = dir.path().join("migrations/versions");
    assert!(versions.join("0004_c_0004.py").is_file(), "{}", stdout(&o));
    assert!(!versions.join("0003_c_0003.py").exists());
    let o = migfix(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // A name that already disagrees with its id, in both places: the
    // renumber corrects both.
    write_tree(
        dir.path(),
        &[("migrations/versions/0037_d_0037.py", &rev("0004", "0003"))],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "d"]);
    let o = migfix(
        dir.path(),
        &["renumber", "migrations/versions/0037_d_0037.py", "--yes"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(versions.join("0005_d_0005.py").is_file(), "{}", stdout(&o));
}

/// No chain table: the line where they would be, when there is one.
#[test]
fn no_chain_tables_names_where_they_would_be() {
    let dir = chain_with(&[("migfix.toml", "# none yet\nchain = []\n")]);
    refused_exactly(
        dir.path(),
        "migfix.toml:2: no [[chain]] tables",
        Some("add a [[chain]] table with `config`, `versions` or `plan`, or delete migfix.toml to use discovery"),
    );
    let dir = chain_with(&[(
        "pyproject.toml",
        "[project]\nname = \"app\"\n\n[tool.migfix]\n",
    )]);
    refused_exactly(
        dir.path(),
        "pyproject.toml:4: no [[tool.migfix.chain]] tables",
        Some("add a [[tool.migfix.chain]] table with `config`, `versions` or `plan`, or remove [tool.migfix] to use discovery"),
    );
}
