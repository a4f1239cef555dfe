#!/usr/bin/env bash
# Soak test of issue 12: the virtual PIV card (tests/kit/virtual-card) pulled out at random
# points of logins, RSA-2048 signatures (9A), always-authenticate ECDSA P-256 signatures (9C)
# and RSA decryptions (9A: the kit has no 9D key), against the built host alone. It is the
# cargo test `card_pulls_at_random_points_never_hang_and_errors_say_the_truth` with more pulls:
# every answer must be a completed operation that verifies, TOKEN_NOT_PRESENT,
# CERTIFICATE_NOT_FOUND (a login whose card left before the certificate was found) or
# MODULE_NOT_RESPONDING followed by restart-required, the host's exit and a new host that
# works; the next login and signature after re-insertion must work; no hang (30 s watchdog).
# Latencies are printed, not asserted (figures in docs/BENCHMARKS.md, « Card pulls »).
#   scripts/soak-card-pulls.sh [PULLS]          default 120
#   scripts/soak-card-pulls.sh --browser [PULLS]   the same through the extension in headless
#       Chromium (tests/browser/cards.test.js (f): Web eID logins on the RSA 9A key, signatures
#       on the ECDSA 9C key; default 100); build as tests/browser/run.sh says first
#   PARAPHE_PULL_SEED=N                         replay the pull points of an earlier run
# Needs what the virtual-card tests need (pcscd, vsmartcard-vpcd, opensc, yubico-piv-tool,
# python3-venv: scripts/setup.sh). Takes about 1.5 s per pull. Log: target/soak-card-pulls.log
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --browser ]; then
  pulls=${2:-100}
  [[ $pulls =~ ^[0-9]+$ && $pulls -gt 0 ]] || { echo "usage: $0 --browser [PULLS]" >&2; exit 2; }
  log=$PWD/target/soak-card-pulls-browser.log
  mkdir -p target
  echo "==> $pulls card pulls through the extension (log: $log)" >&2
  status=0
  (cd tests/browser && PARAPHE_BROWSERS=chromium PARAPHE_BROWSER_CARD_PULLS=$pulls \
    node --test --test-concurrency=1 --test-name-pattern '\(f\)' cards.test.js) >"$log" 2>&1 || status=$?
  grep -E '\[cards\] \(f\)|^ℹ (pass|fail)' "$log" || true
  [ "$status" -eq 0 ] || { echo "soak FAILED: see $log" >&2; exit 1; }
  exit 0
fi
pulls=${1:-120}
[[ $pulls =~ ^[0-9]+$ && $pulls -gt 0 ]] || { echo "usage: $0 [PULLS]" >&2; exit 2; }
log=target/soak-card-pulls.log
mkdir -p target
echo "==> $pulls card pulls (log: $log)" >&2
PARAPHE_CARD_PULLS=$pulls cargo test -p paraphe-host --test virtual_card -- \
  --exact card_pulls_at_random_points_never_hang_and_errors_say_the_truth --nocapture 2>&1 |
  tee "$log" | grep -E '^\[virtual-card\] (card pulls|  )|^test result|panicked' || true
grep -q '^test result: ok' "$log" || { echo "soak FAILED: see $log" >&2; exit 1; }
