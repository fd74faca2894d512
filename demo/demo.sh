#!/usr/bin/env bash
# `npm run demo [-- --keep]`: from a fresh clone, as root, installs what is missing (npm packages,
# the lab's Debian packages), builds, then runs demo/demo.ts: a 3-host lab, the checks, `ha manager`
# started as users start it, a write load, the master's mysqld killed, the failover shown live,
# and what the application saw. See docs/demo.md.
set -euo pipefail
cd "$(dirname "$0")/.."

for a in "$@"; do
  case "$a" in
    --keep) ;;
    -h|--help)
      echo "usage: npm run demo [-- --keep]   (as root; --keep leaves the lab up and prints how to reach it)"
      exit 0 ;;
    *) echo "demo: unknown option $a (usage: npm run demo [-- --keep])" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "demo: must run as root (the lab creates network namespaces, bridges and veth pairs): sudo npm run demo" >&2
  exit 1
fi

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; D=$'\e[2m'; N=$'\e[0m'; else B= G= R= D= N=; fi
now() { date +%s%N; }
# step TITLE COMMAND...: a heading, the command's own output, then ✔/✖ and how long it took.
step() {
  local title=$1; shift
  printf '\n%s== %s%s\n' "$B" "$title" "$N"
  local t0 rc=0
  t0=$(now)
  "$@" || rc=$?
  local ms=$(( ($(now) - t0) / 1000000 ))
  if [ "$rc" = 0 ]; then
    printf '%s✔ %s%s %s(%d ms)%s\n' "$G" "$title" "$N" "$D" "$ms" "$N"
  else
    printf '%s✖ %s failed (exit %d)%s\n' "$R" "$title" "$rc" "$N" >&2
    exit 1
  fi
}

# The same check as test/run.sh: npm ci when node_modules is missing or older than the lock file.
source test/ensure-deps.sh
step "npm dependencies (npm ci when node_modules is missing or stale)" ensure_npm_deps
step "prerequisites: Debian packages for the lab (test/lab/prereqs.sh)" bash test/lab/prereqs.sh
step "build (tsc -p demo/tsconfig.json)" npx tsc -p demo/tsconfig.json
exec node dist/demo/demo.js "$@"
