//! Issue #30: `diagnose --log` on the real logs of fixtures/logs/real/,
//! each labelled by what its failure is (see its README). Every log must get
//! its label: its class, no class for a failure of none, and "OK" only for
//! a log with no failure.

use std::collections::BTreeMap;

use crate::common::*;

#[derive(serde::Deserialize)]
struct Manifest {
    log: Vec<Entry>,
}

#[derive(serde::Deserialize)]
struct Entry {
    file: String,
    class: String,
}

/// What migfix says of one log: its classes (`?` for a failure not
/// recognised), or `ok`.
fn verdict(empty: &std::path::Path, file: &std::path::Path) -> String {
    let o = migfix(
        empty,
        &[
            "-C",
            empty.to_str().unwrap(),
            "diagnose",
            "--format",
            "json",
            "--log",
            file.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{}: {e}: {}", file.display(), stderr(&o)));
    let mut classes: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["class"].as_str().unwrap_or("?").to_string())
        .collect();
    classes.sort();
    classes.dedup();
    let code = o.status.code();
    match (code, classes.is_empty()) {
        (Some(0), true) => "ok".to_string(),
        (Some(1), false) => classes.join("+"),
        _ => format!("exit {code:?} {classes:?}"),
    }
}

/// The label as migfix should say it.
fn wanted(class: &str) -> &str {
    match class {
        "none" => "?",
        other => other,
    }
}

#[test]
fn every_real_log_gets_its_label() {
    let dir = repo().join("fixtures/logs/real");
    let manifest: Manifest =
        toml::from_str(&std::fs::read_to_string(dir.join("manifest.toml")).unwrap()).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    // (said, right) per class, for precision and recall.
    let mut per_class: BTreeMap<char, (usize, usize, usize)> = BTreeMap::new();
    for e in &manifest.log {
        let got = verdict(empty.path(), &dir.join(&e.file));
        let want = wanted(&e.class);
        for c in "ABCDEF".chars() {
            let said = got.split('+').any(|g| g == c.to_string());
            let is = want == c.to_string();
            let t = per_class.entry(c).or_default();
            t.0 += usize::from(said);
            t.1 += usize::from(said && is);
            t.2 += usize::from(is);
        }
        if got != want {
            wrong.push(format!(
                "{}: labelled {}, migfix says {got}",
                e.file, e.class
            ));
        }
    }
    let table: Vec<String> = per_class
        .iter()
        .map(|(c, (said, right, is))| format!("{c}: said {said}, right {right}, labelled {is}"))
        .collect();
    eprintln!("{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "{} of {} logs:\n{}",
        wrong.len(),
        manifest.log.len(),
        wrong.join("\n")
    );
}
