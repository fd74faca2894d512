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

source bench/lib/prepare.sh
bench_install bench/binlog.sh time=/usr/bin/time mariadb-client=/usr/bin/mariadb-binlog mha4mysql-node=/usr/bin/apply_diff_relay_logs util-linux-extra=/usr/bin/fincore
bench_build

echo "== bench"
exec node dist/bench/binlog.js "$@"
