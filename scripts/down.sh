#!/usr/bin/env bash
# Stops exactly the processes scripts/up.sh started: SIGTERM (graceful: drain, deregister from
# Consul), then SIGKILL for any still alive after the grace period.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${DOUYIN_UP_DIR:-$root/.run/up}
[ -f "$state/pids" ] || { echo "down: nothing to stop"; exit 0; }

alive() { kill -0 "$1" 2>/dev/null && grep -q douyin "/proc/$1/cmdline" 2>/dev/null; }
while read -r pid target; do
  alive "$pid" && kill -TERM "$pid" || true
done <"$state/pids"
deadline=$((SECONDS + 20))
while read -r pid target; do
  while alive "$pid"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "down: $target ($pid) ignored SIGTERM; killing" >&2
      kill -KILL "$pid" || true
      break
    fi
    sleep 0.1
  done
done <"$state/pids"
rm -f "$state/pids"
echo "down: stopped"
