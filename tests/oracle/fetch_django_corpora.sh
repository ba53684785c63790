#!/usr/bin/env bash
# Fetch the real-world Django migration corpora listed in
# tests/oracle/django_corpora.txt.
#
#   bash tests/oracle/fetch_django_corpora.sh [PYTHON] [DEST]
#
# PYTHON  an interpreter with pip (default: target/venv/bin/python)
# DEST    where the corpora go   (default: target/django-corpora)
#
# For each corpus the wheels of its requirements are downloaded with pip (no
# dependencies, wheels only) and, from each, these files are unpacked into
# DEST/<name>/, keeping the paths they have inside the wheel:
#   * every file of each app's migrations folder (no __pycache__),
#   * the apps.py next to that folder, when the wheel has one (the label),
#   * the files named by the line's keep= option.
# DEST/<name>/.corpus records the django_corpora.txt line it was made from
# (without its comment); a corpus whose line has not changed is not fetched
# again.  Nothing here is committed (DEST is under target/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIST="$ROOT/tests/oracle/django_corpora.txt"
PY="${1:-$ROOT/target/venv/bin/python}"
DEST="${2:-$ROOT/target/django-corpora}"

mkdir -p "$DEST"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/migfix-django-corpora.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

fetched=0
kept=0
while read -r name reqs apps rest; do
    case "$name" in '' | '#'*) continue ;; esac
    rest="${rest%%#*}"
    # shellcheck disable=SC2086 # word splitting of the options is wanted
    set -- $rest
    opts=("$@")
    for o in "${opts[@]}"; do
        case "$o" in keep=?* | setting=?* | python=?*) ;; *)
            echo "fetch_django_corpora: bad option '$o' in $LIST (line of $name)" >&2
            exit 1
            ;;
        esac
    done
    if [[ -z "$reqs" || -z "$apps" ]]; then
        echo "fetch_django_corpora: bad line in $LIST: $name $reqs $apps" >&2
        exit 1
    fi
    line="$name $reqs $apps${opts[*]:+ ${opts[*]}}"
    out="$DEST/$name"
    if [[ -f "$out/.corpus" && "$(cat "$out/.corpus")" == "$line" ]]; then
        complete=1
        IFS=, read -r -a pairs <<<"$apps"
        for p in "${pairs[@]}"; do
            [[ -d "$out/${p#*=}" ]] || complete=0
        done
        if [[ $complete -eq 1 ]]; then
            kept=$((kept + 1))
            continue
        fi
    fi

    IFS=, read -r -a req_list <<<"$reqs"
    echo "fetch_django_corpora: $name: downloading ${req_list[*]}"
    dl="$WORK/$name"
    mkdir -p "$dl"
    # python=X.Y: wheels for that Python (a release that no longer
    # installs on the venv's; only its files are read)
    pyver=()
    for o in "${opts[@]}"; do
        case "$o" in python=*) pyver=(--python-version "${o#python=}") ;; esac
    done
    "$PY" -m pip download --quiet --disable-pip-version-check \
        --no-deps --only-binary=:all: ${pyver[@]+"${pyver[@]}"} -d "$dl" "${req_list[@]}" </dev/null
    shopt -s nullglob
    wheels=("$dl"/*.whl)
    shopt -u nullglob
    if [[ ${#wheels[@]} -ne ${#req_list[@]} ]]; then
        echo "fetch_django_corpora: $name: expected ${#req_list[@]} wheels for ${req_list[*]}, got ${#wheels[@]}" >&2
        exit 1
    fi

    rm -rf "$out" "$out.partial"
    "$PY" - "$apps" "${opts[*]:-}" "$out.partial" "${wheels[@]}" <<'PYEOF'
import os
import sys
import zipfile

apps, opts, dest, wheels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
folders = {}
for pair in apps.split(","):
    label, _, path = pair.partition("=")
    folders[label] = path.strip("/")
keep = set()
for o in opts.split():
    if o.startswith("keep="):
        keep.update(p.strip("/") for p in o[5:].split(","))

found = {label: 0 for label in folders}
kept_files = set()
total = 0
for wheel in wheels:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        members = set()
        for label, f in folders.items():
            mine = [n for n in names
                    if n.startswith(f + "/") and "/__pycache__/" not in n
                    and not n.endswith("/")]
            found[label] += sum(1 for n in mine if n.endswith(".py"))
            members.update(mine)
            apps_py = os.path.dirname(f) + "/apps.py"
            if apps_py in names:
                members.add(apps_py)
        for k in keep:
            if k in names:
                members.add(k)
                kept_files.add(k)
        for n in sorted(members):
            zf.extract(n, dest)
        total += len(members)
missing = [f"{label}={folders[label]}" for label, n in found.items() if not n]
if missing:
    sys.exit(f"fetch_django_corpora: no .py files under {', '.join(missing)} "
             f"in {' '.join(os.path.basename(w) for w in wheels)}")
if keep - kept_files:
    sys.exit(f"fetch_django_corpora: keep= files not in the wheels: "
             f"{', '.join(sorted(keep - kept_files))}")
print(f"fetch_django_corpora:   kept {len(folders)} migrations folders "
      f"({total} files)")
PYEOF
    mv "$out.partial" "$out"
    printf '%s\n' "$line" > "$out/.corpus"
    rm -rf "$dl"
    fetched=$((fetched + 1))
done < "$LIST"

echo "fetch_django_corpora: $fetched fetched, $kept already present, in $DEST"
