//! Real projects laid out as they are, read on first contact: Flask-Migrate's
//! layout (an alembic.ini with no `script_location` beside env.py and
//! versions/, the directory set in code), and mlflow's two chains, one of
//! them with a `script_location` written from the repository root. Each is a
//! reconstruction in fixtures/layouts (see its README), and its graph must be
//! Alembic's own, configured as the project configures it. Then what
//! discovery does with an empty repository, a broken configuration beside a
//! healthy chain and a location that reads two ways.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::*;
use crate::oracle::{alembic_graph, compare, history};

/// Each Flask-Migrate project, and the directory it hands Flask-Migrate
/// (`Migrate(app, db, directory=...)`), from the folder it runs in.
const FLASK: [(&str, &str); 6] = [
    ("privacyidea", "privacyidea/migrations"),
    ("zou", "zou/migrations"),
    ("ihatemoney", "ihatemoney/migrations"),
    ("odcs", "src/odcs/server/migrations"),
    ("waiverdb", "waiverdb/migrations"),
    ("ctfd", "migrations"),
];

fn layout(name: &str) -> PathBuf {
    fixture("layouts").join(name)
}

fn json_of(root: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, out, err) = run(root, &all);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}{err}"));
    (code, v, err)
}

#[test]
fn flask_migrate_projects_are_read_as_flask_migrate_reads_them() {
    for (name, directory) in FLASK {
        let root = layout(name);
        let (code, v, err) = json_of(&root, &["chains"]);
        assert_eq!(code, 0, "{name}: {err}");
        let chains = v["chains"].as_array().unwrap();
        assert_eq!(chains.len(), 1, "{name}: one chain, and no other: {v}");
        let c = &chains[0];
        assert_eq!(c["name"], directory, "{name}");
        assert_eq!(c["kind"], "alembic", "{name}");
        assert_eq!(c["config"], format!("{directory}/alembic.ini"), "{name}");
        assert_eq!(c["location"], format!("{directory}/versions"), "{name}");
        assert_eq!(c["count"], 3, "{name}");
        assert_eq!(v["errors"], json!([]), "{name}");
        assert_eq!(v["warnings"], json!([]), "{name}");

        let (code, out, err) = run(&root, &["check"]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert_eq!(out, format!("{directory}: OK (exactly 1 head)\n"), "{name}");
        assert_eq!(err, "", "{name}");

        // Alembic as Flask-Migrate configures it: `Config(DIR/alembic.ini)`,
        // `set_main_option("script_location", DIR)`, from the app's folder.
        let ini = root.join(directory).join("alembic.ini");
        let ini = ini.to_str().unwrap();
        let at = root.to_str().unwrap();
        let Some(theirs) = alembic_graph(
            &[
                "--ini",
                ini,
                "--script-location",
                directory,
                "--chdir",
                at,
                "--stub-missing-imports",
            ],
            &root,
        ) else {
            return;
        };
        let ours = history(&root, &["-C", "."]);
        assert_eq!(compare(name, &root, &ours["chains"][0], &theirs), 3);

        // The ini alone is not enough for Alembic, which is why the layout
        // failed before: only ihatemoney's sets a `script_location` (`.`).
        let alone = alembic_graph(&["--ini", ini, "--chdir", at], &root).unwrap();
        if name == "ihatemoney" {
            assert!(alone.get("error").is_none(), "{alone}");
        } else {
            assert!(
                alone["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("script_location")),
                "{name}: {alone}"
            );
        }
    }
}

#[test]
fn mlflow_has_two_chains_one_written_from_the_repository_root() {
    let root = layout("mlflow");
    let store = "mlflow/store/db_migrations";
    let auth = "mlflow/server/auth/db/migrations";
    let (code, v, err) = json_of(&root, &["chains"]);
    assert_eq!(code, 0, "{err}");
    let got: Vec<(&str, &str, u64)> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["location"].as_str().unwrap(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (auth, "mlflow/server/auth/db/migrations/versions", 1),
            (store, "mlflow/store/db_migrations/versions", 3),
        ]
    );
    assert_eq!(v["errors"], json!([]));
    // `script_location = .` is the ini's folder; the root is no script
    // directory, so nothing reads two ways.
    assert_eq!(v["warnings"], json!([]));
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_eq!(
        out,
        format!("{auth}: OK (exactly 1 head)\n{store}: OK (exactly 1 head)\n")
    );

    let at = root.to_str().unwrap();
    // The store's ini as mlflow's developers run it, from the repository
    // root: `alembic -c mlflow/store/db_migrations/alembic.ini ...`.
    let ini = root.join(store).join("alembic.ini");
    let Some(theirs) = alembic_graph(
        &[
            "--ini",
            ini.to_str().unwrap(),
            "--chdir",
            at,
            "--stub-missing-imports",
        ],
        &root,
    ) else {
        return;
    };
    let ours = history(&root, &["-C", ".", "--chain", store]);
    assert_eq!(compare(store, &root, &ours["chains"][0], &theirs), 3);
    // The auth ini as mlflow's server configures it: `script_location` set
    // to the ini's folder (`_get_alembic_config`).
    let ini = root.join(auth).join("alembic.ini");
    let theirs = alembic_graph(
        &[
            "--ini",
            ini.to_str().unwrap(),
            "--script-location",
            auth,
            "--chdir",
            at,
        ],
        &root,
    )
    .unwrap();
    let ours = history(&root, &["-C", ".", "--chain", auth]);
    assert_eq!(compare(auth, &root, &ours["chains"][0], &theirs), 1);
}

#[test]
fn chains_of_every_layout() {
    let mut all = String::new();
    for name in [
        "ctfd",
        "ihatemoney",
        "mlflow",
        "odcs",
        "privacyidea",
        "waiverdb",
        "zou",
    ] {
        let (code, out, err) = run(&layout(name), &["chains"]);
        assert_eq!(code, 0, "{name}: {err}");
        all.push_str(&format!(
            "$ migfix -C fixtures/layouts/{name} chains\n{out}{err}"
        ));
    }
    snapshot_settings(None).bind(|| insta::assert_snapshot!("layouts_chains", all));
}

#[test]
fn an_empty_repository_says_where_it_looked_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    let shown = dir.path().canonicalize().unwrap();
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    snapshot_settings(Some(&shown)).bind(|| insta::assert_snapshot!("layouts_empty_check", err));
    for args in [
        &["chains"][..],
        &["heads"],
        &["history"],
        &["diagnose"],
        &["collisions"],
        &["check", "--format", "json"],
        &["merge-heads", "--dry-run"],
    ] {
        let (code, out, e) = run(dir.path(), args);
        assert_eq!(
            (code, out.as_str(), e.as_str()),
            (2, "", err.as_str()),
            "{args:?}"
        );
    }
}

/// A healthy chain `good` (two revisions) and, beside it, an alembic.ini
/// whose `script_location` names a folder that is gone; a git repository.
fn broken_beside_healthy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "good/alembic.ini",
                "[alembic]\nscript_location = %(here)s/migrations\n",
            ),
            (
                "good/migrations/versions/0001_a.py",
                &revision_file("0001", None),
            ),
            (
                "good/migrations/versions/0002_b.py",
                &revision_file("0002", Some("0001")),
            ),
            (
                "broken/alembic.ini",
                "[alembic]\n# moved to ../good\nscript_location = gone\n",
            ),
        ],
    );
    git_init(dir.path());
    dir
}

const BROKEN: &str = "error: broken/alembic.ini:3: script_location `gone` is not a directory from the ini's folder (broken/gone) nor from the repository root (gone)\n";

#[test]
fn a_broken_configuration_does_not_hide_the_healthy_chains() {
    let dir = broken_beside_healthy();
    let root = dir.path();
    for (args, expected) in [
        (&["check"][..], "good: OK (exactly 1 head)\n"),
        (&["heads"], "0002 (head)\n"),
        (
            &["diagnose"],
            "good: OK (no failure of classes A–F found)\n",
        ),
    ] {
        let (code, out, err) = run(root, args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (2, expected, BROKEN),
            "{args:?}"
        );
    }
    for args in [&["chains"][..], &["history"], &["collisions"]] {
        let (code, out, err) = run(root, args);
        assert_eq!((code, err.as_str()), (2, BROKEN), "{args:?}");
        assert!(out.contains("good"), "{args:?}: {out}");
    }
    let (code, out, err) = run(root, &["check"]);
    assert_eq!(code, 2);
    snapshot_settings(None)
        .bind(|| insta::assert_snapshot!("layouts_broken_beside_healthy", format!("{out}{err}")));

    // JSON carries the error beside the healthy chain's output.
    let error = json!([{
        "file": "broken/alembic.ini",
        "line": 3,
        "message": "script_location `gone` is not a directory from the ini's folder (broken/gone) nor from the repository root (gone)",
    }]);
    for args in [
        &["chains"][..],
        &["heads"],
        &["history"],
        &["check"],
        &["diagnose"],
        &["collisions"],
    ] {
        let (code, v, err) = json_of(root, args);
        assert_eq!((code, err.as_str()), (2, BROKEN), "{args:?}");
        assert_eq!(v["errors"], error, "{args:?}");
    }
    let (_, v, _) = json_of(root, &["chains"]);
    assert_eq!(v["chains"].as_array().unwrap().len(), 1);
    assert_eq!(v["chains"][0]["name"], "good");

    // `--chain` does not make the repository whole; a name that matches
    // nothing names the broken configuration too, as it may be that chain.
    let (code, out, err) = run(root, &["--chain", "good", "heads"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (2, "0002 (head)\n", BROKEN)
    );
    // A revision that cannot be read still stops the command, listed
    // after the broken configuration.
    write_tree(
        root,
        &[(
            "good/migrations/versions/0003_c.py",
            "revision = '0003'\ndown_revision = '0002'\n\ndef upgrade(:\n    pass\n",
        )],
    );
    let (code, out, err) = run(root, &["heads"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.starts_with(BROKEN), "{err}");
    assert!(
        err.contains("good/migrations/versions/0003_c.py:4: Python syntax error"),
        "{err}"
    );
    std::fs::remove_file(root.join("good/migrations/versions/0003_c.py")).unwrap();
    let (code, _, err) = run(root, &["--chain", "gone", "heads"]);
    assert_eq!(code, 2);
    assert!(err.starts_with(BROKEN), "{err}");
    assert!(err.contains("--chain: no chain matches `gone`"), "{err}");
}

#[test]
fn with_every_configuration_broken_the_output_is_empty_and_json_has_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "broken/alembic.ini",
            "[alembic]\n# moved to ../good\nscript_location = gone\n",
        )],
    );
    for cmd in ["chains", "heads", "check"] {
        let (code, out, err) = run(dir.path(), &[cmd]);
        assert_eq!((code, out.as_str(), err.as_str()), (2, "", BROKEN), "{cmd}");
    }
    let (code, v, err) = json_of(dir.path(), &["chains"]);
    assert_eq!((code, err.as_str()), (2, BROKEN));
    assert_eq!(v["chains"], json!([]));
    assert_eq!(v["errors"][0]["file"], "broken/alembic.ini");
    assert_eq!(v["errors"][0]["line"], 3);
}

#[test]
fn repairs_refuse_while_a_configuration_is_broken() {
    let dir = broken_beside_healthy();
    let root = dir.path();
    let before = tree_bytes(root);
    for args in [
        &["renumber", "0002", "--yes"][..],
        &["merge-heads", "--yes"],
        &["rebase", "--base", "main", "--yes"],
        &["recover"],
        &[
            "gate",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
        ],
    ] {
        let (code, out, err) = run(root, args);
        let command = args[0];
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert_eq!(
            err,
            format!("{BROKEN}help: fix broken/alembic.ini first: {command} reads every chain of the repository, and runs only when each can be configured\n"),
            "{args:?}"
        );
    }
    assert_eq!(tree_bytes(root), before, "nothing was written");
}

#[test]
fn a_location_that_reads_two_ways_warns_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "app/alembic.ini",
                "[alembic]\nscript_location = migrations\n",
            ),
            ("app/migrations/env.py", ""),
            (
                "app/migrations/versions/0001_a.py",
                &revision_file("0001", None),
            ),
            // A script directory at the root too, with no ini of its own.
            ("migrations/env.py", ""),
            (
                "migrations/versions/0009_z.py",
                &revision_file("0009", None),
            ),
        ],
    );
    let warning = "app/alembic.ini:2: script_location `migrations` names a directory both from the ini's folder (app/migrations) and from the repository root (migrations); migfix reads app/migrations, as `alembic` run in the ini's folder does (write `%(here)s/migrations` to make it plain)";
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!((code, out.as_str()), (0, "0001 (head)\n"), "{err}");
    assert_eq!(err, format!("warning: {warning}\n"));
    let (_, v, _) = json_of(dir.path(), &["chains"]);
    assert_eq!(v["chains"][0]["location"], "app/migrations/versions");
    assert_eq!(v["warnings"][0]["line"], 2);
    assert_eq!(
        format!(
            "app/alembic.ini:2: {}",
            v["warnings"][0]["message"].as_str().unwrap()
        ),
        warning
    );
    // Made plain, it reads one way.
    write_tree(
        dir.path(),
        &[(
            "app/alembic.ini",
            "[alembic]\nscript_location = %(here)s/migrations\n",
        )],
    );
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "0001 (head)\n", ""));
    // Only from the root, it is read from the root without a word.
    std::fs::remove_dir_all(dir.path().join("app/migrations")).unwrap();
    write_tree(
        dir.path(),
        &[(
            "app/alembic.ini",
            "[alembic]\nscript_location = migrations\n",
        )],
    );
    let (code, out, err) = run(dir.path(), &["heads"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "0009 (head)\n", ""));
    let (_, v, _) = json_of(dir.path(), &["chains"]);
    assert_eq!(v["chains"][0]["name"], "app");
    assert_eq!(v["chains"][0]["location"], "migrations/versions");
}

#[test]
fn an_ini_without_script_location_is_a_chain_only_where_flask_migrate_keeps_one() {
    let rev = revision_file("0001", None);
    let healthy = [
        (
            "good/alembic.ini",
            "[alembic]\nscript_location = %(here)s/migrations\n",
        ),
        ("good/migrations/versions/0001_a.py", rev.as_str()),
    ];
    // Nothing beside it: Alembic cannot find the migrations, nor can migfix.
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &healthy);
    write_tree(
        dir.path(),
        &[(
            "lonely/alembic.ini",
            "# logging only\n[alembic]\n\n[loggers]\nkeys = root\n",
        )],
    );
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(
        (code, out.as_str()),
        (2, "good: OK (exactly 1 head)\n"),
        "{err}"
    );
    assert_eq!(
        err,
        "error: lonely/alembic.ini:2: no `script_location`, and no env.py beside it (where Flask-Migrate keeps its migrations): Alembic cannot find the migrations either\n"
    );
    // env.py with no versions/ (zou's template for its plugins): no chain.
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &healthy);
    write_tree(
        dir.path(),
        &[
            ("template/alembic.ini", "[alembic]\n"),
            ("template/env.py", ""),
            ("template/script.py.mako", ""),
        ],
    );
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "good: OK (exactly 1 head)\n", "")
    );
    // Declared in migfix.toml, a Flask-Migrate ini is read the same way.
    let root = tempfile::tempdir().unwrap();
    copy_tree(&layout("ctfd"), root.path());
    write_tree(
        root.path(),
        &[(
            "migfix.toml",
            "[[chain]]\nname = \"ctfd\"\nconfig = \"migrations/alembic.ini\"\n",
        )],
    );
    let (code, out, err) = run(root.path(), &["check"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "ctfd: OK (exactly 1 head)\n", "")
    );
}

#[test]
fn sections_and_pyproject_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            // `alembic -n audit` beside the default section.
            (
                "db/alembic.ini",
                "[alembic]\nscript_location = %(here)s/main\n\n[audit]\nscript_location = %(here)s/audit\n",
            ),
            ("db/main/versions/0001_a.py", &revision_file("0001", None)),
            ("db/audit/versions/0007_a.py", &revision_file("0007", None)),
            // An ini with no location, and `[tool.alembic]` beside it.
            ("svc/alembic.ini", "[alembic]\n\n[loggers]\nkeys = root\n"),
            (
                "svc/pyproject.toml",
                "[tool.alembic]\nscript_location = \"%(here)s/schema\"\n",
            ),
            ("svc/schema/versions/0003_a.py", &revision_file("0003", None)),
        ],
    );
    let (code, v, err) = json_of(dir.path(), &["heads"]);
    assert_eq!(code, 0, "{err}");
    let got: Vec<(&str, &str)> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["heads"][0].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [("db", "0001"), ("db[audit]", "0007"), ("svc", "0003")]
    );
}

#[test]
fn ci_formats_carry_a_broken_configuration() {
    let dir = broken_beside_healthy();
    let root = dir.path();
    let (code, out, err) = run(root, &["check", "--format", "sarif"]);
    assert_eq!((code, err.as_str()), (2, BROKEN));
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["ruleId"], "configuration-error");
    assert_eq!(results[0]["level"], "error");
    let place = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "broken/alembic.ini");
    assert_eq!(place["region"]["startLine"], 3);

    let (code, out, _) = run(root, &["check", "--format", "junit"]);
    assert_eq!(code, 2);
    assert!(out.contains("tests=\"2\" failures=\"1\""), "{out}");
    assert!(
        out.contains("<testcase classname=\"migfix.check\" name=\"broken/alembic.ini\" file=\"broken/alembic.ini\">\n      <failure type=\"configuration-error\""),
        "{out}"
    );
    assert!(
        out.contains("<testcase classname=\"migfix.check\" name=\"good\""),
        "{out}"
    );

    let (code, out, _) = run(root, &["check", "--format", "gitlab"]);
    assert_eq!(code, 2);
    let issues: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(issues[0]["check_name"], "configuration-error");
    assert_eq!(
        issues[0]["location"],
        json!({"path": "broken/alembic.ini", "lines": {"begin": 3}})
    );

    // GitHub: one annotation on the file, as the command exits 2.
    let (code, out, _) = run(root, &["check", "--format", "github"]);
    assert_eq!(code, 2);
    assert_eq!(
        out.matches("::error file=broken/alembic.ini,line=3,")
            .count(),
        1,
        "{out}"
    );
}
