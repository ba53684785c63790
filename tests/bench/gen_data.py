#!/usr/bin/env python3
"""Generate an Alembic chain whose head is a large data migration.

    python3 tests/bench/gen_data.py OUT SIZE_MIB [N]

writes the tree of tests/bench/gen_chain.py with N ordinary revisions
(default 100), then one more revision, the head, of about SIZE_MIB MiB:
an upgrade() that creates a table and fills it with one `op.bulk_insert`
of a list of dict literals, as projects that ship reference data in a
migration do (camcops-server's 0023_comments.py is 3.4 MiB of them).

Standard library only; the output depends only on SIZE_MIB and N. Prints
the data revision's path and size.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_chain  # noqa: E402

WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima "
    "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
    "x-ray yankee zulu"
).split()


def row(i, rng):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12)))
    note = "None" if i % 7 == 0 else repr("note %d: %s" % (i, words[:40]))
    return (
        '        {"id": %d, "code": "C%06d", "name": %r, "weight": %d.%02d, '
        '"active": %s, "note": %s},\n'
        % (i, i, words, rng.randrange(1000), rng.randrange(100),
           "True" if i % 3 else "False", note)
    )


def render(rev, down, size):
    head = (
        '"""Load the reference comments\n'
        "\n"
        "Revision ID: %(rev)s\n"
        "Revises: %(down)s\n"
        "Create Date: 2024-05-06 07:08:09.000000\n"
        "\n"
        '"""\n'
        "from alembic import op\n"
        "import sqlalchemy as sa\n"
        "\n"
        "\n"
        "# revision identifiers, used by Alembic.\n"
        'revision = "%(rev)s"\n'
        'down_revision = "%(down)s"\n'
        "branch_labels = None\n"
        "depends_on = None\n"
        "\n"
        "\n"
        "def upgrade():\n"
        "    comments = op.create_table(\n"
        '        "reference_comment",\n'
        '        sa.Column("id", sa.Integer(), primary_key=True),\n'
        '        sa.Column("code", sa.String(length=16), nullable=False),\n'
        '        sa.Column("name", sa.Text(), nullable=False),\n'
        '        sa.Column("weight", sa.Numeric(6, 2), nullable=False),\n'
        '        sa.Column("active", sa.Boolean(), nullable=False),\n'
        '        sa.Column("note", sa.Text(), nullable=True),\n'
        "    )\n"
        "    op.bulk_insert(comments, [\n"
    ) % {"rev": rev, "down": down}
    tail = (
        "    ])\n"
        "\n"
        "\n"
        "def downgrade():\n"
        '    op.drop_table("reference_comment")\n'
    )
    rng = random.Random("migfix-data-%d" % size)
    parts = [head]
    total = len(head) + len(tail)
    i = 0
    while total < size:
        i += 1
        line = row(i, rng)
        parts.append(line)
        total += len(line)
    parts.append(tail)
    return "".join(parts)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output directory (created if missing)")
    ap.add_argument("size_mib", type=float, help="size of the data revision, in MiB")
    ap.add_argument("n", nargs="?", type=int, default=100,
                    help="ordinary revisions before it (default 100)")
    args = ap.parse_args(argv)
    if args.n < 1 or args.size_mib <= 0:
        ap.error("N and SIZE_MIB must be positive")
    gen_chain.main([args.out, str(args.n)])
    width = max(gen_chain.MIN_WIDTH, len(str(args.n + 1)))
    rev = gen_chain.revision_id(args.n + 1, width)
    down = gen_chain.revision_id(args.n, width)
    text = render(rev, down, int(args.size_mib * (1 << 20)))
    path = os.path.join(args.out, "migrations", "versions", "%s_load_comments.py" % rev)
    size = gen_chain.write_if_changed(path, text)
    print("data revision %s: %d bytes (%.1f MiB)" % (path, size, size / (1 << 20)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
