#!/usr/bin/env bash
# gofmt (hand-written code) and go vet (everything, both modules).
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^kitex_gen/' | xargs gofmt -l)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./... ./tools/...
echo "lint ok"
