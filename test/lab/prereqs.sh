#!/usr/bin/env bash
# Makes sure this machine can run the test lab (test/lab/lab.ts): the Debian packages the lab hosts
# need (MariaDB server and client, OpenSSH server and client, iproute2, procps, util-linux; iputils-arping,
# haproxy and socat for the hook scripts' tests), root,
# and working network namespaces with veth pairs and bridges.
# Installs missing packages with apt-get (update once, then install) when run as root; otherwise
# exits 1 saying exactly what is missing. Takes well under a second when everything is present.
set -uo pipefail

# package -> a file it must provide (checked too, so a half-removed package is noticed)
declare -A need=(
  [mariadb-server]=/usr/sbin/mariadbd
  [mariadb-client]=/usr/bin/mariadb
  [openssh-server]=/usr/sbin/sshd
  [openssh-sftp-server]=/usr/lib/openssh/sftp-server
  [openssh-client]=/usr/bin/ssh-keygen
  [iproute2]=/usr/sbin/ip
  [procps]=/usr/bin/ps
  [util-linux]=/usr/bin/flock
  # the hook scripts in conf/hooks and their tests: gratuitous ARP for a writer VIP, HAProxy and
  # socat for its runtime API (test/e2e/hooks-*.test.ts)
  [iputils-arping]=/usr/bin/arping
  [haproxy]=/usr/sbin/haproxy
  [socat]=/usr/bin/socat
  # not for the lab: the config tests compare ha with MHA's own Config.pm
  [mha4mysql-manager]=/usr/bin/masterha_check_repl
)
# mariadb-install-db and mysqlbinlog come with mariadb-server on Debian 12; checked as files below.
extra_files=(/usr/bin/mariadb-install-db /usr/bin/mysqlbinlog /usr/bin/ssh)

fail() { echo "test/lab/prereqs.sh: $*" >&2; exit 1; }

if ! command -v dpkg-query >/dev/null 2>&1; then
  fail "this is not a Debian-based system (no dpkg-query); the lab needs Debian packages: ${!need[*]}"
fi

missing=()
status=$(dpkg-query -W -f='${Package} ${Status}\n' "${!need[@]}" 2>/dev/null || true)
for pkg in "${!need[@]}"; do
  if ! grep -qx "$pkg install ok installed" <<<"$status" || [ ! -x "${need[$pkg]}" ]; then
    missing+=("$pkg")
  fi
done
for f in "${extra_files[@]}"; do
  if [ ! -x "$f" ]; then
    case "$f" in
      */ssh) pkg=openssh-client ;;
      *) pkg=mariadb-server ;;
    esac
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

if [ "$(id -u)" != 0 ]; then
  msg="must run as root (the lab creates network namespaces, bridges and veth pairs)"
  [ ${#missing[@]} -gt 0 ] && msg="$msg; missing packages: ${missing[*]} (install: apt-get install -y ${missing[*]})"
  fail "$msg"
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "test/lab/prereqs.sh: installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed; missing packages: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    fail "apt-get install failed; missing packages: ${missing[*]}"
  for pkg in "${missing[@]}"; do
    [ -x "${need[$pkg]:-/bin/true}" ] || fail "package $pkg installed but ${need[$pkg]} is still missing"
  done
fi

# Network namespaces, veth pairs and bridges must work. Everything is created inside a throw-away
# namespace, so nothing touches the root namespace's interfaces.
ns="ha-prereq-$$"
if ! err=$(ip netns add "$ns" 2>&1); then
  fail "'ip netns add' does not work here (need root with CAP_SYS_ADMIN and network namespace support): $err"
fi
trap 'ip netns del "$ns" 2>/dev/null' EXIT
if ! err=$(ip -n "$ns" link add hapa type veth peer name hapb 2>&1); then
  fail "veth pairs do not work (kernel module veth missing?): $err"
fi
if ! err=$(ip -n "$ns" link add habr type bridge 2>&1); then
  fail "bridges do not work (kernel module bridge missing?): $err"
fi
if ! err=$(ip netns exec "$ns" true 2>&1); then
  fail "'ip netns exec' does not work: $err"
fi
exit 0
