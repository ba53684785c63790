//! Messages that name the cause: a file name that is not UTF-8 is read, an
//! unreadable folder or a refused write gives the OS error naming the path,
//! a configuration file that is not UTF-8 names its line, and a sqitch
//! change whose scripts would leave their folders does not pass `check`.
//!
//! Tests run as root, where permissions stop neither reads nor writes: the
//! permission cases run migfix as `nobody` (setpriv), and the read-only
//! file system case inside a mount namespace (unshare), each skipped with a
//! message where that cannot be done.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

// ---- running without privileges -------------------------------------------

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The migfix command for a user whom permissions bind: as root, `nobody`
/// through setpriv; otherwise the current user.
fn unprivileged_migfix() -> Command {
    let bin = env!("CARGO_BIN_EXE_migfix");
    if !is_root() {
        return Command::new(bin);
    }
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
    c
}

/// migfix `args` on `dir`, run unprivileged; `None` (with a message) where
/// that user cannot run the binary.
fn unprivileged(dir: &Path, args: &[&str]) -> Option<Output> {
    let probe = unprivileged_migfix().arg("--version").output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: cannot run migfix as an unprivileged user: {probe:?}");
        return None;
    }
    let out = unprivileged_migfix()
        .args(["-C", dir.to_str().unwrap()])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    Some(out)
}

/// Sets `mode` on `path` and, with `all`, on every folder below it.
fn chmod(path: &Path, mode: u32, all: bool) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if all {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                chmod(&e.path(), mode, true);
            }
        }
    }
}

// ---- file names that are not UTF-8 ----------------------------------------

/// `{number}_caf\xe9.py`: Latin-1 `é`, not UTF-8.
fn latin1_name(number: &str) -> PathBuf {
    let mut name = number.as_bytes().to_vec();
    name.extend_from_slice(b"_caf\xe9.py");
    PathBuf::from(OsStr::from_bytes(&name))
}

#[test]
fn a_file_name_that_is_not_utf8_is_read() {
    let dir = alembic_chain(&[(
        "migrations/versions/0001_a.py",
        &revision_file("0001", None),
    )]);
    let versions = dir.path().join("migrations/versions");
    std::fs::write(
        versions.join(latin1_name("0002")),
        revision_file("0002", Some("0001")),
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!((code, out.as_str()), (0, "0002 (head)\n"), "{err}");
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    // Shown lossily, in text and in JSON (which must stay valid).
    let (code, out, _) = run(dir.path(), &["-v", "heads"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("migrations/versions/0002_caf\u{FFFD}.py"),
        "{out}"
    );
    let (code, out, _) = run(dir.path(), &["history", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["chains"][0]["revisions"][0]["path"],
        "migrations/versions/0002_caf\u{FFFD}.py"
    );
    // Alembic loads it too.
    if let Some(heads) = alembic(dir.path(), &["heads"]) {
        assert_eq!(heads.trim(), "0002 (head)");
    }
}

#[test]
fn names_that_are_not_utf8_are_loaded_in_pythons_order() {
    // Two files declare 0002: Python sorts `0002_é.py` (U+00E9) before
    // `0002_\x80.py` (read as U+DC80), so the second is loaded last, 0003
    // revises it, and `0002_é.py` stays a head. By bytes it is the other way.
    let dir = alembic_chain(&[
        (
            "migrations/versions/0001_a.py",
            &revision_file("0001", None),
        ),
        (
            "migrations/versions/0002_é.py",
            &revision_file("0002", Some("0001")),
        ),
        (
            "migrations/versions/0003_c.py",
            &revision_file("0003", Some("0002")),
        ),
    ]);
    std::fs::write(
        dir.path()
            .join("migrations/versions")
            .join(OsStr::from_bytes(b"0002_\x80.py")),
        revision_file("0002", Some("0001")),
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["-v", "heads"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "0002 (head)  migrations/versions/0002_é.py\n0003 (head)  migrations/versions/0003_c.py\n"
    );
    // Alembic resolves 0002 to the file it loaded last.
    let Some(python) = std::env::var_os("MIGFIX_PYTHON") else {
        assert!(!crate::oracle::required(), "MIGFIX_PYTHON is not set");
        eprintln!("skipping the Alembic half: MIGFIX_PYTHON is not set");
        return;
    };
    let resolved = Command::new(python)
        .args([
            "-W",
            "ignore",
            "-c",
            "import os, sys\n\
             from alembic.config import Config\n\
             from alembic.script import ScriptDirectory\n\
             s = ScriptDirectory.from_config(Config('alembic.ini'))\n\
             sys.stdout.buffer.write(os.fsencode(os.path.basename(s.get_revision('0002').path)))",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(resolved.status.success(), "{}", stderr(&resolved));
    assert_eq!(resolved.stdout, b"0002_\x80.py");
}

// ---- unreadable folders and files -----------------------------------------

#[test]
fn an_unreadable_versions_directory_names_it_and_the_os_error() {
    let dir = alembic_chain(&[
        (
            "migrations/versions/0001_a.py",
            &revision_file("0001", None),
        ),
        (
            "migrations/versions/sub/0002_b.py",
            &revision_file("0002", Some("0001")),
        ),
    ]);
    chmod(dir.path(), 0o755, true);
    // Searchable, so that it is found, but not listable.
    let versions = dir.path().join("migrations/versions");
    chmod(&versions, 0o311, false);
    let Some(o) = unprivileged(dir.path(), &["heads"]) else {
        return;
    };
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: migrations/versions: cannot read directory: Permission denied (os error 13)\n"
    );
    // A sub-folder of a recursive location, likewise.
    chmod(&versions, 0o755, false);
    chmod(&versions.join("sub"), 0o311, false);
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = migrations\nrecursive_version_locations = true\n",
    )
    .unwrap();
    let o = unprivileged(dir.path(), &["check"]).unwrap();
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: migrations/versions/sub: cannot read directory: Permission denied (os error 13)\n"
    );
    // An unreadable alembic.ini.
    chmod(&versions.join("sub"), 0o755, false);
    chmod(&dir.path().join("alembic.ini"), 0o200, false);
    let o = unprivileged(dir.path(), &["check"]).unwrap();
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: alembic.ini: cannot read: Permission denied (os error 13)\n"
    );
}

// ---- repairs on names that are not UTF-8 ----------------------------------

/// 0001 with two children, 0002_b.py and the non-UTF-8 0003_café.py: two
/// heads, in a git repository.
fn fork_with_a_non_utf8_head() -> (tempfile::TempDir, PathBuf) {
    let dir = alembic_chain(&[
        (
            "migrations/versions/0001_a.py",
            &revision_file("0001", None),
        ),
        (
            "migrations/versions/0002_b.py",
            &revision_file("0002", Some("0001")),
        ),
    ]);
    let odd = dir
        .path()
        .join("migrations/versions")
        .join(latin1_name("0003"));
    std::fs::write(&odd, revision_file("0003", Some("0001"))).unwrap();
    git_init(dir.path());
    (dir, odd)
}

#[test]
fn renumber_renames_a_file_whose_name_is_not_utf8_byte_for_byte() {
    let (dir, odd) = fork_with_a_non_utf8_head();
    let (code, out, err) = run(dir.path(), &["renumber", "0003", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let renamed = odd.with_file_name(latin1_name("0004"));
    assert!(!odd.exists() && renamed.is_file(), "{out}");
    let text = std::fs::read_to_string(&renamed).unwrap();
    assert!(text.contains("revision: str = \"0004\"") && text.contains("down_revision = \"0002\""));
    // The index holds the new name's bytes, and the undo command names the
    // files as a shell reads them, not lossily.
    let repo = git2::Repository::open(dir.path()).unwrap();
    let index = repo.index().unwrap();
    let paths: Vec<Vec<u8>> = index.iter().map(|e| e.path).collect();
    assert!(
        paths.contains(&b"migrations/versions/0004_caf\xe9.py".to_vec()),
        "{paths:?}"
    );
    assert!(!paths.contains(&b"migrations/versions/0003_caf\xe9.py".to_vec()));
    assert!(
        out.contains(
            r"git mv $'migrations/versions/0004_caf\xe9.py' $'migrations/versions/0003_caf\xe9.py'"
        ),
        "{out}"
    );
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn merge_heads_over_a_head_whose_name_is_not_utf8() {
    let (dir, odd) = fork_with_a_non_utf8_head();
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(odd.is_file());
    assert!(dir
        .path()
        .join("migrations/versions/0004_merge_0002_and_0003.py")
        .is_file());
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!((code, out.as_str()), (0, "0004 (head)\n"), "{err}");
}

// ---- writes the system refuses --------------------------------------------

/// The 0144 fork, readable by everyone, every folder `0555`.
fn read_only_incident() -> (tempfile::TempDir, PathBuf) {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    copy_tree(&fixture("incident-2026-06-05"), &repo);
    chmod(top.path(), 0o755, false);
    chmod(&repo, 0o555, true);
    (top, repo)
}

/// Each repair exits 2 naming the file it would write and `os_error`, and
/// changes nothing (no temp file left either). Where the root itself
/// cannot be written, the file is the journal, which is written first.
fn writes_refused(
    repo: &Path,
    run: impl Fn(&[&str]) -> Option<Output>,
    os_error: &str,
    root_writable: bool,
) {
    let merge = "console/migrations/versions/0149_merge_0146_and_0148.py";
    let renamed = "console/migrations/versions/0149_promote_tax_lot_cost_basis_v2.py";
    for (args, target) in [
        (
            &["--chain", "console/migrations", "merge-heads", "--yes"][..],
            merge,
        ),
        (&["renumber", "0148", "--yes"][..], renamed),
    ] {
        let before = tree_bytes(repo);
        let Some(o) = run(args) else { return };
        assert_eq!(code(&o), 2, "{args:?}: {}{}", stdout(&o), stderr(&o));
        let what = if root_writable {
            target.to_string()
        } else {
            ".migfix (the write's journal)".to_string()
        };
        assert_eq!(
            stderr(&o),
            format!("error: cannot write {what}: {os_error}; nothing was written\n"),
            "{args:?}"
        );
        assert!(!repo.join(".migfix").exists(), "{args:?} left its journal");
        assert_eq!(tree_bytes(repo), before, "{args:?} changed the tree");
    }
}

#[test]
fn a_folder_the_user_cannot_write_is_an_error_naming_the_file() {
    let (_top, repo) = read_only_incident();
    // The migrations' folders are read-only, the root (for the journal) not.
    chmod(&repo, 0o777, false);
    writes_refused(
        &repo,
        |args| unprivileged(&repo, args),
        "Permission denied (os error 13)",
        true,
    );
    chmod(&repo, 0o755, true);
}

#[test]
fn a_read_only_file_system_is_an_error_naming_the_file() {
    let (_top, repo) = read_only_incident();
    chmod(&repo, 0o755, true);
    // A private mount namespace (a user namespace too when not root), the
    // repository bind-mounted read-only onto itself.
    let ns: &[&str] = if is_root() { &["-m"] } else { &["-r", "-m"] };
    let mounted = |then: &[&str]| {
        Command::new("unshare")
            .args(ns)
            .args([
                "sh",
                "-c",
                r#"d=$1; shift; mount --bind -o ro "$d" "$d" || exit 125; exec "$@""#,
                "sh",
            ])
            .arg(&repo)
            .args(then)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
    };
    match mounted(&["true"]) {
        Ok(o) if o.status.success() => {}
        other => {
            eprintln!("skipped: cannot mount the repository read-only: {other:?}");
            return;
        }
    }
    let bin = env!("CARGO_BIN_EXE_migfix");
    writes_refused(
        &repo,
        |args| {
            let mut all = vec![bin, "-C", repo.to_str().unwrap()];
            all.extend_from_slice(args);
            Some(mounted(&all).unwrap())
        },
        "Read-only file system (os error 30)",
        false,
    );
}

// ---- sqitch change names that leave the script folders --------------------

#[test]
fn a_sqitch_change_whose_scripts_leave_their_folders_fails_check() {
    let dir = tempfile::tempdir().unwrap();
    // `deploy/a/../../x.sql` is `x.sql` at the top: it exists, so the
    // name is the only thing wrong.
    write_tree(
        dir.path(),
        &[
            ("sqitch.conf", "[core]\n\tengine = sqlite\n"),
            (
                "sqitch.plan",
                "%syntax-version=1.0.0\n%project=q\n\na/../../x 2026-06-17T00:00:00Z Marge <m@x>\n",
            ),
            ("x.sql", "SELECT 1;\n"),
        ],
    );
    for d in ["deploy", "revert", "verify"] {
        std::fs::create_dir_all(dir.path().join(d).join("a")).unwrap();
    }
    // sqitch itself reads the plan and would run ./x.sql.
    if let Some(oracle) = crate::sqitch_oracle::sqitch_oracle(dir.path()) {
        assert!(oracle.get("error").is_none(), "{oracle}");
        assert_eq!(oracle["changes"][0]["deploy_file"], "deploy/a/../../x.sql");
        assert_eq!(oracle["changes"][0]["deploy_exists"], true);
    }
    let (code, out, err) = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{out}");
    assert_eq!(findings[0]["kind"], "sqitch-name");
    assert_eq!(findings[0]["line"], 4);
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("change name `a/../../x` has a `..` segment"),
        "{out}"
    );
}

#[test]
fn a_sqitch_name_ending_in_a_symbol_fails_check_as_sqitch_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("sqitch.conf", "[core]\n\tengine = sqlite\n"),
            (
                "sqitch.plan",
                "%syntax-version=1.0.0\n%project=q\n\nprice€ 2026-06-17T00:00:00Z Marge <m@x>\n",
            ),
        ],
    );
    for d in ["deploy", "revert", "verify"] {
        write_tree(dir.path(), &[(&format!("{d}/price€.sql"), "SELECT 1;\n")]);
    }
    if let Some(oracle) = crate::sqitch_oracle::sqitch_oracle(dir.path()) {
        assert!(
            oracle["error"]
                .as_str()
                .is_some_and(|e| e.contains("Invalid name")),
            "{oracle}"
        );
    }
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "  sqitch.plan:4: invalid change name `price€`: ends with `€`, which is not a letter, digit or `_`\n"
        ),
        "{out}"
    );
}
