#!/usr/bin/env python3
"""Generate a large, realistic, linear Alembic revision chain for benchmarks.

    python3 tests/bench/gen_chain.py OUT [N]

writes

    OUT/alembic.ini                      script_location = %(here)s/migrations
    OUT/migrations/env.py                minimal, offline-capable
    OUT/migrations/script.py.mako        the usual revision template
    OUT/migrations/versions/NNNNN_<slug>.py   N revisions (default 5000)

Revision ids are zero-padded decimal numbers, at least 5 digits wide, so
that they sort as strings in chain order: 00001 is the base, and the single
head is the zero-padded N. Each revision is about 3 KB: the usual docstring
header, annotated identifiers, an upgrade() that creates a table of ~30
columns plus an index, and a downgrade() that drops both. Column names and
types vary from revision to revision.

Standard library only. The output depends only on N: the same N always
gives byte-identical files. Files that already hold the right bytes are not
rewritten. Prints the file count and total bytes of the revision files.
"""

import argparse
import datetime
import os
import random
import sys

DEFAULT_N = 5000
MIN_WIDTH = 5

ALEMBIC_INI = """\
# A generated benchmark tree (tests/bench/gen_chain.py).

[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
sqlalchemy.url = sqlite:///%(here)s/bench.db

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

ENV_PY = '''\
"""Alembic environment of the generated benchmark tree.

No models: offline mode only needs the URL, online mode uses a plain engine.
"""
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

ENTITIES = [
    "account", "address", "audit_event", "booking", "campaign", "cart",
    "category", "comment", "contract", "coupon", "customer", "delivery",
    "device", "document", "employee", "export_job", "feature_flag",
    "invoice", "invoice_line", "ledger_entry", "membership", "message",
    "notification", "order", "order_item", "organisation", "payment",
    "payout", "permission", "price_list", "product", "project", "refund",
    "reminder", "report", "review", "role", "session", "shipment",
    "subscription", "supplier", "tag", "task", "team", "ticket", "upload",
    "user_profile", "voucher", "warehouse", "webhook",
]
ACTIONS = ["create", "add", "introduce", "track", "store", "record"]

# (column name stem, SQLAlchemy type expression)
COLUMN_KINDS = [
    ("name", "sa.String(length=120)"),
    ("title", "sa.String(length=200)"),
    ("code", "sa.String(length=32)"),
    ("slug", "sa.String(length=160)"),
    ("email", "sa.String(length=254)"),
    ("phone", "sa.String(length=32)"),
    ("status", "sa.String(length=20)"),
    ("kind", "sa.String(length=40)"),
    ("currency", "sa.String(length=3)"),
    ("country", "sa.String(length=2)"),
    ("locale", "sa.String(length=10)"),
    ("description", "sa.Text()"),
    ("notes", "sa.Text()"),
    ("payload", "sa.JSON()"),
    ("metadata_json", "sa.JSON()"),
    ("amount", "sa.Numeric(precision=12, scale=2)"),
    ("tax_rate", "sa.Numeric(precision=5, scale=4)"),
    ("quantity", "sa.Integer()"),
    ("position", "sa.Integer()"),
    ("attempts", "sa.SmallInteger()"),
    ("size_bytes", "sa.BigInteger()"),
    ("score", "sa.Float()"),
    ("is_active", "sa.Boolean()"),
    ("is_archived", "sa.Boolean()"),
    ("is_verified", "sa.Boolean()"),
    ("starts_on", "sa.Date()"),
    ("ends_on", "sa.Date()"),
    ("sent_at", "sa.DateTime(timezone=True)"),
    ("processed_at", "sa.DateTime(timezone=True)"),
    ("expires_at", "sa.DateTime(timezone=True)"),
    ("checksum", "sa.LargeBinary(length=32)"),
    ("external_ref", "sa.String(length=64)"),
]
QUALIFIERS = ["", "", "", "primary_", "billing_", "display_", "legacy_", "last_", "next_"]


def revision_id(i, width):
    return str(i).zfill(width)


def render_revision(i, width, base_date):
    """The text of revision number i (1-based) of n."""
    rng = random.Random("migfix-bench-%d" % i)
    entity = ENTITIES[(i - 1) % len(ENTITIES)]
    table = "%s_%s" % (entity, revision_id(i, width))
    action = ACTIONS[rng.randrange(len(ACTIONS))]
    message = "%s %s table" % (action, entity.replace("_", " "))
    slug = message.replace(" ", "_")
    rev = revision_id(i, width)
    down = revision_id(i - 1, width) if i > 1 else None
    created = base_date + datetime.timedelta(minutes=37 * i, seconds=i % 60)

    columns = ['        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),']
    used = {"id"}
    fk_entity = ENTITIES[rng.randrange(len(ENTITIES))]
    columns.append(
        '        sa.Column("%s_id", sa.BigInteger(), nullable=%s),'
        % (fk_entity, "True" if rng.random() < 0.5 else "False")
    )
    used.add(fk_entity + "_id")
    kinds = rng.sample(COLUMN_KINDS, 24)
    for stem, type_ in kinds:
        name = rng.choice(QUALIFIERS) + stem
        if name in used:
            name = stem + "_" + str(len(used))
        used.add(name)
        extra = ""
        roll = rng.random()
        if type_ == "sa.Boolean()":
            extra = ', server_default=sa.text("%s")' % rng.choice(["true", "false"])
        elif roll < 0.15:
            extra = ', comment="%s of the %s"' % (name.replace("_", " "), entity.replace("_", " "))
        nullable = "True" if roll < 0.6 else "False"
        columns.append('        sa.Column("%s", %s, nullable=%s%s),' % (name, type_, nullable, extra))
    columns.append('        sa.Column("created_by", sa.String(length=64), nullable=True),')
    columns.append('        sa.Column("version", sa.Integer(), server_default="1", nullable=False),')
    columns.append(
        '        sa.Column("created_at", sa.DateTime(timezone=True), '
        'server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),'
    )
    columns.append('        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),')
    columns.append('        sa.PrimaryKeyConstraint("id", name=op.f("pk_%s")),' % table)
    index_cols = [fk_entity + "_id"]
    if rng.random() < 0.3:
        index_cols.append("created_at")
    index_name = "ix_%s_%s" % (table, "_".join(index_cols))

    down_repr = '"%s"' % down if down else "None"
    return (
        '"""%(message)s\n'
        "\n"
        "Revision ID: %(rev)s\n"
        "Revises: %(revises)s\n"
        "Create Date: %(date)s\n"
        "\n"
        '"""\n'
        "from typing import Sequence, Union\n"
        "\n"
        "from alembic import op\n"
        "import sqlalchemy as sa\n"
        "\n"
        "\n"
        "# revision identifiers, used by Alembic.\n"
        'revision: str = "%(rev)s"\n'
        "down_revision: Union[str, None] = %(down)s\n"
        "branch_labels: Union[str, Sequence[str], None] = None\n"
        "depends_on: Union[str, Sequence[str], None] = None\n"
        "\n"
        "\n"
        "def upgrade() -> None:\n"
        "    op.create_table(\n"
        '        "%(table)s",\n'
        "%(columns)s\n"
        "    )\n"
        "    op.create_index(\n"
        '        op.f("%(index)s"), "%(table)s", [%(index_cols)s], unique=False\n'
        "    )\n"
        "\n"
        "\n"
        "def downgrade() -> None:\n"
        '    op.drop_index(op.f("%(index)s"), table_name="%(table)s")\n'
        '    op.drop_table("%(table)s")\n'
    ) % {
        "message": message[0].upper() + message[1:],
        "rev": rev,
        "revises": down or "",
        "date": created.isoformat(" ", "microseconds"),
        "down": down_repr,
        "table": table,
        "columns": "\n".join(columns),
        "index": index_name,
        "index_cols": ", ".join('"%s"' % c for c in index_cols),
    }, "%s_%s.py" % (rev, slug.lower())


def write_if_changed(path, text):
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return len(data)
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return len(data)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output directory (created if missing)")
    ap.add_argument("n", nargs="?", type=int, default=DEFAULT_N,
                    help="number of revisions (default %d)" % DEFAULT_N)
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be at least 1")

    out = os.path.abspath(args.out)
    versions = os.path.join(out, "migrations", "versions")
    os.makedirs(versions, exist_ok=True)
    write_if_changed(os.path.join(out, "alembic.ini"), ALEMBIC_INI)
    write_if_changed(os.path.join(out, "migrations", "env.py"), ENV_PY)
    write_if_changed(os.path.join(out, "migrations", "script.py.mako"), SCRIPT_MAKO)

    width = max(MIN_WIDTH, len(str(args.n)))
    base_date = datetime.datetime(2019, 3, 4, 9, 15, 0)
    wanted = set()
    total = 0
    for i in range(1, args.n + 1):
        text, name = render_revision(i, width, base_date)
        wanted.add(name)
        total += write_if_changed(os.path.join(versions, name), text)
    # A tree regenerated with a different N must not keep stale revisions.
    for name in os.listdir(versions):
        if name.endswith(".py") and name not in wanted:
            os.remove(os.path.join(versions, name))

    print("%d revisions in %s: %d bytes (%.1f KiB per file on average), head %s"
          % (args.n, versions, total, total / args.n / 1024.0, revision_id(args.n, width)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
