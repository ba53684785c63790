#!/usr/bin/env python3
"""Turn a generated chain into a git repository with many open branches.

    python3 tests/bench/gen_branches.py TREE BRANCHES

TREE is a tree written by gen_chain.py (a linear chain whose head is the
zero-padded N). This makes TREE a git repository: one commit on `main`
holding the tree, then BRANCHES branches `pr-K`, each adding one revision
that claims the next free number after the head and revises the head, as
open pull requests do. The branches are written with `git fast-import`, so
no checkout happens. Standard library and git only; the same arguments give
the same repository.
"""

import os
import subprocess
import sys


def revision_file(rev, down):
    return (
        f'"""pr {rev}\n\nRevision ID: {rev}\nRevises: {down}\n"""\n'
        "from alembic import op\n\n"
        f'revision = "{rev}"\ndown_revision = "{down}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n"
        f'    op.execute("SELECT 1")\n\n\n'
        "def downgrade():\n    pass\n"
    )


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    tree, branches = argv[1], int(argv[2])
    versions = os.path.join(tree, "migrations", "versions")
    names = sorted(n for n in os.listdir(versions) if n.endswith(".py"))
    head = names[-1].split("_", 1)[0]
    width, n = len(head), int(head)

    files = []
    for root, _, fs in os.walk(tree):
        if ".git" in root.split(os.sep) or "__pycache__" in root:
            continue
        for f in fs:
            path = os.path.join(root, f)
            files.append(os.path.relpath(path, tree))
    files.sort()

    out = bytearray()

    def data(b):
        out.extend(b"data %d\n" % len(b))
        out.extend(b)
        out.extend(b"\n")

    stamp = b"bench <bench@example.invalid> 1780000000 +0000\n"
    out.extend(b"commit refs/heads/main\nmark :1\ncommitter " + stamp)
    data(b"the chain")
    for f in files:
        with open(os.path.join(tree, f), "rb") as fh:
            out.extend(b"M 644 inline " + f.encode() + b"\n")
            data(fh.read())
    for k in range(1, branches + 1):
        rev = str(n + k).zfill(width)
        path = f"migrations/versions/{rev}_pr_{k}.py"
        out.extend(b"commit refs/heads/pr-%d\ncommitter " % k + stamp)
        data(b"pr %d" % k)
        out.extend(b"from :1\nM 644 inline " + path.encode() + b"\n")
        data(revision_file(rev, head).encode())

    subprocess.run(["git", "init", "-q", "-b", "main", tree], check=True)
    subprocess.run(["git", "-C", tree, "fast-import", "--quiet", "--force"], input=bytes(out), check=True)
    subprocess.run(["git", "-C", tree, "reset", "-q", "--hard", "main"], check=True)
    print(f"{branches} branches over a {n}-revision chain in {tree}")


if __name__ == "__main__":
    main(sys.argv)
