#!/usr/bin/env bash
# Benchmark: `migfix heads`, `history`, `chains`, `check` and `diagnose`
# against `alembic heads`
# and `cat` of every revision file, on the same generated tree and in the
# same run; their peak memory; and `migfix collisions` over many branches.
#
#   bash tests/bench/run.sh [N]         N revisions, default 5000
#   BENCH_SMOKE=1 bash tests/bench/run.sh   CI smoke: N=300, correctness
#                                       check plus one timed run, no verdict
#
# Steps:
#   1. cargo build --release
#   2. the Alembic of the test venv (target/venv, made by `bash tests/run.sh`)
#   3. generate target/bench/chain-N with tests/bench/gen_chain.py (a linear
#      chain of ~3 KB create_table revisions), unless already there
#   4. correctness: `migfix -C TREE heads` must print exactly what
#      `alembic -c TREE/alembic.ini heads` prints, the single head `NNNNN (head)`;
#      any difference exits 1
#   5. warm the page cache, then time, output to /dev/null:
#        migfix heads     target/release/migfix -C TREE heads
#        migfix history, migfix chains   the same, the other read-only commands
#        alembic heads    alembic -c TREE/alembic.ini heads, twice:
#                         - no bytecode cache: PYTHONDONTWRITEBYTECODE=1 and no
#                           __pycache__ in the tree (a fresh checkout, as in CI)
#                         - warm __pycache__: bytecode written by a warm-up run
#                           (a developer's checkout; Alembic's best case)
#        cat              find TREE/migrations/versions -name '*.py' -exec cat {} +
#      with hyperfine when available (installed with apt-get when missing and
#      running as root), else a Python loop; the median of the runs counts
#      also: migfix check, migfix diagnose (the CI gate and the static
#      classes, which parse every file in full), and migfix collisions on a
#      git repository of BRANCHES branches over a chain of BRANCH_CHAIN
#      revisions (tests/bench/gen_branches.py), read without checkouts
#   6. peak RSS of check and diagnose (target < 100 MB)
#   7. large data migrations: trees of 100 ordinary revisions and one data
#      migration of SIZE MiB as its head (tests/bench/gen_data.py: one
#      op.bulk_insert of dict literals), SIZE 10 and 40 (4 in smoke mode);
#      migfix heads must name it and migfix check pass it; the time of
#      check and heads, their peak RSS (target: within the README's bound,
#      20 MB + 3 x SIZE), and, for reference, one run of CPython's
#      compile() of the data migration (what importing it costs Alembic)
#   8. diagnose --log on a 200 MiB log (8 in smoke mode) whose failure is
#      its last line: the failure must be found; its peak RSS (target < 100 MB)
#   9. a table of medians and the ratios alembic/migfix without a bytecode
#      cache (target >= 30; with a warm one, reported) for heads and check,
#      migfix/cat (target <= 1.5) for heads, history,
#      chains and check, heads, history and chains no slower than check
#      (each reads and proves every file as check does, and judges
#      nothing), collisions (target <= 0.5 s), each judged PASS or FAIL
#
# Exit status: 0 when migfix and Alembic agree, whatever the timings (this is
# a measurement, not a gate); 1 on a disagreement or a setup error; 2 on
# bad usage.
#
# Environment:
#   BENCH_SMOKE=1     N=300 (unless N is given), 1 timed run, Python timer,
#                     50 branches over 300 revisions, one 4 MiB data
#                     migration and no CPython reference, targets not judged
#   BENCH_RUNS        timed runs per command (default 10, at least 5 with the
#                     Python timer; 1 in smoke mode)
#   BENCH_TIMER       auto (default), hyperfine or python
#   MIGFIX_ALEMBIC    the alembic command (default target/venv/bin/alembic)
#   CARGO_TARGET_DIR  honoured when locating target/release/migfix
#   BENCH_MIGFIX      time this migfix binary instead of building one (e.g. a
#                     release build of another checkout)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

SMOKE="${BENCH_SMOKE:-0}"
[[ "$SMOKE" == 0 || "$SMOKE" == "" ]] && SMOKE=0 || SMOKE=1
if [[ $# -gt 1 ]]; then
    echo "usage: bash tests/bench/run.sh [N]" >&2
    exit 2
fi
if [[ $SMOKE == 1 ]]; then N="${1:-300}"; else N="${1:-5000}"; fi
[[ "$N" =~ ^[1-9][0-9]*$ ]] || {
    echo "tests/bench/run.sh: N must be a positive integer, got '$N'" >&2
    exit 2
}
if [[ $SMOKE == 1 ]]; then
    RUNS=1
    WARMUP=1
    TIMER=python
    BRANCH_CHAIN=300
    BRANCHES=50
    DATA_SIZES=(4)
else
    BRANCH_CHAIN=2000
    BRANCHES=500
    DATA_SIZES=(10 40)
    RUNS="${BENCH_RUNS:-10}"
    WARMUP=2
    TIMER="${BENCH_TIMER:-auto}"
fi
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a positive integer" >&2; exit 2; }

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MIGFIX="$TARGET_DIR/release/migfix"
ALEMBIC="${MIGFIX_ALEMBIC:-$ROOT/target/venv/bin/alembic}"
BENCH_DIR="$ROOT/target/bench"
TREE="$BENCH_DIR/chain-$N"
VERSIONS="$TREE/migrations/versions"
GEN="$ROOT/tests/bench/gen_chain.py"
RESULTS="$BENCH_DIR/results-$N"

T_ALL=$SECONDS
T_PHASE=$SECONDS
section() {
    printf '\n========== bench: %s ==========\n' "$*"
    T_PHASE=$SECONDS
}
done_phase() {
    printf -- '---------- done in %ss\n' "$((SECONDS - T_PHASE))"
}
die() {
    printf 'tests/bench/run.sh: error: %s\n' "$*" >&2
    exit 1
}

# The Python that runs the generator and the fallback timer: the venv's,
# else the system's (both only need the standard library).
PY="$(dirname "$ALEMBIC")/python"
[[ -x "$PY" ]] || PY="$(command -v python3 || true)"
[[ -n "$PY" ]] || die "python3 not found"

# --------------------------------------------------------------------------
section "migfix (cargo build --release)"

if [[ -n "${BENCH_MIGFIX:-}" ]]; then
    MIGFIX="$BENCH_MIGFIX"
    echo "BENCH_MIGFIX set: not building, timing $MIGFIX"
    [[ -x "$MIGFIX" ]] || die "BENCH_MIGFIX=$MIGFIX is not an executable"
else
    build_args=(build --release --quiet --bin migfix)
    [[ -f "$ROOT/Cargo.lock" ]] && build_args+=(--locked)
    echo "+ cargo ${build_args[*]}"
    cargo "${build_args[@]}" || die "cargo build --release failed"
    [[ -x "$MIGFIX" ]] || die "$MIGFIX missing after cargo build"
fi
"$MIGFIX" --version
done_phase

# --------------------------------------------------------------------------
section "alembic"

if [[ ! -x "$ALEMBIC" ]]; then
    die "$ALEMBIC not found. It lives in the test venv, which the test suite
creates; run it once first:
  bash tests/run.sh
(or point MIGFIX_ALEMBIC at another alembic command)"
fi
echo "$ALEMBIC"
"$PY" -c 'import sys, alembic, sqlalchemy; print(f"python {sys.version.split()[0]}, alembic {alembic.__version__}, SQLAlchemy {sqlalchemy.__version__}")' 2>/dev/null ||
    "$ALEMBIC" --version
done_phase

# --------------------------------------------------------------------------
section "tree target/bench/chain-$N"

# The stamp names the generator's hash and N, so an edited generator
# regenerates the tree; otherwise an existing tree is reused as it is.
want_stamp="$(sha256sum < "$GEN" | cut -d' ' -f1) $N"
stamp_file="$TREE/.generated"
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$want_stamp" && -d "$VERSIONS" ]]; then
    echo "reusing $TREE"
else
    echo "generating $TREE"
    rm -f "$stamp_file"
    "$PY" "$GEN" "$TREE" "$N"
    printf '%s\n' "$want_stamp" > "$stamp_file"
fi
# A bytecode cache left behind by an interrupted run would speed up the
# "no bytecode cache" Alembic runs.
rm -rf "$VERSIONS/__pycache__" "$TREE/migrations/__pycache__"
files="$(find "$VERSIONS" -name '*.py' | wc -l)"
bytes="$(find "$VERSIONS" -name '*.py' -exec cat {} + | wc -c)"
echo "$files revision files, $bytes bytes ($((bytes / files)) bytes per file on average)"
done_phase

# --------------------------------------------------------------------------
section "correctness: migfix heads == alembic heads"

expected="$(printf '%0*d (head)' "$(( ${#N} > 5 ? ${#N} : 5 ))" "$N")"
set +e
migfix_out="$("$MIGFIX" -C "$TREE" heads 2>"$BENCH_DIR/migfix-heads.stderr")"
migfix_rc=$?
alembic_out="$(PYTHONDONTWRITEBYTECODE=1 "$ALEMBIC" -c "$TREE/alembic.ini" heads 2>"$BENCH_DIR/alembic-heads.stderr")"
alembic_rc=$?
set -e
printf 'expected:  %s\n' "$expected"
printf 'alembic:   %s   (exit %s)\n' "$alembic_out" "$alembic_rc"
printf 'migfix:    %s   (exit %s)\n' "$migfix_out" "$migfix_rc"
if [[ $alembic_rc -ne 0 || "$alembic_out" != "$expected" ]]; then
    echo "--- alembic stderr:" >&2
    tail -n 30 "$BENCH_DIR/alembic-heads.stderr" >&2
    die "alembic heads did not report the single head '$expected' (the generated tree is wrong)"
fi
if [[ $migfix_rc -ne 0 || "$migfix_out" != "$alembic_out" ]]; then
    echo "--- migfix stderr:" >&2
    tail -n 30 "$BENCH_DIR/migfix-heads.stderr" >&2
    die "MISMATCH: 'migfix -C $TREE heads' printed
$migfix_out
(exit $migfix_rc), but alembic heads printed
$alembic_out"
fi
echo "OK: both report $expected"
for cmd in check diagnose history chains; do
    "$MIGFIX" -C "$TREE" "$cmd" >/dev/null 2>"$BENCH_DIR/migfix-$cmd.stderr" ||
        die "migfix $cmd fails on the generated tree: $(tail -n 5 "$BENCH_DIR/migfix-$cmd.stderr")"
done
echo "OK: migfix check, diagnose, history and chains pass the tree"
done_phase

# --------------------------------------------------------------------------
section "repository with $BRANCHES branches over $BRANCH_CHAIN revisions"

REPO="$BENCH_DIR/branches-$BRANCH_CHAIN-$BRANCHES"
want_repo="$(cat "$GEN" "$ROOT/tests/bench/gen_branches.py" | sha256sum | cut -d' ' -f1) $BRANCH_CHAIN $BRANCHES"
if [[ -f "$REPO/.git/migfix-bench" && "$(cat "$REPO/.git/migfix-bench")" == "$want_repo" ]]; then
    echo "reusing $REPO"
else
    rm -rf "$REPO"
    "$PY" "$GEN" "$REPO" "$BRANCH_CHAIN" >/dev/null
    "$PY" "$ROOT/tests/bench/gen_branches.py" "$REPO" "$BRANCHES"
    printf '%s\n' "$want_repo" > "$REPO/.git/migfix-bench"
fi
"$MIGFIX" -C "$REPO" collisions >"$BENCH_DIR/collisions.out" || die "migfix collisions failed: $(cat "$BENCH_DIR/collisions.out")"
grep -q "^base main, $BRANCHES other branches" "$BENCH_DIR/collisions.out" ||
    die "migfix collisions did not read the $BRANCHES branches: $(head -3 "$BENCH_DIR/collisions.out")"
echo "OK: $(head -1 "$BENCH_DIR/collisions.out")"
done_phase

# --------------------------------------------------------------------------
section "large data migrations (${DATA_SIZES[*]} MiB)"

# Each tree: 100 ordinary revisions, then 00101, the data migration.
GEN_DATA="$ROOT/tests/bench/gen_data.py"
for mib in "${DATA_SIZES[@]}"; do
    dtree="$BENCH_DIR/data-$mib"
    want_data="$(cat "$GEN" "$GEN_DATA" | sha256sum | cut -d' ' -f1) $mib"
    if [[ -f "$dtree/.generated" && "$(cat "$dtree/.generated")" == "$want_data" ]]; then
        echo "reusing $dtree"
    else
        rm -rf "$dtree"
        "$PY" "$GEN_DATA" "$dtree" "$mib" 100 | tail -n 1
        printf '%s\n' "$want_data" > "$dtree/.generated"
    fi
    out="$("$MIGFIX" -C "$dtree" heads 2>&1)" ||
        die "migfix heads fails on the $mib MiB data migration: $out"
    [[ "$out" == "00101 (head)" ]] ||
        die "migfix heads on the $mib MiB data migration printed '$out', not '00101 (head)'"
    out="$("$MIGFIX" -C "$dtree" check 2>&1)" ||
        die "migfix check fails on the $mib MiB data migration: $out"
    echo "OK: $(find "$dtree/migrations/versions" -name '00101_*.py' -printf '%s bytes'): heads names 00101, check passes"
done
done_phase

# --------------------------------------------------------------------------
section "timing ($RUNS run(s) per command)"

if [[ "$TIMER" == auto ]]; then
    if command -v hyperfine >/dev/null 2>&1; then
        TIMER=hyperfine
    elif [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "hyperfine missing; installing it with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y -qq --no-install-recommends hyperfine </dev/null; then
            apt-get update -qq </dev/null || true
            apt-get install -y -qq --no-install-recommends hyperfine </dev/null || true
        fi
        if command -v hyperfine >/dev/null 2>&1; then TIMER=hyperfine; else TIMER=python; fi
    else
        TIMER=python
    fi
fi
if [[ "$TIMER" == hyperfine ]]; then
    command -v hyperfine >/dev/null 2>&1 || die "BENCH_TIMER=hyperfine but hyperfine is not installed"
    hyperfine --version
else
    [[ "$TIMER" == python ]] || die "BENCH_TIMER must be auto, hyperfine or python"
    if [[ $SMOKE == 0 && $RUNS -lt 5 ]]; then RUNS=5; fi
    echo "timer: Python loop (time.perf_counter), median of $RUNS run(s)"
fi
echo "warm-up runs before timing: $WARMUP for migfix and cat, 1 for each alembic mode"

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# Other work on the machine skews every row; this makes it visible.
echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "warming the page cache"
find "$TREE" -type f -exec cat {} + >/dev/null

# The fallback timer: warm-up runs, then timed runs with output to
# /dev/null; writes hyperfine's JSON shape (median, mean, min, max, times).
PY_TIMER='
import json, statistics, subprocess, sys, time
out, warmup, runs, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def once():
    t = time.perf_counter()
    rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL).returncode
    dt = time.perf_counter() - t
    if rc != 0:
        sys.exit(f"command failed with exit {rc}: {cmd}")
    return dt
for _ in range(warmup):
    once()
times = [once() for _ in range(runs)]
res = {"command": " ".join(cmd), "median": statistics.median(times),
       "mean": statistics.mean(times), "min": min(times), "max": max(times),
       "times": times}
json.dump({"results": [res]}, open(out, "w"))
med, lo, hi = res["median"], res["min"], res["max"]
print(f"  median {med:.4f} s  (min {lo:.4f}, max {hi:.4f}, {runs} run(s))")
'

# measure KEY LABEL WARMUP COMMAND...: times COMMAND, output to /dev/null,
# in the current environment; the JSON lands in $RESULTS/KEY.json.
measure() {
    local key="$1" label="$2" warmup="$3"
    shift 3
    printf '\n-- %s\n   ' "$label"
    printf '%q ' "$@"
    echo
    if [[ "$TIMER" == hyperfine ]]; then
        local q
        q="$(printf '%q ' "$@")"
        hyperfine --shell=none --style basic --warmup "$warmup" --runs "$RUNS" \
            --export-json "$RESULTS/$key.json" --command-name "$label" -- "$q"
    else
        "$PY" -c "$PY_TIMER" "$RESULTS/$key.json" "$warmup" "$RUNS" "$@"
    fi
}

measure migfix "migfix heads" "$WARMUP" "$MIGFIX" -C "$TREE" heads
measure history "migfix history" "$WARMUP" "$MIGFIX" -C "$TREE" history
measure chains "migfix chains" "$WARMUP" "$MIGFIX" -C "$TREE" chains
measure check "migfix check" "$WARMUP" "$MIGFIX" -C "$TREE" check
measure diagnose "migfix diagnose" "$WARMUP" "$MIGFIX" -C "$TREE" diagnose
measure collisions "migfix collisions ($BRANCHES branches)" "$WARMUP" "$MIGFIX" -C "$REPO" collisions

rm -rf "$VERSIONS/__pycache__"
PYTHONDONTWRITEBYTECODE=1 measure alembic_nocache "alembic heads (no bytecode cache)" 1 \
    "$ALEMBIC" -c "$TREE/alembic.ini" heads
[[ ! -e "$VERSIONS/__pycache__" ]] || die "a __pycache__ appeared despite PYTHONDONTWRITEBYTECODE=1"

# The first warm-up run writes the bytecode the timed runs then load.
(
    unset PYTHONDONTWRITEBYTECODE
    measure alembic_pycache "alembic heads (warm __pycache__)" 1 \
        "$ALEMBIC" -c "$TREE/alembic.ini" heads
)
pyc="$(find "$VERSIONS/__pycache__" -name '*.pyc' 2>/dev/null | wc -l)"
echo "   ($pyc .pyc files in $VERSIONS/__pycache__ during these runs)"
rm -rf "$VERSIONS/__pycache__" "$TREE/migrations/__pycache__"

measure cat "cat every revision file" "$WARMUP" find "$VERSIONS" -name '*.py' -exec cat '{}' +
for mib in "${DATA_SIZES[@]}"; do
    for cmd in check heads; do
        measure "data_${cmd}_$mib" "migfix $cmd, $mib MiB data migration" "$WARMUP" \
            "$MIGFIX" -C "$BENCH_DIR/data-$mib" "$cmd"
    done
done
echo
echo "load average after timing:  $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"

# peak KEY COMMAND...: the peak resident memory of one run, as the kernel
# counts it, and its wall time, into $RESULTS/KEY.json.
peak() {
    local key="$1"
    shift
    "$PY" -c '
import json, resource, subprocess, sys, time
t = time.perf_counter()
# 1 is a finding (diagnose of a failed log), not a failure to run.
code = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL).returncode
if code not in (0, 1):
    sys.exit(f"{sys.argv[2:]} exited {code}")
dt = time.perf_counter() - t
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
json.dump({"peak_rss_kb": kb, "seconds": dt}, open(sys.argv[1], "w"))
print(f"peak RSS {kb / 1024:.1f} MB, {dt:.3f} s")
' "$RESULTS/$key.json" "$@"
}
for cmd in check diagnose; do
    printf '%s: ' "migfix $cmd"
    peak "rss_$cmd" "$MIGFIX" -C "$TREE" "$cmd"
done
for mib in "${DATA_SIZES[@]}"; do
    for cmd in check heads; do
        printf '%s: ' "migfix $cmd, $mib MiB data migration"
        peak "rss_data_${cmd}_$mib" "$MIGFIX" -C "$BENCH_DIR/data-$mib" "$cmd"
    done
    if [[ $SMOKE == 0 ]]; then
        # What importing the file costs Alembic: CPython compiles it.
        data_file="$(find "$BENCH_DIR/data-$mib/migrations/versions" -name '00101_*.py')"
        printf '%s: ' "CPython compile(), $mib MiB data migration"
        peak "rss_cpython_$mib" "$PY" -c \
            'import sys; compile(open(sys.argv[1], "rb").read(), sys.argv[1], "exec")' "$data_file"
    fi
done
# A long CI log (200 MiB; 8 in smoke mode) is read a line at a time: its
# failure, on the last line, is found in bounded memory.
LOG_MIB=$([[ $SMOKE == 1 ]] && echo 8 || echo 200)
LOG="$BENCH_DIR/ci-$LOG_MIB.log"
if [[ ! -f "$LOG" ]]; then
    "$PY" - "$LOG" "$LOG_MIB" <<'PYEOF'
import sys
line = "2026-12-07T10:00:00.000Z INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, a step\n"
with open(sys.argv[1], "w") as f:
    f.write(line * (int(sys.argv[2]) * 1024 * 1024 // len(line)))
    f.write('psycopg2.errors.UndefinedObject: role "raptor_app" does not exist\n')
PYEOF
fi
# (diagnose exits 1 on a failure found)
found="$("$MIGFIX" -C "$TREE" diagnose --log "$LOG" || true)"
if [[ "$found" != *'role raptor_app does not exist'* ]]; then
    echo "bench: diagnose did not find the failure at the end of $LOG" >&2
    exit 1
fi
printf '%s: ' "migfix diagnose --log, $LOG_MIB MiB log"
peak "rss_log" "$MIGFIX" -C "$TREE" diagnose --log "$LOG"
done_phase

# --------------------------------------------------------------------------
section "results"

"$PY" - "$RESULTS" "$SMOKE" "$N" "$files" "$bytes" "$TIMER" "$RUNS" "${DATA_SIZES[*]}" <<'PYEOF'
import json, os, platform, sys

results, smoke, n, files, size, timer, runs, data_sizes = sys.argv[1:9]
smoke = smoke == "1"
data_sizes = [int(s) for s in data_sizes.split()]

def load(key):
    with open(os.path.join(results, key + ".json")) as f:
        return json.load(f)["results"][0]

rows = [
    ("migfix", "migfix heads"),
    ("history", "migfix history"),
    ("chains", "migfix chains"),
    ("check", "migfix check"),
    ("diagnose", "migfix diagnose"),
    ("collisions", "migfix collisions"),
    ("alembic_nocache", "alembic heads, no bytecode cache"),
    ("alembic_pycache", "alembic heads, warm __pycache__"),
    ("cat", "cat every revision file"),
]
r = {key: load(key) for key, _ in rows}
med = {key: r[key]["median"] for key in r}

cpu = "?"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
print(f"tree:    {n} revisions, {files} files, {int(size) / 1e6:.1f} MB")
print(f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}")
print(f"timer:   {timer}, median of {runs} run(s), output to /dev/null, page cache warm")
print()
print(f"{'command':<34} {'median s':>9} {'min s':>9} {'max s':>9}")
for key, label in rows:
    x = r[key]
    print(f"{label:<34} {x['median']:>9.4f} {x['min']:>9.4f} {x['max']:>9.4f}")
print()

def verdict(ok):
    return "(smoke: not judged)" if smoke else ("PASS" if ok else "FAIL")

checks = []
def against_alembic(cmd, key, what, judged=True):
    ratio = med[key] / med[cmd]
    need = 30.0
    if judged:
        checks.append(ratio >= need)
    extra = "" if ratio >= need else f"  ({need / ratio:.2f}x short: it would need {med[key] / need:.4f} s)"
    label = f"alembic/{cmd} ({what}):"
    print(f"{label:<46} {ratio:7.1f}x   target >= 30x   {verdict(ratio >= need) if judged else '(reported)'}{extra}")
CAT = 1.5
def against_cat(cmd, name):
    ratio = med[cmd] / med["cat"]
    ok = ratio <= CAT
    checks.append(ok)
    extra = "" if ok else f"  ({ratio / CAT:.2f}x over: it would need {med['cat'] * CAT:.4f} s)"
    print(f"{name + '/cat:':<46} {ratio:7.2f}x   target <= {CAT}x  {verdict(ok)}{extra}")
# heads, history and chains read and prove every file as check does, and
# judge nothing: none may take longer than check (within the noise of one
# median, 5%).
def against_check(cmd, name):
    ratio = med[cmd] / med["check"]
    ok = ratio <= 1.05
    checks.append(ok)
    print(f"{name + '/check:':<46} {ratio:7.2f}x   target <= 1x    {verdict(ok)}")
against_alembic("migfix", "alembic_nocache", "heads, no bytecode cache")
against_alembic("migfix", "alembic_pycache", "heads, warm __pycache__", judged=False)
against_cat("migfix", "heads")
against_cat("history", "history")
against_cat("chains", "chains")
# check is what CI runs on a fresh checkout: no bytecode cache there.
against_alembic("check", "alembic_nocache", "check, no bytecode cache")
against_alembic("check", "alembic_pycache", "check, warm __pycache__", judged=False)
against_cat("check", "check")
for cmd in ("migfix", "history", "chains"):
    against_check(cmd, "heads" if cmd == "migfix" else cmd)
against_alembic("diagnose", "alembic_nocache", "diagnose, no bytecode cache", judged=False)
ok = med["collisions"] <= 0.5
checks.append(ok)
print(f"{'collisions:':<46} {med['collisions']:7.3f} s  target <= 0.5 s {verdict(ok)}")
def peak(key):
    with open(os.path.join(results, key + ".json")) as f:
        return json.load(f)
for cmd in ("check", "diagnose"):
    mb = peak(f"rss_{cmd}")["peak_rss_kb"] / 1024
    ok = mb < 100
    checks.append(ok)
    print(f"{'peak RSS, ' + cmd + ':':<46} {mb:7.1f} MB target < 100 MB {verdict(ok)}")
print()
print("large data migrations (100 revisions and one data migration; the README's bound: 20 MB + 3 x its size):")
print(f"{'':<34} {'median s':>9} {'peak RSS MB':>12} {'bound MB':>9}")
for mib in data_sizes:
    bound = 20 + 3 * mib
    for cmd in ("check", "heads"):
        x = load(f"data_{cmd}_{mib}")
        mb = peak(f"rss_data_{cmd}_{mib}")["peak_rss_kb"] / 1024
        ok = mb <= bound
        checks.append(ok)
        label = f"migfix {cmd}, {mib} MiB"
        print(f"{label:<34} {x['median']:>9.4f} {mb:>12.1f} {bound:>9.1f}   {verdict(ok)}")
    if not smoke:
        c = peak(f"rss_cpython_{mib}")
        label = f"CPython compile(), {mib} MiB"
        print(f"{label:<34} {c['seconds']:>9.4f} {c['peak_rss_kb'] / 1024:>12.1f}   (one run, for reference)")
log = peak("rss_log")
ok = log["peak_rss_kb"] / 1024 < 100
checks.append(ok)
print(f"{'diagnose --log, long log':<34} {log['seconds']:>9.4f} {log['peak_rss_kb'] / 1024:>12.1f} {100:>9.1f}   {verdict(ok)}")
if not smoke:
    print()
    print("overall: " + ("PASS" if all(checks) else "FAIL") + " (a measurement: the exit status does not depend on it)")
PYEOF
echo "raw timings: $RESULTS/*.json"
done_phase

printf '\n========== bench: all done in %ss ==========\n' "$((SECONDS - T_ALL))"
