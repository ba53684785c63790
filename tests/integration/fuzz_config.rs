//! Mutated configuration never crashes migfix: migfix.toml, pyproject.toml's
//! `[tool.migfix]` and alembic.ini (`file_template` included), seeded from
//! the fixtures and mutated, give exit 0, 1 or 2 from `chains` and `check`,
//! and an exit 2 names a file. Each crash found is a named test below.

use std::path::Path;

use crate::common::*;

/// Pieces a mutation inserts or puts in place of a line.
const PIECES: &[&str] = &[
    "[]",
    "\"\"",
    "[[chain]]\n",
    "kind = \"mysql\"\n",
    "kind = \"sqitch\"\n",
    "kind = \"django\"\n",
    "config = \"alembic.ini\"\n",
    "config = \"queue/sqitch.conf\"\n",
    "plan = \"queue/sqitch.plan\"\n",
    "plan = \"x.plan\"\n",
    "versions = []\n",
    "versions = [\"migrations/versions\", \"nowhere\"]\n",
    "versions = \"/\"\n",
    "project = \".\"\n",
    "apps = {}\n",
    "apps = { shop = \"migrations\" }\n",
    "settings = { module = \"x\", AUTH_USER_MODEL = \"a.B\" }\n",
    "section = \"nope\"\n",
    "heads = 0\n",
    "branches = []\n",
    "recursive = true\n",
    "[tool.migfix]\n",
    "[chain.gate]\n[[chain.gate.seed]]\nbefore = \"0001\"\nsql = \"\"\n",
    "name = \"\"\n",
    "file_template = %%(rev)s_%%(slug)s_%%(rev)s\n",
    "file_template = %%(slug)s-%%(slug)s\n",
    "file_template = %%(year)d_%%(month).2d_%%(rev)s_%%(year)d\n",
    "%%(rev)s",
    "%%(slug)s",
    "%%(epoch)s",
    "%%(month).99999d",
    "%%(nope)s",
    "%(here)s",
    "%(",
    "%%",
    "version_locations = %(here)s/migrations/versions nowhere\n",
    "path_separator = space\n",
    "script_location = \n",
    "script_location = ..\n",
    "[alembic]\n",
    "[DEFAULT]\n",
    "  continued\n",
    "recursive_version_locations = true\n",
    "\0",
    "\u{feff}",
    "=",
    "\"",
    "\n",
    "[",
    "]",
    "{",
    ".",
    "/",
    "\r",
];

/// The seeds: migfix.toml and alembic.ini as the fixtures have them, and
/// a migfix.toml with every kind of key.
fn seeds(target: u8) -> Vec<Vec<u8>> {
    let lookalikes = fixture("failing/lookalikes");
    let toml = std::fs::read(lookalikes.join("migfix.toml")).unwrap();
    let every = b"[[chain]]\nname = \"lookalikes\"\nconfig = \"alembic.ini\"\nsection = \"alembic\"\nroles = [\"reporting\"]\nheads = 1\n\n[[chain]]\nname = \"queue\"\nplan = \"queue/sqitch.plan\"\n\n[[chain]]\nname = \"bare\"\nversions = [\"migrations/versions\"]\nrecursive = false\nbranches = [\"a\"]\n[chain.gate]\n[[chain.gate.seed]]\nbefore = \"0002\"\nsql = \"select 1\"\n".to_vec();
    match target {
        0 => vec![toml, every],
        1 => [toml, every]
            .iter()
            .map(|t| {
                let t = String::from_utf8_lossy(t).replace("[chain", "[tool.migfix.chain");
                format!("[project]\nname = \"app\"\n\n{t}").into_bytes()
            })
            .collect(),
        _ => {
            let ini = std::fs::read(lookalikes.join("alembic.ini")).unwrap();
            let with_template = String::from_utf8_lossy(&ini).replace(
                "path_separator = os\n",
                "path_separator = os\nfile_template = %%(year)d_%%(rev)s_%%(slug)s\n",
            );
            vec![ini, with_template.into_bytes()]
        }
    }
}

/// `bytes` with each edit (where, what, which piece or how many) applied.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, usize)]) -> Vec<u8> {
    for &(at, what, n) in edits {
        let at = at % (bytes.len() + 1);
        let line_start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| at + i + 1);
        let piece = PIECES[n % PIECES.len()].as_bytes();
        match what % 4 {
            0 => drop(bytes.splice(at..at, piece.iter().copied())),
            1 => drop(bytes.drain(at..(at + 1 + n % 16).min(bytes.len()))),
            2 => drop(bytes.splice(line_start..line_end, piece.iter().copied())),
            _ => {
                let line = bytes[line_start..line_end].to_vec();
                drop(bytes.splice(line_start..line_start, line));
            }
        }
    }
    bytes
}

/// A small repository with `file` (migfix.toml, pyproject.toml or
/// alembic.ini) holding `bytes`: the look-alikes fixture's configuration
/// over two revisions, and a sqitch project of one change.
fn tree(file: &str, bytes: &[u8], keep_toml: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lookalikes = fixture("failing/lookalikes");
    for name in ["alembic.ini", "migfix.toml"] {
        std::fs::copy(lookalikes.join(name), dir.path().join(name)).unwrap();
    }
    write_tree(
        dir.path(),
        &[
            ("migrations/versions/0001_a.py", &revision_file("0001", None)),
            (
                "migrations/versions/0002_b.py",
                &revision_file("0002", Some("0001")),
            ),
            ("queue/sqitch.conf", "[core]\n\tengine = pg\n"),
            (
                "queue/sqitch.plan",
                "%syntax-version=1.0.0\n%project=queue\n\nfirst 2024-01-01T00:00:00Z A <a@example.com> # one\n",
            ),
            ("queue/deploy/first.sql", "create table t (id int);\n"),
            ("queue/revert/first.sql", "drop table t;\n"),
            ("queue/verify/first.sql", "select id from t;\n"),
        ],
    );
    if !keep_toml || file != "alembic.ini" {
        std::fs::remove_file(dir.path().join("migfix.toml")).unwrap();
    }
    std::fs::write(dir.path().join(file), bytes).unwrap();
    dir
}

/// `chains` and `check` end with 0, 1 or 2, never a panic or a signal; an
/// exit 2 names a file (a path, with a `.` or a `/`).
fn survives(dir: &Path) -> Result<(), String> {
    for cmd in ["chains", "check"] {
        let o = migfix(dir, &[cmd]);
        let err = stderr(&o);
        match o.status.code() {
            Some(0 | 1) => {}
            Some(2) => {
                let named = err.lines().any(|l| {
                    l.strip_prefix("error: ")
                        .and_then(|l| l.split_once(": "))
                        .is_some_and(|(file, _)| file.contains(['.', '/']))
                });
                if !named {
                    return Err(format!("{cmd}: exit 2 names no file:\n{err}"));
                }
            }
            other => return Err(format!("{cmd}: exit {other:?}:\n{err}")),
        }
        if err.contains("panicked") {
            return Err(format!("{cmd}: {err}"));
        }
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        // A few seconds by default; MIGFIX_FUZZ_CASES=N runs N.
        cases: std::env::var("MIGFIX_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn mutated_configuration_never_crashes(
        target in 0u8..3,
        seed in proptest::prelude::any::<usize>(),
        keep_toml in proptest::prelude::any::<bool>(),
        edits in proptest::collection::vec(
            (
                proptest::prelude::any::<usize>(),
                proptest::prelude::any::<u8>(),
                proptest::prelude::any::<usize>(),
            ),
            1..6,
        ),
    ) {
        let seeds = seeds(target);
        let bytes = mutate(seeds[seed % seeds.len()].clone(), &edits);
        let file = ["migfix.toml", "pyproject.toml", "alembic.ini"][usize::from(target)];
        let dir = tree(file, &bytes, keep_toml);
        if let Err(e) = survives(dir.path()) {
            proptest::prop_assert!(false, "{e}\n{file}:\n{}", String::from_utf8_lossy(&bytes));
        }
    }
}
