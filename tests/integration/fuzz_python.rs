//! Mutated Alembic revision files and Django migrations, seeded from the
//! fixtures' own, never crash migfix (see [`fuzz`]), and a refusal names
//! the file and its line. On a sample, migfix's verdict is CPython 3.11's
//! `compile()` verdict (compiled, never run).

use std::path::Path;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::common::*;
use crate::fuzz;

/// Pieces of Python a mutation inserts or puts in place of a line
/// (besides the common ones of [`fuzz::mutate`]).
const PIECES: &[&[u8]] = &[
    b":",
    b",",
    b";",
    b".",
    b"*",
    b"**",
    b"@",
    b":=",
    b"->",
    b"\"\"\"",
    b"'''",
    b"\\\n",
    b"    ",
    b"\x0c",
    b"def ",
    b"class ",
    b"if x:\n",
    b"lambda: ",
    b"yield ",
    b"await ",
    b"async ",
    b"return ",
    b"global x\n",
    b"nonlocal x\n",
    b"from x import *\n",
    b"revision = ",
    b"down_revision = ",
    b"None",
    b"'0001'",
    b"(\"shop\", \"0001_initial\")",
    b"b'",
    b"r'",
    b"u'",
    b"\\N{",
    b"0x",
    b"1_",
    b"1e",
    b"# -*- coding: latin-1 -*-\n",
    b"# coding: cp1252\n",
    b"# coding: klingon\n",
    b"# coding: euc-jp\n",
    b"\xe9",
    b"\x81",
];

/// What migfix says of a migration as a whole, without a line: what is
/// missing from it.
const WHOLE_FILE: &[&str] = &[
    "no module-level `revision` assignment",
    "no `class Migration`",
];

/// The fixtures' revision files and Django migrations, but the largest.
fn seeds() -> &'static [Vec<Vec<u8>>; 2] {
    static SEEDS: std::sync::OnceLock<[Vec<Vec<u8>>; 2]> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let all = repo().join("fixtures");
        let small = |files: Vec<(String, Vec<u8>)>, alembic: bool| {
            files
                .into_iter()
                .filter(|(path, bytes)| {
                    bytes.len() < 24 << 10
                        && path.contains("/versions/") == alembic
                        && (alembic || path.contains("/migrations/0"))
                })
                .map(|(_, bytes)| bytes)
                .collect()
        };
        let files = fuzz::seed_paths(&all, &[".py"]);
        [small(files.clone(), true), small(files, false)]
    })
}

/// A tree where `bytes` is the revision file `migrations/versions/0002_x.py`
/// (Alembic) or the migration `shop/migrations/0002_x.py` (Django), after
/// a first one that is well formed. Returns the tree and the file's path.
fn tree(django: bool, bytes: &[u8]) -> (tempfile::TempDir, &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let file = if django {
        write_tree(
            dir.path(),
            &[
                ("manage.py", ""),
                ("shop/__init__.py", ""),
                ("shop/migrations/__init__.py", ""),
                ("shop/migrations/0001_initial.py", "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n"),
            ],
        );
        "shop/migrations/0002_x.py"
    } else {
        write_tree(
            dir.path(),
            &[
                (
                    "alembic.ini",
                    "[alembic]\nscript_location = %(here)s/migrations\n",
                ),
                ("migrations/env.py", "from alembic import context\n"),
                ("migrations/script.py.mako", ""),
                (
                    "migrations/versions/0001_a.py",
                    &revision_file("0001", None),
                ),
            ],
        );
        "migrations/versions/0002_x.py"
    };
    std::fs::write(dir.path().join(file), bytes).unwrap();
    (dir, file)
}

proptest::proptest! {
    #![proptest_config(fuzz::config(500))]

    #[test]
    fn mutated_migrations_never_crash(
        django in proptest::prelude::any::<bool>(),
        seed in proptest::prelude::any::<usize>(),
        edits in fuzz::edits(),
    ) {
        let seeds = &seeds()[usize::from(django)];
        let bytes = fuzz::mutate(seeds[seed % seeds.len()].clone(), &edits, PIECES);
        let (dir, file) = tree(django, &bytes);
        let shown = || format!("{file}:\n{}", String::from_utf8_lossy(&bytes));
        let survived = fuzz::survives_naming_lines(dir.path(), &[&["check"]], file, WHOLE_FILE);
        proptest::prop_assert!(survived.is_ok(), "{:?}\n{}", survived, shown());
    }
}

/// The seed without f-strings: migfix reads f-string fields by Python
/// 3.12's rules, and the oracle here is CPython 3.11.
fn without_fstrings(seed: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(seed)
        .replace("f\"", "\"")
        .replace("f'", "'")
        .into_bytes()
}

/// Whether the source holds one of the divergences the README lists:
/// a line of only a backslash (CPython takes the indentation of what
/// follows from its column), an annotation that is an operation on a
/// subscript (`x: T[a] - b`, which tree-sitter's grammar does not take),
/// an unknown `\N{name}`, or a codec migfix does not read.
fn known_divergence(src: &[u8]) -> bool {
    static ANNOTATION: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let annotation = ANNOTATION.get_or_init(|| {
        let op = r"[-+*/%@&|^<>!]|==|\b(in|is|not|and|or|if)\b";
        regex::bytes::Regex::new(&format!(r"(?m)^\s*[\w.]+\s*:[^=\n]*\]\s*({op})")).unwrap()
    });
    src.split(|&b| b == b'\n')
        .any(|l| l.trim_ascii_start() == b"\\")
        || annotation.is_match(src)
        || src.windows(3).any(|w| w == b"\\N{")
        || migfix::testing::verdict(src).is_err_and(|e| e.contains("is not supported by migfix"))
}

/// migfix's verdict on mutated seeds of both kinds is CPython's, on ten
/// sources a case (in one interpreter), from a fixed seed.
#[test]
fn mutated_migrations_get_cpythons_verdict() {
    let seeds: Vec<Vec<u8>> = seeds()
        .iter()
        .flatten()
        .map(|s| without_fstrings(s))
        .collect();
    let strategy = (proptest::prelude::any::<usize>(), fuzz::edits());
    let mut runner = TestRunner::deterministic();
    let srcs: Vec<Vec<u8>> = (0..fuzz::cases(500) * 10)
        .map(|_| {
            let (seed, edits) = strategy.new_tree(&mut runner).unwrap().current();
            fuzz::mutate(seeds[seed % seeds.len()].clone(), &edits, PIECES)
        })
        .filter(|src| !known_divergence(src))
        .collect();
    crate::readers::assert_verdicts_are_cpythons_shown(srcs, |src| {
        String::from_utf8_lossy(src).into_owned()
    });
}

#[test]
fn the_seeds_are_the_fixtures_migrations() {
    // Guards the property tests: they mutate real files of both kinds, and
    // an unmutated seed passes.
    let [alembic, django] = seeds();
    assert!(
        alembic.len() > 300 && django.len() >= 8,
        "{} {}",
        alembic.len(),
        django.len()
    );
    for (django, seed) in [(false, &alembic[0]), (true, &django[0])] {
        let (dir, file) = tree(django, seed);
        assert!(Path::new(&dir.path().join(file)).is_file());
        let outs = fuzz::survives(dir.path(), &[&["check"]]).unwrap();
        assert_ne!(outs[0].status.code(), Some(2), "{}", stderr(&outs[0]));
        assert!(!stderr(&outs[0]).contains("error:"), "{}", stderr(&outs[0]));
    }
}
