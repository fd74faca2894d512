#!/usr/bin/env bash
# npm run bench [-- options]: ha against MHA 0.58 on the same lab (bench/failover.ts; --help lists
# the options). Installs what it needs when missing (as root, with apt-get): the test lab's packages
# (test/lab/prereqs.sh) and Debian's MHA 0.58 (mha4mysql-manager, mha4mysql-node); the npm packages
# (npm ci, including the chart library); builds ha, the lab and the bench; then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "bench/failover.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root: the bench builds labs (network namespaces) and installs missing Debian packages with apt-get"
command -v dpkg-query >/dev/null 2>&1 || fail "not a Debian-based system (no dpkg-query): the bench needs Debian's mariadb-server and mha4mysql-manager/-node 0.58"

echo "== prerequisites"
bash test/lab/prereqs.sh

# package -> a file it must provide
declare -A need=(
  [mha4mysql-manager]=/usr/bin/masterha_manager
  [mha4mysql-node]=/usr/bin/apply_diff_relay_logs
)
missing=()
for pkg in "${!need[@]}"; do
  [ -x "${need[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/failover.sh: installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed; missing packages: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || fail "apt-get install failed; missing packages: ${missing[*]}"
  for pkg in "${missing[@]}"; do
    [ -x "${need[$pkg]}" ] || fail "package $pkg installed but ${need[$pkg]} is still missing"
  done
fi

echo "== build"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p bench/tsconfig.json || fail "the build failed (see the errors above): the bench measures the built ha"

# Labs left behind by a killed run of this bench (or a test run): their processes and files.
node dist/test/lab/cli.js gc >/dev/null

echo "== bench"
exec node dist/bench/failover.js "$@"
