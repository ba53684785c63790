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
fn oracle(mode: &str, root: &Path, apps: &[(String, String)], extra: &[String]) -> Option<Value> {
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

fn their_conflicts(theirs: &Value) -> BTreeMap<String, Vec<String>> {
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

fn shop_apps() -> Vec<(String, String)> {
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
        for opt in &words[3..] {
            if let Some(settings) = opt.strip_prefix("setting=") {
                for s in settings.split(',') {
                    extra.push("--setting".to_string());
                    extra.push(s.to_string());
                }
            }
        }
        extra.push("--stub-missing-imports".into());
        out.push(Corpus {
            name: words[0].to_string(),
            apps,
            extra,
        });
    }
    Some((dir, out))
}

/// Every corpus: found and labelled by discovery as Django does, passes
/// `check` untouched, and equals Django's graph node by node.
#[test]
fn real_apps_graph_equals_djangos() {
    let Some((dir, list)) = corpora() else { return };
    assert!(list.len() >= 8);
    let mut total = 0;
    for c in &list {
        let root = dir.join(&c.name);
        let (code, out, err) = run(&root, &["check"]);
        assert_eq!(
            code, 0,
            "{}: check fails a healthy project:\n{out}\n{err}",
            c.name
        );
        let Some(theirs) = oracle("graph", &root, &c.apps, &c.extra) else {
            return;
        };
        total += compare(&c.name, &root, &theirs);
        assert!(their_conflicts(&theirs).is_empty());
    }
    assert!(total > 300, "{total} migrations compared");
}

/// A simulated incident on every corpus: two branches each add the next
/// migration of one app; `check` finds the fork and the command it prints
/// repairs it, which Django confirms. The renumber is confirmed too.
#[test]
fn real_apps_incidents_repaired() {
    let Some((dir, list)) = corpora() else { return };
    for c in &list {
        for repair in ["merge", "renumber"] {
            let tmp = tempfile::tempdir().unwrap();
            copy_tree(&dir.join(&c.name), tmp.path());
            let root = tmp.path();
            // The app with the most migrations, and its leaf.
            let theirs = oracle("graph", root, &c.apps, &c.extra).unwrap();
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

/// A renumber changes the name tokens of the references and nothing else:
/// CRLF, a byte-order mark, non-ASCII text, both quote styles, a tuple over
/// several lines with comments, and the name in comments and strings.
#[test]
fn renumber_is_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let m = "class Migration(migrations.Migration):\n";
    write_tree(
        root,
        &[
            ("manage.py", ""),
            ("shop/__init__.py", ""),
            ("shop/migrations/__init__.py", ""),
            ("shop/migrations/0001_initial.py", &format!("from django.db import migrations\n\n\n{m}    initial = True\n    dependencies = []\n    operations = []\n")),
            ("shop/migrations/0002_a.py", &format!("from django.db import migrations\n\n\n{m}    dependencies = [('shop', '0001_initial')]\n    operations = []\n")),
            ("shop/migrations/0002_b.py", &format!("from django.db import migrations\n\n\n{m}    dependencies = [(\"shop\", \"0001_initial\")]\n    operations = []\n")),
        ],
    );
    // A later migration on the renamed one, written by hand.
    let child = "\u{feff}# Ünïcode: depends on 0002_b (see 0002_b)\r\nfrom django.db import migrations\r\n\r\n\r\nclass Migration(migrations.Migration):\r\n    \"\"\"Façade for 0002_b.\"\"\"\r\n    dependencies = [\r\n        (  # the PR's parent\r\n            \"shop\",\r\n            '0002_b',  # renamed below\r\n        ),\r\n    ]\r\n    run_before: list = []\r\n    operations = [migrations.RunSQL(\"SELECT '0002_b'\", migrations.RunSQL.noop)]\r\n";
    std::fs::write(root.join("shop/migrations/0003_c.py"), child).unwrap();
    git_init(root);
    let (code, out, err) = run(
        root,
        &[
            "renumber", "shop", "0002_b", "--to", "4", "--onto", "0002_a", "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let after = std::fs::read(root.join("shop/migrations/0003_c.py")).unwrap();
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
