#!/usr/bin/env bash
# The whole test suite (README's test command `npm test`): typecheck, then every test.
# Ends with the line `N passed, N failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
if ! npx tsc --noEmit; then
  echo "typecheck failed"
  echo "0 passed, 1 failed"
  exit 1
fi
npx vitest run "$@"
