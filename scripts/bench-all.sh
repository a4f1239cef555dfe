#!/usr/bin/env bash
# shellcheck disable=SC2016 # backquotes in printf formats are Markdown, not expansions
# Every comparison of docs/BENCHMARKS.md « Side by side » (issue 18), in one run on this
# machine, in both browsers, each printed with its ratio to the anchor measured in the same
# run. A benchmark, not a test: figures move with the machine's load, printed before and
# after each part.
#   1. document hashing in the page: hash-wasm in the page vs signDocument (the hashing
#      frame), SHA-256/384/512, and what it adds to each process's memory
#      (tests/browser/bench-hash-page.mjs);
#   2. plis: `openssl cms -decrypt` vs « Ouvrir un pli » (and the native parser), AES-256-GCM,
#      AES-256-CBC and 3DES (scripts/bench-decrypt.sh);
#   3. a batch of N CAdES (and raw) signatures in the browser vs N direct C_Sign on the same
#      key (scripts/bench-batch.sh), goal ≤ 1.3 × direct + 1 s;
#   4. the WASM core's size (raw, gzip -9);
#   5. the host's own work per signature against a direct C_Sign, in instructions (callgrind:
#      the one figure that does not move with the machine's load; scripts/bench.sh).
#
#   scripts/bench-all.sh                 hashing 256 MiB × 3 rounds; plis 100 MiB and 1 GiB; batch 500
#   scripts/bench-all.sh --quick         hashing 64 MiB × 1; plis 32 MiB; batch 100
#   PARAPHE_BENCH_BROWSERS="chromium firefox"   (default both)
#   PARAPHE_BENCH_PARTS="hash pli batch size host"   (default all)
#   PARAPHE_BENCH_HASH_MIB, PARAPHE_BENCH_HASH_ROUNDS, PARAPHE_BENCH_PLI_SIZES="100 1024",
#   PARAPHE_BENCH_BATCH                  override the sizes
# Builds what it needs into directories of its own (target/bench-all.*), removed at the end:
# it neither uses nor replaces extension/dist, so tests and other runs go on beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

quick=0
[ "${1:-}" = --quick ] && quick=1
browsers=${PARAPHE_BENCH_BROWSERS-chromium firefox}
parts=${PARAPHE_BENCH_PARTS:-hash pli batch size host}
if ((quick)); then hash_mib=64 hash_rounds=1 pli_sizes=(32) batch=100; else hash_mib=256 hash_rounds=3 pli_sizes=(100 1024) batch=500; fi
# Smaller runs on a busy machine, e.g. PARAPHE_BENCH_HASH_ROUNDS=1 PARAPHE_BENCH_PLI_SIZES=100.
hash_mib=${PARAPHE_BENCH_HASH_MIB:-$hash_mib}
hash_rounds=${PARAPHE_BENCH_HASH_ROUNDS:-$hash_rounds}
read -r -a pli_sizes <<<"${PARAPHE_BENCH_PLI_SIZES:-${pli_sizes[*]}}"
batch=${PARAPHE_BENCH_BATCH:-$batch}

work=$(mktemp -d "$PWD/target/bench-all.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
export PARAPHE_EXTENSION_DIST=$work/extension
load() { cut -d' ' -f1-3 /proc/loadavg; }
wanted() { [[ " $parts " == *" $1 "* ]]; }
# One part's failure is printed and the run goes on with the next.
run_part() {
  local name=$1 rc
  shift
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  ((rc == 0)) || printf '\n**The %s part failed** (exit %s; its error is on stderr).\n\n' "$name" "$rc"
}

printf '==> building: release host, open_pli, the extension (into %s)\n' "$work" >&2
PARAPHE_SETUP_MINIMAL=1 scripts/setup.sh >&2
cargo build --release --quiet -p paraphe-host
cargo build --release --quiet -p paraphe-formats --example open_pli
cargo build --quiet -p paraphe-host # the tests' fixture checks that the debug host exists
scripts/build-extension.sh
export PARAPHE_HOST_BIN=$PWD/target/release/paraphe-host
(cd tests/browser && { [ -d node_modules/hash-wasm ] || npm install --no-audit --no-fund --silent; })

printf '# Side by side, one run\n\n'
printf -- '- date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
printf -- '- machine: %s, nproc %s, %s GiB; load average at start %s\n' \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" "$(nproc)" \
  "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" "$(load)"
printf -- '- %s; %s; Firefox %s; OpenSSL %s\n' "$(rustc -V)" \
  "$( (/usr/lib/chromium/chromium --version || chromium --version) 2>/dev/null | head -n1)" \
  "$(firefox-esr --version 2>/dev/null | awk '{print $NF}')" "$(openssl version | cut -d' ' -f2)"
printf -- '- commit: %s%s\n' "$(git rev-parse --short HEAD)" "$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
flag=''
((quick)) && flag=' --quick'
env_flags=''
for v in PARAPHE_BENCH_HASH_MIB PARAPHE_BENCH_HASH_ROUNDS PARAPHE_BENCH_PLI_SIZES PARAPHE_BENCH_BATCH PARAPHE_BENCH_PARTS; do
  if [ -n "${!v:-}" ]; then env_flags+="$v=\"${!v}\" "; fi
done
printf -- '- command: `%sscripts/bench-all.sh%s`\n\n' "$env_flags" "$flag"

part_hash() {
  printf '## Document hashing in the page (%s MiB file on disk, median of %s; load %s)\n\n' "$hash_mib" "$hash_rounds" "$(load)"
  echo '| browser | algorithm | file | hash-wasm 4 in the page | Paraphe signDocument | Paraphe / hash-wasm | memory added over a 1-byte document (peak) |'
  echo '|---|---|---:|---:|---:|---:|---|'
  for b in $browsers; do node tests/browser/bench-hash-page.mjs "$b" "$hash_mib" "$hash_rounds"; done
  printf '\nGoal: ≥ 1.0× hash-wasm; the page'"'"'s process ≤ 32 MiB. (SHA-1: documents are never hashed with it.)\n\n'
}

part_pli() {
  printf '## Plis (load %s)\n\n' "$(load)"
  PARAPHE_BENCH_BROWSERS=$browsers scripts/bench-decrypt.sh "${pli_sizes[@]}"
  printf '\nGoal: page API and « Ouvrir un pli » ≥ 1.0× openssl for AES-GCM and AES-CBC; every process ≤ 64 MiB above idle.\n\n'
}

part_batch() {
  printf '## Batch signing (load %s)\n\n' "$(load)"
  PARAPHE_BENCH_BROWSERS=$browsers scripts/bench-batch.sh "$batch" | sed -n '/^## /,$p'
  echo
}

part_size() {
  local wasm=$PARAPHE_EXTENSION_DIST/pkg/paraphe_wasm_bg.wasm
  local files=$PARAPHE_EXTENSION_DIST/pkg/paraphe_files_bg.wasm
  local signing=$PARAPHE_EXTENSION_DIST/pkg/paraphe_signing_bg.wasm
  local verify=$PARAPHE_EXTENSION_DIST/pkg/paraphe_verify_bg.wasm
  printf '## WASM core the background starts with\n\n'
  printf '| file | bytes | gzip -9 |\n|---|---:|---:|\n'
  printf '| `pkg/paraphe_wasm_bg.wasm` | %s | %s |\n' "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
  printf '| `pkg/paraphe_signing_bg.wasm` (certificates, formats, LiberSign: instantiated by the background on first use) | %s | %s |\n' \
    "$(stat -c %s "$signing")" "$(gzip -9c "$signing" | wc -c)"
  printf '| `pkg/paraphe_files_bg.wasm` (the pages that read files: extension frame, « Ouvrir un pli », « Signer des fichiers »; not the background) | %s | %s |\n' \
    "$(stat -c %s "$files")" "$(gzip -9c "$files" | wc -c)"
  printf '| `pkg/paraphe_verify_bg.wasm` (« Vérifier une signature » only, not the background) | %s | %s |\n' \
    "$(stat -c %s "$verify")" "$(gzip -9c "$verify" | wc -c)"
  printf '\nGoal: ≤ 200 KB gzip.\n\n'
}

part_host() {
  printf '## The host against a direct C_Sign loop (load %s)\n\n' "$(load)"
  scripts/bench.sh --instructions --signatures 100 | sed -n '/^## /,$p'
  echo
}

for p in hash pli batch size host; do
  if wanted "$p"; then run_part "$p" "part_$p"; fi
done
printf 'Load average at the end: %s\n' "$(load)"
