//! Mutated configuration never crashes migfix: migfix.toml, pyproject.toml's
//! `[tool.migfix]` and alembic.ini (`file_template` included), seeded from
//! the fixtures and mutated, give exit 0, 1 or 2 from `chains` and `check`,
//! and an exit 2 names a file. Each crash found is a named test below.

use crate::common::*;
use crate::fuzz;

/// Pieces of configuration a mutation inserts or puts in place of a line
/// (besides the common ones of [`fuzz::mutate`]).
const PIECES: &[&[u8]] = &[
    b"[]",
    b"\"\"",
    b"[[chain]]\n",
    b"kind = \"mysql\"\n",
    b"kind = \"sqitch\"\n",
    b"kind = \"django\"\n",
    b"config = \"alembic.ini\"\n",
    b"config = \"queue/sqitch.conf\"\n",
    b"plan = \"queue/sqitch.plan\"\n",
    b"plan = \"x.plan\"\n",
    b"versions = []\n",
    b"versions = [\"migrations/versions\", \"nowhere\"]\n",
    b"versions = \"/\"\n",
    b"project = \".\"\n",
    b"apps = {}\n",
    b"apps = { shop = \"migrations\" }\n",
    b"settings = { module = \"x\", AUTH_USER_MODEL = \"a.B\" }\n",
    b"section = \"nope\"\n",
    b"heads = 0\n",
    b"branches = []\n",
    b"recursive = true\n",
    b"[tool.migfix]\n",
    b"[chain.gate]\n[[chain.gate.seed]]\nbefore = \"0001\"\nsql = \"\"\n",
    b"name = \"\"\n",
    b"file_template = %%(rev)s_%%(slug)s_%%(rev)s\n",
    b"file_template = %%(slug)s-%%(slug)s\n",
    b"file_template = %%(year)d_%%(month).2d_%%(rev)s_%%(year)d\n",
    b"%%(rev)s",
    b"%%(slug)s",
    b"%%(epoch)s",
    b"%%(month).99999d",
    b"%%(nope)s",
    b"%(here)s",
    b"%(",
    b"%%",
    b"version_locations = %(here)s/migrations/versions nowhere\n",
    b"path_separator = space\n",
    b"script_location = \n",
    b"script_location = ..\n",
    b"[alembic]\n",
    b"[DEFAULT]\n",
    b"  continued\n",
    b"recursive_version_locations = true\n",
    b".",
    b"/",
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

proptest::proptest! {
    #![proptest_config(fuzz::config(400))]

    #[test]
    fn mutated_configuration_never_crashes(
        target in 0u8..3,
        seed in proptest::prelude::any::<usize>(),
        keep_toml in proptest::prelude::any::<bool>(),
        edits in fuzz::edits(),
    ) {
        let seeds = seeds(target);
        let bytes = fuzz::mutate(seeds[seed % seeds.len()].clone(), &edits, PIECES);
        let file = ["migfix.toml", "pyproject.toml", "alembic.ini"][usize::from(target)];
        let dir = tree(file, &bytes, keep_toml);
        if let Err(e) = fuzz::survives(dir.path(), &[&["chains"], &["check"]]) {
            proptest::prop_assert!(false, "{e}\n{file}:\n{}", String::from_utf8_lossy(&bytes));
        }
    }
}
