//! `migfix renumber`, checked by real Alembic and byte for byte.

use std::path::Path;

use crate::common::*;

#[test]
fn fork_0144_renumber_0148_to_0151_leaves_one_head() {
    let (dir, repo) = repo_from("incident-2026-06-05");
    let (code, out, err) = run(dir.path(), &["renumber", "0148", "--to", "0151", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("onto 0146 (was 0144)"), "{out}");
    assert!(out.ends_with("console/migrations:\n0151 (head)\n"), "{out}");
    let versions = dir.path().join("console/migrations/versions");
    assert!(!versions
        .join("0148_promote_tax_lot_cost_basis_v2.py")
        .exists());
    assert!(versions
        .join("0151_promote_tax_lot_cost_basis_v2.py")
        .exists());
    // The index holds the whole repair: the rename and its edits, so that
    // `git commit` commits what loads; nothing is left unstaged.
    let status = repo
        .status_file(Path::new(
            "console/migrations/versions/0151_promote_tax_lot_cost_basis_v2.py",
        ))
        .unwrap();
    assert!(
        status.contains(git2::Status::INDEX_RENAMED) || status.contains(git2::Status::INDEX_NEW),
        "{status:?}"
    );
    assert!(!status.contains(git2::Status::WT_MODIFIED), "{status:?}");
    assert_eq!(
        git(dir.path(), &["diff", "--stat"]),
        "",
        "work tree = index"
    );
    assert!(
        out.contains("staged: console/migrations/versions/0151_promote_tax_lot_cost_basis_v2.py"),
        "{out}"
    );
    let ini_dir = dir.path().join("console/migrations");
    let Some(heads) = alembic(&ini_dir, &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0151 (head)\n");
    let sql = alembic(&ini_dir, &["upgrade", "head", "--sql"]).unwrap();
    assert!(sql.contains("UPDATE alembic_version SET version_num='0151' WHERE alembic_version.version_num = '0146'"), "{sql}");
}

#[test]
fn renumber_preview_snapshot() {
    let (dir, _repo) = repo_from("incident-2026-06-05");
    let (code, out, _) = run(
        dir.path(),
        &["renumber", "0148", "--to", "0151", "--dry-run"],
    );
    assert_eq!(code, 0);
    snapshot_settings(Some(dir.path()))
        .bind(|| insta::assert_snapshot!("renumber_0148_dry_run", out));
    let (_, json, _) = run(
        dir.path(),
        &[
            "renumber",
            "0148",
            "--to",
            "0151",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["applied"], false);
    assert_eq!(v["heads_after"], serde_json::json!(["0151"]));
    assert!(v["diff"]
        .as_str()
        .unwrap()
        .contains("rename to console/migrations/versions/0151_"));
    // A dry run writes nothing.
    assert!(dir
        .path()
        .join("console/migrations/versions/0148_promote_tax_lot_cost_basis_v2.py")
        .exists());
}

#[test]
fn the_preview_diff_applies_with_git_apply() {
    let (dir, _repo) = repo_from("incident-2026-06-05");
    let (_, json, _) = run(
        dir.path(),
        &["renumber", "0148", "--dry-run", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let patch = dir.path().join("renumber.patch");
    std::fs::write(&patch, v["diff"].as_str().unwrap()).unwrap();
    let out = std::process::Command::new("git")
        .args(["apply", "--check", "renumber.patch"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git apply refused the diff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_terminal_and_no_yes_writes_nothing() {
    let (dir, _repo) = repo_from("incident-2026-06-05");
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(dir.path(), &["renumber", "0148"]);
    assert_eq!(code, 1);
    assert!(out.contains("rename to"), "the diff is shown");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(tree_bytes(dir.path()), before);
}

#[test]
fn dup_revision_0038_renumber_by_path() {
    let (dir, _repo) = repo_from("dup-0038");
    let (code, _, err) = run(dir.path(), &["renumber", "0038"]);
    assert_eq!(code, 2, "an id two files claim needs a path");
    assert!(
        err.contains("migfix renumber migrations/versions/0038_promote_demo_paper_fill.py"),
        "{err}"
    );
    let (code, out, err) = run(
        dir.path(),
        &[
            "renumber",
            "migrations/versions/0038_promote_demo_paper_fill.py",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("renumber 0038 -> 0040") && out.contains("onto 0039 (was 0037)"),
        "{out}"
    );
    let Some(heads) = alembic(&dir.path().join("migrations"), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0040 (head)\n");
}

#[test]
fn three_digit_chain_keeps_three_digits_and_children_follow() {
    let (dir, _repo) = repo_from("basketball-031");
    let (code, out, err) = run(dir.path(), &["renumber", "010", "--yes"]);
    // Written, but the chain still has its two files claiming 031: exit 1.
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("not yet healthy") && out.contains("revision 031 is declared by 2 files"),
        "{out}"
    );
    assert!(
        out.contains("renumber 010 -> 032"),
        "next free, in 3 digits: {out}"
    );
    assert!(
        out.contains("parent stays 009") && out.contains("1 follows it: 011"),
        "{out}"
    );
    let child = std::fs::read_to_string(
        dir.path()
            .join("alembic/versions/011_add_home_away_scores_to_games.py"),
    )
    .or_else(|_| {
        let v = dir.path().join("alembic/versions");
        let f = std::fs::read_dir(&v)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("011_"))
            .unwrap();
        std::fs::read_to_string(f.path())
    })
    .unwrap();
    assert!(child.contains("down_revision = '032'"), "{child}");
    let (_, out, _) = run(dir.path(), &["history", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["chains"][0]["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"032") && !ids.contains(&"010"));
    let Some(heads) = alembic(dir.path(), &["heads"]) else {
        return;
    };
    assert_eq!(
        heads, "031 (head)\n031 (head)\n",
        "the unrelated duplicate 031 is still there"
    );
}

#[test]
fn next_free_counts_numbers_claimed_on_branches() {
    let (dir, repo) = repo_from("incident-2026-06-05");
    let v = "console/migrations/versions";
    git_branch(
        &repo,
        "feature/billing",
        &[(
            &format!("{v}/0145_billing.py"),
            &revision_file("0145", Some("0144")),
        )],
    );
    git_branch(
        &repo,
        "feature/email",
        &[
            (
                &format!("{v}/0149_email.py"),
                &revision_file("0149", Some("0144")),
            ),
            (
                &format!("{v}/0150_email2.py"),
                &revision_file("0150", Some("0149")),
            ),
        ],
    );
    let (code, out, _) = run(dir.path(), &["renumber", "0148", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("renumber 0148 -> 0151"),
        "above 0150 claimed on feature/email: {out}"
    );
    let (code, _, err) = run(dir.path(), &["renumber", "0148", "--to", "0149", "--yes"]);
    assert_eq!(code, 1, "a claimed number is refused");
    assert!(
        err.contains("branch feature/email claims it in console/migrations/versions/0149_email.py"),
        "{err}"
    );
    assert!(err.contains("migfix renumber 0148 --to 0151"), "{err}");
    let (code, _, err) = run(dir.path(), &["renumber", "0148", "--to", "0146", "--yes"]);
    assert_eq!(code, 1);
    assert!(err.contains("0146 is already used"), "{err}");
}

#[test]
fn refusals_and_errors() {
    let (dir, _repo) = repo_from("incident-2026-06-05");
    let (code, _, err) = run(dir.path(), &["renumber", "0416"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("nearest: 0146"),
        "a transposition is nearest: {err}"
    );
    let (code, _, err) = run(dir.path(), &["renumber", "0140", "--onto", "0143"]);
    assert_eq!(code, 1, "onto a descendant is a cycle");
    assert!(err.contains("cycle"), "{err}");
    // Uncommitted changes in a file to be touched.
    let f = dir
        .path()
        .join("console/migrations/versions/0148_promote_tax_lot_cost_basis_v2.py");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str("# local note\n");
    std::fs::write(&f, text).unwrap();
    let (code, _, err) = run(dir.path(), &["renumber", "0148", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("uncommitted changes") && err.contains("--allow-dirty"),
        "{err}"
    );
    let (code, _, err) = run(dir.path(), &["renumber", "0148", "--yes", "--allow-dirty"]);
    assert_eq!(code, 0, "{err}");
}

/// Every differing run of bytes between the two files, widened to whole
/// 4-character ids, as (old, new) pairs.
fn changed_ids(old: &[u8], new: &[u8]) -> Vec<(String, String)> {
    assert_eq!(old.len(), new.len(), "same-width ids keep the length");
    let mut out = Vec::new();
    let mut i = 0;
    while i < old.len() {
        if old[i] == new[i] {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && old[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let mut end = i;
        while end < old.len() && (old[end].is_ascii_digit() || old[end] != new[end]) {
            end += 1;
        }
        out.push((
            String::from_utf8_lossy(&old[start..end]).into_owned(),
            String::from_utf8_lossy(&new[start..end]).into_owned(),
        ));
        i = end;
    }
    out
}

/// An Alembic project in a new repository: the base revision 0001 and
/// `files` in its versions folder, written byte for byte.
fn versions_with(dir: &Path, files: &[(&str, &[u8])]) {
    write_tree(
        dir,
        &[
            (
                "alembic.ini",
                "[alembic]\nscript_location = %(here)s/migrations\n",
            ),
            ("migrations/script.py.mako", ""),
            ("migrations/env.py", "from alembic import context\n"),
            (
                "migrations/versions/0001_base.py",
                &revision_file("0001", None),
            ),
        ],
    );
    for (name, bytes) in files {
        std::fs::write(dir.join("migrations/versions").join(name), bytes).unwrap();
    }
    git_init(dir);
}

#[test]
fn byte_exact_only_id_tokens_change() {
    let dir = tempfile::tempdir().unwrap();
    let rev = "\u{feff}\"\"\"Tax §1256 tagger — naïve café 0002\r\n\r\nRevision ID: 0002\r\nRevises: 0001\r\n\"\"\"\r\nfrom typing import Union\r\n\r\n# renumbered from 0002 once already\r\nrevision: str = '0002'  # keep 0002 in mind\r\ndown_revision: Union[str, None] = '0001'\r\nbranch_labels = None\r\ndepends_on = None\r\nNOTE = \"0002 is mentioned here\"\r\n\r\n\r\ndef upgrade() -> None:\r\n    revision = \"0002\"\r\n    print(revision, NOTE)\r\n\r\n\r\ndef downgrade() -> None:\r\n    pass\r\n";
    let child = "\"\"\"child of 0002\n\nRevision ID: 0003\nRevises: 0002\n\"\"\"\nrevision = \"0003\"\ndown_revision = (\n    \"0002\",  # parent 0002\n)\ndepends_on = [\"0001\", '0002']  # also 0002\nbranch_labels = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n";
    versions_with(
        dir.path(),
        &[
            ("0002_tagger.py", rev.as_bytes()),
            ("0003_child.py", child.as_bytes()),
        ],
    );
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(dir.path(), &["renumber", "0002", "--to", "0010", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let after = tree_bytes(dir.path());
    let v = Path::new("migrations/versions");
    assert!(!after.contains_key(&v.join("0002_tagger.py")));
    let renamed = &after[&v.join("0010_tagger.py")];
    let expect = |pairs: Vec<(String, String)>, n: usize| {
        assert_eq!(pairs.len(), n, "{pairs:?}");
        for (o, n) in pairs {
            assert_eq!((o.as_str(), n.as_str()), ("0002", "0010"));
        }
    };
    // The literal and the docstring's Revision ID; not the comments, the
    // string constant, the function-local name or the docstring's title.
    expect(changed_ids(&before[&v.join("0002_tagger.py")], renamed), 2);
    // The tuple element and the depends_on element, and the Revises line.
    expect(
        changed_ids(
            &before[&v.join("0003_child.py")],
            &after[&v.join("0003_child.py")],
        ),
        3,
    );
    assert_eq!(
        before[&v.join("0001_base.py")],
        after[&v.join("0001_base.py")]
    );
    let text = String::from_utf8(renamed.clone()).unwrap();
    assert!(
        text.starts_with('\u{feff}')
            && text.contains("# renumbered from 0002")
            && text.contains("keep 0002 in mind")
    );
    assert!(text.contains("revision = \"0002\"") && text.contains("\"0002 is mentioned here\""));
    assert_eq!(
        text.matches("\r\n").count(),
        rev.matches("\r\n").count(),
        "CRLF kept"
    );
    let Some(heads) = alembic(dir.path(), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0003 (head)\n");
    let history = alembic(dir.path(), &["history"]).unwrap();
    assert!(
        history.contains("<base> -> 0001") && history.contains("0001 -> 0010"),
        "{history}"
    );
    assert!(
        history.contains("0010 (0001, 0010) -> 0003 (head)"),
        "down_revision and depends_on follow: {history}"
    );
}

/// Headers written as comments, and a date file template with a hash id
/// that is all digits: only the id tokens change, in the name too.
#[test]
fn comment_headers_and_date_templates_follow_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let rev = |id: &str, down: &str| {
        format!("# Revision ID: {id}\n# Revises: {down}\n# Create Date: 2017-09-05 14:45:00\n\nrevision = '{id}'\ndown_revision = {}\n\n\ndef upgrade():\n    pass  # {id}\n\n\ndef downgrade():\n    pass\n",
            if down.is_empty() { "None".to_string() } else { format!("'{down}'") })
    };
    let v = "migrations/versions";
    let files = [
        (
            format!("{v}/20170905_1445_f1eee7b4880a_add_event_roles.py"),
            rev("f1eee7b4880a", ""),
        ),
        (
            format!("{v}/20180101_0910_121699507574_add_x.py"),
            rev("121699507574", "f1eee7b4880a"),
        ),
        (
            format!("{v}/20181020_0000_91e2b8f3d6a4_add_y.py"),
            rev("91e2b8f3d6a4", "121699507574"),
        ),
        (
            "alembic.ini".to_string(),
            "[alembic]\nscript_location = %(here)s/migrations\n".to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_tree(dir.path(), &refs);
    git_init(dir.path());
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "no filename findings: {err}");
    let (_, chains, _) = run(dir.path(), &["chains"]);
    assert!(chains.contains("hash ids, files %(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d_%(rev)s_%(slug)s (inferred)"), "{chains}");
    let (code, out, err) = run(
        dir.path(),
        &["renumber", "121699507574", "--to", "0a1b2c3d4e5f", "--yes"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let moved = dir
        .path()
        .join(format!("{v}/20180101_0910_0a1b2c3d4e5f_add_x.py"));
    let text = std::fs::read_to_string(&moved).unwrap();
    assert_eq!(
        text,
        rev("0a1b2c3d4e5f", "f1eee7b4880a").replace("pass  # 0a1b2c3d4e5f", "pass  # 121699507574")
    );
    let child = std::fs::read_to_string(
        dir.path()
            .join(format!("{v}/20181020_0000_91e2b8f3d6a4_add_y.py")),
    )
    .unwrap();
    assert_eq!(child, rev("91e2b8f3d6a4", "0a1b2c3d4e5f"));
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    if let Some(heads) = alembic(dir.path(), &["heads"]) {
        assert_eq!(heads, "91e2b8f3d6a4 (head)\n");
    }
}

/// With --allow-dirty, a file the repair edits that held changes of the
/// user's own stays out of the index and is named; the rest is staged.
#[test]
fn a_file_with_the_users_changes_is_left_unstaged_and_named() {
    let (dir, _repo) = repo_from("incident-2026-06-05");
    let versions = dir.path().join("console/migrations/versions");
    let mine = versions.join("0146_promote_tax_wash_sale_detector.py");
    let mut text = std::fs::read_to_string(&mine).unwrap();
    text.push_str("# a note of mine, not staged\n");
    std::fs::write(&mine, &text).unwrap();
    let (code, out, err) = run(
        dir.path(),
        &["renumber", "0144", "--to", "0152", "--yes", "--allow-dirty"],
    );
    // Written, but the fork on 0144 is still there: exit 1, saying so.
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("verified: 3 chains read again, 0 healed, none worse"),
        "{out}"
    );
    assert!(
        out.contains("not yet healthy: console/migrations still fails check: 2 heads"),
        "{out}"
    );
    assert!(
        out.contains(
            "not staged: console/migrations/versions/0146_promote_tax_wash_sale_detector.py"
        ),
        "{out}"
    );
    let cached = git(dir.path(), &["diff", "--cached", "--name-status"]);
    assert!(!cached.contains("0146_"), "{cached}");
    assert!(
        cached.contains("0148_promote_tax_lot_cost_basis_v2.py"),
        "{cached}"
    );
    let unstaged = git(dir.path(), &["diff", "--name-only"]);
    assert_eq!(
        unstaged.trim(),
        "console/migrations/versions/0146_promote_tax_wash_sale_detector.py",
        "only the user's file differs from the index"
    );
    let now = std::fs::read_to_string(&mine).unwrap();
    assert!(
        now.contains("a note of mine") && now.contains("0152"),
        "{now}"
    );
}

/// Files in Latin-1 and cp1252 (bytes that are not UTF-8), and a UTF-8
/// file with Latin-1 bytes in a comment, as Python reads them: a renumber
/// changes the ids and keeps every other byte.
#[test]
fn latin1_and_cp1252_files_are_renumbered_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let rev: &[u8] = b"# -*- coding: latin-1 -*-\n\"\"\"Caf\xe9 na\xefve \xa71256\n\nRevision ID: 0002\nRevises: 0001\n\"\"\"\nrevision = '0002'  # \xe9t\xe9 0002\ndown_revision = '0001'\nbranch_labels = None\ndepends_on = None\nNOTE = \"\xc0 0002\"\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n";
    let child: &[u8] = b"# coding: cp1252\n\"\"\"\x93child\x94 \x80\n\nRevision ID: 0003\nRevises: 0002\n\"\"\"\nrevision = \"0003\"\ndown_revision = (\"0002\",)  # \x8a\ndepends_on = [\"0001\", '0002']\nbranch_labels = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n";
    let utf8: &[u8] = b"\"\"\"Revision ID: 0004\nRevises: 0003\n\"\"\"\nrevision = '0004'  # caf\xe9\ndown_revision = '0003'  # \xff\nbranch_labels = None\ndepends_on = '0002'\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n";
    versions_with(
        dir.path(),
        &[
            ("0002_cafe.py", rev),
            ("0003_child.py", child),
            ("0004_utf8.py", utf8),
        ],
    );
    let v = Path::new("migrations/versions");
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(dir.path(), &["renumber", "0002", "--to", "0010", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let after = tree_bytes(dir.path());
    let changed = |from: &str, to: &str| changed_ids(&before[&v.join(from)], &after[&v.join(to)]);
    let ids = |n: usize| vec![("0002".to_string(), "0010".to_string()); n];
    // The literal and the docstring's Revision ID; not the comment or NOTE.
    assert_eq!(changed("0002_cafe.py", "0010_cafe.py"), ids(2));
    // The tuple, depends_on and the Revises line.
    assert_eq!(changed("0003_child.py", "0003_child.py"), ids(3));
    assert_eq!(changed("0004_utf8.py", "0004_utf8.py"), ids(1));
    let Some(heads) = alembic(dir.path(), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0004 (head)\n");
}
