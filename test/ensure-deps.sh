#!/usr/bin/env bash
# Installs the npm dependencies (npm ci) when node_modules is missing or older than
# package-lock.json. Sourced by test/run.sh and demo/demo.sh from the checkout's root.
# A node_modules that is a symlink (a git worktree sharing another checkout's packages) is never
# reinstalled here: npm ci deletes node_modules first, and through the link that empties the other
# checkout's node_modules (it happened: a worktree's `npm test` emptied the main checkout's).
ensure_npm_deps() {
  if [ -L node_modules ]; then
    if [ ! -f node_modules/.package-lock.json ]; then
      echo "node_modules is a symlink to $(readlink -f node_modules), which has no installed packages:" \
        "run 'npm ci' in that checkout, or remove the link and run this again" >&2
      return 1
    fi
    if [ package-lock.json -nt node_modules/.package-lock.json ] && ! cmp -s package-lock.json "$(readlink -f node_modules)/../package-lock.json"; then
      echo "note: node_modules is shared through a symlink ($(readlink -f node_modules)) and may not match this package-lock.json; not reinstalling it" >&2
    fi
    return 0
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "== npm ci (node_modules missing or older than package-lock.json)"
    npm ci --no-audit --no-fund
  fi
}
