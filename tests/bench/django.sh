#!/usr/bin/env bash
# Benchmark for Django projects: `migfix check` and `migfix heads` against
# Django's own MigrationLoader (which imports every migration module, as
# `makemigrations` and `migrate` do) on the same generated app, in the same
# run, and against `cat` of every file.
#
#   bash tests/bench/django.sh [N]            N migrations, default 5000
#   BENCH_SMOKE=1 bash tests/bench/django.sh  N=300, one run, no verdict
#
# Needs the test venv (target/venv, made by `bash tests/run.sh`) for Django.
# First it checks that migfix and Django agree on the app's one leaf node;
# a disagreement exits 1. Timings use hyperfine when installed, else a
# Python loop (the median counts). Django runs with no bytecode cache, as
# on a fresh checkout in CI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SMOKE="${BENCH_SMOKE:-0}"
N="${1:-$([[ "$SMOKE" == 1 ]] && echo 300 || echo 5000)}"
RUNS="$([[ "$SMOKE" == 1 ]] && echo 1 || echo "${BENCH_RUNS:-10}")"
PY="$ROOT/target/venv/bin/python"
MIGFIX="${BENCH_MIGFIX:-${CARGO_TARGET_DIR:-$ROOT/target}/release/migfix}"
TREE="$ROOT/target/bench/django-$N"
die() { printf 'tests/bench/django.sh: error: %s\n' "$*" >&2; exit 1; }

[[ -x "$PY" ]] && "$PY" -c 'import django' 2>/dev/null || die "no Django in target/venv: run bash tests/run.sh first"
[[ -n "${BENCH_MIGFIX:-}" ]] || cargo build --release --locked --quiet
want="$(sha256sum < tests/bench/gen_django.py | cut -d' ' -f1) $N"
if [[ ! -f "$TREE/.generated" || "$(cat "$TREE/.generated")" != "$want" ]]; then
    rm -rf "$TREE"
    "$PY" tests/bench/gen_django.py "$TREE" "$N"
    printf '%s\n' "$want" > "$TREE/.generated"
fi
files="$(find "$TREE/catalog/migrations" -name '[0-9]*.py' | wc -l)"
echo "tree: $TREE, $files migrations, $(find "$TREE" -name '*.py' -exec cat {} + | wc -c) bytes"

# Correctness: one leaf, the same for both.
ours="$("$MIGFIX" -C "$TREE" heads)"
theirs="$(PYTHONDONTWRITEBYTECODE=1 "$PY" tests/oracle/django_graph.py graph --root "$TREE" --app catalog=catalog/migrations |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(f"{a}.{n} (leaf node)" for a, n in d["leaf_nodes"]))')"
echo "migfix: $ours"
echo "django: $theirs"
[[ "$ours" == "$theirs" ]] || die "MISMATCH between migfix heads and Django's leaf nodes"
"$MIGFIX" -C "$TREE" check >/dev/null || die "migfix check fails the generated project"

RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/migfix-django-bench.XXXXXX")"
trap 'rm -rf "$RESULTS"; rm -rf "$TREE/catalog/migrations/__pycache__"' EXIT
measure() { # key, then the command
    local key="$1"
    shift
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine --shell=none --style none --warmup 1 --runs "$RUNS" --export-json "$RESULTS/$key.json" -- "$(printf '%q ' "$@")" >/dev/null
    else
        "$PY" - "$RESULTS/$key.json" "$RUNS" "$@" <<'PYEOF'
import json, statistics, subprocess, sys, time
out, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
json.dump({"results": [{"median": statistics.median(times)}]}, open(out, "w"))
PYEOF
    fi
}
measure heads "$MIGFIX" -C "$TREE" heads
measure check "$MIGFIX" -C "$TREE" check
PYTHONDONTWRITEBYTECODE=1 measure django "$PY" tests/oracle/django_graph.py graph --root "$TREE" --app catalog=catalog/migrations
measure cat find "$TREE/catalog/migrations" -name '*.py' -exec cat '{}' +
"$PY" - "$RESULTS" "$SMOKE" <<'PYEOF'
import json, os, sys
results, smoke = sys.argv[1], sys.argv[2] == "1"
med = {k: json.load(open(os.path.join(results, k + ".json")))["results"][0]["median"]
       for k in ("heads", "check", "django", "cat")}
for k, label in (("heads", "migfix heads"), ("check", "migfix check"),
                 ("django", "Django's MigrationLoader, no bytecode cache"), ("cat", "cat every migration")):
    print(f"{label:<46} {med[k]:8.3f} s")
print(f"{'Django / migfix check:':<46} {med['django'] / med['check']:8.1f}x")
print(f"{'migfix check / cat:':<46} {med['check'] / med['cat']:8.1f}x")
if smoke:
    print("(smoke run: one run each, not a measurement)")
PYEOF
