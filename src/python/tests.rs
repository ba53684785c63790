use super::*;

/// Reads with both paths; the fast path must decline or agree.
fn both(src: &str) -> ModuleConsts {
    let full =
        read_full(src.as_bytes()).unwrap_or_else(|e| panic!("full parse failed: {e}\n{src}"));
    if let Some(fast) = read_fast(src.as_bytes()) {
        assert_eq!(fast, full, "fast and full readers disagree on:\n{src}");
    }
    full
}

fn fast_answers(src: &str) -> bool {
    read_fast(src.as_bytes()).is_some()
}

fn ids(a: &Option<Assigned>) -> Option<Vec<String>> {
    a.as_ref().and_then(|a| a.value.ids())
}

fn text<'a>(src: &'a str, r: &Range<usize>) -> &'a str {
    &src[r.clone()]
}

const HOUSE: &str = r#""""promote billing dashboard flag

Revision ID: 0146
Revises: 0144
Create Date: 2026-06-04 10:12:33.000000

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0146"
down_revision: Union[str, None] = "0144"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    revision = "not-me"
    op.execute("INSERT INTO flags VALUES ('revision = \"0146\"')")


def downgrade() -> None:
    pass
"#;

#[test]
fn house_style_annotated() {
    let c = both(HOUSE);
    assert!(
        fast_answers(HOUSE),
        "the house style must take the fast path"
    );
    let rev = c.revision.as_ref().unwrap();
    assert_eq!(ids(&c.revision), Some(vec!["0146".to_string()]));
    assert_eq!(rev.line, 13);
    assert_eq!(text(HOUSE, &rev.value.literals()[0].inner), "0146");
    assert_eq!(ids(&c.down_revision), Some(vec!["0144".to_string()]));
    assert_eq!(c.branch_labels.as_ref().unwrap().value, PyValue::None);
    assert_eq!(text(HOUSE, c.doc.revision_id.as_ref().unwrap()), "0146");
    assert_eq!(text(HOUSE, c.doc.revises.as_ref().unwrap()), "0144");
}

#[test]
fn plain_single_quotes_and_prefixes() {
    let src = "revision = u'031'\ndown_revision = r'030'\nbranch_labels = None\n";
    let c = both(src);
    assert!(fast_answers(src));
    assert_eq!(ids(&c.revision).unwrap(), ["031"]);
    assert_eq!(ids(&c.down_revision).unwrap(), ["030"]);
    assert_eq!(
        text(src, &c.revision.unwrap().value.literals()[0].inner),
        "031"
    );
}

#[test]
fn tuples_lists_and_multiline_with_comments() {
    let src = "revision = 'm'\ndown_revision = (\n    '0146',  # the tax head\n    \"0148\",\n)\ndepends_on = ['a1', 'b2']\nbranch_labels = ('reporting',)\n";
    let c = both(src);
    assert!(fast_answers(src));
    assert_eq!(ids(&c.down_revision).unwrap(), ["0146", "0148"]);
    let down = c.down_revision.as_ref().unwrap();
    assert!(matches!(
        down.value,
        PyValue::Seq {
            kind: SeqKind::Tuple,
            ..
        }
    ));
    assert_eq!(
        down.value
            .literals()
            .iter()
            .map(|l| l.line)
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(matches!(
        c.depends_on.as_ref().unwrap().value,
        PyValue::Seq {
            kind: SeqKind::List,
            ..
        }
    ));
    assert_eq!(ids(&c.branch_labels).unwrap(), ["reporting"]);
}

#[test]
fn empty_sequence_is_none_and_parenthesised_string_is_a_string() {
    let c = both("revision = ('x')\ndown_revision = ()\ndepends_on = []\n");
    assert_eq!(ids(&c.revision).unwrap(), ["x"]);
    assert!(matches!(c.revision.unwrap().value, PyValue::Str(_)));
    assert_eq!(ids(&c.down_revision).unwrap(), Vec::<String>::new());
    assert_eq!(ids(&c.depends_on).unwrap(), Vec::<String>::new());
}

#[test]
fn bare_tuple_without_parentheses() {
    let c = both("revision = 'm'\ndown_revision = 'a', 'b'\n");
    assert_eq!(ids(&c.down_revision).unwrap(), ["a", "b"]);
}

#[test]
fn implicit_concatenation_is_an_error() {
    let err = read_full(b"revision = 'ab'\ndown_revision = '01' '44'\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(
        err.message.contains("implicit string concatenation"),
        "{}",
        err.message
    );
    assert!(read("revision = ('a' 'b')\n".as_bytes()).is_err());
}

#[test]
fn non_literals_are_reported_not_guessed() {
    let src = "from ids import BASE\nrevision = make_id()\ndown_revision = BASE\ndepends_on = f'{BASE}'\nbranch_labels = LABELS\n";
    let c = both(src);
    for (slot, line) in [
        (&c.revision, 2),
        (&c.down_revision, 3),
        (&c.depends_on, 4),
        (&c.branch_labels, 5),
    ] {
        let a = slot.as_ref().unwrap();
        assert!(matches!(a.value, PyValue::NonLiteral { .. }), "{a:?}");
        assert_eq!(a.line, line);
    }
    assert!(!fast_answers(src));
}

#[test]
fn function_local_names_are_not_module_constants() {
    let src = "def f():\n    revision = 'inner'\n\nrevision = 'outer'\ndown_revision = None\n";
    let c = both(src);
    assert_eq!(ids(&c.revision).unwrap(), ["outer"]);
}

#[test]
fn conditional_and_imported_bindings_are_non_literal() {
    for src in [
        "revision = 'a'\ndown_revision = None\nif X:\n    revision = 'b'\n",
        "from x import revision\ndown_revision = None\n",
        "import revision\ndown_revision = None\n",
        "revision = 'a'\ndown_revision = None\nfor revision in []:\n    pass\n",
    ] {
        let c = both(src);
        assert!(
            matches!(c.revision.unwrap().value, PyValue::NonLiteral { .. }),
            "{src}"
        );
    }
}

#[test]
fn last_assignment_wins() {
    let c = both("revision = 'a'\ndown_revision = None\nrevision = 'b'\n");
    assert_eq!(ids(&c.revision).unwrap(), ["b"]);
    assert_eq!(c.revision.unwrap().line, 3);
}

#[test]
fn crlf_cr_and_non_ascii_keep_byte_spans() {
    let src = "\"\"\"Tax §1256 tagger — naïve\r\n\r\nRevision ID: 0147\r\nRevises: 0144\r\n\"\"\"\r\nrevision: str = \"0147\"  # tagger\r\ndown_revision = '0144'\r\n";
    let c = both(src);
    assert!(fast_answers(src));
    assert_eq!(
        text(src, &c.revision.as_ref().unwrap().value.literals()[0].inner),
        "0147"
    );
    assert_eq!(c.revision.unwrap().line, 6);
    assert_eq!(text(src, c.doc.revision_id.as_ref().unwrap()), "0147");
    assert_eq!(text(src, c.doc.revises.as_ref().unwrap()), "0144");
    let cr = "revision = 'a'\rdown_revision = 'b'\r";
    let c = both(cr);
    assert_eq!(c.down_revision.unwrap().line, 2);
}

#[test]
fn byte_order_mark_shifts_spans() {
    let src = "\u{feff}revision = 'abc'\ndown_revision = None\n";
    let c = both(src);
    let rev = c.revision.unwrap();
    assert_eq!(&src[rev.value.literals()[0].inner.clone()], "abc");
}

#[test]
fn escapes_are_decoded_by_the_full_reader() {
    let src = "revision = '\\x30146'\ndown_revision = None\n";
    let c = both(src);
    assert_eq!(ids(&c.revision).unwrap(), ["0146"]);
    assert!(!fast_answers(src));
}

#[test]
fn syntax_errors_and_bad_bytes_name_a_line() {
    let err = read_full(b"revision = 'a'\ndown_revision = (\n\ndef f(:\n").unwrap_err();
    assert!(err.message.contains("syntax"), "{err}");
    let err = read(b"revision = 'a'\n<<<<<<< HEAD\ndown_revision = 'b'\n=======\n").unwrap_err();
    assert_eq!(err.line, 2);
    let err = read(b"revision = 'a'\ndown_revision = '\xff'\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("UTF-8"));
}

#[test]
fn missing_revision_leaves_it_unset() {
    let c = both("down_revision = None\n");
    assert!(c.revision.is_none());
}

#[test]
fn fast_path_declines_on_unusual_shapes() {
    for src in [
        "revision = 'a'; down_revision = None\n",
        "revision = down_revision = 'a'\n",
        "revision: str\nrevision = 'a'\ndown_revision = None\n",
        "  revision = 'a'\n",
        "x = f\"{d[\"k\"]}\"\nrevision = 'a'\ndown_revision = None\n",
    ] {
        assert!(!fast_answers(src), "fast path should decline:\n{src}");
    }
}

#[test]
fn docstring_header_with_merge_revises() {
    let src = "\"\"\"merge heads\n\nRevision ID: 0151\nRevises: 0146, 0148\nCreate Date: 2026-06-05\n\"\"\"\nrevision = '0151'\ndown_revision = ('0146', '0148')\n";
    let c = both(src);
    assert_eq!(text(src, c.doc.revises.as_ref().unwrap()), "0146, 0148");
}

#[test]
fn unescape_matches_python() {
    assert_eq!(unescape(r"a\tb\\c\'").unwrap(), "a\tb\\c'");
    assert_eq!(unescape(r"\u00e9").unwrap(), "é");
    assert_eq!(unescape(r"\d").unwrap(), "\\d");
    assert!(unescape(r"\N{BULLET}").is_none());
}

#[test]
fn line_of_counts_lf_crlf_and_lone_cr() {
    let src = b"a\nb\r\nc\rd\n";
    let lines: Vec<usize> = (0..src.len()).map(|i| line_of(src, i)).collect();
    assert_eq!(lines, [1, 1, 2, 2, 2, 3, 3, 4, 4]);
    assert_eq!(line_of(src, 1000), 5);
    // A `\r` at the end of the head is lone only if no `\n` follows it.
    assert_eq!(line_of(b"x\r\n", 2), 1);
    assert_eq!(line_of(b"x\r", 2), 2);
}
