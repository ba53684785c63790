//! Messages that name the cause: a file name that is not UTF-8 is read, an
//! unreadable folder or a refused write gives the OS error naming the path,
//! a configuration file that is not UTF-8 names its line, and a sqitch
//! change whose scripts would leave their folders does not pass `check`.
//!
//! Tests run as root, where permissions stop neither reads nor writes: the
//! permission cases run migfix as `nobody` (setpriv), and the read-only
//! file system case inside a mount namespace (unshare), each skipped with a
//! message where that cannot be done.

use std::path::Path;

use crate::common::*;

fn alembic_chain(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[("alembic.ini", "[alembic]\nscript_location = migrations\n")],
    );
    write_tree(dir.path(), files);
    dir
}

/// migfix exits 2 on `heads` and `check`, and its stderr is exactly `says`.
fn fails_with(dir: &Path, says: &str) {
    for cmd in ["heads", "check"] {
        let (code, out, err) = run(dir, &[cmd]);
        assert_eq!(code, 2, "{cmd}: {out}{err}");
        assert_eq!(err, format!("error: {says}\n"), "{cmd}");
    }
}

// ---- configuration that is not UTF-8 --------------------------------------

#[test]
fn configuration_that_is_not_utf8_names_the_file_line_and_byte() {
    let revs = [("migrations/versions/0001_a.py", revision_file("0001", None))];
    let revs: Vec<(&str, &str)> = revs.iter().map(|(p, t)| (*p, t.as_str())).collect();
    // (file, bytes, the line of the 0xe9)
    let cases: [(&str, &[u8], usize); 4] = [
        (
            "alembic.ini",
            b"[alembic]\n# caf\xe9\nscript_location = migrations\n",
            2,
        ),
        (
            "migfix.toml",
            b"[[chain]]\nconfig = \"alembic.ini\"\n# caf\xe9\n",
            3,
        ),
        ("pyproject.toml", b"[tool.migfix]\n\n# caf\xe9\n", 3),
        (
            "pyproject.toml",
            b"[tool.alembic]\nscript_location = \"migrations\" # caf\xe9\n",
            2,
        ),
    ];
    for (file, bytes, line) in cases {
        let at = bytes.iter().position(|&b| b == 0xe9).unwrap();
        let dir = alembic_chain(&revs);
        std::fs::write(dir.path().join(file), bytes).unwrap();
        fails_with(
            dir.path(),
            &format!("{file}:{line}: not valid UTF-8 (byte {at} of the file)"),
        );
    }
}

#[test]
fn sqitch_files_that_are_not_utf8_name_the_file_line_and_byte() {
    let plan = "%syntax-version=1.0.0\n%project=q\n\nusers 2026-06-17T00:00:00Z Marge <m@x>\n";
    let project = |conf: &[u8], plan: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        for d in ["deploy", "revert", "verify"] {
            write_tree(dir.path(), &[(&format!("{d}/users.sql"), "SELECT 1;\n")]);
        }
        std::fs::write(dir.path().join("sqitch.conf"), conf).unwrap();
        std::fs::write(dir.path().join("sqitch.plan"), plan).unwrap();
        dir
    };
    let dir = project(b"[core]\n\tengine = pg\n", plan.as_bytes());
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "the project is sound: {out}{err}");
    let dir = project(b"[core]\n\tengine = pg\n# caf\xe9\n", plan.as_bytes());
    fails_with(
        dir.path(),
        "sqitch.conf:3: not valid UTF-8 (byte 25 of the file)",
    );
    let mut bad = plan.as_bytes().to_vec();
    bad.extend_from_slice(b"# caf\xe9\n");
    let dir = project(b"[core]\n\tengine = pg\n", &bad);
    fails_with(
        dir.path(),
        "sqitch.plan:5: not valid UTF-8 (byte 78 of the file)",
    );
}
