#!/usr/bin/env bash
# Runs the test suite N times in a row while CPU hogs keep every core busy, to show that no test goes red by chance
# on a loaded machine. Each run is scripts/test.sh (type-check + vitest, closing line `N passed, N failed`); this
# prints that line per run and ends with a summary line.
#   --runs N         runs in a row (default 5)
#   --project NAME   only that vitest project (repeatable; default: the whole suite, unit + lab)
#   --hogs N         CPU hogs (default: the number of cores); stress-ng --cpu N when installed, else busy loops
#   --skip-install   passed to test.sh for every run (by default only the first run installs)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=5
hogs=$(nproc 2>/dev/null || echo 2)
install_args=()
skip_all=0
test_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --hogs) hogs="$2"; shift 2 ;;
    --project) test_args+=(--project "$2"); shift 2 ;;
    --skip-install) skip_all=1; shift ;;
    *) echo "stress.sh: unknown option $1 (--runs N, --project NAME, --hogs N, --skip-install)" >&2; exit 2 ;;
  esac
done
case "$runs$hogs" in *[!0-9]*) echo "stress.sh: --runs and --hogs take numbers" >&2; exit 2 ;; esac

hog_pids=()
stop_hogs() {
  for pid in ${hog_pids[@]+"${hog_pids[@]}"}; do kill "$pid" 2>/dev/null; done
  for pid in ${hog_pids[@]+"${hog_pids[@]}"}; do wait "$pid" 2>/dev/null; done
  hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM
if [ "$hogs" -gt 0 ]; then
  if command -v stress-ng >/dev/null; then
    stress-ng --cpu "$hogs" --timeout 0 --quiet &
    hog_pids+=($!)
    how="stress-ng --cpu $hogs"
  else
    for _ in $(seq "$hogs"); do sh -c 'while :; do :; done' & hog_pids+=($!); done
    how="$hogs busy-loop shells"
  fi
  echo "stress: $how on $(nproc 2>/dev/null || echo '?') cores; $runs runs of scripts/test.sh ${test_args[*]-}"
fi

total_passed=0 total_failed=0 green=0
log=$(mktemp /tmp/rdprobe-stress.XXXXXX.log)
for i in $(seq "$runs"); do
  install_args=()
  { [ "$skip_all" = 1 ] || [ "$i" -gt 1 ]; } && install_args=(--skip-install)
  t0=$(date +%s)
  bash scripts/test.sh ${install_args[@]+"${install_args[@]}"} ${test_args[@]+"${test_args[@]}"} >"$log" 2>&1
  code=$?
  secs=$(( $(date +%s) - t0 ))
  last=$(tail -n 1 "$log")
  if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
  else
    p=0 f=1 # no closing line: test.sh died early
  fi
  [ "$code" = 0 ] || [ "$f" -gt 0 ] || f=1
  total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
  if [ "$f" = 0 ]; then
    green=$((green + 1))
    echo "run $i/$runs: $p passed, $f failed (${secs}s)"
  else
    echo "run $i/$runs: $p passed, $f failed (${secs}s, exit $code); failing tests:"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -a -E '^\s*(FAIL |×)|error TS' | sort -u | sed 's/^/  /' | head -40
    keep="/tmp/rdprobe-stress-run$i.log"; cp "$log" "$keep"; echo "  full output: $keep"
  fi
done
rm -f "$log"
stop_hogs
echo "stress: $green/$runs runs green; $total_passed passed, $total_failed failed in total"
[ "$green" = "$runs" ]
