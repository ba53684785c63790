//! Mutated CI logs, seeded from the fixtures' logs (and `../shared/seeds`
//! when present), never crash `migfix diagnose --log` (see [`fuzz`]); a
//! password planted in a database URL in the log is printed in no form.

use proptest::prelude::*;

use crate::common::*;
use crate::fuzz;

/// Pieces of logs a mutation inserts or puts in place of a line (besides
/// the common ones of [`fuzz::mutate`]).
const PIECES: &[&[u8]] = &[
    b"Traceback (most recent call last):\n",
    b"  File \"/srv/app/migrations/versions/0002_x.py\", line 12, in upgrade\n",
    b"INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, paper orders\n",
    b"sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation \"paper_orders\" already exists\n",
    b"psycopg2.errors.UndefinedObject: role \"raptor_app\" does not exist\n",
    b"FAILED: Multiple head revisions are present for given argument 'head'\n",
    b"django.db.migrations.exceptions.NodeNotFoundError: Migration shop.0002_x dependencies reference nonexistent parent node ('shop', '0001_y')\n",
    b"Conflicting migrations detected; multiple leaf nodes in the migration graph: (0002_a, 0002_b in shop).\n",
    b"# deploy 'x' .. not ok\n",
    b"##[error]Process completed with exit code 1.\n",
    b"::error file=a.py,line=1::boom\n",
    b"\x1b[31m",
    b"\x1b[0m",
    b"2026-06-05T10:00:00.0000000Z ",
    b"password=",
    b"postgresql://",
    b"@",
    b"?",
    b"&",
];

/// The seeds: the fixtures' logs, and `../shared/seeds` beside the
/// repository when it is there.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = fuzz::seed_files(&fixture("logs"), &[".txt"]);
        seeds.extend(fuzz::seed_files(&repo().join("../shared/seeds"), &[".txt"]));
        seeds
    })
}

/// Where a URL stands in a log line, as tools print one.
const CONTEXTS: &[(&str, &str)] = &[
    ("could not connect to ", "\n"),
    ("DATABASE_URL=", " alembic upgrade head\n"),
    ("connection to server at ", ", port 5432 failed: timeout\n"),
    ("", ""),
];

proptest::proptest! {
    #![proptest_config(fuzz::config(400))]

    #[test]
    fn mutated_logs_never_crash_nor_print_a_planted_password(
        seed in any::<usize>(),
        edits in fuzz::edits(),
        pw in "[!-~éß密🔑]{8,16}",
        form in 0usize..4,
        context in 0usize..CONTEXTS.len(),
        at in any::<usize>(),
        json in any::<bool>(),
    ) {
        static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        let dir = DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            copy_tree(&fixture("failing/f-duplicate-table"), dir.path());
            dir
        });
        let seeds = seeds();
        let mut log = fuzz::mutate(seeds[seed % seeds.len()].clone(), &edits, PIECES);
        let enc = crate::secrets::percent_encode(&pw);
        let url = match form {
            0 => format!("postgresql://ci:{pw}@db:5432/app"),
            1 => format!("postgresql://ci:{enc}@db/app?sslmode=require"),
            2 => format!("postgresql://ci@db/app?sslmode=require&password={enc}"),
            _ => format!("postgresql+psycopg2://ci@db/app?application_name=x#sslpassword={enc}"),
        };
        // The URL on a line of its own, after the mutations, so that it
        // is whole.
        let (before, after) = CONTEXTS[context];
        let line = format!("{before}{url}{after}\n");
        let starts: Vec<usize> = std::iter::once(0)
            .chain(log.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
            .collect();
        let at = starts[at % starts.len()];
        log.splice(at..at, line.bytes());
        let logs = tempfile::tempdir().unwrap();
        let file = logs.path().join("ci.log");
        std::fs::write(&file, &log).unwrap();
        let file = file.to_str().unwrap();
        let args: &[&str] = if json {
            &["diagnose", "--log", file, "--format", "json"]
        } else {
            &["diagnose", "--log", file]
        };
        let shown = || format!("{url}\nin:\n{}", String::from_utf8_lossy(&log));
        match fuzz::survives(dir.path(), &[args]) {
            Err(e) => prop_assert!(false, "{e}\n{}", shown()),
            Ok(outs) => {
                let out = stdout(&outs[0]) + &stderr(&outs[0]);
                let json_pw = serde_json::to_string(&pw).unwrap();
                for leaked in [pw.as_str(), enc.as_str(), &json_pw[1..json_pw.len() - 1]] {
                    prop_assert!(!out.contains(leaked), "shows {leaked:?}:\n{out}\n{}", shown());
                }
            }
        }
    }
}

#[test]
fn the_seeds_are_the_fixtures_logs() {
    // Guards the property test: it mutates every log of the fixtures, and
    // an unmutated one is diagnosed.
    assert!(seeds().len() >= 13, "{}", seeds().len());
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("failing/f-duplicate-table"), dir.path());
    let log = fixture("logs/runbook-f-duplicate-table.txt");
    let outs =
        fuzz::survives(dir.path(), &[&["diagnose", "--log", log.to_str().unwrap()]]).unwrap();
    assert_eq!(outs[0].status.code(), Some(1), "{}", stdout(&outs[0]));
}
