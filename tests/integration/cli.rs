use clap::CommandFactory;

use crate::common::*;

#[test]
fn cli_definition_is_consistent() {
    migfix::cli::Cli::command().debug_assert();
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = migfix(&repo(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        assert!(stdout(&o).contains("migfix"), "{shell}");
        assert!(
            stdout(&o).contains("merge") || stdout(&o).contains("history"),
            "{shell} lists subcommands"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = migfix(&repo(), &["heads", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let o = migfix(&repo(), &["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
    let o = migfix(&repo(), &["-C", "/nonexistent/dir", "heads"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/dir"));
}

#[test]
fn chain_selection_by_substring() {
    let root = fixture("incident-2026-06-05");
    let o = migfix(&root, &["-C", ".", "--chain", "console", "heads"]);
    assert_eq!(stdout(&o), "0146 (head)\n0148 (head)\n");
    let o = migfix(&root, &["-C", ".", "--chain", "nope", "heads"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("backend_v2"),
        "lists the chains: {}",
        stderr(&o)
    );
}

#[test]
fn versions_and_plan_flags_skip_discovery() {
    let root = fixture("incident-2026-06-05");
    let o = migfix(
        &root,
        &[
            "-C",
            ".",
            "--versions",
            "backend_v2/alembic/versions",
            "--plan",
            "queue/migrations/sqitch/sqitch.plan",
            "chains",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["backend_v2/alembic/versions", "queue/migrations/sqitch"]
    );
}

#[test]
fn migfix_toml_names_chains_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("db/versions/0001_a.py", &revision_file("0001", None)),
            (
                "db/versions/0002_b.py",
                &revision_file("0002", Some("0001")),
            ),
            (
                "migfix.toml",
                "[[chain]]\nname = \"core\"\nversions = \"db/versions\"\nroles = [\"app\"]\n",
            ),
        ],
    );
    let o = migfix(dir.path(), &["heads"]);
    assert_eq!(stdout(&o), "0002 (head)\n", "{}", stderr(&o));
    let o = migfix(dir.path(), &["chains", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["chains"][0]["name"], "core");
    // A role listed under `roles` is provisioned: a GRANT to it is no finding.
    let grant = "revision = '0003'\ndown_revision = '0002'\nfrom alembic import op\n\ndef upgrade():\n    op.execute('GRANT SELECT ON t TO app')\n";
    write_tree(dir.path(), &[("db/versions/0003_grant.py", grant)]);
    let o = migfix(dir.path(), &["diagnose", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nname = \"core\"\nversions = \"db/versions\"\n",
    )
    .unwrap();
    let o = migfix(dir.path(), &["diagnose", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "without `roles`, the GRANT is class B: {}",
        stdout(&o)
    );
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nname = \"core\"\nversion = \"db\"\n",
    )
    .unwrap();
    let o = migfix(dir.path(), &["heads"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("migfix.toml:3:"), "{}", stderr(&o));
}

#[test]
fn tool_migfix_in_pyproject_is_read_like_migfix_toml() {
    let dir = tempfile::tempdir().unwrap();
    let grant = "revision = '0003'\ndown_revision = '0002'\nfrom alembic import op\n\ndef upgrade():\n    op.execute('GRANT SELECT ON t TO app')\n";
    let pyproject = "[project]\nname = \"shop\"\nversion = \"1.0\"\n\n[tool.ruff]\nline-length = 100\n\n[[tool.migfix.chain]]\nname = \"core\"\nversions = \"db/versions\"\nroles = [\"app\"]\n";
    write_tree(
        dir.path(),
        &[
            ("db/versions/0001_a.py", &revision_file("0001", None)),
            (
                "db/versions/0002_b.py",
                &revision_file("0002", Some("0001")),
            ),
            ("db/versions/0003_grant.py", grant),
            ("pyproject.toml", pyproject),
        ],
    );
    let o = migfix(dir.path(), &["chains", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["chains"][0]["name"], "core", "{}", stderr(&o));
    // `roles` holds: the GRANT to app is no finding.
    let o = migfix(dir.path(), &["diagnose", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // An unknown key is an error with its line, as in migfix.toml.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        pyproject.replace("roles", "rolez"),
    )
    .unwrap();
    let o = migfix(dir.path(), &["heads"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("pyproject.toml:11:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("rolez"), "{}", stderr(&o));

    // migfix.toml wins when both are present.
    std::fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
    std::fs::write(
        dir.path().join("migfix.toml"),
        "[[chain]]\nname = \"from-migfix-toml\"\nversions = \"db/versions\"\n",
    )
    .unwrap();
    let o = migfix(dir.path(), &["chains", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["chains"][0]["name"], "from-migfix-toml");

    // A pyproject.toml without [tool.migfix] leaves discovery alone.
    std::fs::remove_file(dir.path().join("migfix.toml")).unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"shop\"\n",
    )
    .unwrap();
    let o = migfix(dir.path(), &["--versions", "db/versions", "heads"]);
    assert_eq!(stdout(&o), "0003 (head)\n", "{}", stderr(&o));
}

#[test]
fn colour_follows_the_flag_no_color_and_clicolor_force() {
    let tree = fixture("incident-2026-06-05");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_migfix"));
        c.args(["-C", tree.to_str().unwrap(), "check"])
            .args(args)
            .env_clear();
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        stdout(&o).contains("\x1b[")
    };
    assert!(!run(&[], &[]), "piped: no colour");
    assert!(run(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[], &[("CLICOLOR_FORCE", "0")]));
    assert!(
        !run(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        "NO_COLOR wins"
    );
    assert!(
        run(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]),
        "an empty NO_COLOR is unset"
    );
    assert!(
        run(&["--color", "always"], &[("NO_COLOR", "1")]),
        "the flag wins"
    );
    assert!(!run(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
}

#[test]
fn gate_tables_are_checked_like_the_rest_of_migfix_toml() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("db/versions/0001_a.py", &revision_file("0001", None)),
            (
                "db/versions/0002_b.py",
                &revision_file("0002", Some("0001")),
            ),
        ],
    );
    let head = "[[chain]]\nversions = \"db/versions\"\n";
    for (gate, line, word) in [
        ("[chain.gate]\nbogus = 1\n", 4, "bogus"),
        ("[chain.gate]\nroles = 5\n", 4, "roles"),
        (
            "[[chain.gate.seed]]\nbefore = 16\nsql = \"SELECT 1\"\n",
            4,
            "string",
        ),
        (
            "[[chain.gate.seed]]\nbefore = \"0002\"\nsql = 1\n",
            5,
            "string",
        ),
        ("[[chain.gate.seed]]\nbefore = \"0002\"\n", 3, "sql"),
    ] {
        std::fs::write(dir.path().join("migfix.toml"), format!("{head}{gate}")).unwrap();
        let o = migfix(dir.path(), &["heads"]);
        assert_eq!(o.status.code(), Some(2), "{gate}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("migfix.toml:{line}:")),
            "{gate}: {err}"
        );
        assert!(err.contains(word), "{gate}: {err}");
    }
    std::fs::write(
        dir.path().join("migfix.toml"),
        format!("{head}[[chain.gate.seed]]\nbefore = \"0002\"\nsql = \"SELECT 1\"\n"),
    )
    .unwrap();
    let o = migfix(dir.path(), &["heads"]);
    assert_eq!(stdout(&o), "0002 (head)\n", "{}", stderr(&o));
}
