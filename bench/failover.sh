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

source bench/lib/prepare.sh
bench_install bench/failover.sh mha4mysql-manager=/usr/bin/masterha_manager mha4mysql-node=/usr/bin/apply_diff_relay_logs
bench_build

echo "== bench"
exec node dist/bench/failover.js "$@"
