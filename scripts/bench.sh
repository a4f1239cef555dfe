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
#       do not depend on what else the machine is doing (default 100 signatures: runs with
#       100 and 200, ~30 s)
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
  -h | --help) sed -n '3,13p' "$0"; exit 0 ;;
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
# The bench runs twice under callgrind, with N then 2N signatures; what the second host
# process executed more is N signatures' worth of its work, whatever thread did it (the
# card's work is on a thread of its own, token::worker) and whatever LTO inlined: start-up,
# the module's initialization and the login cancel out. One process of each kind is traced:
# this bench (the direct loop) and the hosts it spawns; the token kit's shells and openssl
# are not. User-space instructions only: the kernel's share (pipes, scheduling) is in the
# wall-clock run, not here.
command -v valgrind >/dev/null || { echo "bench: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
n=${signatures:-100}
out=$(mktemp -d)
trap 'rm -rf -- "$out"' EXIT
printf '==> %s then %s signatures under callgrind (about 30 s for 100)\n' "$n" "$((2 * n))" >&2
traced() { # $1: signatures; profiles into $out/$1/
  mkdir -p "$out/$1"
  valgrind --tool=callgrind --trace-children=yes \
    --trace-children-skip='*bash,*openssl,*pkcs11-tool,*softhsm2-util,*realpath,*date,*mkdir,*rm,*grep,*sed,*cat' \
    --callgrind-out-file="$out/$1/cg.%p" \
    "$bench" --spawn-runs 1 --signatures "$1" --rounds 1 >"$out/$1/report.md" 2>"$out/$1/valgrind.log" || {
    tail -n 30 "$out/$1/valgrind.log" >&2
    exit 1
  }
}
traced "$n"
traced "$((2 * n))"

# Inclusive instructions of the function whose name ends the pattern, in one profile (all
# threads: callgrind sums them); 0 when it is not there. awk reads to the end: an early exit
# would fail the pipeline (SIGPIPE, pipefail).
ir() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
    awk -v pat="$2 [" '!found && index($0, pat) { gsub(",", "", $1); print $1; found = 1 } END { if (!found) print 0 }'
}
# Everything the process executed, all threads.
total() { sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$1" | tail -n1; }
sign_fn='cryptoki::session::signing_macing::<impl cryptoki::session::Session>::sign'
# The signing host of a run: the paraphe-host process that executed most (the start-up
# measure spawns another, which signs nothing); the direct loop: the bench itself.
host_of() {
  local best="" most=0 f t
  for f in "$out/$1"/cg.*; do
    case $(sed -n 's/^cmd: *//p' "$f" | head -n1) in
    */paraphe-host*) t=$(total "$f"); if ((t > most)); then most=$t best=$f; fi ;;
    esac
  done
  echo "$best"
}
direct_of() { grep -l '^cmd: .*host_overhead' "$out/$1"/cg.* | head -n1; }
h1=$(host_of "$n") h2=$(host_of "$((2 * n))") d1=$(direct_of "$n")
[[ -n $h1 && -n $h2 && -n $d1 ]] || { echo "bench: callgrind profiles not found" >&2; exit 1; }

# The direct loop signed a 10-signature warm-up, then N twice (direct, direct + pipe).
warm=$((n < 10 ? n : 10))
direct_sign=$(($(ir "$d1" "$sign_fn") / (2 * n + warm)))
(( direct_sign > 0 )) || { echo "bench: no '$sign_fn' in the direct loop's profile" >&2; exit 1; }
# Per signature in the host: what the 2N run did more, over N.
per() { echo $(( ($2 - $1) / n )); }
host_all=$(per "$(total "$h1")" "$(total "$h2")")
host_sign=$(per "$(ir "$h1" "$sign_fn")" "$(ir "$h2" "$sign_fn")")
summarize=$(per "$(ir "$h1" 'paraphe_formats::x509::summarize')" "$(ir "$h2" 'paraphe_formats::x509::summarize')")
own=$((host_all - host_sign))
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f %%", 100 * a / b }'; }

printf '## Instructions per signature (callgrind, %s then %s signatures, user space)\n\n' "$n" "$((2 * n))"
printf '| part | instructions | share of a direct signature |\n|---|---:|---:|\n'
printf '| direct loop: `Session::sign` (C_SignInit + 2 × C_Sign) | %s | 100 %% |\n' "$direct_sign"
printf '| host: `Session::sign`, same calls | %s | %s |\n' "$host_sign" "$(pct "$host_sign" "$direct_sign")"
printf '| host: everything else per `sign` request (framing, JSON, dispatch, checks, base64, the worker thread'"'"'s hand-offs) | %s | %s |\n' \
  "$own" "$(pct "$own" "$direct_sign")"
# The certificate is decoded once at login (host/src/session.rs), not at each signature:
# then nothing of it is left per signature (a rounding's worth), and the row is left out.
if ((summarize > 100)); then
  printf '| of which `x509::summarize` (key-usage check) | %s | %s |\n' "$summarize" "$(pct "$summarize" "$direct_sign")"
fi
printf '\nInstructions of the host itself per signature: %s of a direct signature (target ≤ 5 %%).\n' \
  "$(pct "$own" "$direct_sign")"
printf '`Session::sign` itself varies by a few tenths of a percent from run to run (RSA blinding\n'
printf 'draws random numbers), so the two `Session::sign` rows are compared, not subtracted.\n'
