#!/usr/bin/env bash
# Runs the browser end-to-end suite N times in a row on a loaded machine, to show that it does
# not depend on timing: one busy loop per core (or PARAPHE_STRESS_HOGS of them) competes with
# the browsers, the host and the token for the whole time, and is always stopped on exit.
#   scripts/stress-suite.sh                 5 runs, both browsers
#   scripts/stress-suite.sh 3 chromium      3 runs, Chromium only (arguments after N go to run.sh)
#   PARAPHE_STRESS_HOGS=0                   no load (the same runs on a quiet machine)
# Builds nothing: build as tests/browser/run.sh says first. Logs: target/stress/run-<i>.log.
# Prints each run's passes and failures (and the failed tests' names), then a summary;
# exits non-zero if any run had a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
shift || true
case "$runs" in '' | *[!0-9]*) echo "usage: $0 [N] [chromium|firefox…]" >&2; exit 2 ;; esac
hogs="${PARAPHE_STRESS_HOGS:-$(nproc)}"
logs="$PWD/target/stress"
mkdir -p "$logs"

pids=()
stop_hogs() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$hogs"); do
  sh -c 'while :; do :; done' &
  pids+=("$!")
done
echo "stress: $runs run(s) of tests/browser/run.sh ${*:-chromium firefox}, $hogs busy loop(s) on $(nproc) core(s)"

clean=0
total_pass=0
total_fail=0
for i in $(seq 1 "$runs"); do
  log="$logs/run-$i.log"
  start=$SECONDS
  status=0
  tests/browser/run.sh "$@" >"$log" 2>&1 || status=$?
  # node's spec reporter closes with "ℹ pass N" / "ℹ fail N".
  pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  pass=${pass:-0}
  fail=${fail:-0}
  [ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1 # the runner itself failed
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  printf 'run %d/%d: %d passed, %d failed (%d s, exit %d) %s\n' "$i" "$runs" "$pass" "$fail" \
    $((SECONDS - start)) "$status" "$log"
  if [ "$fail" -eq 0 ]; then
    clean=$((clean + 1))
  else
    # The spec reporter lists failures after "✖ failing tests:".
    sed -n '/✖ failing tests:/,$p' "$log" | grep '✖' | grep -v 'failing tests' | sed 's/^/    /' | head -20 || true
  fi
done
stop_hogs
echo "stress: $clean of $runs run(s) with no failure"
echo "stress: $total_pass passed, $total_fail failed"
[ "$clean" -eq "$runs" ]
