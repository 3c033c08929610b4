#!/usr/bin/env bash
# Fails when regenerating from idl/ changes the committed generated code: generated code is
# never edited by hand and never stale.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/gen.sh >/dev/null
paths=(kitex_gen gateway/internal/apimodel config.example.yaml)
changes=$(git diff --name-status -- "${paths[@]}"; git ls-files --others --exclude-standard -- "${paths[@]}")
if [ -n "$changes" ]; then
  echo "generated code is stale or edited by hand; run 'make gen' and commit:" >&2
  echo "$changes" >&2
  exit 1
fi
echo "generated code is fresh"
