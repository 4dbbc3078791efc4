#!/bin/sh
# Build the app and relay, then run the given Playwright specs, holding a machine-wide lock so that
# several people (or agents) working in one checkout never build into build/ while another's
# browser tests serve from it. Usage: scripts/e2e-locked.sh tests/e2e/cases.spec.ts [more playwright args]
set -e
cd "$(dirname "$0")/.."
exec flock /tmp/dq-e2e.lock sh -c '
  npm run --silent build >/tmp/dq-e2e-build.log 2>&1 || { tail -40 /tmp/dq-e2e-build.log; exit 1; }
  port=$(node -e "const s=require(\"net\").createServer().listen(0,\"127.0.0.1\",()=>{console.log(s.address().port);s.close()})")
  E2E_PORT=$port npx playwright test --reporter=list --output "/tmp/dq-pw-$$" "$@"
' sh "$@"
