#!/usr/bin/env bash
# npm run bench:binlog [-- options]: the binlog engine's benchmark (bench/binlog.ts; --help lists the options).
# Installs what it needs when missing (as root, with apt-get): the test lab's packages
# (test/lab/prereqs.sh), GNU time, MHA's node tools (mha4mysql-node: apply_diff_relay_logs) and
# fincore (util-linux-extra); builds ha, the lab and the bench; then runs it. Fails saying what is missing
# when it cannot install it.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "bench/binlog.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root: the data set is made by the test lab (network namespaces), and missing Debian packages are installed with apt-get"
command -v dpkg-query >/dev/null 2>&1 || fail "not a Debian-based system (no dpkg-query): the bench needs Debian's mariadb-server, mariadb-client, mha4mysql-node and time"

echo "== prerequisites"
bash test/lab/prereqs.sh

# package -> a file it must provide
declare -A need=(
  [time]=/usr/bin/time
  [mariadb-client]=/usr/bin/mariadb-binlog
  [mha4mysql-node]=/usr/bin/apply_diff_relay_logs
  [util-linux-extra]=/usr/bin/fincore
)
missing=()
for pkg in "${!need[@]}"; do
  [ -x "${need[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/binlog.sh: installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed; missing packages: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || fail "apt-get install failed; missing packages: ${missing[*]}"
  for pkg in "${missing[@]}"; do
    [ -x "${need[$pkg]}" ] || fail "package $pkg installed but ${need[$pkg]} is still missing"
  done
fi

echo "== build"
# (package-lock.json, not package.json: editing a script must not reinstall node_modules under other runs)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# ha (src/), the test lab and the bench, into dist/ as `npm run build` does (bench/tsconfig.json
# extends tsconfig.json), without the unit and e2e tests, which the bench does not run.
npx tsc -p bench/tsconfig.json || fail "the build failed (see the errors above): the bench measures the built ha"

# Labs left behind by a killed run of this bench (or a test run): their processes and files.
node dist/test/lab/cli.js gc >/dev/null

echo "== bench"
exec node dist/bench/binlog.js "$@"
