#!/usr/bin/env bash
# Runs the system as separate processes, DOUYIN_UP_REPLICAS (default 1) instances of every target,
# gateways included, on the real backends (MariaDB, Redis, RocketMQ, Consul, Jaeger, started by deps.sh),
# finding each other through Consul. Waits until every instance is ready, then prints
# GATEWAYS=<every gateway URL, space-separated> and, as its last line, GATEWAY=<the first one>.
# State (pids, logs, secrets) lives in $DOUYIN_UP_DIR (default ./.run/up): one line "PID TARGET"
# per instance in pids, a start script per instance (start-TARGET-I.sh; start-TARGET.sh is
# instance 1) and a log per instance (logs/TARGET.log, logs/TARGET-I.log from the second on).
# scripts/down.sh stops exactly the processes started here. Run one deployment per machine at a time: they share the
# RocketMQ consumer groups (each skips the other's messages, see mq.rocketmq.origin).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=${DOUYIN_UP_DIR:-$root/.run/up}
base=${DOUYIN_UP_PORT_BASE:-18000}
database=${DOUYIN_UP_DATABASE:-douyin_up}
replicas=${DOUYIN_UP_REPLICAS:-1}
# Ports: instance slot k (0-based over every target's instances) listens for RPC on base+1+k and
# for admin on base+101+k; gateway instance i serves HTTP on base+79+i. Nine replicas fit below
# the gateways' ports.
case $replicas in
  [1-9]) ;;
  *) echo "up: DOUYIN_UP_REPLICAS must be 1..9, not '$replicas'" >&2; exit 1 ;;
esac

if [ -f "$state/pids" ] && [ -s "$state/pids" ]; then
  echo "up: $state/pids exists: a deployment is running; run scripts/down.sh first" >&2
  exit 1
fi
mkdir -p "$state/logs" "$state/data"

scripts/deps.sh >"$state/deps.log" 2>&1 || { cat "$state/deps.log" >&2; exit 1; }
go build -o "$state/douyin" ./cmd/douyin
# Every component, each after those it calls, and those serving Kitex: from the module table
# (app/modules.go), so a new component needs no edit here.
targets=()
services=()
while read -r name roles; do
  targets+=("$name")
  [[ " $roles " != *" kitex "* ]] || services+=("$name")
done < <("$state/douyin" components)
[ "${#targets[@]}" -gt 0 ] || { echo "up: douyin components listed nothing" >&2; exit 1; }

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
# The Go collector's pace the chart gives every container (goRuntime.gcPercent), so this
# deployment costs what a cluster's does; an exported GOGC wins.
export GOGC=${GOGC:-$(sed -n 's/^  gcPercent: *\([0-9]*\).*/\1/p' charts/douyin/values.yaml)}
# Every process exports its spans to the Jaeger deps.sh runs, all of them (a deployment for
# tests and debugging); DOUYIN_TELEMETRY_OTLP_ENDPOINT= (empty) turns tracing off.
export DOUYIN_TELEMETRY_OTLP_ENDPOINT=${DOUYIN_TELEMETRY_OTLP_ENDPOINT-127.0.0.1:4317}
export DOUYIN_TELEMETRY_SAMPLE_RATIO=${DOUYIN_TELEMETRY_SAMPLE_RATIO:-1}
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
slot=0
admin_ports=() # "PORT TARGET LOG" per instance, for the readiness checks
gateways=()
for target in "${targets[@]}"; do
  for ((i = 1; i <= $replicas; i++)); do
    port=$((base + 1 + slot))
    admin=$((base + 101 + slot))
    http=$((base + 79 + i))
    log="$state/logs/$target.log"
    [ "$i" -eq 1 ] || log="$state/logs/$target-$i.log"
    [ "$target" != gateway ] || gateways+=("http://127.0.0.1:$http")
    # Each instance gets a start script, so tests can kill a process and start it again exactly
    # as it was (scripts/down.sh still stops it: the script appends the new pid).
    cat >"$state/start-$target-$i.sh" <<START
#!/usr/bin/env bash
set -euo pipefail
$(export -p | grep -E ' (DOUYIN_|GOGC=)')
export DOUYIN_RPC_LISTEN_ADDR=127.0.0.1:$port DOUYIN_HTTP_ADDR=127.0.0.1:$http DOUYIN_ADMIN_ADDR=127.0.0.1:$admin
nohup "$state/douyin" -target=$target >>"$log" 2>&1 &
echo "\$! $target" >>"$state/pids"
START
    chmod 700 "$state/start-$target-$i.sh"
    [ "$i" -ne 1 ] || ln -sf "start-$target-1.sh" "$state/start-$target.sh"
    "$state/start-$target-$i.sh"
    admin_ports+=("$admin $target $log")
    slot=$((slot + 1))
  done
done

# Ready when every service has all its instances passing their Consul health checks, and every
# process (media workers and gateways included) answers /readyz on its admin port.
deadline=$((SECONDS + 60 + 15 * (replicas - 1)))
for target in "${services[@]}"; do
  want=$replicas
  until [ "$(curl -sf "http://127.0.0.1:8500/v1/health/service/douyin-$target?passing=true" | grep -o '"ServiceID"' | wc -l)" -ge "$want" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "up: douyin-$target has fewer than $want healthy instances in Consul; see $state/logs/$target*.log" >&2
      tail -20 "$state/logs/$target.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
for entry in "${admin_ports[@]}"; do
  read -r admin target log <<<"$entry"
  until curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "up: $target is not ready on its admin port $admin; see $log" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
for gateway in "${gateways[@]}"; do
  until curl -sf "$gateway/readyz" >/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "up: the gateway $gateway never became ready; see $state/logs/gateway*.log" >&2
      tail -20 "$state/logs/gateway.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
echo "up: ${#admin_ports[@]} processes running ($replicas of each target); logs in $state/logs"
echo "GATEWAYS=${gateways[*]}"
echo "GATEWAY=${gateways[0]}"
