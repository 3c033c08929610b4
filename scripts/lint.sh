#!/usr/bin/env bash
# gofmt (hand-written code) and go vet (everything, both modules, and the suites behind build
# tags, which plain vet does not compile: the screenshot test runs in no gate at all).
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^kitex_gen/' | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./... ./tools/...
go vet -tags 'chaos reliability tracing screenshot' ./test/...
echo "lint ok"
