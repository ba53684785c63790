//! Real sqitch projects (`fixtures/sqitch-real`, reconstructed from public
//! repositories): `check` passes exactly when real sqitch reads and deploys
//! the plans, migfix reads each plan as App::Sqitch does, and renames of a
//! nested, a reworked and a cross-project-required change deploy, revert
//! and deploy again with real sqitch. Projects whose engines and targets
//! read several plans have each of them as a chain, as sqitch's own list of
//! targets has them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;
use crate::sqitch_oracle::{agrees, agrees_for, sqitch_oracle_with};

/// One plan of a fixture: the folder sqitch runs in, the plan folder
/// (the chain), and the sqitch.conf to use where it has another name.
struct Plan {
    run_in: &'static str,
    plan_dir: &'static str,
    config: Option<&'static str>,
}

struct Project {
    fixture: &'static str,
    sqlite: bool,
    /// In deploy order.
    plans: &'static [Plan],
}

const PROJECTS: &[Project] = &[
    Project {
        fixture: "flipr-sqlite",
        sqlite: true,
        plans: &[Plan {
            run_in: ".",
            plan_dir: ".",
            config: None,
        }],
    },
    Project {
        fixture: "flipr",
        sqlite: false,
        plans: &[Plan {
            run_in: ".",
            plan_dir: ".",
            config: None,
        }],
    },
    Project {
        fixture: "registry",
        sqlite: false,
        plans: &[Plan {
            run_in: ".",
            plan_dir: "sql",
            config: None,
        }],
    },
    Project {
        fixture: "id3c",
        sqlite: false,
        plans: &[Plan {
            run_in: ".",
            plan_dir: "schema",
            config: Some("sqitch.template.conf"),
        }],
    },
    Project {
        fixture: "chef-server",
        sqlite: false,
        plans: &[
            Plan {
                run_in: "src/oc_erchef/schema/baseline",
                plan_dir: "src/oc_erchef/schema/baseline",
                config: None,
            },
            Plan {
                run_in: "src/oc_erchef/schema",
                plan_dir: "src/oc_erchef/schema",
                config: None,
            },
        ],
    },
];

fn project(name: &str) -> &'static Project {
    PROJECTS
        .iter()
        .find(|p| p.fixture == name)
        .expect("a known fixture")
}

/// A fixture copied into a fresh git repository.
fn checkout(p: &Project) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(p.fixture);
    copy_tree(&repo().join("fixtures/sqitch-real").join(p.fixture), &root);
    git_init(&root);
    (dir, root)
}

/// The chain name migfix gives a plan folder.
fn chain_name(root: &Path, plan_dir: &str) -> String {
    if plan_dir == "." {
        root.file_name().unwrap().to_string_lossy().into_owned()
    } else {
        plan_dir.to_string()
    }
}

pub(crate) fn sqitch(dir: &Path, config: Option<&str>, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("sqitch");
    cmd.args(args)
        .current_dir(dir)
        .env("SQITCH_USER_CONFIG", "/dev/null")
        .env("SQITCH_SYSTEM_CONFIG", "/dev/null")
        .env_remove("SQITCH_CONFIG");
    if let Some(c) = config {
        cmd.env("SQITCH_CONFIG", dir.join(c));
    }
    let out = cmd.output().map_err(|e| format!("sqitch: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("sqitch {args:?} in {}:\n{text}", dir.display()))
    }
}

pub(crate) fn sqitch_installed() -> bool {
    let ok = Command::new("sqitch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && crate::oracle::required() {
        panic!("sqitch is not installed; run the tests through tests/run.sh");
    }
    ok
}

/// `sqitch plan` for every plan, then deploy --verify, revert and deploy
/// --verify again on a fresh database (the plans in order, reverted in
/// reverse). `None` when there is no server to deploy to.
fn round_trip(root: &Path, p: &Project) -> Option<Result<(), String>> {
    sqitch_steps(root, p, true)
}

/// `sqitch plan` and `deploy --verify` for every plan, and with `revert`,
/// revert and deploy --verify again.
fn sqitch_steps(root: &Path, p: &Project, revert: bool) -> Option<Result<(), String>> {
    let db;
    let target = if p.sqlite {
        format!("db:sqlite:{}", root.join("round-trip.db").display())
    } else {
        db = crate::postgres::Database::create(p.fixture)?;
        let server = std::env::var("MIGFIX_PG_URL").unwrap();
        let authority = server
            .strip_prefix("postgresql://")
            .and_then(|r| r.split_once('/'))
            .map(|(a, _)| a)
            .unwrap();
        format!("db:pg://{authority}/{}", db.name)
    };
    let step = |plan: &Plan, args: &[&str]| -> Result<String, String> {
        sqitch(&root.join(plan.run_in), plan.config, args)
    };
    let run = || -> Result<(), String> {
        for plan in p.plans {
            step(plan, &["plan", "--no-pager"])?;
        }
        for plan in p.plans {
            step(plan, &["deploy", "--verify", &target])?;
        }
        if revert {
            for plan in p.plans.iter().rev() {
                step(plan, &["revert", "-y", &target])?;
            }
            for plan in p.plans {
                step(plan, &["deploy", "--verify", &target])?;
            }
        }
        Ok(())
    };
    Some(run())
}

/// migfix's view of each plan of the project agrees with App::Sqitch's.
fn agrees_with_sqitch(root: &Path, p: &Project) {
    for plan in p.plans {
        let run_in = root.join(plan.run_in);
        let oracle_dir = if plan.config.is_some() {
            root.join(plan.plan_dir)
        } else {
            run_in
        };
        if let Err(why) = agrees(root, &chain_name(root, plan.plan_dir), &oracle_dir) {
            panic!("{}: {why}", p.fixture);
        }
    }
}

#[test]
fn real_plans_check_clean_read_as_sqitch_reads_them_and_deploy() {
    if !sqitch_installed() {
        return;
    }
    for p in PROJECTS {
        let (_tmp, root) = checkout(p);
        let (code, out, err) = run(&root, &["check"]);
        assert_eq!(code, 0, "{}: {out}{err}", p.fixture);
        agrees_with_sqitch(&root, p);
        if let Some(result) = round_trip(&root, p) {
            result.unwrap_or_else(|e| panic!("{}: check passes, sqitch does not: {e}", p.fixture));
        }
    }
}

#[test]
fn left_over_plan_is_a_warning_not_a_chain() {
    let p = project("registry");
    let (_tmp, root) = checkout(p);
    let (code, out, err) = run(&root, &["chains"]);
    assert_eq!(code, 0, "{err}");
    let chains: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(chains, ["sql"], "{out}");
    assert!(
        err.contains(
            "sqitch.plan: sqitch does not read this plan: no target or engine of sqitch.conf reads it (they read sql/sqitch.plan)"
        ),
        "{err}"
    );
}

/// `check` and real sqitch agree on mutated copies of a real plan: each
/// mutation either breaks both `check` and `sqitch deploy --verify`, or
/// neither.
#[test]
fn check_fails_exactly_when_sqitch_does() {
    if !sqitch_installed() {
        return;
    }
    let p = project("flipr-sqlite");
    type Mutation = fn(&Path);
    let mutations: &[(&str, Mutation, bool)] = &[
        (
            "a missing verify script",
            |r| std::fs::remove_file(r.join("verify/lists.sql")).unwrap(),
            true,
        ),
        (
            "a missing revert script",
            |r| std::fs::remove_file(r.join("revert/lists.sql")).unwrap(),
            true,
        ),
        (
            "a reused sequence number",
            |r| add_changes(r, &["01-extra", "01-more"]),
            true,
        ),
        (
            "a missing deploy script of an older version",
            |r| std::fs::remove_file(r.join("deploy/userflips@v1.0.0-dev2.sql")).unwrap(),
            false,
        ),
        (
            "an unknown requirement",
            |r| edit_plan(r, "lists [", "lists [nosuch ", "", ""),
            false,
        ),
        (
            "a requirement planned later",
            |r| edit_plan(r, "lists [", "lists [hashtags ", "", ""),
            false,
        ),
        (
            "a rework without a tag between",
            |r| edit_plan(r, "@v1.0.0-dev", "", "", ""),
            false,
        ),
    ];
    for (what, mutate, sqitch_ok) in mutations {
        let (_tmp, root) = checkout(p);
        mutate(&root);
        let sqitch_result = sqitch_steps(&root, p, false).expect("SQLite needs no server");
        assert_eq!(
            sqitch_result.is_ok(),
            *sqitch_ok,
            "{what}: sqitch {sqitch_result:?}"
        );
        let (code, out, err) = run(&root, &["check"]);
        assert_eq!(
            code == 0,
            *sqitch_ok,
            "{what}: check exits {code}:\n{out}{err}"
        );
    }
}

/// Appends changes with scripts that deploy.
fn add_changes(root: &Path, names: &[&str]) {
    let mut plan = std::fs::read_to_string(root.join("sqitch.plan")).unwrap();
    for n in names {
        plan.push_str(&format!(
            "{n} 2014-01-01T00:00:00Z Marge <marge@example.com>\n"
        ));
        let table = n.replace('-', "_");
        for (d, sql) in [
            ("deploy", format!("CREATE TABLE t{table} (id INTEGER);\n")),
            ("revert", format!("DROP TABLE t{table};\n")),
            ("verify", format!("SELECT id FROM t{table} WHERE 0;\n")),
        ] {
            std::fs::write(root.join(d).join(format!("{n}.sql")), sql).unwrap();
        }
    }
    std::fs::write(root.join("sqitch.plan"), plan).unwrap();
}

/// Replaces the first `a` with `b` and the first `c` with `d` in the plan
/// (`c` empty: only the first); an empty `b` drops every line starting
/// with `a`.
fn edit_plan(root: &Path, a: &str, b: &str, c: &str, d: &str) {
    let path = root.join("sqitch.plan");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut text = if b.is_empty() {
        text.lines()
            .filter(|l| !l.starts_with(a))
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        text.replacen(a, b, 1)
    };
    if !c.is_empty() {
        text = text.replacen(c, d, 1);
    }
    std::fs::write(path, text).unwrap();
}

/// Renames with migfix's defaults, then asks real sqitch to deploy,
/// revert and deploy again, and migfix's reading to agree with sqitch's.
fn rename_and_deploy(p: &Project, args: &[&str], then: impl Fn(&Path, &str)) {
    let (_tmp, root) = checkout(p);
    let (code, out, err) = run(&root, args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    assert!(
        out.contains("must revert it before this rename reaches it: `sqitch revert --to"),
        "the preview says how to move a database: {out}"
    );
    then(&root, &out);
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "check after {args:?}: {out}{err}");
    if sqitch_installed() {
        agrees_with_sqitch(&root, p);
        if let Some(result) = round_trip(&root, p) {
            result.unwrap_or_else(|e| panic!("after {args:?}: {e}"));
        }
    }
}

#[test]
fn renaming_a_nested_change_moves_its_scripts_into_new_folders() {
    let old = "warehouse/encounter-location/triggers/update-modified-timestamp";
    let new = "warehouse/encounter_location/triggers/touch-modified";
    rename_and_deploy(
        project("id3c"),
        &["renumber", old, "--to", new, "--force", "--yes"],
        |root, out| {
            assert!(out.contains("3 scripts renamed with it"), "{out}");
            for d in ["deploy", "revert", "verify"] {
                assert!(
                    root.join("schema")
                        .join(d)
                        .join(format!("{new}.sql"))
                        .is_file(),
                    "{d}"
                );
                assert!(
                    !root
                        .join("schema")
                        .join(d)
                        .join(format!("{old}.sql"))
                        .exists(),
                    "{d}"
                );
            }
            let plan = std::fs::read_to_string(root.join("schema/sqitch.plan")).unwrap();
            assert!(
                !plan.contains(&format!("{old} "))
                    && !plan.contains(&format!("{old}]"))
                    && plan.contains(new),
                "{plan}"
            );
            let repo = git2::Repository::open(root).unwrap();
            let status = repo
                .status_file(&Path::new("schema/deploy").join(format!("{new}.sql")))
                .unwrap();
            assert!(
                status.intersects(git2::Status::INDEX_NEW | git2::Status::INDEX_RENAMED),
                "staged like git mv: {status:?}"
            );
        },
    );
}

#[test]
fn renaming_a_reworked_change_moves_every_version() {
    rename_and_deploy(
        project("flipr"),
        &[
            "renumber",
            "insert_user",
            "--to",
            "add_user",
            "--force",
            "--yes",
        ],
        |root, out| {
            assert!(out.contains("6 scripts renamed with it"), "{out}");
            for d in ["deploy", "revert", "verify"] {
                for f in ["add_user.sql", "add_user@v1.0.0-dev2.sql"] {
                    assert!(root.join(d).join(f).is_file(), "{d}/{f}");
                }
            }
            let plan = std::fs::read_to_string(root.join("sqitch.plan")).unwrap();
            assert!(
                plan.contains("\nadd_user [add_user@v1.0.0-dev2 pgcrypto] "),
                "{plan}"
            );
            // The old name stays only in notes, which are prose.
            assert!(
                !plan
                    .lines()
                    .any(|l| l.starts_with("insert_user") || l.contains("[insert_user")),
                "{plan}"
            );
        },
    );
}

/// `--chain` chooses the plan the change is in; the repository read for the
/// plans that require it is still the whole one.
#[test]
fn a_rename_under_chain_still_edits_the_plans_that_require_it() {
    let schema = "src/oc_erchef/schema";
    rename_and_deploy(
        project("chef-server"),
        &[
            "--chain",
            "src/oc_erchef/schema/baseline",
            "renumber",
            "osc_users",
            "--to",
            "osc_users_table",
            "--force",
            "--yes",
        ],
        |root, out| {
            assert!(out.contains("required by other plans, edited too: src/oc_erchef/schema/sqitch.plan (drop_osc_users)"), "{out}");
            let enterprise =
                std::fs::read_to_string(root.join(schema).join("sqitch.plan")).unwrap();
            assert!(
                enterprise.contains("drop_osc_users [oss_chef:osc_users_table]"),
                "{enterprise}"
            );
        },
    );
}

#[test]
fn renaming_a_change_another_project_requires_edits_both_plans() {
    let schema = "src/oc_erchef/schema";
    rename_and_deploy(
        project("chef-server"),
        &[
            "renumber",
            "osc_users",
            "--to",
            "osc_users_table",
            "--force",
            "--yes",
        ],
        |root, out| {
            assert!(out.contains("required by other plans, edited too: src/oc_erchef/schema/sqitch.plan (drop_osc_users)"), "{out}");
            let enterprise =
                std::fs::read_to_string(root.join(schema).join("sqitch.plan")).unwrap();
            assert!(
                enterprise.contains("drop_osc_users [oss_chef:osc_users_table]"),
                "{enterprise}"
            );
            let oss =
                std::fs::read_to_string(root.join(schema).join("baseline/sqitch.plan")).unwrap();
            assert!(
                oss.contains("\nosc_users_table ") && !oss.contains("\nosc_users "),
                "{oss}"
            );
        },
    );
}

#[test]
fn an_unknown_change_of_a_known_project_fails_check() {
    let p = project("chef-server");
    let (_tmp, root) = checkout(p);
    let plan = root.join("src/oc_erchef/schema/sqitch.plan");
    let text = std::fs::read_to_string(&plan).unwrap().replacen(
        "[oss_chef:osc_users]",
        "[oss_chef:osc_userz]",
        1,
    );
    std::fs::write(&plan, text).unwrap();
    let (code, out, _) = run(&root, &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`drop_osc_users` requires `oss_chef:osc_userz`, but project oss_chef plans no `osc_userz`"), "{out}");
    if sqitch_installed() {
        if let Some(result) = round_trip(&root, p) {
            assert!(result.is_err(), "sqitch refuses it too");
        }
    }
}

/// A real project whose sqitch.conf reads several plans through its
/// engines and targets.
struct WithTargets {
    fixture: &'static str,
    /// The folder of its sqitch.conf, where sqitch runs.
    run_in: &'static str,
    /// The chains migfix names, one per plan.
    chains: &'static [&'static str],
}

const WITH_TARGETS: &[WithTargets] = &[
    // An engine per folder: [engine "pg"] and [engine "sqlite"], each with
    // its target and top_dir; core.engine = pg.
    WithTargets {
        fixture: "primer",
        run_in: "sqitch",
        chains: &["sqitch/pg", "sqitch/sqlite"],
    },
    // No [core] at all: two engines with a top_dir each, three targets.
    WithTargets {
        fixture: "tenx",
        run_in: "db",
        chains: &["db/mysql", "db/sqlite"],
    },
    // The same layout, each engine's plan with changes of its own, and a
    // stray verify script.
    WithTargets {
        fixture: "refimp",
        run_in: "db",
        chains: &["db/mysql", "db/sqlite"],
    },
];

fn checkout_fixture(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(fixture);
    copy_tree(&repo().join("fixtures/sqitch-real").join(fixture), &root);
    git_init(&root);
    (dir, root)
}

/// Every target sqitch knows of in the folder, as
/// `App::Sqitch::Target->all_targets` lists them.
fn all_targets(run_in: &Path) -> Option<Vec<Value>> {
    let oracle = sqitch_oracle_with(run_in, &["--targets"])?;
    assert!(oracle.get("error").is_none(), "{oracle}");
    Some(oracle["targets"].as_array().unwrap().clone())
}

/// migfix's chains: (name, plan), sorted.
fn chains_of(root: &Path) -> Vec<(String, String)> {
    let (code, out, err) = run(root, &["--format", "json", "chains"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let mut chains: Vec<(String, String)> = json["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["location"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    chains.sort();
    chains
}

/// The chain of each plan a target reads, checked against sqitch for that
/// target; the plans, sorted.
fn plans_the_targets_read(root: &Path, run_in: &str) -> Option<Vec<String>> {
    let chains = chains_of(root);
    let mut plans: Vec<String> = Vec::new();
    for target in all_targets(&root.join(run_in))? {
        let name = target["name"].as_str().unwrap();
        let plan_file = target["plan_file"].as_str().unwrap();
        let plan = if run_in == "." {
            plan_file.to_string()
        } else {
            format!("{run_in}/{plan_file}")
        };
        if target["plan_file_exists"] != true {
            continue;
        }
        // The chain of that plan (one of them, where engines read it with
        // scripts of their own) that reads it as this target does.
        let candidates: Vec<&String> = chains
            .iter()
            .filter(|(_, location)| *location == plan)
            .map(|(n, _)| n)
            .collect();
        assert!(
            !candidates.is_empty(),
            "target {name} reads {plan}, no chain does: {chains:?}"
        );
        let why: Vec<String> = candidates
            .iter()
            .map(|c| agrees_for(root, c, &root.join(run_in), Some(name)))
            .filter_map(Result::err)
            .collect();
        assert!(
            why.len() < candidates.len(),
            "target {name}: no chain of {plan} reads it as sqitch does: {why:?}"
        );
        if !plans.contains(&plan) {
            plans.push(plan);
        }
    }
    plans.sort();
    Some(plans)
}

/// deploy --verify, revert and deploy --verify again with real sqitch, in
/// the folder of sqitch.conf, to `target`.
fn deploys_to(run_in: &Path, target: &str) -> Result<(), String> {
    for args in [
        &["deploy", "--verify", target][..],
        &["revert", "-y", target],
        &["deploy", "--verify", target],
    ] {
        sqitch(run_in, None, args)?;
    }
    Ok(())
}

#[test]
fn every_plan_an_engine_or_target_reads_is_a_chain_read_as_sqitch_reads_it() {
    let installed = sqitch_installed();
    for p in WITH_TARGETS {
        let (_tmp, root) = checkout_fixture(p.fixture);
        let chains = chains_of(&root);
        let names: Vec<&str> = chains.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, p.chains, "{}", p.fixture);
        let (code, out, err) = run(&root, &["check"]);
        assert_eq!(code, 0, "{}: {out}{err}", p.fixture);
        assert!(!err.contains("does not read"), "{}: {err}", p.fixture);
        if !installed {
            continue;
        }
        // Each plan a target reads is a chain, and each chain a plan some
        // target reads.
        let plans = plans_the_targets_read(&root, p.run_in).expect("sqitch is installed");
        let locations: Vec<String> = chains.iter().map(|(_, l)| l.clone()).collect();
        assert_eq!(plans, locations, "{}", p.fixture);
        // Each engine's plan deploys where a server is at hand.
        let run_in = root.join(p.run_in);
        let db = tempfile::tempdir().unwrap();
        let sqlite = format!("db:sqlite:{}", db.path().join("t.db").display());
        deploys_to(&run_in, &sqlite).unwrap_or_else(|e| panic!("{}: {e}", p.fixture));
        if p.chains.iter().any(|c| c.ends_with("/pg")) {
            if let Some(pg) = crate::postgres::Database::create(p.fixture) {
                let server = std::env::var("MIGFIX_PG_URL").unwrap();
                let authority = server
                    .strip_prefix("postgresql://")
                    .and_then(|r| r.split_once('/'))
                    .map(|(a, _)| a)
                    .unwrap();
                deploys_to(&run_in, &format!("db:pg://{authority}/{}", pg.name))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.fixture));
            }
        }
    }
}

/// With its [engine "sqlite"] section gone, no target reads primer's SQLite
/// plan any more: it is left over, a warning and not a chain, as sqitch's
/// own list of targets says.
#[test]
fn a_plan_no_target_reads_is_left_over() {
    let (_tmp, root) = checkout_fixture("primer");
    let conf = root.join("sqitch/sqitch.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let cut = text.find("[engine \"sqlite\"]").unwrap();
    std::fs::write(&conf, &text[..cut]).unwrap();
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "sqitch/pg: OK (4 changes)\n");
    assert!(
        err.contains("warning: sqitch/sqlite/sqitch.plan: sqitch does not read this plan: no target or engine of sqitch/sqitch.conf reads it (they read sqitch/pg/sqitch.plan)"),
        "{err}"
    );
    if sqitch_installed() {
        let plans = plans_the_targets_read(&root, "sqitch").unwrap();
        assert_eq!(plans, ["sqitch/pg/sqitch.plan"]);
    }
}

/// One plan that two engines read with script folders of their own is two
/// chains, named after the plan and the engine; renaming a change moves
/// both engines' scripts, and sqitch deploys the renamed plan.
#[test]
fn one_plan_read_by_two_engines_with_their_own_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shop");
    let mut files: Vec<(String, String)> = vec![
        (
            "sqitch.conf".into(),
            "[core]\n\tengine = pg\n[engine \"pg\"]\n\ttarget = db:pg:shop\n\tdeploy_dir = pg/deploy\n\trevert_dir = pg/revert\n\tverify_dir = pg/verify\n\
             [engine \"sqlite\"]\n\tdeploy_dir = sqlite/deploy\n\trevert_dir = sqlite/revert\n\tverify_dir = sqlite/verify\n\
             [target \"ci\"]\n\turi = db:sqlite:ci.db\n"
                .into(),
        ),
        (
            "sqitch.plan".into(),
            "%syntax-version=1.0.0\n%project=shop\n\n01-items 2026-06-01T00:00:00Z Ops <ops@x.app>\n02-prices [01-items] 2026-06-02T00:00:00Z Ops <ops@x.app>\n".into(),
        ),
    ];
    for engine in ["pg", "sqlite"] {
        for (change, sql) in [
            ("01-items", "CREATE TABLE items (id INTEGER PRIMARY KEY);"),
            (
                "02-prices",
                "CREATE TABLE prices (item INTEGER, cents INTEGER);",
            ),
        ] {
            let table = if change == "01-items" {
                "items"
            } else {
                "prices"
            };
            files.push((
                format!("{engine}/deploy/{change}.sql"),
                format!("-- {engine}\n{sql}\n"),
            ));
            files.push((
                format!("{engine}/revert/{change}.sql"),
                format!("-- {engine}\nDROP TABLE {table};\n"),
            ));
            files.push((
                format!("{engine}/verify/{change}.sql"),
                format!("-- {engine}\nSELECT * FROM {table} WHERE 0;\n"),
            ));
        }
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_tree(&root, &files);
    git_init(&root);
    let names: Vec<String> = chains_of(&root).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["sqitch.plan#ci", "sqitch.plan#pg"]);
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    if sqitch_installed() {
        let plans = plans_the_targets_read(&root, ".").unwrap();
        assert_eq!(plans, ["sqitch.plan"]);
    }
    let (code, out, err) = run(
        &root,
        &[
            "--chain",
            "sqitch.plan#ci",
            "renumber",
            "02-prices",
            "--to",
            "03",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    for engine in ["pg", "sqlite"] {
        for d in ["deploy", "revert", "verify"] {
            let moved = root.join(engine).join(d);
            assert!(moved.join("03-prices.sql").is_file(), "{engine}/{d}");
            assert!(!moved.join("02-prices.sql").exists(), "{engine}/{d}");
        }
    }
    let (code, out, err) = run(&root, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    if sqitch_installed() {
        let db = tempfile::tempdir().unwrap();
        deploys_to(
            &root,
            &format!("db:sqlite:{}", db.path().join("s.db").display()),
        )
        .unwrap();
    }
}

/// The gate deploys the Postgres engine's plan to its Postgres and leaves
/// the SQLite engine's alone, saying so.
#[test]
fn the_gate_deploys_the_postgres_plan_only() {
    let Some(url) = crate::postgres::url() else {
        return;
    };
    let (_tmp, root) = checkout_fixture("primer");
    let o = migfix(
        &root,
        &[
            "-C",
            root.to_str().unwrap(),
            "gate",
            "--database-url",
            url.as_str(),
        ],
    );
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{out}");
    for step in [
        "sqitch/pg — sqitch deploy --verify ... ok",
        "sqitch/pg — sqitch revert --to @HEAD^ ... ok",
        "sqitch/sqlite — not deployed: sqitch reads this plan for sqlite, not Postgres ... ok",
        "gate passed: 2 chains",
    ] {
        assert!(out.contains(step), "{step}: {out}");
    }
}
