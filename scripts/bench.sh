#!/usr/bin/env bash
# shellcheck disable=SC2016 # backquotes in printf formats are Markdown, not expansions
# Benchmarks of the native host (docs/BENCHMARKS.md says what the figures mean).
# Builds the release host, makes a SoftHSM demo token, and prints Markdown tables:
# start-up latency, and N RSA-2048 signatures through the host against a direct PKCS#11
# loop on the same key.
#
#   scripts/bench.sh [--spawn-runs N] [--signatures N] [--rounds N]
#       wall-clock and CPU times (defaults: 200 processes, 1000 signatures, 3 rounds)
#   scripts/bench.sh --instructions [--signatures N]
#       the same signing run under callgrind (valgrind): instructions per signature, which
#       do not depend on what else the machine is doing (default 100 signatures, ~1 min)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

mode=wall
signatures=
args=()
while (($#)); do
  case $1 in
  --instructions) mode=instructions; shift ;;
  --signatures) signatures=${2:?--signatures needs a number}; shift 2 ;;
  -h | --help) sed -n '3,12p' "$0"; exit 0 ;;
  *) args+=("$1"); shift ;;
  esac
done

# softhsm2, opensc (pkcs11-tool) and openssl, for tests/kit/make-token.sh.
PARAPHE_SETUP_MINIMAL=1 scripts/setup.sh

printf '==> building the release host and the bench\n' >&2
cargo build --release --quiet -p paraphe-host
bench=$(cargo bench -p paraphe-host --bench host_overhead --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\/host_overhead-[^"]*\)".*/\1/p' | tail -n1)
[[ -x $bench ]] || { echo "bench: could not build host_overhead" >&2; exit 1; }

printf '# Machine\n\n'
printf -- '- date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
printf -- '- CPU: %s, nproc %s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" "$(nproc)"
printf -- '- OS: %s, kernel %s\n' "$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)" "$(uname -r)"
printf -- '- %s; SoftHSM %s; OpenSSL %s\n' "$(rustc -V)" \
  "$(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null || echo '?')" \
  "$(openssl version | cut -d' ' -f2)"
printf -- '- commit: %s%s\n\n' "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "$(git diff --quiet HEAD -- host protocol formats 2>/dev/null || echo ' (with uncommitted changes)')"

if [[ $mode == wall ]]; then
  exec "$bench" ${signatures:+--signatures "$signatures"} "${args[@]}"
fi

# --- Instructions (callgrind) -----------------------------------------------------------
# One process of each kind is traced: this bench (the direct loop) and the hosts it spawns;
# the token kit's shells and openssl are not. User-space instructions only: the kernel's
# share (pipes, scheduling) is in the wall-clock run, not here.
command -v valgrind >/dev/null || { echo "bench: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
n=${signatures:-100}
out=$(mktemp -d)
trap 'rm -rf -- "$out"' EXIT
printf '==> %s signatures under callgrind (slow: about 1 min for 100)\n' "$n" >&2
valgrind --tool=callgrind --trace-children=yes \
  --trace-children-skip='*bash,*openssl,*pkcs11-tool,*softhsm2-util,*realpath,*date,*mkdir,*rm,*grep,*sed,*cat' \
  --callgrind-out-file="$out/cg.%p" \
  "$bench" --spawn-runs 1 --signatures "$n" --rounds 1 >"$out/report.md" 2>"$out/valgrind.log" || {
  tail -n 30 "$out/valgrind.log" >&2
  exit 1
}

# Inclusive instructions of the function whose name ends the pattern, in one profile.
# awk reads to the end: an early exit would fail the pipeline (SIGPIPE, pipefail).
ir() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v pat="$2 [" '!found && index($0, pat) { gsub(",", "", $1); print $1; found = 1 }'
}
sign_fn='cryptoki::session::signing_macing::<impl cryptoki::session::Session>::sign'
direct_file="" host_file="" host_signs=0
for f in "$out"/cg.*; do
  case $(sed -n 's/^cmd: *//p' "$f" | head -n1) in
  */paraphe-host*)
    s=$(ir "$f" 'paraphe_host::commands::sign::run')
    if [[ -n $s ]] && ((s > host_signs)); then host_signs=$s host_file=$f; fi ;;
  *host_overhead*) direct_file=$f ;;
  esac
done
[[ -n $direct_file && -n $host_file ]] || { echo "bench: callgrind profiles not found" >&2; exit 1; }

# This process signed a 10-signature warm-up, then N twice (direct, direct + pipe); the
# host measured signed N.
warm=$((n < 10 ? n : 10))
direct_sign=$(($(ir "$direct_file" "$sign_fn") / (2 * n + warm)))
host_sign=$(($(ir "$host_file" "$sign_fn") / n))
serve=$(ir "$host_file" 'paraphe_host::native::serve')
# Since the host became a library, LTO may inline `serve` into `run`, its only caller.
[[ -n $serve ]] || serve=$(ir "$host_file" 'paraphe_host::native::run')
login=$(ir "$host_file" 'paraphe_host::commands::login::run')
summarize=$(ir "$host_file" 'paraphe_formats::x509::summarize')
for v in serve login summarize; do
  # LTO may inline a function away: then its name is not in the profile.
  [[ -n ${!v} ]] || { echo "bench: no '$v' in the host's profile (renamed or inlined?)" >&2; exit 1; }
done
own=$(((serve - login - host_sign * n) / n))
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f %%", 100 * a / b }'; }

printf '## Instructions per signature (callgrind, %s signatures, user space)\n\n' "$n"
printf '| part | instructions | share of a direct signature |\n|---|---:|---:|\n'
printf '| direct loop: `Session::sign` (C_SignInit + 2 × C_Sign) | %s | 100 %% |\n' "$direct_sign"
printf '| host: `Session::sign`, same calls | %s | %s |\n' "$host_sign" "$(pct "$host_sign" "$direct_sign")"
printf '| host: everything else per `sign` request (framing, JSON, dispatch, checks, base64) | %s | %s |\n' \
  "$own" "$(pct "$own" "$direct_sign")"
printf '| of which `x509::summarize` (key-usage check) | %s | %s |\n' \
  "$((summarize / n))" "$(pct "$((summarize / n))" "$direct_sign")"
printf '\nInstructions of the host itself per signature: %s of a direct signature (target ≤ 5 %%).\n' \
  "$(pct "$own" "$direct_sign")"
printf '`Session::sign` itself varies by a few tenths of a percent from run to run (RSA blinding\n'
printf 'draws random numbers), so the two `Session::sign` rows are compared, not subtracted.\n'
