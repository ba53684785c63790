//! Real Alembic as the oracle: on every fixture chain and every real-world
//! corpus, migfix's graph must equal Alembic's revision by revision.
//!
//! tests/run.sh provides the venv (MIGFIX_PYTHON) and the corpora
//! (MIGFIX_CORPORA) and sets MIGFIX_REQUIRE_ORACLES=1, so that in CI a
//! missing oracle fails instead of skipping.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

pub fn required() -> bool {
    std::env::var("MIGFIX_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

fn from_env(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.exists())
    {
        Some(p) => Some(p),
        None if required() => {
            panic!("{var} is not set or does not exist; run the tests through tests/run.sh")
        }
        None => {
            eprintln!("skipping: {var} is not set (run the tests through tests/run.sh)");
            None
        }
    }
}

pub fn alembic_bin() -> Option<PathBuf> {
    from_env("MIGFIX_ALEMBIC")
}

pub fn corpora_dir() -> Option<PathBuf> {
    from_env("MIGFIX_CORPORA")
}

/// Asks Alembic for the graph. `cwd` matters for relative script_location.
pub fn alembic_graph(args: &[&str], cwd: &Path) -> Option<Value> {
    let python = from_env("MIGFIX_PYTHON")?;
    let out = Command::new(python)
        .arg(repo().join("tests/oracle/alembic_graph.py"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the oracle runs");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the oracle prints JSON"))
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Compares one chain of `migfix history --format json` with the oracle.
/// Returns the number of revisions compared.
pub fn compare(label: &str, root: &Path, ours: &Value, theirs: &Value) -> usize {
    assert!(
        theirs.get("error").is_none(),
        "{label}: Alembic could not load it: {}",
        theirs["error"]
    );
    let our_revs = ours["revisions"].as_array().unwrap();
    let by_key: BTreeMap<(String, PathBuf), &Value> = our_revs
        .iter()
        .map(|r| {
            (
                (
                    r["id"].as_str().unwrap().to_string(),
                    canonical(&root.join(r["path"].as_str().unwrap())),
                ),
                r,
            )
        })
        .collect();
    let their_revs = theirs["revisions"].as_array().unwrap();
    for t in their_revs {
        let id = t["id"].as_str().unwrap().to_string();
        let key = (
            id.clone(),
            canonical(Path::new(t["path"].as_str().unwrap())),
        );
        let o = by_key.get(&key).unwrap_or_else(|| {
            panic!(
                "{label}: Alembic has {} at {}, migfix does not",
                id,
                key.1.display()
            )
        });
        assert_eq!(
            strings(&o["down_revisions"]),
            strings(&t["down_revisions"]),
            "{label}: down_revisions of {id}"
        );
        if !o["depends_on"].is_null() {
            assert_eq!(
                strings(&o["depends_on"]),
                strings(&t["depends_on"]),
                "{label}: depends_on of {id}"
            );
        }
        if !o["branch_labels"].is_null() {
            assert_eq!(
                sorted(strings(&o["branch_labels"])),
                sorted(strings(&t["branch_labels"])),
                "{label}: branch_labels of {id}"
            );
        }
    }
    // Alembic keeps one file per id; migfix lists every file.
    let our_ids: std::collections::BTreeSet<&str> =
        our_revs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let their_ids: std::collections::BTreeSet<&str> = their_revs
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        our_ids, their_ids,
        "{label}: the sets of revision ids differ"
    );
    assert_eq!(
        sorted(strings(&ours["heads"])),
        sorted(strings(&theirs["heads"])),
        "{label}: heads"
    );
    let our_bases: Vec<String> = our_revs
        .iter()
        .filter(|r| r["down_revisions"].as_array().unwrap().is_empty())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        sorted(our_bases),
        sorted(strings(&theirs["bases"])),
        "{label}: bases"
    );
    their_revs.len()
}

pub fn history(root: &Path, args: &[&str]) -> Value {
    let mut all = vec!["history", "--format", "json"];
    all.extend_from_slice(args);
    let o = migfix(root, &all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn fixtures_match_alembic() {
    let mut compared = 0;
    for name in [
        "incident-2026-06-05",
        "healthy",
        "dup-0038",
        "basketball-031",
        "hash-heads",
        "dangling",
    ] {
        let root = canonical(&fixture(name));
        let chains = migfix(&root, &["-C", ".", "chains", "--format", "json"]);
        let chains: Value = serde_json::from_slice(&chains.stdout).unwrap();
        for chain in chains["chains"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "alembic")
        {
            let chain_name = chain["name"].as_str().unwrap();
            let ini = root.join(chain["config"].as_str().unwrap());
            let Some(theirs) =
                alembic_graph(&["--ini", ini.to_str().unwrap()], ini.parent().unwrap())
            else {
                return;
            };
            let label = format!("{name}/{chain_name}");
            if let Some(err) = theirs.get("error") {
                // Alembic refuses the chain; migfix must explain why instead.
                let o = migfix(
                    &root,
                    &[
                        "-C", ".", "--chain", chain_name, "check", "--format", "json",
                    ],
                );
                let findings: Value = serde_json::from_slice(&o.stdout).unwrap();
                let classes: Vec<&str> = findings["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|f| f["class"].as_str())
                    .collect();
                assert!(
                    classes.contains(&"E"),
                    "{label}: Alembic says {err}; migfix found {classes:?}"
                );
                continue;
            }
            let ours = history(&root, &["-C", ".", "--chain", chain_name]);
            compared += compare(&label, &root, &ours["chains"][0], &theirs);
        }
    }
    assert!(compared > 300, "compared only {compared} revisions");
}

#[test]
fn real_world_corpora_match_alembic() {
    let Some(corpora) = corpora_dir() else { return };
    let list = std::fs::read_to_string(repo().join("tests/oracle/corpora.txt")).unwrap();
    let mut seen = 0;
    for line in list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (name, path, recursive) = (fields[0], fields[2], fields.get(3) == Some(&"recursive"));
        let versions = canonical(&corpora.join(name).join(path));
        let mut args = vec![
            "--versions",
            versions.to_str().unwrap(),
            "--stub-missing-imports",
        ];
        if recursive {
            args.push("--recursive");
        }
        let Some(theirs) = alembic_graph(&args, &corpora) else {
            return;
        };
        // A root of our own, so that recursion can be configured.
        let root = tempfile::tempdir().unwrap();
        let toml = format!(
            "[[chain]]\nname = \"{name}\"\nversions = {:?}\nrecursive = {recursive}\n",
            versions.to_str().unwrap()
        );
        std::fs::write(root.path().join("migfix.toml"), toml).unwrap();
        let ours = history(root.path(), &["-C", "."]);
        let n = compare(name, root.path(), &ours["chains"][0], &theirs);
        eprintln!("{name}: {n} revisions agree with Alembic");
        assert!(n >= 5, "{name}: only {n} revisions");
        seen += 1;
    }
    assert!(seen >= 3, "at least three real-world corpora, found {seen}");
}

/// The chain of `root/alembic.ini` (a real project's, its imports stubbed
/// for Alembic) must be Alembic's graph, revision by revision.
pub fn compare_with_alembic(label: &str, root: &Path) {
    let ini = root.join("alembic.ini");
    let Some(theirs) = alembic_graph(
        &["--ini", ini.to_str().unwrap(), "--stub-missing-imports"],
        root,
    ) else {
        return;
    };
    let ours = history(root, &["-C", "."]);
    compare(label, root, &ours["chains"][0], &theirs);
}
