//! `migfix renumber` in chains whose files follow more than one naming, as
//! Apache Superset's, Apache Airflow's and Indico's do: no file name,
//! header or head file is left carrying the old id, the index holds the
//! whole repair, and real Alembic reads the result as migfix does.

use std::path::Path;

use crate::common::*;

const ASF: &str = "# Licensed to the Apache Software Foundation (ASF) under one\n# or more contributor license agreements.  See the NOTICE file\n# distributed with this work for additional information.\n";

fn repr(down: &[&str], quote: char) -> String {
    match down {
        [] => "None".into(),
        [one] => format!("{quote}{one}{quote}"),
        many => format!(
            "({})",
            many.iter()
                .map(|d| format!("{quote}{d}{quote}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A revision as Superset's template writes it: the license, the
/// docstring, the ids, then the imports.
fn superset_rev(title: &str, id: &str, down: &[&str], date: &str) -> String {
    let revises = if down.is_empty() {
        "None".to_string()
    } else {
        down.join(", ")
    };
    format!(
        "{ASF}\"\"\"{title}\n\nRevision ID: {id}\nRevises: {revises}\nCreate Date: {date}\n\n\"\"\"\n\n# revision identifiers, used by Alembic.\nrevision = \"{id}\"\ndown_revision = {}\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
        repr(down, '"')
    )
}

/// A revision as Airflow's template writes it, `airflow_version` once its
/// pre-commit hook has run.
fn airflow_rev(title: &str, id: &str, down: Option<&str>, version: Option<&str>) -> String {
    let revises = down.unwrap_or("");
    let down = down.map_or("None".to_string(), |d| format!("\"{d}\""));
    let version = version
        .map(|v| format!("airflow_version = \"{v}\"\n"))
        .unwrap_or_default();
    format!(
        "{ASF}\n\"\"\"\n{title}\n\nRevision ID: {id}\nRevises: {revises}\nCreate Date: 2024-11-02 10:00:00.000000\n\n\"\"\"\n\nfrom __future__ import annotations\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n# revision identifiers, used by Alembic.\nrevision = \"{id}\"\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n{version}\n\ndef upgrade():\n    \"\"\"Apply {title}\"\"\"\n    pass\n\n\ndef downgrade():\n    \"\"\"Unapply {title}\"\"\"\n    pass\n"
    )
}

/// A revision as Indico's template writes it.
fn indico_rev(title: &str, id: &str, down: &[&str], date: &str) -> String {
    format!(
        "\"\"\"{title}\n\nRevision ID: {id}\nRevises: {}\nCreate Date: {date}\n\"\"\"\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n\n# revision identifiers, used by Alembic.\nrevision = {}\ndown_revision = {}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
        down.join(", "),
        repr(&[id], '\''),
        repr(down, '\'')
    )
}

/// `files` below a fresh directory, committed on `main`.
fn project(files: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_tree(dir.path(), &refs);
    git_init(dir.path());
    dir
}

/// `renumber ARGS --yes`, ending with `code` (1 where the chain is still
/// unhealthy); the new id it gave, and what it said.
fn renumber(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let mut all = vec!["renumber"];
    all.extend_from_slice(args);
    all.push("--yes");
    let (got, out, err) = run(dir, &all);
    assert_eq!(got, code, "{out}{err}");
    let title = out
        .lines()
        .find(|l| l.starts_with("renumber "))
        .unwrap_or_else(|| panic!("no title: {out}"));
    let new = title
        .split(" -> ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    (new.to_string(), out)
}

/// Every change staged, none left in the work tree: `git status` lines.
fn staged(dir: &Path) -> Vec<String> {
    let status = git(dir, &["status", "--porcelain", "--untracked-files=all"]);
    let mut lines: Vec<String> = status.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The versions folder's file names.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py") && n != "__init__.py")
        .collect();
    out.sort();
    out
}

/// Alembic's graph of the chain configured by `ini` (Flask-Migrate's
/// `script_location` given as it sets it), compared with migfix's; its
/// heads. `None` without the oracle.
fn alembic_agrees(root: &Path, ini: &str, location: Option<&str>) -> Option<Vec<String>> {
    let ini = root.join(ini);
    let mut args = vec!["--ini".to_string(), ini.to_str().unwrap().to_string()];
    if let Some(l) = location {
        args.extend([
            "--script-location".into(),
            root.join(l).display().to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let theirs = crate::oracle::alembic_graph(&args, ini.parent().unwrap())?;
    let ours = crate::oracle::history(root, &["-C", "."]);
    crate::oracle::compare("renumbered", root, &ours["chains"][0], &theirs);
    let heads = theirs["heads"].as_array().unwrap();
    Some(heads.iter().map(|h| h.as_str().unwrap().into()).collect())
}

fn superset() -> tempfile::TempDir {
    let v = "superset/migrations/versions";
    let f = |name: &str, text: String| (format!("{v}/{name}"), text);
    project(&[
        (
            "superset/migrations/alembic.ini".into(),
            format!("{ASF}\n[alembic]\n# template used to generate migration files\nfile_template = %%(year)d-%%(month).2d-%%(day).2d_%%(hour).2d-%%(minute).2d_%%(rev)s_%%(slug)s\n"),
        ),
        ("superset/migrations/env.py".into(), "from alembic import context\n".into()),
        ("superset/migrations/script.py.mako".into(), String::new()),
        f("4e6a06bad7a8_init.py", superset_rev("Init", "4e6a06bad7a8", &[], "2015-09-21 17:30:38.442998")),
        f("5a7bad26f2a7_.py", superset_rev("empty message", "5a7bad26f2a7", &["4e6a06bad7a8"], "2015-10-05 10:32:15.850753")),
        f("55e910a74826_add_metadata_column_to_annotation_model.py", superset_rev("add_metadata_column_to_annotation_model.py", "55e910a74826", &["5a7bad26f2a7"], "2018-08-29 14:35:20.407743")),
        f("65b2ee6b0b1d_add_perm_to_datasources.py", superset_rev("add perm to datasources", "65b2ee6b0b1d", &["5a7bad26f2a7"], "2018-09-03 09:15:02.118463")),
        // A merge named after its parents' first six digits, as Superset's are.
        f("0cf47cfa673f_merge_55e910_and_65b2ee.py", superset_rev("merge 55e910 and 65b2ee", "0cf47cfa673f", &["55e910a74826", "65b2ee6b0b1d"], "2018-09-10 11:28:16.165287")),
        // The dated names begin with the file_template.
        f("2021-02-14_11-46_1412ec1e5a7b_legacy_force_directed_to_echart.py", superset_rev("legacy force directed to echart", "1412ec1e5a7b", &["0cf47cfa673f"], "2021-02-14 11:46:02.379832")),
        // A branch's revision from before the template, rebased onto main.
        f("6f5e4d3c2b1a_pr_b_gadgets.py", superset_rev("pr b gadgets", "6f5e4d3c2b1a", &["0cf47cfa673f"], "2021-01-20 09:12:44.000000")),
    ])
}

#[test]
fn superset_a_fresh_id_renames_an_old_style_file() {
    let dir = superset();
    let root = dir.path();
    let versions = root.join("superset/migrations/versions");
    let (new, out) = renumber(root, &["6f5e4d3c2b1a"], 0);
    assert_ne!(new, "6f5e4d3c2b1a");
    assert!(
        new.len() == 12 && new.bytes().all(|b| b.is_ascii_hexdigit()),
        "{new}"
    );
    assert!(
        out.contains("onto 1412ec1e5a7b (was 0cf47cfa673f)"),
        "{out}"
    );
    let moved = format!("{new}_pr_b_gadgets.py");
    let mut expect = vec![
        "0cf47cfa673f_merge_55e910_and_65b2ee.py".to_string(),
        "2021-02-14_11-46_1412ec1e5a7b_legacy_force_directed_to_echart.py".into(),
        "4e6a06bad7a8_init.py".into(),
        "55e910a74826_add_metadata_column_to_annotation_model.py".into(),
        "5a7bad26f2a7_.py".into(),
        "65b2ee6b0b1d_add_perm_to_datasources.py".into(),
        moved.clone(),
    ];
    expect.sort();
    assert_eq!(names(&versions), expect);
    assert_eq!(
        std::fs::read_to_string(versions.join(&moved)).unwrap(),
        superset_rev(
            "pr b gadgets",
            &new,
            &["1412ec1e5a7b"],
            "2021-01-20 09:12:44.000000"
        )
    );
    assert_eq!(
        staged(root),
        [format!(
            "R  superset/migrations/versions/6f5e4d3c2b1a_pr_b_gadgets.py -> superset/migrations/versions/{moved}"
        )]
    );
    if let Some(heads) = alembic_agrees(
        root,
        "superset/migrations/alembic.ini",
        Some("superset/migrations"),
    ) {
        assert_eq!(heads, [new]);
    }
}

#[test]
fn superset_to_renames_a_parent_and_not_a_merge_named_by_prefix() {
    let dir = superset();
    let root = dir.path();
    let versions = root.join("superset/migrations/versions");
    // Written; the fork of the two heads is still there.
    let (_, out) = renumber(root, &["55e910a74826", "--to", "9a1b2c3d4e5f"], 1);
    assert!(out.contains("not yet healthy"), "{out}");
    let renamed = "9a1b2c3d4e5f_add_metadata_column_to_annotation_model.py";
    assert!(versions.join(renamed).is_file());
    // `55e910` is a prefix, not the id: the merge keeps its name and
    // follows in its tuple and its Revises: line.
    let merge = "0cf47cfa673f_merge_55e910_and_65b2ee.py";
    assert_eq!(
        std::fs::read_to_string(versions.join(merge)).unwrap(),
        superset_rev(
            "merge 55e910 and 65b2ee",
            "0cf47cfa673f",
            &["9a1b2c3d4e5f", "65b2ee6b0b1d"],
            "2018-09-10 11:28:16.165287"
        )
    );
    assert_eq!(
        staged(root),
        [
            format!("M  superset/migrations/versions/{merge}"),
            format!("R  superset/migrations/versions/55e910a74826_add_metadata_column_to_annotation_model.py -> superset/migrations/versions/{renamed}"),
        ]
    );
    if let Some(mut heads) = alembic_agrees(
        root,
        "superset/migrations/alembic.ini",
        Some("superset/migrations"),
    ) {
        heads.sort();
        assert_eq!(heads, ["1412ec1e5a7b", "6f5e4d3c2b1a"]);
    }
}

/// Airflow names files `NNNN_<version>_<slug>.py`, the id only inside;
/// `alembic revision` gives a new one `<rev>_<slug>.py` until the
/// pre-commit hook renames it.
fn airflow() -> tempfile::TempDir {
    let m = "airflow/migrations";
    let f = |name: &str, text: String| (format!("{m}/versions/{name}"), text);
    project(&[
        (
            "airflow/alembic.ini".into(),
            format!("{ASF}\n[alembic]\n# path to migration scripts\nscript_location = migrations\n\n# template used to generate migration files\n# file_template = %%(rev)s_%%(slug)s\n"),
        ),
        (format!("{m}/__init__.py"), ASF.into()),
        (format!("{m}/env.py"), "from alembic import context\n".into()),
        (format!("{m}/script.py.mako"), String::new()),
        (format!("{m}/versions/__init__.py"), ASF.into()),
        f("0149_2_10_0_add_try_number_to_audit_log.py", airflow_rev("Add try_number to audit log.", "41b3bc7c0272", None, Some("2.10.0"))),
        f("0150_2_10_0_dataset_alias_dataset.py", airflow_rev("Add dataset_alias_dataset association table.", "8684e37832e6", Some("41b3bc7c0272"), Some("2.10.0"))),
        f("0151_2_10_0_dag_schedule_dataset_alias_reference.py", airflow_rev("Add dag_schedule_dataset_alias_reference table.", "22ed7efa9da2", Some("8684e37832e6"), Some("2.10.0"))),
        f("0152_2_10_3_fix_dag_schedule_dataset_alias_reference_naming.py", airflow_rev("Rename dag_schedule_dataset_alias_reference constraint names.", "5f2621c13b39", Some("22ed7efa9da2"), Some("2.10.3"))),
        f("0153_3_0_0_add_widgets.py", airflow_rev("Add widgets.", "0d9e8f7a6b5c", Some("5f2621c13b39"), Some("3.0.0"))),
        f("6f5e4d3c2b1a_pr_b_gadgets.py", airflow_rev("PR B gadgets.", "6f5e4d3c2b1a", Some("5f2621c13b39"), None)),
    ])
}

#[test]
fn airflow_to_renames_a_file_the_hook_has_not_numbered() {
    let dir = airflow();
    let root = dir.path();
    let versions = root.join("airflow/migrations/versions");
    let (code, chains, _) = run(root, &["chains"]);
    assert_eq!(code, 0);
    assert!(
        chains.contains("files NNNN_%(slug)s (inferred)"),
        "{chains}"
    );
    let (_, out) = renumber(root, &["6f5e4d3c2b1a", "--to", "86d38b77abf0"], 0);
    assert!(
        out.contains("onto 0d9e8f7a6b5c (was 5f2621c13b39)"),
        "{out}"
    );
    assert_eq!(
        names(&versions),
        [
            "0149_2_10_0_add_try_number_to_audit_log.py",
            "0150_2_10_0_dataset_alias_dataset.py",
            "0151_2_10_0_dag_schedule_dataset_alias_reference.py",
            "0152_2_10_3_fix_dag_schedule_dataset_alias_reference_naming.py",
            "0153_3_0_0_add_widgets.py",
            "86d38b77abf0_pr_b_gadgets.py",
        ]
    );
    let text = std::fs::read_to_string(versions.join("86d38b77abf0_pr_b_gadgets.py")).unwrap();
    assert_eq!(
        text,
        airflow_rev("PR B gadgets.", "86d38b77abf0", Some("0d9e8f7a6b5c"), None)
    );
    assert_eq!(
        staged(root),
        ["R  airflow/migrations/versions/6f5e4d3c2b1a_pr_b_gadgets.py -> airflow/migrations/versions/86d38b77abf0_pr_b_gadgets.py"]
    );
    if let Some(heads) = alembic_agrees(root, "airflow/alembic.ini", None) {
        assert_eq!(heads, ["86d38b77abf0"]);
    }
}

fn indico(extra: &[(String, String)]) -> tempfile::TempDir {
    let m = "indico/migrations";
    let f = |name: &str, text: String| (format!("{m}/versions/{name}"), text);
    let mut files = vec![
        (
            format!("{m}/alembic.ini"),
            "[alembic]\nfile_template = %%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s\n".to_string(),
        ),
        (format!("{m}/env.py"), "from alembic import context\n".into()),
        (format!("{m}/script.py.mako"), String::new()),
        f("20230131_1254_7551bd141960_fix_purged_accommodation_fields.py", indico_rev("Fix purged accommodation fields", "7551bd141960", &[], "2023-01-31 12:54:46.328727")),
        f("20230209_1214_5d05eda06776_add_undone_state_to_editing_revisions.py", indico_rev("Add undone state to editing revisions", "5d05eda06776", &["7551bd141960"], "2023-02-09 12:14:55.539279")),
        f("20230712_1742_9b3fc740b722_fix_user_name_format_values.py", indico_rev("Fix user name format values", "9b3fc740b722", &["7551bd141960"], "2023-07-12 17:42:09.441206")),
        // `alembic merge -m "merge 5d05eda06776 and 9b3fc740b722"`.
        f("20230715_0910_aa11bb22cc33_merge_5d05eda06776_and_9b3fc740b722.py", indico_rev("merge 5d05eda06776 and 9b3fc740b722", "aa11bb22cc33", &["5d05eda06776", "9b3fc740b722"], "2023-07-15 09:10:00.000000")),
    ];
    files.extend_from_slice(extra);
    project(&files)
}

#[test]
fn indico_a_fresh_id_renames_the_file_and_the_merge_named_after_it() {
    let dir = indico(&[]);
    let root = dir.path();
    let versions = root.join("indico/migrations/versions");
    let (new, out) = renumber(root, &["9b3fc740b722"], 0);
    assert!(out.contains("1 follows it: aa11bb22cc33"), "{out}");
    let moved = format!("20230712_1742_{new}_fix_user_name_format_values.py");
    let merge = format!("20230715_0910_aa11bb22cc33_merge_5d05eda06776_and_{new}.py");
    assert_eq!(
        names(&versions),
        [
            "20230131_1254_7551bd141960_fix_purged_accommodation_fields.py",
            "20230209_1214_5d05eda06776_add_undone_state_to_editing_revisions.py",
            &moved,
            &merge,
        ]
    );
    // The title is the message it was made with; the ids and the header follow.
    assert_eq!(
        std::fs::read_to_string(versions.join(&merge)).unwrap(),
        indico_rev(
            "merge 5d05eda06776 and 9b3fc740b722",
            "aa11bb22cc33",
            &["5d05eda06776", &new],
            "2023-07-15 09:10:00.000000"
        )
    );
    let v = "indico/migrations/versions";
    assert_eq!(
        staged(root),
        [
            format!("R  {v}/20230712_1742_9b3fc740b722_fix_user_name_format_values.py -> {v}/{moved}"),
            format!("R  {v}/20230715_0910_aa11bb22cc33_merge_5d05eda06776_and_9b3fc740b722.py -> {v}/{merge}"),
        ]
    );
    let (code, out, err) = run(root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    if let Some(heads) = alembic_agrees(
        root,
        "indico/migrations/alembic.ini",
        Some("indico/migrations"),
    ) {
        assert_eq!(heads, ["aa11bb22cc33"]);
    }
}

/// A file copied by hand kept the docstring of the one it was copied from:
/// its `Revision ID:` line would name an id that is gone. The repair says
/// which file and what to write there, and writes nothing unless forced.
#[test]
fn a_header_left_naming_the_old_id_refuses_the_repair() {
    let copy = indico_rev(
        "Add event series title pattern",
        "b45847c0e62f",
        &["aa11bb22cc33"],
        "2023-07-19 16:16:57.538875",
    )
    .replace("Revision ID: b45847c0e62f", "Revision ID: 9b3fc740b722");
    let dir = indico(&[(
        "indico/migrations/versions/20230719_1616_b45847c0e62f_add_event_series_title_pattern.py"
            .into(),
        copy,
    )]);
    let root = dir.path();
    let before = tree_bytes(root);
    let (code, out, err) = run(
        root,
        &["renumber", "9b3fc740b722", "--to", "0a1b2c3d4e5f", "--yes"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let file =
        "indico/migrations/versions/20230719_1616_b45847c0e62f_add_event_series_title_pattern.py";
    assert!(
        err.contains(&format!(
            "{file}: its Revision ID: line still says 9b3fc740b722: change it to b45847c0e62f"
        )),
        "{err}"
    );
    assert!(
        err.contains("nothing was written") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(tree_bytes(root), before);
    assert!(staged(root).is_empty());
    // Forced, it writes, and the rest of the repair is whole.
    let (code, out, err) = run(
        root,
        &[
            "renumber",
            "9b3fc740b722",
            "--to",
            "0a1b2c3d4e5f",
            "--yes",
            "--force",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let v = root.join("indico/migrations/versions");
    assert!(v
        .join("20230712_1742_0a1b2c3d4e5f_fix_user_name_format_values.py")
        .is_file());
    assert!(v
        .join("20230715_0910_aa11bb22cc33_merge_5d05eda06776_and_0a1b2c3d4e5f.py")
        .is_file());
}

/// A name the rename cannot edit (its id after a byte that is not UTF-8)
/// would keep the old id: the repair says so and writes nothing.
#[test]
fn a_name_left_carrying_the_old_id_refuses_the_repair() {
    use std::os::unix::ffi::OsStrExt;
    let dir = superset();
    let root = dir.path();
    let versions = root.join("superset/migrations/versions");
    std::fs::rename(
        versions.join("6f5e4d3c2b1a_pr_b_gadgets.py"),
        versions.join(std::ffi::OsStr::from_bytes(
            b"caf\xe9_6f5e4d3c2b1a_pr_b_gadgets.py",
        )),
    )
    .unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "latin-1"]);
    let before = tree_bytes(root);
    let (code, out, err) = run(
        root,
        &["renumber", "6f5e4d3c2b1a", "--to", "86d38b77abf0", "--yes"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("superset/migrations/versions/caf\u{FFFD}_6f5e4d3c2b1a_pr_b_gadgets.py: its name still carries 6f5e4d3c2b1a, now 86d38b77abf0: rename it to carry 86d38b77abf0"),
        "{err}"
    );
    assert!(
        err.contains("nothing was written") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(tree_bytes(root), before);
    assert!(staged(root).is_empty());
}

/// A head file whose revision has two heads below it (two PRs on the
/// expand head) keeps that revision, under its new id.
#[test]
fn a_head_file_follows_a_renumbered_revision_with_a_fork_below() {
    let dir = crate::merge_heads::expand_contract(&[
        ("aaaaaaaaaaa1", "b4f8b3f584e0"),
        ("bbbbbbbbbbb2", "b4f8b3f584e0"),
    ]);
    let root = dir.path();
    let (_, out) = renumber(root, &["b4f8b3f584e0", "--to", "c0ffee000001"], 1);
    assert!(
        out.contains("migrations/versions/EXPAND_HEAD now names c0ffee000001 (was b4f8b3f584e0)"),
        "{out}"
    );
    let v = root.join("migrations/versions");
    assert_eq!(
        std::fs::read_to_string(v.join("EXPAND_HEAD")).unwrap(),
        "c0ffee000001\n"
    );
    assert_eq!(
        std::fs::read_to_string(v.join("CONTRACT_HEAD")).unwrap(),
        "e25ffa003242\n"
    );
    assert!(v.join("expand/c0ffee000001_expand_more.py").is_file());
    assert_eq!(
        staged(root),
        [
            "M  migrations/versions/EXPAND_HEAD",
            "M  migrations/versions/expand/aaaaaaaaaaa1_pr.py",
            "M  migrations/versions/expand/bbbbbbbbbbb2_pr.py",
            "R  migrations/versions/expand/b4f8b3f584e0_expand_more.py -> migrations/versions/expand/c0ffee000001_expand_more.py",
        ]
    );
    if let Some(heads) = alembic(root, &["heads"]) {
        assert_eq!(
            heads,
            "e25ffa003242 (contract) (head)\naaaaaaaaaaa1 (expand) (head)\nbbbbbbbbbbb2 (expand) (head)\n"
        );
    }
}
