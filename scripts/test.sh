#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, runs the unit tests and the integration lab
# (real xrdp / FreeRDP servers in network namespaces, brought up and torn down by the tests), and ends with the
# line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
# A lab that is already up belongs to whoever started it; one this run starts is taken down at the end even if
# vitest dies before its own teardown.
lab_was_up=0
bash lab/lab.sh status >/dev/null 2>&1 && lab_was_up=1
results=$(mktemp /tmp/rdprobe-vitest.XXXXXX.json)
npx vitest run --reporter=default --reporter=json --outputFile="$results"
code=$?
node -e '
  const fs = require("fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const passed = r.numPassedTests ?? 0, failed = (r.numFailedTests ?? 0), skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const suites = r.testResults ? r.testResults.filter(t => t.status === "failed" && (!t.assertionResults || t.assertionResults.length === 0)).length : 0;
  console.log(`${passed} passed, ${failed + suites} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
rm -f "$results"
[ "$lab_was_up" = 1 ] || bash lab/lab.sh down >/dev/null 2>&1 || true
exit $code
