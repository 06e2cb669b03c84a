#!/usr/bin/env bash
# ensure-deps.sh WHAT... makes sure the machine has what `make run` / `make test` need.
# As root on Debian/Ubuntu it installs what is missing with apt-get; otherwise it
# stops with the exact command to run. WHAT: postgres, node, chromium.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
have_node() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }

apt_updated=
install() {
  local pkgs="$*"
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: $pkgs — install it with: sudo apt-get install -y $pkgs" >&2
    exit 1
  fi
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  echo "installing $pkgs with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
}

for what in "$@"; do
  case "$what" in
    postgres) have_postgres || install postgresql ;;
    node) have_node || install nodejs npm ;;
    chromium) have_chromium || install chromium ;;
    *) echo "ensure-deps: unknown dependency $what" >&2; exit 2 ;;
  esac
done
