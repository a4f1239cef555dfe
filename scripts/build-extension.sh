#!/usr/bin/env bash
# Build the browser extension from one source into two unpacked extensions:
#   extension/dist/chromium   Manifest V3, module service worker, fixed id from "key"
#   extension/dist/firefox    Manifest V3, module event page, gecko id paraphe@paraphe.fr
# Steps: the four WASM modules (cargo, profile wasm-release): the core (wasm/, paraphe_wasm, loaded
# by the background and the pages that call it through background/core.js), the signing module
# (signing-wasm/, paraphe_signing: certificate display, signature formats, LiberSign; instantiated
# by background/core.js on first use), the files module
# (files-wasm/, paraphe_files: PDFs, zips, hashing and plis for the extension frame, « Ouvrir un
# pli » and « Signer des fichiers ») and « Vérifier une signature » (verify-wasm/, paraphe_verify,
# loaded by the verify page only) → wasm-bindgen --target web (with their .d.ts, which
# extension/tsconfig*.json read; not copied into dist) → wasm-opt (on request) → copy
# extension/src and write each browser's manifest.
#   PARAPHE_WASM_PROFILE=dev   faster debug build of the WASM modules (no wasm-opt)
#   PARAPHE_WASM_OPT_LEVEL=-O3  run binaryen's wasm-opt on each module at that level (below;
#                               off by default: it measured no gain)
#   PARAPHE_EXTENSION_DIST=DIR  build into DIR/chromium and DIR/firefox (and the bindings into
#                               DIR/pkg) instead of extension/dist and extension/pkg, so that a
#                               benchmark's build does not replace the one tests are using
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[build-extension] %s\n' "$*" >&2; }

profile=${PARAPHE_WASM_PROFILE:-wasm-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/wasm}
profile_dir=$profile
[ "$profile" = dev ] && profile_dir=debug

# One build per package, so that the core does not get paraphe-formats' feature `verify` (and its
# rsa/p256/p384) by feature unification with verify-wasm, and files-wasm and signing-wasm do not
# get the core's exports (paraphe-wasm's feature `bindings`).
log "cargo build -p paraphe-wasm ($profile)"
cargo build -q -p paraphe-wasm --target wasm32-unknown-unknown --profile "$profile"
log "cargo build -p paraphe-files-wasm ($profile)"
cargo build -q -p paraphe-files-wasm --target wasm32-unknown-unknown --profile "$profile"
log "cargo build -p paraphe-signing-wasm ($profile)"
cargo build -q -p paraphe-signing-wasm --target wasm32-unknown-unknown --profile "$profile"
log "cargo build -p paraphe-verify-wasm ($profile)"
cargo build -q -p paraphe-verify-wasm --target wasm32-unknown-unknown --profile "$profile"

want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$want" != "$have" ]; then
  echo "wasm-bindgen-cli $want is needed (found: ${have:-none}); run scripts/setup.sh" >&2
  exit 1
fi

dist=${PARAPHE_EXTENSION_DIST:-extension/dist}
pkg=extension/pkg
[ -n "${PARAPHE_EXTENSION_DIST:-}" ] && pkg=$dist/pkg
rm -rf "$pkg"
# wasm-opt, on request: PARAPHE_WASM_OPT_LEVEL=-O3 (or -O1, -O4, -Oz…) runs it on each module.
# Off by default because it measured no faster and no smaller where it counts
# (docs/BENCHMARKS.md, « WASM core and wasm-opt »): -O3 takes 7 % off the core's raw bytes but
# adds 6 % to its gzip -9 size (the extension ships in a zip), and the core hashed 4-5 % slower
# in V8 after any level; the build says so in its log.
# binaryen from npm, pinned in extension/package-lock.json (Debian 12's binaryen 108 predates
# what rustc emits, and rewrites wasm-bindgen's externref table into a module that fails at
# load time). The flags enable what rustc's wasm32-unknown-unknown emits by default (`rustc
# --print cfg --target wasm32-unknown-unknown`; LLVM's bulk-memory brings bulk-memory-opt and
# call-indirect-overlong), as the module's target_features section says too; a module with
# anything else fails wasm-opt's validation. Any failure of wasm-opt fails the build: no
# silent fallback to the module as it was.
opt_level=${PARAPHE_WASM_OPT_LEVEL:-}
wasm_opt=
if [ -z "$opt_level" ]; then
  log "wasm-opt off (PARAPHE_WASM_OPT_LEVEL unset: measured no gain, docs/BENCHMARKS.md)"
elif [ "$profile" = dev ]; then
  log "wasm-opt skipped: profile dev"
else
  # shellcheck source=scripts/npm.sh
  . scripts/npm.sh
  npm_ci extension "the extension's checks and wasm-opt (typescript, eslint, binaryen)"
  wasm_opt=$PWD/extension/node_modules/.bin/wasm-opt
  [ -x "$wasm_opt" ] || { echo "$wasm_opt is missing (npm package binaryen, extension/package.json); run scripts/setup.sh" >&2; exit 1; }
fi
# bind CRATE_FILE OUT_NAME: wasm-bindgen (and wasm-opt) of one module into $pkg.
bind() {
  wasm-bindgen --target web --remove-name-section --out-dir "$pkg" --out-name "$2" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile_dir/$1.wasm"
  [ -n "$wasm_opt" ] || return 0
  local wasm=$pkg/$2_bg.wasm before
  before=$(stat -c %s "$wasm")
  # shellcheck disable=SC2086 # PARAPHE_WASM_OPT_LEVEL may hold several options
  if ! "$wasm_opt" $opt_level --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong \
    --enable-reference-types --enable-multivalue --strip-target-features --strip-producers \
    "$wasm" -o "$wasm.opt"; then
    rm -f "$wasm.opt"
    echo "wasm-opt $opt_level failed on $2 (above); unset PARAPHE_WASM_OPT_LEVEL to build without it" >&2
    exit 1
  fi
  mv "$wasm.opt" "$wasm"
  log "wasm-opt $opt_level $2: $before → $(stat -c %s "$wasm") bytes"
}
bind paraphe_wasm paraphe_wasm
bind paraphe_files_wasm paraphe_files
bind paraphe_signing_wasm paraphe_signing
bind paraphe_verify_wasm paraphe_verify

version=$(awk -F'"' '/^\[workspace.package\]/{p=1} p && /^version/{print $2; exit}' Cargo.toml)
src=extension/src
for browser in chromium firefox; do
  out=$dist/$browser
  rm -rf "$out"
  mkdir -p "$out"
  # Everything but the manifest source and the page library (served by portals, not by us).
  (cd "$src" && tar --exclude=./manifest.json --exclude=./page -cf - .) | (cd "$out" && tar -xf -)
  # The modules' .d.ts type the sources for `tsc` (extension/tsconfig*.json); not shipped.
  mkdir -p "$out/pkg"
  (cd "$pkg" && tar --exclude='*.d.ts' -cf - .) | (cd "$out/pkg" && tar -xf -)
  case $browser in
    # Chromium: a service worker; "scripts" would only earn a warning.
    chromium) filter='del(.background.scripts) | del(.browser_specific_settings)' ;;
    # Firefox: an event page (no extension service workers); "key" is Chromium's. "pkcs11"
    # (browser.pkcs11, options/tls.js) exists in Firefox only, "offscreen" in Chromium only
    # (background/plaintext-files.js).
    firefox) filter='del(.background.service_worker) | del(.key) | .permissions += ["pkcs11"] | .permissions -= ["offscreen"]' ;;
  esac
  jq --arg v "$version" ".version = \$v | $filter" "$src/manifest.json" > "$out/manifest.json"
done
log "built $dist/chromium and $dist/firefox (WASM: core $(stat -c %s "$pkg/paraphe_wasm_bg.wasm") bytes, $(gzip -9c "$pkg/paraphe_wasm_bg.wasm" | wc -c) gzip -9; signing $(stat -c %s "$pkg/paraphe_signing_bg.wasm") bytes, files $(stat -c %s "$pkg/paraphe_files_bg.wasm") bytes, verify $(stat -c %s "$pkg/paraphe_verify_bg.wasm") bytes)"
