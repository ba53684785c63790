//! `migfix diagnose`: failure classes A–F.
//!
//! From logs: real Alembic runs against the throwaway Postgres of
//! tests/run.sh, on the chains in fixtures/failing/, with psycopg2 and with
//! psycopg 3, each log also rewrapped as GitHub Actions output; and the
//! runbook's own wordings (fixtures/logs/). From the tree: each class found
//! on its fixture, and its look-alikes not found.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use serde_json::Value;

use crate::common::*;
use crate::postgres::{self, Database};

const DRIVERS: [&str; 2] = ["psycopg2", "psycopg"];

/// `migfix diagnose [args] --format json` in `root`: (exit code, output).
fn diagnose(root: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["-C", root.to_str().unwrap(), "diagnose", "--format", "json"];
    all.extend_from_slice(args);
    let o = migfix(root, &all);
    let code = o.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    (
        code,
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o))),
    )
}

fn findings(v: &Value) -> Vec<Value> {
    v["findings"].as_array().unwrap().clone()
}

fn classes(v: &Value) -> Vec<String> {
    findings(v)
        .iter()
        .map(|f| f["class"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn s<'a>(f: &'a Value, key: &str) -> &'a str {
    f[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {f:#}"))
}

fn lines(f: &Value) -> Vec<usize> {
    f["log_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap() as usize)
        .collect()
}

// ---------------------------------------------------------------- real logs

/// A fixture chain copied to a temp dir, where Alembic may write.
fn checkout(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("failing").join(name), dir.path());
    dir
}

/// Runs `alembic upgrade head` in `dir` against `db` with `driver`; the
/// log is stdout and stderr interleaved, as CI shows it.
fn upgrade(dir: &Path, db: &Database, driver: &str) -> (bool, String) {
    let alembic = crate::oracle::alembic_bin().expect("alembic (tests/run.sh makes the venv)");
    let log = dir.join("upgrade.log");
    let file = std::fs::File::create(&log).unwrap();
    let status = Command::new(alembic)
        .args(["upgrade", "head"])
        .current_dir(dir)
        .env("DATABASE_URL", db.sqlalchemy_url(driver))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .expect("alembic runs");
    (status.success(), std::fs::read_to_string(&log).unwrap())
}

/// A real failing run: the checkout, the log's path and its text. `None`
/// when there is no Postgres or venv and they are not required.
struct Run {
    dir: tempfile::TempDir,
    log: PathBuf,
    text: String,
}

fn failing_run(name: &str, driver: &str, prepare: impl FnOnce(&Path, &Database)) -> Option<Run> {
    crate::oracle::alembic_bin()?;
    let db = Database::create(&format!("{name}_{driver}"))?;
    let dir = checkout(name);
    prepare(dir.path(), &db);
    let (ok, text) = upgrade(dir.path(), &db, driver);
    assert!(!ok, "{name} with {driver} should fail:\n{text}");
    let log = dir.path().join("upgrade.log");
    Some(Run { dir, log, text })
}

/// The same log as GitHub Actions shows it: a timestamp on every line, the
/// step in a group, colour, and the closing `##[error]`.
fn as_github_actions(text: &str) -> String {
    let mut out =
        String::from("\u{feff}2026-05-11T14:02:00.0000000Z ##[group]Run alembic upgrade head\n");
    out.push_str("2026-05-11T14:02:00.0000000Z \x1b[36;1malembic upgrade head\x1b[0m\n");
    out.push_str("2026-05-11T14:02:00.0000000Z ##[endgroup]\n");
    for (i, line) in text.lines().enumerate() {
        let colour = if line.contains("Error") || line.contains("FAILED") {
            "\x1b[31m"
        } else {
            ""
        };
        out.push_str(&format!(
            "2026-05-11T14:02:{:02}.{:07}Z {colour}{line}\x1b[0m\n",
            1 + i / 1000 % 59,
            i
        ));
    }
    out.push_str("2026-05-11T14:03:00.0000000Z ##[error]Process completed with exit code 1.\n");
    out
}

/// What a real log must give: one finding of `class` about `subject`, in
/// `file` (the failing migration's name), with log lines that show it. The
/// same log as GitHub Actions output gives the same, three lines down.
fn check_real(run: &Run, class: &str, subject: Option<&str>, revision: &str, file: &str) -> Value {
    let (code, v) = diagnose(run.dir.path(), &["--log", run.log.to_str().unwrap()]);
    assert_eq!(code, 1);
    let found = findings(&v);
    assert_eq!(found.len(), 1, "{v:#}\n---\n{}", run.text);
    let f = found[0].clone();
    assert_eq!(s(&f, "class"), class, "{f:#}");
    assert_eq!(f["subject"].as_str(), subject, "{f:#}");
    assert_eq!(s(&f, "revision"), revision, "{f:#}");
    assert!(s(&f, "path").ends_with(file), "{f:#}");
    assert!(f["line"].as_u64().unwrap() > 0);
    let log_lines: Vec<&str> = run.text.lines().collect();
    let shown = lines(&f);
    assert!(!shown.is_empty());
    let error = s(&f, "error");
    assert!(
        shown.iter().any(|&n| log_lines[n - 1].trim_end() == error),
        "the error is on a line given: {f:#}"
    );
    assert!(!s(&f, "fix").is_empty());

    let gh = run.dir.path().join("github.log");
    std::fs::write(&gh, as_github_actions(&run.text)).unwrap();
    let (code, g) = diagnose(run.dir.path(), &["--log", gh.to_str().unwrap()]);
    assert_eq!(code, 1);
    let gf = &findings(&g)[0];
    assert_eq!(findings(&g).len(), 1, "{g:#}");
    for key in [
        "class", "subject", "revision", "path", "line", "error", "message",
    ] {
        assert_eq!(gf[key], f[key], "{key} differs in the GitHub Actions form");
    }
    assert_eq!(s(gf, "step"), "alembic upgrade head");
    let mut moved: Vec<usize> = shown.iter().map(|n| n + 3).collect();
    moved.push(run.text.lines().count() + 4);
    assert_eq!(
        lines(gf),
        moved,
        "the same lines, after the group header, and the ##[error]"
    );
    f
}

/// A driver's own error class is in the log, so the run really used it.
fn used_driver(run: &Run, driver: &str) {
    assert!(
        run.text.contains(&format!("{driver}.errors.")),
        "no {driver}.errors in:\n{}",
        run.text
    );
}

#[test]
fn real_a_missing_seed_row() {
    for driver in DRIVERS {
        let Some(run) = failing_run("a-seed-row", driver, |_, _| {}) else {
            return;
        };
        let f = check_real(
            &run,
            "A",
            Some("admins"),
            "0002",
            "migrations/versions/0002_platform_owners_group.py",
        );
        assert!(f["sql"].as_str().unwrap().contains("INSERT INTO admins (email)\nVALUES ('kris@moosequest.net')\nON CONFLICT DO NOTHING;"), "{f:#}");
        assert!(
            s(&f, "fix").contains("`alembic upgrade 0001`"),
            "the two-phase upgrade names the revision before: {f:#}"
        );
        assert!(s(&f, "message").contains("'kris@moosequest.net'"));
    }
}

#[test]
fn real_b_missing_role() {
    for driver in DRIVERS {
        // A role of its own, so that no other test's role can satisfy it.
        let role = format!("raptor_app_{}_{driver}", std::process::id());
        let Some(run) = failing_run("b-role", driver, |dir, _| {
            let file = dir.join("migrations/versions/0002_paper_orders.py");
            let text = std::fs::read_to_string(&file)
                .unwrap()
                .replace("raptor_app", &role);
            std::fs::write(file, text).unwrap();
        }) else {
            return;
        };
        used_driver(&run, driver);
        let f = check_real(
            &run,
            "B",
            Some(&role),
            "0002",
            "migrations/versions/0002_paper_orders.py",
        );
        assert_eq!(f["line"], 26, "the GRANT's line, from the traceback");
        assert!(s(&f, "statement")
            .starts_with("GRANT SELECT, INSERT, UPDATE, DELETE ON paper_orders TO raptor_app_"));
        let sql = s(&f, "sql");
        assert!(
            sql.contains(&format!(
                "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN"
            )),
            "{sql}"
        );
        assert!(
            sql.contains(&format!("CREATE ROLE {role} NOLOGIN;")),
            "{sql}"
        );
    }
}

#[test]
fn real_c_multiple_heads() {
    for driver in DRIVERS {
        let Some(run) = failing_run("c-heads", driver, |_, _| {}) else {
            return;
        };
        assert!(
            run.text.contains("Multiple head revisions are present"),
            "{}",
            run.text
        );
        let f = check_real(
            &run,
            "C",
            None,
            "0003",
            "migrations/versions/0003_tax_lot_cost_basis.py",
        );
        assert_eq!(s(&f, "message"), "2 heads: 0002 and 0003 (all revise 0001)");
        assert!(s(&f, "command").ends_with("merge-heads"), "{f:#}");
    }
}

#[test]
fn real_d_non_immutable_predicate() {
    for driver in DRIVERS {
        let Some(run) = failing_run("d-predicate", driver, |_, _| {}) else {
            return;
        };
        used_driver(&run, driver);
        assert!(run
            .text
            .contains("functions in index predicate must be marked IMMUTABLE"));
        let f = check_real(
            &run,
            "D",
            Some("ix_alerts_recent"),
            "0002",
            "migrations/versions/0002_recent_alerts_index.py",
        );
        assert_eq!(f["line"], 25, "the postgresql_where line");
        assert!(
            s(&f, "message").contains("its predicate uses now()"),
            "{f:#}"
        );
    }
}

#[test]
fn real_d_non_immutable_expression() {
    for driver in DRIVERS {
        let Some(run) = failing_run("d-expression", driver, |_, _| {}) else {
            return;
        };
        used_driver(&run, driver);
        assert!(run
            .text
            .contains("functions in index expression must be marked IMMUTABLE"));
        let f = check_real(
            &run,
            "D",
            Some("ix_events_payload_ts"),
            "0002",
            "migrations/versions/0002_events_by_time.py",
        );
        assert!(
            s(&f, "message").contains("its expression uses a cast to timestamptz"),
            "{f:#}"
        );
    }
}

#[test]
fn real_e_dangling_down_revision() {
    for driver in DRIVERS {
        let Some(run) = failing_run("e-dangling", driver, |_, _| {}) else {
            return;
        };
        assert!(run.text.contains("KeyError: '0001_base'"), "{}", run.text);
        let f = check_real(
            &run,
            "E",
            Some("0001_base"),
            "0002",
            "migrations/versions/0002_accounts_email.py",
        );
        assert_eq!(lines(&f).len(), 2, "the warning and the KeyError: {f:#}");
        assert_eq!(s(&f, "fix"), "point down_revision at 0001");
    }
}

#[test]
fn real_e_revision_deleted_after_deploy() {
    for driver in DRIVERS {
        let Some(run) = failing_run("e-missing", driver, |dir, db| {
            let (ok, text) = upgrade(dir, db, driver);
            assert!(ok, "the chain upgrades before the file goes:\n{text}");
            std::fs::remove_file(dir.join("migrations/versions/0002_accounts_email.py")).unwrap();
        }) else {
            return;
        };
        assert!(
            run.text
                .contains("Can't locate revision identified by '0002'"),
            "{}",
            run.text
        );
        let (code, v) = diagnose(run.dir.path(), &["--log", run.log.to_str().unwrap()]);
        assert_eq!(code, 1);
        let f = &findings(&v)[0];
        assert_eq!((s(f, "class"), s(f, "subject")), ("E", "0002"));
        assert!(s(f, "fix").contains("alembic_version"), "{f:#}");
    }
}

#[test]
fn real_f_duplicate_table() {
    for driver in DRIVERS {
        let Some(run) = failing_run("f-duplicate-table", driver, |_, _| {}) else {
            return;
        };
        used_driver(&run, driver);
        let f = check_real(
            &run,
            "F",
            Some("paper_orders"),
            "0002",
            "migrations/versions/0002_mbt_paper_tables.py",
        );
        let related = &f["related"][0];
        assert_eq!(
            (s(related, "path"), related["line"].as_u64()),
            ("migrations/versions/0001_paper_orders.py", Some(21))
        );
        assert!(s(&f, "message").contains(
            "0001_paper_orders.py:21 and again by migrations/versions/0002_mbt_paper_tables.py:22"
        ));
    }
}

/// Roles are global to the server: create CI's roles once, not racing.
static ROLES: Mutex<()> = Mutex::new(());

#[test]
fn real_lookalikes_upgrade_cleanly_and_are_not_findings() {
    let (code, v) = diagnose(&fixture("failing/lookalikes"), &[]);
    assert_eq!((code, findings(&v).len()), (0, 0), "{v:#}");
    let Some(_alembic) = crate::oracle::alembic_bin() else {
        return;
    };
    let Some(server) = postgres::url() else {
        return;
    };
    {
        let _one = ROLES.lock().unwrap();
        // what the CI workflow and production provide (ci.yml, migfix.toml `roles`)
        for role in ["ci_reader", "reporting"] {
            postgres::sql(
                &server,
                &format!("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"),
            );
        }
    }
    for driver in DRIVERS {
        let db = Database::create(&format!("lookalikes_{driver}")).unwrap();
        let dir = checkout("lookalikes");
        let (ok, text) = upgrade(dir.path(), &db, driver);
        assert!(
            ok,
            "the look-alikes are fine on Postgres with {driver}:\n{text}"
        );
        let (code, v) = diagnose(
            dir.path(),
            &["--log", dir.path().join("upgrade.log").to_str().unwrap()],
        );
        assert_eq!(
            (code, findings(&v).len()),
            (0, 0),
            "a clean log has no findings: {v:#}"
        );
    }
}

#[test]
fn log_from_standard_input() {
    let Some(run) = failing_run("a-seed-row", "psycopg", |_, _| {}) else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args([
            "-C",
            run.dir.path().to_str().unwrap(),
            "diagnose",
            "--log",
            "-",
            "--format",
            "json",
        ])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), run.text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["log"], "-");
    assert_eq!(classes(&v), ["A"]);
}

// ------------------------------------------------------ the runbook's words

#[test]
fn runbook_wordings() {
    let root = fixture("healthy");
    let cases = [
        ("runbook-a-seed-row.txt", "A", Some("admins")),
        ("runbook-b-role.txt", "B", Some("raptor_app")),
        ("runbook-c-head-count.txt", "C", None),
        ("runbook-c-multiple-heads.txt", "C", None),
        ("runbook-d-immutable.txt", "D", None),
        ("runbook-e-locate.txt", "E", Some("<hash>")),
        ("runbook-f-duplicate-table.txt", "F", Some("<table_name>")),
    ];
    for (file, class, subject) in cases {
        let log = fixture("logs").join(file);
        let (code, v) = diagnose(&root, &["--log", log.to_str().unwrap()]);
        assert_eq!(code, 1, "{file}");
        let found = findings(&v);
        assert_eq!(found.len(), 1, "{file}: {v:#}");
        assert_eq!(s(&found[0], "class"), class, "{file}");
        assert_eq!(found[0]["subject"].as_str(), subject, "{file}");
        let text = std::fs::read_to_string(&log).unwrap();
        let first = text.lines().nth(lines(&found[0])[0] - 1).unwrap();
        assert!(!first.is_empty(), "{file}");
    }
    let a = diagnose(
        &root,
        &[
            "--log",
            fixture("logs/runbook-a-seed-row.txt").to_str().unwrap(),
        ],
    )
    .1;
    assert!(s(&findings(&a)[0], "sql").contains("VALUES ('kris@moosequest.net')"));
    let b = diagnose(
        &root,
        &[
            "--log",
            fixture("logs/runbook-b-role.txt").to_str().unwrap(),
        ],
    )
    .1;
    assert_eq!(
        s(&findings(&b)[0], "sql"),
        "DO $$ BEGIN\nIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'raptor_app') THEN\n    CREATE ROLE raptor_app NOLOGIN;\nEND IF;\nEND $$;"
    );
    // the error table, one row per class
    let (_, v) = diagnose(
        &root,
        &[
            "--log",
            fixture("logs/runbook-error-table.txt").to_str().unwrap(),
        ],
    );
    assert_eq!(classes(&v), ["A", "B", "C", "D", "E", "F"], "{v:#}");
}

#[test]
fn github_actions_log_points_into_the_incident_tree() {
    let root = fixture("incident-2026-06-05");
    let (code, v) = diagnose(
        &root,
        &[
            "--log",
            fixture("logs/gha-raptor-role.txt").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    let found = findings(&v);
    assert_eq!(found.len(), 1, "{v:#}");
    let f = &found[0];
    assert_eq!(
        (
            s(f, "class"),
            s(f, "subject"),
            s(f, "chain"),
            s(f, "revision")
        ),
        ("B", "raptor_app", "backend_v2", "0002")
    );
    assert_eq!(
        (s(f, "path"), f["line"].as_u64()),
        ("backend_v2/alembic/versions/0002_paper_orders.py", Some(35))
    );
    assert_eq!(s(f, "step"), "alembic upgrade head");
    assert_eq!(lines(f), [26, 41, 45]);
    assert!(
        s(f, "fix").contains("before `cd backend_v2 && alembic upgrade head`"),
        "{f:#}"
    );
    let o = migfix(
        &repo(),
        &[
            "-C",
            "fixtures/incident-2026-06-05",
            "diagnose",
            "--log",
            "fixtures/logs/gha-raptor-role.txt",
        ],
    );
    snapshot_settings(None)
        .bind(|| insta::assert_snapshot!("diagnose_log_gha_raptor_role", stdout(&o)));
}

#[test]
fn asyncpg_and_unclassified_logs() {
    let root = fixture("incident-2026-06-05");
    let (_, v) = diagnose(
        &root,
        &["--log", fixture("logs/asyncpg.txt").to_str().unwrap()],
    );
    let got: Vec<(String, String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                s(f, "class").into(),
                s(f, "subject").into(),
                s(f, "path").into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "B".into(),
                "raptor_app".into(),
                "backend_v2/alembic/versions/0002_paper_orders.py".into()
            ),
            (
                "F".into(),
                "paper_orders".into(),
                "backend_v2/alembic/versions/0022_mbt_paper_tables.py".into()
            ),
        ]
    );
    // Unknown failures are kept, each with its migration and error line.
    let (code, v) = diagnose(
        &root,
        &["--log", fixture("logs/unclassified.txt").to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let found = findings(&v);
    assert_eq!(found.len(), 3, "{v:#}");
    assert!(found
        .iter()
        .all(|f| f["class"].is_null() && f["kind"] == "unclassified"));
    assert_eq!(
        s(&found[0], "error"),
        "psycopg.errors.UndefinedColumn: column \"base_currency\" does not exist"
    );
    assert_eq!(s(&found[0], "revision"), "0041");
    assert_eq!(
        s(&found[0], "path"),
        "/app/console/migrations/versions/0041_backfill_currency.py",
        "not this tree's 0041"
    );
    assert!(s(&found[1], "fix").contains("downgrade()"));
    assert!(s(&found[2], "fix").contains("re-run the job once"));
}

#[test]
fn empty_and_clean_logs_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ok.log");
    std::fs::write(
        &log,
        "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, x\n",
    )
    .unwrap();
    let o = migfix(dir.path(), &["-C", ".", "diagnose", "--log", "ok.log"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ok.log: OK (1 lines, no failure found)\n");
}

#[test]
fn unreadable_log_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = migfix(dir.path(), &["-C", ".", "diagnose", "--log", "missing.log"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: missing.log: cannot read the log: "),
        "{}",
        stderr(&o)
    );
    let o = migfix(dir.path(), &["-C", ".", "diagnose", "--log", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn unreadable_tree_still_classifies_the_log() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "alembic.ini",
                "[alembic]\nscript_location = %(here)s/migrations\n",
            ),
            (
                "migrations/versions/0001_a.py",
                "revision = '0001'\ndown_revision = None\ndef upgrade(:\n",
            ),
            (
                "ci.log",
                "psycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist\n",
            ),
        ],
    );
    let o = migfix(dir.path(), &["-C", ".", "diagnose", "--log", "ci.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("[B] role raptor_app does not exist"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("the tree could not be read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn broken_pipe_is_success() {
    // Far more output than a pipe holds, so that writing must fail.
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..3000 {
        log.push_str(&format!(
            "+ step {i}\npsycopg2.errors.UndefinedObject: role \"role_{i}\" does not exist\n"
        ));
    }
    std::fs::write(dir.path().join("big.log"), log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_migfix"))
        .args([
            "-C",
            dir.path().to_str().unwrap(),
            "diagnose",
            "--log",
            "big.log",
        ])
        .current_dir(dir.path())
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------- from the tree

/// (class, subject, file:line) of one expected finding.
type Expected<'a> = (&'a str, Option<&'a str>, &'a str);

#[test]
fn each_class_found_in_its_tree() {
    let cases: [(&str, &[Expected<'_>]); 7] = [
        (
            "a-seed-row",
            &[("A", Some("admins"), "0002_platform_owners_group.py:25")],
        ),
        (
            "b-role",
            &[("B", Some("raptor_app"), "0002_paper_orders.py:26")],
        ),
        ("c-heads", &[("C", None, "0003_tax_lot_cost_basis.py:14")]),
        (
            "d-predicate",
            &[
                (
                    "D",
                    Some("ix_alerts_recent"),
                    "0002_recent_alerts_index.py:25",
                ),
                ("D", Some("ix_alerts_due"), "0003_due_alerts_index.py:25"),
            ],
        ),
        (
            "d-expression",
            &[(
                "D",
                Some("ix_events_payload_ts"),
                "0002_events_by_time.py:21",
            )],
        ),
        (
            "e-dangling",
            &[
                ("C", None, "0002_accounts_email.py:14"),
                ("E", None, "0002_accounts_email.py:14"),
            ],
        ),
        (
            "f-duplicate-table",
            &[
                ("F", Some("paper_orders"), "0002_mbt_paper_tables.py:22"),
                ("F", Some("paper_fills"), "0003_paper_fills_raw.py:21"),
            ],
        ),
    ];
    for (name, want) in cases {
        let (code, v) = diagnose(&fixture("failing").join(name), &[]);
        assert_eq!(code, 1, "{name}");
        let got: Vec<(String, Option<String>, String)> = findings(&v)
            .iter()
            .map(|f| {
                let path = s(f, "path").rsplit('/').next().unwrap().to_string();
                (
                    s(f, "class").to_string(),
                    f["subject"].as_str().map(str::to_string),
                    format!("{path}:{}", f["line"]),
                )
            })
            .collect();
        let want: Vec<(String, Option<String>, String)> = want
            .iter()
            .map(|(c, sub, at)| (c.to_string(), sub.map(str::to_string), at.to_string()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn look_alikes_are_not_found() {
    // an immutable predicate, a table rebuilt after a drop, roles created in
    // CI, in migfix.toml and by an earlier migration, a lookup that returns
    let (code, v) = diagnose(&fixture("failing/lookalikes"), &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(findings(&v).len(), 0);
    let o = migfix(&fixture("failing/lookalikes"), &["-C", ".", "check"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));
    // The same GRANT without the CI workflow is a finding.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("failing/lookalikes"), dir.path());
    std::fs::remove_dir_all(dir.path().join(".github")).unwrap();
    let (_, v) = diagnose(dir.path(), &[]);
    assert_eq!(classes(&v), ["B"]);
    assert_eq!(s(&findings(&v)[0], "subject"), "ci_reader");
}

#[test]
fn incident_tree_a_b_c() {
    let root = fixture("incident-2026-06-05");
    let (code, v) = diagnose(&root, &[]);
    assert_eq!(code, 1);
    assert_eq!(classes(&v), ["B", "C", "A"]);
    let o = migfix(&root, &["-C", ".", "diagnose"]);
    snapshot_settings(None).bind(|| insta::assert_snapshot!("diagnose_incident", stdout(&o)));
    snapshot_settings(None).bind(|| insta::assert_json_snapshot!("diagnose_incident_json", v));
    // healthy: CI creates the role, 0016 never raises
    let (code, v) = diagnose(&fixture("healthy"), &[]);
    assert_eq!((code, findings(&v).len()), (0, 0), "{v:#}");
}

#[test]
fn check_fails_on_d_and_f_and_warns_on_a_and_b() {
    for (name, code) in [
        ("a-seed-row", 0),
        ("b-role", 0),
        ("d-predicate", 1),
        ("d-expression", 1),
        ("f-duplicate-table", 1),
    ] {
        let o = migfix(&fixture("failing").join(name), &["-C", ".", "check"]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{name}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        if code == 0 {
            assert!(
                stderr(&o).starts_with("warning: migrations/versions/0002_"),
                "{name}: {}",
                stderr(&o)
            );
            let q = migfix(&fixture("failing").join(name), &["-C", ".", "-q", "check"]);
            assert_eq!(stderr(&q), "", "-q hides warnings");
        } else {
            assert!(stdout(&o).contains("FAILED"), "{name}");
        }
    }
}

#[test]
fn sqitch_deploy_scripts_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[
        ("db/sqitch.conf", "[core]\n\tengine = pg\n"),
        ("db/sqitch.plan", "%syntax-version=1.0.0\n%project=q\n\n01-jobs 2026-06-17T00:00:00Z bot <b@x.app>\n02-jobs-again 2026-06-18T00:00:00Z bot <b@x.app>\n"),
        ("db/deploy/01-jobs.sql", "BEGIN;\nCREATE TABLE jobs (id int);\nGRANT SELECT ON jobs TO queue_worker;\nCOMMIT;\n"),
        ("db/deploy/02-jobs-again.sql", "BEGIN;\nCREATE TABLE jobs (id int);\nCREATE INDEX ix_jobs_due ON jobs (id) WHERE run_after < now();\nCOMMIT;\n"),
        ("db/revert/01-jobs.sql", "DROP TABLE jobs;\n"),
        ("db/revert/02-jobs-again.sql", "SELECT 1;\n"),
    ]);
    let (code, v) = diagnose(dir.path(), &[]);
    assert_eq!(code, 1);
    // The plan lint (no verify scripts here) is not what this test is about.
    let got: Vec<String> = findings(&v)
        .iter()
        .filter(|f| f["class"].is_string())
        .map(|f| {
            format!(
                "{} {} {}:{}",
                s(f, "class"),
                s(f, "subject"),
                s(f, "path"),
                f["line"]
            )
        })
        .collect();
    assert!(
        findings(&v)
            .iter()
            .any(|f| f["kind"] == "sqitch-verify-script"),
        "the lint still runs"
    );
    assert_eq!(
        got,
        [
            "B queue_worker db/deploy/01-jobs.sql:3",
            "D ix_jobs_due db/deploy/02-jobs-again.sql:3",
            "F jobs db/deploy/02-jobs-again.sql:2",
        ]
    );
    let b = findings(&v)
        .into_iter()
        .find(|f| f["class"] == "B")
        .expect("a class B finding");
    assert!(s(&b, "fix").contains("before `sqitch deploy`"));
}
