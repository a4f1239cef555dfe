#!/usr/bin/env bash
# Benchmark of batch signing (issues 5 and 18); a benchmark, not a CI test: a batch of N
# signatures through the whole product in a real browser (raw and CAdES), against N direct
# C_Sign on the same SoftHSM key in one process (host_overhead bench), in the same run, with
# the goal of issue 18 (CAdES batch ≤ 1.3 × direct + 1 s). Document hashing is
# tests/browser/bench-hash-page.mjs (scripts/bench-all.sh runs both).
#   scripts/bench-batch.sh [N]                      default: 100 signatures
#   PARAPHE_BENCH_BROWSERS="chromium firefox"       browsers for the in-browser run
#   PARAPHE_EXTENSION_DIST=DIR                      an extension build to use (else one is
#                                                   made in a directory of this run's own)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
browsers=${PARAPHE_BENCH_BROWSERS-chromium firefox}

printf '==> building the release host and the bench\n' >&2
cargo build --release --quiet -p paraphe-host
bench=$(cargo bench -p paraphe-host --bench host_overhead --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\/host_overhead-[^"]*\)".*/\1/p' | tail -n1)
if [ -z "${PARAPHE_EXTENSION_DIST:-}" ]; then
  # Not extension/dist: the tests (or another bench) may be using it.
  PARAPHE_EXTENSION_DIST=$(mktemp -d "$PWD/target/bench-extension.XXXXXX")
  trap 'rm -rf -- "$PARAPHE_EXTENSION_DIST"' EXIT
  export PARAPHE_EXTENSION_DIST
  scripts/build-extension.sh
fi
export PARAPHE_EXTENSION_DIST

printf '# Batch signing, %s × RSA-2048 on SoftHSM (%s, nproc %s, load %s)\n\n' "$n" \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '## Direct PKCS#11 loop and host over pipes (host_overhead)\n\n'
report=$(mktemp)
"$bench" --spawn-runs 1 --signatures "$n" --rounds 5 | sed -n '/^## Signing/,$p' >"$report"
cat "$report"
# The direct loop's median wall-clock time (ms): the first "| median |" row's first figure.
direct=$(awk -F'|' '/^\| median \|/ && !done { gsub(/ ms| /, "", $3); print $3; done = 1 }' "$report")
rm -f "$report"
printf '\n## Through the browser (page → extension → host → SoftHSM), median of 5\n\n'
echo '| browser | format | documents | click → result | per document | signing loop | per document | vs direct C_Sign loop, same run |'
echo '|---|---|---:|---:|---:|---:|---:|---|'
for b in $browsers; do
  PARAPHE_BENCH_DIRECT_MS=$direct PARAPHE_HOST_BIN=$PWD/target/release/paraphe-host node tests/browser/bench-batch.mjs "$b" "$n" 5
done
