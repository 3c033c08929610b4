#!/usr/bin/env bash
# The one test command (make test): installs what the tests need, checks formatting, vet and
# generated code, then runs every test — unit tests and the black-box e2e suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/lint.sh
scripts/check-gen.sh
go test -race -count=1 -timeout 20m ./... ./tools/...
