#!/usr/bin/env bash
# Runs the system as separate processes, one per target, on the real backends (MariaDB, Redis,
# RocketMQ, Consul, started by deps.sh), finding each other through Consul. Waits until the
# gateway is ready and prints GATEWAY=http://127.0.0.1:PORT as its last line.
# State (pids, logs, secrets) lives in $DOUYIN_UP_DIR (default ./.run/up); scripts/down.sh stops
# exactly the processes started here. Run one deployment per machine at a time: they share the
# RocketMQ consumer groups (each skips the other's messages, see mq.rocketmq.origin).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=${DOUYIN_UP_DIR:-$root/.run/up}
base=${DOUYIN_UP_PORT_BASE:-18000}
database=${DOUYIN_UP_DATABASE:-douyin_up}
targets=(user video favorite comment relation message media gateway)

if [ -f "$state/pids" ] && [ -s "$state/pids" ]; then
  echo "up: $state/pids exists: a deployment is running; run scripts/down.sh first" >&2
  exit 1
fi
mkdir -p "$state/logs" "$state/data"

scripts/deps.sh >"$state/deps.log" 2>&1 || { cat "$state/deps.log" >&2; exit 1; }
go build -o "$state/douyin" ./cmd/douyin

# A signing key for this deployment, created once, readable by the owner only.
[ -s "$state/auth.secret" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$state/auth.secret")
# And one signing the caller identity of Kitex calls between the components.
[ -s "$state/caller.key" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$state/caller.key")

export DOUYIN_DB_DRIVER=mysql
export DOUYIN_DB_DSN="douyin:douyin-local-test@tcp(127.0.0.1:3306)/${database}"
# The cache is namespaced by database: another deployment's cached rows never leak in.
export DOUYIN_CACHE_BACKEND=redis DOUYIN_CACHE_REDIS_ADDR=127.0.0.1:6379 DOUYIN_CACHE_REDIS_KEY_PREFIX="douyin:${database}:"
# Deployments on this machine share the broker's topics and consumer groups (a new group would
# take a slow first rebalance): each applies only the messages it published itself, and skips
# what an earlier deployment left unconsumed.
export DOUYIN_MQ_BACKEND=rocketmq DOUYIN_MQ_ROCKETMQ_NAMESERVERS=127.0.0.1:9876 DOUYIN_MQ_ROCKETMQ_ORIGIN="$database"
export DOUYIN_RPC_DISCOVERY=consul DOUYIN_RPC_CONSUL_ADDR=127.0.0.1:8500
export DOUYIN_AUTH_SECRET
DOUYIN_AUTH_SECRET=$(cat "$state/auth.secret")
export DOUYIN_RPC_CALLER_KEY
DOUYIN_RPC_CALLER_KEY=$(cat "$state/caller.key")
export DOUYIN_DATA_DIR="$state/data" DOUYIN_SEED_ENABLED=false
# Local clients (the e2e suite, a proxy on this machine) may name the client address in
# X-Forwarded-For; the per-IP limits key on it.
export DOUYIN_HTTP_TRUSTED_PROXIES=${DOUYIN_HTTP_TRUSTED_PROXIES:-127.0.0.1}

echo "$DOUYIN_DB_DSN" >"$state/mysql.dsn" # for tests that check the SQL rows behind the API
"$state/douyin" migrate >"$state/logs/migrate.log" 2>&1 || { cat "$state/logs/migrate.log" >&2; exit 1; }

: >"$state/pids"
port=$((base + 1))
for target in "${targets[@]}"; do
  # Each target gets a start script, so tests can kill a process and start it again exactly
  # as it was (scripts/down.sh still stops it: the script appends the new pid).
  cat >"$state/start-$target.sh" <<START
#!/usr/bin/env bash
set -euo pipefail
$(export -p | grep ' DOUYIN_')
export DOUYIN_RPC_LISTEN_ADDR=127.0.0.1:$port DOUYIN_HTTP_ADDR=127.0.0.1:$((base + 80)) DOUYIN_ADMIN_ADDR=127.0.0.1:$((port + 100))
nohup "$state/douyin" -target=$target >>"$state/logs/$target.log" 2>&1 &
echo "\$! $target" >>"$state/pids"
START
  chmod 700 "$state/start-$target.sh"
  "$state/start-$target.sh"
  port=$((port + 1))
done

# Ready when every service passes its Consul health check and the gateway answers /readyz.
deadline=$((SECONDS + 60))
for target in user video favorite comment relation message; do
  until curl -sf "http://127.0.0.1:8500/v1/health/service/douyin-$target?passing=true" | grep -q '"ServiceID"'; do
    if [ $SECONDS -ge $deadline ]; then
      echo "up: douyin-$target never became healthy in Consul; see $state/logs/$target.log" >&2
      tail -20 "$state/logs/$target.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
# Every process, the media worker included, answers /readyz on its admin port.
port=$((base + 101))
for target in "${targets[@]}"; do
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "up: $target is not ready on its admin port $port; see $state/logs/$target.log" >&2
      tail -20 "$state/logs/$target.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  port=$((port + 1))
done
gateway="http://127.0.0.1:$((base + 80))"
until curl -sf "$gateway/readyz" >/dev/null; do
  if [ $SECONDS -ge $deadline ]; then
    echo "up: the gateway never became ready; see $state/logs/gateway.log" >&2
    tail -20 "$state/logs/gateway.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "up: ${#targets[@]} processes running; logs in $state/logs"
echo "GATEWAY=$gateway"
