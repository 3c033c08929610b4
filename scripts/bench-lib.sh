# Sourced by scripts/bench.sh and scripts/ab.sh.
#
# free_port FROM TO prints a port in FROM..TO that no socket uses. Keep the range below the
# kernel's ephemeral range (32768-60999 by default): a port inside it may be the local end of
# some outgoing connection, which refuses our listener although nothing listens on it.
free_port() {
  local p
  for p in $(seq "$1" "$2"); do
    if [ -z "$(ss -Htan "sport = :$p")" ]; then
      echo "$p"
      return
    fi
  done
  echo "no free port in $1-$2" >&2
  exit 1
}
