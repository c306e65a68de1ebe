#!/usr/bin/env bash
# Installs the Debian packages raftplane's tests need. Idempotent: when every
# package is already installed it does nothing (no apt-get update, no network).
#
#   etcd-server, etcd-client  a real etcd + etcdctl, to compare our store against
#   prometheus                prometheus + promtool, to scrape a cluster and lint /metrics
#
# Runs as root, or through sudo when not root. The etcd-server and prometheus
# packages would start daemons on their default ports (etcd 2379/2380,
# prometheus 9090) where an init system lets them; tests start their own on
# their own ports, so this script keeps the packaged daemons from starting and
# stops them if they run anyway. Recommends are not installed (prometheus would
# pull in prometheus-node-exporter, another daemon on 9100).
set -euo pipefail

PACKAGES=(etcd-server etcd-client prometheus)

log() { printf 'install-deps: %s\n' "$*"; }

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  log "already installed: ${PACKAGES[*]}"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  log "need root to install: ${missing[*]} (not root, and no sudo); install them yourself" >&2
  exit 1
fi

# Keep maintainer scripts from starting services while we install. Without a
# policy-rc.d, invoke-rc.d would start /etc/init.d/etcd on a non-systemd host.
# Only touch the file when none exists, and remove only what we created.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [ "$created_policy" -eq 1 ]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, written by raftplane scripts/install-deps.sh\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"

# A packaged daemon (run by systemd or the init script, as its own user) would
# hold its default ports: etcd 2379/2380, prometheus 9090. Stop it and keep it
# from coming back at boot. $1: the user and process name, $2: the service.
stop_packaged_daemon() {
  local user=$1 service=$2 pids
  pids=$(pgrep -u "$user" -x "$user" || true)
  [ -n "$pids" ] || return 0
  log "stopping the $user daemon the package started (pid $(echo $pids))"
  if [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl disable --now "$service.service" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$service" ]; then
    "${SUDO[@]}" "/etc/init.d/$service" stop >/dev/null 2>&1 || true
  fi
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pgrep -u "$user" -x "$user" >/dev/null || return 0
    sleep 0.5
  done
  pids=$(pgrep -u "$user" -x "$user" || true)
  [ -z "$pids" ] || "${SUDO[@]}" kill $pids || true
}
stop_packaged_daemon etcd etcd
stop_packaged_daemon prometheus prometheus

for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || { log "failed to install $pkg" >&2; exit 1; }
done
log "installed: $(etcd --version 2>/dev/null | head -n1); $(ETCDCTL_API=3 etcdctl version 2>/dev/null | head -n1); $(prometheus --version 2>&1 | head -n1)"
