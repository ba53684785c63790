//! Issue #30: `diagnose --log` on the shapes real logs take. Classes come
//! from what holds across drivers and languages first (SQLSTATE codes,
//! exception class names, Postgres's messages in its translations); a log
//! that failed is never "OK"; look-alikes get no class.

use crate::common::*;

/// Classes (`?` for a failure not recognised), subjects and exit status
/// of `diagnose --log` on `log`, outside any tree.
fn verdict(log: impl AsRef<[u8]>) -> (i32, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ci.log");
    std::fs::write(&file, log).unwrap();
    let o = migfix(
        dir.path(),
        &[
            "diagnose",
            "--format",
            "json",
            "--log",
            file.to_str().unwrap(),
        ],
    );
    let code = o.status.code().unwrap_or(-1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    let found = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap_or("?").to_string(),
                f["subject"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (code, found)
}

fn one(log: &str, class: &str, subject: &str) {
    let (code, found) = verdict(log);
    assert_eq!(code, 1, "{log}");
    assert_eq!(found, [(class.to_string(), subject.to_string())], "{log}");
}

/// A server that speaks LATIN1 to its client sends a translation's « »
/// as single bytes that are not UTF-8: the log still shows the class.
#[test]
fn translated_quotes_in_another_encoding() {
    let log: &[u8] =
        b"DBD::Pg::db do failed: ERROR:  no existe el rol \xabnetdot\xbb at ../lib/DBUTIL.pm line 594.\n";
    let (code, found) = verdict(log);
    assert_eq!(code, 1);
    assert_eq!(found, [("B".to_string(), "netdot".to_string())]);
    let log: &[u8] = b"FEHLER:  Relation \xbbchat\xab existiert bereits\n";
    assert_eq!(verdict(log).1, [("F".to_string(), "chat".to_string())]);
}

#[test]
fn look_alikes_get_no_class() {
    for log in [
        // A column or a constraint that exists is not a table created twice.
        "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column \"uuid\" of relation \"chat\" already exists\n[SQL: ALTER TABLE chat ADD COLUMN uuid UUID]\n",
        "psycopg2.errors.DuplicateObject: constraint \"fk_owner\" for relation \"jobs\" already exists\n",
        // A role missing when connecting is a login failure: no GRANT fixes it.
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"localhost\" (::1), port 5432 failed: FATAL:  role \"xyz\" does not exist\n",
        "asyncpg.exceptions.InvalidAuthorizationSpecificationError: role \"xyz\" does not exist\n",
    ] {
        one(log, "?", "");
    }
}

#[test]
fn failed_logs_are_never_ok() {
    for log in [
        // The OOM killer, as a shell reports it.
        "Running migrations:\n  Applying shop.0042_backfill...\n/entrypoint.sh: line 5:    42 Killed                  python manage.py migrate\n",
        "Killed\n",
        // sqitch runs psql.
        "+ 0042-widgets ...................... psql:deploy/0042-widgets.sql:3: ERROR:  syntax error at or near \"TABEL\"\nnot ok\nDeploy failed\n",
        // MySQL's client.
        "ERROR 1054 (42S22) at line 1: Unknown column 'x' in 'field list'\n",
        // Flask-Migrate's wording, and an error after a docker compose prefix.
        "Error running migrations: (psycopg2.errors.InvalidObjectDefinition) generation expression is not immutable\n",
        "web-1  | psycopg2.errors.UndefinedColumn: column \"base_currency\" does not exist\n",
        "2026-06-01 10:00:00 [worker] job 7 failed: psycopg2.errors.SyntaxError: syntax error at end of input\n",
    ] {
        one(log, "?", "");
    }
    // A log with no failure at all is OK.
    let (code, found) = verdict("INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, widgets\nWARNING: no error here\n");
    assert_eq!((code, found.len()), (0, 0));
}

#[test]
fn classes_in_every_wording() {
    let cases: &[(&str, &str, &str)] = &[
        // Django's older conflict wording.
        ("CommandError: Conflicting migrations detected (0015_merge, 0015_auto_20160112_1205 in shop).\nTo fix them run 'python manage.py makemigrations --merge'\n", "C", ""),
        // A bare KeyError from Alembic's revision map.
        ("Traceback (most recent call last):\n  File \"/venv/lib/python3.11/site-packages/alembic/script/revision.py\", line 210, in _revision_map\n    down_revision = map_[downrev]\nKeyError: 'a1927b321511'\n", "E", "a1927b321511"),
        // Postgres in Spanish, German and Russian.
        ("psycopg2.errors.InvalidObjectDefinition: las funciones utilizadas en expresiones de índice deben estar marcadas IMMUTABLE\n", "D", ""),
        ("psycopg2.errors.DuplicateTable: FEHLER:  Relation »paper_orders« existiert bereits\n", "F", "paper_orders"),
        ("psycopg2.errors.UndefinedObject: ОШИБКА:  роль \"raptor_app\" не существует\n[SQL: GRANT SELECT ON paper_orders TO raptor_app]\n", "B", "raptor_app"),
        // Failed lookups in Django and SQLAlchemy are class A.
        ("  File \"/app/shop/migrations/0042_seed.py\", line 9, in forwards\n    Currency.objects.get(code='EUR')\nshop.models.Currency.DoesNotExist: Currency matching query does not exist.\n", "A", "Currency"),
        ("sqlalchemy.exc.NoResultFound: No row was found when one was required\n", "A", ""),
        // A SQLSTATE code, as Go's pq prints it.
        ("pq: relation already exists (SQLSTATE 42P07)\n", "F", ""),
        // After a docker compose prefix.
        ("db-migrate-1  | psycopg2.errors.DuplicateTable: relation \"chat\" already exists\n", "F", "chat"),
    ];
    for (log, class, subject) in cases {
        one(log, class, subject);
    }
}

/// The translated messages are those postgresql-15's catalogs hold, where
/// the package is installed (tests/run.sh installs it).
#[test]
fn the_message_catalog_is_current() {
    if !std::path::Path::new("/usr/share/locale/de/LC_MESSAGES/postgres-15.mo").exists() {
        eprintln!("postgresql-15's message catalogs are not installed: not compared");
        return;
    }
    let o = std::process::Command::new("python3")
        .arg(repo().join("tests/oracle/pg_messages.py"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let committed =
        std::fs::read_to_string(repo().join("src/commands/diagnose/catalog.rs")).unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout) == committed,
        "run: python3 tests/oracle/pg_messages.py > src/commands/diagnose/catalog.rs"
    );
}

/// A tree with a part that cannot be read does not change the log's
/// verdict: the part is a warning.
#[test]
fn a_broken_tree_leaves_the_log_verdict() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("alembic.ini", "[alembic]\nscript_location = nowhere\n"),
            (
                "ci.log",
                "psycopg2.errors.DuplicateTable: relation \"chat\" already exists\n",
            ),
            ("ok.log", "INFO all done\n"),
        ],
    );
    for (log, want) in [("ci.log", 1), ("ok.log", 0)] {
        let o = migfix(dir.path(), &["diagnose", "--log", log]);
        assert_eq!(o.status.code(), Some(want), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stderr(&o).contains("warning: alembic.ini:2"),
            "{}",
            stderr(&o)
        );
    }
}

/// sqitch deploys through psql: its output carries psql's `ERROR:` lines,
/// which name the class as any other client's do.
#[test]
fn sqitch_deploy_logs_of_each_class() {
    let deploy = |change: &str, error: &str| {
        format!("Deploying changes to db:pg://app@localhost/app\n  + 01-schema .. ok\n  + {change} .. psql:deploy/{change}.sql:3: ERROR:  {error}\nnot ok\n\"psql\" unexpectedly returned exit value 3\nDeploy failed\n")
    };
    one(
        &deploy("02-grants", "role \"reporting\" does not exist"),
        "B",
        "reporting",
    );
    one(
        &deploy(
            "03-ix-recent",
            "functions in index predicate must be marked IMMUTABLE",
        ),
        "D",
        "",
    );
    one(
        &deploy("04-jobs-again", "relation \"jobs\" already exists"),
        "F",
        "jobs",
    );
    // A deployed change the plan no longer has, in sqitch's words.
    one(
        "Cannot find change 4168bd129204d3c9137179a5e52173ffa07476bc (02-grants @v1.0) in /srv/db/sqitch.plan\n",
        "E",
        "4168bd129204d3c9137179a5e52173ffa07476bc",
    );
}
