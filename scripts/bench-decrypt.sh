#!/usr/bin/env bash
# Benchmark of pli decryption (issues 5 and 18): throughput and peak memory of the streaming
# decryption, natively (formats example open_pli: the parser and checks the WASM core runs)
# and in the browser (the WASM core with WebCrypto's AES, real host and SoftHSM: the page
# API's `decrypt` through the extension frame, and the « Ouvrir un pli » page), against
# `openssl cms -decrypt` on the same file, same run. A benchmark, not a CI test.
#   scripts/bench-decrypt.sh [SIZE_MB ...]          default: 100
#   PARAPHE_BENCH_BROWSERS="chromium firefox"       browsers for the in-browser run ("" = none)
#   PARAPHE_BENCH_CIPHERS="aes-256-gcm aes256 des3" openssl's names (3DES: up to 200 MiB)
#   PARAPHE_BENCH_PLI_VIA="page-api pli-page"       which ways of opening in the browser
#   PARAPHE_BENCH_REPEAT=3                          runs of each, the median reported (openssl's
#                                                   time moves by 2-3x from one run to the next here)
#   PARAPHE_EXTENSION_DIST=DIR                      extension build to load (tests/browser/lib.js)
# Needs: cargo build --release -p paraphe-formats --example open_pli; cargo build -p
# paraphe-host; scripts/build-extension.sh. Writes into a directory of its own under target/
# (2 × SIZE per size), removed at the end: runs side by side do not clobber each other.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "$root/target/bench-decrypt.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
tests/kit/make-token.sh "$work/kit" >/dev/null
cert=$work/kit/pki/03.crt
key=$work/kit/pki/03.key
open_pli=$root/target/release/examples/open_pli
[ -x "$open_pli" ] || { echo "build it first: cargo build --release -p paraphe-formats --example open_pli" >&2; exit 1; }
browsers=${PARAPHE_BENCH_BROWSERS-chromium}

# "<seconds> <max RSS MiB> <user s> <system s> <minor page faults>" of a command (its stdout
# goes to $1, a new file: the previous run's is removed first, outside the timing, since
# truncating 100 MiB of it when the redirection opens it took 60-150 ms of the next run's
# time): the time from bash's clock to the millisecond (GNU time's %e has hundredths: 1.5 %
# of openssl's 0.65 s on 100 MiB), the rest from GNU time.
measure() {
  local out=$1 t0 t1
  shift
  rm -f -- "$out"
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M %U %S %R' -o "$work/time" "$@" >"$out"
  t1=$EPOCHREALTIME
  awk -v t0="$t0" -v t1="$t1" '{printf "%.3f %.0f %s %s %s\n", t1 - t0, $1 / 1024, $2, $3, $4}' "$work/time"
}

row() { printf '| %s | %s | %s | %s | %s MB/s | %s MiB | %s |\n' "$@"; }

export PARAPHE_BENCH_REPEAT=${PARAPHE_BENCH_REPEAT:-3}
# "<median seconds> <max RSS MiB> <CPU of the median run> <all seconds, in run order>" of
# PARAPHE_BENCH_REPEAT runs of a command (measure's arguments).
median_of_runs() {
  local runs=() cpu=() secs rss user sys faults top=0
  for _ in $(seq "$PARAPHE_BENCH_REPEAT"); do
    read -r secs rss user sys faults < <(measure "$@")
    runs+=("$secs")
    cpu+=("$secs user_${user}_s,_system_${sys}_s,_${faults}_minor_page_faults")
    [ "$rss" -gt "$top" ] && top=$rss
  done
  local mid
  mid=$(printf '%s\n' "${runs[@]}" | sort -g | sed -n "$(((${#runs[@]} + 1) / 2))p")
  echo "$mid $top $(printf '%s\n' "${cpu[@]}" | awk -v m="$mid" '$1 == m {print $2; exit}') $(printf '%s / ' "${runs[@]}" | sed 's| / $||') s"
}

# Writing memory never written before costs more on a virtual machine whose host gives the
# guest a page at its first touch and takes free pages back (virtio-balloon's free page
# reporting, seconds after they are freed): here about 10 times more than writing it again
# at once. openssl's time at 1 GiB is mostly such kernel work (its CPU is printed beside it:
# it holds the pli and the plaintext in memory, 2.7 GB), and so is part of the browsers'
# (their OPFS files are written into the page cache). Printed so that the reader can weigh it.
python3 - "$work/touch" <<'PY'
import os, sys, time
piece = b'\x07' * (128 << 20)
def write_gib():
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    t = time.perf_counter()
    for _ in range(8):
        os.write(fd, piece)
    os.close(fd)
    return time.perf_counter() - t
time.sleep(30)  # free pages taken back by the host meanwhile (the run before, the make-token)
first = write_gib(); os.unlink(sys.argv[1]); again = write_gib(); os.unlink(sys.argv[1])
print(f'This machine: writing 1 GiB into the page cache took {first:.2f} s after 30 s idle, '
      f'{again:.2f} s again at once (the pages just freed).\n')
PY
echo "| size | cipher | implementation | time | throughput | peak RSS | vs openssl, same run |"
echo "|---|---|---|---|---|---|---|"
for size in "${@:-100}"; do
  doc=$work/doc-$size.bin
  head -c "$((size * 1024 * 1024))" /dev/urandom >"$doc"
  want=$(sha256sum "$doc" | cut -d' ' -f1)
  for cipher in ${PARAPHE_BENCH_CIPHERS:-aes-256-gcm aes256 des3}; do
    [ "$size" -gt 200 ] && [ "$cipher" = des3 ] && continue # 3DES: 100 MiB is enough to say how slow
    pli=$work/pli-$size-$cipher.p7m
    # -stream: BER with indefinite lengths, as large plis usually are.
    openssl cms -encrypt -binary -stream "-$cipher" -outform DER -in "$doc" -out "$pli" -recip "$cert"
    bytes=$(stat -c %s "$pli")
    # MB with its decimals, as bench-decrypt.mjs counts the browser's: a whole number here
    # made openssl's rate up to 1 % lower than the same time gives the browser.
    mb=$(awk "BEGIN{printf \"%.6f\", $bytes / 1000000}")

    "$open_pli" "$pli" --wrapped-key "$work/wrapped" >/dev/null
    cek=$(openssl pkeyutl -decrypt -inkey "$key" -in "$work/wrapped" | od -An -tx1 | tr -d ' \n')
    read -r secs rss cpu all < <(median_of_runs "$work/out" openssl cms -decrypt -binary -inform DER -in "$pli" -inkey "$key" -recip "$cert")
    [ "$(sha256sum <"$work/out" | cut -d' ' -f1)" = "$want" ] || { echo "openssl: wrong plaintext" >&2; exit 1; }
    ossl=$(awk "BEGIN{printf \"%.3f\", $mb/$secs}")
    row "$size MiB" "$cipher" "openssl cms -decrypt" "$secs s ($all; median run's ${cpu//_/ })" "$(awk "BEGIN{printf \"%.0f\", $mb/$secs}")" "$rss" "1×"
    read -r secs rss cpu all < <(median_of_runs "$work/out" "$open_pli" "$pli" --key "$cek" --out -)
    [ "$(sha256sum <"$work/out" | cut -d' ' -f1)" = "$want" ] || { echo "open_pli: wrong plaintext" >&2; exit 1; }
    row "$size MiB" "$cipher" "paraphe (native, streaming)" "$secs s ($all; median run's ${cpu//_/ })" "$(awk "BEGIN{printf \"%.0f\", $mb/$secs}")" "$rss" \
      "$(awk "BEGIN{printf \"%.2f×\", ($mb/$secs)/$ossl}")"
    rm -f "$work/out"
    for b in $browsers; do
      node tests/browser/bench-decrypt.mjs "$b" "$work/kit" "$pli" "$want" "$size MiB" "$cipher" "$ossl"
    done
    rm -f "$pli"
  done
  rm -f "$doc"
done
