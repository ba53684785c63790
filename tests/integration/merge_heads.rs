//! `migfix merge-heads`, checked by real Alembic.

use std::path::Path;

use crate::common::*;

/// Seed 001: open PRs claim 0145, 0147, 0149 and 0150, all on 0144.
fn seed_001_branches(repo: &git2::Repository) {
    let v = "console/migrations/versions";
    git_branch(
        repo,
        "feature/console-billing-customer-dashboard",
        &[(
            &format!("{v}/0145_billing_dashboard.py"),
            &revision_file("0145", Some("0144")),
        )],
    );
    git_branch(
        repo,
        "feature/tax-s1256-tagger",
        &[(
            &format!("{v}/0147_tax_s1256_tagger.py"),
            &revision_file("0147", Some("0144")),
        )],
    );
    git_branch(
        repo,
        "feature/email-verification-e2e-3272",
        &[
            (
                &format!("{v}/0149_email_verification.py"),
                &revision_file("0149", Some("0144")),
            ),
            (
                &format!("{v}/0150_email_verification_backfill.py"),
                &revision_file("0150", Some("0149")),
            ),
        ],
    );
}

#[test]
fn seed_001_merge_node_is_0151() {
    let (dir, repo) = repo_from("incident-2026-06-05");
    seed_001_branches(&repo);
    let (code, out, err) = run(
        dir.path(),
        &["merge-heads", "--label", "tax_heads", "--yes"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("merge-heads 0146 + 0148 -> 0151"), "{out}");
    assert!(
        out.contains("numbered past the ids claimed on other branches: 0145, 0147, 0149, 0150"),
        "{out}"
    );
    let path = dir
        .path()
        .join("console/migrations/versions/0151_merge_tax_heads.py");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("down_revision: Union[str, None] = ('0146', '0148')"),
        "{text}"
    );
    assert!(
        text.contains("def upgrade() -> None:\n    pass\n")
            && text.contains("def downgrade() -> None:\n    pass\n")
    );
    assert!(!text.contains("op."), "no DDL");
    // Added to the index.
    let status = repo
        .status_file(Path::new(
            "console/migrations/versions/0151_merge_tax_heads.py",
        ))
        .unwrap();
    assert!(status.contains(git2::Status::INDEX_NEW), "{status:?}");
    // The runbook's follow-up: every open PR still on 0144.
    for b in [
        "feature/console-billing-customer-dashboard: 0145",
        "feature/tax-s1256-tagger: 0147",
        "feature/email-verification-e2e-3272: 0149",
    ] {
        assert!(out.contains(b), "{b} in {out}");
    }
    assert!(
        !out.contains(": 0150 ("),
        "0150 revises 0149, a file of its own branch"
    );
    assert!(
        out.contains("on each branch, run: migfix rebase --base main"),
        "{out}"
    );
    let ini = dir.path().join("console/migrations");
    let Some(heads) = alembic(&ini, &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0151 (head)\n");
    let sql = alembic(&ini, &["upgrade", "head", "--sql"]).unwrap();
    assert!(sql.contains("version_num='0151'"), "{sql}");
}

#[test]
fn merge_preview_snapshot() {
    let (dir, _repo) = repo_from("incident-2026-06-05");
    let (code, out, _) = run(dir.path(), &["merge-heads", "--dry-run"]);
    assert_eq!(code, 0);
    let mut settings = snapshot_settings(Some(dir.path()));
    settings.add_filter(r"Create Date: [0-9: .-]+", "Create Date: [DATE]");
    settings.bind(|| insta::assert_snapshot!("merge_heads_dry_run", out));
    assert!(
        out.contains("0149_merge_0146_and_0148.py"),
        "no branches: the next number is 0149: {out}"
    );
    assert!(!dir
        .path()
        .join("console/migrations/versions/0149_merge_0146_and_0148.py")
        .exists());
}

#[test]
fn hash_chain_gets_a_fresh_hash_id() {
    let (dir, _repo) = repo_from("hash-heads");
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let heads = v["heads"].as_array().unwrap();
    assert_eq!(heads.len(), 1);
    let id = heads[0].as_str().unwrap();
    assert!(
        id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let new_file = v["changes"][0]["to"].as_str().unwrap();
    assert!(
        new_file.starts_with(&format!("alembic/versions/{id}_merge_")),
        "{new_file}"
    );
    let Some(out) = alembic(dir.path(), &["heads"]) else {
        return;
    };
    // One head; Alembic shows the `reporting` label it inherits.
    assert_eq!(out, format!("{id} (reporting) (head)\n"));
    alembic(dir.path(), &["upgrade", "heads", "--sql"]).unwrap();
}

#[test]
fn refusals() {
    for (fixture_name, expect, help) in [
        (
            "dup-0038",
            "a duplicate, not a fork",
            "migfix renumber migrations/versions/0038_promote_demo_paper_fill.py",
        ),
        (
            "basketball-031",
            "revision 031 is declared by 2 files",
            "migfix renumber alembic/versions/031_add_contract_overrides_to_players.py",
        ),
        (
            "dangling",
            "points at 0082_add_widgets, which does not exist",
            "help: migfix renumber migrations/versions/0083_foo.py --to 0083 --onto 0082",
        ),
        ("healthy", "a single head", ""),
    ] {
        let (dir, _repo) = repo_from(fixture_name);
        let before = tree_bytes(dir.path());
        let args: &[&str] = if fixture_name == "healthy" {
            &["--chain", "console", "merge-heads", "--yes"]
        } else {
            &["merge-heads", "--yes"]
        };
        let (code, out, err) = run(dir.path(), args);
        assert_eq!(code, 1, "{fixture_name}: {out}{err}");
        assert!(
            err.contains(expect) && err.contains(help),
            "{fixture_name}: {err}"
        );
        assert_eq!(
            tree_bytes(dir.path()),
            before,
            "{fixture_name}: nothing written"
        );
    }
}

#[test]
fn rev_id_override_and_claims() {
    let (dir, repo) = repo_from("incident-2026-06-05");
    seed_001_branches(&repo);
    let (code, _, err) = run(dir.path(), &["merge-heads", "--rev-id", "0147", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("branch feature/tax-s1256-tagger claims it"),
        "{err}"
    );
    let (code, out, err) = run(dir.path(), &["merge-heads", "--rev-id", "200", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("-> 0200"),
        "padded to the chain's width: {out}"
    );
}

#[test]
fn house_style_without_a_template_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let crlf = |s: String| s.replace('\n', "\r\n");
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", "[alembic]\nscript_location = migrations\n"),
            (
                "migrations/versions/001_a.py",
                &crlf(revision_file("001", None)),
            ),
            (
                "migrations/versions/002_b.py",
                &crlf("revision = '002'\ndown_revision = '001'\n".to_string()),
            ),
            (
                "migrations/versions/003_c.py",
                &crlf("revision = '003'\ndown_revision = '001'\n".to_string()),
            ),
        ],
    );
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("content in the style of 003_c.py"), "{out}");
    let text = std::fs::read_to_string(
        dir.path()
            .join("migrations/versions/004_merge_002_and_003.py"),
    )
    .unwrap();
    assert!(
        text.contains("revision = '004'\r\ndown_revision = ('002', '003')\r\n"),
        "{text:?}"
    );
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF throughout");
    let (_, out, _) = run(dir.path(), &["heads"]);
    assert_eq!(out, "004 (head)\n");
}

/// expand/contract: two labelled branches from one root, each with a head.
pub fn expand_contract(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rev = |id: &str, down: &str, labels: &str| {
        format!("\"\"\"{id}\n\nRevision ID: {id}\nRevises: {down}\n\"\"\"\nrevision = '{id}'\ndown_revision = {}\nbranch_labels = {labels}\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
            if down.is_empty() { "None".to_string() } else { format!("'{down}'") })
    };
    let mut files = vec![
        ("alembic.ini".to_string(), "[alembic]\nscript_location = %(here)s/migrations\nrecursive_version_locations = true\n".to_string()),
        ("migrations/versions/27e647c0fad4_initial.py".into(), rev("27e647c0fad4", "", "None")),
        ("migrations/versions/expand/29e87d24f2a3_expand.py".into(), rev("29e87d24f2a3", "27e647c0fad4", "('expand',)")),
        ("migrations/versions/contract/e25ffa003242_contract.py".into(), rev("e25ffa003242", "27e647c0fad4", "('contract',)")),
        ("migrations/versions/expand/b4f8b3f584e0_expand_more.py".into(), rev("b4f8b3f584e0", "29e87d24f2a3", "None")),
        ("migrations/versions/EXPAND_HEAD".into(), "b4f8b3f584e0\n".into()),
        ("migrations/versions/CONTRACT_HEAD".into(), "e25ffa003242\n".into()),
    ];
    for (p, down) in extra {
        files.push((
            format!("migrations/versions/expand/{p}_pr.py"),
            rev(p, down, "None"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_tree(dir.path(), &refs);
    git_init(dir.path());
    dir
}

#[test]
fn labelled_branches_are_intended_and_a_fork_inside_one_is_merged_alone() {
    let dir = expand_contract(&[]);
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "OK (2 heads, one per branch: e25ffa003242 (contract), b4f8b3f584e0 (expand))"
        ),
        "{out}"
    );
    let (_, heads, _) = run(dir.path(), &["heads"]);
    assert_eq!(
        heads,
        "e25ffa003242 (contract) (head)\nb4f8b3f584e0 (expand) (head)\n"
    );
    if let Some(theirs) = alembic(dir.path(), &["heads"]) {
        assert_eq!(heads, theirs, "as alembic heads prints them");
    }
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("on distinct labelled branches, as intended"),
        "{err}"
    );

    // Two PRs on the expand head: a fork inside the expand branch.
    let dir = expand_contract(&[
        ("aaaaaaaaaaa1", "b4f8b3f584e0"),
        ("bbbbbbbbbbb2", "b4f8b3f584e0"),
    ]);
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[C] 2 heads on branch expand: aaaaaaaaaaa1 and bbbbbbbbbbb2"),
        "{out}"
    );
    assert!(out.contains("run: migfix --chain"), "{out}");
    assert!(out.contains("merge-heads --branch expand"), "{out}");
    let (code, out, err) = run(dir.path(), &["merge-heads", "--branch", "expand", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("migrations/versions/EXPAND_HEAD now names"),
        "{out}"
    );
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    let expand_head =
        std::fs::read_to_string(dir.path().join("migrations/versions/EXPAND_HEAD")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migrations/versions/CONTRACT_HEAD")).unwrap(),
        "e25ffa003242\n"
    );
    // The merge file sits beside the heads it merges, and Alembic agrees.
    let merged: Vec<String> = std::fs::read_dir(dir.path().join("migrations/versions/expand"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("_merge_"))
        .collect();
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(
        merged[0].starts_with(expand_head.trim()),
        "{merged:?} named by EXPAND_HEAD {expand_head}"
    );
    if let Some(theirs) = alembic(dir.path(), &["heads"]) {
        assert_eq!(
            theirs,
            format!(
                "e25ffa003242 (contract) (head)\n{} (expand) (head)\n",
                expand_head.trim()
            )
        );
    }
}
