"""Renders the pre-commit mirror of a migfix release.

    python3 .github/pre-commit-mirror/render.py VERSION DEST

DEST gets the mirror as it is published (the release workflow commits it to
the mirror repository and tags it vVERSION): the hooks of this repository's
.pre-commit-hooks.yaml, each installing the wheel migfix==VERSION from PyPI
(`additional_dependencies`), so that pre-commit compiles nothing; a setup.py
that installs nothing itself; and a README.
"""

import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: render.py VERSION DEST")
    version, dest = sys.argv[1], pathlib.Path(sys.argv[2])
    if not re.fullmatch(r"[0-9A-Za-z.+!-]+", version):
        sys.exit(f"render.py: not a version: {version!r}")
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    lines, added = [], 0
    for line in hooks.splitlines():
        if line.startswith("#"):
            continue
        lines.append(line)
        if line == "  language: python":
            lines.append(f'  additional_dependencies: ["migfix=={version}"]')
            added += 1
    if added == 0 or added != hooks.count("\n- id: ") + hooks.startswith("- id: "):
        sys.exit("render.py: every hook of .pre-commit-hooks.yaml must be `language: python`")
    header = [
        f"# The hooks of migfix {version}: pre-commit installs the migfix wheel from",
        "# PyPI (additional_dependencies), so nothing is compiled.",
    ]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / ".pre-commit-hooks.yaml").write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    for name in ("setup.py", "README.md"):
        text = (HERE / name).read_text(encoding="utf-8").replace("@VERSION@", version)
        (dest / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
