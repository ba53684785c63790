//! Suppression: `# migfix: ignore[F]` on a finding's line (`--` in SQL),
//! `ignore = [...]` in migfix.toml, a chain's table and `[tool.migfix]`,
//! `--ignore`/`--select`; counted in every format, listed by SARIF with its
//! suppression; a comment that suppresses nothing warns; and a repair's
//! verification judges as `check` does.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

const INI: &str = "[alembic]\nscript_location = migrations\n";
const FIRST: &str =
    "revision = \"0001\"\ndown_revision = None\n\ndef upgrade():\n    op.create_table(\"users\")\n";

/// A second migration that creates `users` again (class F, line 5) and
/// grants to a role nothing provisions (class B, line 6); `mark` ends
/// line 5.
fn again(id: &str, down: &str, mark: &str) -> String {
    format!(
        "revision = \"{id}\"\ndown_revision = \"{down}\"\n\ndef upgrade():\n    op.create_table(\"users\"){mark}\n    op.execute(\"GRANT SELECT ON users TO reporting\")\n"
    )
}

fn tree(mark: &str) -> tempfile::TempDir {
    revising_0001(&[("0002", "b")], mark)
}

/// 0001, and each of `heads` (id, slug) re-creating its table on `mark`'s line.
fn revising_0001(heads: &[(&str, &str)], mark: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", INI),
            ("migrations/versions/0001_a.py", FIRST),
        ],
    );
    for (id, slug) in heads {
        let path = format!("migrations/versions/{id}_{slug}.py");
        write_tree(
            dir.path(),
            &[(path.as_str(), again(id, "0001", mark).as_str())],
        );
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["-C", dir.to_str().unwrap()];
    all.extend(args);
    let o = migfix(dir, &all);
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    (o.status.code(), stdout(&o), stderr(&o))
}

fn json(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(dir, &all);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn kinds(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_comment_on_the_line_suppresses_its_class_and_is_counted() {
    let plain = tree("");
    let (code, out, _) = run(plain.path(), &["check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("[F]"), "{out}");

    let marked = tree("  # migfix: ignore[F]");
    let (code, out, err) = run(marked.path(), &["check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("(exactly 1 head; 1 suppressed)"), "{out}");
    assert!(!out.contains("suppressed:"), "listed only with -v: {out}");
    // The B warning on the next line is untouched.
    assert!(err.contains("[B] GRANT needs role reporting"), "{err}");
    let (_, out, _) = run(marked.path(), &["check", "-v"]);
    assert!(
        out.contains("  suppressed: migrations/versions/0002_b.py:5: [F] table users")
            && out.contains("(# migfix: ignore[F])"),
        "{out}"
    );
    let (code, v) = json(marked.path(), &["check"]);
    assert_eq!(code, Some(0));
    assert_eq!(kinds(&v["findings"]), Vec::<String>::new());
    let s = &v["suppressed"][0];
    assert_eq!(s["kind"], "duplicate-table");
    assert_eq!(s["line"], 5);
    assert_eq!(s["suppression"]["kind"], "inSource");
    assert_eq!(s["suppression"]["justification"], "# migfix: ignore[F]");

    // Several codes, lower case, a bare comment: each suppresses.
    for mark in [
        "  # migfix: ignore[f, duplicate-table]",
        "  # migfix: ignore",
        "# noqa  # migfix:ignore[duplicate-table]",
    ] {
        let dir = tree(mark);
        let (code, out, err) = run(dir.path(), &["check"]);
        assert_eq!(code, Some(0), "{mark}: {out}{err}");
        assert!(!err.contains("suppresses nothing"), "{mark}: {err}");
    }
}

#[test]
fn a_comment_elsewhere_or_in_a_string_suppresses_nothing_and_warns() {
    // On the line above: F still fails, and the comment is said to be idle.
    let dir = tempfile::tempdir().unwrap();
    let text = again("0002", "0001", "").replace(
        "def upgrade():\n",
        "def upgrade():\n    # migfix: ignore[F]\n",
    );
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", INI),
            ("migrations/versions/0001_a.py", FIRST),
            ("migrations/versions/0002_b.py", &text),
        ],
    );
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        err.contains("warning: migrations/versions/0002_b.py:5: `# migfix: ignore[F]` suppresses nothing: no finding of `F` is on this line"),
        "{err}"
    );

    // Inside a string it is no comment: nothing suppressed, nothing idle.
    let dir = tree("; x = \"# migfix: ignore[F]\"");
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(!err.contains("suppresses nothing"), "{err}");

    // A code of nothing there, and no code at all.
    let dir = tree("  # migfix: ignore[F, D, G]");
    let (code, v) = json(dir.path(), &["check"]);
    assert_eq!(code, Some(0));
    let idle: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["message"].as_str())
        .filter(|m| m.contains("suppresses nothing"))
        .collect();
    assert_eq!(idle.len(), 1, "{idle:?}");
    assert!(
        idle[0].contains("no finding of `D` is on this line; `G` is neither a class (A to F) nor a finding's kind"),
        "{idle:?}"
    );
    // The warning has a kind of its own, which the configuration can ignore.
    std::fs::write(
        dir.path().join("migfix.toml"),
        "ignore = [\"unused-suppression\"]\n",
    )
    .unwrap();
    let (_, out, err) = run(dir.path(), &["check"]);
    assert!(!err.contains("suppresses nothing"), "{err}");
    assert!(out.contains("2 suppressed"), "{out}");
}

#[test]
fn ignore_in_configuration_and_on_the_command_line() {
    // migfix.toml with only `ignore`: discovery finds the chain.
    let dir = tree("");
    std::fs::write(dir.path().join("migfix.toml"), "ignore = [\"F\"]\n").unwrap();
    let (code, v) = json(dir.path(), &["check"]);
    assert_eq!(code, Some(0), "{v}");
    let s = &v["suppressed"][0]["suppression"];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["justification"], "ignore F in migfix.toml");

    // A chain's own table.
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nconfig = \"alembic.ini\"\nignore = [\"duplicate-table\", \"B\"]\n",
    )
    .unwrap();
    let (code, v) = json(dir.path(), &["check"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        kinds(&v["suppressed"]),
        ["missing-role", "duplicate-table"].map(String::from)
    );
    assert_eq!(
        v["suppressed"][1]["suppression"]["justification"],
        "ignore duplicate-table in [[chain]] #1 of migfix.toml"
    );

    // `[tool.migfix]` of pyproject.toml.
    std::fs::remove_file(dir.path().join("migfix.toml")).unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.migfix]\nignore = [\"F\"]\n",
    )
    .unwrap();
    let (code, _, _) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(0));
    std::fs::remove_file(dir.path().join("pyproject.toml")).unwrap();

    // The command line: --ignore counts, --select leaves out uncounted.
    let (code, out, _) = run(dir.path(), &["check", "--ignore", "f"]);
    assert_eq!(
        (code, out.contains("1 suppressed")),
        (Some(0), true),
        "{out}"
    );
    let (_, v) = json(dir.path(), &["check", "--ignore", "f"]);
    assert_eq!(
        v["suppressed"][0]["suppression"]["justification"],
        "--ignore F"
    );
    let (code, out, err) = run(dir.path(), &["check", "--select", "B"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("suppressed"), "{out}");
    assert!(err.contains("[B]"), "{err}");
    let (code, _, _) = run(dir.path(), &["check", "--select", "F,C"]);
    assert_eq!(code, Some(1));
    let (code, v) = json(dir.path(), &["diagnose", "--ignore", "F,B"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(kinds(&v["suppressed"]).len(), 2);
}

#[test]
fn bad_codes_are_input_errors_naming_where() {
    let dir = tree("");
    std::fs::write(
        dir.path().join("migfix.toml"),
        "# ours\nignore = [\"F\", \"G\"]\n",
    )
    .unwrap();
    let before = tree_bytes(dir.path());
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("migfix.toml:2: `G` is neither a class (A to F) nor a finding's kind"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nconfig = \"alembic.ini\"\nignore = \"F\"\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("migfix.toml:3"), "{err}");
    std::fs::remove_file(dir.path().join("migfix.toml")).unwrap();
    let (code, _, err) = run(dir.path(), &["check", "--ignore", "Z"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`Z` is neither"), "{err}");
    let (code, _, err) = run(dir.path(), &["diagnose", "--log", "-", "--select", "F"]);
    assert_eq!(code, Some(2), "{err}");
    std::fs::write(
        dir.path().join("migfix.toml"),
        "# ours\nignore = [\"F\", \"G\"]\n",
    )
    .unwrap();
    assert_eq!(tree_bytes(dir.path()), before, "nothing written");
}

#[test]
fn every_format_reports_what_was_suppressed() {
    let dir = tree("  # migfix: ignore[F]");
    // SARIF: the result is there, with its suppression; valid per schema.
    let (code, out, _) = run(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(code, Some(0));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let dup = results
        .iter()
        .find(|r| r["ruleId"] == "duplicate-table")
        .expect("the suppressed result is listed");
    assert_eq!(
        dup["suppressions"],
        serde_json::json!([{ "kind": "inSource", "justification": "# migfix: ignore[F]" }])
    );
    assert_eq!(dup["level"], "error", "it would fail the gate");
    let role = results
        .iter()
        .find(|r| r["ruleId"] == "missing-role")
        .unwrap();
    assert!(role.get("suppressions").is_none());
    if let Some((python, schema)) = crate::ci_formats::validators() {
        crate::ci_formats::validate_sarif(&python, &schema, &out).unwrap();
    }

    // GitHub: no annotation, a count; the job summary counts it too.
    let summary = dir.path().join("summary.md");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args([
            "-C",
            dir.path().to_str().unwrap(),
            "check",
            "--format",
            "github",
        ])
        .env_clear()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(!out.contains("duplicate table"), "{out}");
    assert!(
        out.ends_with("migfix check: 0 errors, 1 warning, 1 suppressed in 1 chain\n"),
        "{out}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("0 errors, 1 warning, 1 suppressed"), "{md}");

    // GitLab and JUnit have no place for it: left out.
    let (_, out, _) = run(dir.path(), &["check", "--format", "gitlab"]);
    let issues: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(kinds_of_gitlab(&issues), ["missing-role"]);
    let (code, out, _) = run(dir.path(), &["check", "--format", "junit"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("failures=\"0\"") && !out.contains("<failure"),
        "{out}"
    );

    // diagnose, as text and SARIF.
    let (code, out, _) = run(dir.path(), &["diagnose"]);
    assert_eq!(code, Some(1), "B is still a finding: {out}");
    assert!(out.contains("(1 finding; 1 suppressed)"), "{out}");
    let (_, out, _) = run(dir.path(), &["diagnose", "--format", "sarif"]);
    assert!(out.contains("\"suppressions\""), "{out}");
}

fn kinds_of_gitlab(issues: &Value) -> Vec<String> {
    issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["check_name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sql_comments_suppress_in_sqitch_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "%syntax-version=1.0.0\n%project=q\n\n01-jobs 2026-06-17T00:00:00Z bot <b@x.app>\n02-jobs-again 2026-06-18T00:00:00Z bot <b@x.app>\n";
    write_tree(
        dir.path(),
        &[
            ("db/sqitch.conf", "[core]\n\tengine = pg\n"),
            ("db/sqitch.plan", plan),
            ("db/deploy/01-jobs.sql", "BEGIN;\nCREATE TABLE jobs (id int);\nCOMMIT;\n"),
            (
                "db/deploy/02-jobs-again.sql",
                "BEGIN;\nCREATE TABLE jobs (id int); -- migfix: ignore[F]\nSELECT '-- migfix: ignore';\nCOMMIT;\n",
            ),
            ("db/revert/01-jobs.sql", "DROP TABLE jobs;\n"),
            ("db/revert/02-jobs-again.sql", "SELECT 1;\n"),
            ("db/verify/01-jobs.sql", "SELECT 1;\n"),
            ("db/verify/02-jobs-again.sql", "SELECT 1;\n"),
        ],
    );
    let (code, v) = json(dir.path(), &["check"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(kinds(&v["suppressed"]), ["duplicate-table"]);
    assert_eq!(
        v["suppressed"][0]["suppression"]["justification"],
        "-- migfix: ignore[F]"
    );
    let idle = v["warnings"].to_string();
    assert!(
        !idle.contains("suppresses nothing"),
        "a string is no comment: {idle}"
    );
}

/// Two heads, each re-creating `users` on line 5 (`mark` ends it), in git.
fn two_heads(mark: &str) -> tempfile::TempDir {
    let dir = revising_0001(&[("0002", "b"), ("0003", "c")], mark);
    git_init(dir.path());
    dir
}

#[test]
fn a_repair_judges_as_check_does() {
    // What the team has suppressed does not make the healed chain unhealthy.
    let dir = two_heads("  # migfix: ignore[F]");
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 suppressed"), "{out}");

    // Without the comments the merge is written but the chain still fails.
    let dir = two_heads("");
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, Some(1), "{out}{err}");

    // A repair that heals a suppressed finding leaves its comment idle:
    // that is no harm, only a warning afterwards.
    let dir = two_heads("  # migfix: ignore[F]");
    let head = dir.path().join("migrations/versions/0003_c.py");
    let text = std::fs::read_to_string(&head).unwrap();
    std::fs::write(
        &head,
        text.replacen("\"0003\"", "\"0003\"  # migfix: ignore[C]", 1),
    )
    .unwrap();
    git(dir.path(), &["commit", "-qam", "heads judged"]);
    let (code, out, _) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, err) = run(dir.path(), &["merge-heads", "--yes"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(0));
    assert!(
        err.contains("0003_c.py:1: `# migfix: ignore[C]` suppresses nothing"),
        "{err}"
    );
}
