#!/usr/bin/env bash
# How users install migfix, tested as they would use it:
#   1. the PyPI wheel (pyproject.toml, maturin, bindings = "bin"), built the
#      portable way the release workflow builds it (maturin --zig, against
#      glibc 2.17, with zig from the ziglang wheel) into target/wheels:
#      auditwheel must find it manylinux_2_28 or older, its binary must be
#      stripped and it must hold every man page (share/man/man1); installed
#      into a fresh venv with no index, its `migfix` must be on the venv's
#      PATH, print its version and check the fixtures (exit 1 on the 0144
#      fork, 0 on a healthy tree), and the man pages be in <venv>/share/man;
#   2. action.yml and a workflow that uses it, validated with actionlint, and
#      the Action's run step (annotations and SARIF from one run); the
#      release workflow (.github/workflows/release.yml) under actionlint;
#   3. the pre-commit hooks, with real pre-commit: from this repository
#      (compiled from source) and from the mirror a release publishes
#      (.github/pre-commit-mirror), which installs the wheel.
#
#   bash tests/dist/run.sh PYTHON   PYTHON: the test venv's (maturin, ziglang,
#                                   auditwheel, actionlint, pre-commit)
#
# Exits 1 on the first failed expectation.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ $# -eq 1 ]] || { echo "usage: bash tests/dist/run.sh PYTHON" >&2; exit 2; }
PYTHON="$1"
BIN="$(dirname "$PYTHON")"
fail() { printf 'tests/dist/run.sh: FAILED: %s\n' "$*" >&2; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
[[ -n "$version" ]] || fail "no version in Cargo.toml"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# ---- the wheel
rm -rf target/wheels target/wheel-venv
# maturin finds zig through `python3 -m ziglang`, the venv's python first.
# --zig links against glibc 2.17 (manylinux2014), as the release's
# manylinux containers do; the build has its own target folder
# (target/x86_64-unknown-linux-gnu), reused from run to run.
PATH="$BIN:$PATH" "$BIN/maturin" build --release --locked --zig \
    --compatibility manylinux_2_17 --out target/wheels
wheels=(target/wheels/migfix-"$version"-*.whl)
[[ -f "${wheels[0]}" ]] || fail "no wheel for $version in target/wheels"
echo "built ${wheels[0]}"
[[ "${wheels[0]}" == *manylinux_2_17_x86_64* ]] || fail "the wheel is not tagged manylinux_2_17: ${wheels[0]}"

# auditwheel reads the binary's symbol versions: the glibc it needs must be
# 2.28 or older (Debian 10, Ubuntu 18.04, RHEL 8 and newer).
audit="$("$BIN/auditwheel" show "${wheels[0]}")" || fail "auditwheel show failed: $audit"
tag="$(grep -o 'manylinux_2_[0-9]*_x86_64' <<<"$audit" | head -1)"
[[ -n "$tag" ]] || fail "auditwheel names no manylinux platform: $audit"
minor="${tag#manylinux_2_}"
minor="${minor%_x86_64}"
[[ "$minor" -le 28 ]] || fail "auditwheel: the wheel needs $tag, newer than manylinux_2_28"
echo "OK: auditwheel finds the wheel $tag"

# Listed first: `grep -q` quitting early would fail the pipe under pipefail.
listing="$(unzip -l "${wheels[0]}")"
grep -q 'migfix-[^/]*\.data/scripts/migfix$' <<<"$listing" ||
    fail "the wheel does not hold the migfix binary as a script"
unzip -p "${wheels[0]}" "migfix-$version.data/scripts/migfix" > "$tmp/migfix-in-wheel"
sections="$(readelf -S -W "$tmp/migfix-in-wheel")"
if grep -q '\.symtab' <<<"$sections" || grep -q '\.debug_' <<<"$sections"; then
    fail "the wheel's binary is not stripped (it has .symtab or .debug_* sections)"
fi
echo "OK: the wheel's binary is stripped ($(stat -c %s "$tmp/migfix-in-wheel") bytes)"
pages=(man/*.1)
for page in "${pages[@]}"; do
    grep -q "migfix-[^/]*\.data/data/share/man/man1/${page#man/}\$" <<<"$listing" ||
        fail "the wheel does not hold share/man/man1/${page#man/} (a link in .github/wheel-data/data/share/man/man1 is missing)"
done
echo "OK: the wheel holds the ${#pages[@]} man pages in share/man/man1"

python3 -m venv target/wheel-venv
target/wheel-venv/bin/pip install --quiet --disable-pip-version-check --no-index "${wheels[0]}"
installed="$(PATH="$ROOT/target/wheel-venv/bin:/usr/bin:/bin" command -v migfix)"
[[ "$installed" == "$ROOT/target/wheel-venv/bin/migfix" ]] || fail "migfix on the venv's PATH is $installed"
got="$("$installed" --version)"
[[ "$got" == "migfix $version" ]] || fail "--version printed '$got'"
echo "OK: $installed prints '$got'"
for page in "${pages[@]}"; do
    cmp -s "$page" "target/wheel-venv/share/man/man1/${page#man/}" ||
        fail "pip install did not put $page in target/wheel-venv/share/man/man1"
done
echo "OK: pip install puts the man pages in target/wheel-venv/share/man/man1"

set +e
out="$("$installed" -C fixtures/incident-2026-06-05 check)"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "check on the 0144 fork exited $rc: $out"
grep -q '^console/migrations: FAILED' <<<"$out" || fail "check did not fail the fork: $out"
"$installed" -C fixtures/healthy check >/dev/null || fail "check fails fixtures/healthy"
echo "OK: the installed migfix fails the 0144 fork and passes fixtures/healthy"

# ---- the GitHub Action
"$BIN/actionlint" -version | sed -n 1p
mkdir -p "$tmp/.github/workflows"
cp action.yml "$tmp/action.yml"
# actionlint finds the project (and so `uses: ./`) by its .git folder.
git init -q "$tmp"
cat > "$tmp/.github/workflows/migrations.yml" <<'YAML'
name: migrations
on: [pull_request]
jobs:
  migfix:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write
    steps:
      - uses: actions/checkout@v5
        with:
          fetch-depth: 0
      - run: git fetch origin '+refs/pull/*/head:refs/remotes/pr/*'
      - uses: ./
        with:
          args: check
          sarif: migfix.sarif
      - uses: ./
        with:
          args: collisions --refs 'pr/*'
YAML
(cd "$tmp" && "$BIN/actionlint" -no-color .github/workflows/migrations.yml) || fail "actionlint rejects the workflow"
# actionlint checks a workflow's use of a local action against its action.yml:
# an input the action does not declare must be refused.
sed -i 's/sarif: migfix.sarif/sarif: migfix.sarif\n          bogus: 1/' "$tmp/.github/workflows/migrations.yml"
if (cd "$tmp" && "$BIN/actionlint" -no-color .github/workflows/migrations.yml >/dev/null); then
    fail "actionlint accepted an input action.yml does not declare"
fi
echo "OK: actionlint accepts action.yml and the workflow, and refuses an unknown input"

# The Action's run step, as GitHub runs it (GITHUB_ACTIONS=true), with the
# installed migfix on PATH: with `sarif`, one run prints the annotations and
# writes the SARIF; without, it prints the annotations.
"$PYTHON" - action.yml > "$tmp/action-step.sh" <<'PYEOF'
import sys, yaml
steps = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))["runs"]["steps"]
print(next(s["run"] for s in steps if s.get("name") == "migfix"))
PYEOF
cp -r fixtures/incident-2026-06-05 "$tmp/action-fork"
step() { # SARIF-input: runs the step in the fork; sets out, rc
    set +e
    out="$(cd "$tmp/action-fork" && env -u GITHUB_STEP_SUMMARY PATH="$ROOT/target/wheel-venv/bin:$PATH" \
        GITHUB_ACTIONS=true MIGFIX_ARGS=check MIGFIX_SARIF="$1" bash "$tmp/action-step.sh" 2>&1)"
    rc=$?
    set -e
}
step migfix.sarif
[[ $rc -eq 1 ]] || fail "the Action's step exited $rc on the 0144 fork: $out"
grep -q '^::error file=' <<<"$out" || fail "the Action's step printed no annotation with sarif set: $out"
"$PYTHON" - "$tmp/action-fork/migfix.sarif" <<'PYEOF' || fail "the Action's step wrote no SARIF with results"
import json, sys
log = json.load(open(sys.argv[1], encoding="utf-8"))
assert log["version"] == "2.1.0" and log["runs"][0]["results"], "no results"
PYEOF
rm "$tmp/action-fork/migfix.sarif"
step ""
[[ $rc -eq 1 ]] || fail "the Action's step exited $rc on the 0144 fork without sarif: $out"
grep -q '^::error file=' <<<"$out" || fail "the Action's step printed no annotation: $out"
[[ ! -e "$tmp/action-fork/migfix.sarif" ]] || fail "the Action's step wrote SARIF without sarif set"
echo "OK: the Action's step gives annotations and SARIF from one run, and annotations alone without sarif"

# The release workflow: tags to wheels, PyPI and the GitHub release.
"$BIN/actionlint" -no-color .github/workflows/release.yml || fail "actionlint rejects .github/workflows/release.yml"
echo "OK: actionlint accepts .github/workflows/release.yml"

# ---- pre-commit
# Real pre-commit installs the hooks' `language: python` environment from
# this repository: maturin builds the wheel. Here it builds it with cargo's
# dev profile, so that the test suite's build is reused through
# CARGO_TARGET_DIR (the hooks are what is tested, not the optimizer; the
# release build is the wheel above). A copy of the 0144 fork must fail
# migfix-check, and pass once `merge-heads` has merged the heads.
# The hooks come from a clone of this checkout with its uncommitted changes
# committed (as `pre-commit try-repo` does), named in a configuration, so
# that pre-commit builds their environment once for the three runs.
export PRE_COMMIT_HOME="$ROOT/target/pre-commit-home"
rm -rf "$PRE_COMMIT_HOME" # a new rev each run: nothing to reuse
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export MATURIN_PEP517_ARGS="--profile dev"
src="$tmp/src"
git clone -q "$ROOT" "$src"
git -C "$src" checkout -q "$(git rev-parse HEAD)"
git diff HEAD --binary > "$tmp/uncommitted.patch"
if [[ -s "$tmp/uncommitted.patch" ]]; then
    git -C "$src" apply --index "$tmp/uncommitted.patch"
    git -C "$src" -c user.email=ci@example.invalid -c user.name=ci commit -qm "uncommitted changes"
fi
cat > "$tmp/pre-commit-config.yaml" <<YAML
repos:
  - repo: $src
    rev: $(git -C "$src" rev-parse HEAD)
    hooks:
      - id: migfix-check
      - id: migfix-collisions
YAML
repo="$tmp/fork"
cp -r fixtures/incident-2026-06-05 "$repo"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.email=ci@example.invalid -c user.name=ci commit -qm "the 0144 fork"
try() { (cd "$repo" && "$BIN/pre-commit" run -c "$tmp/pre-commit-config.yaml" "$@" --all-files) >"$tmp/pre-commit.log" 2>&1; }
if try migfix-check; then
    cat "$tmp/pre-commit.log" >&2
    fail "pre-commit passed the 0144 fork"
fi
grep -q 'console/migrations: FAILED' "$tmp/pre-commit.log" || { cat "$tmp/pre-commit.log" >&2; fail "the hook did not run migfix check"; }
"$installed" -C "$repo" --chain console/migrations merge-heads --yes >/dev/null
git -C "$repo" add -A
git -C "$repo" -c user.email=ci@example.invalid -c user.name=ci commit -qm "merge heads"
try migfix-check || { cat "$tmp/pre-commit.log" >&2; fail "pre-commit fails after merge-heads"; }
try migfix-collisions --hook-stage pre-push || { cat "$tmp/pre-commit.log" >&2; fail "migfix-collisions fails at pre-push"; }
grep -q 'migfix collisions' "$tmp/pre-commit.log" || { cat "$tmp/pre-commit.log" >&2; fail "migfix-collisions did not run at pre-push"; }
echo "OK: pre-commit's migfix-check fails the 0144 fork and passes it after merge-heads; migfix-collisions runs at pre-push"

# The mirror a release publishes (.github/pre-commit-mirror/render.py): its
# hooks install the migfix wheel (here the one built above, found through
# PIP_FIND_LINKS) and compile nothing, so they run with no cargo on PATH.
python3 .github/pre-commit-mirror/render.py "$version" "$tmp/mirror"
grep -q "additional_dependencies: \[\"migfix==$version\"\]" "$tmp/mirror/.pre-commit-hooks.yaml" ||
    fail "the rendered mirror's hooks do not install migfix==$version"
git -C "$tmp/mirror" init -q
git -C "$tmp/mirror" add -A
git -C "$tmp/mirror" -c user.email=ci@example.invalid -c user.name=ci commit -qm "migfix $version"
export PIP_FIND_LINKS="$ROOT/target/wheels"
no_cargo="$BIN" # PATH without the folders that hold cargo
IFS=: read -r -a path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
    [[ -x "$d/cargo" ]] || no_cargo+=":$d"
done
try_mirror() { (cd "$repo" && PATH="$no_cargo" "$BIN/pre-commit" try-repo "$tmp/mirror" "$@" --all-files) >"$tmp/pre-commit.log" 2>&1; }
try_mirror migfix-check || { cat "$tmp/pre-commit.log" >&2; fail "the mirror's migfix-check fails after merge-heads"; }
git -C "$repo" reset -q --hard HEAD~1
if try_mirror migfix-check; then
    cat "$tmp/pre-commit.log" >&2
    fail "the mirror's migfix-check passed the 0144 fork"
fi
grep -q 'console/migrations: FAILED' "$tmp/pre-commit.log" || { cat "$tmp/pre-commit.log" >&2; fail "the mirror's hook did not run migfix check"; }
echo "OK: the mirror's migfix-check installs the wheel (no compiler), fails the 0144 fork and passes it after merge-heads"
