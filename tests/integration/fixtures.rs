//! The seed incidents, end to end, as snapshots of what users see.

use crate::common::*;

/// migfix on a copy of the fixture outside any git repository, so that
/// what it reads of history is the same in every clone of this one.
fn run(fixture_name: &str, args: &[&str]) -> (i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join(fixture_name);
    copy_tree(&fixture(fixture_name), &root);
    let mut all = vec!["-C", root.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = migfix(&root, &all);
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", stdout(&o), stderr(&o)),
    )
}

#[test]
fn fork_0144_two_heads() {
    let (code, out) = run("incident-2026-06-05", &["heads"]);
    assert_eq!(code, 0);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("incident_heads", out));
    let (code, out) = run("incident-2026-06-05", &["check"]);
    assert_eq!(code, 1, "two heads fail the gate");
    assert!(out.contains("console/migrations: FAILED"));
    assert!(out.contains("backend_v2: OK (exactly 1 head)"));
    snapshot_settings(None).bind(|| insta::assert_snapshot!("incident_check", out));
    let (_, out) = run("incident-2026-06-05", &["check", "--format", "json"]);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("incident_check_json", out));
}

#[test]
fn incident_chains_lists_all_three() {
    let (code, out) = run("incident-2026-06-05", &["chains"]);
    assert_eq!(code, 0);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("incident_chains", out));
    let (_, json) = run("incident-2026-06-05", &["chains", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let kinds: Vec<(&str, &str, u64)> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["kind"].as_str().unwrap(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("backend_v2", "alembic", 25),
            ("console/migrations", "alembic", 146),
            ("queue/migrations/sqitch", "sqitch", 7)
        ]
    );
    assert_eq!(v["chains"][2]["last"], "07-billing-invoice-refund-column");
    assert_eq!(
        v["chains"][1]["scheme"],
        serde_json::json!({"kind": "sequential", "width": 4})
    );
}

#[test]
fn heads_json_matches_the_contract_shape() {
    let (_, json) = run(
        "incident-2026-06-05",
        &["--chain", "console", "heads", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let chain = &v["chains"][0];
    assert_eq!(chain["name"], "console/migrations");
    assert_eq!(chain["kind"], "alembic");
    assert_eq!(chain["root"], "console/migrations/versions");
    assert_eq!(chain["heads"], serde_json::json!(["0146", "0148"]));
    let rev = &chain["revisions"][0];
    assert_eq!(rev["id"], "0146");
    assert!(rev["path"]
        .as_str()
        .unwrap()
        .starts_with("console/migrations/versions/0146_"));
    assert_eq!(rev["down_revisions"], serde_json::json!(["0144"]));
    assert_eq!(rev["depends_on"], serde_json::json!([]));
    assert_eq!(rev["branch_labels"], serde_json::json!([]));
}

#[test]
fn history_marks_branch_and_merge_points() {
    let (code, out) = run("incident-2026-06-05", &["--chain", "console", "history"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1].contains("0144 -> 0148 (head)"),
        "newest first: {}",
        lines[1]
    );
    assert!(lines[2].contains("0144 -> 0146 (head)"));
    assert!(lines[3].contains("0143 -> 0144 (branchpoint)"));
    assert!(lines.last().unwrap().contains("<base> -> 0001"));
    let (_, out) = run("hash-heads", &["history"]);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("hash_heads_history", out));
    assert!(out.contains("(mergepoint)"));
    let (_, dot) = run("hash-heads", &["history", "--dot"]);
    assert!(dot.starts_with("digraph migfix {"));
    assert!(
        dot.contains("[style=dashed]"),
        "depends_on edges are dashed"
    );
}

#[test]
fn dup_revision_0038() {
    let (code, out) = run("dup-0038", &["check"]);
    assert_eq!(code, 1);
    assert!(out.contains("revision 0038 is declared by 2 files"));
    assert!(out.contains("the filename says 0037 but the file declares revision 0038"));
    snapshot_settings(None).bind(|| insta::assert_snapshot!("dup_0038_check", out));
}

#[test]
fn basketball_duplicate_031_beside_hash() {
    let (code, out) = run("basketball-031", &["check"]);
    assert_eq!(code, 1);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("basketball_check", out));
    let (_, out) = run("basketball-031", &["chains"]);
    assert!(
        out.contains("mixed: sequential (3 digits) and hash ids"),
        "{out}"
    );
    // The hash-named migration in the middle is not a fork.
    let (_, out) = run("basketball-031", &["history"]);
    assert!(
        out.contains("005 -> e09c9e678004") && out.contains("e09c9e678004 -> 007"),
        "{out}"
    );
}

#[test]
fn dangling_pointer_suggests_the_id() {
    let (code, out) = run("dangling", &["check"]);
    assert_eq!(code, 1);
    assert!(out.contains("down_revision names 0082_add_widgets, which is not a revision in this chain; did you mean 0082?"), "{out}");
    snapshot_settings(None).bind(|| insta::assert_snapshot!("dangling_check", out));
}

#[test]
fn healthy_repo_passes_the_gate() {
    let (code, out) = run("healthy", &["check"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "backend_v2: OK (exactly 1 head)\nconsole/migrations: OK (exactly 1 head)\nqueue/migrations/sqitch: OK (7 changes)\n"
    );
}
