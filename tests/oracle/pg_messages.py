"""Prints src/commands/diagnose/catalog.rs: the Postgres server messages
that show a failure class, in English and in every translation the
installed postgresql-15 package ships (its gettext catalogs).

    python3 tests/oracle/pg_messages.py > src/commands/diagnose/catalog.rs
"""

import gettext
import glob
import os
import sys

# (key, msgid) as the server's source writes them.
MESSAGES = [
    ("duplicate-table", 'relation "%s" already exists'),
    ("missing-role", 'role "%s" does not exist'),
    ("immutable-predicate", "functions in index predicate must be marked IMMUTABLE"),
    ("immutable-expression", "functions in index expression must be marked IMMUTABLE"),
    ("duplicate-column", 'column "%s" of relation "%s" already exists'),
    ("duplicate-constraint", 'constraint "%s" for relation "%s" already exists'),
    ("error", "ERROR"),
    ("fatal", "FATAL"),
    ("panic", "PANIC"),
]


def rust(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main():
    root = os.environ.get("MIGFIX_PG_LOCALE", "/usr/share/locale")
    files = sorted(glob.glob(os.path.join(root, "*", "LC_MESSAGES", "postgres-15.mo")))
    if not files:
        sys.exit(f"no postgres-15.mo under {root}: install postgresql-15")
    rows = [("en", key, msgid) for key, msgid in MESSAGES]
    for path in files:
        lang = path.split(os.sep)[-3]
        with open(path, "rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog
        for key, msgid in MESSAGES:
            text = catalog.get(msgid)
            if text and text != msgid:
                rows.append((lang, key, text))
    out = [
        "//! Postgres's server messages that show a failure class, in English and",
        "//! in each translation postgresql-15 ships: made from its gettext",
        "//! catalogs by `python3 tests/oracle/pg_messages.py`; a test keeps it",
        "//! current.",
        "",
        "/// (language, key, message as printed, `%s` for each value).",
        "#[rustfmt::skip]",
        "pub(super) const MESSAGES: &[(&str, &str, &str)] = &[",
    ]
    for lang, key, text in rows:
        out.append(f"    ({rust(lang)}, {rust(key)}, {rust(text)}),")
    out.append("];")
    print("\n".join(out))


main()
