//! Django projects against real Django: migfix's graph equals the one
//! `MigrationLoader` builds, node by node, on the fixture and on real
//! reusable apps' migrations (tests/oracle/django_corpora.txt); after each
//! repair, Django finds no conflict, `makemigrations --check` no change and
//! `migrate` applies the whole graph on SQLite.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

fn python() -> Option<PathBuf> {
    match std::env::var_os("MIGFIX_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists())
    {
        Some(p) => Some(p),
        None => {
            assert!(!crate::oracle::required(), "MIGFIX_PYTHON is not set");
            eprintln!("skipping: MIGFIX_PYTHON is not set (run the tests through tests/run.sh)");
            None
        }
    }
}

/// Runs tests/oracle/django_graph.py MODE --root ROOT --app ... and parses its JSON.
pub(crate) fn oracle(
    mode: &str,
    root: &Path,
    apps: &[(String, String)],
    extra: &[String],
) -> Option<Value> {
    let python = python()?;
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/oracle/django_graph.py"))
        .arg(mode)
        .arg("--root")
        .arg(root);
    for (label, dir) in apps {
        cmd.arg("--app").arg(format!("{label}={dir}"));
    }
    cmd.args(extra);
    let out = cmd.output().expect("the Django oracle runs");
    assert!(
        out.status.success(),
        "the Django oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the oracle prints JSON"))
}

fn key(v: &Value) -> String {
    let a = v.as_array().expect("[app, name]");
    format!("{}.{}", a[0].as_str().unwrap(), a[1].as_str().unwrap())
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().map(key).collect())
        .unwrap_or_default()
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let (code, out, err) = run(dir, args);
    assert!(
        code == 0 || code == 1,
        "migfix {args:?}: exit {code}\n{err}"
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("migfix {args:?} JSON: {e}\n{out}"))
}

/// Compares migfix's history of the one Django chain below `root` with
/// Django's graph. Edges Django takes from values migfix cannot read
/// statically (it warns of each) may be missing on migfix's side only.
/// Returns the number of migrations compared.
fn compare(name: &str, root: &Path, theirs: &Value) -> usize {
    assert!(
        theirs.get("error").is_none(),
        "{name}: Django failed: {}",
        theirs["error"]
    );
    let ours = json_of(root, &["history", "--format", "json"]);
    let chains = ours["chains"].as_array().unwrap();
    let django: Vec<&Value> = chains.iter().filter(|c| c["kind"] == "django").collect();
    assert_eq!(django.len(), 1, "{name}: one Django project: {chains:?}");
    let warned: BTreeSet<PathBuf> = ours["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| root.join(w["file"].as_str().unwrap()))
        .collect();
    let project_apps: BTreeSet<String> = theirs["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["app"].as_str().unwrap().to_string())
        .collect();
    let mut mine: BTreeMap<String, (BTreeSet<String>, PathBuf)> = BTreeMap::new();
    for r in django[0]["revisions"].as_array().unwrap() {
        let mut parents: BTreeSet<String> = BTreeSet::new();
        parents.extend(
            r["down_revisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string()),
        );
        parents.extend(
            r["depends_on"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string()),
        );
        mine.insert(
            r["id"].as_str().unwrap().to_string(),
            (parents, root.join(r["path"].as_str().unwrap())),
        );
    }
    let nodes = theirs["nodes"].as_array().unwrap();
    let their_ids: BTreeSet<String> = nodes
        .iter()
        .map(|n| {
            format!(
                "{}.{}",
                n["app"].as_str().unwrap(),
                n["name"].as_str().unwrap()
            )
        })
        .collect();
    let our_ids: BTreeSet<String> = mine.keys().cloned().collect();
    assert_eq!(our_ids, their_ids, "{name}: the migrations in the graph");
    for n in nodes {
        let id = format!(
            "{}.{}",
            n["app"].as_str().unwrap(),
            n["name"].as_str().unwrap()
        );
        let (ours, path) = &mine[&id];
        // Parents in other installed apps (Django's contrib) lie outside the project.
        let theirs: BTreeSet<String> = keys(&n["parents"])
            .into_iter()
            .filter(|p| project_apps.contains(p.split('.').next().unwrap()))
            .collect();
        let path = path.canonicalize().unwrap();
        if warned
            .iter()
            .any(|w| w.canonicalize().is_ok_and(|w| w == path))
        {
            assert!(
                ours.is_subset(&theirs),
                "{name}: {id}: parents {ours:?}, Django {theirs:?}"
            );
        } else {
            assert_eq!(ours, &theirs, "{name}: {id}: parents");
        }
    }
    let heads: BTreeSet<String> = django[0]["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(heads, keys(&theirs["leaf_nodes"]), "{name}: leaf nodes");
    nodes.len()
}

/// The conflicts migfix reports, as Django's detect_conflicts() gives them.
fn our_conflicts(root: &Path) -> BTreeMap<String, Vec<String>> {
    let check = json_of(root, &["check", "--format", "json"]);
    let mut out = BTreeMap::new();
    for f in check["findings"].as_array().unwrap() {
        if f["kind"] != "multiple-heads" {
            continue;
        }
        // `... graph: (0005_a, 0005_b in shop)`
        let m = f["message"].as_str().unwrap();
        let inner = m.split('(').nth(1).unwrap().split(')').next().unwrap();
        let (names, app) = inner.rsplit_once(" in ").unwrap();
        out.insert(
            app.to_string(),
            names.split(", ").map(String::from).collect(),
        );
    }
    out
}

pub(crate) fn their_conflicts(theirs: &Value) -> BTreeMap<String, Vec<String>> {
    theirs["conflicts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(app, names)| {
            (
                app.clone(),
                names
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

pub(crate) fn shop_apps() -> Vec<(String, String)> {
    vec![
        ("shop".into(), "shop/migrations".into()),
        ("payments".into(), "billing/migrations".into()),
    ]
}

#[test]
fn fixture_graph_equals_djangos() {
    let root = fixture("django-shop");
    let Some(theirs) = oracle("graph", &root, &shop_apps(), &[]) else {
        return;
    };
    assert!(compare("django-shop", &root, &theirs) >= 8);
    assert_eq!(our_conflicts(&root), their_conflicts(&theirs));
    assert!(!their_conflicts(&theirs).is_empty(), "the fixture forks");
}

/// The two repairs `check` offers for the fixture's fork, each confirmed
/// by Django: no conflict, no model change, the whole graph migrates.
#[test]
fn fixture_repairs_satisfy_django() {
    for (what, args) in [
        (
            "merge-heads",
            vec!["--chain", "shop", "merge-heads", "--yes"],
        ),
        (
            "renumber",
            vec!["renumber", "shop", "0005_product_weight", "--yes"],
        ),
    ] {
        let (dir, _repo) = repo_from("django-shop");
        let root = dir.path();
        let (code, out, _) = run(root, &["check"]);
        assert_eq!(code, 1, "the fork fails check:\n{out}");
        assert!(
            out.contains("run: migfix --chain shop merge-heads"),
            "{out}"
        );
        let before = tree_bytes(root);
        let (code, out, err) = run(root, &args);
        assert_eq!(code, 0, "{what}: {out}\n{err}");
        let (code, out, _) = run(root, &["check"]);
        assert_eq!(code, 0, "{what}: check passes after it:\n{out}");
        let Some(theirs) = oracle("graph", root, &shop_apps(), &[]) else {
            return;
        };
        assert!(
            their_conflicts(&theirs).is_empty(),
            "{what}: Django sees no conflict"
        );
        compare(what, root, &theirs);
        let checked = oracle("check", root, &shop_apps(), &[]).unwrap();
        assert_eq!(
            checked["makemigrations"]["exit"], 0,
            "{what}: {}",
            checked["makemigrations"]["output"]
        );
        assert_eq!(
            checked["migrate"]["exit"], 0,
            "{what}: {}",
            checked["migrate"]["output"]
        );
        let after = tree_bytes(root);
        if what == "renumber" {
            // Only the name tokens changed: the file moved, its parent was
            // re-pointed, and no other byte differs.
            let old = PathBuf::from("shop/migrations/0005_product_weight.py");
            let new = PathBuf::from("shop/migrations/0006_product_weight.py");
            assert!(!after.contains_key(&old) && after.contains_key(&new));
            let a = String::from_utf8(before[&old].clone()).unwrap();
            let b = String::from_utf8(after[&new].clone()).unwrap();
            let diff: Vec<(&str, &str)> =
                a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
            assert_eq!(diff.len(), 1, "one line changes: {diff:?}");
            assert!(diff[0].1.contains("0005_product_discount"), "{diff:?}");
            for (p, bytes) in &before {
                if p != &old {
                    assert_eq!(after.get(p), Some(bytes), "{} unchanged", p.display());
                }
            }
        }
    }
}

struct Corpus {
    name: String,
    apps: Vec<(String, String)>,
    extra: Vec<String>,
    /// The `setting=` values: for a whole project, what its settings files
    /// say (which migfix must read from them).
    settings: Vec<(String, String)>,
}

fn corpora() -> Option<(PathBuf, Vec<Corpus>)> {
    let dir = match std::env::var_os("MIGFIX_DJANGO_CORPORA")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
    {
        Some(d) => d,
        None => {
            assert!(
                !crate::oracle::required(),
                "MIGFIX_DJANGO_CORPORA is not set"
            );
            eprintln!("skipping: MIGFIX_DJANGO_CORPORA is not set");
            return None;
        }
    };
    let list = std::fs::read_to_string(repo().join("tests/oracle/django_corpora.txt")).unwrap();
    let mut out = Vec::new();
    for line in list.lines() {
        let line = line.split(" #").next().unwrap().trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let apps = words[2]
            .split(',')
            .map(|a| {
                let (l, d) = a.split_once('=').unwrap();
                (l.to_string(), d.to_string())
            })
            .collect();
        let mut extra = Vec::new();
        let mut settings = Vec::new();
        for opt in &words[3..] {
            if let Some(values) = opt.strip_prefix("setting=") {
                for s in values.split(',') {
                    extra.push("--setting".to_string());
                    extra.push(s.to_string());
                    let (k, v) = s.split_once('=').unwrap();
                    settings.push((k.to_string(), v.to_string()));
                }
            }
        }
        extra.push("--stub-missing-imports".into());
        out.push(Corpus {
            name: words[0].to_string(),
            apps,
            extra,
            settings,
        });
    }
    Some((dir, out))
}

/// Every corpus: found and labelled by discovery as Django does, listed by
/// `chains`, passes `check` untouched, and equals Django's graph node by
/// node, Django configured with the project's own swappable settings,
/// which migfix reads from the project's settings files.
#[test]
fn real_apps_graph_equals_djangos() {
    let Some((dir, list)) = corpora() else { return };
    assert!(list.len() >= 20);
    let (mut total, mut swapped, mut projects) = (0, 0, 0);
    for c in &list {
        let root = dir.join(&c.name);
        let chains = json_of(&root, &["chains", "--format", "json"]);
        let listed: Vec<&Value> = chains["chains"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|ch| ch["kind"] == "django")
            .collect();
        assert_eq!(listed.len(), 1, "{}: chains lists one project", c.name);
        let (code, out, err) = run(&root, &["check"]);
        assert_eq!(
            code, 0,
            "{}: check fails a healthy project:\n{out}\n{err}",
            c.name
        );
        assert!(
            !out.contains("head") && out.contains("leaf node"),
            "{}: in Django's words: {out}",
            c.name
        );
        let Some(theirs) = oracle("graph", &root, &c.apps, &c.extra) else {
            return;
        };
        let n = compare(&c.name, &root, &theirs);
        assert_eq!(
            listed[0]["count"], n,
            "{}: chains counts the migrations",
            c.name
        );
        total += n;
        assert!(their_conflicts(&theirs).is_empty());
        if settings_read_from_files(c, &root) {
            projects += 1;
            let edges = swappable_edges(c, &theirs);
            assert!(edges > 0, "{}: no edge depends on the settings", c.name);
            swapped += edges;
        }
    }
    assert!(total > 1000, "{total} migrations compared");
    assert!(
        projects >= 5,
        "{projects} whole projects with their settings"
    );
    // The edges Django takes from the projects' own user models (and
    // pretix's OAuth application model): none of them without the settings.
    assert!(swapped >= 50, "{swapped} edges from swappable settings");
}

/// For a corpus whose `setting=` names AUTH_USER_MODEL (a whole project):
/// every swappable dependency on a given setting resolves, as migfix reads
/// the project's settings files, to the value given to Django, and the
/// file and line migfix names assign that literal. Returns whether the
/// corpus is such a project.
fn settings_read_from_files(c: &Corpus, root: &Path) -> bool {
    if !c.settings.iter().any(|(k, _)| k == "AUTH_USER_MODEL") {
        return false;
    }
    let ours = json_of(root, &["history", "--format", "json"]);
    let mut seen = BTreeSet::new();
    for r in ours["chains"][0]["revisions"].as_array().unwrap() {
        for s in r["swappable_settings"].as_array().unwrap() {
            let Some(setting) = s["setting"].as_str() else {
                continue;
            };
            let Some((_, want)) = c.settings.iter().find(|(k, _)| k == setting) else {
                continue;
            };
            let from = s["from"].as_str().unwrap_or_default();
            assert_eq!(
                s["model"].as_str(),
                Some(want.as_str()),
                "{}: {} in {}: {setting} as migfix reads it ({from})",
                c.name,
                r["id"],
                r["path"]
            );
            let (file, line) = from
                .rsplit_once(':')
                .unwrap_or_else(|| panic!("{}: {setting} is not read from a file: {from}", c.name));
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let at = text
                .lines()
                .nth(line.parse::<usize>().unwrap() - 1)
                .unwrap();
            let assigned = at.split('=').map(str::trim).collect::<Vec<_>>();
            assert!(
                assigned[..assigned.len() - 1].contains(&setting)
                    && [format!("\"{want}\""), format!("'{want}'")]
                        .contains(&assigned[assigned.len() - 1].to_string()),
                "{}: {from} does not assign {setting} = {want:?}: {at}",
                c.name
            );
            seen.insert(setting.to_string());
        }
    }
    assert!(
        seen.contains("AUTH_USER_MODEL"),
        "{}: no AUTH_USER_MODEL read: {seen:?}",
        c.name
    );
    true
}

/// The edges of Django's graph that a swappable setting of the corpus
/// makes: a migration's declared `swappable_dependency(settings.NAME)`
/// whose model is in another app of the project.
fn swappable_edges(c: &Corpus, theirs: &Value) -> usize {
    let labels: BTreeSet<&str> = c.apps.iter().map(|(l, _)| l.as_str()).collect();
    let mut n = 0;
    for node in theirs["nodes"].as_array().unwrap() {
        for d in node["declared_dependencies"].as_array().unwrap() {
            if d[0] != "__setting__" {
                continue;
            }
            let Some((_, value)) = c.settings.iter().find(|(k, _)| d[1] == k.as_str()) else {
                continue;
            };
            let app = value.split('.').next().unwrap();
            if app != node["app"] && labels.contains(app) {
                n += 1;
            }
        }
    }
    n
}

/// A simulated incident on every corpus: two branches each add the next
/// migration of one app; `check` finds the fork and the command it prints
/// repairs it, which Django confirms. The renumber is confirmed too. Two
/// corpora at a time: the machine has two cores.
#[test]
fn real_apps_incidents_repaired() {
    let Some((dir, list)) = corpora() else { return };
    let failures = two_at_a_time(&list, |c| c.name.clone(), |c| incidents_repaired(&dir, c));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// [`real_apps_incidents_repaired`] on one corpus: the fork repaired by
/// a merge, then by a renumber.
fn incidents_repaired(dir: &Path, c: &Corpus) {
    // The app with the most migrations, and its leaf, from the untouched
    // tree: the same for both repairs.
    let theirs = oracle("graph", &dir.join(&c.name), &c.apps, &c.extra).unwrap();
    let leaves = keys(&theirs["leaf_nodes"]);
    let (label, dir_rel) = c
        .apps
        .iter()
        .max_by_key(|(l, _)| {
            theirs["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["app"] == l.as_str())
                .count()
        })
        .unwrap();
    let leaf = leaves
        .iter()
        .find(|k| k.split('.').next() == Some(label))
        .unwrap();
    let leaf_name = leaf.split_once('.').unwrap().1;
    let n: u64 = leaf_name
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
        + 1;
    for repair in ["merge", "renumber"] {
        let tmp = tempfile::tempdir().unwrap();
        copy_tree(&dir.join(&c.name), tmp.path());
        let root = tmp.path();
        for pr in ["alpha", "beta"] {
            std::fs::write(
                root.join(dir_rel).join(format!("{n:04}_pr_{pr}.py")),
                format!("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        (\"{label}\", \"{leaf_name}\"),\n    ]\n\n    operations = [\n    ]\n"),
            )
            .unwrap();
        }
        git_init(root);
        let (code, out, _) = run(root, &["check"]);
        assert_eq!(code, 1, "{}: the fork fails check:\n{out}", c.name);
        let command = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("run: migfix "))
            .unwrap_or_else(|| panic!("{}: no run: line\n{out}", c.name))
            .to_string();
        let args: Vec<String> = if repair == "merge" {
            command
                .split_whitespace()
                .map(String::from)
                .chain(["--yes".to_string()])
                .collect()
        } else {
            vec![
                "renumber".into(),
                label.clone(),
                format!("{n:04}_pr_beta"),
                "--yes".into(),
            ]
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(root, &args);
        assert_eq!(code, 0, "{} {repair}: {out}\n{err}", c.name);
        let (code, out, _) = run(root, &["check"]);
        assert_eq!(
            code, 0,
            "{} {repair}: check passes after it:\n{out}",
            c.name
        );
        let theirs = oracle("graph", root, &c.apps, &c.extra).unwrap();
        assert!(
            their_conflicts(&theirs).is_empty(),
            "{} {repair}: {:?}",
            c.name,
            theirs["conflicts"]
        );
        compare(&c.name, root, &theirs);
    }
}

const SHOP: &str = "shop/migrations";

/// The fixture's story as git history: main at 0004; a branch adds
/// 0005_product_weight; then 0005_product_discount lands on main, and
/// another branch adds 0006 after it.
fn shop_history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&fixture("django-shop"), root);
    let weight = std::fs::read_to_string(root.join(SHOP).join("0005_product_weight.py")).unwrap();
    let discount =
        std::fs::read_to_string(root.join(SHOP).join("0005_product_discount.py")).unwrap();
    std::fs::remove_file(root.join(SHOP).join("0005_product_weight.py")).unwrap();
    std::fs::remove_file(root.join(SHOP).join("0005_product_discount.py")).unwrap();
    let repo = git_init(root);
    drop(repo);
    git(root, &["checkout", "-qb", "feature/weight"]);
    std::fs::write(root.join(SHOP).join("0005_product_weight.py"), weight).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "add weight"]);
    git(root, &["checkout", "-q", "main"]);
    std::fs::write(root.join(SHOP).join("0005_product_discount.py"), discount).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "add discount"]);
    let repo = git2::Repository::open(root).unwrap();
    git_branch(
        &repo,
        "feature/marker",
        &[(
            "shop/migrations/0006_release_marker.py",
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('shop', '0005_product_discount'),\n    ]\n\n    operations = [\n    ]\n",
        )],
    );
    git(root, &["checkout", "-q", "feature/weight"]);
    dir
}

/// collisions names the number two branches claim and the branch built on
/// an old leaf; rebase moves it after main's leaf, past the number another
/// branch claims; merged, Django finds one leaf, no change, and migrates.
#[test]
fn branches_collide_and_rebase_onto_main() {
    let dir = shop_history();
    let root = dir.path();
    let (code, out, err) = run(root, &["collisions", "--base", "main"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("collision: shop.0005 is claimed 2 times: main (shop/migrations/0005_product_discount.py), feature/weight (shop/migrations/0005_product_weight.py)"), "{out}");
    assert!(
        out.contains(
            "stale: feature/weight adds shop.0005_product_weight on shop.0004_product_stock"
        ),
        "{out}"
    );
    assert!(out.contains("next free shop.0007"), "{out}");
    assert!(
        !out.contains("feature/marker adds"),
        "the marker follows main's leaf: {out}"
    );

    let (code, out, err) = run(root, &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    // As the project will be once main is merged: two apps, one leaf each.
    assert!(
        out.lines()
            .any(|l| l == "after: 2 apps, one leaf node each; shop: 0007_product_weight"),
        "{out}"
    );
    let moved = std::fs::read_to_string(root.join(SHOP).join("0007_product_weight.py")).unwrap();
    assert!(
        moved.contains("('shop', '0005_product_discount')"),
        "{moved}"
    );
    assert!(!root.join(SHOP).join("0005_product_weight.py").exists());
    git(root, &["commit", "-qam", "rebase migrations"]);
    git(root, &["merge", "-q", "main", "-m", "merge main"]);
    let (code, out, _) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}");
    let Some(theirs) = oracle("graph", root, &shop_apps(), &[]) else {
        return;
    };
    assert!(their_conflicts(&theirs).is_empty());
    assert!(keys(&theirs["leaf_nodes"]).contains("shop.0007_product_weight"));
    compare("rebased", root, &theirs);
    let checked = oracle("check", root, &shop_apps(), &[]).unwrap();
    assert_eq!(
        checked["makemigrations"]["exit"], 0,
        "{}",
        checked["makemigrations"]["output"]
    );
    assert_eq!(
        checked["migrate"]["exit"], 0,
        "{}",
        checked["migrate"]["output"]
    );
    // Nothing left to move.
    let (code, out, _) = run(root, &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to rebase"), "{out}");
}

/// merge-heads on main numbers the merge past the branch's claim, and
/// says which branch must follow it.
#[test]
fn merge_heads_numbers_past_claims_and_names_stale_branches() {
    let (dir, repo) = repo_from("django-shop");
    git_branch(
        &repo,
        "feature/marker",
        &[(
            "shop/migrations/0006_release_marker.py",
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('shop', '0005_product_discount'),\n    ]\n\n    operations = [\n    ]\n",
        )],
    );
    let (code, out, err) = run(dir.path(), &["--chain", "shop", "merge-heads", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let merge = dir
        .path()
        .join(SHOP)
        .join("0007_merge_0005_product_discount_0005_product_weight.py");
    let text = std::fs::read_to_string(&merge).unwrap_or_else(|_| panic!("no merge file:\n{out}"));
    assert!(
        text.starts_with("# Generated by Django 5.2.19 on "),
        "{text}"
    );
    assert!(
        text.ends_with("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n\n    dependencies = [\n        ('shop', '0005_product_discount'),\n        ('shop', '0005_product_weight'),\n    ]\n\n    operations = [\n    ]\n"),
        "as makemigrations --merge writes it:\n{text}"
    );
    assert!(
        out.contains("numbered past the migrations other branches add: shop.0006_release_marker"),
        "{out}"
    );
    assert!(
        out.contains("feature/marker"),
        "the marker branch must follow the merge: {out}"
    );
}

/// django-linear-migrations' max_migration.txt follows every repair, for
/// the app whose leaf it moves; another app's file is not the repair's to
/// touch, even when it is stale.
#[test]
fn max_migration_txt_follows_repairs() {
    for (args, want) in [
        (
            vec!["renumber", "shop", "0005_product_weight", "--yes"],
            "0006_product_weight\n",
        ),
        (
            vec!["--chain", "shop", "merge-heads", "--yes"],
            "0006_merge_0005_product_discount_0005_product_weight\n",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixture("django-shop"), dir.path());
        std::fs::write(
            dir.path().join(SHOP).join("max_migration.txt"),
            "0005_product_discount\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("billing/migrations/max_migration.txt"),
            "0002_invoice_paid_at\n",
        )
        .unwrap();
        git_init(dir.path());
        let (code, out, err) = run(dir.path(), &args);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(SHOP).join("max_migration.txt")).unwrap(),
            want
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("billing/migrations/max_migration.txt"))
                .unwrap(),
            "0002_invoice_paid_at\n",
            "another app's file stays"
        );
    }
}

/// Where apps.py does not say the label (a config chosen in settings),
/// migfix.toml names the apps; the graph is then Django's.
#[test]
fn migfix_toml_names_apps_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&fixture("django-shop"), root);
    std::fs::remove_file(root.join("billing/apps.py")).unwrap();
    // Discovery alone labels the app by its folder: its label is unknown.
    let (_, out, _) = run(root, &["--format", "json", "chains"]);
    assert!(out.contains("billing."), "{out}");
    std::fs::write(
        root.join("migfix.toml"),
        "[[chain]]\nkind = \"django\"\nname = \"shop-site\"\n[chain.apps]\nshop = \"shop/migrations\"\npayments = \"billing/migrations\"\n",
    )
    .unwrap();
    let (code, out, err) = run(root, &["chains"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("shop-site  django"), "{out}");
    let Some(theirs) = oracle("graph", root, &shop_apps(), &[]) else {
        return;
    };
    compare("migfix.toml", root, &theirs);
    std::fs::write(
        root.join("migfix.toml"),
        "[[chain]]\nkind = \"django\"\napps = { payments = \"nowhere/migrations\" }\n",
    )
    .unwrap();
    let (code, _, err) = run(root, &["check"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`apps.payments`: nowhere/migrations is not a directory"),
        "{err}"
    );
}

/// The app `shop` with two `0002` leaves on `0001_initial`.
fn two_0002(root: &Path) {
    let m = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n";
    write_tree(
        root,
        &[
            ("manage.py", ""),
            ("shop/__init__.py", ""),
            ("shop/migrations/__init__.py", ""),
            (
                "shop/migrations/0001_initial.py",
                &format!("{m}    initial = True\n    dependencies = []\n    operations = []\n"),
            ),
            (
                "shop/migrations/0002_a.py",
                &format!("{m}    dependencies = [('shop', '0001_initial')]\n    operations = []\n"),
            ),
            (
                "shop/migrations/0002_b.py",
                &format!(
                    "{m}    dependencies = [(\"shop\", \"0001_initial\")]\n    operations = []\n"
                ),
            ),
        ],
    );
}

/// `0002_b` renumbered to `0004_b` onto `0002_a` in a new repository;
/// the bytes of `0003_c.py` after.
fn renumber_0002_b(root: &Path) -> Vec<u8> {
    git_init(root);
    let (code, out, err) = run(
        root,
        &[
            "renumber", "shop", "0002_b", "--to", "4", "--onto", "0002_a", "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    std::fs::read(root.join("shop/migrations/0003_c.py")).unwrap()
}

/// A renumber changes the name tokens of the references and nothing else:
/// CRLF, a byte-order mark, non-ASCII text, both quote styles, a tuple over
/// several lines with comments, and the name in comments and strings.
#[test]
fn renumber_is_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let m = "class Migration(migrations.Migration):\n";
    two_0002(root);
    // A later migration on the renamed one, written by hand.
    let child = "\u{feff}# Ünïcode: depends on 0002_b (see 0002_b)\r\nfrom django.db import migrations\r\n\r\n\r\nclass Migration(migrations.Migration):\r\n    \"\"\"Façade for 0002_b.\"\"\"\r\n    dependencies = [\r\n        (  # the PR's parent\r\n            \"shop\",\r\n            '0002_b',  # renamed below\r\n        ),\r\n    ]\r\n    run_before: list = []\r\n    operations = [migrations.RunSQL(\"SELECT '0002_b'\", migrations.RunSQL.noop)]\r\n";
    std::fs::write(root.join("shop/migrations/0003_c.py"), child).unwrap();
    let after = renumber_0002_b(root);
    assert_eq!(
        String::from_utf8(after).unwrap(),
        child.replacen("'0002_b',  # renamed", "'0004_b',  # renamed", 1),
        "only the reference's name token changes"
    );
    let moved = std::fs::read_to_string(root.join("shop/migrations/0004_b.py")).unwrap();
    assert_eq!(moved, format!("from django.db import migrations\n\n\n{m}    dependencies = [(\"shop\", \"0002_a\")]\n    operations = []\n"));
    let (code, out, _) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}");
    if let Some(theirs) = oracle(
        "graph",
        root,
        &[("shop".into(), "shop/migrations".into())],
        &[],
    ) {
        assert!(their_conflicts(&theirs).is_empty());
        compare("byte-exact", root, &theirs);
    }
}

/// A migration in Latin-1, as its coding cookie says, with bytes that are
/// not UTF-8 before and after the reference: only the name token changes.
#[test]
fn a_latin1_migration_is_renumbered_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    two_0002(root);
    let child: &[u8] = b"# -*- coding: latin-1 -*-\nfrom django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    \"\"\"Fa\xe7ade \xe0 0002_b.\"\"\"\n    dependencies = [('shop', '0002_b')]  # \xe9t\xe9\n    operations = [migrations.RunSQL(\"SELECT '\xc0'\")]\n";
    std::fs::write(root.join("shop/migrations/0003_c.py"), child).unwrap();
    let after = renumber_0002_b(root);
    let at = child.windows(8).position(|w| w == b"'0002_b'").unwrap();
    let mut expected = child.to_vec();
    expected[at + 1..at + 5].copy_from_slice(b"0004");
    assert_eq!(after, expected, "only the reference's name token changes");
    let (code, out, _) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}");
}

/// The CLI's text, JSON and diffs on the Django fixture.
#[test]
fn django_outputs_snapshot() {
    let root = fixture("django-shop");
    let mut settings = snapshot_settings(None);
    settings.add_filter(
        r"Generated by Django ([0-9.]+) on [0-9: -]+",
        "Generated by Django $1 on [DATE]",
    );
    let (_, chains, _) = run(&root, &["chains"]);
    let (_, check, _) = run(&root, &["check"]);
    let (_, heads, _) = run(&root, &["--chain", "payments", "history"]);
    let (_, json, _) = run(&root, &["--chain", "shop", "heads", "--format", "json"]);
    let (_, merge, _) = run(&root, &["--chain", "shop", "merge-heads", "--dry-run"]);
    let (_, renumber, _) = run(
        &root,
        &["renumber", "shop.0005_product_weight", "--dry-run"],
    );
    settings.bind(|| {
        insta::assert_snapshot!("django_chains", chains);
        insta::assert_snapshot!("django_check", check);
        insta::assert_snapshot!("django_history_app", heads);
        insta::assert_snapshot!("django_heads_json", json);
        insta::assert_snapshot!("django_merge_heads_diff", merge);
        insta::assert_snapshot!("django_renumber_diff", renumber);
    });
}

/// Two app folders with one label in one project: Django installs one app
/// per label, so the later is left out with a warning, not read twice.
#[test]
fn a_label_found_twice_is_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let m = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = []\n    operations = []\n";
    write_tree(
        dir.path(),
        &[
            ("src/blog/__init__.py", ""),
            ("src/blog/migrations/__init__.py", ""),
            ("src/blog/migrations/0001_initial.py", m),
            ("tests/fixtures/blog/__init__.py", ""),
            ("tests/fixtures/blog/migrations/__init__.py", ""),
            ("tests/fixtures/blog/migrations/0001_initial.py", m),
        ],
    );
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("tests/fixtures/blog/migrations: left out: its app has the label blog of src/blog/migrations"),
        "{err}"
    );
    assert!(out.contains("1 app, exactly 1 leaf node"), "{out}");
}

/// `diagnose --log` on what real Django printed: the conflict of the
/// fixture, and a dependency on a migration that does not exist, each
/// matched to its file with the command that fixes it.
#[test]
fn diagnose_reads_djangos_own_errors() {
    let logs = repo().join("fixtures/logs");
    let root = fixture("django-shop");
    let (code, out, err) = run(
        &root,
        &[
            "diagnose",
            "--log",
            logs.join("django-conflict.txt").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["class"], "C", "{out}");
    assert_eq!(f["path"], "shop/migrations/0005_product_weight.py");
    assert_eq!(f["command"], "migfix --chain shop merge-heads");

    let (dir, _repo) = repo_from("django-shop");
    let file = dir.path().join(SHOP).join("0005_product_weight.py");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("('shop', '0004_product_stock')", "('shop', '0004_stock')"),
    )
    .unwrap();
    git(dir.path(), &["commit", "-qam", "a bad rename"]);
    let (code, out, err) = run(
        dir.path(),
        &[
            "diagnose",
            "--log",
            logs.join("django-missing-parent.txt").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["class"], "E", "{out}");
    assert_eq!(f["subject"], "shop.0004_stock", "{out}");
    assert_eq!(f["revision"], "shop.0005_product_weight", "{out}");
    let command = f["command"].as_str().unwrap().to_string();
    assert_eq!(
        command,
        "migfix renumber shop/migrations/0005_product_weight.py --to shop.0005_product_weight --onto shop.0004_product_stock"
    );
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    args.push("--yes");
    let (code, out, err) = run(dir.path(), &args);
    // The dependency is healed; the fixture's two leaves of shop are not.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("1 healed, none worse"), "{out}");
    assert!(
        out.contains("not yet healthy") && out.contains("Conflicting migrations detected"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "the dependency is back, byte for byte"
    );
}

/// django-helpdesk writes `dependencies = [...] +
/// helpdesk_settings.HELPDESK_TEAMS_MIGRATION_DEPENDENCIES`: the literal
/// part is read, so the untouched project passes `check` with one leaf, the
/// rest is a warning naming the file and line, and a fork on the leaf is
/// renumbered onto the other new leaf.
#[test]
fn helpdesk_dependencies_built_with_a_sum() {
    let Some((dir, list)) = corpora() else { return };
    let c = list.iter().find(|c| c.name == "helpdesk").unwrap();
    let root = dir.join("helpdesk");
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    for at in [
        "helpdesk/migrations/0028_kbitem_team.py:12",
        "helpdesk/migrations/0043_fix_on_delete_behaviour.py:15",
    ] {
        assert!(
            err.contains(&format!("warning: {at}: `dependencies` is a sum with `helpdesk_settings.HELPDESK_TEAMS_MIGRATION_DEPENDENCIES`, which is not a literal: the literal part is read")),
            "{err}"
        );
    }
    let ours = json_of(&root, &["history", "--format", "json"]);
    let revs = ours["chains"][0]["revisions"].as_array().unwrap();
    let rev = |id: &str| revs.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        rev("helpdesk.0028_kbitem_team")["down_revisions"],
        serde_json::json!(["helpdesk.0027_auto_20200107_1221"])
    );
    assert_eq!(
        rev("helpdesk.0043_fix_on_delete_behaviour")["down_revisions"],
        serde_json::json!(["helpdesk.0042_usersettings_ticket_respond_layout"])
    );
    let leaves: Vec<&str> = ours["chains"][0]["heads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h.as_str().filter(|h| h.starts_with("helpdesk.")))
        .collect();
    assert_eq!(leaves, ["helpdesk.0043_fix_on_delete_behaviour"]);

    // Two branches add 0044 on the leaf; the later one goes onto the other.
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&root, tmp.path());
    let root = tmp.path();
    for pr in ["alpha", "beta"] {
        std::fs::write(
            root.join(format!("helpdesk/migrations/0044_{pr}.py")),
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [\n        ('helpdesk', '0043_fix_on_delete_behaviour'),\n    ]\n    operations = []\n",
        )
        .unwrap();
    }
    git_init(root);
    let (code, out, _) = run(root, &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(0044_alpha, 0044_beta in helpdesk) (all depend on helpdesk.0043_fix_on_delete_behaviour)"),
        "{out}"
    );
    let (code, out, err) = run(root, &["renumber", "helpdesk", "0044_beta", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("onto helpdesk.0044_alpha (was helpdesk.0043_fix_on_delete_behaviour)"),
        "{out}"
    );
    // The project's other apps are counted, not listed.
    let after = out.lines().find(|l| l.starts_with("after: ")).unwrap();
    assert_eq!(
        after, "after: 4 apps, one leaf node each; helpdesk: 0045_beta",
        "{out}"
    );
    let (code, out, _) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}");
    let Some(theirs) = oracle("graph", root, &c.apps, &c.extra) else {
        return;
    };
    assert!(their_conflicts(&theirs).is_empty());
    assert!(keys(&theirs["leaf_nodes"]).contains("helpdesk.0045_beta"));
    compare("helpdesk renumbered", root, &theirs);
}

/// The same, without the corpora: a sum with a module's list on either
/// side, of lists or of tuples, and of several terms. Before, the whole
/// value was dropped and `check` found leaves that Django does not.
#[test]
fn a_sum_of_dependencies_keeps_its_literal_terms() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let m = |deps: &str| {
        format!("from django.db import migrations\n\nfrom shop import conf\n\n\nclass Migration(migrations.Migration):\n    dependencies = {deps}\n    operations = []\n")
    };
    write_tree(
        root,
        &[
            ("manage.py", ""),
            ("shop/__init__.py", ""),
            ("shop/conf.py", "EXTRA = []\nEXTRA_T = ()\n"),
            ("shop/migrations/__init__.py", ""),
            ("shop/migrations/0001_initial.py", &m("[]")),
            ("shop/migrations/0002_a.py", &m("conf.EXTRA + [('shop', '0001_initial')]")),
            (
                "shop/migrations/0003_b.py",
                &m("[\n        ('shop', '0002_a'),\n    ] + conf.EXTRA + [\n        ('shop', '0001_initial'),\n    ]"),
            ),
            ("shop/migrations/0004_c.py", &m("(('shop', '0003_b'),) + conf.EXTRA_T")),
        ],
    );
    let (code, out, err) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 app, exactly 1 leaf node"), "{out}");
    for at in ["0002_a.py:7", "0003_b.py:9", "0004_c.py:7"] {
        assert!(
            err.contains(&format!(
                "warning: shop/migrations/{at}: `dependencies` is a sum with `conf.EXTRA"
            )),
            "{at}: {err}"
        );
    }
    git_init(root);
    let (code, out, err) = run(root, &["renumber", "shop", "0003_b", "--to", "7", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let b = std::fs::read_to_string(root.join("shop/migrations/0007_b.py")).unwrap();
    assert!(
        b.contains("('shop', '0002_a'),\n    ] + conf.EXTRA + ["),
        "{b}"
    );
    let c = std::fs::read_to_string(root.join("shop/migrations/0004_c.py")).unwrap();
    assert!(c.contains("(('shop', '0007_b'),) + conf.EXTRA_T"), "{c}");
    if let Some(theirs) = oracle(
        "graph",
        root,
        &[("shop".into(), "shop/migrations".into())],
        &[],
    ) {
        assert!(their_conflicts(&theirs).is_empty());
        assert_eq!(compare("sum", root, &theirs), 4);
    }
}

/// A project's own user model: Django's edge to the first migration of the
/// app AUTH_USER_MODEL names, read from the settings module manage.py
/// names; migfix.toml's value or module wins; settings files that disagree
/// leave the edge out, with warnings naming them.
#[test]
fn the_user_model_comes_from_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_tree(&fixture("django-shop"), root);
    write_tree(
        root,
        &[
            ("accounts/__init__.py", ""),
            ("accounts/migrations/__init__.py", ""),
            (
                "accounts/migrations/0001_initial.py",
                "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = []\n",
            ),
            (
                "shopsite/settings_ci.py",
                "from .settings import *  # noqa\n\nAUTH_USER_MODEL = \"auth.User\"\n",
            ),
        ],
    );
    let settings = root.join("shopsite/settings.py");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("\nAUTH_USER_MODEL = 'accounts.User'\n");
    let line = text.lines().count();
    std::fs::write(&settings, &text).unwrap();
    let mut apps = shop_apps();
    apps.push(("accounts".into(), "accounts/migrations".into()));
    let parents_of = |id: &str| -> (BTreeSet<String>, Value) {
        let ours = json_of(root, &["history", "--format", "json"]);
        let r = ours["chains"][0]["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone();
        (
            keys_of(&r["depends_on"]),
            r["swappable_settings"][0].clone(),
        )
    };
    // What Django does with the value migfix read.
    let agrees = |what: &str| {
        let (_, read) = parents_of("shop.0001_initial");
        let value = read["model"].as_str().unwrap().to_string();
        if let Some(theirs) = oracle(
            "graph",
            root,
            &apps,
            &["--setting".into(), format!("AUTH_USER_MODEL={value}")],
        ) {
            compare(what, root, &theirs);
        }
    };

    // (The fixture's fork fails check; no warning is added.)
    let (_, _, err) = run(root, &["check"]);
    assert_eq!(err, "");
    let (deps, read) = parents_of("shop.0001_initial");
    assert!(deps.contains("accounts.0001_initial"), "{deps:?}");
    assert_eq!(read["model"], "accounts.User");
    assert_eq!(read["from"], format!("shopsite/settings.py:{line}"));
    let (deps, _) = parents_of("payments.0001_squashed_0002_invoice_paid_at");
    assert!(deps.contains("accounts.0001_initial"), "{deps:?}");
    agrees("settings.py");

    // migfix.toml's value wins, and the file that says otherwise is named.
    std::fs::write(
        root.join("migfix.toml"),
        "[[chain]]\nkind = \"django\"\n[chain.settings]\nAUTH_USER_MODEL = \"auth.User\"\n",
    )
    .unwrap();
    let (_, _, err) = run(root, &["check"]);
    assert!(
        err.contains(&format!("warning: shopsite/settings.py:{line}: AUTH_USER_MODEL = \"accounts.User\" here, but migfix.toml says \"auth.User\": migfix.toml wins")),
        "{err}"
    );
    let (deps, read) = parents_of("shop.0001_initial");
    assert!(!deps.contains("accounts.0001_initial"), "{deps:?}");
    assert_eq!(read["from"], "migfix.toml");
    agrees("migfix.toml values");

    // migfix.toml names the settings module: its star import, then its own.
    std::fs::write(
        root.join("migfix.toml"),
        "[[chain]]\nkind = \"django\"\nsettings = \"shopsite.settings_ci\"\n",
    )
    .unwrap();
    let (_, _, err) = run(root, &["check"]);
    assert_eq!(err, "");
    let (_, read) = parents_of("shop.0001_initial");
    assert_eq!(read["from"], "shopsite/settings_ci.py:3");

    // Without a module named (manage.py, wsgi.py and asgi.py name none),
    // the two files disagree: no edge, warnings.
    std::fs::remove_file(root.join("migfix.toml")).unwrap();
    for f in ["manage.py", "shopsite/wsgi.py", "shopsite/asgi.py"] {
        std::fs::write(root.join(f), "import sys\n").unwrap();
    }
    let (_, _, err) = run(root, &["check"]);
    assert!(
        err.contains(&format!("warning: shopsite/settings.py:{line}: the settings files disagree on AUTH_USER_MODEL: \"accounts.User\" in shopsite/settings.py:{line} and \"auth.User\" in shopsite/settings_ci.py:3")),
        "{err}"
    );
    assert!(
        err.contains("`swappable_dependency(settings.AUTH_USER_MODEL)` is not resolved: the value of AUTH_USER_MODEL is unknown"),
        "{err}"
    );
    let (deps, read) = parents_of("shop.0001_initial");
    assert!(
        deps.is_empty() && read["model"].is_null(),
        "{deps:?} {read}"
    );

    // Bad configuration.
    for (toml, says) in [
        (
            "settings = \"shopsite.nowhere\"",
            "`settings`: no module shopsite.nowhere in",
        ),
        (
            "settings = { AUTH_USER_MODEL = \"User\" }",
            "`settings.AUTH_USER_MODEL`: \"User\" is not a model",
        ),
        (
            "settings = { auth_user_model = \"a.User\" }",
            "`settings.auth_user_model`: a setting's name is in capitals",
        ),
    ] {
        std::fs::write(
            root.join("migfix.toml"),
            format!("[[chain]]\nkind = \"django\"\n{toml}\n"),
        )
        .unwrap();
        let (code, _, err) = run(root, &["check"]);
        assert_eq!(code, 2, "{toml}: {err}");
        assert!(err.contains(says), "{toml}: {err}");
    }
}

fn keys_of(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// django-oauth-toolkit reads its model settings through an object of its
/// own (`swappable_dependency(oauth2_settings.APPLICATION_MODEL)`, which
/// its settings module takes from `getattr(settings,
/// "OAUTH2_PROVIDER_APPLICATION_MODEL", default)`): with the project's
/// settings naming models of another app, Django depends on that app's
/// first migration, and so does migfix.
#[test]
fn a_librarys_settings_object_is_followed() {
    let Some((dir, list)) = corpora() else { return };
    let c = list.iter().find(|c| c.name == "oauth-toolkit").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(&dir.join("oauth-toolkit"), root);
    let models = [
        ("OAUTH2_PROVIDER_APPLICATION_MODEL", "myoauth.Application"),
        ("OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL", "myoauth.AccessToken"),
        (
            "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL",
            "myoauth.RefreshToken",
        ),
    ];
    let settings: String = models
        .iter()
        .map(|(k, v)| format!("{k} = \"{v}\"\n"))
        .collect();
    write_tree(
        root,
        &[
            ("proj/settings.py", &settings),
            ("myoauth/migrations/__init__.py", ""),
            (
                "myoauth/migrations/0001_initial.py",
                "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = []\n",
            ),
        ],
    );
    let (code, out, err) = run(root, &["check"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let ours = json_of(root, &["history", "--format", "json"]);
    let revs = ours["chains"][0]["revisions"].as_array().unwrap();
    let r = revs
        .iter()
        .find(|r| r["id"] == "oauth2_provider.0019_application_registration_source")
        .unwrap();
    assert!(
        keys_of(&r["depends_on"]).contains("myoauth.0001_initial"),
        "{r}"
    );
    assert_eq!(
        r["swappable_settings"][0],
        serde_json::json!({"swappable": "oauth2_settings.APPLICATION_MODEL", "setting": "OAUTH2_PROVIDER_APPLICATION_MODEL", "model": "myoauth.Application", "from": "proj/settings.py:1"})
    );
    let mut apps = c.apps.clone();
    apps.push(("myoauth".into(), "myoauth/migrations".into()));
    let mut extra = c.extra.clone();
    for (k, v) in models {
        extra.push("--setting".into());
        extra.push(format!("{k}={v}"));
    }
    let Some(theirs) = oracle("graph", root, &apps, &extra) else {
        return;
    };
    assert!(compare("oauth-toolkit, own models", root, &theirs) > 20);
    let edges: usize = theirs["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["app"] == "oauth2_provider")
        .filter(|n| keys(&n["parents"]).contains("myoauth.0001_initial"))
        .count();
    assert!(edges >= 4, "{edges} edges to myoauth");
}

/// What `check` says of a Django project's problems that the common words
/// would have said in Alembic's terms (bases, down_revision, revisions,
/// heads): in Django's, for every finding and warning.
#[test]
fn django_findings_in_djangos_words() {
    let dir = tempfile::tempdir().unwrap();
    let root = &dir.path().join("site");
    let m = |deps: &str, initial: bool| {
        format!(
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n{}    dependencies = [{deps}]\n    operations = []\n",
            if initial { "    initial = True\n" } else { "" }
        )
    };
    write_tree(
        root,
        &[
            ("manage.py", ""),
            ("shop/migrations/__init__.py", ""),
            ("shop/migrations/0001_initial.py", &m("", true)),
            (
                "shop/migrations/0002_a.py",
                &m("('shop', '0001_initial')", false),
            ),
            ("shop/migrations/0003_b.py", &m("", true)),
            (
                "shop/migrations/0004_c.py",
                &m("('shop', '0002_a'), ('shop', '0003_b')", false),
            ),
            ("blog/migrations/__init__.py", ""),
            (
                "blog/migrations/0001_initial.py",
                &m("('blog', '0002_post')", false),
            ),
            (
                "blog/migrations/0002_post.py",
                &m("('blog', '0001_initial')", false),
            ),
            ("cart/migrations/__init__.py", ""),
            ("cart/migrations/0001_initial.py", &m("", true)),
            (
                "cart/migrations/0002_a.py",
                &m("('cart', '0001_initial'), ('shop', '0009_x')", false),
            ),
            (
                "cart/migrations/0002_b.py",
                &m("('cart', '0001_initial')", false),
            ),
        ],
    );
    let (code, out, err) = run(root, &["check"]);
    assert_eq!(code, 1);
    let (_, heads, _) = run(root, &["--chain", "cart", "heads"]);
    let (_, renumber, _) = run(root, &["renumber", "cart", "0002_b", "--dry-run"]);
    let after = renumber
        .lines()
        .filter(|l| l.starts_with("after:") || l.starts_with("not yet healthy:"))
        .collect::<Vec<_>>()
        .join("\n");
    // (The command is called merge-heads.)
    let all = format!("{out}{err}{heads}{after}").replace("merge-heads", "merge");
    for alembic in ["down_revision", "revision", "head", " base", "revise"] {
        assert!(!all.contains(alembic), "{alembic:?} in:\n{all}");
    }
    // A CI report's rule help too.
    let sarif = json_of(root, &["check", "--format", "sarif"]);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() >= 4, "{rules:?}");
    for rule in rules {
        let help = format!(
            "{} {}",
            rule["shortDescription"]["text"], rule["help"]["text"]
        )
        .to_lowercase()
        .replace("merge-heads", "merge");
        for alembic in ["alembic", "revision", "head"] {
            assert!(!help.contains(alembic), "{}: {help}", rule["id"]);
        }
    }
    let (_, github, _) = run(root, &["check", "--format", "github"]);
    assert!(
        github.contains("title=[C] conflicting migrations"),
        "{github}"
    );
    assert!(
        !github.replace("merge-heads", "merge").contains("head"),
        "{github}"
    );
    let settings = snapshot_settings(Some(root));
    settings.bind(|| {
        insta::assert_snapshot!(
            "django_findings_words",
            format!("$ migfix check\n{out}{err}$ migfix --chain cart heads\n{heads}$ migfix renumber cart 0002_b --dry-run\n…\n{after}\n")
        );
    });
}

/// A project that vendors Django (Kolibri's kolibri/dist/django) has
/// Django's own `django/db/migrations` package in its tree, whose
/// writer.py holds the text of a migration in a string: it is Django's
/// code, not an app.
#[test]
fn vendored_djangos_own_migrations_package_is_not_an_app() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_tree(
        root,
        &[
            ("vendor/django/db/migrations/__init__.py", ""),
            (
                "vendor/django/db/migrations/writer.py",
                "import django\n\nMIGRATION_TEMPLATE = \"\"\"\\\n%(migration_header)s%(imports)s\n\nclass Migration(migrations.Migration):\n%(replaces_str)s%(initial_str)s\n    dependencies = [\n%(dependencies)s\\\n    ]\n\"\"\"\n",
            ),
            ("vendor/django/db/migrations/graph.py", "class Node:\n    pass\n"),
            ("shop/migrations/__init__.py", ""),
            (
                "shop/migrations/0001_initial.py",
                "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = []\n    operations = []\n",
            ),
        ],
    );
    let (code, out, err) = run(root, &["check"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains("(1 app, exactly 1 leaf node)"), "{out}");
}

/// A project of five apps, `shop` forked (and `cart` too, with `forked`):
/// every app linear, `shop` with two leaves on `0001_initial`.
fn five_apps(forked: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let m = |deps: &str| {
        format!("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [{deps}]\n    operations = []\n")
    };
    let mut files = vec![("manage.py".to_string(), String::new())];
    for app in ["accounts", "blog", "cart", "payments", "shop"] {
        files.push((format!("{app}/migrations/__init__.py"), String::new()));
        files.push((format!("{app}/migrations/0001_initial.py"), m("")));
        let forks = app == "shop" || (forked && app == "cart");
        for name in if forks {
            &["0002_a", "0002_b"][..]
        } else {
            &["0002_a"]
        } {
            files.push((
                format!("{app}/migrations/{name}.py"),
                m(&format!("('{app}', '0001_initial')")),
            ));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_tree(dir.path(), &files);
    git_init(dir.path());
    dir
}

/// The `after:` line of a repair in a project of several apps counts the
/// apps and names only the leaf of the app it touched, with or without
/// `--chain APP`; JSON keeps `heads_after` and adds each app's leaves.
#[test]
fn after_line_counts_apps_and_names_the_touched_one() {
    let dir = five_apps(false);
    let root = dir.path();
    let after = |args: &[&str]| {
        let (code, out, err) = run(root, args);
        assert_eq!(code, 0, "{out}{err}");
        let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("after:")).collect();
        assert_eq!(lines.len(), 1, "{out}");
        lines[0].to_string()
    };
    assert_eq!(
        after(&["renumber", "shop", "0002_b", "--dry-run"]),
        "after: 5 apps, one leaf node each; shop: 0003_b"
    );
    let merged = "after: 5 apps, one leaf node each; shop: 0003_merge_0002_a_0002_b";
    assert_eq!(
        after(&["--chain", "shop", "merge-heads", "--dry-run"]),
        merged
    );
    assert_eq!(after(&["merge-heads", "--dry-run"]), merged);

    let v = json_of(
        root,
        &[
            "renumber",
            "shop",
            "0002_b",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(v["heads_after"].as_array().unwrap().len(), 5, "{v}");
    let parts = v["parts_after"].as_array().unwrap();
    let labels: Vec<&str> = parts.iter().map(|p| p["part"].as_str().unwrap()).collect();
    assert_eq!(labels, ["accounts", "blog", "cart", "payments", "shop"]);
    let shop = &parts[4];
    assert_eq!(shop["heads"], serde_json::json!(["shop.0003_b"]));
    assert_eq!(shop["touched"], true);
    assert!(
        parts[..4]
            .iter()
            .all(|p| p["touched"] == false && p["heads"].as_array().unwrap().len() == 1),
        "{v}"
    );

    // Written, the project has one leaf per app, as the line said; the
    // leaves listed are the touched app's, the others counted.
    let (code, out, err) = run(root, &["renumber", "shop", "0002_b", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    let listed = out.rsplit_once("staged:").unwrap().1;
    assert!(
        listed.ends_with("shop.0003_b (leaf node)\n(4 more apps, one leaf node each)\n"),
        "{out}"
    );
    let (code, out, _) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 apps, 5 leaf nodes, one per app"), "{out}");
}

/// An app that still has two leaves after a repair of another is named
/// with its leaves, and the repair does not count as healthy.
#[test]
fn after_line_names_an_app_still_forked() {
    let dir = five_apps(true);
    let root = dir.path();
    let (code, out, err) = run(root, &["renumber", "shop", "0002_b", "--dry-run"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.lines().any(|l| l
            == "after: 5 apps, 4 with one leaf node; cart has 2 leaf nodes (0002_a, 0002_b); shop: 0003_b"),
        "{out}"
    );
    assert!(out.contains("not yet healthy: "), "{out}");
    // The other way round: merging cart names cart, and shop's fork.
    let (code, out, err) = run(root, &["--chain", "cart", "merge-heads", "--dry-run"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.lines().any(|l| l
            == "after: 5 apps, 4 with one leaf node; shop has 2 leaf nodes (0002_a, 0002_b); cart: 0003_merge_0002_a_0002_b"),
        "{out}"
    );
}
