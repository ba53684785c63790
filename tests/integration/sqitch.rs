//! sqitch chains: renumber checked by real sqitch, conflicts and duplicate
//! changes judged as real sqitch judges them, and the plan model's round
//! trip under random plans.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

use crate::common::*;

fn sqitch_available() -> bool {
    let ok = Command::new("sqitch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("MIGFIX_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
        panic!("sqitch is not installed; run the tests through tests/run.sh");
    }
    ok
}

/// Runs real sqitch in the plan's folder; returns (success, output).
fn sqitch(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("sqitch")
        .args(args)
        .current_dir(dir)
        .env("SQITCH_USER_CONFIG", "/dev/null")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Deploys and verifies every change on a fresh SQLite database.
fn deploys(plan_dir: &Path) -> String {
    let db = tempfile::tempdir().unwrap();
    let target = format!("db:sqlite:{}", db.path().join("q.db").display());
    let (ok, out) = sqitch(plan_dir, &["deploy", "--verify", &target]);
    assert!(ok, "sqitch deploy failed:\n{out}");
    out
}

#[test]
fn renumber_07_to_08_and_sqitch_deploys_it() {
    if !sqitch_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("incident-2026-06-05"), dir.path());
    let repo = git_init(dir.path());
    let plan_dir = dir.path().join("queue/migrations/sqitch");
    let plan_before = std::fs::read_to_string(plan_dir.join("sqitch.plan")).unwrap();
    let (code, out, err) = run(dir.path(), &["renumber", "07", "--to", "08", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let plan_after = std::fs::read_to_string(plan_dir.join("sqitch.plan")).unwrap();
    assert_eq!(
        plan_after,
        plan_before.replace(
            "07-billing-invoice-refund-column",
            "08-billing-invoice-refund-column"
        ),
        "only the name changes"
    );
    for d in ["deploy", "revert", "verify"] {
        assert!(
            plan_dir
                .join(d)
                .join("08-billing-invoice-refund-column.sql")
                .is_file(),
            "{d}"
        );
        assert!(
            !plan_dir
                .join(d)
                .join("07-billing-invoice-refund-column.sql")
                .exists(),
            "{d}"
        );
        let status = repo
            .status_file(
                &Path::new("queue/migrations/sqitch")
                    .join(d)
                    .join("08-billing-invoice-refund-column.sql"),
            )
            .unwrap();
        assert!(
            status.contains(git2::Status::INDEX_NEW)
                || status.contains(git2::Status::INDEX_RENAMED),
            "{d}: {status:?}"
        );
    }
    let (ok, plan_out) = sqitch(&plan_dir, &["plan"]);
    assert!(
        ok && plan_out.contains("08-billing-invoice-refund-column"),
        "{plan_out}"
    );
    let out = deploys(&plan_dir);
    assert!(
        out.contains("+ 08-billing-invoice-refund-column .. ok"),
        "{out}"
    );
}

#[test]
fn tagged_changes_are_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("incident-2026-06-05"), dir.path());
    git_init(dir.path());
    let before = tree_bytes(dir.path());
    let (code, _, err) = run(dir.path(), &["renumber", "03", "--yes"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("followed by tag @v1.0") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(tree_bytes(dir.path()), before);
    let (code, _, err) = run(dir.path(), &["renumber", "06", "--to", "04", "--yes"]);
    assert_eq!(code, 1, "a used sequence number is refused");
    assert!(
        err.contains("sequence number 04 is used by `04-billing-invoices`"),
        "{err}"
    );
}

const REWORKED: &[(&str, &str)] = &[
    ("sqitch.conf", "[core]\n\tengine = sqlite\n"),
    (
        "sqitch.plan",
        "%syntax-version=1.0.0\n%project=q\n\n01-jobs 2026-06-01T00:00:00Z Ops <ops@x.app> # jobs\n02-view [01-jobs] 2026-06-02T00:00:00Z Ops <ops@x.app> # a view\n@v1.0 2026-06-03T00:00:00Z Ops <ops@x.app> # release\n03-more [q:02-view] 2026-06-04T00:00:00Z Ops <ops@x.app>\n02-view [02-view@v1.0] 2026-06-05T00:00:00Z Ops <ops@x.app> # reworked\n",
    ),
    ("deploy/01-jobs.sql", "CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT);\n"),
    ("revert/01-jobs.sql", "DROP TABLE jobs;\n"),
    ("verify/01-jobs.sql", "SELECT id FROM jobs WHERE 0;\n"),
    ("deploy/02-view@v1.0.sql", "CREATE VIEW open_jobs AS SELECT id FROM jobs;\n"),
    ("revert/02-view@v1.0.sql", "DROP VIEW open_jobs;\n"),
    ("verify/02-view@v1.0.sql", "SELECT id FROM open_jobs WHERE 0;\n"),
    ("deploy/03-more.sql", "CREATE TABLE more (id INTEGER);\n"),
    ("revert/03-more.sql", "DROP TABLE more;\n"),
    ("verify/03-more.sql", "SELECT id FROM more WHERE 0;\n"),
    ("deploy/02-view.sql", "DROP VIEW open_jobs;\nCREATE VIEW open_jobs AS SELECT id, state FROM jobs;\n"),
    ("revert/02-view.sql", "DROP VIEW open_jobs;\nCREATE VIEW open_jobs AS SELECT id FROM jobs;\n"),
    ("verify/02-view.sql", "SELECT id, state FROM open_jobs WHERE 0;\n"),
];

#[test]
fn forced_rename_of_a_reworked_change_moves_every_script() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), REWORKED);
    if sqitch_available() {
        deploys(dir.path());
    }
    let (code, out, err) = run(
        dir.path(),
        &["renumber", "02-view", "--to", "05", "--force", "--yes"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("WARNING") && err.contains("registry"),
        "a loud warning: {err}"
    );
    let plan = std::fs::read_to_string(dir.path().join("sqitch.plan")).unwrap();
    assert!(
        plan.contains("\n05-view [01-jobs] 2026-06-02T00:00:00Z Ops <ops@x.app> # a view\n"),
        "{plan}"
    );
    assert!(
        plan.contains("\n03-more [q:05-view] "),
        "project-qualified dependency follows: {plan}"
    );
    assert!(
        plan.contains("\n05-view [05-view@v1.0] 2026-06-05T00:00:00Z"),
        "name@tag dependency follows: {plan}"
    );
    assert!(!plan.contains("02-view"), "{plan}");
    for d in ["deploy", "revert", "verify"] {
        assert!(dir.path().join(d).join("05-view.sql").is_file());
        assert!(dir.path().join(d).join("05-view@v1.0.sql").is_file());
    }
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    if sqitch_available() {
        let out = deploys(dir.path());
        assert!(out.contains("05-view"), "{out}");
    }
}

#[test]
fn check_lints_the_plan_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), REWORKED);
    let plan = dir.path().join("sqitch.plan");
    let text = std::fs::read_to_string(&plan).unwrap();
    let broken = text
        .replace("%project=q\n\n", "%project=q\n")
        .replace(
            "03-more [q:02-view] 2026-06-04T00:00:00Z",
            "03-more [q:02-view] [2026-06-04T00:00:00Z]",
        )
        .replace("02-view [01-jobs]", "02-view [01-jobz]");
    std::fs::write(&plan, broken).unwrap();
    std::fs::remove_file(dir.path().join("verify/03-more.sql")).unwrap();
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    for expected in [
        "sqitch.plan:3: no blank line after the pragmas",
        "sqitch.plan:4: `02-view` requires `01-jobz`, which is not planned before it",
        "sqitch.plan:6: the timestamp is in brackets",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    // sqitch deploys without a verify script, warning: so does check.
    assert!(!out.contains("verify/03-more.sql"), "{out}");
    assert!(
        err.contains("warning: sqitch.plan:6: missing script verify/03-more.sql"),
        "{err}"
    );
}

/// A project around a plan of `a`, `@v1`, `b DEPS` and `c`, each change's
/// scripts its own (sqitch's registry refuses two alike).
fn conflict_project(dir: &Path, deps: &str) {
    let mut files: Vec<(String, String)> = vec![
        ("sqitch.conf".into(), "[core]\n\tengine = sqlite\n".into()),
        (
            "sqitch.plan".into(),
            format!(
                "%syntax-version=1.0.0\n%project=q\n\na 2026-06-01T00:00:00Z Ops <ops@x.app>\n@v1 2026-06-02T00:00:00Z Ops <ops@x.app>\nb {deps} 2026-06-03T00:00:00Z Ops <ops@x.app>\nc 2026-06-04T00:00:00Z Ops <ops@x.app>\n"
            ),
        ),
    ];
    for change in ["a", "b", "c"] {
        files.push((
            format!("deploy/{change}.sql"),
            format!("CREATE TABLE t_{change} (id INTEGER);\n"),
        ));
        files.push((
            format!("revert/{change}.sql"),
            format!("DROP TABLE t_{change};\n"),
        ));
        files.push((
            format!("verify/{change}.sql"),
            format!("SELECT id FROM t_{change} WHERE 0;\n"),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_tree(dir, &files);
}

/// `check` refuses a conflict exactly when `sqitch deploy --verify` on
/// SQLite does, with sqitch's own words in its message.
#[test]
fn conflicts_fail_check_exactly_when_sqitch_deploy_refuses_them() {
    let sqitch_here = sqitch_available();
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "a conflict deployed before it",
            "[!a]",
            Some("Conflicts with previously deployed change: a"),
        ),
        (
            "a conflict on a tag deployed before it",
            "[!@v1]",
            Some("Conflicts with previously deployed change: @v1"),
        ),
        (
            "this project's change, by project",
            "[!q:a]",
            Some("Conflicts with previously deployed change: a"),
        ),
        (
            "a change the plan does not have",
            "[!nope]",
            Some("Unable to find change \"nope\" in plan sqitch.plan"),
        ),
        (
            "a tag the plan does not have",
            "[!@v9]",
            Some("Unable to find change \"@v9\" in plan sqitch.plan"),
        ),
        (
            "a change as of a tag the plan does not have",
            "[!a@v9]",
            Some("Unknown tag \"@v9\""),
        ),
        ("a change planned after it", "[!c]", None),
        ("another project's change", "[!other:a]", None),
        ("itself", "[!b]", None),
    ];
    for (what, deps, refused) in cases {
        let dir = tempfile::tempdir().unwrap();
        conflict_project(dir.path(), deps);
        if sqitch_here {
            let db = dir.path().join("q.db");
            let (ok, out) = sqitch(
                dir.path(),
                &["deploy", "--verify", &format!("db:sqlite:{}", db.display())],
            );
            assert_eq!(ok, refused.is_none(), "{what}: sqitch says\n{out}");
            if let Some(message) = refused {
                assert!(out.contains(message), "{what}: sqitch says\n{out}");
            }
        }
        let (code, out, err) = run(dir.path(), &["check"]);
        match refused {
            Some(message) => {
                assert_eq!(code, 1, "{what}: {out}{err}");
                assert!(
                    out.contains("sqitch.plan:6: `b` conflicts with")
                        && out.contains(&format!("sqitch deploy stops with \"{message}\"")),
                    "{what}: {out}"
                );
                let (_, json, _) = run(dir.path(), &["--format", "json", "check"]);
                let json: serde_json::Value = serde_json::from_str(&json).unwrap();
                let kinds: Vec<&str> = json["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["kind"].as_str().unwrap())
                    .collect();
                assert_eq!(kinds, ["sqitch-conflict"], "{what}");
            }
            None => assert_eq!(code, 0, "{what}: {out}{err}"),
        }
    }
}

/// A change planned twice with no tag between is one finding naming both
/// lines, as sqitch refuses it, and no cycle.
#[test]
fn a_duplicate_change_is_one_finding_and_no_cycle() {
    let dir = tempfile::tempdir().unwrap();
    conflict_project(dir.path(), "");
    let plan = dir.path().join("sqitch.plan");
    let text = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(
        &plan,
        format!("{text}c 2026-06-05T00:00:00Z Ops <ops@x.app>\n"),
    )
    .unwrap();
    if sqitch_available() {
        let (ok, out) = sqitch(dir.path(), &["plan"]);
        assert!(
            !ok && out.contains("Change \"c\" duplicates earlier declaration on line 7"),
            "{out}"
        );
    }
    let (code, out, _) = run(dir.path(), &["--format", "json", "check"]);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings: Vec<(String, u64, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [(
            "sqitch-duplicate".to_string(),
            8,
            "change `c` duplicates its declaration on line 7, with no tag between them".to_string()
        )]
    );
    // The two instances stay apart in the graph: no cycle, one head.
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!((code, out.trim()), (0, "c (line 8) (head)"), "{err}");
}

fn plan_strategy() -> impl Strategy<Value = String> {
    let ws = prop::sample::select(vec![" ", "  ", "\t", " \t "]);
    let change = (
        0u8..3,
        "[a-z][a-z0-9_]{0,6}",
        prop::option::of("[A-Za-z][A-Za-z ]{0,8}[a-z]"),
        ws.clone(),
        ws.clone(),
        ws,
        any::<bool>(),
    );
    (
        prop::collection::vec(change, 1..8),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(changes, crlf, tag)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("%syntax-version=1.0.0{nl}%project=p{nl}{nl}");
            let all: Vec<String> = changes
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{:02}-{}", i + 1, c.1))
                .collect();
            let mut names: Vec<String> = Vec::new();
            for (i, (deps, _, note, w1, w2, w3, marker)) in changes.into_iter().enumerate() {
                let name = all[i].clone();
                // A conflict deploy accepts: a change planned later, or
                // another project's.
                let conflict = all.get(i + 1).map_or("other:gone", String::as_str);
                let deps = match (deps, names.last()) {
                    (1, Some(prev)) => format!("{w1}[{prev}]"),
                    (2, Some(prev)) => format!("{w1}[ {prev}  !{conflict} ]"),
                    _ => String::new(),
                };
                let note = note.map(|n| format!("{w3}# {n}")).unwrap_or_default();
                let m = if marker { "+" } else { "" };
                text.push_str(&format!(
                    "{m}{name}{deps}{w2}2026-06-17T00:00:00Z{w3}Ops Bot{w1}<ops@x.app>{note}{nl}"
                ));
                if tag && i == 0 {
                    text.push_str(&format!("@v1{w2}2026-06-18T00:00:00Z Ops <ops@x.app>{nl}"));
                }
                names.push(name);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_plans_round_trip_byte_for_byte(text in plan_strategy()) {
        let (rendered, lints) = migfix::testing::plan_round_trip(&text);
        prop_assert_eq!(rendered, text.clone());
        prop_assert!(lints.is_empty(), "valid plan linted: {:?}\n{}", lints, text);
    }
}

/// A plan of one change says so in the singular.
#[test]
fn one_change_is_one_change() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("sqitch.conf", "[core]\n\tengine = sqlite\n"),
            (
                "sqitch.plan",
                "%syntax-version=1.0.0\n%project=q\n\na 2026-06-01T00:00:00Z Ops <ops@x.app>\n",
            ),
            ("deploy/a.sql", "CREATE TABLE t (id INTEGER);\n"),
            ("revert/a.sql", "DROP TABLE t;\n"),
            ("verify/a.sql", "SELECT id FROM t WHERE 0;\n"),
        ],
    );
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(": OK (1 change)\n"), "{out}");
}
