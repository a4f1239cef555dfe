#!/usr/bin/env bash
# Regenerates the pli seeds (fuzz/seeds/cms_envelope/*): small CMS EnvelopedData and
# AuthEnvelopedData made by openssl for a throw-away certificate, in DER and BER
# (-stream), each prefixed with the two bytes the cms_envelope target reads first (chunk
# size, key fill byte; fuzz/src/lib.rs). Public test material; the key is thrown away.
#   fuzz/seeds/make-plis.sh
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p cms_envelope
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 2 \
  -subj '/CN=Paraphe fuzz seed' 2>/dev/null
printf 'Offre de la société Exemple, lot 1.\n' >"$work/doc"
n=0
for cipher in aes128 aes-256-gcm des3; do
  for stream in "" -stream; do
    for keyopt in "" "-keyopt rsa_padding_mode:oaep"; do
      # shellcheck disable=SC2086 # keyopt is two words or none
      openssl cms -encrypt -binary "-$cipher" $stream -outform DER -in "$work/doc" -out "$work/p" \
        -recip "$work/c.pem" $keyopt
      n=$((n + 1))
      { printf "\\x$(printf %02x $((n * 7 % 64)))\\x11"; cat "$work/p"; } >"cms_envelope/${cipher}${stream:+-ber}${keyopt:+-oaep}.bin"
    done
  done
done
ls cms_envelope
