#!/usr/bin/env bash
# How users install migfix, tested as they would use it:
#   1. the PyPI wheel (pyproject.toml, maturin, bindings = "bin"), built into
#      target/wheels and installed into a fresh venv with no index: its
#      `migfix` must be on the venv's PATH, print its version and check the
#      fixtures (exit 1 on the 0144 fork, 0 on a healthy tree);
#   2. action.yml and a workflow that uses it, validated with actionlint.
#
#   bash tests/dist/run.sh PYTHON   PYTHON: the test venv's (maturin, actionlint)
#
# Exits 1 on the first failed expectation.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ $# -eq 1 ]] || { echo "usage: bash tests/dist/run.sh PYTHON" >&2; exit 2; }
BIN="$(dirname "$1")"
fail() { printf 'tests/dist/run.sh: FAILED: %s\n' "$*" >&2; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
[[ -n "$version" ]] || fail "no version in Cargo.toml"

# ---- the wheel
rm -rf target/wheels target/wheel-venv
# The same profile and flags as `cargo build --release`, so the build is reused.
"$BIN/maturin" build --release --locked --out target/wheels
wheels=(target/wheels/migfix-"$version"-*.whl)
[[ -f "${wheels[0]}" ]] || fail "no wheel for $version in target/wheels"
echo "built ${wheels[0]}"
# Listed first: `grep -q` quitting early would fail the pipe under pipefail.
listing="$(unzip -l "${wheels[0]}")"
grep -q 'migfix-[^/]*\.data/scripts/migfix$' <<<"$listing" ||
    fail "the wheel does not hold the migfix binary as a script"

python3 -m venv target/wheel-venv
target/wheel-venv/bin/pip install --quiet --disable-pip-version-check --no-index "${wheels[0]}"
installed="$(PATH="$ROOT/target/wheel-venv/bin:/usr/bin:/bin" command -v migfix)"
[[ "$installed" == "$ROOT/target/wheel-venv/bin/migfix" ]] || fail "migfix on the venv's PATH is $installed"
got="$("$installed" --version)"
[[ "$got" == "migfix $version" ]] || fail "--version printed '$got'"
echo "OK: $installed prints '$got'"

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
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
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

# ---- pre-commit
# Real pre-commit installs the hooks' `language: python` environment from
# this repository (maturin builds the wheel; the dependencies' build is
# reused through CARGO_TARGET_DIR). A copy of the 0144 fork must fail
# migfix-check, and pass once `merge-heads` has merged the heads.
export PRE_COMMIT_HOME="$ROOT/target/pre-commit-home"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
repo="$tmp/fork"
cp -r fixtures/incident-2026-06-05 "$repo"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.email=ci@example.invalid -c user.name=ci commit -qm "the 0144 fork"
try() { (cd "$repo" && "$BIN/pre-commit" try-repo "$ROOT" "$@" --all-files) >"$tmp/pre-commit.log" 2>&1; }
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
