//! `--output-file PATH` on check, diagnose and collisions: the chosen
//! `--format` goes to the file, exactly as it would to stdout, and stdout
//! shows the text report (GitHub annotations in a GitHub Actions job), so
//! that one run gives both; the file is written whole or not at all.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

fn migfix_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migfix"));
    c.arg("-C").arg(dir).args(args).current_dir(dir).env_clear();
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    o
}

/// The incident's tree, in git, with a branch that collides with main.
fn incident() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("incident-2026-06-05"), dir.path());
    git_init(dir.path());
    dir
}

#[test]
fn the_format_goes_to_the_file_and_the_text_report_to_stdout() {
    let dir = incident();
    let d = dir.path();
    let out = d.join("report.out");
    for (cmd, format) in [
        (&["check"][..], "sarif"),
        (&["check"], "json"),
        (&["check"], "junit"),
        (&["diagnose"], "gitlab"),
        (&["diagnose"], "sarif"),
        (&["collisions", "--base", "main"], "json"),
    ] {
        let mut alone: Vec<&str> = cmd.to_vec();
        alone.extend(["--format", format]);
        let formatted = migfix_env(d, &alone, &[]);
        let text = migfix_env(d, cmd, &[]);
        let mut both = alone.clone();
        both.extend(["--output-file", out.to_str().unwrap()]);
        let o = migfix_env(d, &both, &[]);
        assert_eq!(o.status.code(), formatted.status.code(), "{cmd:?} {format}");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            stdout(&formatted),
            "{cmd:?} {format}: the file holds what stdout would"
        );
        assert_eq!(
            stdout(&o),
            stdout(&text),
            "{cmd:?} {format}: stdout is the text"
        );
        assert_eq!(stderr(&o), stderr(&text), "{cmd:?} {format}: warnings once");
        std::fs::remove_file(&out).unwrap();
    }
    // A log too.
    let log = d.join("ci.log");
    std::fs::write(&log, "alembic upgrade head\nERROR [alembic.util.messaging] Multiple head revisions are present for given argument 'head'\n").unwrap();
    let args = ["diagnose", "--log", "ci.log", "--format", "json"];
    let formatted = migfix_env(d, &args, &[]);
    let mut both = args.to_vec();
    both.extend(["--output-file", "report.json"]);
    let o = migfix_env(d, &both, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(d.join("report.json")).unwrap(),
        stdout(&formatted)
    );
    assert!(stdout(&o).contains("failure found"), "{}", stdout(&o));
}

#[test]
fn in_github_actions_stdout_has_the_annotations_of_the_same_run() {
    let dir = incident();
    let d = dir.path();
    let summary = d.join("summary.md");
    let actions: &[(&str, &Path)] = &[
        ("GITHUB_ACTIONS", Path::new("true")),
        ("GITHUB_STEP_SUMMARY", &summary),
    ];
    let annotations = migfix_env(d, &["check", "--format", "github"], &[]);
    let o = migfix_env(
        d,
        &[
            "check",
            "--format",
            "sarif",
            "--output-file",
            "migfix.sarif",
        ],
        actions,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), stdout(&annotations));
    assert!(stdout(&o).contains("::error file="), "{}", stdout(&o));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("migfix.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    // The job summary is written once, though the report is printed twice.
    let o = migfix_env(
        d,
        &["check", "--format", "github", "--output-file", "a.txt"],
        actions,
    );
    assert_eq!(stdout(&o), stdout(&annotations));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(
        md.matches("## migfix check").count(),
        2,
        "one per run: {md}"
    );
}

#[test]
fn the_file_is_written_whole_or_not_at_all() {
    let dir = incident();
    let d = dir.path();
    // A folder that does not exist: exit 2 naming the path.
    let o = migfix_env(
        d,
        &[
            "check",
            "--format",
            "json",
            "--output-file",
            "no/such/r.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no/such/r.json: cannot write the report"),
        "{}",
        stderr(&o)
    );
    // A run that stops with exit 2 before its report leaves the old file.
    std::fs::write(d.join("r.json"), "old").unwrap();
    std::fs::write(
        d.join("console/migrations/versions/0150_broken.py"),
        "revision = (\n",
    )
    .unwrap();
    let o = migfix_env(
        d,
        &["check", "--format", "json", "--output-file", "r.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(d.join("r.json")).unwrap(), "old");
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".migfix-report")
        })
        .collect();
    assert!(left.is_empty(), "no temp file left: {left:?}");
}
