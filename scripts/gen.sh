#!/usr/bin/env bash
# Regenerates every piece of generated code from idl/: kitex_gen/ (Kitex) and
# gateway/internal/apimodel/ (hz models). This script is the only writer of those folders;
# running it on a clean tree changes nothing (CI checks that with scripts/check-gen.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
module=$(awk '/^module /{print $2; exit}' go.mod)

# The generators are pinned in tools/go.mod; hz finds thriftgo and its own plugin on PATH.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for tool in thriftgo hz kitex; do
  ln -s "$(go tool -n "$tool")" "$bin/$tool"
done
ln -s "$(go tool -n hz)" "$bin/thrift-gen-hertz"
export PATH="$bin:$PATH"

rm -rf kitex_gen gateway/internal/apimodel
for idl in idl/*.thrift; do
  [ "$(basename "$idl")" = api.thrift ] && continue
  out=$(kitex -module "$module" "$idl" 2>&1) || { echo "$out" >&2; exit 1; }
done
go run ./tools/cmd/kitexadapter kitex_gen "$module"

# slim: plain structs for JSON/form binding; no Thrift codec is needed at the HTTP edge.
hz model --idl idl/api.thrift --module "$module" --model_dir gateway/internal/apimodel \
  --unset_omitempty -t template=slim -t gen_setter >/dev/null
echo "generated kitex_gen/ and gateway/internal/apimodel/ from idl/"
