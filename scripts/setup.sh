#!/usr/bin/env bash
# Install what Paraphe's build, demo and tests need on a fresh Debian 12 machine.
# Idempotent: every step is skipped when its result is already there.
#   scripts/setup.sh            everything (token, PC/SC, browsers, wasm toolchain)
#   PARAPHE_SETUP_MINIMAL=1     only what the host build and its SoftHSM tests need
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
# shellcheck source=scripts/apt.sh
. scripts/apt.sh

apt_pkgs=(softhsm2 opensc gnutls-bin openssl libpcsclite-dev pkg-config libnss3-tools xmlsec1 xmlstarlet libxml2-utils jq)
if [ -z "${PARAPHE_SETUP_MINIMAL:-}" ]; then
  apt_pkgs+=(pcscd pcsc-tools vsmartcard-vpcd vsmartcard-vpicc python3-virtualsmartcard python3-pycryptodome
             python3-venv yubico-piv-tool chromium chromium-driver firefox-esr xvfb xauth
             poppler-utils qpdf nginx-light)
fi
# nginx-light: the real nginx that the radar's browser tests start themselves, as their own
# process with their own configuration (tests/browser/nginx.js); Debian's nginx service is not
# used (on a machine with systemd the package starts it on port 80: `systemctl disable --now
# nginx` if it is not wanted).
# Node.js for the browser tests and the demo's browser part (any Node >= 18; Debian 12 has 18).
if [ -z "${PARAPHE_SETUP_MINIMAL:-}" ] && ! command -v npm >/dev/null; then apt_pkgs+=(nodejs npm); fi
apt_ensure "${apt_pkgs[@]}"

[ -n "${PARAPHE_SETUP_MINIMAL:-}" ] && exit 0

# Rust target for the WASM core.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup: adding wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate version pinned in Cargo.lock.
wb_ver=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
if [ -n "$wb_ver" ]; then
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$wb_ver" ]; then
    log "cargo: installing wasm-bindgen-cli $wb_ver (a few minutes, once)"
    cargo install -q wasm-bindgen-cli --version "$wb_ver"
  fi
fi


# shellcheck source=scripts/npm.sh
. scripts/npm.sh
# Browser drivers that use Debian's browsers (no browser download), and the pages' libraries.
npm_ci tests/browser "the browser test drivers"
# The extension's type checker and linter, and binaryen's wasm-opt that scripts/build-extension.sh
# runs on the WASM modules (extension/package.json).
npm_ci extension "the extension's checks and wasm-opt (typescript, eslint, binaryen)"
# pyHanko (PyPI, pinned) in tests/.work/pyhanko-venv: the independent PAdES signer and
# validator of the tests (scripts/pyhanko.sh is its one entry point).
scripts/pyhanko.sh --ensure
# ETSI's XAdES 1.3.2 and W3C's XML-DSig XSDs (from the signxml wheel, PyPI, pinned) in
# tests/.work/xades-xsd: the schema check of the XAdES tests (scripts/xades-xsd.sh).
scripts/xades-xsd.sh --ensure
log "done"
