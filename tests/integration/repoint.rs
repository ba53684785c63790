//! `migfix repoint OLD NEW`: every reference to a missing revision made to
//! name an existing one, byte for byte, through the repair write flow.

use crate::common::*;

const INI: (&str, &str) = (
    "alembic.ini",
    "[alembic]\nscript_location = %(here)s/migrations\n",
);

/// A linear Alembic chain 0001..0003 in a git repository, plus `extra`.
fn alembic_repo(extra: &[(&str, &str)]) -> (tempfile::TempDir, git2::Repository) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![
        INI,
        ("migrations/script.py.mako", ""),
        ("migrations/env.py", ""),
    ];
    let revs = [
        ("migrations/versions/0001_a.py", revision_file("0001", None)),
        (
            "migrations/versions/0002_b.py",
            revision_file("0002", Some("0001")),
        ),
        (
            "migrations/versions/0003_c.py",
            revision_file("0003", Some("0002")),
        ),
    ];
    files.extend(revs.iter().map(|(p, t)| (*p, t.as_str())));
    files.extend_from_slice(extra);
    write_tree(dir.path(), &files);
    let repo = git_init(dir.path());
    (dir, repo)
}

/// CRLF line ends, both quote styles and a tuple over several lines: only
/// the tokens naming OLD change, every other byte stays.
#[test]
fn alembic_depends_on_edits_only_the_tokens() {
    let rev = "\"\"\"step 0004\r\n\r\nRevision ID: 0004\r\nRevises: 0003\r\n\"\"\"\r\nrevision = '0004'\r\ndown_revision = \"0003\"\r\nbranch_labels = None\r\ndepends_on = (\r\n    '0002_b',  # by its file name\r\n    \"0001\",\r\n    \"0002_b\",\r\n)\r\n\r\n\r\ndef upgrade() -> None:\r\n    pass\r\n\r\n\r\ndef downgrade() -> None:\r\n    pass\r\n";
    let other = revision_file("0005", Some("0004")).replace(
        "depends_on = None",
        "depends_on = '0002_b'  # 0002_b, as a comment",
    );
    let (dir, _repo) = alembic_repo(&[
        ("migrations/versions/0004_d.py", rev),
        ("migrations/versions/0005_e.py", &other),
    ]);
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("run: migfix repoint 0002_b 0002"),
        "check offers the command: {out}"
    );
    let (code, out, err) = run(dir.path(), &["repoint", "0002_b", "0002", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(dir.path().join("migrations/versions/0004_d.py")).unwrap();
    assert_eq!(
        text,
        rev.replace("'0002_b'", "'0002'")
            .replace("\"0002_b\"", "\"0002\"")
    );
    let text = std::fs::read_to_string(dir.path().join("migrations/versions/0005_e.py")).unwrap();
    assert_eq!(
        text,
        other.replace("depends_on = '0002_b'", "depends_on = '0002'"),
        "the comment keeps its words"
    );
    index_holds_everything(dir.path());
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
}

/// `--drop`: each entry naming OLD goes with its separator, so the rest
/// stays byte for byte; nothing left is `None`. Real Alembic loads each
/// result.
#[test]
fn drop_takes_the_entries_out_byte_for_byte() {
    let cases: &[(&str, &str)] = &[
        ("depends_on = 'gone'", "depends_on = None"),
        ("depends_on = ['gone', u\"gone\"]", "depends_on = None"),
        ("depends_on = ('gone', '0001')", "depends_on = ('0001')"),
        ("depends_on = ('0001', 'gone')", "depends_on = ('0001')"),
        (
            "depends_on = ['0001', 'gone', '0002']",
            "depends_on = ['0001', '0002']",
        ),
        (
            "depends_on = ('0001', 'gone', \"gone\",)",
            "depends_on = ('0001',)",
        ),
        (
            "depends_on = (\r\n    '''gone''',  # the audit tables\r\n    \"0001\",\r\n)",
            "depends_on = (\r\n    \"0001\",\r\n)",
        ),
        (
            "depends_on = (\r\n    \"0001\",\r\n    'gone',  # the audit tables\r\n)",
            "depends_on = (\r\n    \"0001\",  # the audit tables\r\n)",
        ),
    ];
    for (before, after) in cases {
        let text = revision_file("0004", Some("0003")).replace("depends_on = None", before);
        let (dir, _repo) = alembic_repo(&[("migrations/versions/0004_d.py", &text)]);
        let (code, out, _) = run(dir.path(), &["check"]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("run: migfix repoint gone --drop"),
            "{before}: {out}"
        );
        let (code, out, err) = run(dir.path(), &["repoint", "gone", "--drop", "--yes"]);
        assert_eq!(code, 0, "{before}: {out}{err}");
        let got =
            std::fs::read_to_string(dir.path().join("migrations/versions/0004_d.py")).unwrap();
        assert_eq!(got, text.replace(before, after), "{before}");
        index_holds_everything(dir.path());
        let (code, out, _) = run(dir.path(), &["check"]);
        assert_eq!(code, 0, "{before}: {out}");
        if let Some(heads) = alembic(dir.path(), &["heads"]) {
            assert!(heads.contains("0004"), "{before}: {heads}");
        }
    }
}

/// `--drop` is for a `depends_on`: a parent, a Django dependency and a
/// sqitch requirement are re-pointed, and say so.
#[test]
fn drop_refuses_what_must_be_re_pointed() {
    let (dir, _repo) = alembic_repo(&[(
        "migrations/versions/0004_d.py",
        &revision_file("0004", Some("gone")),
    )]);
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(dir.path(), &["repoint", "gone", "--drop", "--yes"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("0004_d.py:"), "{err}");
    assert!(
        err.contains("gone is the down_revision of 0004: a parent is re-pointed, not dropped"),
        "{err}"
    );
    assert_eq!(tree_bytes(dir.path()), before);
    let dir = sqitch_repo("payment-ledger");
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(
        dir.path(),
        &["repoint", "payment-ledger", "--drop", "--yes"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("a sqitch requirement on payment-ledger is re-pointed instead"),
        "{err}"
    );
    assert_eq!(tree_bytes(dir.path()), before);
    let (code, _, err) = run(dir.path(), &["repoint", "payment-ledger", "x", "--drop"]);
    assert_eq!(code, 2, "clap refuses NEW with --drop: {err}");
}

#[test]
fn refused_when_new_does_not_exist_naming_what_is_near() {
    let other =
        revision_file("0004", Some("0003")).replace("depends_on = None", "depends_on = \"0002_b\"");
    let (dir, _repo) = alembic_repo(&[("migrations/versions/0004_d.py", &other)]);
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(dir.path(), &["repoint", "0002_b", "0009", "--yes"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no revision 0009 in "), "{err}");
    assert!(err.contains("; nearest: 0004, 0003, 0002, 0001"), "{err}");
    // OLD must be missing, and named somewhere.
    let (code, _, err) = run(dir.path(), &["repoint", "0003", "0002", "--yes"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(dir.path(), &["repoint", "0007_x", "0002", "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no reference to 0007_x"), "{err}");
    assert_eq!(tree_bytes(dir.path()), before, "nothing written");
}

#[test]
fn dry_run_writes_nothing() {
    let other =
        revision_file("0004", Some("0003")).replace("depends_on = None", "depends_on = \"0002_b\"");
    let (dir, _repo) = alembic_repo(&[("migrations/versions/0004_d.py", &other)]);
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(dir.path(), &["repoint", "0002_b", "0002", "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("-depends_on = \"0002_b\""), "{out}");
    assert!(out.contains("+depends_on = \"0002\""), "{out}");
    assert_eq!(tree_bytes(dir.path()), before);
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
}

/// A dangling `down_revision` is a reference too: it and its docstring's
/// `Revises:` follow.
#[test]
fn alembic_down_revision_and_its_header() {
    let (dir, _repo) = alembic_repo(&[(
        "migrations/versions/0004_d.py",
        &revision_file("0004", Some("0003_c")),
    )]);
    let (code, out, err) = run(dir.path(), &["repoint", "0003_c", "0003", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(dir.path().join("migrations/versions/0004_d.py")).unwrap();
    assert_eq!(text, revision_file("0004", Some("0003")));
    index_holds_everything(dir.path());
}

/// fixtures/django-shop without 0005_product_discount; payments gains a
/// migration depending on shop's `dependency`.
fn django_repo(dependency: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("django-shop"), dir.path());
    std::fs::remove_file(dir.path().join("shop/migrations/0005_product_discount.py")).unwrap();
    let text = format!(
        "from django.db import migrations\r\n\r\n\r\nclass Migration(migrations.Migration):\r\n\r\n    dependencies = [\r\n        ('payments', '0003_invoice_currency'),\r\n        (\r\n            \"shop\",\r\n            \"{dependency}\",\r\n        ),\r\n    ]\r\n\r\n    operations = []\r\n"
    );
    write_tree(
        dir.path(),
        &[("billing/migrations/0004_invoice_weight.py", &text)],
    );
    git_init(dir.path());
    (dir, text)
}

#[test]
fn django_dependency_on_another_app() {
    let (dir, text) = django_repo("0005_product_wieght");
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("run: migfix repoint shop.0005_product_wieght shop.0005_product_weight"),
        "{out}"
    );
    let (code, out, err) = run(
        dir.path(),
        &[
            "repoint",
            "shop.0005_product_wieght",
            "shop.0005_product_weight",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let after =
        std::fs::read_to_string(dir.path().join("billing/migrations/0004_invoice_weight.py"))
            .unwrap();
    assert_eq!(
        after,
        text.replace("0005_product_wieght", "0005_product_weight")
    );
    index_holds_everything(dir.path());
}

#[test]
fn django_refuses_a_new_that_is_not_a_migration() {
    let (dir, _) = django_repo("0005_product_wieght");
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(
        dir.path(),
        &[
            "repoint",
            "shop.0005_product_wieght",
            "shop.0006_nothing",
            "--yes",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no migration shop.0006_nothing"), "{err}");
    assert!(err.contains("shop.0005_product_weight"), "{err}");
    assert_eq!(tree_bytes(dir.path()), before);
}

/// fixtures/healthy's queue plan with a change requiring `requires`.
fn sqitch_repo(requires: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("healthy"), dir.path());
    let plan = dir.path().join("queue/migrations/sqitch/sqitch.plan");
    let mut text = std::fs::read_to_string(&plan).unwrap();
    text.push_str(&format!(
        "08-job-retries [{requires} 01-job-queue] 2026-06-20T09:00:00Z dev <dev@raxx.app> # retries\n"
    ));
    std::fs::write(&plan, text).unwrap();
    for d in ["deploy", "revert", "verify"] {
        write_tree(
            dir.path(),
            &[(
                &format!("queue/migrations/sqitch/{d}/08-job-retries.sql"),
                "SELECT 1;\n",
            )],
        );
    }
    git_init(dir.path());
    dir
}

#[test]
fn sqitch_requirement_edits_the_plan_only() {
    let dir = sqitch_repo("02-job-atempts");
    let plan = dir.path().join("queue/migrations/sqitch/sqitch.plan");
    let before = std::fs::read_to_string(&plan).unwrap();
    let (code, out, err) = run(dir.path(), &["--format", "json", "check"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let commands: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["command"].as_str())
        .collect();
    assert_eq!(commands.len(), 1, "{out}");
    assert_eq!(
        commands[0],
        "migfix --chain queue/migrations/sqitch repoint 02-job-atempts 02-job-attempts"
    );
    let words: Vec<&str> = commands[0].split(' ').skip(1).collect();
    let mut args = words.clone();
    args.push("--yes");
    let (code, out, err) = run(dir.path(), &args);
    assert_eq!(code, 0, "{out}{err}");
    let after = std::fs::read_to_string(&plan).unwrap();
    assert_eq!(
        after,
        before.replace("[02-job-atempts ", "[02-job-attempts ")
    );
    index_holds_everything(dir.path());
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn sqitch_refuses_a_change_not_planned() {
    let dir = sqitch_repo("payment-ledger");
    let before = tree_bytes(dir.path());
    let (code, out, err) = run(
        dir.path(),
        &["repoint", "payment-ledger", "01-job-queu", "--yes"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no change 01-job-queu in project"), "{err}");
    assert!(err.contains("01-job-queue"), "{err}");
    assert_eq!(tree_bytes(dir.path()), before);
}
