# Shared by bench/*.sh (sourced): install missing Debian packages, then build ha, the lab and the
# bench. Each script names the packages it needs as "package=/a/file/it/provides" words.

# bench_install NAME package=/file ... : apt-get install the packages whose file is missing.
bench_install() {
  local who=$1; shift
  local missing=() spec pkg file
  for spec in "$@"; do
    pkg=${spec%%=*}; file=${spec#*=}
    [ -x "$file" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "$who: installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed; missing packages: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || fail "apt-get install failed; missing packages: ${missing[*]}"
  for spec in "$@"; do
    pkg=${spec%%=*}; file=${spec#*=}
    [ -x "$file" ] || fail "package $pkg installed but $file is still missing"
  done
}

# bench_build: npm ci when node_modules is missing or older than package-lock.json, then tsc with
# bench/tsconfig.json (ha, the lab and the bench; not the unit and e2e tests), then reap labs left
# behind by a killed run.
bench_build() {
  echo "== build"
  # (package-lock.json, not package.json: editing a script must not reinstall node_modules under other runs)
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  npx tsc -p bench/tsconfig.json || fail "the build failed (see the errors above): the bench measures the built ha"
  node dist/test/lab/cli.js gc >/dev/null
}
