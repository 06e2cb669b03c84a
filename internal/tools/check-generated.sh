#!/usr/bin/env bash
# check-generated.sh fails when the committed generated code is stale: it copies the
# tree to a temporary folder, runs `make generate` there, and compares the results.
# It also fails when ent/schema changed without a versioned migration.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
# Tracked and new (not ignored) files, as they are in the working tree.
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$tmp/$(dirname "$f")"
  cp -p "$f" "$tmp/$f"
done
(cd "$tmp" && make -s generate >/dev/null)
stale=$(diff -rq "$root/ent" "$tmp/ent" 2>&1; diff -rq "$root/graph" "$tmp/graph" 2>&1; \
  diff -q "$root/ami/events_gen.go" "$tmp/ami/events_gen.go" 2>&1) || true
if [ -n "$stale" ]; then
  echo "generated code is stale; run 'make generate' and commit the result:" >&2
  echo "$stale" >&2
  exit 1
fi
go run ./internal/tools/migdiff -check
echo "generated code and migrations are current"
