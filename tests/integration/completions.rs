//! Dynamic completion in a real bash: `source <(COMPLETE=bash migfix)`,
//! then what the shell offers for `migfix renumber 01<TAB>`, `--chain`,
//! `--onto`, a Django app's migrations, and a `-C` typed on the line.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::*;

/// What bash offers for the last word of `words` (as if TAB were pressed
/// after it), run in `dir`.
fn offered(dir: &Path, words: &[&str]) -> BTreeSet<String> {
    let script = r#"
source <(COMPLETE=bash migfix) || exit 3
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
_clap_complete_migfix migfix "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let bin = Path::new(env!("CARGO_BIN_EXE_migfix")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .args(["-c", script, "bash"])
        .args(words)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{words:?}: {}", stderr(&o));
    stdout(&o)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The ids of every revision of the tree, as `history` lists them.
fn ids(dir: &Path) -> BTreeSet<String> {
    let o = migfix(dir, &["history", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["revisions"].as_array().unwrap().clone())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// A copy of the fixture `name`, a git repository of its own.
fn in_git(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    git_init(dir.path());
    dir
}

#[test]
fn renumber_completes_the_fixtures_revision_ids() {
    let dir = in_git("incident-2026-06-05");
    let got = offered(dir.path(), &["migfix", "renumber", "01"]);
    let want: BTreeSet<String> = ids(dir.path())
        .into_iter()
        .filter(|i| i.starts_with("01"))
        .collect();
    assert!(want.contains("0144") && want.contains("0148"), "{want:?}");
    assert_eq!(got, want);
    // --onto too, and a prefix nothing has: nothing (bash then offers files).
    assert_eq!(
        offered(
            dir.path(),
            &["migfix", "renumber", "0148", "--onto", "0146"]
        ),
        BTreeSet::from(["0146".to_string()])
    );
    assert!(offered(dir.path(), &["migfix", "renumber", "zz"]).is_empty());

    // --chain: the chains' names.
    let got = offered(dir.path(), &["migfix", "--chain", ""]);
    assert!(got.contains("console/migrations"), "{got:?}");
    assert!(got.contains("queue/migrations/sqitch"), "{got:?}");
    // --chain narrows what renumber offers.
    let got = offered(
        dir.path(),
        &["migfix", "--chain", "console/migrations", "renumber", "0"],
    );
    assert!(got.iter().all(|i| i.len() == 4), "{got:?}");

    // From elsewhere, with -C on the line.
    let elsewhere = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let got = offered(elsewhere.path(), &["migfix", "-C", root, "renumber", "014"]);
    assert!(got.contains("0146"), "{got:?}");
}

#[test]
fn django_apps_and_their_migrations() {
    let dir = in_git("django-shop");
    let got = offered(dir.path(), &["migfix", "renumber", "sh"]);
    assert!(got.contains("shop"), "{got:?}");
    assert!(got.contains("shop.0005_product_weight"), "{got:?}");
    let got = offered(dir.path(), &["migfix", "renumber", "shop", "0005"]);
    assert_eq!(
        got,
        BTreeSet::from(["0005_product_discount", "0005_product_weight"].map(String::from))
    );
    let got = offered(dir.path(), &["migfix", "--chain", "pay"]);
    assert_eq!(got, BTreeSet::from(["payments".to_string()]));
}

#[test]
fn an_unreadable_tree_completes_nothing_and_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("migfix.toml", "not toml [")]);
    assert!(offered(dir.path(), &["migfix", "renumber", "0"]).is_empty());
}
