#!/usr/bin/env bash
# A/B of two douyin binaries (or one against itself) in the embedded mode, as the findings in
# docs/benchmarks.md measure them: each binary serves its own copy of a seeded data set, warmed
# up as scripts/bench.sh warms its servers, and the scenarios run on every server in turn, in an
# order that rotates and flips every round, so that the box's drift during the run weighs on
# every pair alike. Each server's rounds are pooled as bench.sh pools them (server CPU over
# requests); with feed-auth and feed-recommend among the scenarios, the recommended page's CPU
# ratio to the logged-in page's is reported per server too. Not part of make test.
#
#   scripts/ab.sh BIN_A [BIN_B]        e.g. scripts/ab.sh /tmp/douyin-old .run/ab/douyin-head
#
# Knobs (environment): AB_PRESET (data set, default large), AB_ROUNDS (8), AB_DURATION (3s a run),
# AB_SCENARIOS (default "feed-auth feed-recommend"), AB_DIR (work dir, default .run/ab; a seeded
# data set there is reused).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
preset=${AB_PRESET:-large}
rounds=${AB_ROUNDS:-8}
dur=${AB_DURATION:-3s}
read -r -a scenarios <<<"${AB_SCENARIOS:-feed-auth feed-recommend}"
work=${AB_DIR:-$root/.run/ab}
mkdir -p "$work"
bins=("$(realpath "$1")")
[ $# -eq 1 ] || bins+=("$(realpath "$2")")
log() { echo "ab: $*" >&2; }

go build -o "$work/loadgen" ./cmd/loadgen
lg="$work/loadgen"
data="$work/data-$preset"
if [ ! -s "$data/manifest.json" ]; then
  log "seeding $preset"
  rm -rf "$data"
  "$lg" seed -size "$preset" -data.dir "$data/db" -manifest "$data/manifest.json.tmp" 2>"$work/seed.log"
  mv "$data/manifest.json.tmp" "$data/manifest.json"
fi

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# scale_mix, free_port and wait_ready, as bench.sh has them.
# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"

# The same warm-up as bench.sh's servers: every scenario, then the scale mix. Ports from
# 29500, above bench.sh's.
urls=()
port=29500
for i in "${!bins[@]}"; do
  dir="$work/server-$i"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -r "$data/db" "$dir/data"
  port=$(free_port $((port + 2)) 29999)
  admin=$(free_port $((port + 1)) 29999)
  "${bins[$i]}" -data.dir "$dir/data" -http.addr "127.0.0.1:$port" -admin.addr "127.0.0.1:$admin" -seed.enabled=false \
    -http.auth-rate-per-minute=0 -http.write-rate-per-minute=0 -http.read-rate-per-minute=0 >"$dir/server.log" 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
  wait_ready "${urls[$i]}"
  log "warming up server $i (${bins[$i]}) on ${urls[$i]}"
  common=(-target "${urls[$i]}" -manifest "$data/manifest.json" -tokens "$dir/tokens.json" -concurrency 64)
  "$lg" run "${common[@]}" -duration 3s >/dev/null
  "$lg" run "${common[@]}" -mix "$scale_mix" -warmup 10s -duration 10s >/dev/null
done

# Every (server, scenario) run once a round, the order rotated by one and flipped every round.
runs=()
for i in "${!bins[@]}"; do
  for s in "${scenarios[@]}"; do runs+=("$i:$s"); done
done
for round in $(seq "$rounds"); do
  k=$(((round - 1) % ${#runs[@]}))
  order=("${runs[@]:k}" "${runs[@]:0:k}")
  if ((round % 2 == 0)); then mapfile -t order < <(printf '%s\n' "${order[@]}" | tac); fi
  for run in "${order[@]}"; do
    i=${run%%:*} s=${run#*:}
    "$lg" run -target "${urls[$i]}" -manifest "$data/manifest.json" -tokens "$work/server-$i/tokens.json" -concurrency 64 \
      -server-pid "${pids[$i]}" -scenario "$s" -duration "$dur" -json "$work/server-$i/$s-$round.json" >/dev/null
  done
  log "round $round of $rounds done"
done

python3 - "$work" "$rounds" "${#bins[@]}" "${bins[@]}" -- "${scenarios[@]}" <<'PY'
import json, statistics, sys
work, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bins = sys.argv[4:4 + n]
scenarios = sys.argv[5 + n:]
for i, binary in enumerate(bins):
    print(f"server {i}: {binary}")
    per_round, pooled = {}, {}
    for s in scenarios:
        req = cpu = 0
        p99 = []
        per_round[s] = []
        for r in range(1, rounds + 1):
            j = json.load(open(f"{work}/server-{i}/{s}-{r}.json"))
            e = j["endpoints"][0]
            if e["requests"] == 0 or e["errors"]:
                sys.exit(f"ab: server {i}, {s}, round {r}: {e['requests']} requests, {e['errors']} errors")
            req += e["requests"]
            cpu += j["server"]["cpu_seconds"]
            p99.append(e["p99_ms"])
            per_round[s].append(j["server"]["cpu_seconds"] * 1e6 / e["requests"])
        secs = rounds * j["duration_seconds"]
        pooled[s] = cpu / req
        print(f"  {s}: {req / secs:.0f} req/s, {cpu * 1e6 / req:.1f} µs CPU a request, p99 {statistics.median(p99):.1f} ms (median round); rounds {', '.join(f'{x:.0f}' for x in per_round[s])} µs")
    if "feed-auth" in per_round and "feed-recommend" in per_round:
        ratios = [b / a for a, b in zip(per_round["feed-auth"], per_round["feed-recommend"])]
        print(f"  recommended / logged-in CPU a request: pooled {pooled['feed-recommend'] / pooled['feed-auth']:.2f}; rounds {', '.join(f'{x:.2f}' for x in ratios)}, median {statistics.median(ratios):.2f}")
PY
