#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, type-checks sources and tests (`npm run
# typecheck`), runs the unit tests and the integration lab (real xrdp / FreeRDP servers in network namespaces,
# brought up and torn down by the tests), and ends with the line `N passed, N failed` (a failed type-check counts
# as one failure).
#   --project NAME   run only that vitest project (repeatable; the lab is only touched when `lab` is among them)
#   --skip-install   do not run scripts/install-deps.sh (a machine that is already set up; used by stress.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
projects=()
install=1
while [ $# -gt 0 ]; do
  case "$1" in
    --project) [ $# -ge 2 ] || { echo "test.sh: --project needs a name" >&2; exit 2; }; projects+=("$2"); shift 2 ;;
    --skip-install) install=0; shift ;;
    *) echo "test.sh: unknown option $1 (--project NAME, --skip-install)" >&2; exit 2 ;;
  esac
done
uses_lab=1
if [ ${#projects[@]} -gt 0 ]; then
  uses_lab=0
  for p in "${projects[@]}"; do [ "$p" = lab ] && uses_lab=1; done
fi
[ "$install" = 0 ] || bash scripts/install-deps.sh || exit 1
# A lab that is already up belongs to whoever started it; one this run starts is taken down at the end even if
# vitest dies before its own teardown.
lab_was_up=0
[ "$uses_lab" = 1 ] && bash lab/lab.sh status >/dev/null 2>&1 && lab_was_up=1
# The type-check (tsconfig.json and tsconfig.test.json) counts like a test: a type error fails the run.
typecheck_failed=0
npm run --silent typecheck || typecheck_failed=1
[ "$typecheck_failed" = 0 ] || echo "test.sh: npm run typecheck failed" >&2
results=$(mktemp /tmp/rdprobe-vitest.XXXXXX.json)
vitest_args=()
for p in ${projects[@]+"${projects[@]}"}; do vitest_args+=(--project "$p"); done
npx vitest run ${vitest_args[@]+"${vitest_args[@]}"} --reporter=default --reporter=json --outputFile="$results"
code=$?
[ "$typecheck_failed" = 0 ] || [ "$code" != 0 ] || code=1
node -e '
  const fs = require("fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const typecheck = process.argv[2] === "1" ? 1 : 0;
  const passed = r.numPassedTests ?? 0, failed = (r.numFailedTests ?? 0), skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const suites = r.testResults ? r.testResults.filter(t => t.status === "failed" && (!t.assertionResults || t.assertionResults.length === 0)).length : 0;
  console.log(`${passed} passed, ${failed + suites + typecheck} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" "$typecheck_failed"
rm -f "$results"
[ "$uses_lab" = 0 ] || [ "$lab_was_up" = 1 ] || bash lab/lab.sh down >/dev/null 2>&1 || true
exit $code
