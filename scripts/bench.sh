#!/usr/bin/env bash
# Reproducible benchmark (issues 6 and 15): seeds synthetic data sets with cmd/loadgen, drives the HTTP
# API of the embedded single process (small and large data set: the scale check) and of the
# multi-process deployment on MariaDB/Redis/RocketMQ/Consul (scripts/up.sh), measures a minimal
# Hertz handler answering the anonymous first page's bytes as the reference every endpoint is a
# ratio to, and writes docs/benchmarks.md and docs/benchmarks.json. Not part of make test;
# about 10-14 minutes on 2 cores.
#
# Knobs (environment): BENCH_DURATION (per-endpoint runs, default 10s), BENCH_MIX_DURATION (15s),
# BENCH_CONCURRENCY (64), BENCH_RATE (open-loop run, 1000 req/s), BENCH_LARGE (preset of the
# scale check, default large), BENCH_MULTI=0 skips the multi-process part, BENCH_DIR (work dir,
# default .run/bench), BENCH_DOCS (where the report goes, default docs), BENCH_REPORT_ONLY=1
# rewrites the report from the last runs without measuring again.
#
# The servers run with the auth, write and read rate limits off (=0): all load
# comes from 127.0.0.1 and a few accounts, which the per-IP and per-user limits would refuse.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$SECONDS
work=${BENCH_DIR:-$root/.run/bench}
docs=${BENCH_DOCS:-$root/docs}
dur=${BENCH_DURATION:-10s}
mixdur=${BENCH_MIX_DURATION:-15s}
conc=${BENCH_CONCURRENCY:-64}
rate=${BENCH_RATE:-1000}
large=${BENCH_LARGE:-large}
multi=${BENCH_MULTI:-1}
# The tracing-cost servers (see tracing_cost) and its rounds.
tracing_modes=(off offb 10pct)
tracing_rounds=3
# Issue 13's comparison of a recommended page with a logged-in feed page: its rounds (see recommend_pairs).
recommend_rounds=4
if [ "$large" = small ]; then
  echo "bench: BENCH_LARGE must name another preset than small (tiny or large): the scale check compares the two" >&2
  exit 2
fi
# The per-endpoint runs behind the issues' targets.
targets=(feed-anon feed-auth feed-recommend user-info comment-list chat-poll like)
# The scale check (feed and lists, small data set versus large), free_port and wait_ready.
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

# Other work on the machine skews every figure: the load averages are in the report.
loadavg0=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "bench: $*" >&2; }
# BENCH_REPORT_ONLY=1 rewrites the report from the runs of the last bench in $BENCH_DIR.
report_only=${BENCH_REPORT_ONLY:-0}
if [ "$report_only" != 1 ]; then
rm -rf "$work"
mkdir -p "$work/runs" "$docs"

log "building"
go build -o "$work/douyin" ./cmd/douyin
go build -o "$work/loadgen" ./cmd/loadgen
lg="$work/loadgen"

server_pid=""
tracing_pids=()
up_started=""
cleanup() {
  local pid
  for pid in "$server_pid" "${tracing_pids[@]}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$up_started" ]; then
    DOUYIN_UP_DIR="$up_dir" scripts/down.sh >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# wait_drained: until the favorite service has consumed every like it published (its admin
# /metrics), at most two minutes.
wait_drained() {
  local admin metrics published consumed started=$SECONDS
  admin=$(sed -n 's/.*DOUYIN_ADMIN_ADDR=\([^ ]*\).*/\1/p' "$up_dir/start-favorite.sh")
  while :; do
    metrics=$(curl -sf "http://$admin/metrics" || true)
    published=$(awk '/^douyin_mq_published_total\{/ && /topic="douyin-favorite"/ && /result="ok"/ {print $2}' <<<"$metrics")
    consumed=$(awk '/^douyin_mq_consumed_total\{/ && /topic="douyin-favorite"/ && /result="ok"/ {print $2}' <<<"$metrics")
    if [ -n "$published" ] && [ "$published" = "$consumed" ]; then
      log "like backlog drained $((SECONDS - started)) s after the run ($published likes)"
      echo "drained $((SECONDS - started)) s after the like run ended ($published likes published, all consumed)" >"$work/like-backlog.txt"
      return
    fi
    if [ $((SECONDS - started)) -ge 120 ]; then
      log "like backlog not drained after 120 s (published $published, consumed $consumed); going on"
      echo "**not drained** 120 s after the like run ended (published $published, consumed $consumed)" >"$work/like-backlog.txt"
      return
    fi
    sleep 0.5
  done
}

# run LABEL ARGS…: one measured loadgen run, JSON and markdown under $work/runs.
run() {
  local label=$1
  shift
  log "run $label"
  echo "$(basename "$lg") run $*" | sed "s#$work#\$BENCH_DIR#g" >>"$work/commands.txt"
  "$lg" run -label "$label" -json "$work/runs/$label.json" -md "$work/runs/$label.md" "$@" >/dev/null
}

# recommend_pairs PREFIX ARGS… (issue 13): feed-auth and feed-recommend alternated on one
# server, recommend_rounds rounds of each, pooled in the report: one pair back to back swung
# by ±10 % on this box, as much as the difference it measures. The order flips every round
# (auth first, then recommend first), so that a drift of the machine's load during the rounds
# (or what the runs before left to settle) weighs on both alike.
recommend_pairs() {
  local prefix=$1 round s order
  shift
  for round in $(seq "$recommend_rounds"); do
    order="feed-auth feed-recommend"
    if ((round % 2 == 0)); then order="feed-recommend feed-auth"; fi
    for s in $order; do
      run "$prefix-pair-$s-$round" "$@" -scenario "$s" -duration "$dur"
    done
  done
}

# reference URL DIR WHEN (issue 15): a minimal Hertz handler on the framework's defaults answers
# the exact bytes of the server's anonymous first page; the same load generator measures it as
# the anonymous feed. It is the fastest any handler here can answer such a page: every endpoint
# is reported as a ratio to it.
reference() {
  local url=$1 dir=$2 when=$3 port ref_pid
  curl -sf -o "$dir/first-page.json" "$url/douyin/feed/"
  port=$(free_port 29100 29400)
  echo "curl -o first-page.json <server>/douyin/feed/; loadgen reference -addr 127.0.0.1:$port -body first-page.json" >>"$work/commands.txt"
  "$lg" reference -addr "127.0.0.1:$port" -body "$dir/first-page.json" >"$dir/reference.log" 2>&1 &
  ref_pid=$!
  local deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "bench: the reference server never answered" >&2
      exit 1
    fi
    sleep 0.1
  done
  run "reference-$when" -target "http://127.0.0.1:$port" -manifest "$dir/manifest.json" -concurrency "$conc" \
    -server-pid "$ref_pid" -scenario feed-anon -duration "$dur"
  kill -TERM "$ref_pid"
  wait "$ref_pid" || true
}

# embedded PRESET: seed a fresh data dir, start the single process on it, run the scenarios.
embedded() {
  local preset=$1 dir="$work/embedded-$1" port admin_port url
  mkdir -p "$dir"
  log "seeding $preset into SQLite"
  echo "loadgen seed -size $preset -data.dir \$BENCH_DIR/embedded-$preset/data -manifest …" >>"$work/commands.txt"
  "$lg" seed -size "$preset" -data.dir "$dir/data" -manifest "$dir/manifest.json" 2>"$dir/seed.log"
  port=$(free_port 29100 29400)
  admin_port=$(free_port $((port + 1)) 29400)
  url="http://127.0.0.1:$port"
  # The admin port (/metrics, /debug/pprof/) too: the default :9090 may be taken.
  echo "douyin -data.dir \$BENCH_DIR/embedded-$preset/data -http.addr 127.0.0.1:$port -admin.addr 127.0.0.1:$admin_port -admin.pprof -seed.enabled=false -http.auth-rate-per-minute=0 -http.write-rate-per-minute=0 -http.read-rate-per-minute=0" >>"$work/commands.txt"
  "$work/douyin" -data.dir "$dir/data" -http.addr "127.0.0.1:$port" -admin.addr "127.0.0.1:$admin_port" -admin.pprof -seed.enabled=false \
    -http.auth-rate-per-minute=0 -http.write-rate-per-minute=0 -http.read-rate-per-minute=0 >"$dir/server.log" 2>&1 &
  server_pid=$!
  wait_ready "$url"
  local common=(-target "$url" -manifest "$dir/manifest.json" -tokens "$dir/tokens.json" -concurrency "$conc" -server-pid "$server_pid")
  # Warm-up: logs the accounts in (cached for the later runs) and fills the caches.
  "$lg" run "${common[@]}" -duration 3s >/dev/null
  if [ "$preset" = small ]; then
    # Issue 15: the reference before and after the endpoints, so that drift in the machine's
    # load during the runs shows.
    reference "$url" "$dir" before
    for s in "${targets[@]}"; do
      run "embedded-$s" "${common[@]}" -scenario "$s" -duration "$dur"
    done
    reference "$url" "$dir" after
    recommend_pairs embedded-small "${common[@]}"
    run "embedded-mix" "${common[@]}" -duration "$mixdur"
    run "embedded-mix-open" "${common[@]}" -rate "$rate" -duration "$dur"
  fi
  # The same warm-up on both data sets: the check is whether a page's work grows with the
  # tables, not how long the first touch of a cold record takes (that is the miss path).
  run "embedded-scale-$preset" "${common[@]}" -mix "$scale_mix" -warmup "$dur" -duration "$dur"
  if [ "$preset" != small ]; then
    # Issue 13: a recommended page against a logged-in feed page at the large data set too.
    recommend_pairs "embedded-$preset" "${common[@]}"
  fi
  # Issue 15: the in-process caches after every run on this data set, against their bounds.
  curl -sf "http://127.0.0.1:$admin_port/metrics" | grep -E '^douyin_cache_(max_)?entries\{' >"$work/cache-sizes-$preset.txt" || true
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

# tracing_cost (issue 11): the anonymous and logged-in feeds of the small data set with tracing
# off and with the process exporting 10 % of its traces to the Jaeger of scripts/deps.sh, side
# by side: three servers, each on its own copy of the data, loaded at the same time by their own
# load generator, so whatever else the box does hits all three alike. Two have tracing off: the
# difference between them is the noise floor of the comparison. Runs one after the other swung
# by ±20 % on this box, more than the 5 % target.
tracing_cost() {
  local dir="$work/embedded-small" mode port admin_port flags s round
  local -A url pid
  scripts/deps.sh >"$work/deps-tracing.log" 2>&1 || { cat "$work/deps-tracing.log" >&2; exit 1; }
  for mode in "${tracing_modes[@]}"; do
    flags=()
    [ "$mode" != 10pct ] || flags=(-telemetry.otlp-endpoint 127.0.0.1:4317 -telemetry.sample-ratio 0.1)
    rm -rf "$dir/data-tracing-$mode"
    cp -r "$dir/data" "$dir/data-tracing-$mode"
    port=$(free_port 29100 29400)
    admin_port=$(free_port $((port + 1)) 29400)
    url[$mode]="http://127.0.0.1:$port"
    echo "cp -r \$BENCH_DIR/embedded-small/data data-tracing-$mode; douyin -data.dir data-tracing-$mode -http.addr 127.0.0.1:$port -admin.addr 127.0.0.1:$admin_port -seed.enabled=false -http.auth-rate-per-minute=0 -http.write-rate-per-minute=0 -http.read-rate-per-minute=0 ${flags[*]}" >>"$work/commands.txt"
    "$work/douyin" -data.dir "$dir/data-tracing-$mode" -http.addr "127.0.0.1:$port" -admin.addr "127.0.0.1:$admin_port" -seed.enabled=false \
      -http.auth-rate-per-minute=0 -http.write-rate-per-minute=0 -http.read-rate-per-minute=0 "${flags[@]}" >"$dir/server-tracing-$mode.log" 2>&1 &
    pid[$mode]=$!
    tracing_pids+=("${pid[$mode]}")
    wait_ready "${url[$mode]}"
    "$lg" run -target "${url[$mode]}" -manifest "$dir/manifest.json" -tokens "$dir/tokens.json" -concurrency "$conc" -duration 3s >/dev/null
  done
  for round in $(seq "$tracing_rounds"); do
    for s in feed-anon feed-auth; do
      local -a loads=()
      local p
      for mode in "${tracing_modes[@]}"; do
        run "tracing-$mode-$s-$round" -target "${url[$mode]}" -manifest "$dir/manifest.json" -tokens "$dir/tokens.json" \
          -concurrency "$conc" -server-pid "${pid[$mode]}" -scenario "$s" -duration "$dur" &
        loads+=($!)
      done
      for p in "${loads[@]}"; do
        wait "$p" || { log "a tracing-cost run failed"; exit 1; }
      done
    done
  done
  for mode in "${tracing_modes[@]}"; do
    kill -TERM "${pid[$mode]}"
    wait "${pid[$mode]}" || true
  done
  tracing_pids=()
}

embedded small
tracing_cost
embedded "$large"

# Issue 13: the recommender's model at the large data set's shape (10 000 users, 100 000 videos,
# 1M likes): its heap after training, and its quality there (the offline evaluation).
log "evaluating the recommender at the large size"
echo "loadgen evaluate -users 10000 -groups 100 -videos-per-group 1000 -likes-per-user 100 -measure-users 1000 -json" >>"$work/commands.txt"
"$lg" evaluate -users 10000 -groups 100 -videos-per-group 1000 -likes-per-user 100 -measure-users 1000 -json >"$work/runs/evaluate-large.json"

if [ "$multi" = 1 ]; then
  ts=$(date +%Y%m%d%H%M%S)
  database="douyin_bench_$ts"
  up_dir="$root/.run/bench-up"
  if [ -s "$up_dir/pids" ]; then
    DOUYIN_UP_DIR="$up_dir" scripts/down.sh >/dev/null 2>&1 || true
  fi
  rm -rf "$up_dir"
  mkdir -p "$up_dir/data"
  # Seed before the deployment starts: its Redis caches (prefix douyin:<db>:) are then empty
  # and every read sees the seeded rows.
  scripts/deps.sh >"$work/deps.log" 2>&1 || { cat "$work/deps.log" >&2; exit 1; }
  # Service names in Consul are not namespaced per deployment: while another deployment runs,
  # our gateway would also call its services (and its database). Wait for it to stop.
  deadline=$((SECONDS + ${BENCH_CONSUL_WAIT:-120}))
  while curl -sf http://127.0.0.1:8500/v1/catalog/services | jq -e 'keys | any(startswith("douyin-"))' >/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "bench: another douyin deployment is registered in Consul (127.0.0.1:8500); the multi-process" >&2
      echo "bench: run needs it stopped (its services would answer our gateway). Rerun, or BENCH_MULTI=0." >&2
      exit 1
    fi
    log "waiting for another deployment's douyin-* services to leave Consul"
    sleep 5
  done
  log "seeding small into MariaDB database $database"
  echo "DOUYIN_DB_DSN='douyin:…@tcp(127.0.0.1:3306)/$database' loadgen seed -db.driver mysql -size small -blob-dir \$DOUYIN_UP_DIR/data/blobs -manifest …" >>"$work/commands.txt"
  DOUYIN_DB_DSN="douyin:douyin-local-test@tcp(127.0.0.1:3306)/$database" \
    "$lg" seed -db.driver mysql -size small -blob-dir "$up_dir/data/blobs" -manifest "$work/multi-manifest.json" 2>"$work/multi-seed.log"
  log "starting the multi-process deployment"
  # Tracing at the production ratio of issue 11 (up.sh's default of 1 is for tests and debugging).
  echo "DOUYIN_UP_DATABASE=$database DOUYIN_UP_PORT_BASE=30000 DOUYIN_UP_DIR=.run/bench-up DOUYIN_TELEMETRY_SAMPLE_RATIO=0.1 DOUYIN_HTTP_AUTH_RATE_PER_MINUTE=0 DOUYIN_HTTP_WRITE_RATE_PER_MINUTE=0 DOUYIN_HTTP_READ_RATE_PER_MINUTE=0 DOUYIN_ADMIN_PPROF=true scripts/up.sh" >>"$work/commands.txt"
  up_started=1
  gateway=$(DOUYIN_UP_DATABASE="$database" DOUYIN_UP_PORT_BASE=30000 DOUYIN_UP_DIR="$up_dir" DOUYIN_TELEMETRY_SAMPLE_RATIO=0.1 \
    DOUYIN_HTTP_AUTH_RATE_PER_MINUTE=0 DOUYIN_HTTP_WRITE_RATE_PER_MINUTE=0 DOUYIN_HTTP_READ_RATE_PER_MINUTE=0 DOUYIN_ADMIN_PPROF=true scripts/up.sh | sed -n 's/^GATEWAY=//p')
  pids=$(awk '{print $1}' "$up_dir/pids" | paste -sd, -)
  cp "$up_dir/pids" "$work/multi-pids.txt" # names the processes in the per-process report
  # The pairs of issue 13 count the shared Redis and MariaDB too: a recommended page's seen
  # videos cost Redis, a logged-in page scrolled back costs MariaDB, and neither is in the
  # douyin processes' CPU.
  backends=$(pgrep -x 'redis-server|mariadbd' | paste -sd, -)
  echo "$backends" >"$work/multi-backends.txt"
  common=(-target "$gateway" -manifest "$work/multi-manifest.json" -tokens "$work/multi-tokens.json" -concurrency "$conc" -server-pid "$pids")
  "$lg" run "${common[@]}" -duration 3s >/dev/null
  for s in "${targets[@]}"; do
    run "multi-$s" "${common[@]}" -scenario "$s" -duration "$dur"
    # Likes are acknowledged once queued; the consumer writes them to MariaDB afterwards. Let
    # it catch up, or the next run would measure its backlog instead of its own endpoint.
    if [ "$s" = like ]; then wait_drained; fi
  done
  recommend_pairs multi "${common[@]}" -server-pid "$pids${backends:+,$backends}"
  run "multi-mix" "${common[@]}" -duration "$mixdur"
  DOUYIN_UP_DIR="$up_dir" scripts/down.sh >/dev/null 2>&1 || true
  up_started=""
  # Leave nothing behind: the database and the deployment's cache keys.
  mysql -h127.0.0.1 -udouyin -pdouyin-local-test -e "DROP DATABASE IF EXISTS \`$database\`" 2>/dev/null || log "could not drop $database; drop it by hand"
  if command -v redis-cli >/dev/null; then
    redis-cli --scan --pattern "douyin:$database:*" | xargs -r -n 500 redis-cli del >/dev/null || true
  fi
fi

total=$((SECONDS - started))
echo "$total" >"$work/total"
echo "$loadavg0" >"$work/loadavg0"
cut -d' ' -f1-3 /proc/loadavg >"$work/loadavg1"
date -u +%FT%TZ >"$work/date"
fi # report_only
total=$(cat "$work/total")
loadavg0=$(cat "$work/loadavg0")
loadavg=$(cat "$work/loadavg1")
lg="$work/loadgen"
log "writing $docs/benchmarks.md and $docs/benchmarks.json (total ${total}s)"

# Metadata: machine, versions, data sets, commands.
commit=${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=""
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet HEAD; then dirty=" (with uncommitted changes)"; fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
gover=$(go env GOVERSION)
mysqlver=$(mariadb --version 2>/dev/null | head -1 || echo "n/a")
redisver=$(redis-server --version 2>/dev/null | head -1 || echo "n/a")
jq -n --arg date "$(cat "$work/date")" --arg commit "$commit$dirty" --arg cpu "$cpu" --arg nproc "$(nproc)" \
  --arg mem "$mem" --arg go "$gover" --arg kernel "$(uname -r)" --arg loadavg "$loadavg" --arg loadavg0 "$loadavg0" --arg mariadb "$mysqlver" --arg redis "$redisver" \
  --argjson total "$total" --rawfile commands "$work/commands.txt" \
  '{date:$date, commit:$commit, machine:{cpu:$cpu, nproc:($nproc|tonumber), memory:$mem, kernel:$kernel, loadavg_at_end:$loadavg, loadavg_at_start:$loadavg0},
    versions:{go:$go, mariadb:$mariadb, redis:$redis}, total_seconds:$total, commands:($commands|split("\n")|map(select(.!="")))}' \
  >"$work/meta.json"
"$lg" combine -meta "$work/meta.json" -out "$docs/benchmarks.json" "$work"/runs/*.json

# target ROW-LABEL SCENARIO MIN-RPS [MAX-P99]: one line of the targets table.
target_row() {
  local mode=$1 scenario=$2 want=$3 p99max=${4:-} f="$work/runs/$1-$2.json"
  [ -f "$f" ] || return 0
  jq -r --arg mode "$mode" --arg s "$scenario" --argjson want "$want" --arg p99max "$p99max" '
    .total as $t
    | ($t.rps >= $want and ($p99max == "" or $t.p99_ms <= ($p99max|tonumber)) and $t.errors == 0) as $ok
    | (.server.cpu_seconds * 1000 / ($t.requests|if . == 0 then 1 else . end)) as $cpu
    | (.loadgen.cpu_seconds * 1000 / ($t.requests|if . == 0 then 1 else . end)) as $lcpu
    | "| \($mode) | \($s) | ≥ \($want) req/s\(if $p99max != "" then ", p99 ≤ \($p99max) ms" else "" end) | \($t.rps|floor) req/s, p99 \($t.p99_ms|floor) ms, \($t.errors) errors | \(.server.cores*100|floor/100) cores, \($cpu*1000|floor/1000) ms/req | \($lcpu*1000|floor/1000) ms/req | \(2000/($cpu+$lcpu)|floor) req/s | \(if $ok then "met" else "**not met**" end) |"' "$f"
}

# recommend_row LABEL PREFIX [BACKEND_PIDS]: one line of the recommended-page table, from
# recommend_pairs' rounds under PREFIX, pooled (requests over time, server CPU over requests, p99
# the median round). BACKEND_PIDS (comma-separated) are measured processes that are not douyin's:
# the last column leaves them out.
recommend_row() {
  local auths=("$work"/runs/"$2"-pair-feed-auth-*.json) recs=("$work"/runs/"$2"-pair-feed-recommend-*.json)
  [ -f "${auths[0]}" ] && [ -f "${recs[0]}" ] || return 0
  jq -rn --arg name "$1" --argjson a "$(jq -s . "${auths[@]}")" --argjson r "$(jq -s . "${recs[@]}")" \
    --argjson backends "[${3:-}]" '
    def own: [(.server.processes // [])[] | select(.pid as $p | $backends | index($p) | not) | .cpu_seconds] | add // 0;
    def pooled: {rps: ((map(.total.requests) | add) / (map(.duration_seconds) | add)),
      cpu: ((map(.server.cpu_seconds) | add) * 1e6 / (map(.total.requests) | add)),
      owncpu: ((map(own) | add) * 1e6 / (map(.total.requests) | add)),
      p99: (map(.total.p99_ms) | sort | .[length / 2 | floor]), errors: (map(.total.errors) | add)};
    def fig: "\(.rps|floor) req/s, p99 \(.p99*10|floor/10) ms, \(.cpu|round) µs CPU/req, \(.errors) errors";
    def ratio(x; y): if y == 0 then "n/a" else (x / y * 100 | round / 100 | tostring) end;
    ($a | pooled) as $pa | ($r | pooled) as $pr
    | [range(0; [($a | length), ($r | length)] | min)] as $n
    | def median: sort | if length == 0 then 0 elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      ($n | map($a[.].total.rps / $r[.].total.rps)) as $rps
    | ($n | map(($r[.].server.cpu_seconds / $r[.].total.requests) / ($a[.].server.cpu_seconds / $a[.].total.requests))) as $cpu
    | def list: map(. * 100 | round / 100 | tostring) | join(", ");
      "| \($name) | \($pa|fig) | \($pr|fig) | \(ratio($pa.rps; $pr.rps)) (rounds: \($rps|list); median \($rps|median * 100 | round / 100)) | \(ratio($pr.p99; $pa.p99)) | \(ratio($pr.cpu; $pa.cpu)) (rounds: \($cpu|list); median \($cpu|median * 100 | round / 100)) | \(if $backends == [] then "—" else "\(ratio($pr.owncpu; $pa.owncpu)) (\($pa.owncpu|round) and \($pr.owncpu|round) µs)" end) |"'
}

# The hand-written profile findings at the end of the report survive regeneration.
marker='<!-- findings: kept by scripts/bench.sh -->'
findings=""
if [ -f "$docs/benchmarks.md" ]; then
  findings=$(awk -v m="$marker" '$0 == m {keep = 1} keep' "$docs/benchmarks.md")
fi
{
  echo "# Benchmarks"
  echo
  echo "Latest figures of \`scripts/bench.sh\` (issue 6). Generated by the script, except the profile findings"
  echo "at the end (below the findings marker), which it keeps."
  echo
  echo "## Machine and versions"
  echo
  echo "- date: $(jq -r .date "$work/meta.json"), commit \`$commit\`$dirty"
  echo "- CPU: $cpu, $(nproc) cores; memory $mem; kernel $(uname -r)"
  echo "- $gover; $mysqlver; $redisver; RocketMQ 5.3 and Consul 1.14 from scripts/deps.sh"
  echo "- the load generator runs on the same machine and shares its cores with the server"
  echo "  (in the multi-process mode also with MariaDB, Redis, the RocketMQ broker and Consul)"
  echo "- load average (1/5/15 min) at start: $loadavg0, at end: $loadavg — anything above 0 is other work"
  echo "  competing for the same cores"
  echo "- total run time of scripts/bench.sh: **${total} s**"
  echo
  echo "## Data sets"
  echo
  echo "| data set | backend | users | videos | likes | comments | follows | messages | logged-in accounts | seed time |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for m in "$work"/embedded-*/manifest.json "$work/multi-manifest.json"; do
    [ -f "$m" ] || continue
    jq -r '"| \(.preset) | \(.driver) | \(.sizes.users) | \(.sizes.videos) | \(.sizes.likes) | \(.sizes.comments) | \(.sizes.follows) | \(.sizes.messages) | \(.sizes.accounts) | \(.seed_seconds*10|floor/10) s |"' "$m"
  done
  echo
  echo "Every video points at one shared 4-second clip and cover; counters are computed from the"
  echo "generated rows. Authors, liked videos and commented videos are skewed (a few popular ones)."
  echo
  echo "## Targets (issue 6, 64 connections)"
  echo
  echo "Server CPU per request (utime+stime of the server processes over the run divided by the"
  echo "requests) is what bounds throughput here: with the load generator's own CPU per request it gives"
  echo "the ceiling of the last column, what two otherwise idle cores could serve. In the multi-process"
  echo "mode the server CPU excludes MariaDB, Redis, RocketMQ and Consul."
  echo
  echo "| mode | endpoint | target | measured | server CPU | load generator CPU | ceiling on 2 idle cores | |"
  echo "|---|---|---|---|---|---|---:|---|"
  target_row embedded feed-anon 5000 50
  target_row embedded feed-auth 3000
  target_row embedded feed-recommend 3000 # issue 13: no dearer than a logged-in feed page
  target_row embedded like 5000
  target_row embedded chat-poll 10000
  target_row multi feed-anon 1667
  target_row multi feed-auth 1000
  target_row multi feed-recommend 1000
  target_row multi like 1667
  target_row multi chat-poll 3334
  echo
  echo "## Close to the framework's limit (issue 15): ratios to a minimal Hertz handler"
  echo
  echo "The reference is \`loadgen reference\`: a Hertz server on the framework's defaults whose one"
  echo "handler answers the exact bytes of the real anonymous first page, measured as the anonymous"
  echo "feed by the same load generator in the same run, before and after the endpoints (embedded,"
  echo "small data set, $conc connections). The ratio is an endpoint's req/s over the mean of the two."
  echo
  ref_rps=$(jq -s '[.[].total.rps] | add / length' "$work"/runs/reference-*.json 2>/dev/null || echo 0)
  echo "Reference: $(jq -r '"\(.total.rps|floor) req/s (p99 \(.total.p99_ms|floor) ms, \(.server.cpu_seconds*1000000/.total.requests|floor) µs server CPU/req)"' "$work/runs/reference-before.json" 2>/dev/null) before,"
  echo "$(jq -r '"\(.total.rps|floor) req/s (p99 \(.total.p99_ms|floor) ms, \(.server.cpu_seconds*1000000/.total.requests|floor) µs server CPU/req)"' "$work/runs/reference-after.json" 2>/dev/null) after."
  echo
  echo "| endpoint | req/s | p99 ms | server CPU/req | load generator CPU/req | ratio | target | |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  for pair in feed-anon=0.8 feed-auth=0.5 chat-poll=0.8 user-info=0.6 comment-list=0.5 like=0.2 feed-recommend=; do
    s=${pair%%=*} want=${pair#*=} f="$work/runs/embedded-${pair%%=*}.json"
    [ -f "$f" ] || continue
    jq -r --arg s "$s" --arg want "$want" --argjson ref "$ref_rps" '
      .total as $t | (if $ref > 0 then $t.rps / $ref else 0 end) as $r
      | "| \($s) | \($t.rps|floor) | \($t.p99_ms*10|floor/10) | \(.server.cpu_seconds*1000000/$t.requests|floor) µs | \(.loadgen.cpu_seconds*1000000/$t.requests|floor) µs | \($r*100|floor/100) | \(if $want == "" then "—" else "≥ \($want)" end) | \(if $want == "" then "" elif $r >= ($want|tonumber) and $t.errors == 0 then "met" else "**not met**" end) |"' "$f"
  done
  if [ -f "$work/runs/multi-feed-auth.json" ]; then
  echo
  echo "Multi-process (every target its own process, small data set): server CPU per request summed"
  echo "over the douyin processes (not MariaDB, Redis, RocketMQ or Consul)."
  echo
  echo "| endpoint | req/s | p99 ms | server CPU/req | target | |"
  echo "|---|---:|---:|---:|---:|---|"
  for pair in feed-auth=1.0 like=0.5 feed-anon= chat-poll= user-info= comment-list= feed-recommend=; do
    s=${pair%%=*} want=${pair#*=} f="$work/runs/multi-${pair%%=*}.json"
    [ -f "$f" ] || continue
    jq -r --arg s "$s" --arg want "$want" '
      .total as $t | (.server.cpu_seconds*1000/$t.requests) as $c
      | "| \($s) | \($t.rps|floor) | \($t.p99_ms*10|floor/10) | \($c*1000|floor/1000) ms | \(if $want == "" then "—" else "≤ \($want) ms" end) | \(if $want == "" then "" elif $c <= ($want|tonumber) and $t.errors == 0 then "met" else "**not met**" end) |"' "$f"
  done
  if [ -f "$work/like-backlog.txt" ]; then
    echo
    echo "Like consumer backlog: $(cat "$work/like-backlog.txt")."
  fi
  if [ -f "$work/runs/multi-feed-auth.json" ] && [ -f "$work/multi-pids.txt" ]; then
    echo
    echo "Where the CPU of the multi-process runs goes, per process (CPU seconds over the run; peak RSS"
    echo "since the process started, VmHWM):"
    echo
    printf '| process |'
    for s in "${targets[@]}"; do [ -f "$work/runs/multi-$s.json" ] && printf ' %s |' "$s"; done
    echo " peak RSS |"
    printf '|---|'
    for s in "${targets[@]}"; do [ -f "$work/runs/multi-$s.json" ] && printf -- '---:|'; done
    echo "---:|"
    while read -r pid name; do
      printf '| %s |' "$name"
      hwm=0
      for s in "${targets[@]}"; do
        f="$work/runs/multi-$s.json"
        [ -f "$f" ] || continue
        printf ' %s |' "$(jq -r --argjson pid "$pid" '(.server.processes // [])[] | select(.pid == $pid) | "\(.cpu_seconds*100|floor/100) s"' "$f")"
        hwm=$(jq -r --argjson pid "$pid" --argjson h "$hwm" '[(.server.processes // [])[] | select(.pid == $pid) | .hwm_mb, $h] | max | floor' "$f")
      done
      echo " $hwm MB |"
    done <"$work/multi-pids.txt"
  fi
  fi # multi-process runs
  echo
  small_hwm=$(jq -s -r '[.[].server.hwm_mb] | max | floor' "$work"/runs/embedded-{feed,user,comment,chat,like,mix,scale-small}*.json 2>/dev/null)
  large_hwm=$(jq -s -r '[.[].server.hwm_mb] | max | floor' "$work"/runs/embedded-*"$large"*.json 2>/dev/null)
  echo "Memory of the embedded process (peak RSS, VmHWM, over its runs): small data set $small_hwm MB,"
  echo "$large data set $large_hwm MB."
  if ls "$work"/cache-sizes-*.txt >/dev/null 2>&1; then
    echo
    echo "In-process caches of the embedded process after its runs (\`douyin_cache_entries\` against"
    echo "\`douyin_cache_max_entries\` on /metrics; each bound is per map, in entries):"
    echo
    echo "| data set | cache | entries | bound | within |"
    echo "|---|---|---:|---:|---|"
    for f in "$work"/cache-sizes-*.txt; do
      preset=$(basename "$f" .txt)
      awk -v set="${preset#cache-sizes-}" '
        match($0, /cache="[^"]*"/) { name = substr($0, RSTART + 7, RLENGTH - 8) }
        /^douyin_cache_entries/ { entries[name] = $2 }
        /^douyin_cache_max_entries/ { bound[name] = $2 }
        END { for (n in entries) printf "| %s | %s | %d | %d | %s |\n", set, n, entries[n], bound[n], (entries[n] <= bound[n] ? "yes" : "**no**") }' "$f" | sort
    done
  fi
  echo
  if [ -s "$work/runs/evaluate-large.json" ]; then
    jq -r '"The recommender'"'"'s model at the large size (\(.users) users, \(.videos) videos, \(.train_likes) likes): heap \(.model_heap_bytes/1048576*10|floor/10) MiB after training; hit rate at \(.k) \(.hit_rate_recommender*1000|floor/1000) (popularity alone \(.hit_rate_popularity*1000|floor/1000)); rank p50 \(.rank_us_p50) µs."' "$work/runs/evaluate-large.json"
    echo
  fi
  echo "## A recommended page against a logged-in feed page (issue 13, 64 connections)"
  echo
  echo "The same server, the two scenarios alternated, $recommend_rounds rounds of $dur each (the order flipping every"
  echo "round), pooled (requests over time, server CPU over requests; p99 the median round), with each"
  echo "round's ratio and their median: a ratio above 1 means the recommended page costs more. Every"
  echo "loadgen account scrolls many pages a second, far past its ranking. The multi-process row's"
  echo "server CPU includes the deployment's Redis and MariaDB (the recommended page's seen videos are"
  echo "in Redis, a logged-in page scrolled back reads MariaDB); the last column leaves them out."
  echo
  echo "| mode, data set | feed-auth | feed-recommend | req/s ratio (auth / recommend) | p99 ratio (recommend / auth) | server CPU per request ratio (recommend / auth) | the same, douyin processes alone |"
  echo "|---|---|---|---:|---:|---:|---:|"
  recommend_row "embedded, small" embedded-small
  recommend_row "embedded, $large" "embedded-$large"
  recommend_row "multi-process, small (with its Redis and MariaDB)" multi "$(cat "$work/multi-backends.txt" 2>/dev/null)"
  echo
  echo "## Tracing cost (issue 11): feeds with tracing off and at a 10 % sampling ratio (embedded)"
  echo
  echo "Three servers on copies of the small data set, loaded at the same time, each by its own load"
  echo "generator with $conc connections: two with tracing off, one exporting over OTLP to the Jaeger of"
  echo "scripts/deps.sh with \`-telemetry.sample-ratio 0.1\`. Whatever else the box does hits the three"
  echo "alike; the second server with tracing off gives the noise floor. $tracing_rounds rounds, pooled"
  echo "(requests over time, server CPU over requests; p99 the worst round). Changes are against the"
  echo "mean of the two servers with tracing off; a noise floor is the second server with tracing off"
  echo "against the first. Three loaded servers share two cores unevenly, so the req/s each gets swings"
  echo "by tens of per cent; the throughput ceiling, what two otherwise idle cores would serve given the"
  echo "CPU per request of server and load generator (as in the targets table), is the steady figure"
  echo "and the one held to the target: at most 5 % less throughput with tracing on."
  echo
  echo "| endpoint | tracing off (two servers) | tracing at 10 % | throughput change | server CPU per request change | throughput ceiling change | per round (throughput) | |"
  echo "|---|---|---|---:|---:|---:|---|---|"
  for s in feed-anon feed-auth; do
    offs=("$work"/runs/tracing-off-"$s"-*.json) offbs=("$work"/runs/tracing-offb-"$s"-*.json) ons=("$work"/runs/tracing-10pct-"$s"-*.json)
    [ -f "${offs[0]}" ] && [ -f "${offbs[0]}" ] && [ -f "${ons[0]}" ] || continue
    jq -rn --arg s "$s" --argjson off "$(jq -s . "${offs[@]}")" --argjson offb "$(jq -s . "${offbs[@]}")" --argjson on "$(jq -s . "${ons[@]}")" '
      def pooled: {rps: ((map(.total.requests) | add) / (map(.duration_seconds) | add)),
        cpu: ((map(.server.cpu_seconds) | add) * 1e6 / (map(.total.requests) | add)),
        lg: ((map(.loadgen.cpu_seconds) | add) * 1e6 / (map(.total.requests) | add)),
        p99: (map(.total.p99_ms) | max)};
      # What two otherwise idle cores could serve, from the CPU per request of server and load generator.
      def ceiling: 2e6 / (.cpu + .lg);
      def pct($a; $b): ($b - $a) * 100 / $a;
      def signed: (. * 10 | round / 10) as $v | if $v > 0 then "+\($v)" else "\($v)" end;
      ($off | pooled) as $a | ($offb | pooled) as $a2 | ($on | pooled) as $b
      | {rps: (($a.rps + $a2.rps) / 2), cpu: (($a.cpu + $a2.cpu) / 2), lg: (($a.lg + $a2.lg) / 2)} as $base
      | pct($base.rps; $b.rps) as $d | pct($base.cpu; $b.cpu) as $c | pct($a.rps; $a2.rps) as $floor
      | pct($base | ceiling; $b | ceiling) as $e | pct($a | ceiling; $a2 | ceiling) as $efloor
      | ([range(0; [($off | length), ($offb | length), ($on | length)] | min)]
         | map(pct(($off[.].total.rps + $offb[.].total.rps) / 2; $on[.].total.rps) | signed + " %")
         | join(", ")) as $rounds
      | "| \($s) | \($a.rps|floor) and \($a2.rps|floor) req/s, \($a.cpu|round) and \($a2.cpu|round) µs CPU/req, p99 \([$a.p99, $a2.p99] | max | floor) ms | \($b.rps|floor) req/s, \($b.cpu|round) µs CPU/req, p99 \($b.p99|floor) ms | \($d|signed) % (noise floor \($floor|signed) %) | \($c|signed) % | \($e|signed) % (noise floor \($efloor|signed) %) | \($rounds) | \(if $e >= -5 then "met" else "**not met**" end) |"'
  done
  echo
  echo "## Scale check: feed and lists, small versus $large data set (embedded)"
  echo
  if [ -f "$work/runs/embedded-scale-small.json" ] && [ -f "$work/runs/embedded-scale-$large.json" ]; then
    "$lg" compare "$work/runs/embedded-scale-small.json" "$work/runs/embedded-scale-$large.json"
    echo
    echo "Issue 15's target: every p99 ratio at most 1.3 (largest in this run: $(jq -n -r --slurpfile a "$work/runs/embedded-scale-small.json" --slurpfile b "$work/runs/embedded-scale-$large.json" '
      [$b[0].endpoints[] as $e | ($a[0].endpoints[] | select(.name == $e.name)) as $s | $e.p99_ms / $s.p99_ms] | max * 100 | floor / 100'))."
  fi
  echo
  echo "## All runs"
  echo
  echo "Closed loop: each connection sends its next request when the previous answered. Open loop"
  echo "(\`-rate\`): requests on a fixed schedule, latency measured from the intended send time, so"
  echo "queueing behind a slow server counts (no coordinated omission); requests that could not be"
  echo "started within a one-second backlog are counted as dropped. Server CPU is utime+stime of"
  echo "the server processes over the run (2.00 cores = the whole machine), peak RSS sampled every 200 ms."
  echo
  for f in "$work"/runs/*.md; do
    cat "$f"
    echo
  done
  echo "## How to reproduce"
  echo
  echo '```sh'
  echo "scripts/bench.sh   # BENCH_DURATION, BENCH_MIX_DURATION, BENCH_CONCURRENCY, BENCH_RATE, BENCH_LARGE, BENCH_MULTI=0"
  echo '```'
  echo
  echo "The exact commands of this run (\$BENCH_DIR = .run/bench):"
  echo
  echo '```sh'
  cat "$work/commands.txt"
  echo '```'
  if [ -n "$findings" ]; then
    echo
    echo "$findings"
  fi
} >"$docs/benchmarks.md"
log "done in ${total}s"
