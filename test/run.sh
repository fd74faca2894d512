#!/usr/bin/env bash
# The README's test command (`npm test`): builds, lints (npm run lint), makes sure the lab's
# prerequisites are installed, then runs the unit tests, the integration tests (the real bin/ha,
# MHA's own Config.pm) and the end-to-end tests on real lab hosts.
# Usage: test/run.sh [unit|integration|e2e|FILE.test.ts...]
#   unit: no root, no Debian package, no network: the logic, the fake cluster, the binlog engine.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm ci when node_modules is missing or stale (never through a symlinked node_modules).
source test/ensure-deps.sh
ensure_npm_deps
echo "== build"
# From scratch: a test file moved or deleted must not linger as a stale .js in dist/.
rm -rf dist
npx tsc -p tsconfig.json

what=${1:-all}

# The whole run (npm test, CI) lints: a lint error fails it like a failing test. The tiers run
# alone (npm run test:unit, a single file) are the quick loop and leave it to npm run lint.
if [ "$what" = all ]; then
  echo "== lint (npm run lint: eslint, prettier --check)"
  npm run --silent lint
fi
files=()
case "$what" in
  unit) files=(dist/test/unit/*.test.js) ;;
  integration) files=(dist/test/integration/*.test.js) ;;
  e2e) files=(dist/test/e2e/*.test.js) ;;
  all) files=(dist/test/unit/*.test.js dist/test/integration/*.test.js dist/test/e2e/*.test.js) ;;
  *) for f in "$@"; do f=${f%.ts}; files+=("dist/${f}.js"); done ;;
esac

if [ "$what" = unit ]; then
  # The unit tier needs nothing installed and no root (npm run test:unit on a laptop); the
  # property tests run fewer cases here than in the full run.
  export HA_FC_RUNS=${HA_FC_RUNS:-100}
  concurrency=2
else
  concurrency=1
  echo "== prerequisites (Debian packages for the lab and MHA, which the config tests compare against)"
  bash test/lab/prereqs.sh
  # Labs left behind by a test run that was killed: stop their processes (by pid) and remove them.
  node dist/test/lab/cli.js gc
fi

echo "== node --test (${#files[@]} files)"
# e2e files build labs of their own; one file at a time keeps a 2-core machine from thrashing
# (unit files share nothing: two at a time).
# The spec reporter is for people; a TAP copy gives the plain "N passed, N failed" closing line.
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
set +e
node --test --test-concurrency="$concurrency" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
status=$?
set -e
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
echo "${passed:-0} passed, ${failed:-0} failed"
if [ "${passed:-0}" = 0 ] && [ "$status" = 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
