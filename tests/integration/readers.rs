//! The fast path must give the full parse's answer wherever it answers, on
//! every fixture and corpus file; and no input makes either reader panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::common::*;

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            python_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "py")
            && p.to_string_lossy().contains("versions")
        {
            out.push(p);
        }
    }
}

/// Returns (files, files the fast path answered).
fn agree_on(dir: &Path) -> (usize, usize) {
    let mut files = Vec::new();
    python_files(dir, &mut files);
    let mut fast_answered = 0;
    for f in &files {
        let src = std::fs::read(f).unwrap();
        let full = migfix::testing::read_full(&src);
        if let Some(fast) = migfix::testing::read_fast(&src) {
            fast_answered += 1;
            assert_eq!(
                Ok(fast),
                full,
                "fast and full readers disagree on {}",
                f.display()
            );
        }
    }
    (files.len(), fast_answered)
}

#[test]
fn fast_path_agrees_on_every_fixture() {
    let (files, fast) = agree_on(&repo().join("fixtures"));
    assert!(
        files > 300,
        "expected the fixture trees, found {files} files"
    );
    // The fast path must actually carry the load, or the benchmark lies.
    assert!(
        fast * 100 >= files * 95,
        "fast path answered only {fast} of {files}"
    );
}

#[test]
fn fast_path_agrees_on_every_corpus() {
    let Some(corpora) = crate::oracle::corpora_dir() else {
        return;
    };
    let (files, fast) = agree_on(&corpora);
    assert!(
        files > 500,
        "expected the downloaded corpora, found {files} files"
    );
    eprintln!("corpora: fast path answered {fast} of {files} files");
    assert!(
        fast * 100 >= files * 80,
        "fast path answered only {fast} of {files}"
    );
}

const TEMPLATE: &str = "\"\"\"add widgets — naïve\n\nRevision ID: 0146\nRevises: 0144\n\"\"\"\nfrom typing import Union\nimport sqlalchemy as sa\nfrom alembic import op\n\n# revision identifiers, used by Alembic.\nrevision: str = \"0146\"\ndown_revision: Union[str, None] = (\n    '0144',  # fork\n    \"0145\",\n)\nbranch_labels = None\ndepends_on = ['a1']\n\n\ndef upgrade() -> None:\n    op.execute(f\"SELECT {1}\")\n    op.create_table('w', sa.Column('id', sa.Integer))\n\n\ndef downgrade() -> None:\n    pass\n";

fn mutate(src: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"\"",
        b"'",
        b"\"\"\"",
        b"(",
        b")",
        b"[",
        b"]",
        b",",
        b"\n",
        b"\r\n",
        b"\r",
        b"#",
        b"\\",
        b"=",
        b":",
        b" ",
        b"    ",
        b"revision",
        b"down_revision",
        b"None",
        b"u",
        b"r",
        b"f",
        b"def ",
        b"if x:\n",
        b";",
        b"\xff",
        b"\xc3",
    ];
    edited(src.as_bytes().to_vec(), edits, PIECES)
}

/// `bytes` with `edits` applied, each (where, what, which piece): a piece
/// inserted, a byte removed, or bytes written over by a piece. The
/// mutation the reader property tests share.
pub(crate) fn edited(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)], pieces: &[&[u8]]) -> Vec<u8> {
    for &(pos, op, piece) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = pos % bytes.len();
        let piece = pieces[piece as usize % pieces.len()];
        match op % 3 {
            0 => {
                bytes.splice(at..at, piece.iter().copied());
            }
            1 => {
                bytes.remove(at);
            }
            _ => {
                let end = (at + piece.len()).min(bytes.len());
                bytes.splice(at..end, piece.iter().copied());
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = migfix::testing::read_full(&bytes);
        let _ = migfix::testing::read_fast(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = migfix::testing::parse_ini(&text);
        let _ = migfix::testing::parse_plan(&text);
    }

    #[test]
    fn mutated_migrations_agree_or_decline(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let src = mutate(TEMPLATE, &edits);
        let full = migfix::testing::read_full(&src);
        if let (Ok(full), Some(fast)) = (&full, migfix::testing::read_fast(&src)) {
            prop_assert_eq!(fast, full.clone(), "on {:?}", String::from_utf8_lossy(&src));
        }
    }
}

#[test]
fn the_template_itself_takes_the_fast_path() {
    // Guards the property test above: unmutated, both readers answer.
    assert!(migfix::testing::read_fast(TEMPLATE.as_bytes()).is_some());
    assert!(migfix::testing::read_full(TEMPLATE.as_bytes()).is_ok());
}

/// Returns (files, files the quick parse answered). Where it answers, the
/// file has no syntax error and `upgrade()` reads the same as in the full parse.
fn quick_agrees_on(dir: &Path) -> (usize, usize) {
    let mut files = Vec::new();
    python_files(dir, &mut files);
    let mut answered = 0;
    for f in &files {
        let src = std::fs::read(f).unwrap();
        if let Some(quick) = migfix::testing::steps_quick(&src) {
            answered += 1;
            assert_eq!(
                Ok(quick),
                migfix::testing::steps_full(&src),
                "quick and full parses disagree on {}",
                f.display()
            );
        }
    }
    (files.len(), answered)
}

#[test]
fn quick_parse_agrees_on_every_fixture() {
    let (files, quick) = quick_agrees_on(&repo().join("fixtures"));
    eprintln!("fixtures: quick parse answered {quick} of {files} files");
    assert!(
        quick * 100 >= files * 95,
        "quick parse answered only {quick} of {files}"
    );
}

#[test]
fn quick_parse_agrees_on_every_corpus() {
    let Some(corpora) = crate::oracle::corpora_dir() else {
        return;
    };
    let (files, quick) = quick_agrees_on(&corpora);
    eprintln!("corpora: quick parse answered {quick} of {files} files");
    assert!(
        quick * 100 >= files * 80,
        "quick parse answered only {quick} of {files}"
    );
}

/// A migration with the patterns the failure classes look for (A: a lookup
/// that raises, B: a GRANT, D: `now()` in an index, F: a table created
/// again) and their look-alikes, for the quick parser's property test.
const PATTERNS: &str = "\"\"\"patterns\n\nRevision ID: 0002\nRevises: 0001\n\"\"\"\nfrom typing import Sequence, Union\n\nimport sqlalchemy as sa\nfrom alembic import op\n\nrevision: str = \"0002\"\ndown_revision: Union[str, None] = \"0001\"\nbranch_labels = None\ndepends_on = None\n\nEMAIL = \"kris@moosequest.net\"\nROLE = 'raptor_app'\nGRANT = f\"GRANT SELECT ON paper_orders TO {ROLE}\"\nCOLS = [c.upper() for c in ('a', 'b') if c]\nMAP = {k: v for k, v in []}\nSET = {1, 2}\nBOTH = {**MAP, 'x': 1}\nGEN = (x for x in 'ab' if x if x for y in x)\n_SQL = (\n    \"CREATE INDEX ix_due ON alerts (id) \"\n    \"WHERE run_after < now()\"\n)\n\n\ndef upgrade() -> None:\n    op.create_table(\n        'paper_orders',\n        sa.Column('id', sa.BigInteger(), primary_key=True),\n        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()')),\n        sa.Index('ix_a', 'id', postgresql_where=sa.text('at > now()')),\n        schema='trading',\n    )\n    op.execute(GRANT)\n    op.execute(_SQL)\n    op.execute(sa.text(\"SELECT id FROM admins WHERE email = :e\").bindparams(e=EMAIL))\n    op.get_bind().execute(sa.text('SELECT 1'), {'e': EMAIL, **{}, 'n': 1})\n    op.create_index('ix_b', 'alerts', ['created_at', sa.text('lower(email)')], postgresql_where=sa.func.now() > sa.column('x'))\n    op.create_index(op.f('ix_c'), 'alerts', ['id'], unique=False)\n    with op.batch_alter_table('alerts', schema=None) as batch_op:\n        batch_op.add_column(sa.Column('n', sa.Integer(), nullable=True))\n    op.execute(\"\"\"\n        DO $$ BEGIN\n        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'web') THEN\n            GRANT SELECT ON alerts TO web;\n        END IF;\n        END $$;\n    \"\"\")\n    op.rename_table('a', 'b')\n    bind = op.get_bind()\n    row = bind.execute(sa.text('SELECT id FROM admins WHERE email = :e'), {'e': EMAIL}).first()\n    if row is None:\n        raise RuntimeError('missing')\n    elif row.id:\n        pass\n    else:\n        other = 1\n    for r in [row]:\n        op.execute('SELECT 2')\n    while False:\n        raise ValueError(EMAIL)\n    name = 'tbl'\n    op.create_table(name)\n    total: int = 0\n    total += 1\n    del total\n    assert EMAIL, 'x'\n    op.bulk_insert(sa.table('t'), [{'id': i} for i in range(3)])\n    op.drop_table(\"paper_fills\")\n    op.create_table(r\"paper_fills\", sa.Column(\"id\", sa.Integer))\n    op.execute(f'INSERT INTO g VALUES ({{1}}, \\'{EMAIL!r:>4}\\')')\n\n\ndef downgrade() -> None:\n    op.drop_table('paper_orders', schema='trading')\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Where the quick parser answers, the file has no syntax error and
    /// `upgrade()` reads as in the full parse; on the class patterns and on
    /// every mutation of them.
    #[test]
    fn quick_parse_agrees_on_mutated_patterns(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..5)) {
        let src = mutate(PATTERNS, &edits);
        if let Some(quick) = migfix::testing::steps_quick(&src) {
            match migfix::testing::steps_full(&src) {
                Ok(full) => prop_assert_eq!(quick, full, "on {:?}", String::from_utf8_lossy(&src)),
                // tree-sitter is wrong now and then (a dedented line inside
                // brackets); CPython decides.
                Err(e) => prop_assert!(cpython_compiles(&src), "quick accepts, tree-sitter says {e}, CPython agrees: {:?}", String::from_utf8_lossy(&src)),
            }
        }
    }
}

/// Whether CPython compiles the source (compiled, never run).
fn cpython_compiles(src: &[u8]) -> bool {
    let python = std::env::var("MIGFIX_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = std::process::Command::new(python)
        .args([
            "-c",
            "import sys; compile(sys.stdin.buffer.read(), 'x.py', 'exec')",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python runs");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), src).unwrap();
    child.wait().unwrap().success()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// The quick parser never accepts what CPython rejects.
    #[test]
    fn quick_parse_accepts_only_what_cpython_compiles(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4)) {
        let src = mutate(PATTERNS, &edits);
        if migfix::testing::steps_quick(&src).is_some() {
            prop_assert!(cpython_compiles(&src), "quick accepts, CPython does not: {:?}", String::from_utf8_lossy(&src));
        }
    }
}

#[test]
fn the_patterns_take_the_quick_path() {
    // Guards the property test above: unmutated, the quick parser answers,
    // and sees every class pattern.
    let quick =
        migfix::testing::steps_quick(PATTERNS.as_bytes()).expect("the quick parser answers");
    assert_eq!(
        Ok(quick.clone()),
        migfix::testing::steps_full(PATTERNS.as_bytes())
    );
    for seen in [
        "CreateTable { table: \"trading.paper_orders\" }",
        "GRANT SELECT ON paper_orders TO raptor_app",
        "now()",
        "DropTable",
        "RenameTable",
        "kris@moosequest.net",
        "raises: Some(",
        "CreateTable { table: \"tbl\" }",
    ] {
        assert!(quick.contains(seen), "{seen}: {quick}");
    }
}

/// Pieces that CPython refuses and tree-sitter's grammar may not: Python 2
/// statements and literals, tabs, form feeds, null bytes, stray characters,
/// brackets deep enough to pass CPython's limit, and indentation changes.
fn strict_pieces() -> Vec<Vec<u8>> {
    let deep_open = "(".repeat(200);
    let deep_close = ")".repeat(200);
    let deep = format!("x = {deep_open}1{deep_close}\n");
    let deeper = format!("x = {deep_open}(1){deep_close}\n");
    let pieces: Vec<&[u8]> = vec![
        b"\0",
        b"\t",
        b"\x0c",
        b"\n\t",
        b"\n    ",
        b"\n  ",
        b"\n",
        b"print \"x\"\n",
        b"print >>f, 'x'\n",
        b"exec 'x'\n",
        b"except E, e:\n",
        b"raise E, 'x'\n",
        b"`x`",
        b"<>",
        b"0777",
        b"123L",
        b"1_",
        b"0x",
        b"ur'x'",
        b"b'\xc3\xa9'",
        // No escapes in bytes: CPython keeps them, the grammar lost them.
        b"x = b'p\\N' b'q'\n",
        b"x = b'\\u12\\U'\n",
        b"x = b\"\"\"\\N\"\"\"\n",
        b"x = b'x' 'y'\n",
        b"x = ('x'\n rb'y')\n",
        b"$",
        b"?",
        b"!",
        b"\\",
        b"return 1\n",
        b"break\n",
        b"yield 1\n",
        b"await x\n",
        b"nonlocal x\n",
        b"f(a=1, a=2)\n",
        b"__debug__ = 1\n",
        b"f(__debug__=1)\n",
        b"from x import *\n",
        b"try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n",
        b"*a = c\n",
        b"[*a for a in b]\n",
        b"[x async for x in y]\n",
        b"with a as f(): pass\n",
        b"x = f'a' b'b'\n",
        b"lambda (a, b): 1",
        b"f(a=1, b)",
        b"def f(a=1, b): pass\n",
        b"def f(a, a): pass\n",
        b"del f()\n",
        b"x = *a\n",
        deep.as_bytes(),
        deeper.as_bytes(),
        b"from __future__ import annotations\n",
        b"from __future__ import braces\n",
        b"if x:\n",
        b":",
        b"(",
        b")",
    ];
    pieces.into_iter().map(<[u8]>::to_vec).collect()
}

fn mutate_strict(src: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let pieces = strict_pieces();
    let mut bytes = src.as_bytes().to_vec();
    for &(pos, op, piece) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = pos % bytes.len();
        let piece = &pieces[piece as usize % pieces.len()];
        match op % 2 {
            0 => {
                bytes.splice(at..at, piece.iter().copied());
            }
            _ => {
                // Whole lines: keeps most mutations inside valid syntax but
                // for the piece itself.
                let start = bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                bytes.splice(start..start, piece.iter().copied());
            }
        }
    }
    bytes
}

/// CPython's `compile()` verdict on each source, from one interpreter
/// (compiled, never run).
pub(crate) fn cpython_verdicts(srcs: &[Vec<u8>]) -> Vec<bool> {
    let script = "import sys, struct\n\
        data = sys.stdin.buffer.read()\n\
        i, out = 0, []\n\
        while i < len(data):\n\
        \x20   (n,) = struct.unpack('<I', data[i:i + 4]); i += 4\n\
        \x20   try:\n\
        \x20       compile(data[i:i + n], 'x.py', 'exec'); out.append('1')\n\
        \x20   except (SyntaxError, ValueError, RecursionError, MemoryError):\n\
        \x20       out.append('0')\n\
        \x20   i += n\n\
        print(''.join(out))\n";
    let out = crate::common::python_over(script, srcs);
    let verdicts: Vec<bool> = String::from_utf8(out)
        .unwrap()
        .trim()
        .bytes()
        .map(|b| b == b'1')
        .collect();
    assert_eq!(verdicts.len(), srcs.len(), "one verdict per source");
    verdicts
}

/// What a mutation changed, with a little context either side.
fn changed_part(before: &[u8], after: &[u8]) -> String {
    let head = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let tail = before[head..]
        .iter()
        .rev()
        .zip(after[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let from = head.saturating_sub(60);
    let to = (after.len() - tail + 30).min(after.len());
    format!("{:?}", String::from_utf8_lossy(&after[from..to]))
}

fn assert_verdicts_are_cpythons(base: &str, srcs: Vec<Vec<u8>>) {
    assert_verdicts_are_cpythons_shown(srcs, |src| {
        format!(
            "where the patterns become {}",
            changed_part(base.as_bytes(), src)
        )
    });
}

/// migfix's verdict on each source is CPython's, and both verdicts occur;
/// a source that disagrees is shown by `shown`.
pub(crate) fn assert_verdicts_are_cpythons_shown(
    srcs: Vec<Vec<u8>>,
    shown: impl Fn(&[u8]) -> String,
) {
    let cpython = cpython_verdicts(&srcs);
    let mut disagree = Vec::new();
    let mut refused = 0;
    for (src, cpython) in srcs.iter().zip(cpython) {
        let ours = migfix::testing::verdict(src);
        refused += usize::from(!cpython);
        if ours.is_ok() != cpython {
            disagree.push(format!(
                "migfix says {ours:?}, CPython compiles: {cpython}, {}",
                shown(src)
            ));
        }
    }
    assert!(
        disagree.is_empty(),
        "{} of {}:\n{}",
        disagree.len(),
        srcs.len(),
        disagree[..disagree.len().min(5)].join("\n\n")
    );
    // Guards the test: both verdicts occur.
    assert!(
        refused > 0 && refused < srcs.len(),
        "{refused} of {} refused",
        srcs.len()
    );
}

/// The patterns with plain strings for f-strings: migfix reads f-string
/// fields by Python 3.12's rules, and the oracle here is CPython 3.11.
fn patterns_without_fstrings() -> String {
    PATTERNS.replace("f\"", "\"").replace("f'", "'")
}

/// Every command's verdict on a file is CPython's `compile()` verdict, on
/// migrations mutated with what CPython refuses and tree-sitter's grammar
/// may accept. Seeded, so that a failure repeats (MIGFIX_SEED changes it).
#[test]
fn verdict_is_cpython_compiles() {
    let base = patterns_without_fstrings();
    let mut seed: u64 = std::env::var("MIGFIX_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_1204)
        | 1; // xorshift stays at 0 from 0
    let mut next = move || {
        // xorshift64*
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let srcs: Vec<Vec<u8>> = (0..2_000)
        .map(|_| {
            let n = 1 + next() % 2;
            let edits: Vec<(usize, u8, u8)> = (0..n)
                .map(|_| (next() as usize, next() as u8, next() as u8))
                .collect();
            mutate_strict(&base, &edits)
        })
        .collect();
    assert_verdicts_are_cpythons(&base, srcs);
}

#[test]
fn verdict_on_each_strict_piece_is_cpythons() {
    // Each piece alone, at the top of `upgrade()` and at module level, in
    // the line and at its start, so that every piece is proven read right.
    let base = patterns_without_fstrings();
    let at_module = base.find("\n\ndef upgrade").unwrap() + 2;
    let in_upgrade = base.find("def upgrade() -> None:\n").unwrap() + 23;
    let mut srcs = Vec::new();
    for piece in 0..strict_pieces().len() as u8 {
        for at in [at_module, in_upgrade, in_upgrade + 4] {
            for op in [0u8, 1] {
                srcs.push(mutate_strict(&base, &[(at, op, piece)]));
            }
        }
    }
    assert_verdicts_are_cpythons(&base, srcs);
}

/// Deep nesting of every kind, far past CPython's limits: an error naming
/// the line, never a crash.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let cases = [
        format!(
            "revision = {}\"0002\"{}\n",
            "(".repeat(20_000),
            ")".repeat(20_000)
        ),
        format!("x = {}a\n", "not ".repeat(20_000)),
        format!("x = {}a\n", "-".repeat(20_000)),
        format!("x = a{}\n", ".b".repeat(20_000)),
        format!("x = f{}\n", "()".repeat(20_000)),
        format!("x = a{}\n", "[0]".repeat(20_000)),
        format!("x = {}\n", vec!["a"; 20_000].join(" + ")),
        format!("x = {}1\n", "lambda: ".repeat(20_000)),
        format!(
            "def upgrade():\n    op.execute({})\n",
            vec!["'a'"; 20_000].join(" + ")
        ),
        (0..150)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(150)
            + "pass\n",
    ];
    for src in cases {
        let head = format!("revision = \"0002\"\ndown_revision = \"0001\"\n{src}");
        let verdict = migfix::testing::verdict(head.as_bytes());
        let err = verdict.expect_err("CPython refuses each of these");
        assert!(err.starts_with("line "), "{err}");
        assert!(!cpython_compiles(head.as_bytes()));
    }
    // Just inside CPython's limits, both accept.
    for src in [
        format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200)),
        format!("x = {}\n", vec!["a"; 2_500].join(" + ")),
        format!("def upgrade():\n    op.execute(f{})\n", "()".repeat(2_500)),
        (0..98)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(98)
            + "pass\n",
    ] {
        let head = format!("revision = \"0002\"\ndown_revision = \"0001\"\n{src}");
        assert!(cpython_compiles(head.as_bytes()));
        assert_eq!(migfix::testing::verdict(head.as_bytes()), Ok(()));
    }
}

/// A Django migration as makemigrations writes it, with a squash's
/// `replaces`, a `run_before` and a swappable dependency.
const DJANGO: &str = "# Generated by Django 5.2.19 on 2026-11-02 10:00\n\nfrom django.conf import settings\nfrom django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n\n    replaces = [('payments', '0001_initial'), ('payments', '0002_invoice_paid_at')]\n\n    dependencies = [\n        ('shop', '0001_initial'),\n        migrations.swappable_dependency(settings.AUTH_USER_MODEL),\n    ]\n\n    run_before = [(\"shop\", \"0004_product_stock\")]\n\n    operations = [\n        migrations.AddField(model_name='invoice', name='paid_at', field=models.DateTimeField(null=True)),\n    ]\n";

#[test]
fn the_django_template_reads_every_reference() {
    let refs = migfix::testing::read_django(DJANGO.as_bytes())
        .unwrap()
        .unwrap();
    let pairs: Vec<(String, String)> = refs
        .iter()
        .map(|(a, n, _, _)| (a.clone(), n.clone()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("shop".to_string(), "0001_initial".to_string()),
            ("payments".into(), "0001_initial".into()),
            ("payments".into(), "0002_invoice_paid_at".into()),
            ("shop".into(), "0004_product_stock".into()),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Garbage in gives an error, never a panic.
    #[test]
    fn django_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = migfix::testing::read_django(&bytes);
    }

    /// On every mutation of a real migration: no panic, and each reference
    /// read spans exactly its own text in the file (what a renumber edits).
    #[test]
    fn django_reader_spans_are_the_strings_it_read(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let src = mutate(DJANGO, &edits);
        if let Ok(Some(refs)) = migfix::testing::read_django(&src) {
            for (app, name, app_text, name_text) in refs {
                // Where an escape stands in the text, the value is decoded.
                if !app_text.contains(&b'\\') && !name_text.contains(&b'\\') {
                    prop_assert_eq!(app.as_bytes(), &app_text[..]);
                    prop_assert_eq!(name.as_bytes(), &name_text[..]);
                }
            }
        }
    }
}

/// Which row a guarded raise runs on is read the same way by both parsers.
#[test]
fn both_parsers_read_the_test_around_a_raise_alike() {
    let lookup = "def upgrade():\n    row = bind.execute(sa.text('SELECT id FROM admins WHERE e = :e'), {'e': 'k'}).first()\n";
    for test in [
        "    if row is None:\n        raise E()\n",
        "    if not row:\n        raise E()\n",
        "    if (row == None):\n        raise E()\n",
        "    if None != row:\n        raise E()\n",
        "    if row:\n        pass\n    else:\n        raise E()\n",
        "    if row is not None:\n        return\n    elif True:\n        raise E()\n",
        "    if row:\n        raise E()\n",
        "    if row is not None:\n        raise E()\n",
        "    if not (row is None):\n        raise E()\n",
        "    if row is None or x:\n        raise E()\n",
        "    while not row:\n        raise E()\n",
        "    if -row:\n        raise E()\n",
    ] {
        let src = format!("{lookup}{test}");
        let quick = migfix::testing::steps_quick(src.as_bytes()).expect("the quick parser answers");
        assert_eq!(
            Ok(quick),
            migfix::testing::steps_full(src.as_bytes()),
            "{test}"
        );
    }
}
