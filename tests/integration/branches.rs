//! Branch-aware commands on seed 001 rebuilt as a git repository: heads
//! 0146 and 0148 on main, open branches adding 0145, 0147, 0149 and 0150 on
//! 0144, and one branch reusing a number main already has.

use std::process::Command;

use crate::common::*;

const V: &str = "console/migrations/versions";

/// main forks at 0144; the PR branches start there; then 0146 and 0148 land.
fn seed_001() -> (tempfile::TempDir, git2::Repository) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("incident-2026-06-05"), dir.path());
    let held = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(dir.path().join(V)).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if name.starts_with("0146_") || name.starts_with("0148_") {
            std::fs::rename(f.path(), held.path().join(&name)).unwrap();
        }
    }
    let repo = git_init(dir.path());
    git_branch(
        &repo,
        "feature/console-billing-customer-dashboard",
        &[(
            &format!("{V}/0145_billing_dashboard.py"),
            &revision_file("0145", Some("0144")),
        )],
    );
    git_branch(
        &repo,
        "feature/tax-s1256-tagger",
        &[(
            &format!("{V}/0147_tax_s1256_tagger.py"),
            &revision_file("0147", Some("0144")),
        )],
    );
    git_branch(
        &repo,
        "feature/email-verification-e2e-3272",
        &[
            (
                &format!("{V}/0149_email_verification.py"),
                &revision_file("0149", Some("0144")),
            ),
            (
                &format!("{V}/0150_email_verification_backfill.py"),
                &revision_file("0150", Some("0149")),
            ),
        ],
    );
    git_branch(
        &repo,
        "feature/reused-number",
        &[(
            &format!("{V}/0146_saved_filters.py"),
            &revision_file("0146", Some("0144")),
        )],
    );
    for f in std::fs::read_dir(held.path()).unwrap().flatten() {
        std::fs::rename(f.path(), dir.path().join(V).join(f.file_name())).unwrap();
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "0146 and 0148 land on main"]);
    (dir, repo)
}

#[test]
fn collisions_on_seed_001() {
    let (dir, _repo) = seed_001();
    let (code, out, err) = run(dir.path(), &["collisions", "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["base"], "main");
    assert_eq!(v["next_free"]["console/migrations"], "0151");
    assert_eq!(
        v["base_heads"]["console/migrations"],
        serde_json::json!(["0146", "0148"])
    );
    let collisions = v["collisions"].as_array().unwrap();
    assert_eq!(collisions.len(), 1, "{collisions:?}");
    assert_eq!(collisions[0]["id"], "0146");
    let claimants: Vec<&str> = collisions[0]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["branch"].as_str().unwrap())
        .collect();
    assert_eq!(claimants, ["main", "feature/reused-number"]);
    let mut stale: Vec<(&str, &str)> = v["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["branch"].as_str().unwrap(),
                s["revision"].as_str().unwrap(),
            )
        })
        .collect();
    stale.sort();
    assert_eq!(
        stale,
        [
            ("feature/console-billing-customer-dashboard", "0145"),
            ("feature/email-verification-e2e-3272", "0149"),
            ("feature/reused-number", "0146"),
            ("feature/tax-s1256-tagger", "0147"),
        ],
        "0150 revises 0149 on its own branch, so it is not stale"
    );
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "stale-parent").count(), 4);
    // --refs narrows the branches.
    let (_, out, _) = run(
        dir.path(),
        &["collisions", "--refs", "feature/tax-*", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["collisions"].as_array().unwrap().len(), 0);
    assert_eq!(v["stale"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["next_free"]["console/migrations"], "0149",
        "only main and the tax branch count"
    );
}

#[test]
fn collisions_text_snapshot() {
    let (dir, _repo) = seed_001();
    let (code, out, _) = run(dir.path(), &["collisions"]);
    assert_eq!(code, 1);
    snapshot_settings(Some(dir.path()))
        .bind(|| insta::assert_snapshot!("collisions_seed_001", out));
}

#[test]
fn collisions_in_ci_formats() {
    let (dir, _repo) = seed_001();
    let (text_code, text, _) = run(dir.path(), &["collisions"]);
    let collisions = text
        .lines()
        .filter(|l| l.trim_start().starts_with("collision:"))
        .count();
    let stale = text
        .lines()
        .filter(|l| l.trim_start().starts_with("stale:"))
        .count();
    assert!(collisions + stale > 0, "{text}");
    let (code, out, _) = run(dir.path(), &["collisions", "--format", "github"]);
    assert_eq!(code, text_code);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("::error ")).count(),
        collisions + stale,
        "{out}"
    );
    let (code, out, _) = run(dir.path(), &["collisions", "--format", "junit"]);
    assert_eq!(code, text_code);
    assert!(
        out.contains("<testcase classname=\"migfix.collisions\" name=\"console/migrations\""),
        "{out}"
    );
    assert!(out.contains("<failure type=\"number-collision\""), "{out}");
    snapshot_settings(Some(dir.path()))
        .bind(|| insta::assert_snapshot!("collisions_seed_001_junit", out));
}

#[test]
fn rebase_after_merge_heads_and_merge_gives_one_head() {
    let (dir, _repo) = seed_001();
    // On main: the runbook's merge node, 0151.
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("-> 0151"), "{out}");
    git(dir.path(), &["commit", "-qam", "merge heads"]);
    // On the billing branch: move 0145 after main's head.
    git(
        dir.path(),
        &[
            "checkout",
            "-q",
            "feature/console-billing-customer-dashboard",
        ],
    );
    let (code, out, err) = run(dir.path(), &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("0145 -> 0152 onto 0151"),
        "above 0150 claimed on the email branch: {out}"
    );
    assert!(out.contains("next: merge main into this branch"), "{out}");
    let text =
        std::fs::read_to_string(dir.path().join(V).join("0152_billing_dashboard.py")).unwrap();
    assert!(
        text.contains("revision: str = \"0152\"") && text.contains("down_revision = \"0151\""),
        "{text}"
    );
    git(dir.path(), &["commit", "-qam", "rebase migrations"]);
    git(dir.path(), &["merge", "-q", "main", "-m", "merge main"]);
    let Some(heads) = alembic(&dir.path().join("console/migrations"), &["heads"]) else {
        return;
    };
    assert_eq!(heads, "0152 (head)\n");
    // Nothing left to move.
    let (code, out, _) = run(dir.path(), &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to rebase"), "{out}");
}

#[test]
fn rebase_refuses_a_base_with_several_heads() {
    let (dir, _repo) = seed_001();
    git(dir.path(), &["checkout", "-q", "feature/tax-s1256-tagger"]);
    let before = tree_bytes(dir.path());
    let (code, _, err) = run(dir.path(), &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("main has 2 heads") && err.contains("merge-heads"),
        "{err}"
    );
    assert_eq!(tree_bytes(dir.path()), before);
}

#[test]
fn fifty_branches() {
    let (dir, repo) = seed_001();
    for i in 0..50 {
        let id = format!("{:04}", 200 + i);
        git_branch(
            &repo,
            &format!("pr/{i}"),
            &[(
                &format!("{V}/{id}_pr_{i}.py"),
                &revision_file(&id, Some("0148")),
            )],
        );
    }
    let started = std::time::Instant::now();
    let (code, out, _) = run(dir.path(), &["collisions", "--format", "json"]);
    eprintln!("collisions over 54 branches: {:?}", started.elapsed());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["next_free"]["console/migrations"], "0250");
    assert_eq!(
        v["stale"].as_array().unwrap().len(),
        54,
        "every branch revises a revision that is not the (single) head"
    );
}

/// sqitch: main and a branch both add change 08; rebasing the branch puts
/// its change after main's as 09, scripts renamed, and sqitch deploys the
/// merge.
#[test]
fn sqitch_rebase_moves_new_changes_after_the_base() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("incident-2026-06-05"), dir.path());
    git_init(dir.path());
    let q = dir.path().join("queue/migrations/sqitch");
    let add = |name: &str, table: &str| {
        let plan = q.join("sqitch.plan");
        let mut text = std::fs::read_to_string(&plan).unwrap();
        text.push_str(&format!(
            "{name} [01-job-queue] 2026-06-20T00:00:00Z raxx-dev-bot <ops@raxx.app> # {table}\n"
        ));
        std::fs::write(&plan, text).unwrap();
        std::fs::write(
            q.join(format!("deploy/{name}.sql")),
            format!("CREATE TABLE {table} (id INTEGER);\n"),
        )
        .unwrap();
        std::fs::write(
            q.join(format!("revert/{name}.sql")),
            format!("DROP TABLE {table};\n"),
        )
        .unwrap();
        std::fs::write(
            q.join(format!("verify/{name}.sql")),
            format!("SELECT id FROM {table} WHERE 0;\n"),
        )
        .unwrap();
    };
    git(dir.path(), &["checkout", "-q", "-b", "feature/job-tags"]);
    add("08-job-tags", "job_tags");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "job tags"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    add("08-queue-metrics", "queue_metrics");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "queue metrics"]);
    git(dir.path(), &["checkout", "-q", "feature/job-tags"]);
    let (code, out, err) = run(dir.path(), &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("08-job-tags -> 09-job-tags after main's 08-queue-metrics"),
        "{out}"
    );
    let plan = std::fs::read_to_string(q.join("sqitch.plan")).unwrap();
    let tail: Vec<&str> = plan.lines().rev().take(2).collect();
    assert!(
        tail[0].starts_with("09-job-tags [01-job-queue] ")
            && tail[1].starts_with("08-queue-metrics "),
        "{plan}"
    );
    assert!(
        q.join("deploy/09-job-tags.sql").is_file() && !q.join("deploy/08-job-tags.sql").exists()
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "rebase onto main"]);
    assert!(out.contains("keep this branch's side"), "{out}");
    // Both sides append to the plan, which git always calls a conflict;
    // this branch's plan already holds main's change.
    git(
        dir.path(),
        &["merge", "-q", "-X", "ours", "main", "-m", "merge main"],
    );
    let merged = std::fs::read_to_string(q.join("sqitch.plan")).unwrap();
    assert_eq!(merged, plan, "the merge keeps the rebased plan");
    assert!(
        q.join("deploy/08-queue-metrics.sql").is_file(),
        "main's scripts arrive"
    );
    let sqitch_ok = Command::new("sqitch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !sqitch_ok {
        assert!(!crate::oracle::required(), "sqitch is not installed");
        return;
    }
    let db = tempfile::tempdir().unwrap();
    let out = Command::new("sqitch")
        .args([
            "deploy",
            "--verify",
            &format!("db:sqlite:{}", db.path().join("q.db").display()),
        ])
        .current_dir(&q)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("+ 09-job-tags"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
