#!/usr/bin/env bash
# The main job, end to end on this machine: build the host, make the built-in demo token
# (SoftHSM, test PKI that looks like an RGS one), list its certificates, sign a document with
# the host and verify the signature with openssl. Then the browser: build the extension,
# start the demo portal (tests/browser/demo.js) trusting the demo token's CA, and open it in
# Chromium with the extension loaded — a window when $DISPLAY is set (log in and sign
# yourself, PIN 1234); headless otherwise, where the script logs in with the card and signs
# the délibération itself and saves screenshots to target/demo/*.png.
#   scripts/demo.sh          the SoftHSM demo token
#   scripts/demo.sh --real   a real card: the built-in list of middleware (IDOPTE, SafeNet,
#                            IDPrime, IDEMIA, OpenSC…), PIN asked on the terminal (command
#                            line only: the demo portal trusts the demo CA alone)
set -euo pipefail
cd "$(dirname "$0")/.."
real=""
[ "${1:-}" = "--real" ] && real=1

if [ -z "$real" ]; then
  scripts/setup.sh # the browser part needs Chromium, the WASM toolchain and the npm drivers
else
  PARAPHE_SETUP_MINIMAL=1 scripts/setup.sh
fi
cargo build --quiet --release -p paraphe-host
host=target/release/paraphe-host
work=target/demo
doc="$work/deliberation-2026-118.txt"

if [ -z "$real" ]; then
  tests/kit/make-token.sh "$work/token" >/dev/null
  # shellcheck disable=SC1091
  . "$work/token/env"
  cat > "$work/config.json" <<JSON
{"builtinModules": false, "modules": ["$PARAPHE_TEST_MODULE"],
 "policies": [{"oid": "2.25.329800735698586629295641978511506172918.2", "name": "Paraphe test PKI", "rgsLevel": "**"}]}
JSON
  export PARAPHE_CONFIG="$PWD/$work/config.json"
else
  mkdir -p "$work"
fi

echo "== paraphe-host diagnose"
"$host" diagnose
echo
echo "== paraphe-host list"
"$host" list

printf 'Délibération n° 2026-118 du conseil municipal de Testville.\n' > "$doc"
digest=$(openssl dgst -sha256 -hex "$doc" | awk '{print $NF}')
if [ -z "$real" ]; then
  cert=$(openssl x509 -in "$work/token/pki/01.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
  pubkey="$work/token/pki/01.pub.pem"
  pin="$PARAPHE_TEST_PIN"
else
  "$host" list --json > "$work/list.json"
  cert=$(python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["certificates"] if "signing" in c["info"]["usages"]]; print(c[0]["fingerprint"] if c else "")' "$work/list.json")
  [ -n "$cert" ] || { echo "no signing certificate found on any token" >&2; exit 1; }
  python3 -c 'import json,sys,base64; c=[c for c in json.load(open(sys.argv[1]))["certificates"] if c["fingerprint"]==sys.argv[2]][0]; open(sys.argv[3],"wb").write(base64.b64decode(c["certificate"]))' "$work/list.json" "$cert" "$work/cert.der"
  openssl x509 -inform DER -in "$work/cert.der" -pubkey -noout > "$work/pub.pem"
  pubkey="$work/pub.pem"
  read -r -s -p "PIN: " pin; echo
fi
echo
echo "== paraphe-host sign $doc (SHA-256 $digest)"
printf '%s\n' "$pin" | "$host" sign --cert "$cert" --digest "$digest" --pin-stdin --out "$work/signature.bin" --json
echo
echo "== openssl dgst -sha256 -verify"
openssl dgst -sha256 -verify "$pubkey" -signature "$work/signature.bin" "$doc"

[ -z "$real" ] || exit 0
echo
echo "== browser: the extension, the demo portal, Chromium"
scripts/build-extension.sh
cargo build --quiet --release -p paraphe-demo-portal
PARAPHE_HOST_BIN="$PWD/$host" PARAPHE_PORTAL_BIN="$PWD/target/release/paraphe-demo-portal" \
  node tests/browser/demo.js "$work"
