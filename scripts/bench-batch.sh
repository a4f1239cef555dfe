#!/usr/bin/env bash
# Benchmarks of signing documents (issue 5); a benchmark, not a CI test:
#  1. a batch of N signatures through the whole product in a real browser (raw and CAdES),
#     against N direct C_Sign on the same SoftHSM key in one process (host_overhead bench);
#  2. streaming SHA-256 of the extension's WASM core against hash-wasm on the same data.
#   scripts/bench-batch.sh [N]                      default: 100 signatures
#   PARAPHE_BENCH_BROWSERS="chromium firefox"       browsers for the in-browser run
# Builds the release host and the extension (scripts/build-extension.sh) first.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
browsers=${PARAPHE_BENCH_BROWSERS-chromium firefox}

printf '==> building the release host, the bench and the extension\n' >&2
cargo build --release --quiet -p paraphe-host
bench=$(cargo bench -p paraphe-host --bench host_overhead --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\/host_overhead-[^"]*\)".*/\1/p' | tail -n1)
scripts/build-extension.sh
(cd tests/browser && { [ -d node_modules/hash-wasm ] || npm install --no-audit --no-fund --silent; })

printf '# Batch signing, %s × RSA-2048 on SoftHSM (%s, nproc %s, load %s)\n\n' "$n" \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '## Direct PKCS#11 loop and host over pipes (host_overhead)\n\n'
"$bench" --spawn-runs 1 --signatures "$n" --rounds 5 | sed -n '/^## Signing/,$p'
printf '\n## Through the browser (page → extension → host → SoftHSM), median of 5\n\n'
echo '| browser | format | documents | click → result | per document | signing loop | per document |'
echo '|---|---|---:|---:|---:|---:|---:|'
for b in $browsers; do
  PARAPHE_HOST_BIN=$PWD/target/release/paraphe-host node tests/browser/bench-batch.mjs "$b" "$n" 5
done
echo
node tests/browser/bench-hash.mjs 256 5
