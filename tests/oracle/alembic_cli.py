#!/usr/bin/env python3
"""Run the real ``alembic`` command line on a real project's migrations.

    alembic_cli.py -c PATH/alembic.ini COMMAND [ARGS ...]

Exactly ``alembic -c PATH/alembic.ini COMMAND ...``, except that modules the
revision files import but that are not installed (the project's own
package) are loaded from the tree or stubbed, as ``alembic_graph.py
--stub-missing-imports`` does. Only the loading of revision files is
helped: every answer (heads, history, the SQL of ``upgrade --sql``) is
Alembic's own.
"""

from __future__ import annotations

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import alembic_graph  # noqa: E402  (the stub finder)
from alembic.config import CommandLine, Config  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "-c":
        print(__doc__, file=sys.stderr)
        return 2
    script = ScriptDirectory.from_config(Config(argv[1]))
    roots = [str(p) for p in script._version_locations]
    sys.meta_path.append(alembic_graph._StubFinder(roots))
    CommandLine(prog="alembic").main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
