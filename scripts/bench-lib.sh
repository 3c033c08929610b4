# What scripts/bench.sh and scripts/ab.sh share; sourced by both.

# scale_mix is the scale check's mix of feed and list pages, and the warm-up of every
# benchmark server.
scale_mix="feed-anon=1,feed-auth=1,feed-recommend=1,publish-list=1,favorite-list=1,comment-list=1,follow-list=1,follower-list=1"

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

# wait_ready URL: until the server at URL answers /readyz, at most a minute.
wait_ready() {
  local url=$1 deadline=$((SECONDS + 60))
  until curl -sf "$url/readyz" >/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$url never became ready" >&2
      exit 1
    fi
    sleep 0.2
  done
}
