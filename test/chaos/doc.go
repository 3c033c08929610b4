// Package chaos drives the multi-process deployment (scripts/up.sh with DOUYIN_UP_REPLICAS=2)
// while instances die, and checks what the users see: failed requests, lost acknowledged
// operations, and how long lists, counts and flags take to be right after the load.
//
// The tests carry the chaos build tag. scripts/test.sh runs them against a deployment whose
// per-user write limit is off (the load is many likes per user and second), with
// DOUYIN_UP_DIR (the deployment's pids and start scripts) and DOUYIN_E2E_GATEWAYS (its
// gateways, as up.sh prints GATEWAYS=) set:
//
//	go test -tags chaos -count=1 -v ./test/chaos/
package chaos
