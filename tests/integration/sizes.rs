//! Files of any size, and files that are not files: a data migration far
//! larger than any hand-written one is read, with the verdict CPython's
//! `compile()` gives and bounded memory; a FIFO or a device in a file's
//! place is refused at once with a message naming it, never read.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// What a run of migfix gave.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

/// The address space each run is given: a reader that grows without
/// bound fails against it (a failed allocation aborts, or says "out of
/// memory") instead of taking the machine's memory. It leaves room for the
/// readers' thread stacks, 256 MiB each, reserved rather than used. A run's
/// peak resident memory cannot be read from `wait4` here: it counts the
/// test process the child was forked from.
const ADDRESS_SPACE: u64 = 4 << 30;

/// Runs migfix in `dir` within [`ADDRESS_SPACE`], and fails the test,
/// killing it, if it has not finished within `limit` (a read that blocks
/// must not hang the suite).
fn run_within(dir: &Path, args: &[&str], limit: Duration) -> Ran {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_migfix"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe, and only that runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            match libc::setrlimit(libc::RLIMIT_AS, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let mut child = cmd.spawn().expect("migfix runs");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            r.read_to_end(&mut s).ok();
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for migfix") {
            let (out, err) = (out.join().unwrap(), err.join().unwrap());
            let code = status
                .code()
                .unwrap_or_else(|| panic!("{args:?}: killed by a signal ({status}): {err}"));
            return Ran { code, out, err };
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "migfix {args:?} did not finish within {limit:?}: a read blocked or ran away; stderr so far: {}",
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const PROMPTLY: Duration = Duration::from_secs(30);

/// A data migration of about `size` bytes: one `op.bulk_insert` of dict
/// literals, a row a line, as tests/bench/gen_data.py writes them. Row `i`
/// is on line `HEADER_LINES + i`.
fn data_migration(rev: &str, down: &str, size: usize) -> String {
    let mut s = format!(
        "\"\"\"Load the reference comments\n\nRevision ID: {rev}\nRevises: {down}\n\"\"\"\n\
         from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{rev}\"\n\
         down_revision = \"{down}\"\nbranch_labels = None\ndepends_on = None\n\n\n\
         def upgrade():\n    comments = op.create_table(\n        \"reference_comment\",\n\
         \x20       sa.Column(\"id\", sa.Integer(), primary_key=True),\n\
         \x20       sa.Column(\"name\", sa.Text(), nullable=False),\n    )\n\
         \x20   op.bulk_insert(comments, [\n"
    );
    assert_eq!(s.lines().count(), HEADER_LINES);
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
    ];
    let mut i = 0;
    while s.len() < size {
        i += 1;
        let name: Vec<&str> = (0..3 + i % 9).map(|k| words[(i * 7 + k) % 7]).collect();
        s.push_str(&format!(
            "        {{\"id\": {i}, \"code\": \"C{i:06}\", \"name\": {:?}, \"weight\": {}.{:02}, \"active\": {}, \"note\": {}}},\n",
            name.join(" "),
            i % 1000,
            i % 100,
            if i % 3 == 0 { "False" } else { "True" },
            if i % 7 == 0 { "None".to_string() } else { format!("'note {i}'") },
        ));
    }
    s.push_str("    ])\n\n\ndef downgrade():\n    op.drop_table(\"reference_comment\")\n");
    s
}

const HEADER_LINES: usize = 21;

/// An Alembic tree: 0001, then `0002_data.py` holding `data`.
fn data_tree(data: &str) -> tempfile::TempDir {
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
                &revision_file("0001", None),
            ),
            ("migrations/versions/0002_data.py", data),
        ],
    );
    dir
}

/// CPython's verdict on a file: `None` when it compiles, else the line of
/// its SyntaxError; `None` overall when MIGFIX_PYTHON is not set.
fn cpython_compile(path: &Path) -> Option<Option<usize>> {
    let Some(python) = std::env::var_os("MIGFIX_PYTHON") else {
        assert!(!crate::oracle::required(), "MIGFIX_PYTHON is not set");
        eprintln!("skipping CPython's half: MIGFIX_PYTHON is not set");
        return None;
    };
    let o = Command::new(python)
        .args([
            "-c",
            "import sys\n\
             p = sys.argv[1]\n\
             try:\n    compile(open(p, 'rb').read(), p, 'exec')\n\
             except SyntaxError as e:\n    print(e.lineno)\n",
        ])
        .arg(path)
        .output()
        .expect("MIGFIX_PYTHON runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    Some(line.trim().parse().ok())
}

/// 3.4 MiB, as camcops-server's 0023_comments.py.
const CAMCOPS_SIZE: usize = 3_565_158;

#[test]
fn a_data_migration_over_3_mib_passes_check_as_it_compiles() {
    let dir = data_tree(&data_migration("0002", "0001", CAMCOPS_SIZE));
    let file = dir.path().join("migrations/versions/0002_data.py");
    assert!(std::fs::metadata(&file).unwrap().len() >= CAMCOPS_SIZE as u64);
    let ran = run_within(dir.path(), &["check"], PROMPTLY);
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(ran.out.contains("OK (exactly 1 head)"), "{}", ran.out);
    let heads = run_within(dir.path(), &["heads"], PROMPTLY);
    assert_eq!((heads.code, heads.out.as_str()), (0, "0002 (head)\n"));
    if let Some(verdict) = cpython_compile(&file) {
        assert_eq!(verdict, None, "CPython refuses the generated migration");
    }
}

#[test]
fn a_syntax_error_deep_in_the_data_fails_check_on_cpythons_line() {
    let data = data_migration("0002", "0001", CAMCOPS_SIZE);
    // Row 12345 loses the comma after its id.
    let row = "{\"id\": 12345, ";
    assert!(data.contains(row));
    let dir = data_tree(&data.replacen(row, "{\"id\": 12345 ", 1));
    let line = HEADER_LINES + 12345;
    let ran = run_within(dir.path(), &["check"], PROMPTLY);
    assert_eq!(ran.code, 2, "{}{}", ran.out, ran.err);
    let at = format!("migrations/versions/0002_data.py:{line}: Python syntax error");
    assert!(ran.err.contains(&at), "{}", ran.err);
    let file = dir.path().join("migrations/versions/0002_data.py");
    if let Some(verdict) = cpython_compile(&file) {
        assert_eq!(verdict, Some(line));
    }
}

#[test]
fn a_large_file_the_quick_parser_declines_is_parsed_in_full() {
    // `try` is outside the quick parser's subset: tree-sitter reads it all.
    let data = data_migration("0002", "0001", CAMCOPS_SIZE).replace(
        "def downgrade():\n",
        "def downgrade():\n    try:\n        pass\n    finally:\n        pass\n",
    );
    let dir = data_tree(&data);
    let ran = run_within(dir.path(), &["check"], Duration::from_secs(120));
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let file = dir.path().join("migrations/versions/0002_data.py");
    if let Some(verdict) = cpython_compile(&file) {
        assert_eq!(verdict, None);
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo only reads it.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn chain() -> tempfile::TempDir {
    data_tree(&revision_file("0002", Some("0001")))
}

const NOT_REGULAR: &str = "not a regular file; migfix reads only regular files";

#[test]
fn a_fifo_named_like_a_revision_is_refused_at_once() {
    let dir = chain();
    mkfifo(&dir.path().join("migrations/versions/0003_x.py"));
    for args in [&["check"][..], &["heads"], &["diagnose"], &["history"]] {
        // No writer ever opens the FIFO: a read would wait for ever.
        let ran = run_within(dir.path(), args, PROMPTLY);
        assert_eq!(ran.code, 2, "{args:?}: {}{}", ran.out, ran.err);
        assert!(
            ran.err.contains(&format!(
                "migrations/versions/0003_x.py: cannot read: a FIFO (named pipe), {NOT_REGULAR}"
            )),
            "{args:?}: {}",
            ran.err
        );
    }
}

#[test]
fn a_symlink_to_dev_zero_is_refused_at_once_within_bounded_memory() {
    let dir = chain();
    std::os::unix::fs::symlink(
        "/dev/zero",
        dir.path().join("migrations/versions/0002_x.py"),
    )
    .unwrap();
    for args in [&["check"][..], &["heads"]] {
        let ran = run_within(dir.path(), args, PROMPTLY);
        assert_eq!(ran.code, 2, "{args:?}: {}{}", ran.out, ran.err);
        assert!(
            ran.err.contains(&format!(
                "migrations/versions/0002_x.py: cannot read: a symlink to /dev/zero, a character device, {NOT_REGULAR}"
            )),
            "{args:?}: {}",
            ran.err
        );
    }
}

#[test]
fn a_symlink_to_a_regular_file_is_read() {
    let dir = chain();
    let elsewhere = dir.path().join("shared/0003_linked.py");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::write(&elsewhere, revision_file("0003", Some("0002"))).unwrap();
    std::os::unix::fs::symlink(
        &elsewhere,
        dir.path().join("migrations/versions/0003_linked.py"),
    )
    .unwrap();
    let ran = run_within(dir.path(), &["check"], PROMPTLY);
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let heads = run_within(dir.path(), &["heads"], PROMPTLY);
    assert_eq!((heads.code, heads.out.as_str()), (0, "0003 (head)\n"));
}

/// A FIFO in place of `file` of a copy of `fixture`: `args` ends promptly
/// and, where `says` is given, refuses with it.
fn fifo_in(fixture_name: &str, file: &str, args: &[&str], says: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(fixture_name), dir.path());
    let path = dir.path().join(file);
    std::fs::remove_file(&path).ok();
    mkfifo(&path);
    let ran = run_within(dir.path(), args, PROMPTLY);
    if let Some(says) = says {
        assert_eq!(ran.code, 2, "{file}: {}{}", ran.out, ran.err);
        assert!(
            ran.err.contains(&format!(
                "{says}: cannot read: a FIFO (named pipe), {NOT_REGULAR}"
            )),
            "{file}: {}",
            ran.err
        );
    }
}

#[test]
fn a_fifo_in_place_of_any_file_migfix_reads_is_never_waited_on() {
    // Configuration files.
    let ini = "backend_v2/alembic.ini";
    fifo_in("healthy", ini, &["check"], Some(ini));
    fifo_in("healthy", "migfix.toml", &["check"], Some("migfix.toml"));
    fifo_in(
        "healthy",
        "pyproject.toml",
        &["check"],
        Some("pyproject.toml"),
    );
    // A workflow diagnose searches for the roles CI creates.
    fifo_in(
        "healthy",
        ".github/workflows/ci-pr.yml",
        &["diagnose"],
        None,
    );
    // Django: a migration, and an app's apps.py (its label).
    fifo_in(
        "django-shop",
        "billing/migrations/0003_invoice_currency.py",
        &["check"],
        Some("billing/migrations/0003_invoice_currency.py"),
    );
    fifo_in("django-shop", "billing/apps.py", &["check"], None);
    // sqitch: the configuration, the plan and a deploy script.
    let flipr = "sqitch-real/flipr";
    fifo_in(flipr, "sqitch.conf", &["check"], Some("sqitch.conf"));
    fifo_in(flipr, "sqitch.plan", &["check"], Some("sqitch.plan"));
    fifo_in(flipr, "deploy/appuser.sql", &["diagnose"], None);
}

// ---- rows of data blanked for the parse: the same answers ------------------

/// Every `.py` file below `dir`.
fn python_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            python_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "py") {
            out.push(p);
        }
    }
}

/// The full parse's answer (constants, `upgrade()`'s steps, or the syntax
/// error) with every display of rows blanked, however small, equals the
/// answer with none blanked.
fn blanking_changes_nothing(src: &[u8]) -> Result<(), String> {
    // Where both refuse, the line and excerpt they name come from the
    // grammar's recovery, which blanking changes; CPython's own line is
    // checked on real data (a_syntax_error_deep_in_the_data_fails_...).
    let answer = |r: Result<String, String>| r.map_err(|_| ());
    let every = answer(migfix::testing::full_blanking(src, 0));
    let none = answer(migfix::testing::full_blanking(src, usize::MAX));
    if every != none {
        return Err(format!("blanked: {every:?}\nwhole:   {none:?}"));
    }
    // The quick parse of the blanked text, where it answers, too.
    if let Some(quick) = migfix::testing::steps_quick_blanking(src, 0) {
        let full = migfix::testing::steps_full(src);
        if full.as_ref() != Ok(&quick) {
            return Err(format!("quick, blanked: {quick}\nfull, whole:   {full:?}"));
        }
    }
    Ok(())
}

/// Found by the property test below: invalid UTF-8 in a comment (which
/// CPython allows) in a file the quick parser reads, with an f-string key.
#[test]
fn blanking_changes_nothing_with_invalid_utf8_in_a_comment() {
    let text = rows_for_quick()
        .replace("True),  # note", "True),  #~note")
        .replace("{'id': 2, 'name'", "{'id': 2, f'name'");
    assert!(text.contains("#~note") && text.contains("f'name'"));
    let src: Vec<u8> = text
        .into_bytes()
        .into_iter()
        .map(|b| if b == b'~' { 0xff } else { b })
        .collect();
    assert!(
        migfix::testing::steps_quick_blanking(&src, 0).is_some(),
        "the quick parser reads it"
    );
    blanking_changes_nothing(&src).unwrap();
}

#[test]
fn blanking_rows_changes_no_answer_on_any_fixture_or_corpus_file() {
    let mut files = Vec::new();
    python_files(&repo().join("fixtures"), &mut files);
    let fixtures = files.len();
    for var in ["MIGFIX_CORPORA", "MIGFIX_DJANGO_CORPORA"] {
        match std::env::var_os(var) {
            Some(dir) => python_files(Path::new(&dir), &mut files),
            None => assert!(!crate::oracle::required(), "{var} is not set"),
        }
    }
    assert!(fixtures > 300, "expected the fixtures, found {fixtures}");
    for f in &files {
        let src = std::fs::read(f).unwrap();
        if let Err(e) = blanking_changes_nothing(&src) {
            panic!("{}: {e}", f.display());
        }
    }
    eprintln!("{} files: blanking rows changes no answer", files.len());
}

/// Rows of every kind of literal, in a data migration with the code around
/// data that the readers do read. One line ends in `\r\n`.
const ROWS: &str = r#""""rows

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = ('0001',)
depends_on = [('x',), ('y',)]
LOOKUP = "SELECT id FROM roles WHERE name = 'admin'"
DATA = [
    (1, 'a', b'b', None),
    (-2, "c\n", rb'\d', True),  # note

    (0x1F, '''multi
line''', u'\u00e9', False),
    (1_000, 1.5e-3, 2j, .5),
    ((1, 2), [3, [4]], {5, 6}, {'k': (7,), 8: -9.0}),
    ('x' 'y', b'p' b'q', r'\w' 'z', ()),
]


class Migration:
    dependencies = [('app', '0001'), ('app', '0002')]


def upgrade():
    t = op.create_table('t', sa.Column('id', sa.Integer))
    op.bulk_insert(t, [
        {'id': 1, 'name': 'one'},
        {'id': 2, 'name': 'two', 'tags': ['a', 'b']},<CRLF>
        {'id': 3, 'name': None},
    ])
    op.execute(LOOKUP)
    op.execute(sa.text('UPDATE t SET x = :x'), [{'x': 1}, {'x': 2}])
    op.create_index('ix', 't', [('a',), ('b',)])
    for row in [(1, 'a'), (2, 'b')]:
        op.execute('SELECT 1')


def downgrade():
    op.drop_table('t')
"#;

fn rows() -> String {
    ROWS.replace("<CRLF>\n", "\r\n")
}

/// [`ROWS`] without its class, which the quick parser declines.
fn rows_for_quick() -> String {
    let class = "class Migration:\n    dependencies = [('app', '0001'), ('app', '0002')]\n";
    assert!(ROWS.contains(class));
    rows().replace(class, "")
}

#[test]
fn the_rows_template_parses_and_is_blanked() {
    // Guards the property test below: unmutated, it parses, and blanking
    // changes no answer.
    let rows = rows();
    let whole = migfix::testing::full_blanking(rows.as_bytes(), usize::MAX);
    assert!(whole.is_ok(), "{whole:?}");
    assert!(whole.unwrap().contains("CreateIndex"));
    // DATA, and the lists of bulk_insert, execute, create_index and `for`;
    // not depends_on, nor the class's dependencies.
    assert_eq!(migfix::testing::rows_blanked(rows.as_bytes(), 0), Some(5));
    let rows = rows_for_quick();
    assert!(migfix::testing::steps_quick_blanking(rows.as_bytes(), 0).is_some());
    blanking_changes_nothing(rows.as_bytes()).unwrap();
    blanking_changes_nothing(rows.as_bytes()).unwrap();
}

/// Found by the property test below: a bytes literal with an escape
/// Python keeps (`b'\\u00e9'`) in a row that is blanked.
#[test]
fn a_kept_escape_of_bytes_in_a_blanked_row_changes_no_answer() {
    let rows = rows_for_quick().replace("u'\\u00e9'", "b'\\u00e9'");
    assert!(rows.contains("b'\\u00e9', False"), "{rows}");
    blanking_changes_nothing(rows.as_bytes()).unwrap();
}

fn mutate_rows(template: String, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b",",
        b":",
        b"(",
        b")",
        b"[",
        b"]",
        b"{",
        b"}",
        b"'",
        b"\"",
        b"-",
        b"+",
        b"--",
        b"1",
        b"x",
        b"f",
        b"b",
        b"u'",
        b"None",
        b"0777",
        b"1_",
        b"\\x",
        b"\\N",
        b"\n",
        b"\r",
        b"#",
        b"\\\n",
        b" ",
        b"\t",
        b"=",
        b"*",
        b"**",
        b".",
        b"...",
        b"if ",
        b" for x in y",
        b"lambda: ",
        b":=",
        b"class ",
        b"case ",
        b"del ",
        b"return ",
        b"\xff",
        b"\0",
    ];
    crate::readers::edited(template.into_bytes(), edits, PIECES)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn blanking_rows_changes_no_answer_on_mutated_data(
        edits in proptest::collection::vec(
            (proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>(), proptest::prelude::any::<u8>()),
            1..4,
        ),
        quick in proptest::prelude::any::<bool>(),
    ) {
        let src = mutate_rows(if quick { rows_for_quick() } else { rows() }, &edits);
        if let Err(e) = blanking_changes_nothing(&src) {
            proptest::prop_assert!(false, "{e}\non {:?}", String::from_utf8_lossy(&src));
        }
    }
}
