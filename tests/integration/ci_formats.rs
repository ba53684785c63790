//! `--format github|sarif|junit|gitlab` on check, diagnose and collisions:
//! snapshots of each, SARIF validated against the official 2.1.0 schema and
//! JUnit read by junitparser (both from tests/run.sh's venv).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

const FORMATS: [&str; 4] = ["github", "sarif", "junit", "gitlab"];

/// Trees and the findings they hold: an incident, healthy chains, a
/// dangling parent, duplicate ids, sqitch plans.
fn trees() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = [
        "incident-2026-06-05",
        "healthy",
        "dangling",
        "dup-0038",
        "basketball-031",
        "hash-heads",
        "failing",
    ]
    .iter()
    .map(|n| fixture(n))
    .filter(|p| p.is_dir())
    .collect();
    for entry in std::fs::read_dir(fixture("sqitch-real")).unwrap().flatten() {
        if entry.path().is_dir() {
            out.push(entry.path());
        }
    }
    assert!(out.len() >= 8, "fixture trees: {out:?}");
    out
}

/// Runs migfix with the tree as its root (`-C`).
fn run(tree: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["-C", tree.to_str().unwrap()];
    all.extend(args);
    let o = migfix(tree, &all);
    assert!(
        !stderr(&o).contains("panicked"),
        "{args:?} in {}: {}",
        tree.display(),
        stderr(&o)
    );
    (o.status.code(), stdout(&o))
}

#[test]
fn each_format_keeps_the_exit_status_of_text() {
    for tree in trees() {
        for cmd in ["check", "diagnose"] {
            let (text_code, _) = run(&tree, &[cmd]);
            assert!(
                matches!(text_code, Some(0..=2)),
                "{cmd} in {}",
                tree.display()
            );
            for f in FORMATS {
                let (code, out) = run(&tree, &[cmd, "--format", f]);
                assert_eq!(code, text_code, "{cmd} --format {f} in {}", tree.display());
                if code != Some(2) {
                    assert!(
                        !out.is_empty(),
                        "{cmd} --format {f} printed nothing in {}",
                        tree.display()
                    );
                }
            }
        }
    }
}

#[test]
fn incident_in_each_format() {
    let tree = fixture("incident-2026-06-05");
    let settings = snapshot_settings(None);
    for f in FORMATS {
        let (code, out) = run(&tree, &["check", "--format", f]);
        assert_eq!(code, Some(1), "check --format {f}");
        let out = out.replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
        settings.bind(|| insta::assert_snapshot!(format!("ci_check_incident_{f}"), out));
    }
    let (code, out) = run(&tree, &["diagnose", "--format", "github"]);
    assert_eq!(code, Some(1));
    settings.bind(|| insta::assert_snapshot!("ci_diagnose_incident_github", out));
    let log = fixture("logs/runbook-c-multiple-heads.txt");
    let (code, out) = run(
        &tree,
        &[
            "diagnose",
            "--log",
            log.to_str().unwrap(),
            "--format",
            "junit",
        ],
    );
    assert_eq!(code, Some(1));
    let out = out.replace(&repo().display().to_string(), "[REPO]");
    settings.bind(|| insta::assert_snapshot!("ci_diagnose_log_junit", out));
}

#[test]
fn github_annotations_point_at_the_files_and_the_summary_lists_them_all() {
    let tree = fixture("incident-2026-06-05");
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    let o = Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args(["-C", tree.to_str().unwrap(), "check", "--format", "github"])
        .current_dir(&tree)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let annotations: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    assert!(annotations.iter().any(|l| l.starts_with("::error ")));
    for a in &annotations {
        let (command, rest) = a[2..].split_once(' ').unwrap();
        assert!(matches!(command, "error" | "warning"), "{a}");
        let (props, message) = rest.split_once("::").unwrap();
        assert!(!message.is_empty() && !message.contains('\n'), "{a}");
        let file = props
            .split(',')
            .find_map(|p| p.strip_prefix("file="))
            .unwrap();
        assert!(
            tree.join(file).is_file(),
            "annotation names a file that exists: {file}"
        );
        assert!(props.split(',').any(|p| p.starts_with("line=")), "{a}");
        assert!(props.split(',').any(|p| p.starts_with("title=[")), "{a}");
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## migfix check"), "{md}");
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| error") || l.starts_with("| warning"))
        .count();
    assert_eq!(rows, annotations.len(), "{md}");
    assert!(md.contains("`console/migrations`: FAILED"), "{md}");
}

/// The venv's Python and the schema, or `None` outside tests/run.sh.
pub(crate) fn validators() -> Option<(PathBuf, PathBuf)> {
    let required = crate::oracle::required();
    let python = std::env::var_os("MIGFIX_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    let schema = std::env::var_os("MIGFIX_SARIF_SCHEMA")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    match (python, schema) {
        (Some(p), Some(s)) => Some((p, s)),
        _ if required => panic!(
            "MIGFIX_PYTHON or MIGFIX_SARIF_SCHEMA missing; run the tests through tests/run.sh"
        ),
        _ => {
            eprintln!("skipping: MIGFIX_PYTHON or MIGFIX_SARIF_SCHEMA not set (run the tests through tests/run.sh)");
            None
        }
    }
}

pub(crate) fn validate_sarif(python: &Path, schema: &Path, doc: &str) -> Result<(), String> {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), doc).unwrap();
    let o = Command::new(python)
        .arg(repo().join("tests/oracle/ci_formats.py"))
        .args(["sarif".as_ref(), schema.as_os_str(), tmp.path().as_os_str()])
        .output()
        .unwrap();
    match o.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(stdout(&o)),
        _ => panic!("ci_formats.py failed: {}", stderr(&o)),
    }
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let Some((python, schema)) = validators() else {
        return;
    };
    let mut kinds = BTreeSet::new();
    let mut results = 0;
    for tree in trees() {
        for args in [
            &["check", "--format", "sarif"][..],
            &["diagnose", "--format", "sarif"],
        ] {
            let (code, out) = run(&tree, args);
            if code == Some(2) {
                continue;
            }
            if let Err(e) = validate_sarif(&python, &schema, &out) {
                panic!("{args:?} in {}: invalid SARIF:\n{e}", tree.display());
            }
            let doc: Value = serde_json::from_str(&out).unwrap();
            let run = &doc["runs"][0];
            let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
            let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
            assert_eq!(
                ids.len(),
                ids.iter().collect::<BTreeSet<_>>().len(),
                "one rule per kind"
            );
            for r in run["results"].as_array().unwrap() {
                results += 1;
                let id = r["ruleId"].as_str().unwrap();
                let index = r["ruleIndex"].as_u64().unwrap() as usize;
                assert_eq!(ids[index], id);
                assert!(!rules[index]["help"]["text"].as_str().unwrap().is_empty());
                kinds.insert(id.to_string());
                if let Some(loc) = r["locations"][0]["physicalLocation"].as_object() {
                    let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
                    assert!(tree.join(uri).exists(), "{uri} in {}", tree.display());
                }
            }
        }
    }
    assert!(results >= 5, "the trees hold findings: {results}");
    assert!(kinds.contains("multiple-heads"), "{kinds:?}");
    // The validator can fail: a level SARIF does not know.
    let (_, out) = run(
        &fixture("incident-2026-06-05"),
        &["check", "--format", "sarif"],
    );
    let broken = out.replacen("\"level\": \"error\"", "\"level\": \"fatal\"", 1);
    assert_ne!(broken, out);
    assert!(validate_sarif(&python, &schema, &broken).is_err());
}

#[test]
fn junit_reads_in_junitparser_one_case_per_chain() {
    let Some((python, _)) = validators() else {
        return;
    };
    let tree = fixture("incident-2026-06-05");
    let (_, out) = run(&tree, &["check", "--format", "junit"]);
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), &out).unwrap();
    let o = Command::new(&python)
        .arg(repo().join("tests/oracle/ci_formats.py"))
        .arg("junit")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let suite = &read["suites"][0];
    let (_, chains) = run(&tree, &["chains", "--format", "json"]);
    let chains: Value = serde_json::from_str(&chains).unwrap();
    let names: Vec<&str> = chains["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let cases: Vec<&str> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cases, names);
    assert_eq!(suite["tests"], names.len());
    let failed: Vec<&Value> = suite["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["results"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(suite["failures"], failed.len());
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "console/migrations");
    assert_eq!(failed[0]["results"][0]["kind"], "Failure");
    assert_eq!(failed[0]["results"][0]["type"], "multiple-heads");
    assert!(failed[0]["results"][0]["text"]
        .as_str()
        .unwrap()
        .contains("migfix --chain console/migrations merge-heads"));
}

#[test]
fn gitlab_code_quality_has_a_file_and_a_unique_fingerprint_for_each_issue() {
    for tree in trees() {
        let (code, out) = run(&tree, &["check", "--format", "gitlab"]);
        if code == Some(2) {
            continue;
        }
        let issues: Value = serde_json::from_str(&out).unwrap();
        let issues = issues.as_array().unwrap();
        assert_eq!(
            code == Some(1),
            issues.iter().any(|i| i["severity"] == "major"),
            "{}",
            tree.display()
        );
        let mut prints = BTreeSet::new();
        for i in issues {
            assert!(prints.insert(i["fingerprint"].as_str().unwrap().to_string()));
            assert!(matches!(i["severity"].as_str(), Some("major" | "minor")));
            assert!(!i["description"].as_str().unwrap().is_empty());
            assert!(!i["check_name"].as_str().unwrap().is_empty());
            let path = i["location"]["path"].as_str().unwrap();
            assert!(tree.join(path).exists(), "{path} in {}", tree.display());
            assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn ci_formats_are_refused_outside_the_finding_commands() {
    let tree = fixture("incident-2026-06-05");
    for cmd in ["heads", "chains", "history"] {
        let o = migfix(
            &tree,
            &["-C", tree.to_str().unwrap(), cmd, "--format", "sarif"],
        );
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(
            stderr(&o).contains("--format sarif is for check, diagnose and collisions"),
            "{}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn github_annotates_an_input_error_on_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("db/versions/0001_a.py", &revision_file("0001", None)),
            (
                "db/versions/0002_b.py",
                "revision = '0002'\ndown_revision = '0001'\n\ndef upgrade(:\n    pass\n",
            ),
        ],
    );
    let (code, out) = run(
        dir.path(),
        &["--versions", "db/versions", "check", "--format", "github"],
    );
    assert_eq!(code, Some(2));
    let line = out
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.starts_with("::error file=db/versions/0002_b.py,line=4,title=migfix%3A cannot read::"),
        "{line}"
    );
    // Text keeps stdout empty on an error.
    let (code, out) = run(dir.path(), &["--versions", "db/versions", "check"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
}
