//! Real projects' chains (tests/oracle/corpora.txt, from PyPI wheels that
//! tests/run.sh downloads), as a new user meets them:
//!
//! 1. `check` on the untouched tree passes, as Alembic loads it, and
//!    `heads` says what `alembic heads` says.
//! 2. An incident as git history: two PR branches add a revision on the same
//!    head (in a numbered chain both claim the next number), both are merged,
//!    and a third PR branch on the old head stays open.
//! 3. main is repaired with exactly the commands `check` prints, no id given;
//!    the stale branch with `rebase`, then main is merged into it.
//! 4. Real Alembic confirms every step: one head per intended branch, its
//!    graph equal to migfix's, and `upgrade <old head>:<new head> --sql`
//!    runs the PRs' migrations. Renamed files differ only in id tokens.
//!
//! Revision files import their own project, which is not installed:
//! tests/oracle/alembic_cli.py stubs those imports for Alembic (never for
//! migfix).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::oracle;

struct Corpus {
    name: String,
    /// The corpus folder (as unpacked from the wheel).
    dir: PathBuf,
    /// The versions directory inside it.
    vdir: String,
    recursive: bool,
}

fn corpora() -> Option<Vec<Corpus>> {
    let root = oracle::corpora_dir()?;
    let list = std::fs::read_to_string(repo().join("tests/oracle/corpora.txt")).unwrap();
    Some(
        list.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                Corpus {
                    name: f[0].into(),
                    dir: root.join(f[0]),
                    vdir: f[2].into(),
                    recursive: f.get(3) == Some(&"recursive"),
                }
            })
            .collect(),
    )
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Real Alembic, with the project's own imports stubbed.
fn alembic(root: &Path, args: &[&str]) -> Result<String, String> {
    let python = std::env::var("MIGFIX_PYTHON").expect("MIGFIX_PYTHON");
    let out = Command::new(python)
        .arg(repo().join("tests/oracle/alembic_cli.py"))
        .arg("-c")
        .arg(root.join("alembic.ini"))
        .args(args)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "alembic {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn json_of(root: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(root, &all);
    let v =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("migfix {args:?}: {e}: {out}{err}"));
    (code, v)
}

/// Head ids of `alembic heads` (`id (label) (head)` lines).
fn head_ids(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// A fixed, distinct 12-hex id per name, as `alembic revision` would make.
fn hash_id(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// A file name in the chain's convention (as `migfix chains` infers it):
/// the date fields at a fixed time, a running number `number`.
fn file_name(template: &str, id: &str, slug: &str, number: u64) -> String {
    let mut name = template
        .replace("%(rev)s", id)
        .replace("%(slug)s", slug)
        .replace("%(year)d", "2026")
        .replace("%(month).2d", "11")
        .replace("%(day).2d", "30")
        .replace("%(hour).2d", "10")
        .replace("%(minute).2d", "15")
        .replace("%(second).2d", "00")
        .replace("%(epoch)d", "1796033700");
    if let Some(start) = name.find('N') {
        let width = name[start..].bytes().take_while(|b| *b == b'N').count();
        name.replace_range(start..start + width, &format!("{number:0width$}"));
    }
    format!("{name}.py")
}

fn revision_text(id: &str, down: &str, message: &str) -> String {
    format!(
        "\"\"\"{message}\n\nRevision ID: {id}\nRevises: {down}\nCreate Date: 2026-11-30 10:15:00.000000\n\n\"\"\"\n\
         from alembic import op\n\n# revision identifiers, used by Alembic.\nrevision = '{id}'\ndown_revision = '{down}'\n\
         branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"SELECT 1  -- {message} ({id})\")\n\n\n\
         def downgrade():\n    pass\n"
    )
}

/// `after` is `before` with only id tokens changed (in the constants and
/// the header; the SQL comment keeps the old id, as it is not a reference).
fn only_ids_changed(label: &str, before: &str, after: &str, ids: &BTreeSet<String>) {
    let mut ids: Vec<&String> = ids.iter().collect();
    ids.sort_by_key(|i| std::cmp::Reverse(i.len()));
    let sql = |t: &str| t.lines().find(|l| l.contains("SELECT 1")).map(String::from);
    assert_eq!(sql(before), sql(after), "{label}: the SQL keeps its text");
    let masked = |t: &str| {
        let mut t = t.to_string();
        for id in &ids {
            t = t.replace(id.as_str(), "\u{1}");
        }
        t
    };
    assert_eq!(
        masked(before),
        masked(after),
        "{label}: only ids change:\n{before}\n---\n{after}"
    );
}

/// Finds the one file below `dir` whose text contains `needle`.
fn file_with(dir: &Path, needle: &str) -> PathBuf {
    let hits: Vec<PathBuf> = tree_bytes(dir)
        .into_iter()
        .filter(|(p, b)| {
            p.extension().is_some_and(|e| e == "py") && String::from_utf8_lossy(b).contains(needle)
        })
        .map(|(p, _)| dir.join(p))
        .collect();
    assert_eq!(hits.len(), 1, "one file holds {needle:?}: {hits:?}");
    hits.into_iter().next().unwrap()
}

/// Runs `check` and then each command it prints (failures first, then the
/// naming warnings about the given files), until it passes. Returns the
/// commands run.
fn repair_as_check_says(label: &str, root: &Path, ours: &[&str]) -> Vec<String> {
    let mut ran = Vec::new();
    for _ in 0..6 {
        let (code, v) = json_of(root, &["check"]);
        let failing = v["findings"].as_array().unwrap();
        let command = if code == 0 {
            // A naming warning about one of the PRs' files, with its fix.
            v["warnings"].as_array().unwrap().iter().find_map(|w| {
                let m = w["message"].as_str()?;
                let file = w["file"].as_str()?;
                (ours.iter().any(|o| file.contains(o)) && m.contains("; run: migfix "))
                    .then(|| m.split("; run: ").nth(1).unwrap().to_string())
            })
        } else {
            let f = &failing[0];
            Some(
                f["command"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{label}: a finding without a command: {f}"))
                    .to_string(),
            )
        };
        let Some(command) = command else { return ran };
        let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
        args.push("--yes");
        let (code, out, err) = run(root, &args);
        assert_eq!(code, 0, "{label}: `{command}` failed:\n{out}{err}");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", &format!("migfix: {command}")]);
        ran.push(command);
    }
    panic!("{label}: still failing after {ran:?}");
}

/// Head-tracking files (`EXPAND_HEAD`, `HEAD`) name current heads.
fn head_files_follow(label: &str, root: &Path, vdir: &str, heads: &BTreeSet<String>) {
    for e in std::fs::read_dir(root.join(vdir)).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_lowercase();
        if name.contains("head") && !name.ends_with(".py") && e.path().is_file() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            if !text.trim().is_empty() && !text.trim().contains(char::is_whitespace) {
                assert!(
                    heads.contains(text.trim()),
                    "{label}: {name} says {text:?}, heads are {heads:?}"
                );
            }
        }
    }
}

fn trial(c: &Corpus) {
    let label = c.name.as_str();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    copy_tree(&c.dir, &root);
    // Our own env.py: offline SQL only; the project's own imports its package.
    let env = root.join("migfix_oracle_env");
    std::fs::create_dir_all(&env).unwrap();
    std::fs::write(
        env.join("env.py"),
        "from alembic import context\n\ncontext.configure(url='postgresql://oracle@localhost/oracle', literal_binds=True, \
         dialect_opts={'paramstyle': 'named'})\nwith context.begin_transaction():\n    context.run_migrations()\n",
    )
    .unwrap();
    std::fs::write(
        root.join("alembic.ini"),
        format!(
            "[alembic]\nscript_location = %(here)s/migfix_oracle_env\nversion_locations = %(here)s/{}\npath_separator = os\n\
             recursive_version_locations = {}\n",
            c.vdir, c.recursive
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("migfix.toml"),
        format!("[[chain]]\nname = \"{label}\"\nconfig = \"alembic.ini\"\n"),
    )
    .unwrap();

    // 1. The untouched tree.
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(
        code, 0,
        "{label}: check fails the untouched tree:\n{out}{err}"
    );
    let alembic_heads = alembic(&root, &["heads"]).unwrap();
    let (_, ours) = json_of(&root, &["heads"]);
    let our_heads: BTreeSet<String> = ours["chains"][0]["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert_eq!(our_heads, head_ids(&alembic_heads), "{label}: heads");
    let labels_known = ours["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| !w["message"].as_str().unwrap().contains("branch_labels"));
    if labels_known {
        assert_eq!(
            run(&root, &["heads"]).1,
            alembic_heads,
            "{label}: `heads` prints what `alembic heads` prints"
        );
    }
    let intended = our_heads.len();

    // 2. The incident.
    let (_, chains) = json_of(&root, &["chains"]);
    let chain = &chains["chains"][0];
    let scheme = chain["scheme"]["kind"].as_str().unwrap().to_string();
    let template = chain["files"]["template"].as_str().unwrap().to_string();
    let width = chain["scheme"]["width"].as_u64().unwrap_or(4) as usize;
    eprintln!(
        "{label}: {} revisions, {scheme} ids, files {template}, {intended} head(s)",
        chain["count"]
    );
    let heads = ours["chains"][0]["revisions"].as_array().unwrap();
    let base_head = &heads[0];
    let old_head = base_head["id"].as_str().unwrap().to_string();
    let folder = root
        .join(base_head["path"].as_str().unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    let numbered = scheme == "sequential" || scheme == "mixed";
    let next_number = |ids: &[&str]| -> String {
        let max = ids
            .iter()
            .filter(|i| i.len() < 8 && i.bytes().all(|b| b.is_ascii_digit()))
            .filter_map(|i| i.parse::<u64>().ok())
            .max()
            .unwrap();
        format!("{:0width$}", max + 1)
    };
    let (_, history) = json_of(&root, &["history"]);
    let all_ids: Vec<String> = history["chains"][0]["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let id_refs: Vec<&str> = all_ids.iter().map(String::as_str).collect();
    let file_number = tree_bytes(&root.join(&c.vdir))
        .keys()
        .filter_map(|p| {
            let n = p.file_name()?.to_str()?;
            let d: String = n.chars().take_while(char::is_ascii_digit).collect();
            (!d.is_empty() && d.len() < 8)
                .then(|| d.parse::<u64>().ok())
                .flatten()
        })
        .max()
        .unwrap_or(0)
        + 1;
    let pr = |tag: &str| {
        let id = if numbered {
            next_number(&id_refs)
        } else {
            hash_id(&format!("{label}-{tag}"))
        };
        let slug = format!("{tag}_add_{tag}_widgets");
        let name = file_name(&template, &id, &slug, file_number);
        let message = format!("{tag} add {tag} widgets");
        (id, folder.join(name), message)
    };
    let (a_id, a_path, a_msg) = pr("pra");
    let (b_id, b_path, b_msg) = pr("prb");
    let (c_id, c_path, c_msg) = pr("prc");
    let _repo = git_init(&root);
    for (branch, id, path, msg) in [
        ("pr-a", &a_id, &a_path, &a_msg),
        ("pr-b", &b_id, &b_path, &b_msg),
        ("pr-c", &c_id, &c_path, &c_msg),
    ] {
        git(&root, &["checkout", "-qb", branch, "main"]);
        std::fs::write(path, revision_text(id, &old_head, msg)).unwrap();
        git(&root, &["add", "-A"]);
        git(&root, &["commit", "-qm", branch]);
    }
    git(&root, &["checkout", "-q", "main"]);
    git(
        &root,
        &["merge", "-q", "--no-ff", "pr-a", "-m", "merge pr-a"],
    );
    git(
        &root,
        &["merge", "-q", "--no-ff", "pr-b", "-m", "merge pr-b"],
    );
    let before_a = revision_text(&a_id, &old_head, &a_msg);
    let before_b = revision_text(&b_id, &old_head, &b_msg);

    // 3. main, repaired as check says.
    let (code, out, _) = run(&root, &["check"]);
    assert_eq!(code, 1, "{label}: the incident must fail check:\n{out}");
    let ran = repair_as_check_says(label, &root, &["pra_add", "prb_add"]);
    assert!(!ran.is_empty(), "{label}: nothing was run");
    eprintln!("{label}: repaired with {ran:?}");

    // 4. Alembic's word.
    let heads_after = head_ids(&alembic(&root, &["heads"]).unwrap());
    assert_eq!(
        heads_after.len(),
        intended,
        "{label}: one head per intended branch: {heads_after:?}"
    );
    assert!(
        !heads_after.contains(&old_head),
        "{label}: {old_head} is still a head"
    );
    let new_head = {
        let (_, h) = json_of(&root, &["heads"]);
        let ids: BTreeSet<String> = h["chains"][0]["heads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            ids, heads_after,
            "{label}: migfix and Alembic agree on the heads"
        );
        ids.difference(&our_heads)
            .next()
            .cloned()
            .unwrap_or_else(|| panic!("{label}: no new head in {ids:?}"))
    };
    let sql = alembic(
        &root,
        &["upgrade", &format!("{old_head}:{new_head}"), "--sql"],
    )
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    for m in [&a_msg, &b_msg] {
        assert!(
            sql.contains(m.as_str()),
            "{label}: upgrade {old_head}:{new_head} runs {m}:\n{sql}"
        );
    }
    oracle::compare_with_alembic(label, &root);
    head_files_follow(label, &root, &c.vdir, &heads_after);
    let ids_now: BTreeSet<String> = {
        let (_, h) = json_of(&root, &["history"]);
        h["chains"][0]["revisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all: BTreeSet<String> = ids_now
        .iter()
        .cloned()
        .chain(all_ids.iter().cloned())
        .chain([a_id.clone(), b_id.clone()])
        .collect();
    for (before, msg) in [(&before_a, &a_msg), (&before_b, &b_msg)] {
        let now = std::fs::read_to_string(file_with(&folder, &format!("\"\"\"{msg}\n"))).unwrap();
        only_ids_changed(label, before, &now, &all);
    }

    // The stale branch: rebased onto main, then main merged in.
    git(&root, &["checkout", "-q", "pr-c"]);
    let (code, out, err) = run(&root, &["rebase", "--base", "main", "--yes"]);
    assert_eq!(code, 0, "{label}: rebase:\n{out}{err}");
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "rebase migrations"]);
    git(&root, &["merge", "-q", "main", "-m", "merge main"]);
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(
        code, 0,
        "{label}: check after rebase and merge:\n{out}{err}"
    );
    let heads_final = head_ids(&alembic(&root, &["heads"]).unwrap());
    assert_eq!(
        heads_final.len(),
        intended,
        "{label}: after the rebase: {heads_final:?}"
    );
    let last = heads_final.difference(&our_heads).next().cloned().unwrap();
    let sql = alembic(&root, &["upgrade", &format!("{old_head}:{last}"), "--sql"])
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(
        sql.contains(c_msg.as_str()),
        "{label}: the rebased PR runs:\n{sql}"
    );
    oracle::compare_with_alembic(label, &root);
    let now = std::fs::read_to_string(file_with(&folder, &format!("\"\"\"{c_msg}\n"))).unwrap();
    let all: BTreeSet<String> = all
        .into_iter()
        .chain(heads_final)
        .chain([c_id.clone()])
        .collect();
    only_ids_changed(label, &revision_text(&c_id, &old_head, &c_msg), &now, &all);
    if !numbered {
        assert!(
            now.contains(&format!("revision = '{c_id}'")),
            "{label}: a hash id keeps its id in a rebase:\n{now}"
        );
    }
}

#[test]
fn real_projects_check_clean_and_repair_incidents() {
    let Some(list) = corpora() else { return };
    if oracle::alembic_bin().is_none() {
        return;
    }
    let failures = two_at_a_time(&list, |c| c.name.clone(), trial);
    assert!(
        failures.is_empty(),
        "{} of {} projects failed:\n{}",
        failures.len(),
        list.len(),
        failures.join("\n\n")
    );
    assert!(
        list.len() >= 15,
        "at least 15 real projects, found {}",
        list.len()
    );
}
