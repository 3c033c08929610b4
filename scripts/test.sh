#!/usr/bin/env bash
# The one test command (make test): installs and starts what the tests need (deps.sh), checks
# formatting, vet and generated code, runs every unit and adapter test against the real servers,
# the black-box e2e suite and the web app's browser test against one embedded process, then again
# against every target as its own process (scripts/up.sh) with the tracing test on its Jaeger
# traces, the like reliability test with
# consumer kills, and the e2e suite and the chaos tests on two replicas of every target.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/lint.sh
scripts/check-gen.sh

echo "== unit, adapter and embedded e2e tests"
go test -race -count=1 -timeout 30m ./... ./tools/...

echo "== service store and service tests again on MariaDB"
DOUYIN_TEST_DB=mysql go test -count=1 -timeout 20m ./services/...

echo "== multi-process deployment (MariaDB, Redis, RocketMQ, Consul)"
export DOUYIN_UP_DIR=${DOUYIN_UP_DIR:-$PWD/.run/test-up}
# Apart from a developer's own scripts/up.sh deployment: other ports, and a fresh database (and
# so a fresh cache namespace) per run, dropped at the end.
export DOUYIN_UP_PORT_BASE=${DOUYIN_UP_PORT_BASE:-28000}
export DOUYIN_UP_DATABASE=douyin_test_up_$(date +%s)
# A daily upload quota the e2e suite reaches quickly (its own servers use the same).
export DOUYIN_HTTP_UPLOAD_DAILY_COUNT=4 DOUYIN_E2E_UPLOAD_DAILY_COUNT=4
# The lowest accepted bcrypt cost, as for the embedded e2e servers (sign-ups are many).
export DOUYIN_AUTH_PASSWORD_COST=10
scripts/down.sh >/dev/null 2>&1 || true
cleanup() {
  scripts/down.sh
  mysql -h127.0.0.1 -udouyin -pdouyin-local-test -e "DROP DATABASE IF EXISTS \`$DOUYIN_UP_DATABASE\`" 2>/dev/null || true
}
trap cleanup EXIT
gateway=$(scripts/up.sh | tail -n 1)
gateway=${gateway#GATEWAY=}
export DOUYIN_E2E_BASE_URL=$gateway

echo "== e2e and browser tests against $gateway"
go test -count=1 -timeout 15m ./test/e2e/
# After the e2e suite, not beside it: the browser test plays the newest video of the feed, which
# must be the one it published, not one the suite is publishing at the same moment.
go test -count=1 -timeout 10m ./test/browser/

echo "== tracing: one like's and one publish's trace, each process's spans, in Jaeger"
go test -count=1 -timeout 5m -tags tracing -run TestTracing -v ./test/e2e/ | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|tracing_test.go'

echo "== reliability: like consumer and media worker killed with SIGKILL mid-run"
go test -count=1 -timeout 15m -tags reliability -run "TestLikesSurviveConsumerKills|TestTranscodeSurvivesWorkerKill" -v ./test/e2e/ | grep -v '^time='

echo "== two replicas of every target: e2e (read-your-writes through both gateways), then chaos"
scripts/down.sh
# The chaos load is many likes per user and second from 127.0.0.1: the per-user write limit
# of this deployment is off (a setting, not weaker code).
up=$(DOUYIN_UP_REPLICAS=2 DOUYIN_HTTP_WRITE_RATE_PER_MINUTE=0 scripts/up.sh | tail -n 2)
export DOUYIN_E2E_GATEWAYS=${up#GATEWAYS=}
DOUYIN_E2E_GATEWAYS=${DOUYIN_E2E_GATEWAYS%%$'\n'*}
export DOUYIN_E2E_BASE_URL=${up##*GATEWAY=}
go test -count=1 -timeout 15m ./test/e2e/
# Both scenarios: instances killed and left dead, then the whole favorite service down for 10 s.
go test -count=1 -timeout 10m -tags chaos -run 'TestChaos' -v ./test/chaos/ | grep -E '^(=== RUN|--- |chaos |PASS|FAIL|ok)|chaos_test.go'
