#!/usr/bin/env bash
# Benchmark for Django projects: `migfix check` and `migfix heads` against
# Django's own MigrationLoader (which imports every migration module, as
# `makemigrations` and `migrate` do) on the same generated app, in the same
# run, and against `cat` of every file.
#
#   bash tests/bench/django.sh [N]            N migrations, default 5000
#   BENCH_SMOKE=1 bash tests/bench/django.sh  N=300, one run, no verdict
#   BENCH_RUNS=R                              R timed rounds (default 10)
#   BENCH_CALLGRIND=1                         also count the instructions of
#                                             one `check` with callgrind
#
# Needs the test venv (target/venv, made by `bash tests/run.sh`) for Django.
# First it checks that migfix and Django agree on the app's one leaf node;
# a disagreement exits 1. Then it times the four commands in rounds, each
# round running each command once, so that a change in the machine's load
# weighs on all of them alike; the medians count. Django runs with no
# bytecode cache, as on a fresh checkout in CI. The targets (check within
# 2x of cat, at least 15x faster than the loader) are judged PASS or FAIL
# in the table; the exit status depends on correctness only.
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
# One round: each command once, output to /dev/null; one warm-up round.
PYTHONDONTWRITEBYTECODE=1 "$PY" - "$RESULTS/times.json" "$RUNS" "$MIGFIX" "$TREE" "$PY" <<'PYEOF'
import json, subprocess, sys, time
out, runs, migfix, tree, py = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
cmds = {
    "heads": [migfix, "-C", tree, "heads"],
    "check": [migfix, "-C", tree, "check"],
    "django": [py, "tests/oracle/django_graph.py", "graph", "--root", tree, "--app", "catalog=catalog/migrations"],
    "cat": ["find", tree + "/catalog/migrations", "-name", "*.py", "-exec", "cat", "{}", "+"],
}
times = {k: [] for k in cmds}
for r in range(runs + 1):
    for k, cmd in cmds.items():
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if r > 0:
            times[k].append(time.perf_counter() - t)
json.dump(times, open(out, "w"))
PYEOF
[[ ! -e "$TREE/catalog/migrations/__pycache__" ]] || die "a __pycache__ appeared despite PYTHONDONTWRITEBYTECODE=1"
instructions=""
if [[ "${BENCH_CALLGRIND:-0}" == 1 ]] && command -v valgrind >/dev/null 2>&1; then
    valgrind --tool=callgrind --callgrind-out-file="$RESULTS/callgrind.out" "$MIGFIX" -C "$TREE" check >/dev/null 2>"$RESULTS/callgrind.err"
    instructions="$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$RESULTS/callgrind.err")"
fi
"$PY" - "$RESULTS/times.json" "$SMOKE" "$RUNS" "$instructions" <<'PYEOF'
import json, statistics, sys
times, smoke, runs, instructions = json.load(open(sys.argv[1])), sys.argv[2] == "1", sys.argv[3], sys.argv[4]
med = {k: statistics.median(v) for k, v in times.items()}
print(f"median of {runs} round(s), output to /dev/null, page cache warm")
print(f"{'command':<46} {'median s':>9} {'min s':>9} {'max s':>9}")
for k, label in (("heads", "migfix heads"), ("check", "migfix check"),
                 ("django", "Django's MigrationLoader, no bytecode cache"), ("cat", "cat every migration")):
    print(f"{label:<46} {med[k]:9.4f} {min(times[k]):9.4f} {max(times[k]):9.4f}")
if instructions:
    print(f"{'migfix check, instructions (callgrind):':<46} {int(instructions):>13,}")
print()
def verdict(ok):
    return "(smoke: not judged)" if smoke else ("PASS" if ok else "FAIL")
checks = []
ratio = med["django"] / med["check"]
checks.append(ratio >= 15)
print(f"{'Django loader / migfix check:':<46} {ratio:7.1f}x   target >= 15x   {verdict(ratio >= 15)}")
ratio = med["django"] / med["heads"]
print(f"{'Django loader / migfix heads:':<46} {ratio:7.1f}x   (reported)")
ratio = med["check"] / med["cat"]
checks.append(ratio <= 2)
extra = "" if ratio <= 2 else f"  ({ratio / 2:.2f}x over: it would need {med['cat'] * 2:.4f} s)"
print(f"{'migfix check / cat:':<46} {ratio:7.2f}x   target <= 2x    {verdict(ratio <= 2)}{extra}")
if not smoke:
    print()
    print("overall: " + ("PASS" if all(checks) else "FAIL") + " (a measurement: the exit status does not depend on it)")
PYEOF
